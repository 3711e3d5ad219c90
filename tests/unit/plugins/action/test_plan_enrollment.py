# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_enrollment reads the account's state and stores through the actions of their modules, returns the plan as
its result, or fails with the one line that stops the run, having read no more than it needed."""

from __future__ import annotations

from ansible_collections.mfa.aws.plugins.action import plan_enrollment
from ansible_collections.mfa.aws.tests.unit.utils.constants import ACCOUNT
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import CONNECTION as PLAN_CONNECTION
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import STORE_DEFAULTS
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import Reads as ActionReads
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import run_plan
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import vault_file_args

SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/"
CONNECTION = dict(PLAN_CONNECTION, endpoint_url="http://127.0.0.1:1")


def state(devices=(), **users):
    return {"account_id": ACCOUNT, "users": [{"user_name": name, "mfa_active": active} for name, active in users.items()],
            "virtual_mfa_devices": list(devices)}


class Reads(ActionReads):
    DEFAULTS = {"iam_mfa_info": state(alice=False, bob=True), "seed_store": {"stored": {}, "entries": {}, "stores": {}}}


def run(reads, diff=False, **args):
    return run_plan(plan_enrollment, reads, dict(vault_file_args(run_id="ctl:1:2"), **CONNECTION, **args), diff=diff)


def test_the_plan_is_the_result_of_two_reads_and_changes_nothing():
    reads = Reads()
    result = run(reads)
    assert not result.get("failed") and result["changed"] is False
    assert result["new_users"] == ["alice"] and result["compliant"] == ["bob"] and result["ready_users"] == ["alice"]
    assert result["iam_virtual_mfa_devices"][0]["name"] == "alice"
    assert result["account_id"] == ACCOUNT and result["stored"] == {} and result["seedless"] == []
    assert result["report"] == dict(account_id=ACCOUNT, delivery=["vault_file"], vault_file=f"/seeds/{ACCOUNT}.yml", enrolled=["alice"],
                                    awaiting_codes=[], created=["alice"], recreated=[], reused=[], compliant=["bob"], seed_not_stored=[],
                                    check_mode=False)
    # No device lacks its seed: the tags are not read.
    assert reads.names() == ["mfa.aws.iam_mfa_info", "mfa.aws.seed_store"]
    info, store = reads.calls[0][1], reads.calls[1][1]
    assert info == dict(CONNECTION, user_names=[], confirm_without_mfa=True, virtual_devices=True, credential_report=False)
    assert store == dict(CONNECTION, **STORE_DEFAULTS, stores=["vault_file"], check_writable=True, account_id=ACCOUNT,
                         vault_file=f"/seeds/{ACCOUNT}.yml")


def test_a_stored_seed_is_reused_and_the_store_options_go_to_the_stores():
    stored = {"alice": SERIAL + "alice"}
    reads = Reads(iam_mfa_info=state([{"serial_number": SERIAL + "alice", "name": "alice", "path": "/"}], alice=False),
                  seed_store={"stored": stored, "entries": {"alice": {"serial_number": SERIAL + "alice"}}, "stores": {}})
    result = run(reads, users=["alice"], delivery=["vault_file", "secretsmanager"], secret_prefix="team/mfa", vault_id="mfa",
                 store_credentials={"access_key": "AKIACENTRAL"})
    assert [entry["user_name"] for entry in result["reuse"]] == ["alice"] and result["new_users"] == [] and result["stored"] == stored
    store = reads.calls[1][1]
    assert store["stores"] == ["vault_file", "secretsmanager"] and store["secret_prefix"] == "team/mfa" and store["vault_id"] == "mfa"
    assert store["store_credentials"] == {"access_key": "AKIACENTRAL"} and store["issuer"] == STORE_DEFAULTS["issuer"]
    assert reads.calls[0][1]["user_names"] == ["alice"] and reads.calls[0][1]["confirm_without_mfa"] is False


def test_an_enabled_device_of_the_role_without_a_stored_seed_is_reported_after_reading_its_tags():
    device = {"serial_number": SERIAL + "carol", "name": "carol", "path": "/", "user_name": "carol"}
    tagged = dict(device, tags={"mfa.aws/run": "ctl:0:1"})
    console = {"serial_number": SERIAL + "dave", "name": "dave", "path": "/", "user_name": "dave"}
    reads = Reads(iam_mfa_info=state([device, console], carol=True, dave=True),
                  iam_virtual_mfa_info={"virtual_mfa_devices": [tagged, dict(console, tags={})]})
    result = run(reads)
    assert reads.names() == ["mfa.aws.iam_mfa_info", "mfa.aws.seed_store", "mfa.aws.iam_virtual_mfa_info"]
    assert reads.calls[2][1] == dict(CONNECTION, serial_numbers=[SERIAL + "carol", SERIAL + "dave"])
    # dave's device was named so in the console: it is not this role's.
    assert [entry["user_name"] for entry in result["seedless"]] == ["carol"] and result["report"]["seed_not_stored"] == ["carol"]


def test_the_run_stops_with_one_line_naming_what_to_fix_having_read_no_more_than_needed():
    reads = Reads()
    assert run(reads, delivery=[])["msg"].startswith("enroll_delivery is empty") and reads.calls == []

    reads = Reads(iam_mfa_info={"failed": True, "msg": "AccessDenied: check user_names"})
    assert run(reads)["msg"] == "AccessDenied: check enroll_users" and reads.names() == ["mfa.aws.iam_mfa_info"]

    reads = Reads(iam_mfa_info=dict(state(alice=False), account_id="210987654321"))
    result = run(reads)
    assert result["msg"].startswith(f"the credentials in use reach account 210987654321, not {ACCOUNT}") and reads.names() == ["mfa.aws.iam_mfa_info"]

    reads = Reads(seed_store={"failed": True, "msg": "no vault secret: give one with --vault-id", "stores": {}})
    assert run(reads)["msg"] == "no vault secret: give one with --vault-id"

    assert run(Reads(), users=["ghost"])["msg"] == f"account {ACCOUNT} has no IAM user named ghost: check enroll_users"
    assert run(Reads(), name_format="mfa")["msg"] == "name_format must contain {user_name}, so that every user gets a device of their own"

    device = {"serial_number": SERIAL + "carol", "name": "carol", "path": "/", "user_name": "carol"}
    reads = Reads(iam_mfa_info=state([device], carol=True), iam_virtual_mfa_info={"failed": True, "msg": "AccessDenied: iam:ListMFADeviceTags"})
    assert run(reads)["msg"] == "AccessDenied: iam:ListMFADeviceTags"

    typed = run(Reads(), delivery=["qr_png"], qr_dir="/qr", codes={"alice": ["123456", "654321"]})
    assert typed["failed"] and "123456" not in typed["msg"] and typed["msg"].startswith("no device of alice awaits codes yet")


def test_the_warnings_of_the_reads_are_the_tasks():
    reads = Reads(iam_mfa_info=dict(state(alice=False), warnings=["the credential report is 3 hours old"]))
    assert run(reads)["warnings"] == ["the credential report is 3 hours old"]


def test_with_lock_the_lock_is_taken_before_any_read_and_reported_whether_the_plan_stops_or_not():
    lock = {"path": f"/seeds/{ACCOUNT}.yml.lock", "timeout": 30, "stale_after": 600, "purpose": "enroll"}
    taken = {"held": True, "run_id": "ctl:7:8", "path": lock["path"], "waited": 0.0, "changed": False}
    reads = Reads(account_lock=taken)
    result = run(reads, lock=lock, run_id=None)
    assert reads.names() == ["mfa.aws.account_lock", "mfa.aws.iam_mfa_info", "mfa.aws.seed_store"]
    # The lock's own arguments, without the connection options of the AWS modules.
    assert reads.calls[0][1] == dict(lock, account_id=ACCOUNT)
    assert result["lock"] == {"held": True, "run_id": "ctl:7:8", "path": lock["path"]}
    # The devices this run creates carry the lock's run as their claim.
    assert result["iam_virtual_mfa_devices"][0]["tags"]["mfa.aws/run"] == "ctl:7:8"

    # A plan that stops still says the lock is held, so that the role lets go of it.
    stopped = run(Reads(account_lock=taken), lock=lock, users=["ghost"])
    assert stopped["failed"] and stopped["lock"]["held"] is True

    # A lock another run holds stops the run before anything is read.
    reads = Reads(account_lock={"failed": True, "msg": "another run holds the lock of account 123456789012"})
    busy = run(reads, lock=lock)
    assert busy["msg"] == "another run holds the lock of account 123456789012" and "lock" not in busy
    assert reads.names() == ["mfa.aws.account_lock"]


def test_in_diff_mode_the_plan_shows_each_users_device_and_where_its_seed_goes_never_a_seed():
    reads = Reads(iam_mfa_info=state(alice=False, bob=True, carol=False))
    result = run(reads, delivery=["vault_file", "secretsmanager"], users=[], diff=True)
    assert result["changed"] is True
    diff = result["diff"]
    assert diff["before_header"] == diff["after_header"] == f"IAM users of account {ACCOUNT}"
    assert diff["before"] == "alice: no MFA\nbob: MFA\ncarol: no MFA\n"
    assert diff["after"].splitlines()[0] == (f"alice: a new virtual MFA device arn:aws:iam::{ACCOUNT}:mfa/alice, enabled; seed stored in "
                                             f"vault file /seeds/{ACCOUNT}.yml, secret mfa-seeds/{ACCOUNT}/alice")
    # bob's MFA stays as it is: the same line on both sides.
    assert diff["after"].splitlines()[1] == "bob: MFA"
    # Nothing to do: no change, and an empty diff of the users' MFA.
    quiet = run(Reads(iam_mfa_info=state(bob=True)), diff=True)
    assert quiet["changed"] is False and quiet["diff"]["after"] == quiet["diff"]["before"] == "bob: MFA\n"
