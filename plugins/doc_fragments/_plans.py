# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it may change in any release.

from __future__ import annotations


class ModuleDocFragment:

    # What every plan action of the enroll role has (mfa.aws.plan_enrollment, plan_rotation, plan_removal): where it runs,
    # the account it plans for, the account's lock and the run's claim on the devices it creates; the options that go on
    # to mfa.aws.seed_store are the fragment mfa.aws._seed_stores. Of delivery, users and name_format, each plan module
    # says what they mean for it.
    DOCUMENTATION = r"""
attributes:
  action:
    description: Runs on the controller through an action plugin, which runs the actions of the modules it reads with.
notes:
  - The reads get the connection options of this task (C(group/mfa.aws.aws) in C(module_defaults)); C(module_defaults) set by
    name for the modules it reads with do not apply to them.
  - Needs the IAM permissions of M(mfa.aws.iam_mfa_info) and of the stores of O(delivery).
seealso:
  - module: mfa.aws.iam_mfa_info
  - module: mfa.aws.seed_store
options:
  delivery:
    description:
      - The seed stores of the run (C(enroll_delivery) of M(mfa.aws.enroll)), as O(mfa.aws.seed_store#module:stores) of
        M(mfa.aws.seed_store).
    type: list
    elements: str
    default: []
  users:
    description:
      - The users of the plan.
    type: list
    elements: str
    default: []
  name_format:
    description:
      - The name of each user's virtual device, with C({user_name}) standing for the user's name.
    type: str
    default: '{user_name}'
  account_id:
    description:
      - The account the run is meant for; other credentials stop the run before any store is read.
    type: str
    required: true
  lock:
    description:
      - Take the account's lock first, as M(mfa.aws.account_lock) does with these options and O(account_id), so that no
        other run reads or writes the account's seeds from this read on. The lock is held when the task returns, also when
        it fails (RV(lock)); let go of it with M(mfa.aws.account_lock) and O(mfa.aws.account_lock#module:state=absent) when
        C(lock.held) is true.
      - A lock that cannot be taken stops the run before anything is read, with the message of M(mfa.aws.account_lock).
      - Without it, O(run_id) names the run.
    type: dict
    suboptions:
      path:
        description:
          - The lock file (O(mfa.aws.account_lock#module:path)).
        type: path
        required: true
      timeout:
        description:
          - How many seconds to wait for another run's lock (O(mfa.aws.account_lock#module:timeout)).
        type: int
        default: 300
      stale_after:
        description:
          - After how many seconds the lock of a run that stopped renewing it is taken over
            (O(mfa.aws.account_lock#module:stale_after)).
        type: int
        default: 3600
      purpose:
        description:
          - What the run does, for the message another run waits with (O(mfa.aws.account_lock#module:purpose)).
        type: str
        default: ''
  run_id:
    description:
      - The run that plans, as RV(mfa.aws.account_lock#module:run_id) names it. With O(lock), the lock's run.
    type: str
  claim_seconds:
    description:
      - How long the claim of a run on another host on a device it created is honoured.
    type: int
    default: 900
  path:
    description:
      - The IAM path of the devices.
    type: str
    default: /
"""

    # What the plans that create devices have (mfa.aws.plan_enrollment, plan_rotation): the devices' tags, and the
    # permission to read the tags of an enabled device whose seed no store holds.
    DEVICES = r"""
notes:
  - Also needs C(iam:ListMFADeviceTags) when a device of this plan has no stored seed.
options:
  tags:
    description:
      - Tags of the devices to create, beside the run's claim tags. A device that carries them counts as made by this plan,
        as one with the C(mfa.aws/run) tag does.
    type: dict
    default: {}
"""
