# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_rotation and mfa.aws.plan_removal take the account's lock, read its state and stores through the actions of
their modules, and return the plan as their result, or fail with the one line that stops the run, having read no more than
they needed."""

from __future__ import annotations

import datetime

from ansible_collections.mfa.aws.plugins.action import plan_removal
from ansible_collections.mfa.aws.plugins.action import plan_rotation
from ansible_collections.mfa.aws.tests.unit.utils.constants import ACCOUNT
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import CONNECTION
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import STORE_DEFAULTS
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import Reads as ActionReads
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import run_plan
from ansible_collections.mfa.aws.tests.unit.utils.plan_actions import vault_file_args

SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/"
LOCK = {"path": f"/seeds/{ACCOUNT}.yml.lock", "timeout": 30, "stale_after": 600, "purpose": "rotate"}
TAKEN = {"held": True, "run_id": "ctl:7:8", "path": LOCK["path"], "waited": 0.0, "changed": False}
OLD = "2026-01-01T00:00:00+00:00"


def device(name, user=None, path="/"):
    return {"serial_number": SERIAL + name, "name": name, "path": path, "user_name": user}


def state(devices=(), **users):
    """An iam_mfa_info result: users as {name: [the serial numbers of their virtual devices]}."""
    listed = [{"user_name": name, "mfa_active": bool(serials), "mfa_devices": [{"serial_number": SERIAL + serial, "kind": "virtual"} for serial in serials]}
              for name, serials in users.items()]
    return {"account_id": ACCOUNT, "virtual_mfa_devices": list(devices), "users": listed}


def stored(created=OLD, **serials):
    """A seed_store answer whose primary store holds the seeds of the devices named, created long ago unless created says when."""
    return {"stored": {user: SERIAL + name for user, name in serials.items()}, "stores": {"vault_file": {"stored": sorted(serials)}},
            "entries": {user: {"serial_number": SERIAL + name, "created": created, "previous_serial_number": None}
                        for user, name in serials.items()}}


class Reads(ActionReads):
    DEFAULTS = {"account_lock": TAKEN, "iam_mfa_info": state([device("alice", "alice")], alice=["alice"]), "seed_store": stored(alice="alice")}


def run(module, reads, check_mode=False, **args):
    return run_plan(module, reads, dict(vault_file_args(lock=LOCK), **CONNECTION, **args), check_mode=check_mode)


def rotate(reads, **args):
    return run(plan_rotation, reads, **dict({"max_age_days": 0}, **args))


def remove(reads, **args):
    return run(plan_removal, reads, **dict({"users": ["alice"], "lock": dict(LOCK, purpose="remove")}, **args))


# --- plan_rotation -------------------------------------------------------------------------------


def test_the_rotation_plan_takes_the_lock_reads_the_account_and_its_stores_and_names_the_users_of_each_step():
    reads = Reads()
    result = rotate(reads, delivery=["vault_file", "qr_png"], qr_dir="/qr", report_timeout=120)
    assert not result.get("failed") and result["changed"] is False
    assert reads.names() == ["mfa.aws.account_lock", "mfa.aws.iam_mfa_info", "mfa.aws.seed_store"]
    assert reads.calls[0][1] == dict(LOCK, account_id=ACCOUNT)
    assert reads.calls[1][1] == dict(CONNECTION, virtual_devices=True, report_timeout=120)
    assert reads.calls[2][1] == dict(CONNECTION, **STORE_DEFAULTS, stores=["vault_file", "qr_png"], check_writable=True, account_id=ACCOUNT,
                                     vault_file=f"/seeds/{ACCOUNT}.yml", qr_dir="/qr")
    assert result["lock"] == {"held": True, "run_id": "ctl:7:8", "path": LOCK["path"]}
    assert result["starting"] == result["enable_users"] == ["alice"] and result["rotating"] == ["alice", "alice"]
    assert result["retire_devices"] == [{"name": "alice", "path": "/", "state": "absent", "force": True}]
    # The new device carries the lock's run as its claim.
    assert result["iam_virtual_mfa_devices"][0]["name"] == "alice-2" and result["iam_virtual_mfa_devices"][0]["tags"]["mfa.aws/run"] == "ctl:7:8"
    # The QR code already shows the new seed: only the other stores close the rotation.
    assert result["settle_stores"] == ["vault_file"]
    assert result["report"] == {"account_id": ACCOUNT, "rotated": ["alice"], "reverted": [], "current": [], "unmanaged": [], "lost": [],
                                "replaced_lost_seeds": [], "seed_not_stored": [], "check_mode": False}
    assert result["account_id"] == ACCOUNT and result["seedless"] == [] and result["stored"] == {"alice": SERIAL + "alice"}


def test_a_young_device_is_current_and_the_report_says_what_check_mode_would_do():
    today = datetime.datetime.now(datetime.timezone.utc).isoformat()
    result = run(plan_rotation, Reads(seed_store=stored(today, alice="alice")), check_mode=True, max_age_days=90, users=[])
    assert result["current"] == ["alice"] and result["rotating"] == [] and result["iam_virtual_mfa_devices"] == []
    assert result["report"]["current"] == ["alice"] and result["report"]["check_mode"] is True


def test_a_rotation_that_goes_back_to_the_previous_device_closes_it_in_every_store():
    entries = {"alice": {"serial_number": SERIAL + "alice-2", "created": OLD, "previous_serial_number": SERIAL + "alice"}}
    result = rotate(Reads(seed_store={"stored": {}, "entries": entries, "stores": {}}), delivery=["vault_file", "qr_png"], qr_dir="/qr")
    assert result["revert"] == ["alice"] and result["rotating"] == ["alice"] and result["settle_stores"] == ["vault_file", "qr_png"]
    assert result["report"]["reverted"] == ["alice"]


def test_a_named_users_device_whose_seed_is_lost_is_replaced_once_its_tags_say_the_role_made_it():
    lost = device("bob", "bob")

    def reads():
        return Reads(iam_mfa_info=state([device("alice", "alice"), lost], alice=["alice"], bob=["bob"]),
                     iam_virtual_mfa_info={"virtual_mfa_devices": [dict(lost, tags={"mfa.aws/run": "ctl:0:1"})]})

    named = reads()
    result = rotate(named, users=["bob"])
    assert named.names()[-1] == "mfa.aws.iam_virtual_mfa_info" and named.calls[-1][1] == dict(CONNECTION, serial_numbers=[SERIAL + "bob"])
    assert result["replacing"] == ["bob"] and result["starting"] == ["bob"] and result["report"]["replaced_lost_seeds"] == ["bob"]
    # Not named: reported, not replaced.
    result = rotate(reads(), users=[])
    assert result["replacing"] == [] and result["report"]["seed_not_stored"] == ["bob"]


def test_the_rotation_stops_with_one_line_naming_what_to_fix_having_read_no_more_than_needed():
    reads = Reads()
    stopped = rotate(reads, delivery=["qr_png"], qr_dir="/qr")
    assert stopped["msg"] == "rotation needs a seed store the run can read back in enroll_delivery: add vault_file, secretsmanager or ssm"
    # The lock is taken, and said to be held, so that the role lets go of it.
    assert reads.names() == ["mfa.aws.account_lock"] and stopped["lock"]["held"] is True

    reads = Reads(account_lock={"failed": True, "msg": "another run holds the lock of account 123456789012"})
    assert rotate(reads)["msg"] == "another run holds the lock of account 123456789012" and reads.names() == ["mfa.aws.account_lock"]

    reads = Reads(iam_mfa_info={"failed": True, "msg": "AccessDenied: iam:ListVirtualMFADevices"})
    assert rotate(reads)["msg"] == "AccessDenied: iam:ListVirtualMFADevices" and reads.names()[-1] == "mfa.aws.iam_mfa_info"

    reads = Reads(iam_mfa_info=dict(state(), account_id="210987654321"))
    assert rotate(reads)["msg"].startswith(f"the credentials in use reach account 210987654321, not {ACCOUNT}")
    assert reads.names()[-1] == "mfa.aws.iam_mfa_info"

    reads = Reads(seed_store={"failed": True, "msg": "no vault secret: give one with --vault-id", "stores": {}})
    assert rotate(reads)["msg"] == "no vault secret: give one with --vault-id"

    assert rotate(Reads(), users=["ghost"])["msg"] == f"account {ACCOUNT} has no IAM user named ghost: check enroll_rotate_users"
    # mallory's device was named so in the console: not the role's, so not replaced.
    unmanaged = Reads(iam_mfa_info=state([device("alice", "alice"), device("mallory", "mallory")], alice=["alice"], mallory=["mallory"]),
                      iam_virtual_mfa_info={"virtual_mfa_devices": [dict(device("mallory", "mallory"), tags={})]})
    assert rotate(unmanaged, users=["mallory"])["msg"].startswith("no stored seed belongs to an enabled device of mallory")
    assert rotate(Reads(), name_format="mfa")["msg"] == "name_format must contain {user_name}, so that every user gets a device of their own"
    assert rotate(Reads(), max_age_days=-1)["msg"] == "max_age_days must be a number of days, 0 or more"

    reads = Reads(iam_mfa_info=state([device("carol", "carol")], carol=["carol"]),
                  iam_virtual_mfa_info={"failed": True, "msg": "AccessDenied: iam:ListMFADeviceTags"})
    assert rotate(reads)["msg"] == "AccessDenied: iam:ListMFADeviceTags"


# --- plan_removal --------------------------------------------------------------------------------


def test_the_removal_plan_reads_the_users_devices_and_every_store_then_names_what_to_delete_and_drop():
    token = {"serial_number": "GAHT00000001", "kind": "hardware"}
    info = state([device("alice", "alice"), device("alice-2")], alice=["alice"])
    info["users"][0]["mfa_devices"].append(token)
    reads = Reads(iam_mfa_info=info)
    result = remove(reads, report_timeout=120)
    assert not result.get("failed") and result["changed"] is False
    assert reads.names() == ["mfa.aws.account_lock", "mfa.aws.iam_mfa_info", "mfa.aws.seed_store"]
    assert reads.calls[1][1] == dict(CONNECTION, user_names=["alice"], skip_unknown_users=True, virtual_devices=True, report_timeout=120)
    assert reads.calls[2][1]["check_writable"] is True
    assert result["deactivate"] == [{"user_name": "alice", "serial_number": "GAHT00000001", "state": "absent"}]
    assert sorted(entry["name"] for entry in result["delete"]) == ["alice", "alice-2"]
    assert result["report"] == {"account_id": ACCOUNT, "users": ["alice"], "deactivated": ["GAHT00000001"],
                                "deleted": [entry["name"] for entry in result["delete"]], "seeds_dropped": ["alice"], "check_mode": False}
    assert result["lock"]["held"] is True


def test_the_removal_stops_with_one_line_naming_what_to_fix_having_read_no_more_than_needed():
    reads = Reads()
    stopped = remove(reads, users=[])
    assert stopped["msg"].startswith("enroll_remove_users is empty") and reads.names() == ["mfa.aws.account_lock"]
    assert stopped["lock"]["held"] is True
    reads = Reads()
    assert remove(reads, delivery=[])["msg"].startswith("enroll_delivery is empty") and reads.names() == ["mfa.aws.account_lock"]

    reads = Reads(iam_mfa_info=dict(state(), account_id="210987654321"))
    assert remove(reads)["msg"].startswith(f"the credentials in use reach account 210987654321, not {ACCOUNT}")
    assert reads.names()[-1] == "mfa.aws.iam_mfa_info"

    reads = Reads(seed_store={"failed": True, "msg": "AccessDenied: secretsmanager:PutSecretValue", "stores": {"ssm": {"failed": True}}})
    stopped = remove(reads)
    assert stopped["msg"] == "AccessDenied: secretsmanager:PutSecretValue" and stopped["stores"] == {"ssm": {"failed": True}}

    reads = Reads(seed_store=stored())
    assert remove(reads, users=["alice", "ghost"])["msg"] == (
        f"account {ACCOUNT} has no IAM user, stored seed or MFA device for ghost: check enroll_remove_users"
    )
