"""The root user of member accounts through root sessions (sts:AssumeRoot): mfa.aws.iam_root_mfa_info lists the root
user's MFA devices and their kinds, mfa.aws.iam_root_mfa deactivates them; both against the strict local endpoint,
which enforces the task policies and the organisation's centralised root access."""
from __future__ import annotations

import pytest

from helpers.fleet import REPO, Fleet, changed_hosts, iam_actions
from local_aws.actions import is_write

INFO = "mfa.aws.iam_root_mfa_info"
REMOVE = "mfa.aws.iam_root_mfa"
TOKEN = "GAHT00000042"


@pytest.fixture
def org(fresh_aws):
    """An organisation managed by the endpoint's default account, with centralised root access and two member accounts:
    `secured`, whose root user has an authenticator app, a passkey and a hardware token, and `bare`, whose root has no MFA."""
    organizations = fresh_aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    accounts = {}
    for name in ("secured", "bare"):
        accounts[name] = organizations.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
    iam = fresh_aws.client("iam")
    iam.enable_organizations_root_credentials_management()
    iam.enable_organizations_root_sessions()
    secured = accounts["secured"]
    devices = [f"arn:aws:iam::{secured}:mfa/root-account-mfa-device", f"arn:aws:iam::{secured}:u2f/root/passkey-1a2b3c", TOKEN]
    fresh_aws.set_root_mfa(True, account_id=secured, devices=devices)
    fresh_aws.reset_calls()
    return {"accounts": accounts, "devices": sorted(devices)}


def calls_by_action(aws):
    return [(call["service"], call["action"], call["account_id"]) for call in aws.calls()]


def test_the_audit_lists_the_root_devices_and_their_kinds_with_two_calls(fresh_aws, ansible, org):
    secured = org["accounts"]["secured"]

    run = ansible.module(INFO, {"account_id": secured}, check=True)

    assert run.rc == 0, run.output
    assert run.result["mfa_active"] is True and run.result["changed"] is False
    assert [device["serial_number"] for device in run.result["devices"]] == org["devices"]
    assert {device["serial_number"]: device["kind"] for device in run.result["devices"]} == {
        org["devices"][0]: "hardware", org["devices"][1]: "virtual", org["devices"][2]: "fido",
    }
    assert run.result["kinds"] == ["fido", "hardware", "virtual"]
    assert "handoff" not in run.result
    assert calls_by_action(fresh_aws) == [("sts", "AssumeRoot", "123456789012"), ("iam", "ListMFADevices", secured)]


def test_a_root_user_without_mfa_gets_the_console_handoff(fresh_aws, ansible, org):
    run = ansible.module(INFO, {"account_id": org["accounts"]["bare"]})

    assert run.rc == 0, run.output
    assert run.result["mfa_active"] is False and run.result["devices"] == [] and run.result["kinds"] == []
    assert "only be enabled in the AWS console" in run.result["handoff"]["reason"]
    assert any("Security credentials" in step for step in run.result["handoff"]["steps"])


@pytest.mark.parametrize(
    "setup, account, message",
    [
        ("no root sessions", "secured", "centralised root access must be enabled in the organisation"),
        (None, "management", "for a member account"),
        (None, "12345", "account_id must be the 12-digit id of a member account"),
    ],
)
def test_without_a_root_session_the_error_says_what_to_fix(fresh_aws, ansible, org, setup, account, message):
    if setup == "no root sessions":
        fresh_aws.client("iam").disable_organizations_root_sessions()
        fresh_aws.reset_calls()
    account_id = {"management": "123456789012", "12345": "12345"}.get(account) or org["accounts"][account]

    for module in (INFO, REMOVE):
        run = ansible.module(module, {"account_id": account_id})
        assert run.rc != 0
        assert message in run.result["msg"] and "\n" not in run.result["msg"]
    assert not any(is_write(call["action"]) for call in fresh_aws.calls() if call["service"] == "iam")
    assert fresh_aws.root_devices(org["accounts"]["secured"]) == org["devices"]


