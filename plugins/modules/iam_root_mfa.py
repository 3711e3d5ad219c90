#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_root_mfa
version_added: 0.1.0
short_description: Deactivate the MFA devices of the root user of a member account, through a root session
description:
  - Deactivates MFA devices of the root user of one member account of an AWS Organization, for accounts whose root
    credentials are being retired (centralised root access, where member accounts keep no root credentials at all).
  - The management account of the organisation (or the delegated administrator for IAM) opens a short session as the
    member account's root user (C(sts:AssumeRoot)) scoped by the AWS managed task policy C(IAMDeleteRootUserCredentials),
    lists the root user's devices and deactivates those to remove (C(iam:DeactivateMFADevice)). The session's
    credentials never leave the module.
  - Enabling MFA for a root user is not possible this way (AWS allows it only in the console), so O(state) has only
    V(absent); M(mfa.aws.iam_root_mfa_info) hands the console steps to a person instead.
  - Calls made - C(sts:AssumeRoot), C(iam:ListMFADevices), and one C(iam:DeactivateMFADevice) per device removed. In check
    mode the session uses the read-only task policy C(IAMAuditRootUserCredentials) and nothing is deactivated.
  - A deactivated virtual device stays in the member account, unassigned; delete it there with M(mfa.aws.iam_virtual_mfa).
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  account_id:
    description:
      - The 12-digit id of the member account whose root user's MFA devices to deactivate.
    type: str
    required: true
  state:
    description:
      - V(absent) deactivates the devices of O(serial_numbers), or every device of the root user when O(serial_numbers) is not set.
    type: str
    choices: [absent]
    default: absent
  serial_numbers:
    description:
      - The serial numbers of the devices to deactivate; by default every MFA device of the root user.
      - A serial number the root user has no device of stops the task before any change (an already deactivated device
        is simply not listed, so leave it out, or leave O(serial_numbers) unset to deactivate whatever is left).
    type: list
    elements: str
notes:
  - C(sts:AssumeRoot) has no global endpoint; without O(region), the session is opened in C(us-east-1).
  - Without MFA and without password, nobody can sign in as the member account's root user; with a password left, the
    root user can sign in with the password alone. Delete the root password too (root access management) when retiring
    the root credentials.
attributes:
  idempotent:
    support: partial
    details:
      - Without O(serial_numbers), a second run finds nothing left to deactivate and reports no change.
      - With O(serial_numbers), a second run fails naming the serial numbers already deactivated (AWS no longer lists them),
        so that a mistyped serial number is never taken for a deactivated device.
seealso:
  - module: mfa.aws.iam_root_mfa_info
  - name: Perform a privileged task on an AWS Organizations member account
    description: Root sessions and their task policies.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html
extends_documentation_fragment: [mfa.aws._attributes.AWS_WRITES, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules,
                                 amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Retire the root MFA devices of a member account (management account credentials)
  mfa.aws.iam_root_mfa:
    account_id: "210987654321"
    state: absent

- name: Deactivate one lost hardware token of a member account's root user
  mfa.aws.iam_root_mfa:
    account_id: "210987654321"
    serial_numbers:
      - GAHT12345678
"""

RETURN = r"""
account_id:
  description: The id of the member account.
  returned: always
  type: str
  sample: "210987654321"
deactivated:
  description: The serial numbers of the devices deactivated (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: ["arn:aws:iam::210987654321:mfa/root-account-mfa-device"]
devices:
  description: The root user's MFA devices left afterwards (in check mode, that would be left), as M(mfa.aws.iam_root_mfa_info) lists them.
  returned: always
  type: list
  elements: dict
  contains:
    serial_number:
      description: The serial number of the device.
      type: str
    kind:
      description: V(virtual), V(hardware) or V(fido).
      type: str
    enable_date:
      description: When the device was enabled, ISO 8601.
      type: str
diff:
  description: The serial numbers of the root user's devices before and after.
  returned: with C(--diff)
  type: dict
  sample: {"before": {"devices": ["GAHT12345678"]}, "after": {"devices": []}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import fail_with_result
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden
from ansible_collections.mfa.aws.plugins.module_utils._root_session import AUDIT_POLICY
from ansible_collections.mfa.aws.plugins.module_utils._root_session import DELETE_POLICY
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.module_utils._root_session import MEMBER_ACCOUNT
from ansible_collections.mfa.aws.plugins.module_utils._root_session import deactivate_root_device
from ansible_collections.mfa.aws.plugins.module_utils._root_session import list_root_devices
from ansible_collections.mfa.aws.plugins.module_utils._root_session import root_iam_client


def to_deactivate(account_id, devices, serial_numbers):
    """The serial numbers to deactivate; AnsibleIAMError naming those the root user has no device of."""
    present = [device["serial_number"] for device in devices]
    if serial_numbers is None:
        return present
    unknown = [serial for serial in serial_numbers if serial not in present]
    if unknown:
        raise AnsibleIAMError(
            message=f"the root user of account {account_id} has no MFA device {', '.join(unknown)}: check serial_numbers "
            f"(its devices: {', '.join(present) or 'none'})"
        )
    return [serial for serial in present if serial in serial_numbers]


def main():
    argument_spec = dict(
        account_id=dict(type="str", required=True),
        state=dict(type="str", default="absent", choices=["absent"]),
        serial_numbers=dict(type="list", elements="str"),
    )
    module = AnsibleAWSModule(argument_spec=with_connection_secrets_hidden(argument_spec), supports_check_mode=True)
    account_id = module.params["account_id"]
    problem = account_id_problem(account_id, MEMBER_ACCOUNT)
    if problem:
        module.fail_json(msg=problem)

    done = []
    try:
        # Check mode opens a read-only session: it cannot deactivate anything.
        iam = root_iam_client(module, account_id, AUDIT_POLICY if module.check_mode else DELETE_POLICY)
        devices = list_root_devices(iam, account_id=account_id)
        planned = to_deactivate(account_id, devices, module.params["serial_numbers"])
        for serial_number in planned:
            if not module.check_mode:
                deactivate_root_device(iam, account_id=account_id, serial_number=serial_number)
            done.append(serial_number)
    except AnsibleIAMError as e:
        fail_with_result(module, e, changed=bool(done), account_id=account_id, deactivated=done)

    left = [device for device in devices if device["serial_number"] not in done]
    result = dict(changed=bool(done), account_id=account_id, deactivated=done, devices=left)
    if module._diff:
        result["diff"] = dict(
            before=dict(devices=[device["serial_number"] for device in devices]), after=dict(devices=[device["serial_number"] for device in left])
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
