# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import ROOT_HANDOFF
from ansible_collections.mfa.aws.plugins.module_utils import _enablement as enablement
from ansible_collections.mfa.aws.tests.unit.utils.constants import SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import paged_client

TOKEN = "GAHT12345678"
CODES = ("271828", "314159")
ENABLED = datetime.datetime(2024, 6, 1, 9, 30, tzinfo=datetime.timezone.utc)
WRITES = ("enable_mfa_device", "deactivate_mfa_device", "resync_mfa_device")


def listed(serial_number, user_name="alice"):
    return {"UserName": user_name, "SerialNumber": serial_number, "EnableDate": ENABLED}


def fake_iam(user_devices=(), virtual_devices=()):
    """An IAM client whose listings return these devices and whose writes succeed."""
    return paged_client({
        "list_mfa_devices": {"MFADevices": list(user_devices)},
        "list_virtual_mfa_devices": {"VirtualMFADevices": list(virtual_devices)},
    })


def calls(client):
    """The AWS operations called, listings named by their paginator."""
    return [args[0] if name == "get_paginator" else name for name, args, _kwargs in client.method_calls]


def writes(client):
    return [name for name in calls(client) if name in WRITES]


def single(client, check_mode, serial_number, codes=(None, None), state="present"):
    """The single form of the module for alice's device (states present and absent: a batch of one)."""
    params = dict(user_name="alice", serial_number=serial_number, state=state, base32_seed=None, **dict(zip(enablement.CODE_OPTIONS, codes)))
    return enablement.ensure_one(client, check_mode, params)


def already_enabled_error():
    return botocore.exceptions.ClientError({"Error": {"Code": "EntityAlreadyExists", "Message": "in use"}}, "EnableMFADevice")


@pytest.mark.parametrize("user_name", ["<root_account>", "arn:aws:iam::123456789012:root"])
def test_root_user_is_handed_off(user_name):
    assert enablement.argument_problem(user_name, SERIAL, CODES) == ROOT_HANDOFF


@pytest.mark.parametrize(
    "codes, option",
    [(("12345", "314159"), "authentication_code_1"), (("271828", "31415a"), "authentication_code_2"), (("0271828", None), "authentication_code_1")],
)
def test_bad_codes_are_refused_without_quoting_them(codes, option):
    problem = enablement.argument_problem("alice", SERIAL, codes)

    assert problem == f"{option} must be exactly 6 digits (quote it in YAML to keep a leading zero)"
    assert not any(code and code in problem for code in codes)


def test_bad_hardware_serial_is_refused():
    assert "9 to 256 characters" in enablement.argument_problem("alice", "GAHT 1", CODES)


@pytest.mark.parametrize("codes", [CODES, (None, None)])
def test_good_arguments_have_no_problem(codes):
    assert enablement.argument_problem("alice", TOKEN, codes) is None


def test_enabled_device_is_no_change_with_one_call_and_no_codes():
    client = fake_iam([listed(SERIAL), listed(TOKEN)])

    result = single(client, False, SERIAL, (None, None))

    assert result == {
        "changed": False,
        "user_name": "alice",
        "serial_number": SERIAL,
        "kind": "virtual",
        "enable_date": "2024-06-01T09:30:00+00:00",
        "mfa_devices": [
            {"user_name": "alice", "serial_number": SERIAL, "enable_date": "2024-06-01T09:30:00+00:00", "kind": "virtual"},
            {"user_name": "alice", "serial_number": TOKEN, "enable_date": "2024-06-01T09:30:00+00:00", "kind": "hardware"},
        ],
        "diff": {
            "before": {"user_name": "alice", "serial_number": SERIAL, "enabled": True},
            "after": {"user_name": "alice", "serial_number": SERIAL, "enabled": True},
        },
    }
    assert calls(client) == ["list_mfa_devices"]


def test_enabling_without_codes_says_they_are_required():
    client = fake_iam()

    with pytest.raises(AnsibleIAMError) as raised:
        single(client, False, SERIAL, (None, None))

    assert raised.value.message.startswith(f"authentication_code_1 and authentication_code_2 are required to enable MFA device {SERIAL} for user alice")
    assert writes(client) == []


