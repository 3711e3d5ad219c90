# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils._credential_report import summarize
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import audit_account
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import audit_without_report
from ansible_collections.mfa.aws.plugins.module_utils._mfa_audit import set_devices

ACCOUNT = "123456789012"
HEADER = "user,arn,user_creation_time,password_enabled,password_last_used,mfa_active,access_key_1_active"
ENABLED = datetime.datetime(2025, 1, 15, 10, 2, 11, tzinfo=datetime.timezone.utc)


def row(user, mfa_active, password_enabled="true"):
    arn = f"arn:aws:iam::{ACCOUNT}:root" if user == "<root_account>" else f"arn:aws:iam::{ACCOUNT}:user/{user}"
    return f"{user},{arn},2024-01-02T03:04:05+00:00,{password_enabled},N/A,{str(mfa_active).lower()},false"


def device(user_name, serial_number):
    return {"UserName": user_name, "SerialNumber": serial_number, "EnableDate": ENABLED}


class Pages:
    def __init__(self, devices):
        self.devices = devices

    def build_full_result(self):
        return {"MFADevices": self.devices}


class Paginator:
    def __init__(self, client):
        self.client = client

    def paginate(self, UserName):
        self.client.calls.append(("ListMFADevices", UserName))
        if UserName not in self.client.live_users:
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": f"The user with name {UserName} cannot be found."}}, "ListMFADevices")
        return Pages(self.client.devices.get(UserName, []))


