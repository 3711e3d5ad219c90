"""playbooks/audit.yml across a fleet: a read-only report, the same under --check."""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import botocore.session
import pyotp
import pytest

from helpers.fleet import changed_hosts
from local_aws import is_write
from test_enroll import Fleet

REPO = Path(__file__).resolve().parents[2]
STS_OPERATIONS = botocore.session.get_session().get_service_model("sts").operation_names
AUDIT = REPO / "playbooks" / "audit.yml"


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    return Fleet(fresh_aws, tmp_path, accounts=("payments", "analytics"), users=("alice", "bob", "carol"))


def run_audit(fleet, ansible, report_dir, check=False):
    result = ansible.playbook(AUDIT, inventory=fleet.inventory, check=check, extra_vars={"audit_report_dir": str(report_dir)})
    assert result.rc == 0, result.output
    # An audit changes nothing: its report on the controller is its output, not a change it makes.
    assert set(changed_hosts(result).values()) == {0}, result.recap
    return json.loads((report_dir / "mfa-audit.json").read_text(encoding="utf-8")), (report_dir / "mfa-audit.md").read_text(encoding="utf-8")


def test_audit_reports_users_kinds_root_and_what_enroll_would_do_without_writing(fleet, ansible, tmp_path):
    assert fleet.enroll(ansible, extra_vars={"enroll_users": ["alice"]}).rc == 0
    analytics = fleet.accounts["analytics"]
    # Centralised root access in the organisation (managed by the credentials the run starts from); the analytics root
    # user has an authenticator app and a passkey.
    fleet.aws.client("iam").enable_organizations_root_sessions()
    fleet.aws.set_root_mfa(True, account_id=analytics, devices=[f"arn:aws:iam::{analytics}:mfa/root", f"arn:aws:iam::{analytics}:u2f/root/pk-1"])
    # carol of analytics registered a passkey in the console (no API can).
    fleet.aws.register_passkey("carol", account_id=analytics)
    fleet.aws.reset_calls()

    report, markdown = run_audit(fleet, ansible, tmp_path / "real")
    checked, checked_markdown = run_audit(fleet, ansible, tmp_path / "check", check=True)

    assert not any(is_write(call["action"]) for call in fleet.aws.calls() if call["service"] == "iam")
    assert checked == report and checked_markdown == markdown
    accounts = {account["name"]: account for account in report["accounts"]}
    payments = accounts["payments"]
    assert payments["account_id"] == fleet.accounts["payments"]
    users = {user["user_name"]: user for user in payments["users"]}
    assert users["alice"]["mfa_active"] is True
    assert [device["kind"] for device in users["alice"]["mfa_devices"]] == ["virtual"]
    assert users["bob"]["mfa_active"] is False
    assert sorted(entry["user_name"] for entry in payments["enroll_plan"]["create"]) == ["bob", "carol"]
    assert payments["root"]["mfa_active"] is False and payments["root"]["handoff"]["steps"]
    assert accounts["analytics"]["root"]["mfa_active"] is True
    assert "| bob | **no** | - | create and enable a virtual device |" in markdown
    assert f"### Root user of {fleet.accounts['payments']}: console hand-off" in markdown
    assert f"### Root user of {fleet.accounts['analytics']}" not in markdown
    # Root sessions: one AssumeRoot (read-only task policy) and one ListMFADevices per account.
    assert accounts["analytics"]["root"]["kinds"] == ["fido", "virtual"] and accounts["payments"]["root"]["devices"] == []
    assert [call["action"] for call in fleet.aws.calls() if call["service"] == "sts"].count("AssumeRoot") == 2 * len(fleet.accounts)
    assert "| `<root_account>` | yes | fido, virtual | nothing |" in markdown
    # The hand-off a ticket carries: every kind of device, in the order of the console, with the sign-in details.
    handoffs = sorted(path.name for path in (tmp_path / "real" / "root-handoff").iterdir())
    assert handoffs == [f"{fleet.accounts['payments']}.md"]
    handoff = (tmp_path / "real" / "root-handoff" / f"{fleet.accounts['payments']}.md").read_text(encoding="utf-8")
    assert handoff.startswith(f"# Enable MFA for the root user of AWS account payments ({fleet.accounts['payments']})")
    titles = [line for line in handoff.splitlines() if line.startswith("## ")]
    assert titles == ["## 1. Passkey or security key", "## 2. Authenticator app (virtual MFA device)", "## 3. Hardware TOTP token", "## When it is done"]
    assert "MFA code 1" in handoff and "serial number" in handoff and "https://console.aws.amazon.com/" in handoff
    # Passkeys are detected: carol has MFA of the fido kind, and an enroll run leaves her alone.
    carol = next(user for user in accounts["analytics"]["users"] if user["user_name"] == "carol")
    assert carol["mfa_active"] is True and [device["kind"] for device in carol["mfa_devices"]] == ["fido"]
    assert "carol" not in [entry["user_name"] for entry in accounts["analytics"]["enroll_plan"]["create"]]
    assert "| carol | yes | fido | nothing |" in markdown

    # The person did the console steps: the next audit confirms it, and no hand-off is left for that account.
    fleet.aws.set_root_mfa(True, account_id=fleet.accounts["payments"], devices=["GAHT00000099"])
    confirmed, confirmed_markdown = run_audit(fleet, ansible, tmp_path / "real")
    payments_root = next(account for account in confirmed["accounts"] if account["name"] == "payments")["root"]
    assert payments_root["mfa_active"] is True and payments_root["kinds"] == ["hardware"]
    assert not list((tmp_path / "real" / "root-handoff").iterdir())
    assert "console hand-off" not in confirmed_markdown


