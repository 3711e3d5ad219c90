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
        {"name": "bob", "path": "/", "state": "present", "tags": {"team": "x"}, "exclusive": True},
        {"name": "carol", "path": "/", "state": "present", "tags": {"team": "x"}, "exclusive": True},
    ]


def test_the_plan_names_the_users_to_create_and_to_enable():
    plan = enrollment_plan(info({"bob": False, "carol": False, "dave": False, "erin": True}, [("/", "bob", None), ("/", "dave", None)]),
                           {"dave": ARN.format("/dave")})
    assert plan["new_users"] == ["carol", "bob"]
    assert plan["enable_users"] == ["carol", "bob", "dave"]
    assert plan["ready_users"] == plan["enable_users"] and plan["awaiting_codes"] == []


def test_with_typed_codes_only_the_users_who_typed_theirs_are_ready():
    plan = enrollment_plan(info({"bob": False, "carol": False}, [("/", "bob", None)]), {"bob": ARN.format("/bob")},
                           typed_codes={"bob": ["123456", "654321"], "ghost": ["111111", "222222"]})
    assert plan["enable_users"] == ["carol", "bob"]
    assert plan["ready_users"] == ["bob"] and plan["awaiting_codes"] == ["carol"]


def test_typed_codes_must_be_a_dictionary():
    with pytest.raises(AnsibleFilterError, match="typed_codes must be a dictionary of user names"):
        enrollment_plan(info({"bob": False}), typed_codes=["123456", "654321"])


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
    filters = FilterModule().filters()
    assert filters["enrollment_plan"] is enrollment_plan and filters["enrollment_seeds"] is enrollment_seeds
    assert sorted(filters) == sorted(
        ["enrollment_plan", "enrollment_seeds", "rotation_plan", "rotation_seeds", "rotation_settled", "current_seeds", "removal_plan",
         "malformed_code_pairs", "enable_devices", "seedless_devices", "enrollment_summary"]
    )


# --- rotation and removal -------------------------------------------------------------------------

NOW = "2026-06-01T00:00:00+00:00"
OLD = "2026-01-01T00:00:00+00:00"
NEW = "2026-05-30T00:00:00+00:00"


def entry(serial, created=OLD, previous=None):
    return {"serial_number": ARN.format(serial), "created": created, "previous_serial_number": ARN.format(previous) if previous else None}


def rotation(devices, entries, **kwargs):
    from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_plan

    return rotation_plan(info({"alice": True, "bob": True, "carol": False}, devices), entries, now=NOW, **kwargs)


def test_an_old_managed_device_is_rotated_to_the_other_name_and_retired():
    plan = rotation([("/", "alice", "alice")], {"alice": entry("/alice")})
    assert plan["start"] == [{"user_name": "alice", "name": "alice-2", "path": "/", "old_serial_number": ARN.format("/alice")}]
    assert plan["retire"] == [{"user_name": "alice", "serial_number": ARN.format("/alice"), "name": "alice", "path": "/"}]
    assert plan["finish"] == ["alice"]
    assert plan["iam_virtual_mfa_devices"] == [{"name": "alice-2", "path": "/", "state": "present", "tags": {}, "exclusive": True}]
    assert plan["retire_devices"] == [{"name": "alice", "path": "/", "state": "absent", "force": True}]


def test_a_second_rotation_goes_back_to_the_first_name():
    plan = rotation([("/", "alice-2", "alice")], {"alice": entry("/alice-2")})
    assert plan["start"][0]["name"] == "alice"


def test_a_young_device_is_current_unless_max_age_is_zero():
    assert rotation([("/", "alice", "alice")], {"alice": entry("/alice", NEW)})["current"] == ["alice"]
    assert len(rotation([("/", "alice", "alice")], {"alice": entry("/alice", NEW)}, max_age_days=0)["start"]) == 1


def test_users_without_a_stored_seed_of_their_enabled_device_are_unmanaged_or_unknown():
    plan = rotation([("/", "bob", "bob"), ("/", "alice", None)], {"alice": entry("/alice")}, users=["alice", "bob", "ghost"])
    assert plan["unmanaged"] == ["alice", "bob"] and plan["unknown"] == ["ghost"] and plan["start"] == []


