"""Several runs at once on one account (a schedule beside a person, two AWX job templates, a retry started while the
first run still runs): every seed is delivered, and a run that has to wait, or give up, says so.

Each run is an ansible-playbook process; the trials are repeated, since races show in some runs only."""
from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest

from helpers.ansible_runner import collections_path
from helpers.fleet import REPO, Fleet, changed_hosts
from local_aws import is_write

sys.path.insert(0, collections_path(REPO))
# pylint: disable-next=wrong-import-position
from ansible_collections.mfa.aws.plugins.plugin_utils import _account_lock  # noqa: E402

ROTATE = REPO / "playbooks" / "rotate.yml"
VERIFY = REPO / "playbooks" / "verify_seeds.yml"
AUDIT = REPO / "playbooks" / "audit.yml"
RUNS = 8
TRIALS = 3
BUSY = "another run is working on account"
# Messages that name a wrong cause for contention.
WRONG_CAUSES = ("check the device clock", "does not read back as written", "InvalidAuthenticationCode")


@pytest.fixture(name="crowd")
def fixture_crowd(fresh_aws, tmp_path):
    """One account whose eight users are each enrolled by a run of their own."""
    return Fleet(fresh_aws, tmp_path, accounts=("payments",), users=tuple(f"user{index}" for index in range(RUNS)))


def writes(fleet):
    return [call["action"] for call in fleet.aws.calls() if call["service"] == "iam" and is_write(call["action"])]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_runs_started_together_on_one_account_deliver_every_seed(crowd, ansible, trial):  # pylint: disable=unused-argument
    users = crowd.users
    with ThreadPoolExecutor(len(users)) as pool:
        results = dict(zip(users, pool.map(lambda user: crowd.enroll(ansible, extra_vars={"enroll_users": [user]}), users)))

    stored = crowd.stored("payments")
    enabled = crowd.enabled_devices("payments")
    for user, result in results.items():
        assert not any(cause in result.output for cause in WRONG_CAUSES), result.output
        if result.rc == 0:
            # A run that reports success has delivered its seed, and its user's device is the one whose seed it stored.
            assert f"enrolled 1 user(s) {user}" in result.output, result.output
            assert enabled[user] == [stored[user]["serial_number"]]
            assert stored[user]["base32_seed"] == crowd.issued_seed("payments", enabled[user][0])
        else:
            # Only the lock may stop a run, which then changed nothing of its user.
            assert BUSY in result.output, result.output
            assert enabled[user] == [] and user not in stored

    for user, result in results.items():
        if result.rc != 0:
            again = crowd.enroll(ansible, extra_vars={"enroll_users": [user]})
            assert again.rc == 0, again.output
    crowd.assert_converged()
    seeds = crowd.aws.issued_seeds()
    assert not any(seed in result.output for seed in seeds for result in results.values())