@pytest.mark.parametrize("check_mode, expected_calls", [(True, ["list_mfa_devices"]), (False, ["list_mfa_devices", "enable_mfa_device"])])
def test_enabling_reads_once_and_writes_once(check_mode, expected_calls):
    client = fake_iam([listed(TOKEN)])

    result = single(client, check_mode, SERIAL, CODES)

    assert result["changed"] is True
    assert result["diff"]["before"]["enabled"] is False and result["diff"]["after"]["enabled"] is True
    assert [device["serial_number"] for device in result["mfa_devices"]] == [TOKEN, SERIAL]
    assert result["enable_date"] == result["mfa_devices"][1]["enable_date"]
    assert calls(client) == expected_calls


def test_enabling_sends_the_codes():
    client = fake_iam()

    single(client, False, TOKEN, CODES)

    client.enable_mfa_device.assert_called_once_with(
        aws_retry=True, UserName="alice", SerialNumber=TOKEN, AuthenticationCode1=CODES[0], AuthenticationCode2=CODES[1]
    )


def test_virtual_device_of_another_user_is_named():
    client = fake_iam(virtual_devices=[{"SerialNumber": SERIAL, "User": {"UserName": "bob"}}])
    client.enable_mfa_device.side_effect = already_enabled_error()

    with pytest.raises(AnsibleIAMError) as raised:
        single(client, False, SERIAL, CODES)

    assert raised.value.message == (
        f"Failed to enable MFA device {SERIAL} for user alice: it is enabled for user bob, deactivate it there first (mfa.aws.iam_mfa_enable state=absent)"
    )
    assert calls(client) == ["list_mfa_devices", "enable_mfa_device", "list_virtual_mfa_devices"]


def test_hardware_token_of_another_user_keeps_the_aws_error():
    client = fake_iam()
    client.enable_mfa_device.side_effect = already_enabled_error()

    with pytest.raises(AnsibleIAMError) as raised:
        single(client, False, TOKEN, CODES)

    assert raised.value.message == f"Failed to enable MFA device {TOKEN} for user alice (the device is enabled for a user already: deactivate it there first)"
    assert calls(client) == ["list_mfa_devices", "enable_mfa_device"]


def test_deactivating_a_device_that_is_not_enabled_is_no_change():
    client = fake_iam([listed(TOKEN)])

    result = single(client, False, SERIAL, state="absent")

    assert result["changed"] is False
    assert "enable_date" not in result
    assert result["diff"]["before"] == result["diff"]["after"] == {"user_name": "alice", "serial_number": SERIAL, "enabled": False}
    assert writes(client) == []


@pytest.mark.parametrize("check_mode, expected_writes", [(True, []), (False, ["deactivate_mfa_device"])])
def test_deactivating_an_enabled_device(check_mode, expected_writes):
    client = fake_iam([listed(SERIAL), listed(TOKEN)])

    result = single(client, check_mode, SERIAL, state="absent")

    assert result["changed"] is True
    assert [device["serial_number"] for device in result["mfa_devices"]] == [TOKEN]
    assert result["diff"]["after"]["enabled"] is False
    assert writes(client) == expected_writes


@pytest.mark.parametrize("check_mode, expected_writes", [(True, []), (False, ["resync_mfa_device"])])
def test_resync_always_changes(check_mode, expected_writes):
    client = fake_iam([listed(TOKEN)])

    result = enablement.resync(client, check_mode, "alice", TOKEN, CODES)

    assert result["changed"] is True
    assert result["kind"] == "hardware"
    assert writes(client) == expected_writes


def test_resync_of_a_device_that_is_not_enabled_fails_before_writing():
    client = fake_iam()

    with pytest.raises(AnsibleIAMError, match=f"MFA device {TOKEN} is not enabled for user alice"):
        enablement.resync(client, False, "alice", TOKEN, CODES)

    assert writes(client) == []


# --- the devices option ------------------------------------------------------------------------

BOB_SERIAL = "arn:aws:iam::123456789012:mfa/bob"


def item(user_name, serial_number, codes=(None, None), state="present"):
    """An item of the devices option, with the defaults Ansible fills in."""
    return dict(user_name=user_name, serial_number=serial_number, authentication_code_1=codes[0], authentication_code_2=codes[1], state=state)


def virtual(serial_number, user_name=None):
    """A device as ListVirtualMFADevices shows it."""
    return {"SerialNumber": serial_number, "User": {"UserName": user_name} if user_name else None}


@pytest.mark.parametrize(
    "state, owner, codes, action",
    [
        ("present", None, CODES, enablement.ENABLE),
        ("present", "alice", (None, None), None),
        ("absent", "alice", (None, None), enablement.DEACTIVATE),
        ("absent", None, (None, None), None),
        ("absent", "bob", (None, None), None),
    ],
)
def test_plan(state, owner, codes, action):
    assert enablement.plan(state, "alice", SERIAL, owner, codes) == action


