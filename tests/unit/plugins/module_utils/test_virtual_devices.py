# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils import _virtual_devices as virtual_devices
from ansible_collections.mfa.aws.tests.unit.utils.constants import paged_client

SERIAL = "arn:aws:iam::123456789012:mfa/team/alice"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PNG = b"\x89PNG\r\n\x1a\nQR"
WRITES = ("create_virtual_mfa_device", "delete_virtual_mfa_device", "deactivate_mfa_device", "tag_mfa_device", "untag_mfa_device")


def fake_iam(devices=(), tags=None):
    """An IAM client whose listings return these virtual devices and tags, and whose writes succeed."""
    pages = {
        "list_virtual_mfa_devices": {"VirtualMFADevices": list(devices)},
        "list_mfa_device_tags": {"Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()]},
    }
    client = paged_client(pages)
    client.create_virtual_mfa_device.return_value = {
        "VirtualMFADevice": {"SerialNumber": SERIAL, "Base32StringSeed": SEED.encode("ascii"), "QRCodePNG": PNG}
    }
    return client


def writes(client):
    return [name for name, _args, _kwargs in client.method_calls if name in WRITES]


def assigned(user_name="alice"):
    return {"SerialNumber": SERIAL, "User": {"UserName": user_name}, "EnableDate": datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)}


def single(client, check_mode, state="present", **options):
    """The single form of the module for the device alice under /team/ (a batch of one)."""
    return virtual_devices.ensure_one(client, check_mode, dict(name="alice", path="/team/", state=state, **options))


def test_diff_view_keeps_only_the_public_keys():
    device = {"serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": None, "tags": {}, "enable_date": None, "base32_seed": SEED}

    assert virtual_devices.diff_view(device) == {"serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": None, "tags": {}}
    assert virtual_devices.diff_view(None) == {}


def test_stored_tags_are_text_as_aws_keeps_them():
    assert virtual_devices.stored_tags({"count": 3, "enabled": True, "owner": "alice"}) == {"count": "3", "enabled": "True", "owner": "alice"}


@pytest.mark.parametrize(
    "current, tags, purge_tags, to_set, to_remove, after",
    [
        ({"a": "1"}, None, True, {}, [], {"a": "1"}),
        ({"a": "1"}, {"a": "1"}, True, {}, [], {"a": "1"}),
        ({"a": "1"}, {"a": "1", "b": "2"}, True, {"b": "2"}, [], {"a": "1", "b": "2"}),
        ({"a": "1"}, {"a": "9"}, True, {"a": "9"}, [], {"a": "9"}),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, {}, ["b"], {"a": "1"}),
        ({"a": "1", "b": "2"}, {"c": 3}, False, {"c": 3}, [], {"a": "1", "b": "2", "c": "3"}),
        ({"a": "1", "aws:cloudformation:stack-name": "s"}, {}, True, {}, ["a"], {"aws:cloudformation:stack-name": "s"}),
    ],
)
def test_plan_tags(current, tags, purge_tags, to_set, to_remove, after):
    assert virtual_devices.plan_tags(current, tags, purge_tags) == (to_set, to_remove, after)


def test_create_in_check_mode_writes_nothing_and_has_no_seed():
    client = fake_iam()

    result = single(client, True, tags={"owner": "alice"}, purge_tags=True)

    assert result == {
        "changed": True,
        "diff": {"before": {}, "after": {"serial_number": None, "path": "/team/", "name": "alice", "user_name": None, "tags": {"owner": "alice"}}},
    }
    assert writes(client) == []


def test_create_returns_the_seed_and_the_qr_code_once_and_nowhere_else():
    client = fake_iam()

    result = single(client, False, tags={"owner": "alice"}, purge_tags=True)

    assert result["changed"] is True
    assert result["base32_seed"] == SEED
    assert base64.b64decode(result["qr_code_png"]) == PNG
    assert result["serial_number"] == SERIAL
    assert result["virtual_mfa_device"] == {
        "serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": None, "enable_date": None, "tags": {"owner": "alice"},
    }
    assert SEED not in repr(result["virtual_mfa_device"]) + repr(result["diff"])
    assert writes(client) == ["create_virtual_mfa_device"]
    client.create_virtual_mfa_device.assert_called_once_with(
        aws_retry=True, Path="/team/", VirtualMFADeviceName="alice", Tags=[{"Key": "owner", "Value": "alice"}]
    )


