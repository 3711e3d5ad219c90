"""The AWS wire protocols as far as the endpoint needs them: who calls what, and how AWS answers."""
from __future__ import annotations

import base64
import functools
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import ServiceModel
from moto.iam.models import get_account_id_from
from werkzeug.wrappers import Response

REGION = "us-east-1"
# moto's test credentials: unknown to its IAM, so they act as the default account 123456789012 (its root user).
ACCESS_KEY_ID = "FOOBARKEY"
SECRET_ACCESS_KEY = "FOOBARSECRET"

_CREDENTIAL_SCOPE = re.compile(r"Credential=(?P<access_key>[^/,\s]+)/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")


@dataclass(frozen=True)
class ApiRequest:
    """One signed AWS API call, as far as the endpoint looks at it."""

    service: str
    action: str | None
    account_id: str
    access_key: str
    protocol: str
    """The wire protocol: query (form-encoded Action=..., e.g. IAM and STS), json (X-Amz-Target) or rest."""
    params: dict[str, str]
    """The query string and form fields of the call; empty for JSON protocols."""

    def as_call(self) -> dict[str, object]:
        """The entry of the call log."""
        return {"service": self.service, "action": self.action, "account_id": self.account_id}


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so that the next WSGI application can read it too."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def parse_request(environ: dict[str, Any]) -> ApiRequest | None:
    """Identify a SigV4-signed call: the service from the credential scope, the action from
    the form body (query protocol) or the X-Amz-Target header (JSON protocols), the account from
    the access key (or moto's x-moto-account-id header). None for unsigned requests."""
    scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return None
    body = read_body(environ)
    target = environ.get("HTTP_X_AMZ_TARGET")
    params: dict[str, str] = {}
    if target:
        protocol, action = "json", target.rsplit(".", 1)[-1]
    else:
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        action = params.get("Action")
        protocol = "query" if action else "rest"
    access_key = scope["access_key"]
    return ApiRequest(
        service=scope["service"].lower(),
        action=action,
        account_id=environ.get("HTTP_X_MOTO_ACCOUNT_ID") or get_account_id_from(access_key),
        access_key=access_key,
        protocol=protocol,
        params=params,
    )


class Entries(dict):
    """A map in a query-protocol response, rendered as entry/key/value elements."""


@functools.cache
def _service_model(service: str) -> ServiceModel | None:
    try:
        return botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return None


def error_status(service: str, code: str) -> int:
    """The HTTP status AWS answers an error code with, from the service's API model (default 400)."""
    model = _service_model(service)
    for shape in model.error_shapes if model else []:
        error = shape.metadata.get("error", {})
        if error.get("code", shape.name) == code:
            return error.get("httpStatusCode", 400)
    return 400


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _append(parent: ElementTree.Element, tag: str, value: object) -> None:
    """Render a value the way the query protocol does: dicts as elements, lists as members,
    Entries as entry/key/value, bytes as base64 and None as nothing at all."""
    if value is None:
        return
    element = ElementTree.SubElement(parent, tag)
    if isinstance(value, Entries):
        for key, item in value.items():
            entry = ElementTree.SubElement(element, "entry")
            _append(entry, "key", key)
            _append(entry, "value", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(element, "member", item)
    else:
        element.text = _text(value)


def xml_response(service: str, action: str, result: dict[str, object] | None = None, *, error: tuple[str, str] | None = None) -> Response:
    """A query-protocol response: `<Action>Response` with `result`, or an `ErrorResponse` for
    error=(code, message), with the HTTP status AWS uses for that code."""
    request_id = str(uuid.uuid4())
    if error is None:
        status, root_tag = 200, f"{action}Response"
        content: dict[str, object] = {f"{action}Result": result} if result is not None else {}
        content["ResponseMetadata"] = {"RequestId": request_id}
    else:
        code, message = error
        status, root_tag = error_status(service, code), "ErrorResponse"
        content = {"Error": {"Type": "Sender", "Code": code, "Message": message}, "RequestId": request_id}
    root = ElementTree.Element(root_tag)
    model = _service_model(service)
    if model and "xmlNamespace" in model.metadata:
        root.set("xmlns", model.metadata["xmlNamespace"])
    for key, value in content.items():
        _append(root, key, value)
    body = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status=status, content_type="text/xml", headers={"x-amzn-RequestId": request_id})


def json_error(code: str, message: str, status: int) -> Response:
    """A JSON-protocol error response."""
    return Response(json.dumps({"__type": code, "message": message}), status=status, content_type="application/x-amz-json-1.1")
