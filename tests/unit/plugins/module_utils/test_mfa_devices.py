# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils import _mfa_devices as mfa
from ansible_collections.mfa.aws.tests.unit.utils.constants import client_error
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import HARDWARE

VIRTUAL_ARN = "arn:aws:iam::123456789012:mfa/alice"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def failing_client(method, exception):
    client = MagicMock()
    getattr(client, method).side_effect = exception
    return client


def paginating_client(exception):
    """A client whose paginators raise exception when the pages are read."""
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value.build_full_result.side_effect = exception
    return client


@pytest.mark.parametrize(
    "user_name, root",
    [
        ("<root_account>", True),
        ("arn:aws:iam::123456789012:root", True),
        ("arn:aws-us-gov:iam::123456789012:root", True),
        ("alice", False),
        ("root", False),
        ("arn:aws:iam::123456789012:user/root", False),
    ],
)
def test_is_root_user(user_name, root):
    assert mfa.is_root_user(user_name) is root


@pytest.mark.parametrize("code", ["123456", "012345", "000000"])
def test_validate_code_accepts_six_digits(code):
    assert mfa.validate_code(code)


@pytest.mark.parametrize("code", [None, "", "12345", "1234567", "12345a", " 123456", "123456\n", "١٢٣٤٥٦"])
def test_validate_code_refuses_anything_else(code):
    assert not mfa.validate_code(code)


@pytest.mark.parametrize(
    "serial_number, path, name",
    [
        (VIRTUAL_ARN, "/", "alice"),
        ("arn:aws:iam::123456789012:mfa/team/alice", "/team/", "alice"),
        ("arn:aws:iam::123456789012:mfa/a/b/alice", "/a/b/", "alice"),
    ],
)
def test_split_virtual_serial_inverts_the_suffix(serial_number, path, name):
    assert mfa.split_virtual_serial(serial_number) == (path, name)
    assert serial_number.endswith(mfa.virtual_serial_suffix(path, name))


def test_normalize_virtual_device_never_has_the_seed():
    device = {
        "SerialNumber": "arn:aws:iam::123456789012:mfa/team/alice",
        "Base32StringSeed": SEED.encode(),
        "QRCodePNG": b"\x89PNG\r\n",
        "User": {"UserName": "alice", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::123456789012:user/alice"},
        "EnableDate": datetime.datetime(2024, 6, 1, 9, 30, tzinfo=datetime.timezone.utc),
        "Tags": [{"Key": "owner", "Value": "alice"}],
    }

    result = mfa.normalize_virtual_device(device)

    assert result == {
        "serial_number": "arn:aws:iam::123456789012:mfa/team/alice",
        "path": "/team/",
        "name": "alice",
        "user_name": "alice",
        "enable_date": "2024-06-01T09:30:00+00:00",
        "tags": {"owner": "alice"},
    }
    assert SEED not in repr(result)


def test_normalize_virtual_device_unassigned_with_given_tags():
    result = mfa.normalize_virtual_device({"SerialNumber": VIRTUAL_ARN, "Base32StringSeed": SEED.encode()}, {"team": "ops"})

    assert result == {"serial_number": VIRTUAL_ARN, "path": "/", "name": "alice", "user_name": None, "enable_date": None, "tags": {"team": "ops"}}


def test_normalize_mfa_device_adds_the_kind():
    device = {"UserName": "bob", "SerialNumber": "GAHT12345678", "EnableDate": datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)}

    assert mfa.normalize_mfa_device(device) == {
        "user_name": "bob",
        "serial_number": "GAHT12345678",
        "enable_date": "2024-06-01T00:00:00+00:00",
        "kind": HARDWARE,
    }


def test_wrong_codes_fail_with_the_hint_and_without_the_codes():
    client = failing_client("enable_mfa_device", client_error("InvalidAuthenticationCode"))

    with pytest.raises(AnsibleIAMError) as raised:
        mfa.enable_device(client, user_name="alice", serial_number=VIRTUAL_ARN, code_1="271828", code_2="314159")

    message = raised.value.message
    assert message == (
        f"Failed to enable MFA device {VIRTUAL_ARN} for user alice "
        "(the two codes are not consecutive codes of this device's seed: check the device clock or the seed)"
    )
    assert "271828" not in str(raised.value) and "314159" not in str(raised.value)
    assert mfa.error_code(raised.value.exception) == "InvalidAuthenticationCode"