def test_existing_device_with_its_tags_is_left_alone():
    client = fake_iam([assigned()], {"owner": "alice"})

    result = single(client, False, tags={"owner": "alice"}, purge_tags=True)

    assert result["changed"] is False
    assert "base32_seed" not in result and "qr_code_png" not in result
    assert result["virtual_mfa_device"]["user_name"] == "alice"
    assert result["virtual_mfa_device"]["enable_date"] == "2024-06-01T00:00:00+00:00"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert writes(client) == []


def test_tag_changes_in_check_mode_are_predicted_without_writing():
    client = fake_iam([assigned()], {"owner": "alice", "old": "x"})

    result = single(client, True, tags={"owner": "bob"}, purge_tags=True)

    assert result["changed"] is True
    assert result["diff"]["before"]["tags"] == {"owner": "alice", "old": "x"}
    assert result["diff"]["after"]["tags"] == {"owner": "bob"}
    assert writes(client) == []


def test_tag_changes_untag_then_tag():
    client = fake_iam([assigned()], {"owner": "alice", "old": "x"})

    result = single(client, False, tags={"owner": "bob"}, purge_tags=True)

    assert result["virtual_mfa_device"]["tags"] == {"owner": "bob"}
    assert writes(client) == ["untag_mfa_device", "tag_mfa_device"]
    client.untag_mfa_device.assert_called_once_with(aws_retry=True, SerialNumber=SERIAL, TagKeys=["old"])
    client.tag_mfa_device.assert_called_once_with(aws_retry=True, SerialNumber=SERIAL, Tags=[{"Key": "owner", "Value": "bob"}])


def test_absent_device_is_no_change():
    client = fake_iam()

    assert single(client, False, state="absent", force=False) == {"changed": False, "diff": {"before": {}, "after": {}}}
    assert writes(client) == []


def test_deleting_an_assigned_device_without_force_names_the_user():
    client = fake_iam([assigned("bob")])

    with pytest.raises(AnsibleIAMError) as raised:
        single(client, False, state="absent", force=False)

    assert raised.value.message == (
        f"virtual MFA device {SERIAL} is enabled for user bob: set force=true to deactivate it first, "
        "or deactivate it with mfa.aws.iam_mfa_enable state=absent"
    )
    assert writes(client) == []


@pytest.mark.parametrize("check_mode, expected_writes", [(True, []), (False, ["deactivate_mfa_device", "delete_virtual_mfa_device"])])
def test_forced_delete_deactivates_first(check_mode, expected_writes):
    client = fake_iam([assigned("bob")], {"owner": "bob"})

    result = single(client, check_mode, state="absent", force=True)

    assert result["changed"] is True
    assert result["diff"] == {"before": {"serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": "bob", "tags": {"owner": "bob"}}, "after": {}}
    assert writes(client) == expected_writes


# --- the devices option ------------------------------------------------------------------------

ACCOUNT_ARN = "arn:aws:iam::123456789012:mfa"


def item(name, path="/", state="present", tags=None, purge_tags=True, force=False):
    """An item of the devices option, with the defaults Ansible fills in."""
    return dict(name=name, path=path, state=state, tags=tags, purge_tags=purge_tags, force=force)


def listed(name, path="/", user_name=None, tags=None):
    """A device as ListVirtualMFADevices shows it."""
    device = {"SerialNumber": f"{ACCOUNT_ARN}{path}{name}", "Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()]}
    if user_name:
        device.update(User={"UserName": user_name}, EnableDate=datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc))
    return device