def test_the_lock_is_per_account_and_a_run_that_cannot_get_it_changes_nothing(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments", "analytics"), users=("alice", "bob"))
    lock = fleet.lock_file("payments")
    # Another run holds the lock of payments: this test process, which lives on.
    holder = _account_lock.this_run(pid=os.getpid())
    _account_lock.acquire(str(lock), fleet.accounts["payments"], holder, timeout=0)
    assert lock.stat().st_mode & 0o777 == 0o600

    blocked = fleet.enroll(ansible, extra_vars={"enroll_lock_timeout": 2})
    assert blocked.rc != 0
    assert changed_hosts(blocked)["payments"] == 0 and changed_hosts(blocked)["analytics"] > 0
    assert (f"{BUSY} {fleet.accounts['payments']} (lock {lock}, held by process {os.getpid()} on {socket.gethostname()} since "
            in blocked.output), blocked.output
    assert "wait for it or run later" in blocked.output
    # The other account was enrolled meanwhile; nothing of payments was touched.
    assert blocked.recap["analytics"]["failed"] == 0 and blocked.recap["payments"]["failed"] == 1
    assert all(fleet.enabled_devices("analytics").values())
    assert not any(fleet.enabled_devices("payments").values()) and fleet.unassigned_devices("payments") == []

    assert _account_lock.release(str(lock), holder)
    fleet.aws.reset_calls()
    resumed = fleet.enroll(ansible)
    assert resumed.rc == 0, resumed.output
    fleet.assert_converged()
    assert lock.read_text(encoding="utf-8") == ""


def test_a_run_killed_while_it_holds_the_lock_does_not_hold_up_the_next(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice", "bob", "carol"))
    lock = fleet.lock_file("payments")
    process = fleet.start_enroll(ansible)
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text(encoding="utf-8").strip()):
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read() if process.stdout else ""
        time.sleep(0.05)
    lease = json.loads(lock.read_text(encoding="utf-8"))
    assert lease["pid"] == process.pid and lease["account"] == fleet.accounts["payments"]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()

    started = time.monotonic()
    resumed = fleet.enroll(ansible, extra_vars={"enroll_lock_timeout": 60}, verbosity=3)
    assert resumed.rc == 0, resumed.output
    # Taken over at once, not after the wait: the run that held the lock has ended.
    assert time.monotonic() - started < 60
    assert f"took over the lock of account {fleet.accounts['payments']}, held by process {process.pid}" in resumed.output
    fleet.assert_converged()


def claim(run, age_seconds=0):
    created = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=age_seconds)
    return [{"Key": "mfa.aws/run", "Value": run}, {"Key": "mfa.aws/created", "Value": created.replace(microsecond=0).isoformat()},
            {"Key": "managed-by", "Value": "mfa.aws"}]


def test_a_device_that_another_live_run_created_is_left_to_it(fresh_aws, ansible, tmp_path):
    """Controllers that share no disk (AWX execution nodes): the tag of a new device keeps another run from deleting it."""
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice", "bob"))
    iam = fleet.iam("payments")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice", Tags=claim("awx-node-2:4242:99"))["VirtualMFADevice"]["SerialNumber"]
    fleet.aws.reset_calls()

    blocked = fleet.enroll(ansible)
    assert blocked.rc != 0
    assert (f"{BUSY} {fleet.accounts['payments']}: run awx-node-2:4242:99 created {serial} for alice at " in blocked.output), blocked.output
    assert "has not stored its seed yet; wait for it to finish or run later" in blocked.output
    assert writes(fleet) == []

    # Once the claim is older than enroll_lock_stale_after, that run is over: the device is a leftover, replaced.
    iam.tag_mfa_device(SerialNumber=serial, Tags=claim("awx-node-2:4242:99", age_seconds=120))
    replaced = fleet.enroll(ansible, extra_vars={"enroll_lock_stale_after": 60})
    assert replaced.rc == 0, replaced.output
    fleet.assert_converged()


