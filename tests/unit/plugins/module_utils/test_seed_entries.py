# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.mfa.aws.plugins.module_utils import _seed_entries as entries
from ansible_collections.mfa.aws.tests.unit.utils.constants import EARLIER
from ansible_collections.mfa.aws.tests.unit.utils.constants import ENTRIES
from ansible_collections.mfa.aws.tests.unit.utils.constants import ENTRY_SECRETS
from ansible_collections.mfa.aws.tests.unit.utils.constants import NOW
from ansible_collections.mfa.aws.tests.unit.utils.constants import OLD_SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import OLD_SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import entry
from ansible_collections.mfa.aws.tests.unit.utils.constants import assert_problem


# --- entries a task gives --------------------------------------------------------------------


@pytest.mark.parametrize("given, problem", ENTRIES)
def test_entry_problem_never_quotes_a_value(given, problem):
    assert_problem(entries.entry_problem(given), problem, start=True, secrets=ENTRY_SECRETS)


# --- entries read back from a store ----------------------------------------------------------


@pytest.mark.parametrize(
    "value, ok",
    [
        (entry(), True),
        (entry(created=NOW), True),
        (entry(created=None, previous=None), True),
        (entry(previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)), True),
        (dict(entry(), label="tolerated"), True),
        (entry(seed="short but stored"), True),
        ([], False),
        ("text", False),
        ({"serial_number": SERIAL}, False),
        (entry(seed=""), False),
        (entry(serial=5), False),
        (entry(created=5), False),
        (entry(previous={"serial_number": OLD_SERIAL}), False),
        (entry(previous=entry(previous=entry())), False),
    ],
)
def test_is_entry(value, ok):
    assert entries.is_entry(value) is ok


def test_has_device_keys():
    assert entries.has_device_keys(entry())
    assert not entries.has_device_keys(entry(seed=""))
    assert not entries.has_device_keys("entry")


def test_plain_entry_drops_unknown_and_empty_values():
    assert entries.plain_entry(dict(entry(), created="", previous=None, other="x")) == entry()
    assert entries.plain_entry(entry(previous=dict(entry(OLD_SERIAL, OLD_SEED), previous=entry()))) == entry(previous=entry(OLD_SERIAL, OLD_SEED))


def test_plain_entry_makes_plain_strings():
    class Tagged(str):
        """Stands for a string that carries Ansible's data tags."""

    plain = entries.plain_entry({"serial_number": Tagged(SERIAL), "base32_seed": Tagged(SEED)})
    assert plain == entry()
    assert {value.__class__ for value in plain.values()} == {str}


def test_same_device():
    assert entries.same_device(entry(created=EARLIER), entry())
    assert not entries.same_device(entry(seed=OLD_SEED), entry())
    assert not entries.same_device(entry(serial=OLD_SERIAL), entry())
    assert not entries.same_device(None, entry())
    assert not entries.same_device({}, entry())


@pytest.mark.parametrize(
    "current, given, merged",
    [
        (None, entry(), entry(created=NOW)),
        (None, entry(created=EARLIER), entry(created=EARLIER)),
        (entry(created=EARLIER), entry(), entry(created=EARLIER)),
        (entry(), entry(), entry(created=NOW)),
        (entry(created=EARLIER), entry(created="2020-01-01T00:00:00+00:00"), entry(created="2020-01-01T00:00:00+00:00")),
        (entry(seed=OLD_SEED, created=EARLIER), entry(), entry(created=NOW)),
        (
            entry(created=EARLIER, previous=entry(OLD_SERIAL, OLD_SEED, created="2022-01-01T00:00:00+00:00")),
            entry(previous=entry(OLD_SERIAL, OLD_SEED)),
            entry(created=EARLIER, previous=entry(OLD_SERIAL, OLD_SEED, created="2022-01-01T00:00:00+00:00")),
        ),
        (entry(created=EARLIER), entry(previous=entry(OLD_SERIAL, OLD_SEED)), entry(created=EARLIER, previous=entry(OLD_SERIAL, OLD_SEED, created=NOW))),
        (
            entry(created=EARLIER, previous=entry(OLD_SERIAL, OLD_SEED, created="2022-01-01T00:00:00+00:00")),
            entry(previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)),
            entry(created=EARLIER, previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)),
        ),
    ],
)
def test_merged_entry_keeps_created_of_the_same_device(current, given, merged):
    assert entries.merged_entry(current, given, NOW) == merged


def test_public_entry_never_shows_a_seed():
    shown = entries.public_entry(entry(created=NOW, previous=entry(OLD_SERIAL, OLD_SEED)))

    assert shown == {"serial_number": SERIAL, "created": NOW, "previous_serial_number": OLD_SERIAL}
    assert entries.public_entry({}) == {"serial_number": None, "created": None, "previous_serial_number": None}
    assert list(entries.public_entries({"bob": entry(), "alice": entry(created=NOW)})) == ["alice", "bob"]
    assert entries.public_entries({"alice": entry(created=NOW)}) == {
        "alice": {"serial_number": SERIAL, "created": NOW, "previous_serial_number": None}
    }
