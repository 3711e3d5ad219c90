#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: plan_rotation
short_description: Read an account's virtual MFA devices and stored seeds, and plan the rotation of its managed devices
version_added: 0.2.0
description:
  - Takes the account's lock (O(lock)), then reads the account's MFA state as M(mfa.aws.iam_mfa_info) with
    O(mfa.aws.iam_mfa_info#module:virtual_devices=true) does, the seeds each store of O(delivery) holds as M(mfa.aws.seed_store)
    with O(mfa.aws.seed_store#module:check_writable=true) does, and the tags of the enabled devices named as this plan names
    them whose seed no store holds (normally none, then not read), in this task.
  - Works out from them which rotations start, which rotations under way an earlier run left to finish or to revert, and
    which old devices are retired, as the P(mfa.aws.rotation_plan#filter) filter does; the plan is the task's result.
  - Fails before anything changes, with one line that names what to fix, when the run cannot go on. In this order, when the
    lock cannot be taken, no store of O(delivery) keeps seeds the run can read back (V(vault_file), V(secretsmanager) or
    V(ssm)), the account's state could not be read (the message of M(mfa.aws.iam_mfa_info)), the credentials reach another
    account than O(account_id), a store cannot be read or written (the message of its module), a user is unknown, a user
    named in O(users) has no stored seed of an enabled device, a device name is taken by a device enabled for another user,
    or another run that may still be working created a device and has not stored its seed yet.
  - Used by the C(rotate) entry point of the M(mfa.aws.enroll) role. Changes nothing.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  delivery:
    description:
      - The seed stores (C(enroll_delivery) of M(mfa.aws.enroll)), as O(mfa.aws.seed_store#module:stores) of M(mfa.aws.seed_store).
      - At least one of them must keep seeds the run can read back; a rotation stores each new seed beside the old one there.
  users:
    description:
      - The users whose managed device to rotate. Empty means every user whose seed is stored.
      - A user named here whose enabled device of this plan has no stored seed gets a new device in its place.
  max_age_days:
    description:
      - Rotate a device whose stored seed is at least this many days old; V(0) rotates every chosen device.
    type: float
    default: 90
  name_format:
    description:
      - The name of each user's virtual device, with C({user_name}) standing for the user's name; a new device takes the one of
        the names C(<name>) and C(<name>-2) that the old one does not have.
  report_timeout:
    description:
      - How many seconds to wait for AWS to finish the credential report (O(mfa.aws.iam_mfa_info#module:report_timeout)).
    type: int
attributes:
  diff_mode:
    support: none
seealso:
  - plugin: mfa.aws.rotation_plan
    plugin_type: filter
  - module: mfa.aws.plan_enrollment
extends_documentation_fragment: [mfa.aws._plans, mfa.aws._seed_stores, mfa.aws._plans.DEVICES, mfa.aws._attributes.AWS_WRITES,
                                 mfa.aws._attributes.ACTION_GROUP, mfa.aws._attributes.CONTROLLER, amazon.aws.common.modules,
                                 amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Plan the rotation of the devices older than 90 days, their seeds in the vault file, or stop
  mfa.aws.plan_rotation:
    lock:
      path: mfa-seeds/123456789012.yml.lock
      purpose: rotate
    delivery: [vault_file]
    account_id: "123456789012"
    max_age_days: 90
    vault_file: mfa-seeds/123456789012.yml
  register: rotation
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
seedless:
  description:
    - The enabled devices made by this plan's naming and tags whose seed no store holds. AWS never returns a seed again; only
      a new device replaces them, for the users named in O(users).
  returned: success
  type: list
  elements: dict
  sample: [{user_name: carol, serial_number: "arn:aws:iam::123456789012:mfa/carol", name: carol, path: /}]
unknown:
  description: Users named that the account does not have and no store holds a seed for (the task then fails).
  returned: when the plan was made
  type: list
  elements: str
  sample: []
unmanaged:
  description: Users without a stored seed of an enabled device; not rotated (the task fails when they are named in O(users)).
  returned: when the plan was made
  type: list
  elements: str
  sample: []
conflicts:
  description: New device names taken by a device enabled for another user (the task then fails).
  returned: when the plan was made
  type: list
  elements: dict
  sample: []
busy:
  description: As RV(mfa.aws.plan_enrollment#module:busy).
  returned: when the plan was made
  type: list
  elements: dict
current:
  description: Users whose stored seed is younger than O(max_age_days).
  returned: success
  type: list
  elements: str
  sample: [bob]
lost:
  description: Rotations under way whose new and previous devices both no longer exist; enroll these users again.
  returned: success
  type: list
  elements: str
  sample: []
start:
  description: The rotations that start with a new device (C(user_name), C(name), C(path), C(old_serial_number)).
  returned: success
  type: list
  elements: dict
  sample: [{user_name: alice, name: alice-2, path: /, old_serial_number: "arn:aws:iam::123456789012:mfa/alice"}]
recreate:
  description: As RV(start), where an unassigned device with the new name and no stored seed is deleted first (C(serial_number)).
  returned: success
  type: list
  elements: dict
  sample: []
enable:
  description: Rotations under way whose new device is stored but not enabled yet (C(user_name), C(serial_number)).
  returned: success
  type: list
  elements: dict
  sample: []
retire:
  description: The old devices to deactivate and delete (C(user_name), C(serial_number), C(name), C(path)).
  returned: success
  type: list
  elements: dict
  sample: [{user_name: alice, serial_number: "arn:aws:iam::123456789012:mfa/alice", name: alice, path: /}]
finish:
  description: Users whose rotation is closed once the old device is retired.
  returned: success
  type: list
  elements: str
  sample: [alice]
revert:
  description: Rotations under way whose new device no longer exists; the stored entry goes back to the previous device.
  returned: success
  type: list
  elements: str
  sample: []
replacing:
  description: Users whose enabled device, whose seed is lost, a new device replaces.
  returned: success
  type: list
  elements: str
  sample: []
starting:
  description: The users of RV(start) and RV(recreate), whose current seeds are kept as the previous ones.
  returned: success
  type: list
  elements: str
  sample: [alice]
rotating:
  description: The users of RV(starting), RV(finish) and RV(revert), whose seeds the run reads back once the new ones are stored.
  returned: success
  type: list
  elements: str
  sample: [alice]
enable_users:
  description: The users of RV(starting) and RV(enable), whose new device is enabled from its stored seed.
  returned: success
  type: list
  elements: str
  sample: [alice]
iam_virtual_mfa_devices:
  description: As RV(mfa.aws.plan_enrollment#module:iam_virtual_mfa_devices).
  returned: success
  type: list
  elements: dict
retire_devices:
  description: The O(mfa.aws.iam_virtual_mfa#module:devices) that deactivate and delete the old devices.
  returned: success
  type: list
  elements: dict
  sample: [{name: alice, path: /, state: absent, force: true}]
settle_stores:
  description:
    - The stores of O(delivery) whose entries are closed once the old devices are gone. A V(qr_png) code holds only the current
      seed, already written, so it is left out unless a rotation goes back to the previous device.
  returned: success
  type: list
  elements: str
  sample: [vault_file]
report:
  description:
    - What the run has done for each user once the steps of the plan are done, the C(enroll_rotation_report) of the
      M(mfa.aws.enroll) role. Lists are sorted.
  returned: success
  type: dict
  contains:
    account_id:
      description: The account.
      type: str
    rotated:
      description: The users of RV(enable_users) and RV(finish).
      type: list
      elements: str
    reverted:
      description: RV(revert).
      type: list
      elements: str
    current:
      description: RV(current).
      type: list
      elements: str
    unmanaged:
      description: RV(unmanaged).
      type: list
      elements: str
    lost:
      description: RV(lost).
      type: list
      elements: str
    replaced_lost_seeds:
      description: RV(replacing).
      type: list
      elements: str
    seed_not_stored:
      description: The users of RV(seedless) whose device this run does not replace (not named in O(users)).
      type: list
      elements: str
    check_mode:
      description: Whether the task ran in check mode, where the report says what the run would do.
      type: bool
  sample:
    account_id: "123456789012"
    rotated: [alice]
    reverted: []
    current: [bob]
    unmanaged: []
    lost: []
    replaced_lost_seeds: []
    seed_not_stored: []
    check_mode: false
"""
