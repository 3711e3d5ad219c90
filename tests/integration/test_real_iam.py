"""IAM as it is from afar: 80 ms a call, throttling, and eventual consistency (a device just created is invisible to IAM's
other calls for a few seconds). The endpoint behaves so on request (LocalAWS.slow_down, throttle)."""
from __future__ import annotations

import time

import pyotp
import pytest
import yaml

from helpers.fleet import REPO, Fleet, changed_hosts, enroll_play
from local_aws import is_write

ROTATE = REPO / "playbooks" / "rotate.yml"


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    return Fleet(fresh_aws, tmp_path, accounts=("payments", "analytics", "sandbox"), users=("alice", "bob", "carol", "dave"))


def test_enroll_converges_at_80_ms_a_call_with_lag_and_throttling_and_runs_again_with_no_change(fleet, ansible):
    fleet.aws.slow_down(latency_ms=80, lag_seconds=3)
    fleet.aws.throttle(0.2, seed=7)
    first = fleet.enroll(ansible)
    assert first.rc == 0, first.output
    assert "IAM does not show" not in first.output and "check user_name" not in first.output
    assert any(call.get("throttled") for call in fleet.aws.calls())

    again = fleet.enroll(ansible)
    assert again.rc == 0, again.output
    assert set(changed_hosts(again).values()) == {0}
    fleet.aws.throttle(0)
    fleet.aws.slow_down()
    fleet.assert_converged()
    assert not any(seed in out for seed in fleet.aws.issued_seeds() for out in (first.output, again.output))


def test_a_run_stopped_after_delivery_is_finished_by_a_run_started_before_iam_shows_the_devices(fleet, ansible, tmp_path):
    fleet.aws.slow_down(lag_seconds=4)
    play = enroll_play()
    play["roles"] = [{"role": "mfa.aws.account_session"}]
    play["tasks"] = [{"name": f"step {step}", "ansible.builtin.include_role": {"name": "mfa.aws.enroll", "tasks_from": step}}
                     for step in ("plan", "create", "deliver")]
    stopped = tmp_path / "stopped.yml"
    stopped.write_text(yaml.safe_dump([play]), encoding="utf-8")
    assert fleet.enroll(ansible, playbook=stopped, extra_vars={"mfa_hosts": "payments"}).rc == 0
    assert fleet.iam("payments").list_virtual_mfa_devices()["VirtualMFADevices"] == []  # not visible yet

    # The listing still hides the devices: the run's creates find them taken, and their seeds stored, so it enables them.
    resumed = fleet.enroll(ansible, extra_vars={"mfa_hosts": "payments"})
    assert resumed.rc == 0, resumed.output
    assert "another run is working" not in resumed.output
    assert len(fleet.iam("payments").list_virtual_mfa_devices()["VirtualMFADevices"]) == len(fleet.users)  # no second device
    stored = fleet.stored("payments")
    for user, serials in fleet.enabled_devices("payments").items():
        assert serials == [stored[user]["serial_number"]]


def test_rotation_converges_while_iam_lags(fleet, ansible):
    assert fleet.enroll(ansible, extra_vars={"mfa_hosts": "payments"}).rc == 0
    fleet.aws.slow_down(latency_ms=50, lag_seconds=3)
    rotated = fleet.enroll(ansible, playbook=ROTATE, extra_vars={"mfa_hosts": "payments", "enroll_rotate_max_age_days": 0})
    assert rotated.rc == 0, rotated.output
    assert "rotated 4 device(s)" in rotated.output, rotated.output
    stored = fleet.stored("payments")
    for user, serials in fleet.enabled_devices("payments").items():
        assert serials == [stored[user]["serial_number"]] and serials[0].endswith(f"{user}-2")


def module_play(args):
    enable = {"name": "enable", "mfa.aws.iam_mfa_enable": args, "register": "out", "no_log": True, "ignore_errors": True}
    show = {"name": "show", "ansible.builtin.debug": {"msg": "{{ out.msg | default('ok') }}"}}
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [enable, show]}]


def test_a_device_iam_never_shows_fails_with_the_fix_and_an_unknown_user_at_once(fresh_aws, ansible):
    import json

    iam = fresh_aws.client("iam")
    iam.create_user(UserName="alice")
    fresh_aws.slow_down(lag_seconds=30)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode("ascii") if isinstance(device["Base32StringSeed"], bytes) else device["Base32StringSeed"]
    fresh_aws.reset_calls()
    args = {"user_name": "alice", "serial_number": device["SerialNumber"], "base32_seed": seed, "visibility_timeout": 2}
    started = time.monotonic()
    run = ansible.playbook(json.dumps(module_play(args)) + "\n")
    assert 2 <= time.monotonic() - started < 30
    assert f"IAM does not show MFA device {device['SerialNumber']} yet" in run.output and "run again in a minute" in run.output
    assert seed not in run.output and pyotp.TOTP(seed).now() not in run.output

    assert not [call for call in fresh_aws.calls() if is_write(call["action"]) and call["action"] != "EnableMFADevice"]

    fresh_aws.reset_calls()
    unknown = ansible.playbook(json.dumps(module_play(dict(args, user_name="mallory", visibility_timeout=30))) + "\n")
    assert "no IAM user named mallory: check user_name" in unknown.output
    # At once, not after the visibility timeout: one call tells that the user is missing (the listing of their devices).
    assert [call["action"] for call in fresh_aws.calls() if not call.get("throttled")] == ["ListMFADevices"]


def test_a_user_name_with_a_comma_is_read_from_the_credential_report_as_aws_writes_it(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("smith,john", "alice"))
    result = fleet.enroll(ansible)
    assert result.rc == 0, result.output
    assert "enrolled 2 user(s) alice, smith,john" in result.output
    fleet.assert_converged()
    assert fleet.enroll(ansible).rc == 0