def batch_iam(devices=(), tags=None):
    """fake_iam() whose new devices get the serial number of their path and name, and a seed of their own."""
    client = fake_iam(devices, tags)

    def create_virtual_mfa_device(**kwargs):
        path, name = kwargs["Path"], kwargs["VirtualMFADeviceName"]
        return {"VirtualMFADevice": {"SerialNumber": f"{ACCOUNT_ARN}{path}{name}", "Base32StringSeed": f"SEED{name.upper()}".encode("ascii"), "QRCodePNG": PNG}}

    client.create_virtual_mfa_device.side_effect = create_virtual_mfa_device
    return client


def calls(client):
    """The AWS operations called, listings named by their paginator."""
    return [args[0] if name == "get_paginator" else name for name, args, _kwargs in client.method_calls]


def run_batch(client, check_mode, items):
    return list(virtual_devices.ensure_devices(client, check_mode, items))


@pytest.mark.parametrize(
    "items, problem",
    [
        ([item("alice"), item("bob", "/team/")], None),
        (
            [item("alice"), item("bob smith"), item("carol", "team")],
            "devices[1] (/bob smith): name must be 1 to 226 characters of letters, digits and +=,.@_- (as IAM requires)",
        ),
        (
            [item("alice", "team")],
            "devices[0] (teamalice): path must begin and end with / and be at most 512 printable ASCII characters (as IAM requires)",
        ),
    ],
)
def test_items_problem_names_the_first_bad_item(items, problem):
    assert virtual_devices.items_problem(items) == problem


def test_no_items_make_no_call():
    client = batch_iam()

    assert run_batch(client, False, []) == []
    assert calls(client) == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_new_devices_cost_one_listing_and_one_create_each(check_mode):
    client = batch_iam()

    results = run_batch(client, check_mode, [item("alice"), item("bob", "/team/", tags={"owner": "bob"})])

    assert [result["changed"] for result in results] == [True, True]
    assert calls(client) == ["list_virtual_mfa_devices"] + ["create_virtual_mfa_device"] * (0 if check_mode else 2)
    if not check_mode:
        assert [result["serial_number"] for result in results] == [f"{ACCOUNT_ARN}/alice", f"{ACCOUNT_ARN}/team/bob"]
        assert [result["base32_seed"] for result in results] == ["SEEDALICE", "SEEDBOB"]


def test_existing_devices_are_left_alone_without_reading_their_tags():
    client = batch_iam([listed("alice", user_name="alice", tags={"owner": "alice"}), listed("bob")])

    results = run_batch(client, False, [item("alice"), item("bob")])

    assert [result["changed"] for result in results] == [False, False]
    assert results[0]["diff"]["before"]["tags"] == {"owner": "alice"}
    assert results[0]["virtual_mfa_device"]["user_name"] == "alice"
    assert calls(client) == ["list_virtual_mfa_devices"]


def test_tags_are_read_only_for_items_with_tags():
    client = batch_iam([listed("alice"), listed("bob")], tags={"owner": "x"})

    results = run_batch(client, False, [item("alice", tags={"owner": "alice"}), item("bob")])

    assert [result["changed"] for result in results] == [True, False]
    assert calls(client) == ["list_virtual_mfa_devices", "list_mfa_device_tags", "tag_mfa_device"]


def test_items_see_what_the_items_before_them_did():
    client = batch_iam([listed("alice")])
    absent, tagged = item("alice", state="absent"), item("alice", tags={"a": "1"})
    items = [absent, tagged, tagged, absent, absent]

    results = run_batch(client, False, items)

    assert [result["changed"] for result in results] == [True, True, False, True, False]
    assert calls(client) == ["list_virtual_mfa_devices", "delete_virtual_mfa_device", "create_virtual_mfa_device", "delete_virtual_mfa_device"]


def test_check_mode_predicts_each_item_without_writing():
    client = batch_iam([listed("alice", user_name="alice")])
    items = [item("bob"), item("bob", tags={}), item("bob", state="absent"), item("alice", state="absent", force=True), item("alice")]

    results = run_batch(client, True, items)

    assert [result["changed"] for result in results] == [True, False, True, True, True]
    assert calls(client) == ["list_virtual_mfa_devices"]
    assert results[2]["diff"] == {"before": {"serial_number": None, "path": "/", "name": "bob", "user_name": None, "tags": {}}, "after": {}}