def test_root_devices_are_deactivated_as_check_mode_predicts_and_a_second_run_changes_nothing(fresh_aws, ansible, org):
    secured = org["accounts"]["secured"]

    check = ansible.module(REMOVE, {"account_id": secured}, check=True, diff=True)
    assert check.rc == 0, check.output
    assert check.result["changed"] is True and check.result["deactivated"] == org["devices"] and check.result["devices"] == []
    assert check.result["diff"] == {"before": {"devices": org["devices"]}, "after": {"devices": []}}
    assert "DeactivateMFADevice" not in iam_actions(fresh_aws.calls())
    assert [call.get("task_policy") for call in fresh_aws.calls() if call["action"] == "AssumeRoot"] == ["IAMAuditRootUserCredentials"]
    assert fresh_aws.root_devices(secured) == org["devices"]

    fresh_aws.reset_calls()
    apply = ansible.module(REMOVE, {"account_id": secured}, diff=True)
    assert apply.rc == 0, apply.output
    assert {key: apply.result[key] for key in ("changed", "deactivated", "devices", "diff")} == {
        key: check.result[key] for key in ("changed", "deactivated", "devices", "diff")
    }
    assert iam_actions(fresh_aws.calls())["DeactivateMFADevice"] == 3
    assert [call.get("task_policy") for call in fresh_aws.calls() if call["action"] == "AssumeRoot"] == ["IAMDeleteRootUserCredentials"]
    assert fresh_aws.root_devices(secured) == []
    assert fresh_aws.client("iam", account_id=secured).get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0

    again = ansible.module(REMOVE, {"account_id": secured})
    assert again.rc == 0 and again.result["changed"] is False and again.result["deactivated"] == []


def test_one_named_device_is_deactivated_and_an_unknown_one_changes_nothing(fresh_aws, ansible, org):
    secured = org["accounts"]["secured"]

    unknown = ansible.module(REMOVE, {"account_id": secured, "serial_numbers": [TOKEN, "GAHT99999999"]})
    assert unknown.rc != 0
    assert unknown.result["msg"].startswith(f"the root user of account {secured} has no MFA device GAHT99999999: check serial_numbers")
    assert fresh_aws.root_devices(secured) == org["devices"]

    one = ansible.module(REMOVE, {"account_id": secured, "serial_numbers": [TOKEN]})
    assert one.rc == 0 and one.result["deactivated"] == [TOKEN]
    assert fresh_aws.root_devices(secured) == [serial for serial in org["devices"] if serial != TOKEN]


def test_the_root_session_credentials_never_reach_the_output(fresh_aws, ansible, org):
    run = ansible.module(REMOVE, {"account_id": org["accounts"]["secured"]}, verbosity=4)

    assert run.rc == 0, run.output
    issued = [value for value in fresh_aws.issued_credentials() if len(value) >= 16]
    assert issued, "AssumeRoot handed out no credentials"
    assert not [value for value in issued if value in run.output]


def test_the_retire_playbook_touches_only_the_accounts_named(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, users=("alice",))
    fresh_aws.client("iam").enable_organizations_root_sessions()
    for name in ("payments", "analytics"):
        fresh_aws.set_root_mfa(True, account_id=fleet.accounts[name])
    playbook = REPO / "playbooks" / "retire_root_mfa.yml"
    named = {"retire_root_mfa_accounts": [fleet.accounts["payments"]]}

    unnamed = ansible.playbook(playbook, inventory=fleet.inventory)
    assert unnamed.rc != 0 and "name the member accounts whose root MFA devices to deactivate" in unnamed.output
    stranger = ansible.playbook(playbook, inventory=fleet.inventory, extra_vars={"retire_root_mfa_accounts": ["999999999999", fleet.accounts["payments"]]})
    assert stranger.rc != 0 and "retire_root_mfa_accounts names 999999999999, which no host of this run stands for" in stranger.output
    assert not [call for call in fresh_aws.calls() if call["action"] == "AssumeRoot"]

    check = ansible.playbook(playbook, inventory=fleet.inventory, extra_vars=named, check=True)
    assert check.rc == 0 and changed_hosts(check) == {"payments": 1, "analytics": 0, "sandbox": 0}, check.output
    assert fresh_aws.root_devices(fleet.accounts["payments"])

    apply = ansible.playbook(playbook, inventory=fleet.inventory, extra_vars=named)
    assert apply.rc == 0 and changed_hosts(apply) == {"payments": 1, "analytics": 0, "sandbox": 0}, apply.output
    assert fresh_aws.root_devices(fleet.accounts["payments"]) == []
    assert len(fresh_aws.root_devices(fleet.accounts["analytics"])) == 1

    again = ansible.playbook(playbook, inventory=fleet.inventory, extra_vars=named)
    assert again.rc == 0 and changed_hosts(again) == {"payments": 0, "analytics": 0, "sandbox": 0}
