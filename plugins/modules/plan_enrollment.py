#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: plan_enrollment
short_description: Read an account's MFA state and stored seeds, and plan the MFA enrollment of its IAM users
version_added: 0.1.0
description:
  - Reads the account's MFA state as M(mfa.aws.iam_mfa_info) with O(mfa.aws.iam_mfa_info#module:virtual_devices=true) and
    O(mfa.aws.iam_mfa_info#module:credential_report=false) does (current listings, no credential report to wait for),
    the seeds each store of O(delivery) holds as M(mfa.aws.seed_store) with O(mfa.aws.seed_store#module:check_writable=true)
    does, and the tags of the enabled devices named as this plan names them whose seed no store holds (normally none, then
    not read), in this task.
  - Works out from them which users get a new virtual MFA device, which reuse an unassigned device whose seed is stored,
    which need their device created again, and which already have MFA, as the P(mfa.aws.enrollment_plan#filter) filter
    does; the plan is the task's result.
  - Fails before anything changes, with one line that names what to fix, when the run cannot go on. In this order, when no
    delivery is chosen, the account's state could not be read (the message of M(mfa.aws.iam_mfa_info)), the credentials reach
    another account than O(account_id), a store cannot be read or written (the message of its module), a user is unknown, a
    device name is taken by a device enabled for another user, another run that may still be working created a device and has
    not stored its seed yet, or O(codes) cannot be used.
  - Used by the M(mfa.aws.enroll) role. Changes nothing.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  delivery:
    description:
      - Where the seeds go (C(enroll_delivery) of M(mfa.aws.enroll)), as O(mfa.aws.seed_store#module:stores) of
        M(mfa.aws.seed_store); empty stops the run.
  users:
    description:
      - The users to enroll. Empty means every user of the account without MFA.
  codes:
    description:
      - The two consecutive codes each person typed, by user name, for a delivery without a seed store (V(qr_png) alone).
    type: dict
    default: {}
attributes:
  diff_mode:
    details:
      - Shows each user's MFA before the run, and after it the device each user gets (its serial number) and where its
        seed goes, store by store; never a seed or a code. In diff mode the task reports changed when the plan changes
        something, so that Ansible shows the diff.
seealso:
  - plugin: mfa.aws.enrollment_plan
    plugin_type: filter
extends_documentation_fragment: [mfa.aws._plans, mfa.aws._seed_stores, mfa.aws._plans.DEVICES, mfa.aws._attributes.AWS_WRITES,
                                 mfa.aws._attributes.ACTION_GROUP, mfa.aws._attributes.CONTROLLER, amazon.aws.common.modules,
                                 amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Plan the enrollment of alice and bob in the account, their seeds going to the vault file, or stop
  mfa.aws.plan_enrollment:
    delivery: [vault_file]
    account_id: "123456789012"
    users: [alice, bob]
    vault_file: mfa-seeds/123456789012.yml
  register: plan
"""

RETURN = r"""
lock:
  description:
    - The result of taking the account's lock (M(mfa.aws.account_lock)), with O(lock); also when the task fails once it is taken.
  returned: when O(lock) is given
  type: dict
  contains:
    held:
      description: Whether this task took the lock (false in check mode, which takes none).
      type: bool
    run_id:
      description: The run that holds it (RV(mfa.aws.account_lock#module:run_id)).
      type: str
    path:
      description: The lock file.
      type: str
account_id:
  description: The account whose state was read.
  returned: success
  type: str
  sample: "123456789012"
stored:
  description: The serial number of the device of each user whose seed the primary store holds (RV(mfa.aws.seed_store#module:stored)).
  returned: success
  type: dict
  sample:
    bob: arn:aws:iam::123456789012:mfa/bob
entries:
  description: What the primary store holds for each user, without the seeds (RV(mfa.aws.seed_store#module:entries)).
  returned: success
  type: dict
  sample:
    bob:
      serial_number: arn:aws:iam::123456789012:mfa/bob
      created: "2026-11-25T10:00:00+00:00"
      previous_serial_number: null
stores:
  description: What each store read holds (RV(mfa.aws.seed_store#module:stores)), never a seed.
  returned: when the stores were read
  type: dict
  sample:
    vault_file:
      changed: false
      failed: false
      stored: [bob]
seedless:
  description:
    - The enabled devices made by this plan's naming and tags whose seed no store holds. AWS never returns a seed again;
      only a new device replaces them.
  returned: success
  type: list
  elements: dict
  sample: [{user_name: carol, serial_number: "arn:aws:iam::123456789012:mfa/carol", name: carol, path: /}]
report:
  description:
    - What the run has done for each user once the devices of the plan are enabled, the C(enroll_report) of the
      M(mfa.aws.enroll) role (read by the P(mfa.aws.enrollment_summary#filter) filter). Lists are sorted.
  returned: success
  type: dict
  contains:
    account_id:
      description: The account.
      type: str
    delivery:
      description: Where the seeds go (O(delivery)).
      type: list
      elements: str
    vault_file:
      description: The vault file of the seeds (O(vault_file)), when O(delivery) has V(vault_file); else V(null).
      type: str
    enrolled:
      description: The users whose device is enabled (RV(ready_users)).
      type: list
      elements: str
    awaiting_codes:
      description: RV(awaiting_codes).
      type: list
      elements: str
    created:
      description: RV(new_users).
      type: list
      elements: str
    recreated:
      description: The users of RV(recreate).
      type: list
      elements: str
    reused:
      description: The users of RV(reuse).
      type: list
      elements: str
    compliant:
      description: RV(compliant).
      type: list
      elements: str
    seed_not_stored:
      description: The users of RV(seedless).
      type: list
      elements: str
    check_mode:
      description: Whether the task ran in check mode, where the report says what the run would do.
      type: bool
  sample:
    account_id: "123456789012"
    delivery: [vault_file]
    vault_file: mfa-seeds/123456789012.yml
    enrolled: [alice]
    awaiting_codes: []
    created: [alice]
    recreated: []
    reused: []
    compliant: [carol]
    seed_not_stored: []
    check_mode: false
new_users:
  description: The users who get a new virtual MFA device.
  returned: success
  type: list
  elements: str
  sample: [alice]
enable_users:
  description: The users whose device is enabled by the run (new or reused devices).
  returned: success
  type: list
  elements: str
  sample: [alice, bob]
ready_users:
  description: Of RV(enable_users), those the run can enable now (all of them with a seed store; those who typed codes otherwise).
  returned: success
  type: list
  elements: str
  sample: [alice, bob]
awaiting_codes:
  description: Users whose device waits for the codes its person types.
  returned: success
  type: list
  elements: str
  sample: []
compliant:
  description: Users who already have MFA.
  returned: success
  type: list
  elements: str
  sample: [carol]
reuse:
  description: Unassigned devices whose seed is stored, reused.
  returned: success
  type: list
  elements: dict
  sample: [{user_name: bob, serial_number: "arn:aws:iam::123456789012:mfa/bob"}]
recreate:
  description: Unassigned devices whose seed was never stored, deleted and created again.
  returned: success
  type: list
  elements: dict
  sample: []
iam_virtual_mfa_devices:
  description: The devices to give O(mfa.aws.iam_virtual_mfa#module:devices) (deletions first, then creations with their tags).
  returned: success
  type: list
  elements: dict
  sample: [{name: alice, path: /, state: present}]
unknown:
  description: Users named that the account does not have (the task then fails).
  returned: when the plan was made
  type: list
  elements: str
  sample: []
conflicts:
  description: Device names taken by a device enabled for another user (the task then fails).
  returned: when the plan was made
  type: list
  elements: dict
  sample: []
busy:
  description: Devices another run created and has not stored the seed of yet (the task then fails).
  returned: when the plan was made
  type: list
  elements: dict
  sample: []
create:
  description: The devices to create, by user.
  returned: success
  type: list
  elements: dict
  sample: [{user_name: alice, name: alice, path: /}]
"""
