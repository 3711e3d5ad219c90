"""Secrets Manager, SSM and KMS calls the endpoint checks before moto answers them: moto ignores IAM policies.

AWS refuses a call that an identity-based policy of the caller explicitly denies, whatever else
the policies allow. The endpoint does the same for callers with assumed-role credentials, so that a
test can take a permission away from a role with a Deny statement and see the AccessDeniedException
AWS would answer. Only actions are matched (resource "*", conditions ignored), and only explicit
denies are enforced: a role without policies may still do everything, as moto lets it.
"""
from __future__ import annotations

from moto.iam.access_control import AssumedRoleAccessKey, CreateAccessKeyFailure, IAMPolicy, PermissionResult
from werkzeug.wrappers import Response

from .authorization import policy_text
from .protocol import ApiRequest, json_error

SERVICES = frozenset({"secretsmanager", "ssm", "kms"})


def _assumed_role(request: ApiRequest, session_token: str) -> AssumedRoleAccessKey | None:
    """The assumed role whose temporary credentials signed the request, None for any other caller."""
    if not session_token:
        return None
    try:
        return AssumedRoleAccessKey(request.account_id, "aws", request.access_key, {"X-Amz-Security-Token": session_token})
    except CreateAccessKeyFailure:
        return None


def explicit_deny(request: ApiRequest, session_token: str) -> Response | None:
    """AccessDeniedException when a policy of the caller's role denies the action; None lets moto answer."""
    role = _assumed_role(request, session_token)
    if role is None:
        return None
    action = f"{request.service}:{request.action}"
    for policy in role.collect_policies():
        if IAMPolicy(policy_text(policy)).is_action_permitted(action) == PermissionResult.DENIED:
            message = f"User: {role.arn} is not authorized to perform: {action} with an explicit deny in an identity-based policy"
            return json_error("AccessDeniedException", message, 400)
    return None


def handle(request: ApiRequest, environ: dict) -> Response | None:
    """Answer a Secrets Manager, SSM or KMS call the caller's policies deny; None leaves it to moto."""
    return explicit_deny(request, environ.get("HTTP_X_AMZ_SECURITY_TOKEN", ""))