def test_a_leftover_unassigned_device_at_the_new_name_is_recreated_and_a_taken_name_is_a_conflict():
    plan = rotation([("/", "alice", "alice"), ("/", "alice-2", None)], {"alice": entry("/alice")})
    assert plan["recreate"][0]["serial_number"] == ARN.format("/alice-2")
    assert plan["iam_virtual_mfa_devices"][0] == {"name": "alice-2", "path": "/", "state": "absent"}
    plan = rotation([("/", "alice", "alice"), ("/", "alice-2", "bob")], {"alice": entry("/alice")})
    assert plan["conflicts"] == [{"user_name": "alice", "serial_number": ARN.format("/alice-2"), "enabled_for": "bob"}]


@pytest.mark.parametrize(
    "devices, enable, retire",
    [
        ([("/", "alice", "alice"), ("/", "alice-2", None)], True, True),  # stopped after storing the new seed
        ([("/", "alice", "alice"), ("/", "alice-2", "alice")], False, True),  # stopped after enabling the new device
        ([("/", "alice-2", "alice")], False, False),  # stopped after retiring the old device
    ],
)
def test_a_rotation_under_way_is_finished_from_where_it_stopped(devices, enable, retire):
    plan = rotation(devices, {"alice": entry("/alice-2", NEW, previous="/alice")})
    assert plan["start"] == [] and plan["finish"] == ["alice"]
    assert (plan["enable"] == [{"user_name": "alice", "serial_number": ARN.format("/alice-2")}]) is enable
    assert (len(plan["retire"]) == 1) is retire


def test_a_rotation_whose_new_device_vanished_is_reverted_or_lost_when_the_old_one_is_gone_too():
    assert rotation([("/", "alice", "alice")], {"alice": entry("/alice-2", NEW, previous="/alice")})["revert"] == ["alice"]
    plan = rotation([], {"alice": entry("/alice-2", NEW, previous="/alice")})
    assert plan["lost"] == ["alice"] and plan["revert"] == [] and plan["finish"] == []


def test_a_previous_device_enabled_for_someone_else_is_a_conflict_not_retired():
    plan = rotation([("/", "alice-2", None), ("/", "alice", "bob")], {"alice": entry("/alice-2", NEW, previous="/alice")})
    assert plan["conflicts"] == [{"user_name": "alice", "serial_number": ARN.format("/alice"), "enabled_for": "bob"}]
    assert plan["retire"] == [] and plan["enable"] == [] and plan["finish"] == []


@pytest.mark.parametrize(
    "codes, malformed",
    [
        ({"alice": ["123456", "654321"]}, []),
        ({"alice": ["123456"], "bob": "123456", "carol": ["12345a", "123456"], "dave": [123456, 654321], "erin": ["1234567", "123456"]},
         ["alice", "bob", "carol", "dave", "erin"]),
    ],
)
def test_malformed_code_pairs_names_the_users_whose_codes_are_not_two_six_digit_strings(codes, malformed):
    from ansible_collections.mfa.aws.plugins.filter.enrollment import malformed_code_pairs

    assert malformed_code_pairs(codes) == malformed


def test_rotation_seeds_keep_the_old_entry_and_settled_drops_or_restores_it():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_seeds, rotation_settled

    plan = rotation([("/", "alice", "alice")], {"alice": entry("/alice")})
    created = {"devices": [{"name": "alice-2", "path": "/", "serial_number": ARN.format("/alice-2"), "base32_seed": "NEWSEED"}]}
    old = {"alice": {"serial_number": ARN.format("/alice"), "base32_seed": "OLDSEED", "created": OLD}}
    pending = rotation_seeds(created, plan, old)
    assert pending == {"alice": {"serial_number": ARN.format("/alice-2"), "base32_seed": "NEWSEED", "previous": old["alice"]}}
    assert rotation_settled(pending, plan) == {"alice": {"serial_number": ARN.format("/alice-2"), "base32_seed": "NEWSEED"}}
    assert rotation_settled(pending, {"finish": [], "revert": ["alice"]}) == {"alice": old["alice"]}
    with pytest.raises(AnsibleFilterError, match="holds no seed for alice"):
        rotation_seeds(created, plan, {})


