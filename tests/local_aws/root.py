"""Centralised root access, which moto lacks: IAM's organisation features, sts:AssumeRoot, and the IAM calls of
the root sessions it opens.

AWS lets the management account of an organisation (with the RootSessions feature enabled) open a short session
as the root user of a member account, scoped by one of the root-task policies. The endpoint does the same:
AssumeRoot hands out credentials of its own, and an IAM call signed with them acts on the member account's
root user, as far as the task policy allows (AccessDenied otherwise).
"""
from __future__ import annotations

import re
import secrets
import string
from datetime import datetime, timedelta, timezone

from moto.organizations.models import organizations_backends
from werkzeug.wrappers import Response

from .protocol import ApiRequest, Entries, xml_response
from .state import EndpointState, RootSession

FEATURES = {
    "EnableOrganizationsRootCredentialsManagement": "RootCredentialsManagement",
    "EnableOrganizationsRootSessions": "RootSessions",
}
DISABLE = {
    "DisableOrganizationsRootCredentialsManagement": "RootCredentialsManagement",
    "DisableOrganizationsRootSessions": "RootSessions",
}
# The AWS managed root-task policies, and the IAM actions each allows a root session (S3 and SQS ones are not modelled).
TASK_POLICIES: dict[str, frozenset[str]] = {
    "IAMAuditRootUserCredentials": frozenset({
        "GetAccountSummary", "GetLoginProfile", "GetUser", "ListAccessKeys", "ListMFADevices", "ListSigningCertificates",
    }),
    "IAMCreateRootUserPassword": frozenset({"CreateLoginProfile", "GetAccountSummary", "GetLoginProfile", "GetUser"}),
    "IAMDeleteRootUserCredentials": frozenset({
        "DeactivateMFADevice", "DeleteAccessKey", "DeleteLoginProfile", "DeleteSigningCertificate", "GetAccessKeyLastUsed",
        "GetAccountSummary", "GetLoginProfile", "GetUser", "ListAccessKeys", "ListMFADevices", "ListSigningCertificates",
    }),
    "S3UnlockBucketPolicy": frozenset(),
    "SQSUnlockQueuePolicy": frozenset(),
}
_TASK_POLICY_ARN = re.compile(r"arn:aws[\w-]*:iam::aws:policy/root-task/(?P<name>[A-Za-z0-9]+)")
MAX_DURATION = 900


def _organisation(account_id: str) -> tuple[str, str] | None:
    """(organisation id, management account id) of the organisation the account manages; None if it manages none."""
    backend = organizations_backends[account_id]["aws"]
    if backend.org is None or backend.org.master_account_id != account_id:
        return None
    return backend.org.id, account_id


def _member_of(management_account: str, account_id: str) -> bool:
    owner = organizations_backends.master_accounts.get(account_id)
    return owner is not None and owner[0] == management_account and account_id != management_account


# --- IAM: the organisation features ------------------------------------------------------------------------------


def _iam_error(request: ApiRequest, code: str, message: str) -> Response:
    return xml_response("iam", str(request.action), error=(code, message))


def organisation_features(request: ApiRequest, state: EndpointState) -> Response | None:
    """Enable, disable or list centralised root access; only the management account may."""
    action = str(request.action)
    if action not in FEATURES and action not in DISABLE and action != "ListOrganizationsFeatures":
        return None
    organisation = _organisation(request.account_id)
    if organisation is None:
        return _iam_error(request, "AccountNotManagementOrDelegatedAdministratorException",
                          "The account is not the management account or a delegated administrator of an organization.")
    with state.lock:
        enabled = state.root_features.setdefault(request.account_id, set())
        if action in FEATURES:
            enabled.add(FEATURES[action])
        elif action in DISABLE:
            enabled.discard(DISABLE[action])
        features = sorted(enabled)
    return xml_response("iam", action, {"OrganizationId": organisation[0], "EnabledFeatures": features})


# --- STS: AssumeRoot ------------------------------------------------------------------------------------------------


def _sts_error(code: str, message: str) -> Response:
    return xml_response("sts", "AssumeRoot", error=(code, message))


def _token(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _index in range(length))


