"""What the endpoint keeps beside moto's backends: the call log, faults, and the IAM state moto lacks."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

DeviceKey = tuple[str, str]
"""(account id, device serial number)."""


@dataclass(frozen=True)
class RootSession:
    """Temporary credentials sts:AssumeRoot handed out: the member account's root user, scoped by a task policy."""

    account_id: str
    task_policy: str
    """The name of the root-task policy, e.g. IAMAuditRootUserCredentials."""
    expires: datetime


@dataclass
class Throttle:
    """Answer a deterministic share of one service's calls with a throttling error."""

    share: float
    rng: random.Random

    def hits(self) -> bool:
        """Draw whether the next call is throttled."""
        return self.rng.random() < self.share


@dataclass
class EndpointState:
    """The endpoint's own state. `lock` guards every read and write of it."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    calls: list[dict[str, object]] = field(default_factory=list)
    throttles: dict[str, Throttle] = field(default_factory=dict)
    # Seeds ever handed out (virtual devices) or registered (hardware tokens); never cleared.
    issued_seeds: list[str] = field(default_factory=list)
    # Access key ids, secret keys and session tokens of the temporary credentials STS handed out; never cleared.
    issued_credentials: list[str] = field(default_factory=list)
    hardware_tokens: dict[DeviceKey, str] = field(default_factory=dict)
    used_code_pairs: dict[DeviceKey, set[tuple[str, str]]] = field(default_factory=dict)
    device_tags: dict[DeviceKey, dict[str, str]] = field(default_factory=dict)
    # The MFA devices of each account's root user, which only the console can enable: {account id: {serial: enable date}}.
    root_devices: dict[str, dict[str, datetime]] = field(default_factory=dict)
    # Centralised root access (IAM's organisation features) of each organisation, by its management account id.
    root_features: dict[str, set[str]] = field(default_factory=dict)
    # The sessions sts:AssumeRoot opened, by access key id.
    root_sessions: dict[str, RootSession] = field(default_factory=dict)
    # Credential reports by account: (when generated, CSV content). AWS hands out the same report
    # until it is four hours old; report_max_age is how old a report may get here (0: always new).
    reports: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    report_max_age: float = 0.0
    # Real AWS: every call takes latency_ms (plus up to jitter_ms) to answer; a virtual device is invisible to the calls
    # that name or list it for lag_seconds after it is created (IAM's eventual consistency), though its name is taken.
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    lag_seconds: float = 0.0
    # When each virtual device created during a lag becomes visible (time.monotonic()).
    device_visible_at: dict[DeviceKey, float] = field(default_factory=dict)
    _latency_rng: random.Random = field(default_factory=lambda: random.Random(0))
    # Whether the callers' IAM policies are enforced on every API call (authorization.py), as AWS does.
    enforce_iam: bool = False

    def call_delay(self) -> float:
        """How many seconds the next call waits before it is answered."""
        with self.lock:
            if not self.latency_ms and not self.jitter_ms:
                return 0.0
            return (self.latency_ms + self._latency_rng.uniform(0, self.jitter_ms)) / 1000

    def created(self, key: DeviceKey) -> None:
        """A virtual device was created: with a lag set now, the other calls see it only once the lag has passed."""
        with self.lock:
            if self.lag_seconds:
                self.device_visible_at[key] = time.monotonic() + self.lag_seconds

    def lagging(self, key: DeviceKey) -> bool:
        """Whether the device was created too recently for the other calls to see it."""
        with self.lock:
            visible_at = self.device_visible_at.get(key)
            return visible_at is not None and time.monotonic() < visible_at

    def root_mfa_enabled(self, account_id: str) -> bool:
        """Whether the account's root user has an MFA device."""
        with self.lock:
            return bool(self.root_devices.get(account_id))

    def record(self, call: dict[str, object]) -> None:
        """Append one API call to the log."""
        with self.lock:
            self.calls.append(call)

    def set_throttle(self, service: str, share: float, seed: int) -> None:
        """Throttle `share` (0 to 1) of the calls to `service`; 0 turns throttling off."""
        with self.lock:
            if share > 0:
                self.throttles[service] = Throttle(share, random.Random(seed))
            else:
                self.throttles.pop(service, None)

    def throttled(self, service: str) -> bool:
        """Whether the current call to `service` is to be throttled."""
        with self.lock:
            throttle = self.throttles.get(service)
            return throttle is not None and throttle.hits()

    def reset(self) -> None:
        """Forget everything but the issued seeds, which leak checks want to know about forever."""
        with self.lock:
            self.calls.clear()
            self.throttles.clear()
            self.hardware_tokens.clear()
            self.used_code_pairs.clear()
            self.device_tags.clear()
            self.root_devices.clear()
            self.root_features.clear()
            self.root_sessions.clear()
            self.reports.clear()
            self.report_max_age = 0.0
            self.latency_ms = self.jitter_ms = self.lag_seconds = 0.0
            self.device_visible_at.clear()
            self.enforce_iam = False