def test_removal_deletes_the_users_devices_and_leftovers_deactivates_tokens_and_drops_seeds():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_plan

    state = info({"alice": True}, [("/", "alice", "alice"), ("/", "alice-2", None), ("/", "bob", "bob"), ("/", "gone", None)])
    state["users"][0]["mfa_devices"] = [
        {"serial_number": ARN.format("/alice"), "kind": "virtual"},
        {"serial_number": "GAHT12345678", "kind": "hardware"},
    ]
    plan = removal_plan(state, {"alice": entry("/alice"), "gone": entry("/gone")}, users=["alice", "gone", "ghost"])
    assert plan["unknown"] == ["ghost"] and plan["users"] == ["alice", "gone"] and plan["drop"] == ["alice", "gone"]
    assert plan["deactivate"] == [{"user_name": "alice", "serial_number": "GAHT12345678", "state": "absent"}]
    assert sorted(d["name"] for d in plan["delete"]) == ["alice", "alice-2", "gone"]
    assert all(d["force"] and d["state"] == "absent" for d in plan["delete"])


def test_removal_needs_the_listed_devices_of_known_users():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_plan

    with pytest.raises(AnsibleFilterError, match="needs the devices of alice"):
        removal_plan(info({"alice": True}), {}, users=["alice"])


def test_enable_devices_gives_the_rfc_6238_pair_of_each_stored_seed_and_never_the_seed_in_an_error():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import enable_devices

    seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's SHA1 key; at 59 s the 8-digit code is 94287082
    seeds = {"alice": {"serial_number": ARN.format("/alice"), "base32_seed": seed},
             "bob": {"serial_number": ARN.format("/bob-2"), "base32_seed": seed, "previous": {"serial_number": ARN.format("/bob")}}}
    devices = enable_devices(seeds, ["alice", "bob", "ghost"], at=59)
    assert [d["user_name"] for d in devices] == ["alice", "bob"]
    assert devices[0]["authentication_code_2"] == "287082" and devices[0]["serial_number"] == ARN.format("/alice")
    assert [d["user_name"] for d in enable_devices(seeds, ["alice", "bob"], rotating=True, at=59)] == ["bob"]
    with pytest.raises(AnsibleFilterError, match="the stored seed of alice cannot give codes") as raised:
        enable_devices({"alice": {"serial_number": "x", "base32_seed": "NOT-BASE32-1!"}}, ["alice"])
    assert "NOT-BASE32-1!" not in str(raised.value)


# --- runs at once: claims of new devices, and seeds lost for good ---------------------------------------------------

THIS_RUN = "controller-1:100:10"


def claimed(devices, run, created=NOW):
    """info() whose unassigned devices carry the tags the role gives a new device."""
    state = info({"alice": False, "bob": True}, devices)
    for device in state["virtual_mfa_devices"]:
        device["tags"] = None if device["user_name"] else {"mfa.aws/run": run, "mfa.aws/created": created, "managed-by": "mfa.aws"}
    return state


def test_new_devices_carry_the_run_and_time_that_created_them():
    plan = enrollment_plan(info({"alice": False}), tags={"team": "x"}, run_id=THIS_RUN, now=NOW)
    assert plan["iam_virtual_mfa_devices"][0]["tags"] == {"team": "x", "mfa.aws/run": THIS_RUN, "mfa.aws/created": NOW}


@pytest.mark.parametrize(
    "run, created, busy",
    [
        ("controller-2:200:20", "2026-05-31T23:55:00+00:00", True),  # another host's run, 5 minutes ago: may still be working
        ("controller-2:200:20", "2026-05-31T23:00:00+00:00", False),  # another host's run, an hour ago: over
        (THIS_RUN, NOW, False),  # this run's own device, whose seed it never got: a leftover
    ],
)
def test_an_unassigned_device_without_a_stored_seed_is_left_to_a_run_that_may_still_work_on_it(run, created, busy):
    plan = enrollment_plan(claimed([("/", "alice", None)], run, created), run_id=THIS_RUN, now=NOW)
    if busy:
        assert plan["busy"] == [{"user_name": "alice", "serial_number": ARN.format("/alice"), "run": run, "created": created}]
        assert plan["recreate"] == [] and plan["iam_virtual_mfa_devices"] == []
    else:
        assert plan["busy"] == [] and [entry["user_name"] for entry in plan["recreate"]] == ["alice"]