class UserPages:
    def __init__(self, client):
        self.client = client

    def paginate(self):
        self.client.calls.append("ListUsers")
        return self

    def build_full_result(self):
        users = [{"UserName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "CreateDate": ENABLED} for name in self.client.live_users]
        return {"Users": users}


class VirtualPages:
    """ListVirtualMFADevices: the virtual devices enabled for the users, then the extra ones (root's, unassigned)."""

    def __init__(self, client):
        self.client = client

    def paginate(self, AssignmentStatus):
        assert AssignmentStatus == "Any"
        self.client.calls.append("ListVirtualMFADevices")
        return self

    def build_full_result(self):
        listed = [
            {"SerialNumber": entry["SerialNumber"], "EnableDate": entry["EnableDate"],
             "User": {"UserName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "CreateDate": ENABLED}}
            for name, entries in self.client.devices.items() for entry in entries if ":mfa/" in entry["SerialNumber"]
        ]
        return {"VirtualMFADevices": listed + self.client.other_virtual}


class TagPages:
    """ListMFADeviceTags: a tag naming the device."""

    def __init__(self, client):
        self.client = client
        self.serial_number = None

    def paginate(self, SerialNumber):
        self.client.calls.append(("ListMFADeviceTags", SerialNumber))
        self.serial_number = SerialNumber
        return self

    def build_full_result(self):
        return {"Tags": [{"Key": "serial", "Value": self.serial_number}]}


class IAM:
    """An IAM client of one account: a credential report, the live users, their devices and the root user's MFA."""

    def __init__(self, report_rows, live_users=None, devices=None, root_mfa=False, other_virtual=()):
        self.report = "\n".join([HEADER, row("<root_account>", root_mfa, "not_supported")] + report_rows) + "\n"
        self.live_users = live_users if live_users is not None else [r.split(",")[0] for r in report_rows]
        self.devices = devices or {}
        self.other_virtual = list(other_virtual)
        self.root_mfa = root_mfa
        self.calls = []

    def generate_credential_report(self, aws_retry=False):
        self.calls.append("GenerateCredentialReport")
        return {"State": "COMPLETE"}

    def get_credential_report(self, aws_retry=False):
        self.calls.append("GetCredentialReport")
        return {"Content": self.report.encode(), "GeneratedTime": datetime.datetime(2025, 6, 1, 9, 30, 12, tzinfo=datetime.timezone.utc)}

    def get_account_summary(self, aws_retry=False):
        self.calls.append("GetAccountSummary")
        return {"SummaryMap": {"Users": len(self.live_users), "AccountMFAEnabled": int(self.root_mfa)}}

    def get_paginator(self, operation):
        return {"list_mfa_devices": Paginator, "list_users": UserPages, "list_virtual_mfa_devices": VirtualPages,
                "list_mfa_device_tags": TagPages}[operation](self)

    def get_user(self, UserName):
        self.calls.append(("GetUser", UserName))
        return {"User": {"UserName": UserName, "Arn": f"arn:aws:iam::{ACCOUNT}:user/{UserName}", "CreateDate": ENABLED}}


def audit(client, user_names=(), details=False):
    return audit_account(client, list(user_names), details, report_timeout=60)


def test_audit_reads_the_report_and_the_account_summary_only():
    client = IAM([row("carol", False), row("alice", True), row("bob", False, "false")])
    result = audit(client)
    assert client.calls == ["GenerateCredentialReport", "GetCredentialReport", "GetAccountSummary"]
    assert result["account_id"] == ACCOUNT
    assert result["account_mfa_enabled"] is False
    assert result["report_generated_time"] == "2025-06-01T09:30:12+00:00"
    assert result["users"] == [
        {
            "user_name": "alice",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "user_creation_time": "2024-01-02T03:04:05+00:00",
            "password_enabled": True,
            "mfa_active": True,
        },
        {
            "user_name": "bob",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/bob",
            "user_creation_time": "2024-01-02T03:04:05+00:00",
            "password_enabled": False,
            "mfa_active": False,
        },
        {
            "user_name": "carol",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/carol",
            "user_creation_time": "2024-01-02T03:04:05+00:00",
            "password_enabled": True,
            "mfa_active": False,
        },
    ]
    # The counts are summarize's (its own tests check them) of these users and of the root user's MFA.
    assert result["summary"] == summarize(result["users"], root_mfa_active=False)
    assert result["summary"]["users_without_mfa_names"] == ["bob", "carol"]


def test_root_without_mfa_gets_the_handoff():
    root = audit(IAM([], root_mfa=False))["root"]
    assert root["user"] == "<root_account>"
    assert root["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["mfa_active"] is False
    assert root["password_enabled"] is None
    assert "Assign MFA device" in " ".join(root["handoff"]["steps"])


def test_root_with_mfa_has_no_handoff():
    result = audit(IAM([row("alice", True)], root_mfa=True))
    assert result["root"] == {"user": "<root_account>", "arn": f"arn:aws:iam::{ACCOUNT}:root", "mfa_active": True, "password_enabled": None}
    assert result["account_mfa_enabled"] is True
    assert result["summary"]["all_mfa_active"] is True


def test_user_names_list_the_devices_of_those_users_only():
    devices = {"alice": [device("alice", f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone")]}
    client = IAM([row("alice", True), row("bob", False)], devices=devices)
    result = audit(client, user_names=["alice", "alice"])
    assert ("ListMFADevices", "alice") in client.calls
    assert ("ListMFADevices", "bob") not in client.calls
    alice, bob = result["users"]
    assert alice["mfa_devices"] == [
        {"serial_number": f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone", "kind": "virtual", "user_name": "alice", "enable_date": "2025-01-15T10:02:11+00:00"}
    ]
    assert "mfa_devices" not in bob


def test_listed_devices_settle_mfa_active_over_an_older_report():
    devices = {"bob": [device("bob", f"arn:aws:iam::{ACCOUNT}:mfa/bob")]}
    result = audit(IAM([row("alice", True), row("bob", False)], devices=devices), user_names=["alice", "bob"])
    alice, bob = result["users"]
    assert (alice["mfa_active"], alice["mfa_devices"]) == (False, [])
    assert bob["mfa_active"] is True
    assert result["summary"]["users_without_mfa_names"] == ["alice"]
    assert result["summary"]["users_with_mfa"] == 1


def test_unknown_user_is_a_clear_error():
    client = IAM([row("alice", True)])
    with pytest.raises(AnsibleIAMError) as raised:
        audit(client, user_names=["alice", "ghost"])
    assert raised.value.message == f"no IAM user named ghost in account {ACCOUNT}: check user_names"


def test_named_user_newer_than_the_report_is_read_from_iam():
    devices = {"dave": [device("dave", "GAHT12345678")]}
    client = IAM([row("alice", True)], live_users=["alice", "dave"], devices=devices)
    result = audit(client, user_names=["dave"])
    assert ("GetUser", "dave") in client.calls
    assert result["users"][1] == {
        "user_name": "dave",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/dave",
        "user_creation_time": "2025-01-15T10:02:11+00:00",
        "password_enabled": None,
        "mfa_active": True,
        "mfa_devices": [{"serial_number": "GAHT12345678", "kind": "hardware", "user_name": "dave", "enable_date": "2025-01-15T10:02:11+00:00"}],
    }
    assert result["summary"]["users"] == 2


def test_details_list_the_devices_of_every_user_and_leave_out_deleted_users():
    devices = {
        "alice": [device("alice", f"arn:aws:iam::{ACCOUNT}:u2f/user/alice/key-ABCDEF"), device("alice", f"arn:aws:iam::{ACCOUNT}:mfa/alice")],
    }
    client = IAM([row("alice", True), row("bob", False), row("gone", False)], live_users=["alice", "bob"], devices=devices)
    result = audit(client, details=True)
    assert [call for call in client.calls if call[0] == "ListMFADevices"] == [("ListMFADevices", name) for name in ("alice", "bob", "gone")]
    assert [user["user_name"] for user in result["users"]] == ["alice", "bob"]
    alice, bob = result["users"]
    assert [(d["kind"], d["serial_number"]) for d in alice["mfa_devices"]] == [
        ("virtual", f"arn:aws:iam::{ACCOUNT}:mfa/alice"),
        ("fido", f"arn:aws:iam::{ACCOUNT}:u2f/user/alice/key-ABCDEF"),
    ]
    assert bob["mfa_devices"] == []
    assert result["summary"]["users"] == 2


def test_details_list_each_named_user_once():
    client = IAM([row("alice", True), row("bob", False)])
    audit(client, user_names=["bob"], details=True)
    assert [call for call in client.calls if call[0] == "ListMFADevices"] == [("ListMFADevices", "bob"), ("ListMFADevices", "alice")]


@pytest.mark.parametrize(
    "serial_number, kind",
    [
        (f"arn:aws:iam::{ACCOUNT}:mfa/path/phone", "virtual"),
        (f"arn:aws-us-gov:iam::{ACCOUNT}:u2f/user/alice/yubikey-XYZ", "fido"),
        ("GAHT12345678", "hardware"),
    ],
)
def test_set_devices_gives_each_device_its_kind(serial_number, kind):
    user = {"user_name": "alice", "mfa_active": False}
    set_devices(user, [device("alice", serial_number)])
    assert user["mfa_active"] is True
    assert user["mfa_devices"] == [{"serial_number": serial_number, "kind": kind, "user_name": "alice", "enable_date": "2025-01-15T10:02:11+00:00"}]


def test_details_find_users_created_after_the_report_with_one_listing():
    client = IAM([row("alice", True)], live_users=["alice", "zoe"], devices={"alice": [device("alice", f"arn:aws:iam::{ACCOUNT}:mfa/alice")]})
    result = audit(client, details=True)
    assert client.calls.count("ListUsers") == 1
    zoe = result["users"][1]
    assert (zoe["user_name"], zoe["mfa_active"], zoe["mfa_devices"], zoe["password_enabled"]) == ("zoe", False, [], None)


def kinds_fleet():
    """alice (app), bob (nothing), dave (hardware token), erin (app since the report), fay (passkey), gone (deleted since the
    report), zoe (created since the report, with an app); the root user's app and an unassigned device are listed too."""
    devices = {
        "alice": [device("alice", f"arn:aws:iam::{ACCOUNT}:mfa/alice")],
        "dave": [device("dave", "GAHT12345678")],
        "erin": [device("erin", f"arn:aws:iam::{ACCOUNT}:mfa/erin")],
        "fay": [device("fay", f"arn:aws:iam::{ACCOUNT}:u2f/user/fay/key-ABC")],
        "zoe": [device("zoe", f"arn:aws:iam::{ACCOUNT}:mfa/zoe")],
    }
    other = [
        {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device", "EnableDate": ENABLED,
         "User": {"Arn": f"arn:aws:iam::{ACCOUNT}:root", "UserId": ACCOUNT, "CreateDate": ENABLED}},
        {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/spare"},
    ]
    rows = [row("alice", True), row("bob", False), row("dave", True), row("erin", False), row("fay", True), row("gone", True)]
    return IAM(rows, live_users=["alice", "bob", "dave", "erin", "fay", "zoe"], devices=devices, other_virtual=other)


def test_device_kinds_name_the_virtual_devices_from_one_listing_and_list_only_users_with_mfa_of_another_kind():
    client = kinds_fleet()
    result = audit_account(client, [], False, report_timeout=60, device_kinds=True)
    assert client.calls.count("ListVirtualMFADevices") == 1 and "ListUsers" not in client.calls
    assert sorted(call[1] for call in client.calls if call[0] == "ListMFADevices") == ["dave", "fay", "gone"]
    users = {user["user_name"]: user for user in result["users"]}
    assert sorted(users) == ["alice", "bob", "dave", "erin", "fay", "zoe"]
    kinds = {name: [d["kind"] for d in user.get("mfa_devices", [])] for name, user in users.items()}
    assert kinds == {"alice": ["virtual"], "bob": [], "dave": ["hardware"], "erin": ["virtual"], "fay": ["fido"], "zoe": ["virtual"]}
    assert "mfa_devices" not in users["bob"] and users["bob"]["mfa_active"] is False
    # The listing is current where the report may be four hours old.
    assert users["erin"]["mfa_active"] is True
    assert (users["zoe"]["mfa_active"], users["zoe"]["password_enabled"]) == (True, None)
    assert users["alice"]["mfa_devices"] == [
        {"serial_number": f"arn:aws:iam::{ACCOUNT}:mfa/alice", "kind": "virtual", "user_name": "alice", "enable_date": "2025-01-15T10:02:11+00:00"}
    ]
    assert result["summary"]["users_without_mfa_names"] == ["bob"]
    assert "virtual_mfa_devices" not in result


def test_device_kinds_and_virtual_devices_share_one_listing():
    client = kinds_fleet()
    result = audit_account(client, [], False, report_timeout=60, device_kinds=True, virtual_devices=True)
    assert client.calls.count("ListVirtualMFADevices") == 1
    assert len(result["virtual_mfa_devices"]) == 5
    # AWS's listing has no tags: they are read for the unassigned device only (whose run may still be working on it).
    spare = f"arn:aws:iam::{ACCOUNT}:mfa/spare"
    assert [call for call in client.calls if call[0] == "ListMFADeviceTags"] == [("ListMFADeviceTags", spare)]
    assert {device["serial_number"]: device["tags"] for device in result["virtual_mfa_devices"]}[spare] == {"serial": spare}
    assert [device["tags"] for device in result["virtual_mfa_devices"] if device["serial_number"] != spare] == [None] * 4


def test_details_take_precedence_over_device_kinds():
    client = kinds_fleet()
    result = audit_account(client, [], True, report_timeout=60, device_kinds=True)
    assert "ListVirtualMFADevices" not in client.calls
    assert sorted(call[1] for call in client.calls if call[0] == "ListMFADevices") == ["alice", "bob", "dave", "erin", "fay", "gone", "zoe"]
    assert [user["user_name"] for user in result["users"] if user["mfa_devices"] == []] == ["bob"]


class STS:
    """sts:GetCallerIdentity of credentials in the account (of an assumed role, in the partition given)."""

    def __init__(self, partition="aws"):
        self.partition = partition
        self.calls = []

    def get_caller_identity(self, aws_retry=False):
        self.calls.append("GetCallerIdentity")
        return {"Account": ACCOUNT, "Arn": f"arn:{self.partition}:sts::{ACCOUNT}:assumed-role/mfa-aws-enroll/run", "UserId": "AROAEXAMPLE:run"}


def without_report(client, sts=None, user_names=(), **options):
    return audit_without_report(client, sts or STS(), list(user_names), options.pop("details", False), **options)


def test_without_the_report_every_user_is_read_from_the_listings_and_no_report_is_generated():
    devices = {"bob": [device("bob", f"arn:aws:iam::{ACCOUNT}:mfa/bob")], "carol": [device("carol", "GAHT12345678")]}
    client = IAM([], live_users=["alice", "bob", "carol"], devices=devices)
    sts = STS()
    result = without_report(client, sts, confirm_without_mfa=True, virtual_devices=True, concurrency=4)
    assert not {"GenerateCredentialReport", "GetCredentialReport"} & {call for call in client.calls if isinstance(call, str)}
    assert sts.calls == ["GetCallerIdentity"]
    # bob's virtual device is in the account's listing: only the others are listed, carol's hardware token found so.
    assert sorted(call[1] for call in client.calls if isinstance(call, tuple) and call[0] == "ListMFADevices") == ["alice", "carol"]
    users = {user["user_name"]: user for user in result["users"]}
    assert {name: user["mfa_active"] for name, user in users.items()} == {"alice": False, "bob": True, "carol": True}
    assert users["carol"]["mfa_devices"][0]["kind"] == "hardware" and users["alice"]["password_enabled"] is None
    assert result["account_id"] == ACCOUNT and result["report_generated_time"] is None
    assert result["root"]["arn"] == f"arn:aws:iam::{ACCOUNT}:root" and result["root"]["password_enabled"] is None
    assert result["root"]["handoff"] and result["summary"]["users_without_mfa_names"] == ["alice"]
    assert [entry["user_name"] for entry in result["virtual_mfa_devices"]] == ["bob"]


def test_without_the_report_named_users_alone_are_read_and_the_root_arn_keeps_the_partition():
    client = IAM([], live_users=["alice", "bob"], root_mfa=True)
    result = without_report(client, STS("aws-cn"), user_names=["alice"], virtual_devices=True)
    assert [user["user_name"] for user in result["users"]] == ["alice"]
    assert [call for call in client.calls if isinstance(call, tuple)] == [("ListMFADevices", "alice")]
    assert result["root"] == {"user": "<root_account>", "arn": f"arn:aws-cn:iam::{ACCOUNT}:root", "mfa_active": True, "password_enabled": None}


def test_without_the_report_an_unknown_named_user_is_a_clear_error_or_left_out():
    client = IAM([], live_users=["alice"])
    with pytest.raises(AnsibleIAMError, match=f"no IAM user named mallory in account {ACCOUNT}: check user_names"):
        without_report(client, user_names=["alice", "mallory"], virtual_devices=True)
    result = without_report(IAM([], live_users=["alice"]), user_names=["alice", "mallory"], virtual_devices=True, skip_unknown_users=True)
    assert result["unknown_users"] == ["mallory"] and [user["user_name"] for user in result["users"]] == ["alice"]


def test_without_the_report_a_named_user_newer_than_the_user_listing_is_read_from_iam():
    client = IAM([], live_users=["alice"])
    original = client.get_paginator

    def later_user(operation):
        pages = original(operation)
        if operation == "list_users":
            client.live_users = ["alice"]
            pages.build_full_result = lambda: {"Users": []}  # dave is created after ListUsers answered
            client.live_users.append("dave")
        return pages

    client.get_paginator = later_user
    result = without_report(client, user_names=["dave"], virtual_devices=True)
    assert [user["user_name"] for user in result["users"]] == ["dave"] and ("GetUser", "dave") in client.calls
