# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_enrollment returns the enrollment plan as its result, or fails with the one line that stops the run."""

from __future__ import annotations

from unittest.mock import MagicMock

from ansible_collections.mfa.aws.plugins.action import plan_enrollment

ACCOUNT = "123456789012"


def state(**users):
    return {"account_id": ACCOUNT, "users": [{"user_name": name, "mfa_active": active} for name, active in users.items()], "virtual_mfa_devices": []}


def run(**args):
    task = MagicMock()
    task.args = dict({"account_id": ACCOUNT, "delivery": ["vault_file"]}, **args)
    task.async_val, task.check_mode, task.action = 0, False, "mfa.aws.plan_enrollment"
    return plan_enrollment.ActionModule(task, MagicMock(), MagicMock(), MagicMock(), MagicMock(), MagicMock()).run(task_vars={})


def test_the_plan_is_the_result_and_changes_nothing():
    result = run(info=state(alice=False, bob=True), run_id="ctl:1:2")
    assert not result.get("failed") and result["changed"] is False
    assert result["new_users"] == ["alice"] and result["compliant"] == ["bob"] and result["ready_users"] == ["alice"]
    assert result["iam_virtual_mfa_devices"][0]["name"] == "alice"


def test_the_run_stops_with_one_line_naming_what_to_fix():
    assert run(info=state(alice=False), users=["ghost"])["msg"] == f"account {ACCOUNT} has no IAM user named ghost: check enroll_users"
    assert run(info={"failed": True, "msg": "AccessDenied: check user_names"})["msg"] == "AccessDenied: check enroll_users"
    assert run(info={"skipped": True}, delivery=[])["msg"].startswith("enroll_delivery is empty")
    assert run(info=state(alice=False), name_format="mfa")["msg"] == "name_format must contain {user_name}, so that every user gets a device of their own"
    typed = run(info=state(alice=False), delivery=["qr_png"], codes={"alice": ["123456", "654321"]})
    assert typed["failed"] and "123456" not in typed["msg"] and typed["msg"].startswith("no device of alice awaits codes yet")