def test_a_run_of_this_host_keeps_its_claim_as_long_as_its_process_lives():
    import os
    import socket

    from ansible_collections.mfa.aws.plugins.plugin_utils._account_lock import this_run

    alive = this_run(pid=os.getpid())["run"]
    assert enrollment_plan(claimed([("/", "alice", None)], alive, OLD), run_id=THIS_RUN, now=NOW)["busy"][0]["run"] == alive
    ended = f"{socket.gethostname()}:{2 ** 22 + 3}:1"
    assert enrollment_plan(claimed([("/", "alice", None)], ended, NOW), run_id=THIS_RUN, now=NOW)["busy"] == []


def test_rotation_and_removal_leave_a_device_of_another_live_run_alone():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_plan
    from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_plan

    other = "controller-2:200:20"
    state = claimed([("/", "alice", "alice"), ("/", "alice-2", None)], other)
    plan = rotation_plan(state, {"alice": entry("/alice")}, now=NOW, run_id=THIS_RUN)
    assert plan["busy"] == [{"user_name": "alice", "serial_number": ARN.format("/alice-2"), "run": other, "created": NOW}]
    assert plan["start"] == plan["recreate"] == plan["retire"] == []
    state["users"][0]["mfa_devices"] = [{"serial_number": ARN.format("/alice"), "kind": "virtual"}]
    removal = removal_plan(state, {"alice": entry("/alice")}, users=["alice"], run_id=THIS_RUN, now=NOW)
    assert [device["name"] for device in removal["delete"]] == ["alice"] and removal["busy"][0]["serial_number"] == ARN.format("/alice-2")


def test_seedless_devices_are_the_enabled_devices_of_the_role_whose_seed_no_store_holds():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import seedless_devices

    state = info({"alice": True, "bob": True, "carol": True, "dave": True},
                 [("/", "alice", "alice"), ("/", "bob-2", "bob"), ("/", "carol", "carol"), ("/", "dave", None), ("/other/", "erin", "erin")])
    stored = {"alice": entry("/alice"), "zed": entry("/zed", previous="/carol")}
    candidates = seedless_devices(state, stored)
    assert candidates == [{"user_name": "bob", "serial_number": ARN.format("/bob-2"), "name": "bob-2", "path": "/"}]
    tagged = [{"serial_number": ARN.format("/bob-2"), "tags": {"mfa.aws/run": THIS_RUN}}]
    assert seedless_devices(state, stored, tagged=tagged) == candidates
    # Named like the role's devices, but made in the console: no tag of the role.
    assert seedless_devices(state, stored, tagged=[{"serial_number": ARN.format("/bob-2"), "tags": {}}]) == []
    # Devices of older versions of the role carry enroll_device_tags only.
    assert seedless_devices(state, stored, tagged=[{"serial_number": ARN.format("/bob-2"), "tags": {"managed-by": "mfa.aws"}}],
                            managed_tags={"managed-by": "mfa.aws"}) == candidates
    for device in state["virtual_mfa_devices"]:
        device["tags"] = {"mfa.aws/run": THIS_RUN}
    assert seedless_devices(state, stored, tagged=True) == candidates
    with pytest.raises(AnsibleFilterError, match="needs a result with virtual_mfa_devices"):
        seedless_devices({"users": []})


def test_a_named_user_whose_seed_is_lost_gets_a_new_device_that_is_enabled_before_the_old_one_is_retired():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import enable_devices, rotation_plan, rotation_seeds, rotation_settled

    lost = [{"user_name": "bob", "serial_number": ARN.format("/bob"), "name": "bob", "path": "/"}]
    state = info({"bob": True}, [("/", "bob", "bob")])
    assert rotation_plan(state, {}, now=NOW, seedless=lost)["start"] == []  # only when the user is named
    plan = rotation_plan(state, {}, users=["bob"], now=NOW, seedless=lost)
    assert plan["start"] == [{"user_name": "bob", "name": "bob-2", "path": "/", "old_serial_number": ARN.format("/bob"), "lost_seed": True}]
    assert plan["retire"][0]["serial_number"] == ARN.format("/bob") and plan["finish"] == plan["replacing"] == ["bob"]
    created = {"devices": [{"name": "bob-2", "path": "/", "serial_number": ARN.format("/bob-2"), "base32_seed": "GEZDGNBVGY3TQOJQ"}]}
    pending = rotation_seeds(created, plan, {})
    assert pending == {"bob": {"serial_number": ARN.format("/bob-2"), "base32_seed": "GEZDGNBVGY3TQOJQ"}}
    assert [d["user_name"] for d in enable_devices(pending, ["bob"], rotating=True, replacing=plan["replacing"], at=59)] == ["bob"]
    assert enable_devices(pending, ["bob"], rotating=True, at=59) == []
    assert rotation_settled(pending, plan) == pending
    # Stopped after storing the new seed: the next run enables the stored device and retires the old one.
    resumed = rotation_plan(info({"bob": True}, [("/", "bob", "bob"), ("/", "bob-2", None)]), {"bob": entry("/bob-2", NEW)}, users=["bob"],
                            now=NOW, seedless=lost)
    assert resumed["enable"] == [{"user_name": "bob", "serial_number": ARN.format("/bob-2")}] and resumed["replacing"] == ["bob"]
    assert resumed["retire"][0]["serial_number"] == ARN.format("/bob")


