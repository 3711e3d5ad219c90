"""The benchmark's fleet on the strict local endpoint: an organisation of member accounts with IAM users,
the check that every user ended up with exactly one MFA device, and the accounting of the API calls."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from local_aws import LocalAWS

SHOWN_PROBLEMS = 5  # problems named in a VerificationError

# IAM actions that act on one user or one MFA device: their count grows with the users of an account.
# Every other call (credential report, account summary, listings, STS) is made a fixed number of times per account.
PER_USER_ACTIONS = frozenset({
    "CreateVirtualMFADevice",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
    "EnableMFADevice",
    "GetMFADevice",
    "GetUser",
    "ListMFADevices",
    "ListMFADeviceTags",
    "ResyncMFADevice",
    "TagMFADevice",
    "UntagMFADevice",
})


class VerificationError(RuntimeError):
    """A variant left the fleet in another state than every user with exactly one MFA device."""


def account_name(index: int) -> str:
    """The inventory name of the index-th member account (1-based)."""
    return f"acct-{index:03d}"


def user_name(index: int) -> str:
    """The name of the index-th IAM user of an account (1-based)."""
    return f"user-{index:04d}"


def seed_fleet(endpoint: LocalAWS, accounts: int, users: int) -> dict[str, str]:
    """Reset the endpoint, then create an organisation with `accounts` member accounts of `users` IAM users each.

    The endpoint keeps credential reports for four hours, as AWS does. Returns inventory name -> account id;
    the call record is empty afterwards."""
    endpoint.reset()
    endpoint.keep_credential_reports()
    org = endpoint.client("organizations")
    org.create_organization(FeatureSet="ALL")
    fleet = {}
    for index in range(1, accounts + 1):
        name = account_name(index)
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        fleet[name] = status["AccountId"]
        create_users(endpoint, users, status["AccountId"])
    endpoint.reset_calls()
    return fleet


def create_users(endpoint: LocalAWS, users: int, account_id: str | None = None) -> None:
    """Create `users` IAM users in the account (default: the endpoint's default account)."""
    iam = endpoint.client("iam", account_id=account_id)
    for index in range(1, users + 1):
        iam.create_user(UserName=user_name(index))


def mfa_devices(endpoint: LocalAWS, fleet: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """(inventory name, user name) -> the serial numbers of the user's MFA devices, for every IAM user of the fleet.

    Reads through moto's account header, so no STS call is made; take calls() before calling this."""
    devices = {}
    for name, account_id in fleet.items():
        iam = endpoint.client("iam", account_id=account_id)
        for page in iam.get_paginator("list_users").paginate():
            for user in page["Users"]:
                listed = iam.list_mfa_devices(UserName=user["UserName"])["MFADevices"]
                devices[name, user["UserName"]] = [device["SerialNumber"] for device in listed]
    return devices


def fail_on(problems: list[str], what: str) -> None:
    """VerificationError naming the first problems, if there are any."""
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        if len(problems) > SHOWN_PROBLEMS:
            shown += f"; and {len(problems) - SHOWN_PROBLEMS} more"
        raise VerificationError(f"{what}: {shown}")


def verify_enrolled(endpoint: LocalAWS, fleet: dict[str, str], users: int) -> dict[tuple[str, str], str]:
    """Every IAM user of every account has exactly one MFA device: (inventory name, user name) -> its serial number;
    VerificationError otherwise."""
    devices = mfa_devices(endpoint, fleet)
    counts = Counter(name for name, _user in devices)
    problems = [f"{name}: {counts[name]} users instead of {users}" for name in fleet if counts[name] != users]
    problems += [f"{name}/{user}: {len(serials)} MFA devices" for (name, user), serials in devices.items() if len(serials) != 1]
    fail_on(problems, "not every user has exactly one MFA device")
    return {key: serials[0] for key, serials in devices.items()}


def verify_removed(endpoint: LocalAWS, fleet: dict[str, str]) -> None:
    """No IAM user of the fleet has an MFA device and no account has a virtual MFA device left: VerificationError otherwise."""
    problems = [f"{name}/{user}: {len(serials)} MFA devices" for (name, user), serials in mfa_devices(endpoint, fleet).items() if serials]
    for name, account_id in fleet.items():
        left = endpoint.client("iam", account_id=account_id).list_virtual_mfa_devices()["VirtualMFADevices"]
        problems += [f"{name}: virtual device {device['SerialNumber']} left" for device in left]
    fail_on(problems, "devices are left after the removal")


@dataclass(frozen=True)
class CallRecord:
    """The API calls of one measured run, counted by (service, action)."""

    counts: Counter[tuple[str, str]]

    @classmethod
    def of(cls, calls: list[dict[str, object]]) -> CallRecord:
        """Count the calls the endpoint recorded (throttled calls included, as AWS bills them too)."""
        return cls(Counter((str(call["service"]), str(call["action"])) for call in calls))

    @property
    def total(self) -> int:
        """Every call."""
        return sum(self.counts.values())

    @property
    def per_user(self) -> int:
        """The IAM calls on one user or one device."""
        return sum(count for (service, action), count in self.counts.items() if self.is_per_user(service, action))

    @property
    def fixed(self) -> int:
        """Every other call: the ones made a fixed number of times per account."""
        return self.total - self.per_user

    def service_total(self, service: str) -> int:
        """The calls to one service."""
        return sum(count for (name, _action), count in self.counts.items() if name == service)

    @staticmethod
    def is_per_user(service: str, action: str) -> bool:
        """Whether calls of this action grow with the users."""
        return service == "iam" and action in PER_USER_ACTIONS
