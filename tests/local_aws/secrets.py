"""Secrets Manager, SSM and KMS calls the endpoint checks before moto answers them: moto ignores IAM policies.

AWS refuses a call that an identity-based policy of the caller explicitly denies, whatever else
the policies allow. The endpoint does the same for callers with assumed-role credentials, so that a
test can take a permission away from a role with a Deny statement and see the AccessDeniedException
AWS would answer. Only actions are matched (resource "*", conditions ignored), and only explicit
denies are enforced: a role without policies may still do everything, as moto lets it. (With IAM enforced,
authorization.py decides every call instead.)
"""
from __future__ import annotations

from moto.iam.access_control import PermissionResult
from werkzeug.wrappers import Response

from .authorization import Refusal, caller_of, decide
from .protocol import ACCESS_KEY_ID, ApiRequest, json_error

SERVICES = frozenset({"secretsmanager", "ssm", "kms"})


def explicit_deny(request: ApiRequest, session_token: str) -> Response | None:
    """AccessDeniedException when a policy of the caller's role denies the action; None lets moto answer."""
    if not session_token:
        return None
    try:
        caller = caller_of(request, session_token, ACCESS_KEY_ID)
    except Refusal:
        return None  # not an assumed role moto knows
    if caller.policies is None or ":assumed-role/" not in caller.arn:
        return None
    action = f"{request.service}:{request.action}"
    if decide(caller.policies, action, "*") == PermissionResult.DENIED:
        message = f"User: {caller.arn} is not authorized to perform: {action} with an explicit deny in an identity-based policy"
        return json_error("AccessDeniedException", message, 400)
    return None


def handle(request: ApiRequest, environ: dict) -> Response | None:
    """Answer a Secrets Manager, SSM or KMS call the caller's policies deny; None leaves it to moto."""
    return explicit_deny(request, environ.get("HTTP_X_AMZ_SECURITY_TOKEN", ""))