def test_enable_on_a_device_of_another_user_gets_the_call_specific_hint():
    client = failing_client("enable_mfa_device", client_error("EntityAlreadyExists"))

    with pytest.raises(AnsibleIAMError) as raised:
        mfa.enable_device(client, user_name="alice", serial_number=VIRTUAL_ARN, code_1="271828", code_2="314159")

    assert raised.value.message.endswith("(the device is enabled for a user already: deactivate it there first)")


def test_unknown_user_is_named_in_one_line():
    client = paginating_client(client_error("NoSuchEntity", "ListMFADevices", "The user with name nobody cannot be found."))

    with pytest.raises(AnsibleIAMError) as raised:
        mfa.list_user_devices(client, user_name="nobody")

    assert raised.value.message == "Failed to list the MFA devices of user nobody (no IAM user named nobody: check user_name)"
    assert "\n" not in str(raised.value)


def test_missing_entity_returns_the_missing_value():
    client = failing_client("delete_virtual_mfa_device", client_error("NoSuchEntity", "DeleteVirtualMFADevice"))

    assert mfa.delete_virtual_device(client, serial_number=VIRTUAL_ARN) is False


def test_missing_tags_are_an_empty_dict():
    client = paginating_client(client_error("NoSuchEntity", "ListMFADeviceTags"))

    assert mfa.list_device_tags(client, serial_number=VIRTUAL_ARN) == {}


# One call of the shared layer for each client method, with harmless arguments.
CALLS = {
    "create_virtual_mfa_device": lambda client: mfa.create_virtual_device(client, path="/", name="alice", tags=None),
    "delete_virtual_mfa_device": lambda client: mfa.delete_virtual_device(client, serial_number=VIRTUAL_ARN),
    "enable_mfa_device": lambda client: mfa.enable_device(client, user_name="alice", serial_number=VIRTUAL_ARN, code_1="271828", code_2="314159"),
    "deactivate_mfa_device": lambda client: mfa.deactivate_device(client, user_name="alice", serial_number=VIRTUAL_ARN),
    "resync_mfa_device": lambda client: mfa.resync_device(client, user_name="alice", serial_number=VIRTUAL_ARN, code_1="271828", code_2="314159"),
    "tag_mfa_device": lambda client: mfa.tag_device(client, serial_number=VIRTUAL_ARN, tags={"owner": "alice"}),
}


@pytest.mark.parametrize(
    "code, method, hint",
    [
        ("DeleteConflict", "delete_virtual_mfa_device", "deactivate it first (or set force=true)"),
        ("LimitExceeded", "create_virtual_mfa_device", "the account has the most MFA devices AWS allows"),
        ("LimitExceeded", "enable_mfa_device", "the user already has 8 MFA devices"),
        ("AccessDenied", "deactivate_mfa_device", "lack this IAM permission"),
        ("ExpiredToken", "resync_mfa_device", "assume the role again"),
        ("Throttling", "tag_mfa_device", "AWS throttled every retry"),
    ],
)
def test_errors_a_person_can_act_on_have_a_hint(code, method, hint):
    client = failing_client(method, client_error(code))

    with pytest.raises(AnsibleIAMError) as raised:
        CALLS[method](client)

    assert hint in raised.value.message


def test_other_errors_have_no_hint():
    client = failing_client("tag_mfa_device", client_error("ServiceFailure", "TagMFADevice"))

    with pytest.raises(AnsibleIAMError) as raised:
        mfa.tag_device(client, serial_number=VIRTUAL_ARN, tags={"owner": "alice"})

    assert raised.value.message == f"Failed to tag MFA device {VIRTUAL_ARN}"