def test_plan_refuses_a_device_of_another_user_naming_them():
    with pytest.raises(AnsibleIAMError) as raised:
        enablement.plan("present", "alice", SERIAL, "bob", CODES)

    assert raised.value.message == (
        f"Failed to enable MFA device {SERIAL} for user alice: it is enabled for user bob, deactivate it there first (mfa.aws.iam_mfa_enable state=absent)"
    )


def test_plan_needs_codes_to_enable():
    with pytest.raises(AnsibleIAMError, match=f"authentication_code_1 and authentication_code_2 are required to enable MFA device {SERIAL} for user alice"):
        enablement.plan("present", "alice", SERIAL, None, (None, None))


@pytest.mark.parametrize(
    "items, problem",
    [
        ([item("alice", SERIAL, CODES), item("bob", TOKEN)], None),
        ([item("alice", SERIAL), item("<root_account>", TOKEN)], f"devices[1] (<root_account>): {ROOT_HANDOFF}"),
        (
            [item("alice", "GAHT 1")],
            "devices[0] (alice): serial_number must be a virtual device ARN or a hardware token's printed serial (9 to 256 characters)",
        ),
        (
            [item("alice", SERIAL, ("271828", "31415"))],
            "devices[0] (alice): authentication_code_2 must be exactly 6 digits (quote it in YAML to keep a leading zero)",
        ),
    ],
)
def test_items_problem_names_the_first_bad_item_without_quoting_codes(items, problem):
    assert enablement.items_problem(items) == problem


def test_owners_of_virtual_devices_cost_one_listing():
    client = fake_iam(virtual_devices=[virtual(SERIAL, "alice"), virtual(BOB_SERIAL)])

    owners = enablement.read_owners(client, [item("alice", SERIAL), item("bob", BOB_SERIAL), item("carol", BOB_SERIAL)])

    assert owners == {SERIAL: "alice", BOB_SERIAL: None}
    assert calls(client) == ["list_virtual_mfa_devices"]


def test_owners_of_hardware_tokens_cost_one_listing_per_user():
    client = fake_iam(user_devices=[listed(TOKEN, "bob")])

    owners = enablement.read_owners(client, [item("bob", TOKEN), item("bob", "GAHT87654321", state="absent")])

    assert owners == {TOKEN: "bob"}
    assert calls(client) == ["list_mfa_devices"]


def test_owners_of_both_kinds():
    client = fake_iam(user_devices=[listed(TOKEN, "bob")], virtual_devices=[virtual(SERIAL)])

    owners = enablement.read_owners(client, [item("alice", SERIAL), item("bob", TOKEN), item("carol", "GAHT87654321")])

    assert owners == {SERIAL: None, TOKEN: "bob"}
    assert calls(client) == ["list_virtual_mfa_devices", "list_mfa_devices", "list_mfa_devices"]


def test_unknown_user_of_a_hardware_token_names_its_item():
    client = fake_iam()
    listing = client.get_paginator.side_effect

    def paginator(name):
        result = listing(name)
        if name == "list_mfa_devices":
            result.paginate.return_value.build_full_result.side_effect = botocore.exceptions.ClientError({"Error": {"Code": "NoSuchEntity"}}, "ListMFADevices")
        return result

    client.get_paginator.side_effect = paginator

    with pytest.raises(AnsibleIAMError) as raised:
        enablement.read_owners(client, [item("alice", SERIAL), item("nobody", TOKEN)])

    assert raised.value.message == "devices[1] (nobody): Failed to list the MFA devices of user nobody (no IAM user named nobody: check user_name)"
    assert calls(client) == ["list_virtual_mfa_devices", "list_mfa_devices"]


def test_enabled_among_lists_the_items_devices_enabled_for_each_user():
    items = [item("alice", SERIAL), item("alice", TOKEN), item("alice", SERIAL), item("bob", BOB_SERIAL), item("carol", SERIAL)]

    assert enablement.enabled_among(items, {SERIAL: "alice", TOKEN: None, BOB_SERIAL: "dave"}) == {"alice": [SERIAL], "bob": [], "carol": []}


