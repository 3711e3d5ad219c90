#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_virtual_mfa_info
version_added: 0.2.0
short_description: List the virtual MFA devices of an AWS account, with their tags
description:
  - Lists the virtual MFA devices of the account (C(ListVirtualMFADevices), one call per thousand devices), or those of O(serial_numbers),
    with whom each is enabled for and, with O(tags=true), its tags.
  - AWS's listing never carries tags, so each device's tags cost one C(ListMFADeviceTags) call; name the devices you need them of in
    O(serial_numbers). The devices that the P(mfa.aws.enroll#role) role creates carry the tags C(mfa.aws/run) (the run that created them)
    and C(mfa.aws/created) (when), besides C(enroll_device_tags).
  - Never returns a seed; never changes anything.
  - Needs C(iam:ListVirtualMFADevices), and C(iam:ListMFADeviceTags) with O(tags=true).
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  serial_numbers:
    description:
      - The serial numbers (ARNs) of the devices to return. Those that do not exist are left out.
      - By default every virtual device of the account (of O(assignment_status)).
    type: list
    elements: str
  assignment_status:
    description:
      - V(Assigned) returns the devices enabled for a user, V(Unassigned) those that are not, V(Any) both.
    type: str
    choices: [Any, Assigned, Unassigned]
    default: Any
  tags:
    description:
      - Read the tags of each device returned, one C(ListMFADeviceTags) call each.
    type: bool
    default: true
seealso:
  - module: mfa.aws.iam_mfa_info
  - module: mfa.aws.iam_virtual_mfa
extends_documentation_fragment: [mfa.aws._attributes.AWS_INFO, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules, amazon.aws.region.modules,
                                 amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: The unassigned virtual MFA devices of the account, with their tags
  mfa.aws.iam_virtual_mfa_info:
    assignment_status: Unassigned
  register: unassigned

- name: The tags of two devices
  mfa.aws.iam_virtual_mfa_info:
    serial_numbers:
      - arn:aws:iam::123456789012:mfa/alice
      - arn:aws:iam::123456789012:mfa/bob
  register: devices

- name: Which of them the mfa.aws.enroll role created
  ansible.builtin.debug:
    msg: "{{ devices.virtual_mfa_devices | selectattr('tags', 'contains', 'mfa.aws/run') | map(attribute='name') }}"
"""

RETURN = r"""
virtual_mfa_devices:
  description: The devices, sorted by serial number. Never with a seed.
  returned: always
  type: list
  elements: dict
  contains:
    serial_number:
      description: The serial number (ARN) of the device.
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    path:
      description: The IAM path of the device.
      type: str
      sample: /
    name:
      description: The name of the device.
      type: str
      sample: alice
    user_name:
      description: The user the device is enabled for, V(null) when none.
      type: str
      sample: alice
    enable_date:
      description: When the device was enabled (ISO 8601), V(null) when it is not.
      type: str
      sample: "2026-12-04T17:00:00+00:00"
    tags:
      description: The tags of the device. V(null) with O(tags=false).
      type: dict
      sample:
        managed-by: mfa.aws
        mfa.aws/run: controller01:41234:8812734
        mfa.aws/created: "2026-12-04T17:00:00+00:00"
"""

from operator import itemgetter

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_device_tags
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden

KEYS = ("serial_number", "path", "name", "user_name", "enable_date", "tags")


def read_devices(client, serial_numbers=None, assignment_status="Any", tags=True):
    """The devices of the listing (those of serial_numbers only, when given), normalised, with their tags when asked."""
    wanted = None if serial_numbers is None else set(serial_numbers)
    devices = []
    for found in list_virtual_devices(client, assignment_status=assignment_status):
        if wanted is not None and found["SerialNumber"] not in wanted:
            continue
        device_tags = list_device_tags(client, serial_number=found["SerialNumber"]) if tags else None
        normalized = normalize_virtual_device(found, device_tags)
        if not tags:
            normalized["tags"] = None
        devices.append({key: normalized.get(key) for key in KEYS})
    return sorted(devices, key=itemgetter("serial_number"))


def main():
    argument_spec = dict(
        serial_numbers=dict(type="list", elements="str"),
        assignment_status=dict(type="str", default="Any", choices=["Any", "Assigned", "Unassigned"]),
        tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=with_connection_secrets_hidden(argument_spec), supports_check_mode=True)
    try:
        devices = read_devices(iam_client(module), module.params["serial_numbers"], module.params["assignment_status"], module.params["tags"])
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, virtual_mfa_devices=devices)


if __name__ == "__main__":
    main()
