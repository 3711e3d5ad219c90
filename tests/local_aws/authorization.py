"""Identity-based IAM policies, enforced on every API call the way AWS enforces them, once a test asks for it.

moto in server mode can enforce policies too (POST /moto-api/reset-auth), but it evaluates IAM's actions against the
resource "*": a statement narrowed to `arn:aws:iam::*:mfa/*` would never match, and the actions the endpoint answers
itself (tags of MFA devices, resync, GetMFADevice, AssumeRoot) would not be checked at all. Here every call is matched
against the ARN of what it acts on, as AWS's service authorization reference names it:

- the caller: an IAM user's access key, or the temporary credentials of an assumed role (moto's access key models); any
  other key is refused with InvalidClientTokenId, except the endpoint's own key (client.ACCESS_KEY_ID), which acts as
  the account's root user (the set-up and the tests' own checks) and is never refused;
- the decision: an explicit Deny of any of the caller's policies refuses; otherwise some Allow must match the action and
  the resource; sts:GetCallerIdentity needs no permission, as in AWS;
- sts:AssumeRole also needs the role's trust policy to name the caller, its account (`arn:aws:iam::<id>:root`), or "*",
  and its sts:ExternalId condition, if any, to match;
- a refusal is worded as AWS words it: `User: <arn> is not authorized to perform: <action> on resource: <arn> because no
  identity-based policy allows the <action> action`.

Every decision is recorded in the call log entry of the call ("principal"; "needed": the actions it needed, which for a
device created with tags includes iam:TagMFADevice, as in AWS; "denied": True when refused), so that a test can compare
the actions a run needed with those a policy grants.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from moto.iam.access_control import AssumedRoleAccessKey, CreateAccessKeyFailure, IAMPolicy, IAMUserAccessKey, PermissionResult
from moto.iam.models import iam_backends
from werkzeug.wrappers import Response

from .protocol import ApiRequest, json_error, xml_response

PARTITION = "aws"
NO_PERMISSION_NEEDED = frozenset({"sts:GetCallerIdentity"})
# IAM actions on one user (the UserName parameter; the caller's own user without it) and on one MFA device.
USER_ACTIONS = frozenset({
    "EnableMFADevice", "DeactivateMFADevice", "ResyncMFADevice", "ListMFADevices", "GetMFADevice", "GetUser", "DeleteUser",
    "CreateUser", "CreateAccessKey", "ListAccessKeys", "DeleteAccessKey", "GetLoginProfile",
})
DEVICE_ACTIONS = frozenset({"CreateVirtualMFADevice", "DeleteVirtualMFADevice", "TagMFADevice", "UntagMFADevice", "ListMFADeviceTags"})
# Calls that need a second action when they carry a parameter: AWS checks iam:TagMFADevice on a device created with tags.
ALSO_NEEDED = {("iam", "CreateVirtualMFADevice"): ("Tags.member.1.Key", "iam:TagMFADevice")}


@dataclass(frozen=True)
class Caller:
    """Who signed a call: its ARN and its identity-based policies (None: the account's root user, never refused)."""

    arn: str
    account_id: str
    policies: tuple | None


class Refusal(Exception):
    """A call AWS would refuse: (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def caller_of(request: ApiRequest, session_token: str, root_key: str) -> Caller:
    """The caller of a signed request; Refusal(InvalidClientTokenId) for a key AWS would not know."""
    if request.access_key == root_key:
        return Caller(f"arn:{PARTITION}:iam::{request.account_id}:root", request.account_id, None)
    try:
        if session_token and not request.access_key.startswith("AKIA"):
            key: AssumedRoleAccessKey | IAMUserAccessKey = AssumedRoleAccessKey(
                request.account_id, PARTITION, request.access_key, {"X-Amz-Security-Token": session_token})
        else:
            key = IAMUserAccessKey(request.account_id, PARTITION, request.access_key, {})
    except CreateAccessKeyFailure as failure:
        raise Refusal("InvalidClientTokenId", "The security token included in the request is invalid.") from failure
    return Caller(key.arn, request.account_id, tuple(policy_text(policy) for policy in key.collect_policies()))


def policy_text(policy: object) -> object:
    """A policy as moto's IAMPolicy reads it: inline policies that CloudFormation created are dicts, not JSON text."""
    if isinstance(policy, dict) and "policy_document" not in policy:
        return json.dumps(policy)
    if isinstance(policy, dict) and isinstance(policy["policy_document"], dict):
        return json.dumps(policy["policy_document"])
    return policy


def _user_arn(account_id: str, user_name: str) -> str:
    backend = iam_backends[account_id][PARTITION]
    user = backend.users.get(user_name)
    path = user.path if user is not None else "/"
    return f"arn:{PARTITION}:iam::{account_id}:user{path}{user_name}"


def _device_arn(account_id: str, serial: str) -> str:
    return serial if serial.startswith("arn:") else f"arn:{PARTITION}:iam::{account_id}:mfa/{serial}"


def _json_body(body: bytes) -> dict:
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def resources_of(request: ApiRequest, caller: Caller, body: bytes, region: str) -> list[str]:
    """The ARNs a call acts on, as the service authorization reference names them ("*" for the actions without one)."""
    action, params, account = request.action or "", request.params, request.account_id
    if request.service == "iam":
        if action in USER_ACTIONS:
            user_name = params.get("UserName") or caller.arn.rpartition("/")[2]
            return [_user_arn(account, user_name)]
        if action == "CreateVirtualMFADevice":
            path = params.get("Path") or "/"
            return [f"arn:{PARTITION}:iam::{account}:mfa{path}{params.get('VirtualMFADeviceName', '')}"]
        if action in DEVICE_ACTIONS:
            return [_device_arn(account, params.get("SerialNumber", ""))]
        return ["*"]
    if request.service == "sts":
        if action == "AssumeRole":
            return [params.get("RoleArn", "*")]
        if action == "AssumeRoot":
            return [f"arn:{PARTITION}:iam::{params.get('TargetPrincipal', '')}:root"]
        return ["*"]
    fields = _json_body(body)
    if request.service == "secretsmanager":
        secret = fields.get("SecretId") or fields.get("Name")
        return [_secret_arn(secret, account, region)] if isinstance(secret, str) and secret else ["*"]
    if request.service == "ssm":
        names = fields.get("Names") or [fields.get("Name") or fields.get("Path") or fields.get("ResourceId")]
        named = [name for name in names if isinstance(name, str) and name]
        return [f"arn:{PARTITION}:ssm:{region}:{account}:parameter/{name.lstrip('/')}" for name in named] or ["*"]
    return ["*"]


def condition_values(request: ApiRequest) -> dict[str, str]:
    """The condition keys a call carries that the policies here test: sts:TaskPolicyArn of sts:AssumeRoot."""
    if request.service == "sts" and request.action == "AssumeRoot":
        return {"sts:TaskPolicyArn": request.params.get("TaskPolicyArn.arn", "")}
    return {}


def decide(policies: tuple, action: str, resource: str, conditions: dict[str, str] | None = None) -> PermissionResult:
    permitted = False
    for policy in policies:
        result = IAMPolicy(policy).is_action_permitted(action, resource, incoming_condition_values=conditions)
        if result == PermissionResult.DENIED:
            return result
        permitted = permitted or result == PermissionResult.PERMITTED
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def _trusts(request: ApiRequest, caller: Caller) -> bool:
    """Whether the trust policy of the role sts:AssumeRole names lets the caller in."""
    role_arn = request.params.get("RoleArn", "")
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    try:
        role = iam_backends[account][PARTITION].get_role_by_arn(role_arn)
    except Exception:  # pylint: disable=broad-except  # moto answers NoSuchEntity itself
        return True
    document = json.loads(role.assume_role_policy_document)
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        if statement.get("Effect") != "Allow" or "sts:AssumeRole" not in (actions if isinstance(actions, list) else [actions]):
            continue
        principals = statement.get("Principal", {})
        named = principals.get("AWS", []) if isinstance(principals, dict) else principals
        named = named if isinstance(named, list) else [named]
        if not ({"*", caller.arn, caller.account_id, f"arn:{PARTITION}:iam::{caller.account_id}:root"} & set(named)):
            continue
        external = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if external is not None and request.params.get("ExternalId") != external:
            continue
        return True
    return False


def needed_actions(request: ApiRequest) -> list[str]:
    """The IAM actions a call needs: its own, and the one its parameters add (ALSO_NEEDED)."""
    actions = [f"{request.service}:{request.action}"]
    parameter, extra = ALSO_NEEDED.get((request.service, request.action or ""), ("", ""))
    if parameter and parameter in request.params:
        actions.append(extra)
    return actions


def _secret_arn(secret: str, account: str, region: str) -> str:
    return secret if secret.startswith("arn:") else f"arn:{PARTITION}:secretsmanager:{region}:{account}:secret:{secret}"


def extra_checks(request: ApiRequest, body: bytes, region: str) -> list[tuple[str, str]]:
    """(action, resource) pairs AWS checks besides the call's own: secretsmanager:BatchGetSecretValue also needs
    secretsmanager:GetSecretValue on each secret it reads."""
    if request.service == "secretsmanager" and request.action == "BatchGetSecretValue":
        names = _json_body(body).get("SecretIdList") or []
        return [("secretsmanager:GetSecretValue", _secret_arn(name, request.account_id, region)) for name in names if isinstance(name, str)]
    return []


def authorize(request: ApiRequest, caller: Caller, body: bytes, region: str) -> list[str]:
    """The actions the call needed (for the call log); Refusal when AWS would refuse the call to the caller."""
    actions = needed_actions(request)
    checks = [(action, resource) for action in actions for resource in resources_of(request, caller, body, region)]
    checks += extra_checks(request, body, region)
    needed = list(dict.fromkeys(action for action, _resource in checks))
    if caller.policies is None or actions[0] in NO_PERMISSION_NEEDED:
        return needed
    for action, resource in checks:
        decision = decide(caller.policies, action, resource, condition_values(request))
        if decision == PermissionResult.DENIED:
            raise Refusal("AccessDenied", f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} "
                                          "with an explicit deny in an identity-based policy")
        if decision != PermissionResult.PERMITTED:
            raise Refusal("AccessDenied", f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} "
                                          f"because no identity-based policy allows the {action} action")
    if actions[0] == "sts:AssumeRole" and not _trusts(request, caller):
        raise Refusal("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
                                      f"{request.params.get('RoleArn', '')}")
    return needed


def refusal_response(request: ApiRequest, refusal: Refusal) -> Response:
    """The refusal in the call's protocol."""
    if request.protocol == "json":
        code = "AccessDeniedException" if refusal.code == "AccessDenied" else refusal.code
        return json_error(code, refusal.message, 400)
    return xml_response(request.service, str(request.action), error=(refusal.code, refusal.message))
