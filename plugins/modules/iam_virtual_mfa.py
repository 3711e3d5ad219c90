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
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  name:
    description:
      - The name of the virtual MFA device, unique in the account together with O(path).
      - 1 to 226 letters, digits and C(+=,.@_-), as IAM requires. Checked before any call to AWS.
    required: true
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
notes:
  - The tags of a new device are set by the call that creates it.
  - The seed (RV(base32_seed)) and the QR code (RV(qr_code_png), which holds the seed in its C(otpauth://) URI)
    are returned only by a run that creates the device, never in check mode, never in the diff, and never in
    an error message.
  - With C(--diff), the diff shows the serial number, path, name, user and tags of the device.
  - A run that creates a device in a task without C(no_log=true) warns that its result holds the seed.
attributes:
  check_mode:
    support: full
    details:
      - In check mode, a device that would be created has no serial number and no seed yet.
  diff_mode:
    support: full
  idempotent:
    support: full
extends_documentation_fragment:
  - mfa.aws._attributes
  - mfa.aws._attributes.ACTION_GROUP
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
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
"""

RETURN = r"""
serial_number:
  description: The serial number (ARN) of the device.
  returned: when the device exists, or was or would be deleted; not in check mode when the device would be created
  type: str
  sample: arn:aws:iam::123456789012:mfa/alice
base32_seed:
  description:
    - The base32 TOTP seed of the device, what an authenticator app needs to compute its codes.
    - B(Secret). AWS returns it only once, ever, so it is returned only by the run that created the device.
      Set C(no_log=true) on the task and deliver it in the same play.
  returned: when the device was created by this run (not in check mode)
  type: str
  sample: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
qr_code_png:
  description:
    - The base64-encoded PNG image of the QR code that authenticator apps scan, made of an
      C(otpauth://totp/) URI that holds the seed.
    - B(Secret), like RV(base32_seed), and returned only with it.
  returned: when the device was created by this run (not in check mode)
  type: str
  sample: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
virtual_mfa_device:
  description: The device, without its seed.
  returned: when O(state=present), except in check mode when the device would be created
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
"""

import base64

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import create_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import deactivate_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import delete_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import find_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_device_tags
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import tag_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import untag_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import validate_device_name
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import validate_path

DIFF_KEYS = ("serial_number", "path", "name", "user_name", "tags")
NO_LOG_WARNING = (
    "The result holds the seed of the new device, which AWS never returns again: "
    "set no_log: true on this task, and deliver the seed in this play"
)


def diff_view(device: dict | None) -> dict:
    """What --diff shows of a normalised device: never its seed; {} for no device."""
    if not device:
        return {}
    return {key: device.get(key) for key in DIFF_KEYS}


def stored_tags(tags: dict) -> dict:
    """The tags as AWS stores them: every value as text."""
    return {key: to_text(value) for key, value in tags.items()}


def plan_tags(current: dict, tags: dict | None, purge_tags: bool) -> tuple[dict, list, dict]:
    """(tags to set, tag keys to remove, tags after) to go from current to tags; no change when tags is None."""
    if tags is None:
        return {}, [], current
    to_set, to_remove = compare_aws_tags(current, tags, purge_tags=purge_tags)
    after = {key: value for key, value in current.items() if key not in to_remove}
    after.update(stored_tags(to_set))
    return to_set, to_remove, after


def ensure_tags(client, check_mode, serial_number, current, tags, purge_tags):
    """Set the device's tags; returns (changed, the tags after)."""
    to_set, to_remove, after = plan_tags(current, tags, purge_tags)
    if not to_set and not to_remove:
        return False, current
    if check_mode:
        return True, after
    if to_remove:
        untag_device(client, serial_number=serial_number, tag_keys=to_remove)
    if to_set:
        tag_device(client, serial_number=serial_number, tags=to_set)
    return True, after


def create(client, check_mode, path, name, tags):
    """Create the device; only this result carries its seed and QR code."""
    planned = dict(serial_number=None, path=path, name=name, user_name=None, tags=stored_tags(tags or {}))
    if check_mode:
        return dict(changed=True, diff=dict(before={}, after=diff_view(planned)))
    created = create_virtual_device(client, path=path, name=name, tags=tags)
    device = normalize_virtual_device(created, planned["tags"])
    return dict(
        changed=True,
        serial_number=device["serial_number"],
        virtual_mfa_device=device,
        base32_seed=to_text(created["Base32StringSeed"]),
        qr_code_png=to_text(base64.b64encode(created["QRCodePNG"])),
        diff=dict(before={}, after=diff_view(device)),
    )


def ensure_present(client, check_mode, path, name, tags, purge_tags):
    found = find_virtual_device(client, path, name)
    if found is None:
        return create(client, check_mode, path, name, tags)
    before = normalize_virtual_device(found, list_device_tags(client, serial_number=found["SerialNumber"]))
    changed, after_tags = ensure_tags(client, check_mode, before["serial_number"], before["tags"], tags, purge_tags)
    after = dict(before, tags=after_tags)
    return dict(
        changed=changed,
        serial_number=after["serial_number"],
        virtual_mfa_device=after,
        diff=dict(before=diff_view(before), after=diff_view(after)),
    )


def ensure_absent(client, check_mode, path, name, force):
    found = find_virtual_device(client, path, name)
    if found is None:
        return dict(changed=False, diff=dict(before={}, after={}))
    device = normalize_virtual_device(found, list_device_tags(client, serial_number=found["SerialNumber"]))
    serial_number, user_name = device["serial_number"], device["user_name"]
    if user_name and not force:
        raise AnsibleIAMError(
            message=f"virtual MFA device {serial_number} is enabled for user {user_name}: set force=true to deactivate it first, "
            "or deactivate it with mfa.aws.iam_mfa_enable state=absent"
        )
    if not check_mode:
        if user_name:
            deactivate_device(client, user_name=user_name, serial_number=serial_number)
        delete_virtual_device(client, serial_number=serial_number)
    return dict(changed=True, serial_number=serial_number, diff=dict(before=diff_view(device), after={}))


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    problem = validate_device_name(params["name"]) or validate_path(params["path"])
    if problem:
        module.fail_json(msg=problem)

    client = iam_client(module)
    try:
        if params["state"] == "present":
            result = ensure_present(client, module.check_mode, params["path"], params["name"], params["tags"], params["purge_tags"])
        else:
            result = ensure_absent(client, module.check_mode, params["path"], params["name"], params["force"])
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    if "base32_seed" in result and not module.no_log:
        module.warn(NO_LOG_WARNING)
    if not module._diff:
        del result["diff"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