def test_an_assigned_device_stops_the_batch_at_its_item():
    client = batch_iam([listed("bob", user_name="bob")])
    batch = virtual_devices.ensure_devices(client, False, [item("alice"), item("bob", state="absent"), item("carol")])

    first = next(batch)
    with pytest.raises(AnsibleIAMError) as raised:
        next(batch)

    assert first["base32_seed"] == "SEEDALICE"
    assert raised.value.message.startswith(f"devices[1] (/bob): virtual MFA device {ACCOUNT_ARN}/bob is enabled for user bob: set force=true")
    assert calls(client) == ["list_virtual_mfa_devices", "create_virtual_mfa_device"]


def test_an_aws_error_names_the_item_and_keeps_the_aws_error():
    client = batch_iam()
    client.create_virtual_mfa_device.side_effect = botocore.exceptions.ClientError(
        {"Error": {"Code": "LimitExceeded", "Message": "too many"}}, "CreateVirtualMFADevice"
    )

    with pytest.raises(AnsibleIAMError) as raised:
        run_batch(client, False, [item("alice", "/team/")])

    assert raised.value.message == (
        "devices[0] (/team/alice): Failed to create virtual MFA device alice at path /team/ (the account has the most MFA devices AWS allows)"
    )
    assert error_code(raised.value.exception) == "LimitExceeded"


def test_device_entry_has_the_seed_only_of_a_created_device():
    created = virtual_devices.create(batch_iam(), False, "/", "alice", None)
    predicted = virtual_devices.create(batch_iam(), True, "/", "alice", None)
    kept = virtual_devices.ensure_device(None, False, virtual_devices.normalize_virtual_device(listed("alice", user_name="alice")), item("alice"))

    assert virtual_devices.device_entry(item("alice"), created) == {
        "name": "alice", "path": "/", "state": "present", "changed": True, "serial_number": f"{ACCOUNT_ARN}/alice", "user_name": None,
        "base32_seed": "SEEDALICE", "qr_code_png": base64.b64encode(PNG).decode("ascii"),
    }
    assert virtual_devices.device_entry(item("alice"), predicted) == {
        "name": "alice", "path": "/", "state": "present", "changed": True, "serial_number": None, "user_name": None,
    }
    assert virtual_devices.device_entry(item("alice"), kept) == {
        "name": "alice", "path": "/", "state": "present", "changed": False, "serial_number": f"{ACCOUNT_ARN}/alice", "user_name": "alice",
    }


def test_batch_diff_shows_each_device_before_its_first_item_and_after_its_last():
    client = batch_iam([listed("alice"), listed("old")])
    items = [item("alice", state="absent"), item("old", state="absent"), item("alice"), item("new", "/team/"), item("none", state="absent")]

    diff = virtual_devices.batch_diff(items, run_batch(client, False, items))

    assert sorted(diff["before"]) == ["/alice", "/old"]
    assert sorted(diff["after"]) == ["/alice", "/team/new"]
    assert diff["after"]["/team/new"] == {"serial_number": f"{ACCOUNT_ARN}/team/new", "path": "/team/", "name": "new", "user_name": None, "tags": {}}
    assert "SEEDALICE" not in repr(diff)


# --- list_first=false -----------------------------------------------------------------------------


def refusing_iam(devices=()):
    """batch_iam() that, as AWS does, refuses to create a device whose path and name are taken."""
    client = batch_iam(devices)
    taken = {device["SerialNumber"] for device in devices}
    create = client.create_virtual_mfa_device.side_effect

    def create_virtual_mfa_device(**kwargs):
        if f"{ACCOUNT_ARN}{kwargs['Path']}{kwargs['VirtualMFADeviceName']}" in taken:
            raise botocore.exceptions.ClientError({"Error": {"Code": "EntityAlreadyExists", "Message": "exists"}}, "CreateVirtualMFADevice")
        return create(**kwargs)

    client.create_virtual_mfa_device.side_effect = create_virtual_mfa_device
    client.delete_virtual_mfa_device.side_effect = lambda **kwargs: taken.discard(kwargs["SerialNumber"])
    return client


