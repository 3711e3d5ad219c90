#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_enable
version_added: 0.1.0
short_description: Enable, deactivate and resynchronise the MFA device of an AWS IAM user
description:
  - Enables an MFA device for an IAM user, deactivates it, or resynchronises it.
  - The device is a virtual MFA device, named by its serial number (ARN), for example one made by
    M(mfa.aws.iam_virtual_mfa), or a hardware TOTP token, named by the serial number printed on it.
  - To enable a device, AWS asks for two consecutive codes of the device. For a virtual device whose seed
    the play knows, the P(mfa.aws.totp#lookup) lookup with C(pair=true) computes them. For a hardware
    token, the person holding it reads them.
  - A device that is already enabled for the user is left as it is, and no code is needed. This costs one
    call to AWS (C(ListMFADevices)); enabling costs that call and C(EnableMFADevice).
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  user_name:
    description:
      - The name of the IAM user.
      - The root user is refused before any call to AWS, since AWS lets nobody enable its MFA through the API.
    required: true
    type: str
  serial_number:
    description:
      - The serial number of the device, the ARN of a virtual MFA device (C(arn:aws:iam::123456789012:mfa/alice))
        or the serial number printed on a hardware token.
    required: true
    type: str
  authentication_code_1:
    description:
      - A code of the device, 6 digits.
      - Required to enable a device that is not enabled yet for the user, and with O(state=resynced).
      - Quote it in YAML so that a leading zero is kept.
    type: str
  authentication_code_2:
    description:
      - The code of the device that follows O(authentication_code_1), 6 digits.
      - Required with O(authentication_code_1).
    type: str
  state:
    description:
      - V(present) enables the device for the user unless it is enabled for them already.
      - V(absent) deactivates the device from the user if it is enabled for them. The device itself is kept,
        delete a virtual device with M(mfa.aws.iam_virtual_mfa).
      - V(resynced) resynchronises the device with AWS, for a token whose clock drifted. This always reports a
        change since AWS cannot tell whether the device was in sync.
    type: str
    choices: [present, absent, resynced]
    default: present
notes:
  - The codes are checked (6 digits each) before any call to AWS, and no message of this module contains them.
  - AWS accepts each pair of codes once. Compute them, or read them from the token, right before the task runs.
  - Deactivating the last device of a user lets them sign in without MFA.
attributes:
  check_mode:
    support: full
    details:
      - In check mode, the codes are checked for their format only, AWS checks them when the device is enabled.
  diff_mode:
    support: full
  idempotent:
    support: partial
    details:
      - O(state=present) and O(state=absent) are idempotent.
      - O(state=resynced) is never idempotent, it resynchronises the device and reports a change on every run.
extends_documentation_fragment:
  - mfa.aws._attributes
  - mfa.aws._attributes.ACTION_GROUP
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: mfa.aws.iam_virtual_mfa
  - module: mfa.aws.iam_mfa_info
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - name: EnableMFADevice in the IAM API reference
    description: The call that enables a device for a user.
    link: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableMFADevice.html
  - name: Resynchronizing virtual and hardware MFA devices
    description: When and how AWS resynchronises a device.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_sync.html
"""

EXAMPLES = r"""
# The seed of a virtual device is returned once, by the run that creates it: create the device,
# store the seed, then enable the device, in the same play and with no_log on every task.
- name: Give alice a virtual MFA device and enable it
  module_defaults:
    group/mfa.aws.aws:
      region: us-east-1
  block:
    - name: Create the virtual MFA device
      mfa.aws.iam_virtual_mfa:
        name: alice
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

# token_code_1 and token_code_2 are typed by the person holding the token, for example
# through vars_prompt (private: true) or an AWX survey (password fields).
- name: Enable the hardware token handed to bob
  mfa.aws.iam_mfa_enable:
    user_name: bob
    serial_number: GAHT12345678
    authentication_code_1: "{{ token_code_1 }}"
    authentication_code_2: "{{ token_code_2 }}"
  no_log: true

- name: Check that alice's device is enabled (no codes needed when it is)
  mfa.aws.iam_mfa_enable:
    user_name: alice
    serial_number: arn:aws:iam::123456789012:mfa/alice
  check_mode: true
  register: alice_mfa

- name: Resynchronise a hardware token whose clock drifted
  mfa.aws.iam_mfa_enable:
    user_name: bob
    serial_number: GAHT12345678
    authentication_code_1: "{{ token_code_1 }}"
    authentication_code_2: "{{ token_code_2 }}"
    state: resynced
  no_log: true

- name: Deactivate alice's device (it stays in the account)
  mfa.aws.iam_mfa_enable:
    user_name: alice
    serial_number: arn:aws:iam::123456789012:mfa/alice
    state: absent
"""

RETURN = r"""
user_name:
  description: The name of the user.
  returned: success
  type: str
  sample: alice
serial_number:
  description: The serial number of the device.
  returned: success
  type: str
  sample: arn:aws:iam::123456789012:mfa/alice
kind:
  description: What the device is, V(virtual), V(hardware) or V(fido) (a security key).
  returned: success
  type: str
  sample: virtual
enable_date:
  description:
    - When the device was enabled for the user.
    - When this run enabled it (or would, in check mode), the time of the run.
  returned: when the device is enabled for the user after the run
  type: str
  sample: "2024-06-01T09:30:00+00:00"
mfa_devices:
  description: The MFA devices enabled for the user after the run (as predicted in check mode).
  returned: success
  type: list
  elements: dict
  contains:
    user_name:
      description: The name of the user.
      returned: always
      type: str
      sample: alice
    serial_number:
      description: The serial number of the device.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    enable_date:
      description: When the device was enabled for the user.
      returned: always
      type: str
      sample: "2024-06-01T09:30:00+00:00"
    kind:
      description: V(virtual), V(hardware) or V(fido).
      returned: always
      type: str
      sample: virtual
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import ROOT_HANDOFF
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import VIRTUAL
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import deactivate_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import device_kind
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import enable_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import error_code
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import is_root_user
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_user_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_mfa_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import resync_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import validate_code
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import validate_serial_number

CODE_OPTIONS = ("authentication_code_1", "authentication_code_2")


def argument_problem(user_name: str, serial_number: str, codes: tuple) -> str | None:
    """What is wrong with the arguments, found without AWS; never quotes a code."""
    if is_root_user(user_name):
        return ROOT_HANDOFF
    problem = validate_serial_number(serial_number)
    if problem:
        return problem
    for option, code in zip(CODE_OPTIONS, codes):
        if code is not None and not validate_code(code):
            return f"{option} must be exactly 6 digits (quote it in YAML to keep a leading zero)"
    return None


def find_device(devices: list, serial_number: str) -> dict | None:
    """The device with that serial number in a ListMFADevices answer, or None."""
    return next((device for device in devices if device["SerialNumber"] == serial_number), None)


def diff_view(user_name: str, serial_number: str, devices: list) -> dict:
    return dict(user_name=user_name, serial_number=serial_number, enabled=find_device(devices, serial_number) is not None)


def build_result(changed, user_name, serial_number, devices_before, devices_after):
    """The module's result from the user's devices before and after the run."""
    result = dict(
        changed=changed,
        user_name=user_name,
        serial_number=serial_number,
        kind=device_kind(serial_number),
        mfa_devices=[normalize_mfa_device(device) for device in devices_after],
        diff=dict(before=diff_view(user_name, serial_number, devices_before), after=diff_view(user_name, serial_number, devices_after)),
    )
    enabled = find_device(devices_after, serial_number)
    if enabled is not None:
        result["enable_date"] = normalize_mfa_device(enabled)["enable_date"]
    return result


def virtual_device_user(client, serial_number):
    """The user a virtual device is enabled for; None when it cannot be told (hardware tokens are not listed)."""
    if device_kind(serial_number) != VIRTUAL:
        return None
    try:
        devices = list_virtual_devices(client, assignment_status="Assigned")
    except AnsibleIAMError:
        # The caller reports the error of the call that failed first, not this one.
        return None
    device = find_device(devices, serial_number) or {}
    return (device.get("User") or {}).get("UserName")


def enable(client, user_name, serial_number, codes):
    """EnableMFADevice. When the device is enabled for another user, the error names that user if AWS can tell."""
    try:
        enable_device(client, user_name=user_name, serial_number=serial_number, code_1=codes[0], code_2=codes[1])
    except AnsibleIAMError as e:
        owner = error_code(e.exception) == "EntityAlreadyExists" and virtual_device_user(client, serial_number)
        if not owner:
            raise
        raise AnsibleIAMError(
            message=f"Failed to enable MFA device {serial_number} for user {user_name}: it is enabled for user {owner}, "
            "deactivate it there first (mfa.aws.iam_mfa_enable state=absent)",
            exception=e.exception,
        ) from e


def ensure_enabled(client, check_mode, user_name, serial_number, codes):
    devices = list_user_devices(client, user_name=user_name)
    if find_device(devices, serial_number) is not None:
        return build_result(False, user_name, serial_number, devices, devices)
    if None in codes:
        raise AnsibleIAMError(
            message=f"authentication_code_1 and authentication_code_2 are required to enable MFA device {serial_number} for user {user_name}: "
            "give two consecutive codes of the device"
        )
    if not check_mode:
        enable(client, user_name, serial_number, codes)
    enabled = dict(UserName=user_name, SerialNumber=serial_number, EnableDate=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0))
    return build_result(True, user_name, serial_number, devices, devices + [enabled])


