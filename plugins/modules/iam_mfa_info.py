#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_info
version_added: 0.1.0
short_description: Audit the MFA of every IAM user and of the root user of an AWS account
description:
  - Reports, for the root user and for every IAM user of one AWS account, whether MFA is active, with counts and the names of the users without MFA.
  - Reads the IAM credential report, so that an account with a thousand users costs three or four calls
    (C(GenerateCredentialReport), maybe a second one while AWS finishes the report, C(GetCredentialReport) and C(GetAccountSummary)).
  - AWS generates a new credential report only when the last one is more than four hours old, so the report's rows can be up to four hours old
    (see RV(report_generated_time)). The MFA state of the root user comes from C(GetAccountSummary) and is current, and so is the MFA state of
    every user whose devices are listed.
  - Lists the MFA devices (C(ListMFADevices)) only of the users named in O(user_names), or of every user with O(details=true), with one call or more per user.
    O(device_kinds=true) names the kind of every user's MFA with one C(ListVirtualMFADevices) call, and lists the devices only of users with a
    hardware token or a passkey.
  - The root user's MFA devices cannot be listed with the account's own credentials, nor can its MFA be enabled through the API.
    When the root user has no MFA, RV(root.handoff) says how the account owner enables it in the AWS console.
  - Never changes anything. Generating a credential report is not a change of the account, so RV(ignore:changed) is always V(false).
  - Needs the IAM permissions C(iam:GenerateCredentialReport), C(iam:GetCredentialReport) and C(iam:GetAccountSummary);
    with O(user_names) or O(details) also C(iam:ListMFADevices), and C(iam:GetUser) for a named user newer than the credential report.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  user_names:
    description:
      - Names of IAM users whose MFA devices to list (RV(users[].mfa_devices)).
      - Fails, naming the user, when the account has no IAM user of that name.
      - A named user created after AWS generated the credential report is reported all the same, with RV(users[].password_enabled=null).
    type: list
    elements: str
    default: []
  details:
    description:
      - List the MFA devices of every IAM user, one C(ListMFADevices) call or more per user.
      - Users deleted since AWS generated the credential report are then left out, and users created since then are
        found with C(ListUsers) (one call per thousand users) and listed too.
      - With V(false), devices are listed only for the users named in O(user_names).
    type: bool
    default: false
  device_kinds:
    description:
      - Name the kind of every user's MFA (RV(users[].mfa_devices)) at the least cost. One C(ListVirtualMFADevices) call per thousand
        virtual devices tells who has an authenticator app (V(virtual)) and settles their MFA as current; only the users whose credential
        report row says they have MFA and who have no virtual device (a hardware TOTP token or a passkey) have their devices listed,
        one C(ListMFADevices) call or more each.
      - A user with a virtual device and another kind of device besides shows the virtual device only; O(details=true) lists every
        device of every user, and takes precedence.
      - Users created since AWS generated the credential report are found when they have a virtual device; the others are only
        found by O(details) or O(confirm_without_mfa).
      - Needs C(iam:ListVirtualMFADevices) besides the permissions of the plain audit, and C(iam:ListMFADevices) when some user has
        MFA of another kind.
    type: bool
    default: false
    version_added: 0.2.0
  confirm_without_mfa:
    description:
      - List the MFA devices of every user whose credential report row says it has no MFA, one C(ListMFADevices) call or more per such user,
        so that RV(users[].mfa_active) is current for them although the report can be up to four hours old.
      - Users created after AWS generated the report are found with C(ListUsers) (one call per thousand users) and listed too.
      - This is what a run that enrolls the users without MFA needs; users with MFA cost nothing more.
      - With O(virtual_devices=true) or O(device_kinds=true) as well, the users no enabled virtual device covers are listed at
        once, while AWS generates the report, instead of those the report says lack MFA. A user with only a hardware TOTP token
        or a passkey then costs one C(ListMFADevices) call more, and the answer is current even for a user whose report row is stale.
    type: bool
    default: false
    version_added: 0.1.0
  skip_unknown_users:
    description:
      - With V(true), a name of O(user_names) that the account has no IAM user of is listed in RV(unknown_users) instead of
        failing the task; for example a leaver whose user was deleted, whose devices and stored seeds are still to clean up.
    type: bool
    default: false
    version_added: 0.1.0
  virtual_devices:
    description:
      - Also return every virtual MFA device of the account, assigned or not (RV(virtual_mfa_devices)), with one C(ListVirtualMFADevices) call
        per thousand devices, and the tags of each device that is enabled for nobody, one C(ListMFADeviceTags) call each (there are none
        but the leftovers of interrupted runs and the devices that wait for codes people type).
    type: bool
    default: false
    version_added: 0.1.0
  concurrency:
    description:
      - How many users have their devices listed at once (C(ListMFADevices)), when several are. Throttling is retried with back-off
        by each call.
    type: int
    default: 4
    version_added: 0.2.0
  credential_report:
    description:
      - With V(false), the module reads no credential report, and every answer is current. The account's users come from
        C(ListUsers), the account id from C(sts:GetCallerIdentity) (which needs no permission), and each user's MFA from the
        account's virtual devices (with O(virtual_devices) or O(device_kinds)) and C(ListMFADevices) for every user they do not cover.
      - Without O(details) or O(confirm_without_mfa), only the users named in O(user_names) are then listed and returned, or
        every user when none is named.
      - RV(users[].password_enabled), RV(root.password_enabled) and RV(report_generated_time) are then V(null).
      - A run that enrolls users needs no more than that, and does not wait for AWS to generate the report.
    type: bool
    default: true
    version_added: 0.2.0
  report_timeout:
    description:
      - How many seconds to wait for AWS to finish the credential report before failing.
      - With V(0) the module asks for the report once and fails if AWS has not finished it.
    type: int
    default: 60