def test_a_device_of_a_run_of_this_controller_that_has_ended_is_a_leftover(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice",))
    ended = f"{socket.gethostname()}:{2 ** 22 + 7}:1"  # no such process
    fleet.iam("payments").create_virtual_mfa_device(VirtualMFADeviceName="alice", Tags=claim(ended))
    result = fleet.enroll(ansible)
    assert result.rc == 0, result.output
    fleet.assert_converged()


@pytest.mark.contract
def test_a_lost_seed_is_reported_by_enroll_audit_and_verify_seeds_and_replaced_by_rotate(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice", "bob", "carol"))
    assert fleet.enroll(ansible, extra_vars={"enroll_users": ["alice", "bob"]}).rc == 0
    # carol named her device after herself in the console: not one of the role's, although its name is.
    iam = fleet.iam("payments")
    console = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol")["VirtualMFADevice"]
    totp = pyotp.TOTP(console["Base32StringSeed"].decode("ascii") if isinstance(console["Base32StringSeed"], bytes) else console["Base32StringSeed"])
    now = time.time()
    iam.enable_mfa_device(UserName="carol", SerialNumber=console["SerialNumber"], AuthenticationCode1=totp.at(now - 30),
                          AuthenticationCode2=totp.at(now))
    entries = fleet.stored("payments")
    lost_serial = entries.pop("bob")["serial_number"]
    fleet.write_stored("payments", entries)
    payments = fleet.accounts["payments"]

    verify = ansible.playbook(VERIFY, inventory=fleet.inventory, extra_vars={"verify_vault_dir": str(fleet.seed_dir)}, env=fleet.env)
    assert verify.rc != 0
    assert f"seed not stored for the enabled device(s) of bob ({fleet.seed_dir}/{payments}.yml holds none" in verify.output, verify.output
    assert "carol" not in verify.output.split("seed not stored")[1].split("\n")[0]

    reports = tmp_path / "reports"
    audit = ansible.playbook(AUDIT, inventory=fleet.inventory, env=fleet.env,
                             extra_vars={"audit_report_dir": str(reports), "enroll_vault_dir": str(fleet.seed_dir)})
    assert audit.rc == 0, audit.output
    markdown = (reports / "mfa-audit.md").read_text(encoding="utf-8")
    assert "| bob | yes, **seed not stored** | virtual |" in markdown
    assert "| alice | yes | virtual |" in markdown and "| carol | yes | virtual |" in markdown
    assert f"(`{lost_serial}`)" in markdown
    account = json.loads((reports / "mfa-audit.json").read_text(encoding="utf-8"))["accounts"][0]
    assert [device["user_name"] for device in account["seed_not_stored"]] == ["bob"] and account["seeds_unchecked"] is None
    assert "SEED NOT STORED: bob" in audit.output

    again = fleet.enroll(ansible)
    assert again.rc == 0 and changed_hosts(again) == {"payments": 0}, again.output
    assert "SEED NOT STORED for the enabled device(s) of bob" in again.output

    rotated = fleet.enroll(ansible, playbook=ROTATE, extra_vars={"enroll_rotate_users": ["bob"]})
    assert rotated.rc == 0, rotated.output
    fleet.assert_converged(users={"alice", "bob"})
    assert fleet.enabled_devices("payments")["bob"] != [lost_serial]
    assert lost_serial not in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]

    proven = ansible.playbook(VERIFY, inventory=fleet.inventory, extra_vars={"verify_vault_dir": str(fleet.seed_dir)}, env=fleet.env)
    assert proven.rc == 0, proven.output
    assert not any(seed in out for seed in fleet.aws.issued_seeds() for out in (verify.output, audit.output, again.output, rotated.output))


def test_a_seed_file_written_outside_the_role_waits_for_the_run_that_holds_the_account(fresh_aws, ansible, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice",))
    lock = fleet.lock_file("payments")
    holder = _account_lock.this_run(pid=os.getpid())
    _account_lock.acquire(str(lock), fleet.accounts["payments"], holder, timeout=0)
    seed = pyotp.random_base32()
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "store", "no_log": True, "mfa.aws.seed_vault_file": {
        "path": str(fleet.seed_dir / f"{fleet.accounts['payments']}.yml"), "lock_timeout": 1,
        "seeds": {"alice": {"serial_number": f"arn:aws:iam::{fleet.accounts['payments']}:mfa/alice", "base32_seed": seed}}}}]}]
    blocked = ansible.playbook(json.dumps(play, indent=2) + "\n", env=fleet.env)
    assert blocked.rc != 0
    assert f"{BUSY} {fleet.accounts['payments']} (lock {lock}, held by process {os.getpid()}" in blocked.output, blocked.output
    assert not (fleet.seed_dir / f"{fleet.accounts['payments']}.yml").exists()
    _account_lock.release(str(lock), holder)
    assert ansible.playbook(json.dumps(play, indent=2) + "\n", env=fleet.env).rc == 0
    assert fleet.stored("payments")["alice"]["base32_seed"] == seed
