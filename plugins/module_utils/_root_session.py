# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Root sessions of member accounts: sts:AssumeRoot with a root-task policy, and the root user's MFA devices.

With centralised root access, the management account of an AWS Organization (or the delegated administrator
for IAM) opens a short session as the root user of a member account, scoped by an AWS managed root-task
policy. Such a session can list the root user's MFA devices (IAMAuditRootUserCredentials) and deactivate
them (IAMDeleteRootUserCredentials); nothing can enable one, which only the console does.
"""

from __future__ import annotations

import os

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_call
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_kind

AUDIT_POLICY = "IAMAuditRootUserCredentials"
DELETE_POLICY = "IAMDeleteRootUserCredentials"
# AssumeRoot has no global endpoint: without a region, the session is opened in this one.
DEFAULT_REGION = "us-east-1"
MAX_SESSION_SECONDS = 900
# The retries (throttling) of STS calls and of the calls of the sessions they open.
SESSION_RETRY = AWSRetry.jittered_backoff(retries=10)

_SESSION_HINT = (
    "centralised root access must be enabled in the organisation (IAM root access management, root sessions), and the "
    "task must run with credentials of the management account or of the IAM delegated administrator that allow "
    "sts:AssumeRoot, for a member account"
)


# Which account the account_id of a root session must be.
MEMBER_ACCOUNT = "a member account of the organisation"


def task_policy_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy/root-task/{name}"


@iam_call(
    "open a root session in account {account_id} with the task policy {task_policy} (sts:AssumeRoot)",
    hints={"AccessDenied": _SESSION_HINT, "AccessDeniedException": _SESSION_HINT, "ValidationError": _SESSION_HINT},
)
def _assume_root(sts, account_id, task_policy):
    return sts.assume_root(
        aws_retry=True, TargetPrincipal=account_id, TaskPolicyArn={"arn": task_policy_arn(task_policy)}, DurationSeconds=MAX_SESSION_SECONDS
    )["Credentials"]


def root_iam_client(module, account_id, task_policy):
    """An IAM client acting as the root user of the member account, scoped by the root-task policy.

    The session's credentials stay in this process: they are never returned, logged or written anywhere.
    """
    region = module.region or DEFAULT_REGION
    # AssumeRoot has no global endpoint: older botocore sends us-east-1 there unless told to use the regional one.
    os.environ.setdefault("AWS_STS_REGIONAL_ENDPOINTS", "regional")
    sts = module.client("sts", retry_decorator=SESSION_RETRY, region=region)
    if "AssumeRoot" not in sts.client.meta.service_model.operation_names:
        module.fail_json(
            msg=f"sts:AssumeRoot is unknown to botocore {botocore.__version__}: upgrade boto3 and botocore (pip install -U boto3 botocore) "
            "on the host that runs this module"
        )
    credentials = _assume_root(sts, account_id=account_id, task_policy=task_policy)
    return module.client(
        "iam",
        retry_decorator=SESSION_RETRY,
        region=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


@iam_call("list the MFA devices of the root user of account {account_id}")
@SESSION_RETRY
def _list_root_devices(iam, account_id):
    return iam.get_paginator("list_mfa_devices").paginate().build_full_result()["MFADevices"]


def list_root_devices(iam, account_id):
    """The root user's MFA devices (serial_number, kind, enable_date), sorted by serial number."""
    devices = [
        dict(serial_number=device["SerialNumber"], kind=device_kind(device["SerialNumber"]), enable_date=_iso(device.get("EnableDate")))
        for device in _list_root_devices(iam, account_id=account_id)
    ]
    return sorted(devices, key=lambda device: device["serial_number"])


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@iam_call("deactivate MFA device {serial_number} of the root user of account {account_id}")
def deactivate_root_device(iam, account_id, serial_number):
    iam.deactivate_mfa_device(aws_retry=True, SerialNumber=serial_number)


def kinds(devices) -> list[str]:
    """The kinds of the devices (virtual, hardware, fido), each once, sorted."""
    return sorted({device_kind(device["serial_number"]) for device in devices})