@pytest.mark.parametrize("check_mode, expected_writes", [(True, []), (False, ["enable_mfa_device", "deactivate_mfa_device", "enable_mfa_device"])])
def test_items_are_done_in_order_and_seen_by_the_next(check_mode, expected_writes):
    client = fake_iam()
    owners = {SERIAL: None, BOB_SERIAL: "bob"}
    items = [item("alice", SERIAL, CODES), item("alice", SERIAL), item("bob", BOB_SERIAL, state="absent"), item("alice", BOB_SERIAL, CODES)]

    entries = list(enablement.ensure_items(client, check_mode, items, owners))

    assert entries == [
        {"user_name": "alice", "serial_number": SERIAL, "kind": "virtual", "state": "present", "changed": True},
        {"user_name": "alice", "serial_number": SERIAL, "kind": "virtual", "state": "present", "changed": False},
        {"user_name": "bob", "serial_number": BOB_SERIAL, "kind": "virtual", "state": "absent", "changed": True},
        {"user_name": "alice", "serial_number": BOB_SERIAL, "kind": "virtual", "state": "present", "changed": True},
    ]
    assert owners == {SERIAL: "alice", BOB_SERIAL: "alice"}
    assert writes(client) == expected_writes


def test_an_aws_error_stops_the_items_at_the_one_that_failed():
    client = fake_iam()
    client.enable_mfa_device.side_effect = [None, botocore.exceptions.ClientError({"Error": {"Code": "InvalidAuthenticationCode"}}, "EnableMFADevice")]
    items = [item("alice", SERIAL, CODES), item("bob", BOB_SERIAL, CODES), item("carol", TOKEN, CODES)]
    batch = enablement.ensure_items(client, False, items, {})

    first = next(batch)
    with pytest.raises(AnsibleIAMError) as raised:
        next(batch)

    assert first["changed"] is True
    assert raised.value.message == (
        f"devices[1] (bob): Failed to enable MFA device {BOB_SERIAL} for user bob "
        "(the two codes are not consecutive codes of this device's seed: check the device clock or the seed)"
    )
    assert not any(code in raised.value.message for code in CODES)
    assert writes(client) == ["enable_mfa_device", "enable_mfa_device"]


def test_a_device_of_another_user_stops_the_items_before_any_call_for_it():
    client = fake_iam()

    with pytest.raises(AnsibleIAMError, match=r"^devices\[0\] \(alice\): Failed to enable MFA device .* it is enabled for user bob"):
        list(enablement.ensure_items(client, False, [item("alice", BOB_SERIAL, CODES)], {BOB_SERIAL: "bob"}))

    assert calls(client) == []


# --- list_first=false -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "items, check_mode, expected",
    [
        ([item("alice", SERIAL, CODES), item("bob", BOB_SERIAL, CODES)], False, False),
        ([item("alice", SERIAL, CODES)], True, True),
        ([item("alice", SERIAL, CODES), item("bob", BOB_SERIAL, state="absent")], False, True),
        ([item("alice", SERIAL, CODES), item("alice", TOKEN, CODES)], False, True),
        ([item("alice", SERIAL, CODES), item("bob", BOB_SERIAL)], False, True),
    ],
)
def test_only_a_batch_that_enables_virtual_devices_may_skip_the_listing(items, check_mode, expected):
    assert enablement.lists_first(items, check_mode, list_first=False) is expected
    assert enablement.lists_first(items, check_mode, list_first=True) is True


def test_without_listing_a_device_already_enabled_for_its_user_is_no_change():
    client = fake_iam(virtual_devices=[virtual(SERIAL, "alice")])

    items = [item("alice", SERIAL, CODES), item("bob", BOB_SERIAL, CODES), item("carol", SERIAL.replace("alice", "carol"), CODES)]
    client.enable_mfa_device.side_effect = [already_enabled_error(), None, None]

    seen = {}
    entries = list(enablement.ensure_items(client, False, items, {}, listed=False, seen=seen))

    assert [entry["changed"] for entry in entries] == [False, True, True]
    # What was enabled before the run, for the diff: the listing, less what this run enabled before it.
    assert seen == {"listing": {SERIAL: "alice"}, "enabled": set()}
    # One listing for the whole batch, once AWS said a device is in use.
    assert calls(client) == ["enable_mfa_device", "list_virtual_mfa_devices", "enable_mfa_device", "enable_mfa_device"]


def test_without_listing_a_device_of_another_user_is_named():
    client = fake_iam(virtual_devices=[virtual(SERIAL, "carol")])
    client.enable_mfa_device.side_effect = already_enabled_error()

    with pytest.raises(AnsibleIAMError, match=r"^devices\[0\] \(alice\): Failed to enable MFA device .* it is enabled for user carol"):
        list(enablement.ensure_items(client, False, [item("alice", SERIAL, CODES)], {}, listed=False))
