# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
from unittest.mock import MagicMock

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.modules import iam_virtual_mfa

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
    client = MagicMock()

    def paginator(name):
        result = MagicMock()
        result.paginate.return_value.build_full_result.return_value = pages[name]
        return result

    client.get_paginator.side_effect = paginator
    client.create_virtual_mfa_device.return_value = {
        "VirtualMFADevice": {"SerialNumber": SERIAL, "Base32StringSeed": SEED.encode("ascii"), "QRCodePNG": PNG}
    }
    return client


def writes(client):
    return [name for name, _args, _kwargs in client.method_calls if name in WRITES]


def assigned(user_name="alice"):
    return {"SerialNumber": SERIAL, "User": {"UserName": user_name}, "EnableDate": datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)}


def test_diff_view_keeps_only_the_public_keys():
    device = {"serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": None, "tags": {}, "enable_date": None, "base32_seed": SEED}

    assert iam_virtual_mfa.diff_view(device) == {"serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": None, "tags": {}}
    assert iam_virtual_mfa.diff_view(None) == {}


def test_stored_tags_are_text_as_aws_keeps_them():
    assert iam_virtual_mfa.stored_tags({"count": 3, "enabled": True, "owner": "alice"}) == {"count": "3", "enabled": "True", "owner": "alice"}


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
    assert iam_virtual_mfa.plan_tags(current, tags, purge_tags) == (to_set, to_remove, after)


def test_create_in_check_mode_writes_nothing_and_has_no_seed():
    client = fake_iam()

    result = iam_virtual_mfa.ensure_present(client, True, "/team/", "alice", {"owner": "alice"}, True)

    assert result == {
        "changed": True,
        "diff": {"before": {}, "after": {"serial_number": None, "path": "/team/", "name": "alice", "user_name": None, "tags": {"owner": "alice"}}},
    }
    assert writes(client) == []


def test_create_returns_the_seed_and_the_qr_code_once_and_nowhere_else():
    client = fake_iam()

    result = iam_virtual_mfa.ensure_present(client, False, "/team/", "alice", {"owner": "alice"}, True)

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

    result = iam_virtual_mfa.ensure_present(client, False, "/team/", "alice", {"owner": "alice"}, True)

    assert result["changed"] is False
    assert "base32_seed" not in result and "qr_code_png" not in result
    assert result["virtual_mfa_device"]["user_name"] == "alice"
    assert result["virtual_mfa_device"]["enable_date"] == "2024-06-01T00:00:00+00:00"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert writes(client) == []


def test_tag_changes_in_check_mode_are_predicted_without_writing():
    client = fake_iam([assigned()], {"owner": "alice", "old": "x"})

    result = iam_virtual_mfa.ensure_present(client, True, "/team/", "alice", {"owner": "bob"}, True)

    assert result["changed"] is True
    assert result["diff"]["before"]["tags"] == {"owner": "alice", "old": "x"}
    assert result["diff"]["after"]["tags"] == {"owner": "bob"}
    assert writes(client) == []


def test_tag_changes_untag_then_tag():
    client = fake_iam([assigned()], {"owner": "alice", "old": "x"})

    result = iam_virtual_mfa.ensure_present(client, False, "/team/", "alice", {"owner": "bob"}, True)

    assert result["virtual_mfa_device"]["tags"] == {"owner": "bob"}
    assert writes(client) == ["untag_mfa_device", "tag_mfa_device"]
    client.untag_mfa_device.assert_called_once_with(aws_retry=True, SerialNumber=SERIAL, TagKeys=["old"])
    client.tag_mfa_device.assert_called_once_with(aws_retry=True, SerialNumber=SERIAL, Tags=[{"Key": "owner", "Value": "bob"}])


def test_absent_device_is_no_change():
    client = fake_iam()

    assert iam_virtual_mfa.ensure_absent(client, False, "/team/", "alice", False) == {"changed": False, "diff": {"before": {}, "after": {}}}
    assert writes(client) == []


def test_deleting_an_assigned_device_without_force_names_the_user():
    client = fake_iam([assigned("bob")])

    with pytest.raises(AnsibleIAMError) as raised:
        iam_virtual_mfa.ensure_absent(client, False, "/team/", "alice", False)

    assert raised.value.message == (
        f"virtual MFA device {SERIAL} is enabled for user bob: set force=true to deactivate it first, "
        "or deactivate it with mfa.aws.iam_mfa_enable state=absent"
    )
    assert writes(client) == []


@pytest.mark.parametrize("check_mode, expected_writes", [(True, []), (False, ["deactivate_mfa_device", "delete_virtual_mfa_device"])])
def test_forced_delete_deactivates_first(check_mode, expected_writes):
    client = fake_iam([assigned("bob")], {"owner": "bob"})

    result = iam_virtual_mfa.ensure_absent(client, check_mode, "/team/", "alice", True)

    assert result["changed"] is True
    assert result["diff"] == {"before": {"serial_number": SERIAL, "path": "/team/", "name": "alice", "user_name": "bob", "tags": {"owner": "bob"}}, "after": {}}
    assert writes(client) == expected_writes
