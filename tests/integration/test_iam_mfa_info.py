"""mfa.aws.iam_mfa_info against the strict local endpoint: the audit of one account."""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest

from local_aws import is_write

MODULE = "mfa.aws.iam_mfa_info"
ACCOUNT = "123456789012"
READS = {"GenerateCredentialReport", "GetCredentialReport", "GetAccountSummary", "ListMFADevices", "ListUsers"}


def consecutive_codes(seed):
    """code(w - 1), code(w): the pair EnableMFADevice accepts."""
    totp = pyotp.TOTP(seed)
    now = time.time()
    return totp.at(now - totp.interval), totp.at(now)


def enable_virtual(iam, user_name):
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user_name)["VirtualMFADevice"]
    code_1, code_2 = consecutive_codes(device["Base32StringSeed"].decode("ascii"))
    iam.enable_mfa_device(UserName=user_name, SerialNumber=device["SerialNumber"], AuthenticationCode1=code_1, AuthenticationCode2=code_2)
    return device["SerialNumber"]


def enable_hardware(aws, iam, user_name, serial_number):
    seed = pyotp.random_base32()
    aws.register_hardware_token(serial_number, seed)
    code_1, code_2 = consecutive_codes(seed)
    iam.enable_mfa_device(UserName=user_name, SerialNumber=serial_number, AuthenticationCode1=code_1, AuthenticationCode2=code_2)
    return serial_number


@pytest.fixture(name="team")
def fixture_team(fresh_aws):
    """alice (authenticator app), bob (no MFA, console password), carol (no MFA), dave (hardware token)."""
    iam = fresh_aws.client("iam")
    for name in ("alice", "bob", "carol", "dave"):
        iam.create_user(UserName=name)
    iam.create_login_profile(UserName="bob", Password="Correct-Horse-9-Battery")
    devices = {
        "alice": enable_virtual(iam, "alice"),
        "dave": enable_hardware(fresh_aws, iam, "dave", "GAHT12345678"),
    }
    fresh_aws.reset_calls()
    return devices


def actions(aws):
    return [call["action"] for call in aws.calls() if not call.get("throttled")]


def audit(ansible, check=False, **args):
    result = ansible.module(MODULE, args, check=check)
    assert result.rc == 0, result.output
    assert result.result["changed"] is False
    return result.result


