# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from jinja2 import Undefined

from ansible_collections.mfa.aws.plugins.filter.account_session import FilterModule
from ansible_collections.mfa.aws.plugins.filter.account_session import account_session_stop
from ansible_collections.mfa.aws.plugins.filter.account_session import shared_account_ids

PAYMENTS = "111111111111"
LEDGER = "222222222222"
SESSION = {"account_id": PAYMENTS, "credentials": {}}
# The play's hosts, in play order, and their variables (hostvars).
HOSTS = ["ledger", "payments", "payments-again", "localhost", "tools"]
HOSTVARS = {
    "ledger": {"aws_account_id": LEDGER},
    "payments": {"aws_account_id": PAYMENTS},
    "payments-again": {"aws_account_id": int(PAYMENTS)},
    "localhost": {},
    "tools": {"aws_account_id": Undefined()},
}


class Untouchable(dict):
    """hostvars that must not be read."""

    def __contains__(self, key):
        raise AssertionError("hostvars read")

    def __getitem__(self, key):
        raise AssertionError("hostvars read")


def stop(result, host, account_id, **kwargs):
    kwargs.setdefault("play_hosts", HOSTS)
    kwargs.setdefault("hostvars", HOSTVARS)
    return account_session_stop(result, host, account_id, **kwargs)


def test_the_filters_are_registered():
    assert FilterModule().filters() == {"shared_account_ids": shared_account_ids, "account_session_stop": account_session_stop}


def test_shared_account_ids_as_strings_sorted_without_hosts_lacking_one():
    assert shared_account_ids(HOSTS + ["not-in-inventory"], HOSTVARS) == [PAYMENTS]
    three = {"a": {"aws_account_id": LEDGER}, "b": {"aws_account_id": PAYMENTS}, "c": {"aws_account_id": LEDGER}, "d": {"aws_account_id": PAYMENTS}}
    assert shared_account_ids(["d", "c", "b", "a"], three) == [PAYMENTS, LEDGER]
    assert shared_account_ids(["ledger", "payments"], HOSTVARS) == []


def test_a_host_with_its_own_account_and_a_session_goes_on_without_reading_the_other_hosts():
    assert account_session_stop(SESSION, "payments", PAYMENTS, shared_ids=[], play_hosts=HOSTS, hostvars=Untouchable()) == ""
    assert account_session_stop({"account_id": "333333333333"}, "localhost", "", shared_ids=[LEDGER], hostvars=Untouchable()) == ""


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "abcdefghijkl", None, 12345])
def test_a_malformed_account_id(account_id):
    message = stop(SESSION, "payments", account_id, shared_ids=[])
    assert message == "aws_account_id (account_session_account_id) of payments must be a 12-digit AWS account id"


def test_an_integer_account_id_is_read_as_its_digits():
    assert stop(SESSION, "ledger", int(LEDGER), shared_ids=[]) == ""


@pytest.mark.parametrize("shared_ids", [[PAYMENTS], None])
def test_a_shared_account_names_the_other_hosts(shared_ids):
    # None: the play's list is missing (its first host skipped the role), so the filter reads the hosts itself.
    message = stop(SESSION, "payments-again", PAYMENTS, shared_ids=shared_ids)
    assert message == f"payments-again and payments have the same account id {PAYMENTS}: give each AWS account one inventory host"
    assert stop(SESSION, "payments", PAYMENTS, shared_ids=shared_ids).startswith("payments and payments-again have")
    assert stop(SESSION, "ledger", LEDGER, shared_ids=shared_ids) == ""


def test_no_session():
    failed = {"failed": True, "msg": "cannot assume arn:aws:iam::222222222222:role/NoSuchRole"}
    assert stop(failed, "ledger", LEDGER, shared_ids=[]) == "cannot assume arn:aws:iam::222222222222:role/NoSuchRole (inventory host ledger)"
    assert stop({}, "ledger", LEDGER, shared_ids=[]) == "no credentials returned (inventory host ledger)"


def test_a_role_to_assume_needs_an_account_id():
    role_arn = "arn:aws:iam:::role/OrganizationAccountAccessRole"
    message = stop({"failed": True, "msg": "x"}, "localhost", "", assume_role=True, role_arn=role_arn, shared_ids=[])
    assert message.startswith("account_session_assume_role needs the account id of localhost (aws_account_id) to name the role")
    assert stop({"failed": True, "msg": "x"}, "localhost", "", assume_role=False, role_arn=role_arn, shared_ids=[]) == "x (inventory host localhost)"


def test_without_a_session_a_host_given_another_host_s_account_id_names_that_host():
    # The account id of a host, set apart from its aws_account_id, may be another host's.
    assert stop({}, "localhost", LEDGER, shared_ids=[]).startswith(f"localhost and ledger have the same account id {LEDGER}")