def test_without_listing_new_devices_cost_one_create_each():
    client = refusing_iam()

    results = list(virtual_devices.ensure_devices(client, False, [item("alice"), item("bob", "/team/")], list_first=False))

    assert [result["base32_seed"] for result in results] == ["SEEDALICE", "SEEDBOB"]
    assert calls(client) == ["create_virtual_mfa_device", "create_virtual_mfa_device"]


def test_without_listing_an_existing_device_is_found_once_aws_refuses_to_create_it():
    client = refusing_iam([listed("alice", user_name="alice")])

    results = list(virtual_devices.ensure_devices(client, False, [item("bob"), item("alice"), item("carol")], list_first=False))

    assert [result["changed"] for result in results] == [True, False, True]
    assert results[1]["virtual_mfa_device"]["user_name"] == "alice" and "base32_seed" not in results[1]
    assert calls(client) == ["create_virtual_mfa_device", "create_virtual_mfa_device", "list_virtual_mfa_devices", "create_virtual_mfa_device"]


@pytest.mark.parametrize("check_mode, items", [(True, [item("alice")]), (False, [item("alice", state="absent"), item("alice")])])
def test_without_listing_check_mode_and_deletions_still_list(check_mode, items):
    client = refusing_iam([listed("alice")])

    list(virtual_devices.ensure_devices(client, check_mode, items, list_first=False))

    assert calls(client)[0] == "list_virtual_mfa_devices"


@pytest.mark.parametrize("list_first", [True, False])
def test_an_exclusive_item_leaves_a_device_that_exists_as_it_is_and_reports_it(list_first):
    client = refusing_iam([listed("alice", tags={"mfa.aws/run": "other:1:1"})])
    exclusive = dict(item("alice", tags={"mfa.aws/run": "this:2:2"}), exclusive=True)
    results = list(virtual_devices.ensure_devices(client, False, [dict(item("bob"), exclusive=True), exclusive], list_first=list_first))

    assert results[0]["base32_seed"] == "SEEDBOB"
    assert results[1]["changed"] is False and results[1]["serial_number"] == f"{ACCOUNT_ARN}/alice" and "base32_seed" not in results[1]
    assert "tag_mfa_device" not in calls(client) and "untag_mfa_device" not in calls(client)
    # After a deletion in the same batch, the name is free again.
    client = refusing_iam([listed("alice")])
    results = list(virtual_devices.ensure_devices(client, False, [item("alice", state="absent"), exclusive], list_first=list_first))
    assert results[1]["base32_seed"] == "SEEDALICE"


def test_a_device_the_listing_does_not_show_yet_is_found_once_iam_lists_it_not_created_twice(monkeypatch):
    # Two devices created moments ago by a run that stopped: IAM lists alice already, dave only a few seconds later.
    client = refusing_iam([listed("alice"), listed("dave")])
    listings = iter([[listed("alice")], [listed("alice"), listed("dave")]])

    def paginator(name):
        result = MagicMock()
        result.paginate.return_value.build_full_result.return_value = {"VirtualMFADevices": next(listings)}
        return result

    client.get_paginator.side_effect = paginator
    monkeypatch.setattr(virtual_devices.time, "sleep", lambda seconds: None)

    results = list(virtual_devices.ensure_devices(client, False, [item("alice"), item("dave"), item("erin")], list_first=False))

    assert [result["changed"] for result in results] == [False, False, True]
    assert results[1]["serial_number"] == f"{ACCOUNT_ARN}/dave" and "base32_seed" not in results[1]
    assert calls(client) == ["create_virtual_mfa_device", "list_virtual_mfa_devices", "create_virtual_mfa_device", "list_virtual_mfa_devices",
                             "create_virtual_mfa_device"]
