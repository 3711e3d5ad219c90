# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.module_utils._root_session import kinds
from ansible_collections.mfa.aws.plugins.module_utils._root_session import task_policy_arn
from ansible_collections.mfa.aws.plugins.modules import iam_root_mfa
from ansible_collections.mfa.aws.plugins.modules import iam_root_mfa_info

ACCOUNT = "210987654321"
VIRTUAL = f"arn:aws:iam::{ACCOUNT}:mfa/root"
PASSKEY = f"arn:aws:iam::{ACCOUNT}:u2f/root/pk-1"
TOKEN = "GAHT12345678"


def devices(*serials):
    return [{"serial_number": serial, "kind": "x", "enable_date": None} for serial in serials]


@pytest.mark.parametrize("account_id, ok", [(ACCOUNT, True), ("12345", False), ("21098765432a", False), ("", False), (None, False)])
def test_account_id_must_be_twelve_digits(account_id, ok):
    assert (account_id_problem(account_id) is None) is ok


def test_task_policies_are_the_aws_managed_root_task_policies():
    assert task_policy_arn("IAMAuditRootUserCredentials") == "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


def test_kinds_are_named_once_and_sorted():
    assert kinds(devices(VIRTUAL, TOKEN, PASSKEY, f"{VIRTUAL}-2")) == ["fido", "hardware", "virtual"]
    assert not kinds([])


def test_the_audit_of_a_root_user_without_mfa_has_the_handoff_of_each_kind():
    result = iam_root_mfa_info.root_audit(ACCOUNT, [])

    assert result["mfa_active"] is False and result["kinds"] == []
    assert [method["kind"] for method in result["handoff"]["methods"]] == ["fido", "virtual", "hardware"]
    assert "handoff" not in iam_root_mfa_info.root_audit(ACCOUNT, devices(VIRTUAL))


def test_every_device_is_deactivated_when_none_is_named():
    assert iam_root_mfa.to_deactivate(ACCOUNT, devices(TOKEN, VIRTUAL), None) == [TOKEN, VIRTUAL]
    assert not iam_root_mfa.to_deactivate(ACCOUNT, [], None)


def test_only_the_named_devices_are_deactivated_in_the_listing_order():
    assert iam_root_mfa.to_deactivate(ACCOUNT, devices(TOKEN, VIRTUAL, PASSKEY), [PASSKEY, TOKEN]) == [TOKEN, PASSKEY]


def test_a_named_device_the_root_user_has_not_stops_before_any_change():
    with pytest.raises(AnsibleIAMError) as raised:
        iam_root_mfa.to_deactivate(ACCOUNT, devices(TOKEN), [TOKEN, "GAHT99999999"])

    assert raised.value.message == (
        f"the root user of account {ACCOUNT} has no MFA device GAHT99999999: check serial_numbers (its devices: {TOKEN})"
    )
