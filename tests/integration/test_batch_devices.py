"""The devices option of mfa.aws.iam_virtual_mfa and mfa.aws.iam_mfa_enable against the strict local
endpoint: many devices in one task, with the API calls of each run counted from the endpoint's call log."""
from __future__ import annotations

import json
import time
from collections import Counter

import pyotp
import pytest

from helpers.steps import changes, converge, iam_calls, run_steps

VIRTUAL_MFA = "mfa.aws.iam_virtual_mfa"
MFA_ENABLE = "mfa.aws.iam_mfa_enable"
ACCOUNT = "123456789012"
USERS = ("ada", "ben", "cy", "dot", "eve")
TOKEN = "GAHT12345678"
HINT = "the two codes are not consecutive codes of this device's seed: check the device clock or the seed"

# The devices option of mfa.aws.iam_mfa_enable for the play's `users`, with codes computed by the
# mfa.aws.totp lookup from the play's `seeds` when the task runs (or taken from `stale`, by user).
LOOKUP_ITEMS = (
    "[{% for user in users %}"
    "{% set codes = stale[user] if user in stale else lookup('mfa.aws.totp', seeds[user], pair=true) %}"
    '{"user_name": {{ user | to_json }}, "serial_number": {{ serials[user] | to_json }},'
    ' "authentication_code_1": {{ codes[0] | to_json }}, "authentication_code_2": {{ codes[1] | to_json }}}'
    "{{ '' if loop.last else ',' }}{% endfor %}]"
)
ENABLE_WITH_CODES = {MFA_ENABLE: {"devices": "{{ items_json | from_json }}"}, "vars": {"items_json": LOOKUP_ITEMS}}


def serial(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:mfa{path}{name}"


def item_changes(result):
    return [entry["changed"] for entry in result["devices"]]


def codes(seed, windows_ago=0):
    """Two consecutive codes of the device: those of the window `windows_ago` windows back and the one before."""
    totp, now = pyotp.TOTP(seed), time.time() - 30 * windows_ago
    return totp.at(now - 30), totp.at(now)


def recent_codes(seed):
    """Every code the device showed in the last few windows: any code a lookup of the run computed."""
    totp, now = pyotp.TOTP(seed), time.time()
    return {totp.at(now - 30 * windows_ago) for windows_ago in range(5)}


def create_device(aws, name, path="/", tags=None):
    """A virtual device made directly with boto3; returns its base32 seed."""
    extra = {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]} if tags else {}
    device = aws.client("iam").create_virtual_mfa_device(VirtualMFADeviceName=name, Path=path, **extra)["VirtualMFADevice"]
    return device["Base32StringSeed"].decode("ascii")


def users_with_devices(aws, users=USERS):
    """Create each user and a virtual device named after them; returns {user: seed}."""
    iam = aws.client("iam")
    seeds = {}
    for user in users:
        iam.create_user(UserName=user)
        seeds[user] = create_device(aws, user)
    return seeds


def enable_directly(aws, user_name, serial_number, seed):
    """Enable the device with the older of the two pairs of codes AWS accepts now.

    That pair stops being accepted when a 30-second window ends, which can happen between computing it and the
    endpoint checking it on a loaded machine: then the pair of the new moment is tried once."""
    iam = aws.client("iam")
    for attempt in range(2):
        pair = codes(seed, windows_ago=1)
        try:
            iam.enable_mfa_device(UserName=user_name, SerialNumber=serial_number, AuthenticationCode1=pair[0], AuthenticationCode2=pair[1])
            return
        except iam.exceptions.InvalidAuthenticationCodeException:
            if attempt:
                raise


