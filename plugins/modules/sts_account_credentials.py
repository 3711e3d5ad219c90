#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sts_account_credentials
version_added: 0.2.0
short_description: Temporary credentials for one AWS account, checked to reach that account
description:
  - Assumes O(role_arn) (C(sts:AssumeRole)) and returns the session's credentials, after checking that the session is in
    O(account_id). Without O(role_arn), checks that the credentials the task starts from reach O(account_id)
    (C(sts:GetCallerIdentity)) and returns no credentials.
  - This is the step of the P(mfa.aws.account_session#role) role that opens the session of each account (inventory host)
    of a fleet; its result's RV(credentials) are what the role passes to the AWS modules of the play.
  - The credentials it returns are secrets - register the result with C(no_log=true), as the role does.
  - Calls made, one - C(sts:AssumeRole), or C(sts:GetCallerIdentity) without O(role_arn).
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  account_id:
    description:
      - The 12-digit id of the account that the credentials must reach. The module fails, and returns no credentials, when
        they reach another account (a role ARN or profile pointing at the wrong account, for example).
      - Without it, the account of the credentials the task starts from (C(sts:GetCallerIdentity)), or the account of O(role_arn).
    type: str
  role_arn:
    description:
      - The ARN of the role to assume in O(account_id).
      - Omit it to check the credentials the task starts from instead.
    type: str
  role_session_name:
    description:
      - The name of the session, as CloudTrail records it.
    type: str
    default: mfa-aws
  duration_seconds:
    description:
      - How long the credentials last, in seconds (900 to the role's maximum session duration).
    type: int
    default: 3600
  external_id:
    description:
      - The external id that the role's trust policy requires, if any.
    type: str
notes:
  - Like the other modules of this collection, this module runs in the worker process of a task on a local connection
    (see the collection's README); the credentials it returns stay in the controller's memory either way.
seealso:
  - module: amazon.aws.sts_assume_role
  - name: AssumeRole
    description: The STS call that opens the session.
    link: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
extends_documentation_fragment: [mfa.aws._attributes.AWS_INFO, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules, amazon.aws.region.modules,
                                 amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Open a session in the account of this inventory host
  mfa.aws.sts_account_credentials:
    account_id: "{{ aws_account_id }}"
    role_arn: "arn:aws:iam::{{ aws_account_id }}:role/OrganizationAccountAccessRole"
  register: session
  no_log: true

- name: Which account the credentials in use reach (no role assumed)
  mfa.aws.sts_account_credentials:
  register: own

- name: Read the account's MFA state with the session's credentials
  mfa.aws.iam_mfa_info:
    access_key: "{{ session.credentials.access_key }}"
    secret_key: "{{ session.credentials.secret_key }}"
    session_token: "{{ session.credentials.session_token }}"

- name: Check that the credentials of the environment reach this host's account
  mfa.aws.sts_account_credentials:
    account_id: "{{ aws_account_id }}"
"""

RETURN = r"""
account_id:
  description: The account that the credentials reach.
  returned: success
  type: str
  sample: "210987654321"
arn:
  description: The ARN of the identity of the credentials (the assumed-role session with O(role_arn)).
  returned: success
  type: str
  sample: "arn:aws:sts::210987654321:assumed-role/OrganizationAccountAccessRole/mfa-aws"
credentials:
  description:
    - The session's credentials, in the form of the C(access_key), C(secret_key) and C(session_token) options of AWS
      modules. Empty without O(role_arn).
  returned: success
  type: dict
  contains:
    access_key:
      description: The access key id.
      type: str
    secret_key:
      description: The secret access key.
      type: str
    session_token:
      description: The session token.
      type: str
    expiration:
      description: When the credentials expire, ISO 8601.
      type: str
"""

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._errors import failure_line
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import is_account_id
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden
from ansible_collections.mfa.aws.plugins.module_utils._root_session import SESSION_RETRY


def main():
    argument_spec = dict(
        account_id=dict(type="str"),
        role_arn=dict(type="str"),
        role_session_name=dict(type="str", default="mfa-aws"),
        duration_seconds=dict(type="int", default=3600),
        external_id=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=with_connection_secrets_hidden(argument_spec), supports_check_mode=True)
    account_id, role_arn = module.params["account_id"], module.params["role_arn"]
    if account_id:
        problem = account_id_problem(account_id, "the account of this host")
        if problem:
            module.fail_json(msg=problem)
    elif role_arn:
        account_id = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        if not is_account_id(account_id):
            module.fail_json(msg=f"role_arn must be the ARN of a role (arn:aws:iam::<12-digit account id>:role/<name>), not {role_arn}")
    sts = module.client("sts", retry_decorator=SESSION_RETRY)

    credentials = {}
    if role_arn:
        what = f"cannot assume {role_arn} for account {account_id}"
        hint = "check the role name, its trust policy and the credentials this run starts from"
    else:
        what = f"cannot read the identity of the credentials in use{' for account ' + account_id if account_id else ''} (sts:GetCallerIdentity)"
        hint = "check the credentials (profile, environment) of this run"
    try:
        if role_arn:
            extra = dict(ExternalId=module.params["external_id"]) if module.params["external_id"] else {}
            answer = sts.assume_role(
                aws_retry=True,
                RoleArn=role_arn,
                RoleSessionName=module.params["role_session_name"],
                DurationSeconds=module.params["duration_seconds"],
                **extra,
            )
            arn = answer["AssumedRoleUser"]["Arn"]
            session = answer["Credentials"]
            credentials = dict(
                access_key=session["AccessKeyId"],
                secret_key=session["SecretAccessKey"],
                session_token=session["SessionToken"],
                expiration=session["Expiration"].isoformat() if hasattr(session["Expiration"], "isoformat") else str(session["Expiration"]),
            )
        else:
            arn = sts.get_caller_identity(aws_retry=True)["Arn"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json(msg=failure_line(what, e, hint))

    reached = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if account_id and reached != account_id:
        if role_arn:
            module.fail_json(msg=f"{role_arn} is not a role of account {account_id} (it is {arn}): fix the account id or the role ARN")
        module.fail_json(
            msg=f"the credentials in use reach account {reached}, not {account_id}: fix the account id or the credentials (profile, environment) of this run"
        )
    module.exit_json(changed=False, account_id=reached, arn=arn, credentials=credentials)


if __name__ == "__main__":
    main()
