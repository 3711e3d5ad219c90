"""playbooks/enroll.yml and the mfa.aws.enroll role across a fleet of accounts on the strict local endpoint."""
from __future__ import annotations

import json

import pyotp
import pytest
import yaml

from helpers.fleet import REPO, USERS, Fleet, changed_hosts, enroll_play, iam_actions, service_actions
from local_aws import is_write


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    # Two accounts are enough to show that every account of the run is enrolled, each on its own.
    return Fleet(fresh_aws, tmp_path, accounts=("payments", "analytics"))


def reports(result):
    """host -> enroll_report, from the 'Record what the run did' task."""
    return {
        task["host"]: task["result"]["ansible_facts"]["enroll_report"]
        for task in result.task_results if task["task"].endswith("Record what the run did for each user")
    }


@pytest.mark.contract
def test_check_mode_predicts_the_real_run_which_converges_and_is_idempotent(fleet, ansible):
    checked = fleet.enroll(ansible, check=True)
    assert checked.rc == 0, checked.output
    assert not any(is_write(call["action"]) for call in fleet.aws.calls() if call["service"] == "iam")
    assert fleet.stored("payments") == {}

    fleet.aws.reset_calls()
    applied = fleet.enroll(ansible)
    assert applied.rc == 0, applied.output
    assert changed_hosts(applied) == changed_hosts(checked)
    assert all(changed > 0 for changed in changed_hosts(applied).values())
    predicted, done = reports(checked), reports(applied)
    for host in fleet.accounts:
        assert predicted[host]["enrolled"] == done[host]["enrolled"] == sorted(USERS)
        assert predicted[host]["check_mode"] is True and done[host]["check_mode"] is False
    fleet.assert_converged()

    again = fleet.enroll(ansible)
    assert again.rc == 0, again.output
    assert set(changed_hosts(again).values()) == {0}


def test_api_calls_are_at_the_floor(fleet, ansible):
    fresh = fleet.enroll(ansible)
    assert fresh.rc == 0, fresh.output
    per_account = len(fleet.accounts)
    calls = iam_actions(fleet.aws.calls())
    new_users = per_account * len(USERS)
    assert calls["CreateVirtualMFADevice"] == new_users
    assert calls["EnableMFADevice"] == new_users
    assert calls["ListMFADevices"] == new_users  # the one live read per new user
    assert not {action for action in calls if is_write(action)} - {"CreateVirtualMFADevice", "EnableMFADevice"}
    # Per account, whatever its size: the account summary, one listing of the users and one of the virtual devices, which
    # the create and enable steps plan from, and no credential report to wait for.
    assert calls["ListVirtualMFADevices"] == calls["ListUsers"] == calls["GetAccountSummary"] == per_account
    assert calls["GetCredentialReport"] == calls["GenerateCredentialReport"] == 0
    assert service_actions(fleet.aws.calls(), "sts")["GetCallerIdentity"] == per_account

    fleet.aws.reset_calls()
    compliant = fleet.enroll(ansible)
    assert compliant.rc == 0, compliant.output
    calls = iam_actions(fleet.aws.calls())
    assert not any(is_write(action) for action in calls)
    assert calls["ListMFADevices"] == 0
    assert sum(calls.values()) <= 5 * per_account, calls


def test_explicit_users_only_those_and_unknown_users_stop_before_any_change(fleet, ansible):
    unknown = fleet.enroll(ansible, extra_vars={"enroll_users": ["alice", "ghost"]})
    assert unknown.rc != 0
    assert "no IAM user named ghost" in unknown.output and "check enroll_users" in unknown.output
    assert not any(is_write(c["action"]) for c in fleet.aws.calls() if c["service"] == "iam")

    only = fleet.enroll(ansible, extra_vars={"enroll_users": ["alice", "bob"]})
    assert only.rc == 0, only.output
    for name in fleet.accounts:
        enabled = fleet.enabled_devices(name)
        assert [user for user, serials in enabled.items() if serials] == ["alice", "bob"]
    fleet.assert_converged(users={"alice", "bob"})


# A run stopped at each step: the role's own task files, run up to that step. The run never lets go of the account's lock:
# the next run takes it over, since the run that held it has ended.
STOPS = {
    "after create": ["plan", "create"],
    "after delivery": ["plan", "create", "deliver"],
    "before enable": ["plan", "create", "deliver"],
}