def assume_root(request: ApiRequest, state: EndpointState) -> Response:
    """Credentials of a member account's root user, scoped by a root-task policy, for the organisation's management account."""
    target = request.params.get("TargetPrincipal", "")
    policy_arn = request.params.get("TaskPolicyArn.arn", "")
    duration = int(request.params.get("DurationSeconds") or MAX_DURATION)
    caller = f"arn:aws:iam::{request.account_id}:user/local"
    match = _TASK_POLICY_ARN.fullmatch(policy_arn)
    if match is None or match["name"] not in TASK_POLICIES:
        return _sts_error("ValidationError", f"The task policy {policy_arn} is not one of the AWS managed root-task policies.")
    if not 0 <= duration <= MAX_DURATION:
        return _sts_error("ValidationError", f"DurationSeconds must be between 0 and {MAX_DURATION}.")
    account_id = target.split(":")[4] if target.startswith("arn:") and target.count(":") >= 5 else target
    organisation = _organisation(request.account_id)
    with state.lock:
        sessions_enabled = "RootSessions" in state.root_features.get(request.account_id, set())
    if organisation is None or not sessions_enabled:
        return _sts_error("AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRoot: centralized root access "
                                          "(RootSessions) is not enabled for this account's organization.")
    if not _member_of(request.account_id, account_id):
        return _sts_error("AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRoot on resource: "
                                          f"{account_id} is not a member account of the organization.")
    access_key = "ASIA" + _token(16, string.ascii_uppercase + string.digits)
    secret_key = _token(40, string.ascii_letters + string.digits + "+/")
    session_token = _token(356, string.ascii_letters + string.digits + "+/")
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=duration)
    with state.lock:
        state.root_sessions[access_key] = RootSession(account_id, match["name"], expires)
        state.issued_credentials.extend([access_key, secret_key, session_token])
    credentials = {"AccessKeyId": access_key, "SecretAccessKey": secret_key, "SessionToken": session_token, "Expiration": expires}
    return xml_response("sts", "AssumeRoot", {"Credentials": credentials, "SourceIdentity": None})


# --- IAM calls signed by a root session -------------------------------------------------------------------------------


def session_of(request: ApiRequest, state: EndpointState) -> RootSession | None:
    with state.lock:
        return state.root_sessions.get(request.access_key)


def _root_devices(session: RootSession, state: EndpointState) -> dict[str, datetime]:
    return state.root_devices.setdefault(session.account_id, {})


def root_call(request: ApiRequest, session: RootSession, state: EndpointState) -> Response:
    """An IAM call of a root session: what its task policy allows, on the member account's root user."""
    action = str(request.action)
    root_arn = f"arn:aws:iam::{session.account_id}:root"
    if datetime.now(timezone.utc) >= session.expires:
        return _iam_error(request, "ExpiredToken", "The security token included in the request is expired")
    if action not in TASK_POLICIES[session.task_policy]:
        return _iam_error(request, "AccessDenied", f"User: {root_arn} is not authorized to perform: iam:{action} "
                                                   f"with the task policy {session.task_policy}")
    if request.params.get("UserName"):
        return _iam_error(request, "AccessDenied", f"User: {root_arn} is not authorized to perform: iam:{action} on an IAM user "
                                                   "in a root session")
    with state.lock:
        devices = _root_devices(session, state)
        if action == "ListMFADevices":
            listed = [{"SerialNumber": serial, "EnableDate": enabled} for serial, enabled in sorted(devices.items())]
            return xml_response("iam", action, {"MFADevices": listed, "IsTruncated": False})
        if action == "DeactivateMFADevice":
            serial = request.params.get("SerialNumber", "")
            if devices.pop(serial, None) is None:
                return _iam_error(request, "NoSuchEntity", f"MFA Device with serial number {serial} does not exist.")
            return xml_response("iam", action)
        if action == "GetAccountSummary":
            return xml_response("iam", action, {"SummaryMap": Entries({"AccountMFAEnabled": int(bool(devices))})})
        if action == "GetUser":
            return xml_response("iam", action, {"User": {"Path": "/", "UserName": session.account_id, "UserId": session.account_id,
                                                         "Arn": root_arn, "CreateDate": datetime(2020, 1, 1, tzinfo=timezone.utc)}})
        if action == "GetLoginProfile":
            return _iam_error(request, "NoSuchEntity", f"Login Profile for User {session.account_id} cannot be found.")
        if action in ("ListAccessKeys", "ListSigningCertificates"):
            key = "AccessKeyMetadata" if action == "ListAccessKeys" else "Certificates"
            return xml_response("iam", action, {key: [], "IsTruncated": False})
    return _iam_error(request, "NotImplemented", f"the local endpoint does not model iam:{action} in a root session")
