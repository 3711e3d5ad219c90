#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_root_mfa_info
version_added: 0.1.0
short_description: List the MFA devices of the root user of a member account, through a root session
description:
  - Lists the MFA devices of the root user of one member account of an AWS Organization, with the kind of each
    (V(virtual) authenticator app, V(hardware) TOTP token, V(fido) passkey or security key).
  - A root user's devices cannot be listed with the account's own credentials. With centralised root access, the
    management account of the organisation (or the delegated administrator for IAM) opens a short session as the member
    account's root user (C(sts:AssumeRoot)) scoped by the AWS managed task policy C(IAMAuditRootUserCredentials), which
    can only read. This module opens that session, lists the devices (C(iam:ListMFADevices)) and lets the session expire;
    its credentials never leave the module.
  - Calls made, 2 per account - C(sts:AssumeRoot), C(iam:ListMFADevices).
  - Run it with the credentials of the management account (or of the delegated administrator), not with those of a role in
    the member account.
  - Nobody can enable MFA for a root user through the API, a session or the CLI; when the root user has none,
    RV(handoff) holds the console steps for the person who signs in as the root user.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  account_id:
    description:
      - The 12-digit id of the member account whose root user to audit. The management account's own root user cannot be
        audited this way (use M(mfa.aws.iam_mfa_info) in that account for whether it has MFA).
    type: str
    required: true
notes:
  - C(sts:AssumeRoot) has no global endpoint; without O(region), the session is opened in C(us-east-1).
  - Centralised root access is enabled once per organisation, in the IAM console (Root access management) or with
    C(aws iam enable-organizations-root-credentials-management) and C(aws iam enable-organizations-root-sessions).
seealso:
  - module: mfa.aws.iam_root_mfa
  - module: mfa.aws.iam_mfa_info
  - name: Centrally manage root access for member accounts
    description: How to enable centralised root access, and what a root session may do.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
  - name: AssumeRoot
    description: The STS call that opens a root session.
    link: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoot.html
extends_documentation_fragment: [mfa.aws._attributes.AWS_INFO, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules, amazon.aws.region.modules,
                                 amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Audit the MFA devices of a member account's root user (management account credentials)
  mfa.aws.iam_root_mfa_info:
    account_id: "210987654321"
  register: root_mfa

- name: Show what the root user signs in with
  ansible.builtin.debug:
    msg: "{{ root_mfa.account_id }}: {{ root_mfa.kinds | join(', ') if root_mfa.mfa_active else 'no MFA: ' ~ root_mfa.handoff.reason }}"
"""

RETURN = r"""
account_id:
  description: The id of the member account.
  returned: always
  type: str
  sample: "210987654321"
mfa_active:
  description: Whether the root user has at least one MFA device.
  returned: always
  type: bool
  sample: true
devices:
  description: The MFA devices of the root user, sorted by serial number.
  returned: always
  type: list
  elements: dict
  contains:
    serial_number:
      description: The serial number of the device (an ARN for virtual devices, passkeys and security keys).
      type: str
      sample: "arn:aws:iam::210987654321:mfa/root-account-mfa-device"
    kind:
      description: V(virtual) (authenticator app), V(hardware) (TOTP token) or V(fido) (passkey or security key).
      type: str
      sample: virtual
    enable_date:
      description: When the device was enabled, ISO 8601.
      type: str
      sample: "2026-11-02T09:30:00+00:00"
kinds:
  description: The kinds of the root user's devices, each once, sorted.
  returned: always
  type: list
  elements: str
  sample: [fido, virtual]
handoff:
  description: What the person who signs in as the root user does to enable MFA, which only the console can do.
  returned: when the root user has no MFA device
  type: dict
  contains:
    reason:
      description: Why this cannot be automated.
      type: str
    steps:
      description: The console steps, in order.
      type: list
      elements: str
    methods:
      description:
        - The console steps of each kind of device (V(fido) passkey or security key, V(virtual) authenticator app, V(hardware)
          TOTP token), each list complete from signing in, as RV(mfa.aws.iam_mfa_info#module:root.handoff.methods) has them.
      type: list
      elements: dict
    documentation:
      description: The AWS documentation of these steps.
      type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._credential_report import root_mfa_handoff
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden
from ansible_collections.mfa.aws.plugins.module_utils._root_session import AUDIT_POLICY
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.module_utils._root_session import MEMBER_ACCOUNT
from ansible_collections.mfa.aws.plugins.module_utils._root_session import kinds
from ansible_collections.mfa.aws.plugins.module_utils._root_session import list_root_devices
from ansible_collections.mfa.aws.plugins.module_utils._root_session import root_iam_client


def root_audit(account_id, devices):
    """The module's result for the root user's devices."""
    result = dict(account_id=account_id, mfa_active=bool(devices), devices=devices, kinds=kinds(devices))
    if not devices:
        result["handoff"] = root_mfa_handoff()
    return result


def main():
    argument_spec = dict(account_id=dict(type="str", required=True))
    module = AnsibleAWSModule(argument_spec=with_connection_secrets_hidden(argument_spec), supports_check_mode=True)
    account_id = module.params["account_id"]
    problem = account_id_problem(account_id, MEMBER_ACCOUNT)
    if problem:
        module.fail_json(msg=problem)
    try:
        iam = root_iam_client(module, account_id, AUDIT_POLICY)
        devices = list_root_devices(iam, account_id=account_id)
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **root_audit(account_id, devices))


if __name__ == "__main__":
    main()