seealso:
  - module: mfa.aws.iam_virtual_mfa
  - module: mfa.aws.iam_mfa_enable
  - module: amazon.aws.iam_mfa_device_info
  - name: Getting credential reports for your AWS account
    description: What the IAM credential report holds and how often AWS generates it.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/credential-reports.html
  - name: Enable a virtual MFA device for your AWS account root user
    description: The console steps that enable MFA for the root user.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html
extends_documentation_fragment: [mfa.aws._attributes.AWS_INFO, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules, amazon.aws.region.modules,
                                 amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Audit the MFA of the account
  mfa.aws.iam_mfa_info:
  register: audit

- name: Fail when the root user or an IAM user has no MFA
  ansible.builtin.assert:
    that: audit.summary.all_mfa_active
    fail_msg: >-
      Without MFA: {{ audit.summary.users_without_mfa_names | join(', ') }}
      {{ '' if audit.root.mfa_active else '(and the root user: ' ~ audit.root.handoff.reason ~ ')' }}

- name: List the MFA devices of two users
  mfa.aws.iam_mfa_info:
    user_names:
      - alice
      - bob
  register: audit

- name: Name the kind of every user's MFA, listing the devices only of users with a hardware token or a passkey
  mfa.aws.iam_mfa_info:
    device_kinds: true
  register: audit

- name: List the MFA devices of every user, waiting up to five minutes for the credential report
  mfa.aws.iam_mfa_info:
    details: true
    report_timeout: 300
  register: audit

- name: Show who uses which kind of MFA device
  ansible.builtin.debug:
    msg: "{{ item.user_name }}: {{ item.mfa_devices | map(attribute='kind') | join(', ') or 'no MFA' }}"
  loop: "{{ audit.users }}"
  loop_control:
    label: "{{ item.user_name }}"
"""

RETURN = r"""
account_id:
  description: The id of the AWS account, from the root user's ARN in the credential report.
  returned: always
  type: str
  sample: "123456789012"
account_mfa_enabled:
  description:
    - Whether the root user has an MFA device, from C(AccountMFAEnabled) of C(GetAccountSummary).
    - The same as RV(root.mfa_active).
  returned: always
  type: bool
  sample: false
report_generated_time:
  description: When AWS generated the credential report that the user rows come from (ISO 8601).
  returned: always
  type: str
  sample: "2025-06-01T09:30:12+00:00"
root:
  description: The root user of the account.
  returned: always
  type: dict
  contains:
    user:
      description: How the credential report names the root user.
      returned: always
      type: str
      sample: "<root_account>"
    arn:
      description: The ARN of the root user.
      returned: always
      type: str
      sample: "arn:aws:iam::123456789012:root"
    mfa_active:
      description: Whether the root user has an MFA device, from C(GetAccountSummary) (current, unlike the credential report).
      returned: always
      type: bool
      sample: false
    password_enabled:
      description:
        - Whether the root user has a password, as the credential report says.
        - V(null) when the report says C(not_supported), as AWS writes for the root user.
      returned: always
      type: bool
      sample: null
    handoff:
      description: What the account owner does to enable MFA for the root user, which only the root user can do, in the AWS console.
      returned: when the root user has no MFA
      type: dict
      contains:
        reason:
          description: Why a person has to do it.
          returned: always
          type: str
          sample: >-
            MFA for the root user can only be enabled in the AWS console, signed in as the root user:
            no API call made with the account's own credentials can do it.
        steps:
          description: The console steps, in order.
          returned: always
          type: list
          elements: str
          sample:
            - "Sign in to the AWS console as the root user (https://console.aws.amazon.com/, choose Root user, then the account's email address)."
            - "Choose the account name at the top right, then Security credentials."
            - "In the Multi-factor authentication (MFA) section, choose Assign MFA device, and type a device name."
        methods:
          description:
            - The console steps of each kind of device, each list complete from signing in, in the order AWS presents them -
              passkey or security key (V(fido)), authenticator app (V(virtual)), hardware TOTP token (V(hardware)).
          returned: always
          type: list
          elements: dict
          contains:
            kind:
              description: V(fido), V(virtual) or V(hardware).
              type: str
            title:
              description: The kind's name in the console.
              type: str
            steps:
              description: The steps, in order.
              type: list
              elements: str
        documentation:
          description: The AWS page with these steps.
          returned: always
          type: str
          sample: "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html"
users:
  description: Every IAM user of the account (not the root user), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    user_name:
      description: The name of the user.
      returned: always
      type: str
      sample: alice
    arn:
      description: The ARN of the user.
      returned: always
      type: str
      sample: "arn:aws:iam::123456789012:user/alice"
    user_creation_time:
      description: When the user was created (ISO 8601).
      returned: always
      type: str
      sample: "2024-11-02T08:15:40+00:00"
    password_enabled:
      description:
        - Whether the user has a console password, as the credential report says.
        - V(null) for a user named in O(user_names) that is newer than the credential report.
      returned: always
      type: bool
      sample: true
    mfa_active:
      description:
        - Whether the user has an MFA device.
        - From the listed devices when they are listed, otherwise from the credential report.
      returned: always
      type: bool
      sample: true
    mfa_devices:
      description:
        - The MFA devices of the user.
        - With O(device_kinds=true), the virtual devices of a user who has one, or else the devices that C(ListMFADevices) lists for a user
          with MFA.
      returned: >-
        when the user is named in O(user_names), with O(details=true), for every user with MFA with O(device_kinds=true),
        and with O(confirm_without_mfa=true) for every user the credential report says has no MFA (with O(virtual_devices=true)
        or O(device_kinds=true) as well, for every user no enabled virtual device covers instead)
      type: list
      elements: dict
      contains:
        serial_number:
          description: The ARN of a virtual or FIDO device, or the serial number of a hardware token.
          returned: always
          type: str
          sample: "arn:aws:iam::123456789012:mfa/alice"
        kind:
          description: V(virtual) (authenticator app), V(fido) (passkey or security key) or V(hardware) (hardware TOTP token).
          returned: always
          type: str
          sample: virtual
        user_name:
          description: The name of the user the device is enabled for.
          returned: always
          type: str
          sample: alice
        enable_date:
          description: When the device was enabled for the user (ISO 8601).
          returned: always
          type: str
          sample: "2025-01-15T10:02:11+00:00"
unknown_users:
  description: The names of O(user_names) that the account has no IAM user of.
  returned: with O(skip_unknown_users=true)
  type: list
  elements: str
  sample: [mallory]
virtual_mfa_devices:
  description:
    - Every virtual MFA device of the account, assigned to a user or not, sorted by serial number. Never with a seed.
  returned: with O(virtual_devices=true)
  type: list
  elements: dict
  contains:
    serial_number:
      description: The ARN of the device.
      returned: always
      type: str
      sample: "arn:aws:iam::123456789012:mfa/alice"
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
      description: The user the device is enabled for, V(null) when it is unassigned.
      returned: always
      type: str
      sample: alice
    enable_date:
      description: When the device was enabled, V(null) when it is unassigned.
      returned: always
      type: str
      sample: "2025-01-15T10:02:11+00:00"
    tags:
      description:
        - The tags of a device that is enabled for nobody, V(null) for a device enabled for a user (AWS's listing carries no tags).
        - A device that the P(mfa.aws.enroll#role) role created has C(mfa.aws/run) (the run that created it) and C(mfa.aws/created).
      returned: always
      type: dict
      sample:
        managed-by: mfa.aws
        mfa.aws/run: controller01:41234:8812734
        mfa.aws/created: "2026-12-04T17:00:00+00:00"
      version_added: 0.2.0
summary:
  description: Counts of the account's MFA state.
  returned: always
  type: dict
  contains:
    users:
      description: How many IAM users the account has, not counting the root user.
      returned: always
      type: int
      sample: 3
    users_with_mfa:
      description: How many of them have MFA.
      returned: always
      type: int
      sample: 2
    users_without_mfa:
      description: How many of them have no MFA.
      returned: always
      type: int
      sample: 1
    users_without_mfa_names:
      description: The names of the users without MFA, sorted.
      returned: always
      type: list
      elements: str
      sample: ["carol"]
    root_mfa_active:
      description: Whether the root user has MFA.
      returned: always
      type: bool
      sample: false
    all_mfa_active:
      description: Whether the root user and every IAM user have MFA.
      returned: always
      type: bool
      sample: false
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.mfa.aws.plugins.module_utils._credential_report import CredentialReportError
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import ARGUMENT_SPEC
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import AUDIT_OPTIONS
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import audit_account
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import audit_without_report
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden


def main():
    module = AnsibleAWSModule(argument_spec=with_connection_secrets_hidden(ARGUMENT_SPEC), supports_check_mode=True)
    params = module.params
    if params["report_timeout"] < 0:
        module.fail_json(msg="report_timeout must be 0 or more seconds")
    if not 1 <= params["concurrency"] <= 16:
        module.fail_json(msg="concurrency must be 1 to 16")

    client = iam_client(module)
    options = {name: params[name] for name in AUDIT_OPTIONS}
    try:
        if params["credential_report"]:
            result = audit_account(client, params["user_names"], params["details"], params["report_timeout"], **options)
        else:
            sts = module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
            result = audit_without_report(client, sts, params["user_names"], params["details"], **options)
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)
    except CredentialReportError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