def test_botocore_errors_become_ansible_errors():
    client = failing_client("untag_mfa_device", botocore.exceptions.EndpointConnectionError(endpoint_url="https://iam.amazonaws.com"))

    with pytest.raises(AnsibleIAMError) as raised:
        mfa.untag_device(client, serial_number=VIRTUAL_ARN, tag_keys=["owner"])

    assert raised.value.message == f"Failed to untag MFA device {VIRTUAL_ARN}"
    assert isinstance(raised.value.exception, botocore.exceptions.EndpointConnectionError)


def test_create_sends_tags_only_when_given():
    client = MagicMock()
    client.create_virtual_mfa_device.return_value = {"VirtualMFADevice": {"SerialNumber": VIRTUAL_ARN}}

    mfa.create_virtual_device(client, path="/", name="alice", tags={"owner": "alice"})
    mfa.create_virtual_device(client, path="/", name="alice", tags={})

    tagged, untagged = client.create_virtual_mfa_device.call_args_list
    assert tagged.kwargs == {"aws_retry": True, "Path": "/", "VirtualMFADeviceName": "alice", "Tags": [{"Key": "owner", "Value": "alice"}]}
    assert untagged.kwargs == {"aws_retry": True, "Path": "/", "VirtualMFADeviceName": "alice"}


def test_find_virtual_device_matches_path_and_name_exactly():
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value.build_full_result.return_value = {
        "VirtualMFADevices": [
            {"SerialNumber": "arn:aws:iam::123456789012:mfa/team/alice"},
            {"SerialNumber": "arn:aws:iam::123456789012:mfa/xalice"},
            {"SerialNumber": VIRTUAL_ARN},
        ]
    }

    assert mfa.find_virtual_device(client, "/", "alice") == {"SerialNumber": VIRTUAL_ARN}
    assert mfa.find_virtual_device(client, "/team/", "alice") == {"SerialNumber": "arn:aws:iam::123456789012:mfa/team/alice"}
    assert mfa.find_virtual_device(client, "/other/", "alice") is None


def test_index_virtual_devices_by_path_and_name():
    team_alice = {"SerialNumber": "arn:aws:iam::123456789012:mfa/team/alice", "User": {"UserName": "alice"}}
    alice = {"SerialNumber": VIRTUAL_ARN}

    assert mfa.index_virtual_devices([team_alice, alice]) == {("/team/", "alice"): team_alice, ("/", "alice"): alice}
    assert mfa.index_virtual_devices([]) == {}


def test_virtual_device_users_tells_who_each_device_is_enabled_for():
    devices = [
        {"SerialNumber": VIRTUAL_ARN, "User": {"UserName": "alice"}},
        {"SerialNumber": "arn:aws:iam::123456789012:mfa/bob", "User": None},
        {"SerialNumber": "arn:aws:iam::123456789012:mfa/carol"},
    ]

    assert mfa.virtual_device_users(devices) == {
        VIRTUAL_ARN: "alice", "arn:aws:iam::123456789012:mfa/bob": None, "arn:aws:iam::123456789012:mfa/carol": None,
    }


def test_item_error_names_the_item_and_keeps_the_aws_error():
    aws_error = client_error("InvalidAuthenticationCode")

    error = mfa.item_error(3, "alice", AnsibleIAMError(message="Failed to enable", exception=aws_error))

    assert error.message == "devices[3] (alice): Failed to enable"
    assert error.exception is aws_error


@pytest.mark.parametrize("exception", [client_error("Throttling"), None])
def test_fail_with_result_keeps_the_result_so_far(exception):
    module = MagicMock()
    # Like AnsibleAWSModule, both end the module.
    module.fail_json.side_effect = module.fail_json_aws.side_effect = SystemExit(1)

    with pytest.raises(SystemExit):
        mfa.fail_with_result(module, AnsibleIAMError(message="Failed to enable", exception=exception), changed=True, devices=[{"user_name": "alice"}])

    if exception is None:
        module.fail_json.assert_called_once_with(msg="Failed to enable", changed=True, devices=[{"user_name": "alice"}])
        module.fail_json_aws.assert_not_called()
    else:
        module.fail_json_aws.assert_called_once_with(exception, msg="Failed to enable", changed=True, devices=[{"user_name": "alice"}])
        module.fail_json.assert_not_called()