@pytest.mark.parametrize("stop", sorted(STOPS))
def test_a_run_stopped_at_any_step_converges_on_the_next(fleet, ansible, tmp_path, stop):
    steps = [{"name": f"step {step}", "ansible.builtin.include_role": {"name": "mfa.aws.enroll", "tasks_from": step}} for step in STOPS[stop]]
    if stop == "before enable":
        steps.append({"name": "read the seeds back", "ansible.builtin.include_role": {"name": "mfa.aws.enroll", "tasks_from": "enable"},
                      "vars": {"__enroll_ready_users": []}})
    play = enroll_play()
    play["roles"] = [{"role": "mfa.aws.account_session"}]
    play["tasks"] = steps
    interrupted = tmp_path / "interrupted.yml"
    interrupted.write_text(yaml.safe_dump([play]), encoding="utf-8")

    partial = fleet.enroll(ansible, playbook=interrupted)
    assert partial.rc == 0, partial.output
    leftover = fleet.unassigned_devices("payments")
    assert len(leftover) == len(USERS)
    assert bool(fleet.stored("payments")) == (stop != "after create")
    assert not any(fleet.enabled_devices("payments").values())

    fleet.aws.reset_calls()
    resumed = fleet.enroll(ansible)
    assert resumed.rc == 0, resumed.output
    fleet.assert_converged()
    calls = iam_actions(fleet.aws.calls())
    if stop == "after create":  # the seeds were never stored: those devices are useless
        assert calls["DeleteVirtualMFADevice"] == len(USERS) * len(fleet.accounts)
    else:  # stored seeds: the devices are reused, not created again
        assert calls["CreateVirtualMFADevice"] == 0 and calls["DeleteVirtualMFADevice"] == 0


def test_throttling_of_30_percent_of_iam_calls_still_converges(fleet, ansible):
    fleet.aws.throttle(0.3, seed=7)
    result = fleet.enroll(ansible)
    assert result.rc == 0, result.output
    assert any(call.get("throttled") for call in fleet.aws.calls())
    fleet.aws.throttle(0)
    fleet.assert_converged()


@pytest.mark.contract
def test_no_seed_code_or_credential_reaches_the_vvvv_output(fleet, ansible):
    result = fleet.enroll(ansible, verbosity=4)
    assert result.rc == 0, result.output
    secrets = fleet.aws.issued_seeds() + fleet.aws.issued_credentials()
    assert len(secrets) >= len(USERS) * len(fleet.accounts) + 3 * len(fleet.accounts)
    leaked = [secret for secret in secrets if secret in result.output]
    assert leaked == []
    for name in fleet.accounts:
        for user, entry in fleet.stored(name).items():
            totp = pyotp.TOTP(entry["base32_seed"])
            assert entry["base32_seed"] not in result.output, user
            assert json.dumps(totp.now()) not in result.output


@pytest.mark.parametrize(
    "case, expected",
    [
        ("unknown delivery", "enroll_delivery"),
        ("unwritable vault dir", "Not a directory; choose a path in a directory this run can write"),
        ("missing vault secret", "no vault secret to encrypt the seeds with"),
        ("role that cannot be assumed", "cannot assume arn:aws:iam::"),
        ("no delivery", "enroll_delivery is empty"),
        ("bad device name", "name must be 1 to 226 characters"),
        ("two hosts for one account", "give each AWS account one inventory host"),
    ],
)
def test_bad_input_fails_early_and_creates_nothing(fleet, ansible, tmp_path, case, expected):
    extra_vars = {}
    if case == "unknown delivery":
        extra_vars = {"enroll_delivery": ["carrier_pigeon"]}
    elif case == "unwritable vault dir":
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("", encoding="utf-8")
        extra_vars = {"enroll_vault_dir": str(blocker / "seeds")}
    elif case == "missing vault secret":
        fleet.env = {}
    elif case == "no delivery":
        extra_vars = {"enroll_delivery": []}
    elif case == "two hosts for one account":
        inventory = yaml.safe_load(fleet.inventory.read_text(encoding="utf-8"))
        inventory["aws_accounts"]["hosts"]["payments-again"] = {"aws_account_id": fleet.accounts["payments"]}
        fleet.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    elif case == "bad device name":
        extra_vars = {"enroll_device_name": "mfa {user_name}"}
    elif case == "role that cannot be assumed":
        extra_vars = {"account_session_role_arn": "arn:aws:iam::{{ account_session_account_id }}:role/NoSuchRole"}
    result = fleet.enroll(ansible, extra_vars=extra_vars)
    assert result.rc != 0
    assert expected in result.output
    # Every account fails, but for twin hosts, where only the twins' account fails.
    failed = ["payments"] if case == "two hosts for one account" else list(fleet.accounts)
    assert not any(is_write(c["action"]) for c in fleet.aws.calls() if c["service"] == "iam" and c["account_id"] in {fleet.accounts[n] for n in failed})
    for name in failed:
        assert fleet.iam(name).list_virtual_mfa_devices()["VirtualMFADevices"] == []


