"""LocalAWS: start the endpoint in this process or connect to a running one, and drive it."""
from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID

from .protocol import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from .server import ServerThread

__all__ = ["ACCESS_KEY_ID", "REGION", "SECRET_ACCESS_KEY", "LocalAWS"]

# Admin requests go straight to the endpoint, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalAWS:
    """A handle on one endpoint: LocalAWS().start() serves it from a thread of this process,
    LocalAWS.connect(url) drives one that runs elsewhere (e.g. `python -m local_aws`)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._server: ServerThread | None = None

    @classmethod
    def connect(cls, url: str) -> LocalAWS:
        """A handle on the endpoint already running at `url`."""
        return cls(url.strip().rstrip("/"))

    def start(self, host: str = "127.0.0.1", port: int = 0) -> LocalAWS:
        """Serve the endpoint from a daemon thread of this process (port 0: a free port)."""
        if self._url is not None:
            raise RuntimeError(f"already started or connected: {self._url}")
        self._server = ServerThread(host, port)
        self._server.start()
        self._url = self._server.url
        return self

    def stop(self) -> None:
        """Stop the endpoint started by start()."""
        if self._server is not None:
            self._server.stop()
            self._server = None
            self._url = None

    def __enter__(self) -> LocalAWS:
        return self if self._url is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint's URL, e.g. http://127.0.0.1:40123."""
        if self._url is None:
            raise RuntimeError("LocalAWS is neither started nor connected")
        return self._url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and so Ansible's AWS modules) at the endpoint.

        AWS_PROFILE and AWS_SESSION_TOKEN must be absent, not blank (botocore looks for a profile
        named ""): environ() builds a whole environment without them."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: os.environ) without any AWS_* variable, plus env."""
        base = os.environ if base is None else base
        return {**{key: value for key, value in base.items() if not key.startswith("AWS_")}, **self.env}

    def _admin(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/_local_aws/{path}",
            data=None if payload is None else json.dumps(payload).encode("utf-8"),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with _OPENER.open(request, timeout=30) as response:
            return json.load(response)

    def calls(self) -> list[dict[str, Any]]:
        """The API calls so far, in order: {"service", "action", "account_id"} (+ "throttled": True)."""
        return self._admin("GET", "calls")

    def reset_calls(self) -> None:
        """Forget the API calls so far."""
        self._admin("POST", "calls/reset")

    def throttle(self, share: float, service: str = "iam", seed: int = 0) -> None:
        """Answer a deterministic `share` (0 to 1) of the service's calls with Throttling; 0 stops it."""
        self._admin("POST", "faults", {"throttle": {"service": service, "share": share, "seed": seed}})

    def slow_down(self, latency_ms: float = 0, jitter_ms: float = 0, lag_seconds: float = 0) -> None:
        """Behave like AWS from afar: each call answers after latency_ms (plus up to jitter_ms), and a new virtual device is
        invisible for lag_seconds (eventual consistency); zeros turn both off."""
        self._admin("POST", "faults", {"latency_ms": latency_ms, "jitter_ms": jitter_ms, "lag_seconds": lag_seconds})

    def register_hardware_token(self, serial: str, seed: str, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        """Make a hardware TOTP token with this vendor serial and base32 seed known to the account."""
        self._admin("POST", "hardware-tokens", {"account_id": account_id, "serial_number": serial, "base32_seed": seed})

    def register_passkey(self, user_name: str, account_id: str = DEFAULT_ACCOUNT_ID, name: str = "passkey") -> str:
        """Register a passkey (FIDO security key) for an IAM user, as a browser does; returns its serial number."""
        return self._admin("POST", "passkeys", {"account_id": account_id, "user_name": user_name, "name": name})["serial_number"]

    def issued_seeds(self) -> list[str]:
        """Every base32 seed the endpoint ever issued or registered."""
        return self._admin("GET", "issued-seeds")

    def issued_credentials(self) -> list[str]:
        """The access key ids, secret access keys and session tokens of every temporary credential STS handed out."""
        return self._admin("GET", "issued-credentials")

    def set_root_mfa(self, enabled: bool, account_id: str = DEFAULT_ACCOUNT_ID, devices: list[str] | None = None) -> None:
        """Whether the account's root user has MFA (credential report, GetAccountSummary), as a person enables it in the
        console; `devices` are the serial numbers of its devices (default: one virtual device)."""
        self._admin("POST", "root-mfa", {"account_id": account_id, "enabled": enabled, "devices": devices})

    def root_devices(self, account_id: str = DEFAULT_ACCOUNT_ID) -> list[str]:
        """The serial numbers of the root user's MFA devices."""
        return self._admin("GET", f"root-mfa?account_id={account_id}")

    def keep_credential_reports(self, max_age_seconds: float = 4 * 3600) -> None:
        """Hand out the same credential report until it is that old, as AWS does (four hours); 0: a new one every time."""
        self._admin("POST", "credential-report", {"max_age_seconds": max_age_seconds})

    def enforce_iam(self, enabled: bool = True) -> None:
        """Refuse every later API call that the caller's IAM policies do not allow, as AWS does (the endpoint's own key,
        ACCESS_KEY_ID, acts as the account's root user and is never refused); False stops it."""
        self._admin("POST", "iam-enforcement", {"enabled": enabled})

    def reset(self) -> None:
        """Reset moto and the endpoint: no resources, no calls, no faults (issued seeds are kept)."""
        self._admin("POST", "reset")

    def client(self, service: str, account_id: str | None = None) -> Any:
        """A boto3 client for the endpoint, acting in `account_id` (default: 123456789012).

        Another account is selected with moto's x-moto-account-id header rather than by assuming a
        role: no STS call shows up in calls(), and the client keeps working across reset()."""
        client = boto3.session.Session().client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )
        if account_id is not None:
            def select_account(request: Any, **_kwargs: Any) -> None:
                request.headers["x-moto-account-id"] = account_id

            client.meta.events.register("before-sign", select_account)
        return client