def test_connection_secrets_are_hidden_access_key_included():
    spec = mfa.with_connection_secrets_hidden({"name": {"type": "str"}})
    assert spec["name"] == {"type": "str"}
    assert spec["access_key"]["no_log"] is True
    assert "aws_access_key_id" in spec["access_key"]["aliases"]


# --- eventual consistency, fresh codes, several calls at once ---------------------------------------------------------


@pytest.fixture(name="no_sleep")
def fixture_no_sleep(monkeypatch):
    """Sleeps recorded, not slept: the clock the module reads moves by each of them at once."""
    slept = []
    monkeypatch.setattr(mfa.time, "sleep", slept.append)
    monkeypatch.setattr(mfa.time, "monotonic", lambda: 1000.0 + sum(slept))
    return slept


def test_a_device_iam_does_not_show_yet_is_enabled_once_it_does_with_codes_of_the_moment(no_sleep):
    client = MagicMock()
    client.enable_mfa_device.side_effect = [client_error("NoSuchEntity"), client_error("NoSuchEntity"), None]
    mfa.call_while_invisible(client, mfa.enable_device, "alice", VIRTUAL_ARN, mfa.Codes(seed=SEED), timeout=30)
    assert client.enable_mfa_device.call_count == 3 and client.get_user.call_count == 1 and len(no_sleep) == 2
    codes = client.enable_mfa_device.call_args.kwargs
    assert (codes["AuthenticationCode1"], codes["AuthenticationCode2"]) == mfa._totp.pair(SEED)


def test_an_unknown_user_fails_at_once_and_a_device_never_shown_after_the_timeout(no_sleep):
    client = MagicMock()
    client.enable_mfa_device.side_effect = client_error("NoSuchEntity")
    client.get_user.side_effect = client_error("NoSuchEntity", "GetUser")
    with pytest.raises(AnsibleIAMError) as raised:
        mfa.call_while_invisible(client, mfa.enable_device, "mallory", VIRTUAL_ARN, mfa.Codes(("271828", "314159")))
    assert raised.value.message == "no IAM user named mallory: check user_name" and no_sleep == []

    client.get_user.side_effect = None
    with pytest.raises(AnsibleIAMError) as raised:
        mfa.call_while_invisible(client, mfa.enable_device, "alice", VIRTUAL_ARN, mfa.Codes(("271828", "314159")), timeout=3)
    assert raised.value.message.startswith(f"IAM does not show MFA device {VIRTUAL_ARN} yet") and "run again in a minute" in raised.value.message
    assert 0 < sum(no_sleep) <= 3 + 1e-9 and "271828" not in raised.value.message


def test_a_refused_pair_is_tried_once_more_in_the_next_window_only_with_the_seed(no_sleep):
    client = MagicMock()
    client.resync_mfa_device.side_effect = [client_error("InvalidAuthenticationCode", "ResyncMFADevice"), None]
    mfa.call_while_invisible(client, mfa.resync_device, "alice", VIRTUAL_ARN, mfa.Codes(seed=SEED))
    assert client.resync_mfa_device.call_count == 2 and 0 < no_sleep[0] <= 30.5

    client = MagicMock()
    client.resync_mfa_device.side_effect = client_error("InvalidAuthenticationCode", "ResyncMFADevice")
    with pytest.raises(AnsibleIAMError, match="check the device clock or the seed"):
        mfa.call_while_invisible(client, mfa.resync_device, "alice", VIRTUAL_ARN, mfa.Codes(("123456", "654321")))
    assert client.resync_mfa_device.call_count == 1


def test_run_concurrently_keeps_the_order_and_every_error():
    def work(index, item):
        if item == "bad":
            raise AnsibleIAMError(message=f"item {index} failed")
        return item.upper()

    for concurrency in (1, 4):
        outcomes = mfa.run_concurrently(work, ["a", "bad", "c"], concurrency)
        assert [result for result, _error in outcomes] == ["A", None, "C"]
        assert [error.message if error else None for _result, error in outcomes] == [None, "item 1 failed", None]
