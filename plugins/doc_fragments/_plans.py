# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it may change in any release.

from __future__ import annotations


class ModuleDocFragment:

    # What every plan action of the enroll role has (mfa.aws.plan_enrollment, plan_rotation, plan_removal): where it runs,
    # the account it plans for, the account's lock, the run's claim on the devices it creates, and the options that go on
    # to mfa.aws.seed_store.
    DOCUMENTATION = r"""
attributes:
  action:
    description: Runs on the controller through an action plugin, which runs the actions of the modules it reads with.
notes:
  - The reads get the connection options of this task (C(group/mfa.aws.aws) in C(module_defaults)); C(module_defaults) set by
    name for the modules it reads with do not apply to them.
options:
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
  vault_file:
    description:
      - The encrypted file of the V(vault_file) store (O(mfa.aws.seed_store#module:vault_file)).
    type: path
  path:
    description:
      - The IAM path of the devices.
    type: str
    default: /
  vault_id:
    description:
      - The vault id whose secret encrypts the vault file and the QR codes (O(mfa.aws.seed_store#module:vault_id)).
    type: str
  qr_dir:
    description:
      - The directory of the V(qr_png) store (O(mfa.aws.seed_store#module:qr_dir)).
    type: path
  issuer:
    description:
      - The issuer that authenticator apps show for the QR codes (O(mfa.aws.seed_store#module:issuer)).
    type: str
  secret_prefix:
    description:
      - The name prefix of the secrets and parameters (O(mfa.aws.seed_store#module:secret_prefix)).
    type: str
  kms_key_id:
    description:
      - The KMS key of the secrets and parameters (O(mfa.aws.seed_store#module:kms_key_id)).
    type: str
  secret_tags:
    description:
      - Tags of the secrets and parameters (O(mfa.aws.seed_store#module:secret_tags)).
    type: dict
  store_credentials:
    description:
      - Credentials of a central account that holds the secrets and parameters (O(mfa.aws.seed_store#module:store_credentials)).
    type: dict
"""