def virtual_devices(aws):
    return {device["SerialNumber"]: (device.get("User") or {}).get("UserName") for device in aws.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"]}


def device_tags(aws, serial_number):
    return {tag["Key"]: tag["Value"] for tag in aws.client("iam").list_mfa_device_tags(SerialNumber=serial_number)["Tags"]}


def user_devices(aws, user_name):
    return [device["SerialNumber"] for device in aws.client("iam").list_mfa_devices(UserName=user_name)["MFADevices"]]


def assert_no_secret(aws, output, *secrets):
    assert not [seed for seed in aws.issued_seeds() if seed in output], "a seed appears in the output"
    assert not [secret for secret in secrets if secret in output], "a code appears in the output"


# --- mfa.aws.iam_virtual_mfa -------------------------------------------------------------------


def test_five_devices_are_created_with_one_listing(fresh_aws, ansible):
    results, calls = converge(ansible, fresh_aws, VIRTUAL_MFA, {"devices": [{"name": user} for user in USERS]}, diff=True)

    assert changes(results) == [True, True, False, False]
    assert [iam_calls(made) for made in calls] == [
        ["ListVirtualMFADevices"], ["ListVirtualMFADevices"] + ["CreateVirtualMFADevice"] * 5, ["ListVirtualMFADevices"], ["ListVirtualMFADevices"],
    ]
    checked, created, again = results[0], results[1], results[3]
    assert item_changes(checked) == [True] * 5 and item_changes(again) == [False] * 5
    assert [entry["serial_number"] for entry in checked["devices"]] == [None] * 5
    assert not [entry for entry in checked["devices"] + again["devices"] if "base32_seed" in entry or "qr_code_png" in entry]
    assert [entry["serial_number"] for entry in created["devices"]] == [serial(user) for user in USERS]
    seeds = [entry["base32_seed"] for entry in created["devices"]]
    assert len(set(seeds)) == 5 and set(seeds) <= set(fresh_aws.issued_seeds())
    assert all(entry["qr_code_png"] for entry in created["devices"])
    assert "set no_log: true on this task" in created["warnings"][0]
    assert again["devices"] == [
        {"name": user, "path": "/", "state": "present", "changed": False, "serial_number": serial(user), "user_name": None} for user in USERS
    ]
    assert created["diff"]["before"] == {} and sorted(created["diff"]["after"]) == [f"/{user}" for user in USERS]
    assert created["diff"]["after"]["/ada"] == {"serial_number": serial("ada"), "path": "/", "name": "ada", "user_name": None, "tags": {}}
    assert seeds[0] not in json.dumps(created["diff"])
    assert virtual_devices(fresh_aws) == {serial(user): None for user in USERS}


def test_absent_and_present_items_are_done_in_order(fresh_aws, ansible):
    create_device(fresh_aws, "old")
    create_device(fresh_aws, "keep", tags={"owner": "keep"})
    lost_seed = create_device(fresh_aws, "redo")
    items = [
        {"name": "old", "state": "absent"},
        {"name": "keep", "tags": {"owner": "keep", "team": "ops"}},
        {"name": "redo", "state": "absent"},
        {"name": "redo", "tags": {"owner": "redo"}},
        {"name": "gone", "state": "absent"},
        {"name": "new", "path": "/staff/"},
    ]
    steps = [("check", True, {VIRTUAL_MFA: {"devices": items}}), ("apply", False, {VIRTUAL_MFA: {"devices": items}})]

    (checked, applied), calls = run_steps(ansible, fresh_aws, steps, diff=True)

    assert item_changes(checked) == item_changes(applied) == [True, True, True, True, False, True]
    assert iam_calls(calls[0]) == ["ListVirtualMFADevices", "ListMFADeviceTags"]
    assert iam_calls(calls[1]) == [
        "ListVirtualMFADevices", "DeleteVirtualMFADevice", "ListMFADeviceTags", "TagMFADevice",
        "DeleteVirtualMFADevice", "CreateVirtualMFADevice", "CreateVirtualMFADevice",
    ]
    assert virtual_devices(fresh_aws) == {serial("keep"): None, serial("redo"): None, serial("new", "/staff/"): None}
    assert device_tags(fresh_aws, serial("keep")) == {"owner": "keep", "team": "ops"}
    assert device_tags(fresh_aws, serial("redo")) == {"owner": "redo"}
    deleted, recreated = applied["devices"][2], applied["devices"][3]
    assert deleted == {"name": "redo", "path": "/", "state": "absent", "changed": True, "serial_number": serial("redo"), "user_name": None}
    assert recreated["serial_number"] == serial("redo") and recreated["base32_seed"] not in (lost_seed, None)
    assert [entry["name"] for entry in applied["devices"] if "base32_seed" in entry] == ["redo", "new"]
    assert applied["devices"][4] == {"name": "gone", "path": "/", "state": "absent", "changed": False, "serial_number": None, "user_name": None}
    assert checked["devices"][3]["serial_number"] is None and "base32_seed" not in checked["devices"][3]
    assert checked["diff"]["before"] == applied["diff"]["before"]
    assert sorted(checked["diff"]["after"]) == sorted(applied["diff"]["after"])
    assert sorted(applied["diff"]["before"]) == ["/keep", "/old", "/redo"]
    assert sorted(applied["diff"]["after"]) == ["/keep", "/redo", "/staff/new"]
    assert applied["diff"]["after"]["/keep"]["tags"] == {"owner": "keep", "team": "ops"}


@pytest.mark.parametrize("check", [True, False])
def test_assigned_device_in_an_absent_item_stops_the_batch(fresh_aws, ansible, check):
    fresh_aws.client("iam").create_user(UserName="bob")
    enable_directly(fresh_aws, "bob", serial("bob"), create_device(fresh_aws, "bob"))
    fresh_aws.reset_calls()

    run = ansible.module(VIRTUAL_MFA, {"devices": [{"name": "first"}, {"name": "bob", "state": "absent"}, {"name": "last"}]}, check=check)

    assert run.rc != 0
    assert run.result["msg"] == (
        f"devices[1] (/bob): virtual MFA device {serial('bob')} is enabled for user bob: set force=true to deactivate it first, "
        "or deactivate it with mfa.aws.iam_mfa_enable state=absent"
    )
    assert run.result["changed"] is True
    assert [entry["name"] for entry in run.result["devices"]] == ["first"]
    assert iam_calls(fresh_aws.calls()) == ["ListVirtualMFADevices"] + ["CreateVirtualMFADevice"] * (not check)
    if check:
        assert run.result["devices"][0]["serial_number"] is None and "base32_seed" not in run.result["devices"][0]
        assert virtual_devices(fresh_aws) == {serial("bob"): "bob"}
    else:
        # The seed of the device created before the failure is in the failed result: it must not be lost.
        assert run.result["devices"][0]["base32_seed"] in fresh_aws.issued_seeds()
        assert "set no_log: true on this task" in run.result["warnings"][0]
        assert virtual_devices(fresh_aws) == {serial("bob"): "bob", serial("first"): None}


@pytest.mark.parametrize(
    "module, devices, message",
    [
        (VIRTUAL_MFA, [{"name": "ada"}, {"name": "ben smith"}], "devices[1] (/ben smith): name must be 1 to 226 characters"),
        (VIRTUAL_MFA, [{"name": "ada", "path": "staff"}], "devices[0] (staffada): path must begin and end with /"),
        (MFA_ENABLE, [{"user_name": "ada", "serial_number": serial("ada")}, {"user_name": "<root_account>", "serial_number": serial("root")}],
         "devices[1] (<root_account>): AWS lets nobody enable MFA for the root user through the API"),
        (MFA_ENABLE, [{"user_name": "ada", "serial_number": serial("ada"), "authentication_code_1": "12345", "authentication_code_2": "271828"}],
         "devices[0] (ada): authentication_code_1 must be exactly 6 digits (quote it in YAML to keep a leading zero)"),
    ],
)
def test_items_are_checked_before_any_call(fresh_aws, ansible, module, devices, message):
    run = ansible.module(module, {"devices": devices})

    assert run.rc != 0
    assert run.result["msg"].startswith(message)
    assert "271828" not in run.output
    assert fresh_aws.calls() == []


# --- mfa.aws.iam_mfa_enable --------------------------------------------------------------------


def test_five_users_are_enabled_with_one_listing(fresh_aws, ansible):
    seeds = users_with_devices(fresh_aws)
    play_vars = {"users": list(USERS), "seeds": seeds, "serials": {user: serial(user) for user in USERS}, "stale": {}}
    without_codes = {MFA_ENABLE: {"devices": [{"user_name": user, "serial_number": serial(user)} for user in USERS]}}
    steps = [
        ("check", True, ENABLE_WITH_CODES), ("apply", False, ENABLE_WITH_CODES), ("check again", True, without_codes), ("apply again", False, without_codes),
    ]

    results, calls = run_steps(ansible, fresh_aws, steps, play_vars, diff=True)

    assert changes(results) == [True, True, False, False]
    assert [iam_calls(made) for made in calls] == [
        ["ListVirtualMFADevices"], ["ListVirtualMFADevices"] + ["EnableMFADevice"] * 5, ["ListVirtualMFADevices"], ["ListVirtualMFADevices"],
    ]
    assert item_changes(results[0]) == item_changes(results[1]) == [True] * 5
    assert results[3]["devices"] == [
        {"user_name": user, "serial_number": serial(user), "kind": "virtual", "state": "present", "changed": False} for user in USERS
    ]
    assert results[1]["diff"] == {"before": {user: [] for user in USERS}, "after": {user: [serial(user)] for user in USERS}}
    assert results[3]["diff"]["before"] == results[3]["diff"]["after"] == {user: [serial(user)] for user in USERS}
    assert {user: user_devices(fresh_aws, user) for user in USERS} == {user: [serial(user)] for user in USERS}


def test_without_listing_first_new_devices_cost_only_their_writes_and_existing_ones_one_listing(fresh_aws, ansible):
    """list_first=false, as the enroll role uses it: a create or enable straight away, a listing only once AWS says one exists."""
    iam = fresh_aws.client("iam")
    for user in USERS:
        iam.create_user(UserName=user)
    create = {VIRTUAL_MFA: {"devices": [{"name": user} for user in USERS], "list_first": False}}
    steps = [("check", True, create), ("apply", False, create), ("apply again", False, create)]

    results, calls = run_steps(ansible, fresh_aws, steps, {})

    assert changes(results) == [True, True, False]
    # Run again, the creations made at once (4 at a time) each hear that the device exists until the first of them has
    # listed the devices: one listing serves them all, and the devices not tried yet.
    assert [sorted(iam_calls(made)) for made in calls[:2]] == [["ListVirtualMFADevices"], ["CreateVirtualMFADevice"] * 5]
    again = Counter(iam_calls(calls[2]))
    assert set(again) == {"ListVirtualMFADevices", "CreateVirtualMFADevice"}
    assert again["ListVirtualMFADevices"] == 1 and 1 <= again["CreateVirtualMFADevice"] <= 4
    seeds = {entry["name"]: entry["base32_seed"] for entry in results[1]["devices"]}
    assert sorted(seeds) == sorted(USERS) and all(seed in fresh_aws.issued_seeds() for seed in seeds.values())

    play_vars = {"users": list(USERS), "seeds": seeds, "serials": {user: serial(user) for user in USERS}, "stale": {}}
    enable = {MFA_ENABLE: {"devices": "{{ items_json | from_json }}", "list_first": False}, "vars": {"items_json": LOOKUP_ITEMS}}
    results, calls = run_steps(ansible, fresh_aws, [("apply", False, enable), ("apply again", False, enable)], play_vars)

    # The endpoint checks every pair of codes against the seed: a wrong pair fails the task.
    assert changes(results) == [True, False]
    # Run again, every enabling hears that its device is in use, and one listing (made at the first of them) says for whom.
    assert [sorted(iam_calls(made)) for made in calls] == [["EnableMFADevice"] * 5, ["EnableMFADevice"] * 5 + ["ListVirtualMFADevices"]]
    assert {user: user_devices(fresh_aws, user) for user in USERS} == {user: [serial(user)] for user in USERS}


def test_hardware_token_costs_one_listing_of_its_user(fresh_aws, ansible):
    seeds = users_with_devices(fresh_aws, USERS[:4])
    seeds[USERS[4]] = pyotp.random_base32()
    fresh_aws.register_hardware_token(TOKEN, seeds[USERS[4]])
    fresh_aws.client("iam").create_user(UserName=USERS[4])
    serials = {**{user: serial(user) for user in USERS[:4]}, USERS[4]: TOKEN}
    play_vars = {"users": list(USERS), "seeds": seeds, "serials": serials, "stale": {}}
    steps = [("check", True, ENABLE_WITH_CODES), ("apply", False, ENABLE_WITH_CODES), ("apply again", False, ENABLE_WITH_CODES)]

    results, calls = run_steps(ansible, fresh_aws, steps, play_vars)

    listings = ["ListVirtualMFADevices", "ListMFADevices"]
    assert changes(results) == [True, True, False]
    assert [iam_calls(made) for made in calls] == [listings, listings + ["EnableMFADevice"] * 5, listings]
    assert [entry["kind"] for entry in results[1]["devices"]] == ["virtual"] * 4 + ["hardware"]
    assert user_devices(fresh_aws, USERS[4]) == [TOKEN]
    assert [call["action"] for call in calls[1] if call["action"] == "ListMFADevices"] == ["ListMFADevices"]


def test_wrong_codes_stop_the_batch_at_their_item(fresh_aws, ansible):
    seeds = users_with_devices(fresh_aws)
    stale = codes(seeds["cy"], windows_ago=20)
    play_vars = {"users": list(USERS), "seeds": seeds, "serials": {user: serial(user) for user in USERS}, "stale": {"cy": list(stale)}}
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "vars": play_vars,
        "tasks": [{"name": "module under test", **ENABLE_WITH_CODES, "register": "module_result"}],
    }
    fresh_aws.reset_calls()

    run = ansible.playbook(json.dumps([play]) + "\n")

    assert run.rc != 0
    result = run.task_results[0]["result"]
    assert result["msg"].startswith(f"devices[2] (cy): Failed to enable MFA device {serial('cy')} for user cy ({HINT})")
    assert "\n" not in result["msg"]
    assert result["changed"] is True
    assert result["devices"] == [
        {"user_name": user, "serial_number": serial(user), "kind": "virtual", "state": "present", "changed": True} for user in ("ada", "ben")
    ]
    assert iam_calls(fresh_aws.calls()) == ["ListVirtualMFADevices", "EnableMFADevice", "EnableMFADevice", "EnableMFADevice"]
    assert {user: user_devices(fresh_aws, user) for user in USERS} == {"ada": [serial("ada")], "ben": [serial("ben")], "cy": [], "dot": [], "eve": []}
    assert_no_secret(fresh_aws, run.output, *stale, *(code for seed in seeds.values() for code in recent_codes(seed)))


