"""Write docs/iam-policies/mfa-aws-roles.cfn.yaml, the CloudFormation template of the collection's roles, from the policy
files beside it (the template holds them as they are: tests/integration/test_iam_policies.py checks that it is current).

    .venv/bin/python tools/iam_roles_template.py [--check]

One role per job, named mfa-aws-<job>, holding only that job's policy and trusting the controller account (and, when
given, an external id). With ReadOnly=true only the audit role is created. The template names no account of its own, so a
service-managed StackSet can deploy it to every account of an organisation.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

POLICIES = Path(__file__).resolve().parents[1] / "docs" / "iam-policies"
TEMPLATE = POLICIES / "mfa-aws-roles.cfn.yaml"
# (job, role name, policy file stem, what the role is for)
ROLES = (
    ("Audit", "mfa-aws-audit", "audit", "mfa.aws.audit and mfa.aws.iam_mfa_info: read-only"),
    ("Enroll", "mfa-aws-enroll", "enroll", "mfa.aws.enroll and mfa.aws.verify_seeds"),
    ("Rotate", "mfa-aws-rotate", "rotate", "mfa.aws.rotate"),
    ("Remove", "mfa-aws-remove", "remove", "mfa.aws.remove"),
    ("HardwareToken", "mfa-aws-hardware-token", "enroll_hardware_token", "mfa.aws.enroll_hardware_token"),
)
HEADER = """\
# The IAM roles of the mfa.aws collection, one per job, each holding only its policy of docs/iam-policies/.
# Written by tools/iam_roles_template.py from the policy files: edit those, then run it again.
#
# Deploy to one account:
#   aws cloudformation deploy --template-file mfa-aws-roles.cfn.yaml --stack-name mfa-aws-roles \\
#     --capabilities CAPABILITY_NAMED_IAM --parameter-overrides ControllerAccountId=111111111111
# Deploy to every account of an organisation (run from the management or a delegated administrator account):
#   aws cloudformation create-stack-set --stack-set-name mfa-aws-roles --template-body file://mfa-aws-roles.cfn.yaml \\
#     --capabilities CAPABILITY_NAMED_IAM --permission-model SERVICE_MANAGED \\
#     --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false \\
#     --parameters ParameterKey=ControllerAccountId,ParameterValue=111111111111
#   aws cloudformation create-stack-instances --stack-set-name mfa-aws-roles --regions us-east-1 \\
#     --deployment-targets OrganizationalUnitIds=r-abcd
"""


def policy(stem: str) -> dict:
    return json.loads((POLICIES / f"{stem}.json").read_text(encoding="utf-8"))


def trust() -> dict:
    principal = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ControllerAccountId}:root"}}
    with_id = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole",
               "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}}
    without_id = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [{"Fn::If": ["HasExternalId", with_id, without_id]}]}


def template() -> dict:
    resources = {}
    for job, name, stem, purpose in ROLES:
        role = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": name,
                "Description": f"mfa.aws: {purpose}",
                "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": trust(),
                "Policies": [{"PolicyName": f"mfa-aws-{stem.replace('_', '-')}", "PolicyDocument": policy(stem)}],
                "Tags": [{"Key": "managed-by", "Value": "mfa.aws"}],
            },
        }
        if job != "Audit":
            role["Condition"] = "WritesMfa"
        resources[f"{job}Role"] = role
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "IAM roles of the mfa.aws Ansible collection: one per job, least privilege, assumed from the controller account",
        "Parameters": {
            "ControllerAccountId": {
                "Type": "String", "AllowedPattern": "[0-9]{12}",
                "Description": "The account whose principals run the playbooks (their own policy: docs/iam-policies/controller.json)",
            },
            "ExternalId": {"Type": "String", "Default": "",
                           "Description": "An external id the controller must give (account_session_external_id); empty for none"},
            "ReadOnly": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                         "Description": "true creates only the audit role"},
        },
        "Conditions": {
            "HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]},
            "WritesMfa": {"Fn::Equals": [{"Ref": "ReadOnly"}, "false"]},
        },
        "Resources": resources,
        "Outputs": {
            "AuditRoleArn": {"Value": {"Fn::GetAtt": ["AuditRole", "Arn"]}},
        },
    }


class _Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    """Lists indented under their key, as yamllint (and ansible-lint) want them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def render() -> str:
    return HEADER + "---\n" + yaml.dump(template(), Dumper=_Dumper, sort_keys=False, width=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the template is not current")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = TEMPLATE.exists() and TEMPLATE.read_text(encoding="utf-8") == text
        if not current:
            print(f"{TEMPLATE} is not current: run tools/iam_roles_template.py", file=sys.stderr)
        return 0 if current else 1
    TEMPLATE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
