# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa.aws.plugins.filter.enrollment import FilterModule
from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_plan
from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_seeds

ARN = "arn:aws:iam::123456789012:mfa{}"


def info(users, devices=()):
    """An iam_mfa_info result: users as {name: mfa_active}, devices as (path, name, enabled_for)."""
    return {
        "users": [{"user_name": name, "mfa_active": active} for name, active in users.items()],
        "virtual_mfa_devices": [
            {"serial_number": ARN.format(path + name), "path": path, "name": name, "user_name": user, "enable_date": None}
            for path, name, user in devices
        ],
    }


def test_every_user_without_mfa_gets_a_device_when_no_users_are_named():
    plan = enrollment_plan(info({"carol": False, "alice": True, "bob": False}))
    assert plan["create"] == [{"user_name": "bob", "name": "bob", "path": "/"}, {"user_name": "carol", "name": "carol", "path": "/"}]
    assert plan["compliant"] == ["alice"] and plan["reuse"] == [] and plan["recreate"] == []


def test_named_users_with_mfa_are_compliant_and_unknown_users_are_reported():
    plan = enrollment_plan(info({"alice": True, "bob": False}), users=["alice", "bob", "ghost", "bob"])
    assert plan["compliant"] == ["alice"]
    assert plan["unknown"] == ["ghost"]
    assert [entry["user_name"] for entry in plan["create"]] == ["bob"]


def test_a_user_whose_virtual_device_is_enabled_is_compliant_even_if_the_report_is_old():
    plan = enrollment_plan(info({"bob": False}, [("/", "bob", "bob")]))
    assert plan["compliant"] == ["bob"] and plan["create"] == []


def test_an_unassigned_device_with_its_seed_stored_is_reused():
    plan = enrollment_plan(info({"bob": False}, [("/", "bob", None)]), {"bob": ARN.format("/bob")})
    assert plan["reuse"] == [{"user_name": "bob", "serial_number": ARN.format("/bob")}]
    assert plan["create"] == [] and plan["recreate"] == []


@pytest.mark.parametrize("stored", [{}, {"bob": ARN.format("/old/bob")}])
def test_an_unassigned_device_without_its_seed_is_recreated(stored):
    plan = enrollment_plan(info({"bob": False}, [("/", "bob", None)]), stored)
    assert plan["recreate"] == [{"user_name": "bob", "name": "bob", "path": "/", "serial_number": ARN.format("/bob")}]
    assert plan["reuse"] == []


def test_a_device_name_taken_by_another_users_device_is_a_conflict():
    plan = enrollment_plan(info({"bob": False, "alice": True}, [("/", "bob", "alice")]), users=["bob"])
    assert plan["conflicts"] == [{"user_name": "bob", "serial_number": ARN.format("/bob"), "enabled_for": "alice"}]
    assert plan["create"] == []


def test_name_format_and_path_choose_the_device():
    devices = [("/", "bob", None), ("/people/", "mfa-bob", None)]
    plan = enrollment_plan(info({"bob": False}, devices), {"bob": ARN.format("/people/mfa-bob")}, name_format="mfa-{user_name}", path="/people/")
    assert plan["reuse"] == [{"user_name": "bob", "serial_number": ARN.format("/people/mfa-bob")}]


@pytest.mark.parametrize(
    "args, message",
    [
        (({"users": []},), "needs the result of mfa.aws.iam_mfa_info run with virtual_devices=true"),
        ((info({}), {}, [], "device"), "name_format must contain {user_name}"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("{", r"\{").replace("}", r"\}")):
        enrollment_plan(*args)


def test_the_plan_carries_the_devices_argument_deletions_first():
    plan = enrollment_plan(info({"bob": False, "carol": False}, [("/", "bob", None)]), tags={"team": "x"})
    assert plan["iam_virtual_mfa_devices"] == [
        {"name": "bob", "path": "/", "state": "absent"},
        {"name": "bob", "path": "/", "state": "present", "tags": {"team": "x"}},
        {"name": "carol", "path": "/", "state": "present", "tags": {"team": "x"}},
    ]


def test_seeds_of_created_devices_are_paired_with_their_users():
    plan = enrollment_plan(info({"bob": False, "carol": False, "dave": False}, [("/", "bob", None)]))
    created = {"devices": [
        {"name": "bob", "path": "/", "state": "absent", "serial_number": ARN.format("/bob")},
        {"name": "bob", "path": "/", "state": "present", "serial_number": ARN.format("/bob"), "base32_seed": "SEEDBOB"},
        {"name": "carol", "path": "/", "state": "present", "serial_number": ARN.format("/carol"), "base32_seed": "SEEDCAROL"},
        {"name": "dave", "path": "/", "state": "present", "serial_number": None},
    ]}
    assert enrollment_seeds(created, plan) == {
        "bob": {"serial_number": ARN.format("/bob"), "base32_seed": "SEEDBOB"},
        "carol": {"serial_number": ARN.format("/carol"), "base32_seed": "SEEDCAROL"},
    }


def test_seeds_need_a_registered_result_and_a_plan():
    with pytest.raises(AnsibleFilterError, match="needs the registered result"):
        enrollment_seeds(None, {})


def test_the_filters_are_registered():
    assert FilterModule().filters() == {"enrollment_plan": enrollment_plan, "enrollment_seeds": enrollment_seeds}
