"""The admin API under /_local_aws/: JSON, no authentication, never recorded as API calls.

GET  /_local_aws/calls             the API calls so far: [{"service", "action", "account_id"[, "throttled"][, "task_policy"]}]
POST /_local_aws/calls/reset       forget them
POST /_local_aws/faults            {"throttle": {"service": "iam", "share": 0.3, "seed": 1}}; share 0 turns it off
                                   {"latency_ms": 80, "jitter_ms": 40}: every API call waits that long before its answer
                                   {"lag_seconds": 3}: a new virtual device is invisible that long (listings, enable, tags,
                                   delete), as IAM's eventual consistency makes it
POST /_local_aws/hardware-tokens   {"account_id", "serial_number", "base32_seed"}: a hardware TOTP token AWS knows
POST /_local_aws/passkeys          {"account_id", "user_name"[, "name"]}: a passkey or security key registered for an IAM
                                   user, as only a browser can; answers {"serial_number": "arn:aws:iam::...:u2f/user/..."}
GET  /_local_aws/root-mfa?account_id=  the serial numbers of the root user's MFA devices
GET  /_local_aws/issued-seeds      every base32 seed the endpoint ever issued or registered
POST /_local_aws/root-mfa          {"account_id", "enabled"[, "devices"]}: whether the root user has MFA, and which devices
                                   (serial numbers: virtual arn:...:mfa/..., passkey arn:...:u2f/..., or a hardware serial;
                                   default one virtual device), as a person enables them in the console
POST /_local_aws/iam-enforcement   {"enabled": true}: every later API call is refused unless the caller's IAM policies
                                   allow it (authorization.py); the endpoint's own key stays the account's root user
POST /_local_aws/reset             reset moto and the endpoint's state (issued seeds are kept)
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.moto_api._internal import moto_api_backend
from werkzeug.wrappers import Request, Response

from .state import EndpointState
from .totp import is_valid_seed

PREFIX = "/_local_aws/"

Body = dict[str, Any]
Handler = Callable[[EndpointState, Body], object]

ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Serve the decorated handler at METHOD /_local_aws/PATH."""
    def register(handler: Handler) -> Handler:
        ROUTES[(method, path)] = handler
        return handler
    return register


def _listing(attribute: str) -> Handler:
    """A handler that answers what the endpoint's state holds in the list `attribute`, as it is now."""
    def handler(state: EndpointState, _body: Body) -> object:
        with state.lock:
            return list(getattr(state, attribute))
    return handler


for _path, _attribute in (("calls", "calls"), ("issued-seeds", "issued_seeds"), ("issued-credentials", "issued_credentials")):
    route("GET", _path)(_listing(_attribute))


@route("POST", "calls/reset")
def _reset_calls(state: EndpointState, _body: Body) -> object:
    with state.lock:
        state.calls.clear()
    return {}


@route("POST", "faults")
def _faults(state: EndpointState, body: Body) -> object:
    if "throttle" in body:
        throttle = body["throttle"]
        share = float(throttle["share"])
        if not 0 <= share <= 1:
            raise ValueError("throttle share must be between 0 and 1")
        state.set_throttle(str(throttle.get("service", "iam")), share, int(throttle.get("seed", 0)))
    for name in ("latency_ms", "jitter_ms", "lag_seconds"):
        if name in body:
            value = float(body[name])
            if not 0 <= value <= 60_000:
                raise ValueError(f"{name} must be between 0 and 60000")
            with state.lock:
                setattr(state, name, value)
    return {}


@route("POST", "hardware-tokens")
def _hardware_token(state: EndpointState, body: Body) -> object:
    serial, seed = str(body["serial_number"]), str(body["base32_seed"])
    if serial.startswith("arn:"):
        raise ValueError("a hardware token's serial number is the vendor's serial, not an ARN")
    if not is_valid_seed(seed):
        raise ValueError("base32_seed is not base32 of at least 80 bits")
    with state.lock:
        state.hardware_tokens[(str(body.get("account_id", DEFAULT_ACCOUNT_ID)), serial)] = seed
        state.issued_seeds.append(seed)
    return {}


@route("POST", "passkeys")
def _passkey(state: EndpointState, body: Body) -> object:
    account_id, user_name = str(body.get("account_id", DEFAULT_ACCOUNT_ID)), str(body["user_name"])
    serial = f"arn:aws:iam::{account_id}:u2f/user/{user_name}/{body.get('name', 'passkey')}-{secrets.token_hex(8).upper()}"
    with state.lock:
        user = iam_backends[account_id]["global"].users.get(user_name)
        if user is None:
            raise ValueError(f"account {account_id} has no IAM user {user_name}")
        if len(user.mfa_devices) >= 8:
            raise ValueError(f"user {user_name} has 8 MFA devices already")
        # No codes: a passkey signs challenges, it has no seed.
        user.enable_mfa_device(serial, "", "")
    return {"serial_number": serial}


@route("POST", "root-mfa")
def _root_mfa(state: EndpointState, body: Body) -> object:
    account_id = str(body.get("account_id", DEFAULT_ACCOUNT_ID))
    devices = [str(serial) for serial in body.get("devices") or [f"arn:aws:iam::{account_id}:mfa/root-account-mfa-device"]]
    if len(devices) > 8:
        raise ValueError("the root user can have at most 8 MFA devices")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with state.lock:
        if body["enabled"]:
            state.root_devices[account_id] = {serial: now for serial in devices}
        else:
            state.root_devices.pop(account_id, None)
    return {}


@route("GET", "root-mfa")
def _root_devices(state: EndpointState, body: Body) -> object:
    with state.lock:
        return sorted(state.root_devices.get(str(body.get("account_id", DEFAULT_ACCOUNT_ID)), {}))


@route("POST", "credential-report")
def _credential_report(state: EndpointState, body: Body) -> object:
    with state.lock:
        state.report_max_age = float(body["max_age_seconds"])
    return {}


@route("POST", "iam-enforcement")
def _iam_enforcement(state: EndpointState, body: Body) -> object:
    with state.lock:
        state.enforce_iam = bool(body["enabled"])
    return {}


@route("POST", "reset")
def _reset(state: EndpointState, _body: Body) -> object:
    with state.lock:
        moto_api_backend.reset()
        state.reset()
    return {}


def _json(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def handle(environ: dict[str, Any], state: EndpointState) -> Response:
    """Answer one admin request."""
    request = Request(environ)
    route = ROUTES.get((request.method, request.path.removeprefix(PREFIX)))
    if route is None:
        return _json({"error": f"no admin endpoint {request.method} {request.path}"}, 404)
    try:
        body = json.loads(request.get_data() or b"{}") if request.method == "POST" else dict(request.args)
        return _json(route(state, body))
    except (KeyError, TypeError, ValueError) as error:
        return _json({"error": f"bad request: {error!r}"}, 400)