def ensure_deactivated(client, check_mode, user_name, serial_number):
    devices = list_user_devices(client, user_name=user_name)
    if find_device(devices, serial_number) is None:
        return build_result(False, user_name, serial_number, devices, devices)
    if not check_mode:
        deactivate_device(client, user_name=user_name, serial_number=serial_number)
    remaining = [device for device in devices if device["SerialNumber"] != serial_number]
    return build_result(True, user_name, serial_number, devices, remaining)


def resync(client, check_mode, user_name, serial_number, codes):
    devices = list_user_devices(client, user_name=user_name)
    if find_device(devices, serial_number) is None:
        raise AnsibleIAMError(
            message=f"MFA device {serial_number} is not enabled for user {user_name}: only an enabled device can be resynchronised, "
            "enable it with state=present"
        )
    if not check_mode:
        resync_device(client, user_name=user_name, serial_number=serial_number, code_1=codes[0], code_2=codes[1])
    return build_result(True, user_name, serial_number, devices, devices)


def main():
    argument_spec = dict(
        user_name=dict(type="str", required=True),
        serial_number=dict(type="str", required=True),
        authentication_code_1=dict(type="str", no_log=True),
        authentication_code_2=dict(type="str", no_log=True),
        state=dict(type="str", default="present", choices=["present", "absent", "resynced"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "resynced", CODE_OPTIONS)],
        required_together=[CODE_OPTIONS],
    )
    params = module.params
    user_name, serial_number, state = params["user_name"], params["serial_number"], params["state"]
    codes = tuple(params[option] for option in CODE_OPTIONS)

    problem = argument_problem(user_name, serial_number, codes)
    if problem:
        module.fail_json(msg=problem)

    client = iam_client(module)
    try:
        if state == "present":
            result = ensure_enabled(client, module.check_mode, user_name, serial_number, codes)
        elif state == "absent":
            result = ensure_deactivated(client, module.check_mode, user_name, serial_number)
        else:
            result = resync(client, module.check_mode, user_name, serial_number, codes)
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    if not module._diff:
        del result["diff"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
