"""The WSGI application: a middleware in front of moto's server that records calls, injects faults,
answers the admin API and the IAM actions the endpoint overrides, and leaves the rest to moto."""
from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.wrappers import Response

from . import admin, authorization, iam, root, secrets, sts
from .protocol import ACCESS_KEY_ID, REGION, ApiRequest, json_error, parse_request, read_body, xml_response
from .state import EndpointState

THROTTLING_MESSAGE = "Rate exceeded"
# Calls whose answers hold temporary credentials, and how to find their parts in them.
CREDENTIAL_ACTIONS = {"sts:AssumeRole", "sts:AssumeRoot", "sts:GetSessionToken", "sts:GetFederationToken"}
_CREDENTIAL = re.compile(r"<(?:AccessKeyId|SecretAccessKey|SessionToken)>([^<]+)</")


def _throttling_error(request: ApiRequest) -> Response:
    """The error AWS answers a throttled call with, in the call's protocol."""
    if request.protocol == "json":
        return json_error("ThrottlingException", THROTTLING_MESSAGE, 400)
    return xml_response(request.service, str(request.action), error=("Throttling", THROTTLING_MESSAGE))


class LocalAWSApp:
    """moto's server application wrapped in the endpoint's middleware."""

    def __init__(self, state: EndpointState | None = None) -> None:
        self.state = state or EndpointState()
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(admin.PREFIX):
            response: Response | None = admin.handle(environ, self.state)
        else:
            response = self._api_call(environ)
        if response is None:
            if environ.get("local_aws.action") in CREDENTIAL_ACTIONS:
                return self._remember_credentials(environ, start_response)
            return self.moto(environ, start_response)
        return response(environ, start_response)

    def _remember_credentials(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Let moto answer, and remember the temporary credentials it hands out, for leak checks."""
        body = b"".join(self.moto(environ, start_response))
        found = _CREDENTIAL.findall(body.decode("utf-8", "replace"))
        with self.state.lock:
            self.state.issued_credentials.extend(found)
        return [body]

    def _authorize(self, request: ApiRequest, environ: dict[str, Any], call: dict[str, object]) -> Response | None:
        """Check the call against the caller's IAM policies: None lets it through; the refusal is recorded and returned."""
        try:
            caller = authorization.caller_of(request, environ.get("HTTP_X_AMZ_SECURITY_TOKEN", ""), ACCESS_KEY_ID)
            call["principal"] = caller.arn
            # What a refused call is recorded with; authorize() answers the whole list (the actions its parameters add).
            call["needed"] = authorization.needed_actions(request)
            call["needed"] = authorization.authorize(request, caller, read_body(environ), REGION)
        except authorization.Refusal as refusal:
            self.state.record({**call, "denied": True})
            return authorization.refusal_response(request, refusal)
        return None

    def _api_call(self, environ: dict[str, Any]) -> Response | None:
        """Record a signed call, then throttle it, answer it, or leave it to moto (None)."""
        request = parse_request(environ)
        if request is None:
            return None
        delay = self.state.call_delay()
        if delay:
            time.sleep(delay)  # the server is threaded: calls made at once wait at once, as AWS's do
        session = root.session_of(request, self.state)
        if session is not None:  # credentials of sts:AssumeRoot act in the member account
            request = dataclasses.replace(request, account_id=session.account_id)
        if self.state.throttled(request.service):
            self.state.record({**request.as_call(), "throttled": True})
            return _throttling_error(request)
        call = request.as_call()
        if request.action == "AssumeRoot":  # which root-task policy the session gets, for tests of check mode
            call["task_policy"] = request.params.get("TaskPolicyArn.arn", "").rpartition("/")[2]
        if self.state.enforce_iam and session is None:
            refused = self._authorize(request, environ, call)
            if refused is not None:
                return refused
        self.state.record(call)
        environ["local_aws.action"] = f"{request.service}:{request.action}"
        if request.service == "iam":
            if session is not None:
                return root.root_call(request, session, self.state)
            return root.organisation_features(request, self.state) or iam.handle(request, self.state)
        if request.service == "sts":
            if request.action == "AssumeRoot":
                return root.assume_root(request, self.state)
            return sts.handle(request)
        if request.service in secrets.SERVICES and not self.state.enforce_iam:
            # With IAM enforced, _authorize has applied every policy of the caller already, denies included.
            return secrets.handle(request, environ)
        return None