def account_info(users, devices=()):
    return dict(info(users, devices), account_id="123456789012")


@pytest.mark.parametrize(
    "state, delivery, codes, message",
    [
        ({"failed": True, "msg": "x"}, [], {}, "enroll_delivery is empty: name at least one of vault_file, secretsmanager, ssm, qr_png;"),
        ({"failed": True, "msg": "no user ghost: check user_names"}, ["vault_file"], {}, "no user ghost: check enroll_users"),
        ({"account_id": "210987654321"}, ["vault_file"], {}, "the credentials in use reach account 210987654321, not 123456789012"),
    ],
)
def test_a_run_stops_on_its_delivery_its_state_or_its_account_before_any_plan(state, delivery, codes, message):
    from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_stop

    stop = enrollment_stop(state, None, "123456789012", delivery, codes)
    assert stop.startswith(message) and "\n" not in stop


def test_a_plan_stops_the_run_in_the_order_of_its_problems_and_names_what_to_fix():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_stop

    state = account_info({"bob": False, "carol": False, "alice": True}, [("/", "bob", "alice")])
    plan = enrollment_plan(state, users=["bob", "ghost", "carol"])
    assert enrollment_stop(state, plan, "123456789012", ["vault_file"]) == "account 123456789012 has no IAM user named ghost: check enroll_users"
    plan = enrollment_plan(state, users=["bob", "carol"])
    assert enrollment_stop(state, plan, "123456789012", ["vault_file"]) == (
        f"the device name of bob is taken by {ARN.format('/bob')}, enabled for alice: choose another enroll_device_name or enroll_device_path"
    )
    plan = enrollment_plan(state, users=["carol"])
    assert enrollment_stop(state, plan, "123456789012", ["vault_file"]) is None
    assert enrollment_stop(state, plan, "123456789012", ["vault_file", "qr_png"], {"carol": ["123456", "654321"]}).startswith(
        "enroll_codes is for enroll_delivery [qr_png] alone"
    )
    assert enrollment_stop(state, plan, "123456789012", ["qr_png"], {"carol": ["123456", "65432"]}) == (
        "enroll_codes of carol must be a list of the two consecutive 6-digit codes the app shows, each quoted"
    )
    assert enrollment_stop(state, plan, "123456789012", ["qr_png"], {"carol": ["123456", "654321"]}).startswith(
        "no device of carol awaits codes yet: run once without their codes"
    )
    waiting = account_info({"carol": False}, [("/", "carol", None)])
    plan = enrollment_plan(waiting, {"carol": ARN.format("/carol")}, typed_codes={"carol": ["123456", "654321"]})
    assert enrollment_stop(waiting, plan, "123456789012", ["qr_png"], {"carol": ["123456", "654321"]}) is None
    assert plan["ready_users"] == ["carol"]


def test_another_runs_device_stops_the_run_with_the_runs_name_and_what_to_do():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_stop

    plan = {"unknown": [], "conflicts": [], "busy": [{"run": "ctl:1:2", "serial_number": "arn", "user_name": "bob", "created": "then"}]}
    assert enrollment_stop({"account_id": "123456789012"}, plan, "123456789012", ["vault_file"]) == (
        "another run is working on account 123456789012: run ctl:1:2 created arn for bob at then and has not stored its seed yet; "
        "wait for it to finish or run later (its device is deleted as a leftover once that run has ended)"
    )