def test_device_of_another_user_is_refused_naming_that_user(fresh_aws, ansible):
    seeds = users_with_devices(fresh_aws, ("ada", "ben"))
    enable_directly(fresh_aws, "ben", serial("ben"), seeds["ben"])
    pair = codes(seeds["ben"])
    items = [
        {"user_name": "ada", "serial_number": serial("ada"), "state": "absent"},
        {"user_name": "ada", "serial_number": serial("ben"), "authentication_code_1": pair[0], "authentication_code_2": pair[1]},
    ]
    fresh_aws.reset_calls()

    run = ansible.module(MFA_ENABLE, {"devices": items})

    assert run.rc != 0
    assert run.result["msg"] == (
        f"devices[1] (ada): Failed to enable MFA device {serial('ben')} for user ada: it is enabled for user ben, "
        "deactivate it there first (mfa.aws.iam_mfa_enable state=absent)"
    )
    assert run.result["changed"] is False and item_changes(run.result) == [False]
    assert iam_calls(fresh_aws.calls()) == ["ListVirtualMFADevices"]
    assert_no_secret(fresh_aws, run.output, *pair)


def test_devices_are_deactivated_in_one_task(fresh_aws, ansible):
    seeds = users_with_devices(fresh_aws, ("ada", "ben"))
    enable_directly(fresh_aws, "ada", serial("ada"), seeds["ada"])
    items = [{"user_name": user, "serial_number": serial(user), "state": "absent"} for user in ("ada", "ben")]

    results, calls = converge(ansible, fresh_aws, MFA_ENABLE, {"devices": items})

    assert changes(results) == [True, True, False, False]
    assert item_changes(results[1]) == [True, False]
    assert [iam_calls(made) for made in calls] == [
        ["ListVirtualMFADevices"], ["ListVirtualMFADevices", "DeactivateMFADevice"], ["ListVirtualMFADevices"], ["ListVirtualMFADevices"],
    ]
    assert user_devices(fresh_aws, "ada") == []