@pytest.mark.contract
def test_audit_reports_who_has_mfa(fresh_aws, ansible, team):
    result = audit(ansible)
    assert result["account_id"] == ACCOUNT
    assert [(user["user_name"], user["mfa_active"], user["password_enabled"]) for user in result["users"]] == [
        ("alice", True, False),
        ("bob", False, True),
        ("carol", False, False),
        ("dave", True, False),
    ]
    alice = result["users"][0]
    assert alice["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert alice["user_creation_time"].startswith(time.strftime("%Y-", time.gmtime()))
    assert not any("mfa_devices" in user for user in result["users"])
    assert result["summary"] == {
        "users": 4,
        "users_with_mfa": 2,
        "users_without_mfa": 2,
        "users_without_mfa_names": ["bob", "carol"],
        "root_mfa_active": False,
        "all_mfa_active": False,
    }
    assert sorted(set(actions(fresh_aws))) == ["GenerateCredentialReport", "GetAccountSummary", "GetCredentialReport"]


def test_root_mfa_follows_the_account(fresh_aws, ansible):
    before = audit(ansible)
    assert before["root"]["user"] == "<root_account>"
    assert before["root"]["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert (before["root"]["mfa_active"], before["account_mfa_enabled"], before["summary"]["root_mfa_active"]) == (False, False, False)
    assert "Assign MFA device" in " ".join(before["root"]["handoff"]["steps"])
    assert before["users"] == []
    assert before["summary"]["users"] == 0

    fresh_aws.set_root_mfa(True)
    after = audit(ansible)
    assert (after["root"]["mfa_active"], after["account_mfa_enabled"], after["summary"]["root_mfa_active"]) == (True, True, True)
    assert "handoff" not in after["root"]
    assert after["summary"]["all_mfa_active"] is True


def test_details_list_every_device_with_its_kind(fresh_aws, ansible, team):
    result = audit(ansible, details=True)
    devices = {user["user_name"]: user["mfa_devices"] for user in result["users"]}
    assert devices["bob"] == devices["carol"] == []
    (alice,) = devices["alice"]
    assert (alice["serial_number"], alice["kind"], alice["user_name"]) == (team["alice"], "virtual", "alice")
    assert alice["enable_date"].startswith(time.strftime("%Y-", time.gmtime()))
    (dave,) = devices["dave"]
    assert (dave["serial_number"], dave["kind"], dave["user_name"]) == ("GAHT12345678", "hardware", "dave")
    assert Counter(actions(fresh_aws))["ListMFADevices"] == 4


def test_user_names_limit_the_listing(fresh_aws, ansible, team):
    result = audit(ansible, user_names=["alice", "carol"])
    listed = {user["user_name"]: user.get("mfa_devices") for user in result["users"]}
    assert [device["serial_number"] for device in listed["alice"]] == [team["alice"]]
    assert listed["carol"] == []
    assert listed["bob"] is None and listed["dave"] is None
    assert Counter(actions(fresh_aws))["ListMFADevices"] == 2


def test_unknown_user_is_a_clear_error(fresh_aws, ansible, team):
    result = ansible.module(MODULE, {"user_names": ["alice", "ghost"]})
    assert result.rc != 0
    assert [task["status"] for task in result.task_results] == ["failed"]
    assert result.result["msg"] == f"no IAM user named ghost in account {ACCOUNT}: check user_names"


def test_check_mode_gives_the_same_result_without_writing(fresh_aws, ansible, team):
    fresh_aws.set_root_mfa(True)
    normal = audit(ansible, details=True)
    checked = audit(ansible, check=True, details=True)
    keys = ("account_id", "account_mfa_enabled", "root", "users", "summary")
    assert {key: checked[key] for key in keys} == {key: normal[key] for key in keys}
    recorded = actions(fresh_aws)
    assert set(recorded) <= READS
    assert not [action for action in recorded if is_write(action)]


def test_thousand_users_are_audited_in_four_calls(fresh_aws, ansible):
    iam = fresh_aws.client("iam")
    names = [f"user-{index:04d}" for index in range(1000)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda name: iam.create_user(UserName=name), names))
    for name in names[:3]:
        enable_virtual(iam, name)
    fresh_aws.reset_calls()

    result = audit(ansible)
    calls = fresh_aws.calls()
    assert len(calls) <= 4, calls
    assert {call["service"] for call in calls} == {"iam"}
    assert Counter(call["action"] for call in calls)["GetCredentialReport"] == 1
    assert [user["user_name"] for user in result["users"]] == names
    assert result["summary"]["users"] == 1000
    assert result["summary"]["users_with_mfa"] == 3
    assert result["summary"]["users_without_mfa_names"] == names[3:]

    # The kind of everyone's MFA costs one listing more: the three have authenticator apps.
    fresh_aws.reset_calls()
    kinds = audit(ansible, device_kinds=True)
    assert Counter(call["action"] for call in fresh_aws.calls()) == Counter(
        {"GenerateCredentialReport": 1, "GetCredentialReport": 1, "GetAccountSummary": 1, "ListVirtualMFADevices": 1})
    assert [(user["user_name"], [device["kind"] for device in user["mfa_devices"]]) for user in kinds["users"] if "mfa_devices" in user] == [
        (name, ["virtual"]) for name in names[:3]]


def test_device_kinds_list_the_devices_only_of_users_with_mfa_of_another_kind(fresh_aws, ansible, team):
    fresh_aws.register_passkey("carol")
    result = audit(ansible, device_kinds=True)
    devices = {user["user_name"]: [(device["kind"], device["serial_number"]) for device in user.get("mfa_devices", [])] for user in result["users"]}
    assert devices["alice"] == [("virtual", team["alice"])] and devices["dave"] == [("hardware", "GAHT12345678")] and devices["bob"] == []
    assert [kind for kind, _serial in devices["carol"]] == ["fido"]
    # Only carol's and dave's devices are listed: alice's app is in the virtual devices' listing, bob has no MFA.
    assert Counter(actions(fresh_aws))["ListMFADevices"] == 2 and Counter(actions(fresh_aws))["ListVirtualMFADevices"] == 1
    assert result["summary"]["users_without_mfa_names"] == ["bob"]


def test_throttling_of_30_percent_of_calls_is_retried(fresh_aws, ansible, team):
    fresh_aws.throttle(0.3, service="iam", seed=7)
    result = audit(ansible, details=True)
    assert any(call.get("throttled") for call in fresh_aws.calls())
    assert [(user["user_name"], user["mfa_active"], len(user["mfa_devices"])) for user in result["users"]] == [
        ("alice", True, 1),
        ("bob", False, 0),
        ("carol", False, 0),
        ("dave", True, 1),
    ]
    assert result["summary"]["users_without_mfa_names"] == ["bob", "carol"]


def test_confirm_without_mfa_lists_the_users_no_enabled_virtual_device_covers(fresh_aws, ansible, team):
    iam = fresh_aws.client("iam")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare", Path="/pool/", Tags=[{"Key": "mfa.aws/run", "Value": "ctl:1:1"}])
    fresh_aws.reset_calls()

    result = audit(ansible, confirm_without_mfa=True, virtual_devices=True)

    listed = Counter(call["action"] for call in fresh_aws.calls())
    assert listed["ListMFADevices"] == 3  # bob, carol and dave (a hardware token), not alice (an enabled virtual device)
    assert listed["ListVirtualMFADevices"] == 1
    assert listed["ListMFADeviceTags"] == 1  # the unassigned device's only
    assert {user["user_name"] for user in result["users"] if "mfa_devices" in user} == {"bob", "carol", "dave"}
    assert [user["user_name"] for user in result["users"] if user["mfa_active"]] == ["alice", "dave"]
    assert result["virtual_mfa_devices"] == [
        {"serial_number": team["alice"], "path": "/", "name": "alice", "user_name": "alice",
         "enable_date": result["virtual_mfa_devices"][0]["enable_date"], "tags": None},
        {"serial_number": f"arn:aws:iam::{ACCOUNT}:mfa/pool/spare", "path": "/pool/", "name": "spare", "user_name": None, "enable_date": None,
         "tags": {"mfa.aws/run": "ctl:1:1"}},
    ]
    assert result["virtual_mfa_devices"][0]["enable_date"]
    assert not any(is_write(action) for action in listed)


def test_confirm_without_mfa_sees_a_device_enabled_after_the_report(fresh_aws, ansible, team):
    assert team
    fresh_aws.keep_credential_reports()  # as AWS does, for four hours
    audit(ansible)
    enable_virtual(fresh_aws.client("iam"), "carol")

    stale = audit(ansible)
    confirmed = audit(ansible, confirm_without_mfa=True)

    assert next(u for u in stale["users"] if u["user_name"] == "carol")["mfa_active"] is False
    assert next(u for u in confirmed["users"] if u["user_name"] == "carol")["mfa_active"] is True
    assert confirmed["summary"]["users_without_mfa_names"] == ["bob"]


def test_confirm_without_mfa_finds_users_created_after_the_report(fresh_aws, ansible, team):
    assert team
    fresh_aws.keep_credential_reports()
    audit(ansible)
    fresh_aws.client("iam").create_user(UserName="zoe")

    stale = audit(ansible)
    confirmed = audit(ansible, confirm_without_mfa=True)

    assert "zoe" not in [user["user_name"] for user in stale["users"]]
    zoe = next(user for user in confirmed["users"] if user["user_name"] == "zoe")
    assert zoe["mfa_active"] is False and zoe["mfa_devices"] == [] and zoe["password_enabled"] is None
    assert confirmed["summary"]["users_without_mfa_names"] == ["bob", "carol", "zoe"]
