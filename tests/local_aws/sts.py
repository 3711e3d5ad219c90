"""STS calls the endpoint checks before moto answers them: moto lets anyone assume any role, AWS does not."""
from __future__ import annotations

import re

from moto.iam.models import iam_backends
from werkzeug.wrappers import Response

from .protocol import ApiRequest, xml_response

_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::(?P<account>\d{12}):role/(?:[\x21-\x7e]*/)?(?P<name>[\w+=,.@-]+)")


def _role_exists(account_id: str, name: str) -> bool:
    return any(role.name == name for role in iam_backends[account_id]["global"].roles.values())


def assume_role(request: ApiRequest) -> Response | None:
    """AccessDenied, as AWS answers, when the role does not exist; otherwise moto answers."""
    arn = request.params.get("RoleArn", "")
    match = _ROLE_ARN.fullmatch(arn)
    if match and _role_exists(match["account"], match["name"]):
        return None
    caller = f"arn:aws:iam::{request.account_id}:user/local"
    return xml_response("sts", "AssumeRole", error=("AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}"))


HANDLERS = {"AssumeRole": assume_role}


def handle(request: ApiRequest) -> Response | None:
    """Answer an STS call the endpoint checks; None leaves it to moto."""
    handler = HANDLERS.get(str(request.action))
    return handler(request) if handler else None