@pytest.mark.contract
def test_no_seed_code_or_credential_reaches_the_vvvv_output_of_an_audit_that_reads_the_stored_seeds(fleet, ansible, tmp_path):
    assert fleet.enroll(ansible).rc == 0
    # Root sessions hand out credentials too; a botocore older than sts:AssumeRoot (the lowest one allowed) has none.
    root_sessions = "AssumeRoot" in STS_OPERATIONS
    if root_sessions:
        fleet.aws.client("iam").enable_organizations_root_sessions()
    issued_before = set(fleet.aws.issued_credentials())

    # The enroll runs' stores and vault secret, so that the audit decrypts every stored seed.
    result = fleet.enroll(ansible, playbook=AUDIT, verbosity=4, extra_vars={"audit_report_dir": str(tmp_path / "report")})
    assert result.rc == 0, result.output
    report = json.loads((tmp_path / "report" / "mfa-audit.json").read_text(encoding="utf-8"))
    assert [(account["seeds_unchecked"], account["seed_not_stored"]) for account in report["accounts"]] == [(None, [])] * len(fleet.accounts)
    assert [("devices" in account["root"]) for account in report["accounts"]] == [root_sessions] * len(fleet.accounts)

    credentials = fleet.aws.issued_credentials()
    assert set(credentials) - issued_before, "the audit opened no session"
    stored = [entry["base32_seed"] for name in fleet.accounts for entry in fleet.stored(name).values()]
    assert len(stored) == 3 * len(fleet.accounts)
    leaked = [secret for secret in fleet.aws.issued_seeds() + stored + credentials if secret in result.output]
    assert leaked == []
    assert not [seed for seed in stored if json.dumps(pyotp.TOTP(seed).now()) in result.output]


@pytest.mark.contract
def test_without_centralised_root_access_the_audit_says_why_root_devices_are_not_listed(fleet, ansible, tmp_path):
    report, markdown = run_audit(fleet, ansible, tmp_path)

    # A botocore older than sts:AssumeRoot (the lowest one requirements.txt allows) says so instead.
    why = "centralised root access must be enabled" if "AssumeRoot" in STS_OPERATIONS else "sts:AssumeRoot is unknown to botocore"
    for account in report["accounts"]:
        assert why in account["root"]["devices_unavailable"]
        assert "devices" not in account["root"]
    assert "The root user's devices were not listed: " in markdown


def test_the_number_of_tasks_does_not_grow_with_the_users(fresh_aws, ansible, tmp_path):
    (tmp_path / "small").mkdir()
    small = Fleet(fresh_aws, tmp_path / "small", accounts=("small",), users=("u1",))
    iam = small.aws.client("iam", account_id=small.accounts["small"])
    result_small = small.enroll(ansible)
    assert result_small.rc == 0, result_small.output
    for index in range(2, 13):
        iam.create_user(UserName=f"u{index}")
    result_large = small.enroll(ansible)
    assert result_large.rc == 0, result_large.output

    tasks_small = Counter(task["host"] for task in result_small.task_results)
    tasks_large = Counter(task["host"] for task in result_large.task_results)
    assert tasks_small == tasks_large
    assert all(len(iam.list_mfa_devices(UserName=f"u{index}")["MFADevices"]) == 1 for index in range(1, 13))


@pytest.mark.contract
def test_the_report_names_what_enroll_would_do_for_each_kind_of_user(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("lab",), users=("dan", "erin", "frank", "gus"))
    iam = fleet.iam("lab")
    # dan: a device left unassigned, whose seed nobody stored; erin: her device's name is taken by frank's device.
    iam.create_virtual_mfa_device(VirtualMFADeviceName="dan")
    taken = iam.create_virtual_mfa_device(VirtualMFADeviceName="erin")["VirtualMFADevice"]
    totp = pyotp.TOTP(taken["Base32StringSeed"].decode("ascii"))
    now = time.time()
    iam.enable_mfa_device(UserName="frank", SerialNumber=taken["SerialNumber"],
                          AuthenticationCode1=totp.at(now - totp.interval), AuthenticationCode2=totp.at(now))

    report, markdown = run_audit(fleet, ansible, tmp_path / "report")

    plan = report["accounts"][0]["enroll_plan"]
    assert [entry["user_name"] for entry in plan["recreate"]] == ["dan"] and [entry["user_name"] for entry in plan["conflicts"]] == ["erin"]
    assert "| dan | **no** | - | delete its unassigned device, create and enable a new one |" in markdown
    assert "| erin | **no** | - | nothing (name taken by another user's device) |" in markdown
    assert "| frank | yes | virtual | nothing |" in markdown
    assert "| gus | **no** | - | create and enable a virtual device |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[rows.index("| User | MFA | Device kinds | An enroll run would |") + 2:][:4]] == [
        "| dan", "| erin", "| frank", "| gus"]