@pytest.mark.contract
def test_twin_hosts_are_found_when_the_first_host_of_the_play_skips_the_session(fleet, ansible, tmp_path):
    inventory = yaml.safe_load(fleet.inventory.read_text(encoding="utf-8"))
    inventory["aws_accounts"]["hosts"]["payments-again"] = {"aws_account_id": fleet.accounts["payments"]}
    fleet.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    play = enroll_play()
    # The play's first host (the inventory lists its hosts sorted) skips the role, so the run-once list is not made.
    first = sorted(inventory["aws_accounts"]["hosts"])[0]
    play["roles"] = [{"role": "mfa.aws.account_session", "when": f"inventory_hostname != '{first}'"}]
    playbook = tmp_path / "sessions.yml"
    playbook.write_text(yaml.safe_dump([play]), encoding="utf-8")

    result = fleet.enroll(ansible, playbook=playbook)
    assert result.rc != 0
    assert "payments and payments-again have the same account id" in result.output
    assert "payments-again and payments have the same account id" in result.output
    assert result.recap[first]["failed"] == 0 and result.recap["payments"]["failed"] == 1 and result.recap["payments-again"]["failed"] == 1


def test_a_refused_enable_stops_the_run_with_the_hint(fleet, ansible):
    """A stored seed that does not belong to the unassigned device it names: AWS refuses the codes."""
    serial = fleet.iam("payments").create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    fleet.seed_dir.mkdir(mode=0o700)
    fleet.write_stored("payments", {"alice": {"serial_number": serial, "base32_seed": pyotp.random_base32(), "created": "2026-01-01"}})

    result = fleet.enroll(ansible, extra_vars={"enroll_users": ["alice"], "mfa_hosts": "payments"})

    assert result.rc != 0
    assert "the two codes are not consecutive codes of this device's seed" in result.output
    assert fleet.enabled_devices("payments")["alice"] == []


@pytest.mark.contract
def test_verify_seeds_tells_a_wrong_seed_from_a_right_one(fleet, ansible):
    assert fleet.enroll(ansible, extra_vars={"mfa_hosts": "payments"}).rc == 0
    verify = REPO / "playbooks" / "verify_seeds.yml"
    extra = {"verify_vault_dir": str(fleet.seed_dir), "mfa_hosts": "payments"}

    right = ansible.playbook(verify, inventory=fleet.inventory, extra_vars=extra, env=fleet.env)
    assert right.rc == 0, right.output
    # Right after the enroll, whose enable used the current pair of codes: refused once, accepted in the next window, quietly.
    assert "[ERROR]" not in right.output and "ignoring" not in right.output
    assert "AWS accepted codes from the stored seeds of alice, bob, carol, dave, erin" in right.output
    assert right.recap["payments"]["changed"] == 0

    entries = fleet.stored("payments")
    entries["bob"]["base32_seed"] = pyotp.random_base32()
    fleet.write_stored("payments", entries)
    wrong = ansible.playbook(verify, inventory=fleet.inventory, extra_vars=extra, env=fleet.env)
    assert wrong.rc != 0
    assert "AWS refused codes from the stored seeds of bob" in wrong.output
    assert not any(seed in wrong.output for seed in fleet.aws.issued_seeds())


def test_check_diff_shows_each_accounts_plan_without_seeds_and_writes_nothing(fleet, ansible):
    assert fleet.enroll(ansible, extra_vars={"enroll_users": ["alice"]}).rc == 0
    fleet.aws.reset_calls()
    result = ansible.playbook(REPO / "playbooks" / "enroll.yml", inventory=fleet.inventory, check=True, diff=True,
                              extra_vars={"enroll_vault_dir": str(fleet.seed_dir), "enroll_delivery": ["vault_file", "ssm"]}, env=fleet.env)
    assert result.rc == 0, result.output
    assert not any(is_write(call["action"]) for call in fleet.aws.calls())
    for name, account_id in fleet.accounts.items():
        assert f"IAM users of account {account_id}" in result.output
        assert (f"+bob: a new virtual MFA device arn:aws:iam::{account_id}:mfa/bob, enabled; seed stored in vault file "
                f"{fleet.seed_dir}/{account_id}.yml, parameter /mfa-seeds/{account_id}/bob") in result.output
        assert "-bob: no MFA" in result.output
        # alice has MFA already: the same line before and after, which the diff shows as context.
        assert "\n alice: MFA\n" in result.output and "-alice" not in result.output, name
    assert not [seed for seed in fleet.aws.issued_seeds() if seed in result.output]
    # A run with nothing to do shows no plan and changes nothing.
    assert fleet.enroll(ansible).rc == 0
    again = ansible.playbook(REPO / "playbooks" / "enroll.yml", inventory=fleet.inventory, check=True, diff=True,
                             extra_vars={"enroll_vault_dir": str(fleet.seed_dir)}, env=fleet.env)
    assert again.rc == 0 and "IAM users of account" not in again.output and set(changed_hosts(again).values()) == {0}, again.output
