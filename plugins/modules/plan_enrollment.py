#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: plan_enrollment
short_description: Plan the MFA enrollment of an account's IAM users, or stop before any change
version_added: 0.1.0
description:
  - Works out, from an account's MFA state and the seeds already stored, which users get a new virtual MFA device, which
    reuse an unassigned device whose seed is stored, which need their device created again, and which already have MFA,
    as the P(mfa.aws.enrollment_plan#filter) filter does; the plan is the task's result.
  - Fails before anything changes, with one line that names what to fix, when the run cannot go on. In this order, when no
    delivery is chosen, the account's state could not be read (the message of M(mfa.aws.iam_mfa_info)), the credentials reach
    another account than O(account_id), a user is unknown, a device name is taken by a device enabled for another user, another
    run that may still be working created a device and has not stored its seed yet, or O(codes) cannot be used.
  - Used by the M(mfa.aws.enroll) role. Pure computation on the controller; no AWS call.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  info:
    description:
      - The registered result of M(mfa.aws.iam_mfa_info) run with O(mfa.aws.iam_mfa_info#module:virtual_devices=true), failed
        or skipped results included.
    type: dict
    required: true
  stored:
    description:
      - User name to the serial number of the device whose seed is stored (RV(mfa.aws.seed_store#module:stored)).
    type: dict
    default: {}
  delivery:
    description:
      - Where the seeds go (C(enroll_delivery) of M(mfa.aws.enroll)); empty stops the run.
    type: list
    elements: str
    default: []
  account_id:
    description:
      - The account the run is meant for; other credentials stop the run.
    type: str
    required: true
  users:
    description:
      - The users to enroll. Empty means every user of the account without MFA.
    type: list
    elements: str
    default: []
  name_format:
    description:
      - The name of each user's virtual device, with C({user_name}) standing for the user's name.
    type: str
    default: '{user_name}'
  path:
    description:
      - The IAM path of the devices.
    type: str
    default: /
  tags:
    description:
      - Tags of the devices to create, beside the run's claim tags.
    type: dict
    default: {}
  codes:
    description:
      - The two consecutive codes each person typed, by user name, for a delivery without a seed store (V(qr_png) alone).
    type: dict
    default: {}
  run_id:
    description:
      - The run that plans, as RV(mfa.aws.account_lock#module:run_id) names it.
    type: str
  claim_seconds:
    description:
      - How long the claim of a run on another host on a device it created is honoured.
    type: int
    default: 900
extends_documentation_fragment:
  - mfa.aws._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
  action:
    support: full
    description: Runs on the controller through an action plugin.
  async:
    support: none
    description: Does not support C(async).
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the target host.
seealso:
  - plugin: mfa.aws.enrollment_plan
    plugin_type: filter
  - module: mfa.aws.iam_mfa_info
  - module: mfa.aws.seed_store
"""

EXAMPLES = r"""
- name: Read the MFA state of the account
  mfa.aws.iam_mfa_info:
    user_names: [alice, bob]
    virtual_devices: true
  register: state
  ignore_errors: true

- name: Plan the enrollment of alice and bob, or stop
  mfa.aws.plan_enrollment:
    info: "{{ state }}"
    delivery: [vault_file]
    account_id: "123456789012"
    users: [alice, bob]
  register: plan
"""

RETURN = r"""
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