# --- both, as a play enrolls users -------------------------------------------------------------

ENROL_PLAY = """
- name: Give several users a virtual MFA device each, enabled with codes computed from its seed
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the devices
      mfa.aws.iam_virtual_mfa:
        devices: "{{ users_json | from_json }}"
      vars:
        users_json: "[{% for user in users %}{\\"name\\": {{ user | to_json }}}{{ '' if loop.last else ',' }}{% endfor %}]"
      register: created
      no_log: true

    - name: Enable them with two consecutive codes each
      mfa.aws.iam_mfa_enable:
        devices: "{{ items_json | from_json }}"
      vars:
        items_json: >-
          [{% for device in created.devices if device.base32_seed is defined %}
          {% set codes = lookup('mfa.aws.totp', device.base32_seed, pair=true) %}
          {"user_name": {{ device.name | to_json }}, "serial_number": {{ device.serial_number | to_json }},
           "authentication_code_1": {{ codes[0] | to_json }}, "authentication_code_2": {{ codes[1] | to_json }}}{{ '' if loop.last else ',' }}
          {% endfor %}]
      register: enabled
      no_log: true

    - name: Both again change nothing
      mfa.aws.iam_virtual_mfa:
        devices: "{{ users_json | from_json }}"
      vars:
        users_json: "[{% for user in users %}{\\"name\\": {{ user | to_json }}}{{ '' if loop.last else ',' }}{% endfor %}]"
      register: created_again
      no_log: true

    - name: Enable again, without codes
      mfa.aws.iam_mfa_enable:
        devices: "{{ items_json | from_json }}"
      vars:
        items_json: >-
          [{% for device in created.devices %}
          {"user_name": {{ device.name | to_json }}, "serial_number": {{ device.serial_number | to_json }}}{{ '' if loop.last else ',' }}
          {% endfor %}]
      register: enabled_again
      no_log: true

    - name: Every device was created and enabled once
      ansible.builtin.assert:
        that:
          - created is changed and enabled is changed
          - created_again is not changed and enabled_again is not changed
          - created.devices | selectattr('base32_seed', 'defined') | list | length == users | length
          - enabled.devices | selectattr('changed') | list | length == users | length
        quiet: true
      no_log: true
"""


