#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: plan_removal
short_description: Read the MFA devices and stored seeds of leavers, and plan their removal
version_added: 0.2.0
description:
  - Takes the account's lock (O(lock)), then reads the MFA devices of the users of O(users) and the account's virtual devices
    as M(mfa.aws.iam_mfa_info) with O(mfa.aws.iam_mfa_info#module:skip_unknown_users=true) and
    O(mfa.aws.iam_mfa_info#module:virtual_devices=true) does, and the seeds each store of O(delivery) holds as
    M(mfa.aws.seed_store) with O(mfa.aws.seed_store#module:check_writable=true) does, in this task.
  - Works out from them which devices are deactivated, which virtual devices are deleted (the users' own, and the unassigned
    ones made for them), and whose stored seeds are dropped, as the P(mfa.aws.removal_plan#filter) filter does; the plan is
    the task's result.
  - Fails before anything changes, with one line that names what to fix, when the run cannot go on. In this order, when the
    lock cannot be taken, O(users) or O(delivery) is empty, the account's state could not be read (the message of
    M(mfa.aws.iam_mfa_info)), the credentials reach another account than O(account_id), a store cannot be read or written
    (the message of its module), a user has no IAM user, stored seed or MFA device, or another run that may still be working
    created a device for a user and has not stored its seed yet.
  - Used by the C(remove) entry point of the M(mfa.aws.enroll) role. Changes nothing.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  delivery:
    description:
      - The seed stores (C(enroll_delivery) of M(mfa.aws.enroll)) whose seeds of O(users) are dropped, as
        O(mfa.aws.seed_store#module:stores) of M(mfa.aws.seed_store); empty stops the run.
  users:
    description:
      - The users whose MFA devices and stored seeds to remove; empty stops the run.
      - A user whose IAM user is deleted already still has their stored seeds and unassigned devices removed.
  name_format:
    description:
      - The name of each user's virtual device, with C({user_name}) standing for the user's name; the unassigned devices named
        C(<name>) and C(<name>-2) are the user's too.
  report_timeout:
    description:
      - How many seconds to wait for AWS to finish the credential report (O(mfa.aws.iam_mfa_info#module:report_timeout)).
    type: int
attributes:
  diff_mode:
    support: none
seealso:
  - plugin: mfa.aws.removal_plan
    plugin_type: filter
  - module: mfa.aws.plan_rotation
extends_documentation_fragment: [mfa.aws._plans, mfa.aws._seed_stores, mfa.aws._attributes.AWS_WRITES, mfa.aws._attributes.ACTION_GROUP,
                                 mfa.aws._attributes.CONTROLLER, amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Plan the removal of the MFA devices of alice and bob, and of their seeds in the vault file and Secrets Manager, or stop
  mfa.aws.plan_removal:
    lock:
      path: mfa-seeds/123456789012.yml.lock
      purpose: remove
    delivery: [vault_file, secretsmanager]
    account_id: "123456789012"
    users: [alice, bob]
    vault_file: mfa-seeds/123456789012.yml
    secret_prefix: security/mfa-seeds
  register: removal
"""

RETURN = r"""
lock:
  description: As RV(mfa.aws.plan_enrollment#module:lock).
  returned: when O(lock) is given
  type: dict
account_id:
  description: As RV(mfa.aws.plan_enrollment#module:account_id).
  returned: success
  type: str
stored:
  description: As RV(mfa.aws.plan_enrollment#module:stored).
  returned: success
  type: dict
entries:
  description: As RV(mfa.aws.plan_enrollment#module:entries).
  returned: success
  type: dict
stores:
  description: As RV(mfa.aws.plan_enrollment#module:stores).
  returned: when the stores were read
  type: dict
unknown:
  description: Users with no IAM user, stored seed or MFA device (the task then fails).
  returned: when the plan was made
  type: list
  elements: str
  sample: []
busy:
  description: Devices another run created for a user and has not stored the seed of yet (the task then fails).
  returned: when the plan was made
  type: list
  elements: dict
  sample: []
users:
  description: The users whose devices and stored seeds are removed.
  returned: success
  type: list
  elements: str
  sample: [alice, bob]
deactivate:
  description: The hardware tokens, passkeys and security keys to deactivate, as O(mfa.aws.iam_mfa_enable#module:devices).
  returned: success
  type: list
  elements: dict
  sample: [{user_name: bob, serial_number: GAHT00000001, state: absent}]
delete:
  description: The virtual devices to deactivate and delete, as O(mfa.aws.iam_virtual_mfa#module:devices).
  returned: success
  type: list
  elements: dict
  sample: [{name: alice, path: /, state: absent, force: true}]
drop:
  description: The users whose stored seeds are dropped once their devices are gone.
  returned: success
  type: list
  elements: str
  sample: [alice, bob]
report:
  description:
    - What the run has done once the steps of the plan are done, the C(enroll_removal_report) of the M(mfa.aws.enroll) role.
  returned: success
  type: dict
  contains:
    account_id:
      description: The account.
      type: str
    users:
      description: RV(users).
      type: list
      elements: str
    deactivated:
      description: The serial numbers of RV(deactivate).
      type: list
      elements: str
    deleted:
      description: The names of the devices of RV(delete).
      type: list
      elements: str
    seeds_dropped:
      description: RV(drop).
      type: list
      elements: str
    check_mode:
      description: Whether the task ran in check mode, where the report says what the run would do.
      type: bool
  sample:
    account_id: "123456789012"
    users: [alice, bob]
    deactivated: [GAHT00000001]
    deleted: [alice, bob]
    seeds_dropped: [alice, bob]
    check_mode: false
"""
