#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_virtual_mfa
version_added: 0.1.0
short_description: Create, tag and delete AWS IAM virtual MFA devices
description:
  - Creates, tags and deletes a virtual MFA device (an authenticator app's TOTP seed) in AWS IAM.
  - B(AWS returns the seed of a virtual MFA device only once, ever), in the answer to the call that creates
    it. This module returns it, as RV(base32_seed) and RV(qr_code_png), only on the run that creates the device.
    The task that creates a device must therefore set C(no_log=true) and the play must deliver the seed (to the
    user, to a vault, or to M(mfa.aws.iam_mfa_enable) through the P(mfa.aws.totp#lookup) lookup) right away. A
    seed that is lost cannot be read again, the device can only be deleted and created anew.
  - Creating a device does not enable it for anyone, use M(mfa.aws.iam_mfa_enable) for that.
  - With O(devices), one task handles the devices of many users, with one C(ListVirtualMFADevices) call for all of them
    and then only the calls that each device needs (one C(CreateVirtualMFADevice) for a device to create). With
    O(list_first=false), a batch that only creates devices makes no C(ListVirtualMFADevices) call at all unless AWS
    answers that a device exists already (C(EntityAlreadyExists)).
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  name:
    description:
      - The name of the virtual MFA device, unique in the account together with O(path).
      - 1 to 226 letters, digits and C(+=,.@_-), as IAM requires. Checked before any call to AWS.
      - One of O(name) and O(devices) is required.
    type: str
  path:
    description:
      - The IAM path of the device, part of its serial number (its ARN).
      - It must begin and end with C(/). Checked before any call to AWS.
    type: str
    default: /
  state:
    description:
      - V(present) creates the device when it does not exist and updates its tags when it does.
      - V(absent) deletes the device. A device that is enabled for a user is deleted only with O(force=true).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), deactivate the device from the user it is enabled for before deleting it.
      - Without it, deleting a device that is enabled for a user fails, naming the user, and changes nothing.
      - Deactivating a device lets the user sign in without MFA until another device is enabled.
    type: bool
    default: false
  devices:
    description:
      - Several devices, handled in one task, in the order of the list. What an item does is seen by the items
        after it, so an item with O(devices[].state=absent) followed by one with the same path and name deletes
        the device and creates it anew.
      - Every item is checked (name and path) before any call to AWS.
      - The first item that fails stops the task. Its message names the item first, by its index in the list
        (from 0) and its path and name. The failed result still holds RV(devices) for the items done before it,
        B(with the seeds of the devices they created). Set C(no_log=true) on the task and deliver the seeds
        even when it fails (for example with C(failed_when=false) and a later task that fails).
      - Mutually exclusive with O(name), O(path), O(state), O(tags), O(purge_tags) and O(force), which
        each item has instead.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The name of the device, as O(name).
        required: true
        type: str
      path:
        description:
          - The IAM path of the device, as O(path).
        type: str
        default: /
      state:
        description:
          - V(present) creates the device when it does not exist and updates its tags when it does.
          - V(absent) deletes the device, as O(state=absent).
        type: str
        choices: [present, absent]
        default: present
      tags:
        description:
          - The tags of the device, as O(tags).
          - The tags of an existing device are read (C(ListMFADeviceTags)) only for an item with O(devices[].tags).
          - If not set, the tags of the device are not changed.
        type: dict
      purge_tags:
        description:
          - Remove the tags of the device that are not in O(devices[].tags), as O(purge_tags).
        type: bool
        default: true
      force:
        description:
          - With O(devices[].state=absent), deactivate the device from the user it is enabled for before deleting it,
            as O(force).
        type: bool
        default: false
      exclusive:
        description:
          - With O(devices[].state=present), only create the device. When a device of that path and name exists already (another run
            created it after this one listed the account, or IAM's listing did not show a device an earlier run created moments ago),
            the item changes nothing of it, not even its tags, and reports it unchanged, without a seed. Whose seed it is, the caller
            tells from its seed stores, as the P(mfa.aws.enroll#role) role does.
        type: bool
        default: false
        version_added: 0.2.0
  list_first:
    description:
      - With O(devices), whether to list the account's virtual MFA devices (C(ListVirtualMFADevices)) before acting on any.
      - With V(false), a device to create is created straight away, and the devices are listed only if AWS answers that one
        exists already (C(EntityAlreadyExists)) or for an item that deletes one. That saves one call for a caller that knows the
        devices are new, as the mfa.aws.enroll role does from the listing it planned with. A device that exists already then
        costs one refused C(CreateVirtualMFADevice) call before the listing, and is handled as with V(true).
      - Check mode always lists first.
    type: bool
    default: true
    version_added: 0.1.0
  concurrency:
    description:
      - With O(devices) and O(list_first=false), how many devices are created at once when every item creates a device of its own
        (a batch that also deletes is done one item at a time). A device that exists already is looked up in one listing of the
        account's devices, shared by the creations. Throttling is retried with back-off by each call.
      - With more than one at a time, every creation is tried even when one fails, and RV(devices) holds the items done, with the seeds
        of the devices created.
    type: int
    default: 4
    version_added: 0.2.0
notes:
  - The tags of a new device are set by the call that creates it.
  - The seed (RV(base32_seed)) and the QR code (RV(qr_code_png), which holds the seed in its C(otpauth://) URI)
    are returned only by a run that creates the device, never in check mode, never in the diff, and never in
    an error message.
  - With C(--diff), the diff shows the serial number, path, name, user and tags of the device.
  - A run that creates a device in a task without C(no_log=true) warns that its result holds the seed.
  - With O(devices) and C(--diff), the diff shows each device of the items, keyed by its path and name,
    before the run and after it. The tags shown for an item without O(devices[].tags) are those that
    C(ListVirtualMFADevices) returns.
attributes:
  check_mode:
    details:
      - In check mode, a device that would be created has no serial number and no seed yet.
seealso:
  - module: mfa.aws.iam_mfa_enable
  - module: mfa.aws.iam_mfa_info
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - name: CreateVirtualMFADevice in the IAM API reference
    description: The call that creates a device and returns its seed, once.
    link: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateVirtualMFADevice.html
  - name: Assigning a virtual MFA device
    description: How virtual MFA devices work for IAM users.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html
extends_documentation_fragment: [mfa.aws._attributes.AWS_WRITES, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules,
                                 amazon.aws.region.modules, amazon.aws.tags, amazon.aws.boto3]
"""

EXAMPLES = r"""
# The seed comes back only from the run that creates the device, so the same play must use it:
# here it keeps the seed in an ansible-vault encrypted file first, then enables the device.
- name: Give alice a virtual MFA device
  module_defaults:
    group/mfa.aws.aws:
      region: us-east-1
  block:
    - name: Create the virtual MFA device (the seed is returned by this run only)
      mfa.aws.iam_virtual_mfa:
        name: alice
        tags:
          owner: alice
      register: device
      no_log: true

    - name: Keep the seed, ansible-vault encrypted with the run's vault secret
      mfa.aws.seed_vault_file:
        path: mfa-seeds/alice.yml
        seeds:
          alice:
            serial_number: "{{ device.serial_number }}"
            base32_seed: "{{ device.base32_seed }}"
      when: device.base32_seed is defined
      no_log: true

    - name: Enable it for alice with two consecutive codes computed from the seed
      mfa.aws.iam_mfa_enable:
        user_name: alice
        serial_number: "{{ device.serial_number }}"
        authentication_code_1: "{{ codes[0] }}"
        authentication_code_2: "{{ codes[1] }}"
      vars:
        codes: "{{ lookup('mfa.aws.totp', device.base32_seed, pair=true) }}"
      when: device.base32_seed is defined
      no_log: true

- name: Create a device under a path, without tags
  mfa.aws.iam_virtual_mfa:
    name: build-robot
    path: /automation/
  register: robot_device
  no_log: true

- name: Replace the tags of an existing device (adds, changes and removes tags)
  mfa.aws.iam_virtual_mfa:
    name: alice
    tags:
      owner: alice
      team: platform

- name: Add a tag and keep the others
  mfa.aws.iam_virtual_mfa:
    name: alice
    tags:
      reviewed: "2024-06"
    purge_tags: false

- name: Delete a device that nobody uses
  mfa.aws.iam_virtual_mfa:
    name: old-laptop
    state: absent

- name: Delete a device even though it is enabled for a user (deactivates it first)
  mfa.aws.iam_virtual_mfa:
    name: alice
    state: absent
    force: true

# One task for the devices of several users. The result of a task that fails part way still
# holds the seeds of the devices it created: store them before the play stops.
- name: Give alice, bob and carol a virtual MFA device each
  block:
    - name: Create the virtual MFA devices (the seeds are returned by this run only)
      mfa.aws.iam_virtual_mfa:
        devices:
          - name: alice
            tags:
              owner: alice
          - name: bob
            tags:
              owner: bob
          - name: carol
            path: /contractors/
      register: created
      failed_when: false
      no_log: true

    - name: Keep the new seeds by user, ansible-vault encrypted with the run's vault secret
      mfa.aws.seed_vault_file:
        path: mfa-seeds/team.yml
        seeds: "{{ dict(new_devices | map(attribute='name') | zip(new_devices)) }}"
      vars:
        new_devices: "{{ created.devices | default([]) | selectattr('base32_seed', 'defined') | list }}"
      no_log: true

    - name: Stop when a device could not be created
      ansible.builtin.fail:
        msg: "{{ created.msg }}"
      when: created.failed | default(false)

- name: Delete an unused device, and replace dave's unassigned device whose seed was lost, in one task
  mfa.aws.iam_virtual_mfa:
    devices:
      - name: old-laptop
        state: absent
      - name: dave
        state: absent
      - name: dave
  register: recreated
  no_log: true
"""

RETURN = r"""
serial_number:
  description: The serial number (ARN) of the device.
  returned: >-
    with O(name), when the device exists, or was or would be deleted; not in check mode when the device would be created
  type: str
  sample: arn:aws:iam::123456789012:mfa/alice
base32_seed:
  description:
    - The base32 TOTP seed of the device, what an authenticator app needs to compute its codes.
    - B(Secret). AWS returns it only once, ever, so it is returned only by the run that created the device.
      Set C(no_log=true) on the task and deliver it in the same play.
  returned: with O(name), when the device was created by this run (not in check mode)
  type: str
  sample: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
qr_code_png:
  description:
    - The base64-encoded PNG image of the QR code that authenticator apps scan, made of an
      C(otpauth://totp/) URI that holds the seed.
    - B(Secret), like RV(base32_seed), and returned only with it.
  returned: with O(name), when the device was created by this run (not in check mode)
  type: str
  sample: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
virtual_mfa_device:
  description: The device, without its seed.
  returned: with O(name) and O(state=present), except in check mode when the device would be created
  type: dict
  contains:
    serial_number:
      description: The serial number (ARN) of the device.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    path:
      description: The IAM path of the device.
      returned: always
      type: str
      sample: /
    name:
      description: The name of the device.
      returned: always
      type: str
      sample: alice
    user_name:
      description: The user the device is enabled for, V(null) when it is not enabled.
      returned: always
      type: str
      sample: alice
    enable_date:
      description: When the device was enabled, V(null) when it is not enabled.
      returned: always
      type: str
      sample: "2024-06-01T09:30:00+00:00"
    tags:
      description: The tags of the device.
      returned: always
      type: dict
      sample: {"owner": "alice"}
devices:
  description:
    - What each item of O(devices) did, in the order of the items.
    - When the task fails, the entries of the items done before the one that failed, B(with the seeds of the
      devices they created).
  returned: with O(devices)
  type: list
  elements: dict
  contains:
    name:
      description: The name of the device.
      returned: always
      type: str
      sample: alice
    path:
      description: The IAM path of the device.
      returned: always
      type: str
      sample: /
    state:
      description: The state of the item, V(present) or V(absent).
      returned: always
      type: str
      sample: present
    changed:
      description: Whether the item changed the device (or would, in check mode).
      returned: always
      type: bool
      sample: true
    serial_number:
      description:
        - The serial number (ARN) of the device.
        - V(null) for a device that does not exist and is not created, and in check mode for a device to create.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    user_name:
      description: The user the device is enabled for after the item, V(null) when none (always for O(devices[].state=absent)).
      returned: always
      type: str
      sample: alice
    base32_seed:
      description:
        - The base32 TOTP seed of the device, as RV(base32_seed). B(Secret), returned once.
      returned: when this run created the device (not in check mode)
      type: str
      sample: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
    qr_code_png:
      description:
        - The base64-encoded PNG image of the QR code of the device, as RV(qr_code_png). B(Secret), returned once.
      returned: when this run created the device (not in check mode)
      type: str
      sample: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import fail_with_result
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import BATCH_NO_LOG_WARNING
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import ITEM_OPTIONS
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import NO_LOG_WARNING
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import argument_spec
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import batch_outcome
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import ensure_all
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import ensure_one
from ansible_collections.mfa.aws.plugins.module_utils._virtual_devices import items_problem


def main():
    module = AnsibleAWSModule(
        argument_spec=with_connection_secrets_hidden(argument_spec()),
        supports_check_mode=True,
        # The options of the single form, when set, would be ignored with devices.
        mutually_exclusive=[("devices", option) for option in ITEM_OPTIONS],
        required_one_of=[("name", "devices")],
    )
    params = module.params
    if not 1 <= params["concurrency"] <= 16:
        module.fail_json(msg="concurrency must be 1 to 16")
    # The single form is a batch of one item, whose messages and result are not those of an item.
    single = params["devices"] is None
    items = [{option: params[option] for option in ITEM_OPTIONS}] if single else params["devices"]
    problem = items_problem(items, labelled=not single)
    if problem:
        module.fail_json(msg=problem)
    client = iam_client(module)

    if single:
        try:
            result = ensure_one(client, module.check_mode, items[0])
        except AnsibleIAMError as e:
            module.fail_json_aws_error(e)
        if "base32_seed" in result and not module.no_log:
            module.warn(NO_LOG_WARNING)
        if not module._diff:
            del result["diff"]
        module.exit_json(**result)

    results, error = ensure_all(client, module.check_mode, items, params["list_first"], params["concurrency"])
    outcome = batch_outcome(items, results, module._diff and error is None)
    if any("base32_seed" in entry for entry in outcome["devices"]) and not module.no_log:
        module.warn(BATCH_NO_LOG_WARNING)
    if error is not None:
        fail_with_result(module, error, **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