def test_the_summary_line_names_the_account_the_users_and_how_to_replace_a_lost_seed():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_summary

    report = {"account_id": "123456789012", "enrolled": ["alice", "smith,john"], "compliant": ["bob"], "seed_not_stored": [], "check_mode": False}
    assert enrollment_summary(report) == "123456789012: enrolled 2 user(s) alice, smith,john; 1 already had MFA"
    lost = dict(report, enrolled=[], seed_not_stored=["carol"], check_mode=True)
    assert enrollment_summary(lost) == (
        "123456789012: would enroll 0 user(s) ; 1 already had MFA; SEED NOT STORED for the enabled device(s) of carol (AWS never returns "
        """a seed again): replace them with mfa.aws.rotate -e '{"enroll_rotate_users": ["carol"]}'"""
    )
    with pytest.raises(AnsibleFilterError, match="needs the enroll_report"):
        enrollment_summary({"enrolled": []})


# --- the decisions of the rotation and removal plans ---------------------------------------------


def test_a_rotation_plan_names_the_users_of_each_step():
    # alice starts a rotation, bob's rotation under way waits to be enabled, carol's goes back to her previous device.
    state = info({"alice": True, "bob": True, "carol": True},
                 [("/", "alice", "alice"), ("/", "bob", "bob"), ("/", "bob-2", None), ("/", "carol", "carol")])
    entries = {"alice": entry("/alice"), "bob": entry("/bob-2", NEW, previous="/bob"), "carol": entry("/carol-2", NEW, previous="/carol")}
    plan = rotation_plan_of(state, entries)
    assert plan["starting"] == ["alice"] and plan["finish"] == ["alice", "bob"] and plan["revert"] == ["carol"]
    assert plan["rotating"] == ["alice", "alice", "bob", "carol"]  # starting, finish and revert in turn
    assert plan["enable_users"] == ["alice", "bob"]
    idle = rotation_plan_of(state, {"alice": entry("/alice", NEW)})
    assert idle["starting"] == idle["rotating"] == idle["enable_users"] == [] and idle["current"] == ["alice"]


def rotation_plan_of(state, entries, **kwargs):
    from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_plan

    return rotation_plan(state, entries, now=NOW, **kwargs)


def test_a_rotation_stops_without_a_seed_store_then_in_the_order_of_its_plans_problems():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_stop

    for delivery in ([], ["qr_png"]):
        assert rotation_stop(delivery) == (
            "rotation needs a seed store the run can read back in enroll_delivery: add vault_file, secretsmanager or ssm"
        )
    assert rotation_stop(["qr_png", "ssm"]) is None
    account = "123456789012"
    state = info({"alice": True, "bob": True, "mallory": True}, [("/", "alice", "alice"), ("/", "alice-2", "bob"), ("/", "mallory", "mallory")])
    entries = {"alice": entry("/alice")}
    plan = rotation_plan_of(state, entries, users=["ghost", "mallory", "alice"])
    assert rotation_stop(["vault_file"], plan, account, ["ghost", "mallory", "alice"]) == (
        "account 123456789012 has no IAM user named ghost: check enroll_rotate_users"
    )
    plan = rotation_plan_of(state, entries, users=["mallory", "alice"])
    assert rotation_stop(["vault_file"], plan, account, ["mallory", "alice"]) == (
        "no stored seed belongs to an enabled device of mallory: enroll them with the mfa.aws.enroll role first, or leave them out of "
        "enroll_rotate_users"
    )
    # Every user is chosen when none is named: one found unmanaged is left alone.
    plan = rotation_plan_of(state, dict(entries, mallory=entry("/gone")))
    assert plan["unmanaged"] == ["mallory"]
    assert rotation_stop(["vault_file"], plan, account, []) == (
        f"the device name for alice is taken by {ARN.format('/alice-2')}, enabled for bob: choose another enroll_device_name or enroll_device_path"
    )
    busy = {"unknown": [], "unmanaged": [], "conflicts": [], "busy": [{"run": "ctl:1:2", "serial_number": "arn", "user_name": "bob", "created": "then"}]}
    assert rotation_stop(["vault_file"], busy, account, []).startswith(
        "another run is working on account 123456789012: run ctl:1:2 created arn for bob at then and has not stored its seed yet"
    )
    fine = rotation_plan_of(info({"alice": True}, [("/", "alice", "alice")]), entries, users=["alice"])
    assert rotation_stop(["vault_file"], fine, account, ["alice"]) is None