def test_enrollment_survives_throttling(fresh_aws, ansible):
    iam = fresh_aws.client("iam")
    for user in USERS:
        iam.create_user(UserName=user)
    fresh_aws.throttle(0.3, service="iam", seed=5)

    run = ansible.playbook(ENROL_PLAY, extra_vars={"users": list(USERS)})

    fresh_aws.throttle(0)
    assert run.rc == 0, run.output
    assert any(call.get("throttled") for call in fresh_aws.calls())
    answered = [call["action"] for call in fresh_aws.calls() if not call.get("throttled")]
    assert answered.count("CreateVirtualMFADevice") == answered.count("EnableMFADevice") == 5
    assert {user: user_devices(fresh_aws, user) for user in USERS} == {user: [serial(user)] for user in USERS}


@pytest.mark.parametrize("verbosity", [0, 4])
def test_seeds_stay_out_of_the_output_of_no_log_tasks(fresh_aws, ansible, verbosity):
    users = [f"{user}-v{verbosity}" for user in USERS]
    iam = fresh_aws.client("iam")
    for user in users:
        iam.create_user(UserName=user)
    fresh_aws.reset_calls()

    run = ansible.playbook(ENROL_PLAY, extra_vars={"users": users}, verbosity=verbosity)

    assert run.rc == 0, run.output
    assert run.recap["localhost"]["failed"] == 0
    assert iam_calls(fresh_aws.calls()) == (
        ["ListVirtualMFADevices"] + ["CreateVirtualMFADevice"] * 5 + ["ListVirtualMFADevices"] + ["EnableMFADevice"] * 5
        + ["ListVirtualMFADevices"] * 2
    )
    assert {user: user_devices(fresh_aws, user) for user in users} == {user: [serial(user)] for user in users}
    assert_no_secret(fresh_aws, run.output)