def test_the_rotation_report_says_what_the_run_did_for_each_user_in_sorted_lists():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_report

    state = info({"alice": True, "bob": True, "carol": True, "dave": True},
                 [("/", "bob", "bob"), ("/", "alice", "alice"), ("/", "carol", "carol"), ("/", "dave", "dave")])
    lost = [{"user_name": "carol", "serial_number": ARN.format("/carol"), "name": "carol", "path": "/"},
            {"user_name": "dave", "serial_number": ARN.format("/dave"), "name": "dave", "path": "/"}]
    plan = rotation_plan_of(state, {"bob": entry("/bob"), "alice": entry("/alice")}, users=["bob", "alice", "carol"], seedless=lost)
    assert rotation_report(plan, "123456789012", lost, check_mode=True) == {
        "account_id": "123456789012", "rotated": ["alice", "bob", "carol"], "reverted": [], "current": [], "unmanaged": [], "lost": [],
        "replaced_lost_seeds": ["carol"], "seed_not_stored": ["dave"], "check_mode": True,
    }
    young = rotation_plan_of(state, {"bob": entry("/bob", NEW)})
    assert rotation_report(young, "123456789012") == {
        "account_id": "123456789012", "rotated": [], "reverted": [], "current": ["bob"], "unmanaged": [], "lost": [],
        "replaced_lost_seeds": [], "seed_not_stored": [], "check_mode": False,
    }


def test_a_removal_stops_without_users_or_stores_then_on_an_unknown_user_or_another_runs_device():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_plan, removal_stop

    assert removal_stop([], ["vault_file"]) == "enroll_remove_users is empty: name the IAM users whose MFA devices and stored seeds to remove"
    assert removal_stop(["alice"], []) == "enroll_delivery is empty: name the stores that hold the seeds to drop"
    assert removal_stop(["alice"], ["vault_file"]) is None
    state = info({"alice": True}, [("/", "alice", "alice")])
    state["users"][0]["mfa_devices"] = [{"serial_number": ARN.format("/alice"), "kind": "virtual"}]
    plan = removal_plan(state, {"alice": entry("/alice")}, users=["alice", "ghost"])
    assert removal_stop(["alice", "ghost"], ["vault_file"], plan, "123456789012") == (
        "account 123456789012 has no IAM user, stored seed or MFA device for ghost: check enroll_remove_users"
    )
    plan = removal_plan(state, {"alice": entry("/alice")}, users=["alice"])
    assert removal_stop(["alice"], ["vault_file"], plan, "123456789012") is None
    busy = {"unknown": [], "busy": [{"run": "ctl:1:2", "serial_number": "arn", "user_name": "alice", "created": "then"}]}
    assert removal_stop(["alice"], ["vault_file"], busy, "123456789012").startswith("another run is working on account 123456789012: run ctl:1:2")


def test_the_removal_report_names_the_devices_deactivated_and_deleted_and_the_seeds_dropped():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_plan, removal_report

    state = info({"alice": True}, [("/", "alice", "alice")])
    state["users"][0]["mfa_devices"] = [{"serial_number": ARN.format("/alice"), "kind": "virtual"}, {"serial_number": "GAHT1", "kind": "hardware"}]
    plan = removal_plan(state, {"alice": entry("/alice")}, users=["alice"])
    assert removal_report(plan, "123456789012", check_mode=False) == {
        "account_id": "123456789012", "users": ["alice"], "deactivated": ["GAHT1"], "deleted": ["alice"], "seeds_dropped": ["alice"],
        "check_mode": False,
    }


def test_the_credentials_of_another_account_stop_the_run():
    from ansible_collections.mfa.aws.plugins.filter.enrollment import other_account

    assert other_account({"account_id": "123456789012"}, "123456789012") is None
    assert other_account({"account_id": "210987654321"}, 123456789012) == (
        "the credentials in use reach account 210987654321, not 123456789012 (enroll_account_id): fix the account id or the credentials"
    )
