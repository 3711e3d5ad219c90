# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.seed_vault_file checks and reads entries by the rules of module_utils/_seed_entries, as seed_secret does."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.mfa.aws.plugins.action import seed_vault_file
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import seeds_problem
from ansible_collections.mfa.aws.tests.unit.utils.constants import EARLIER
from ansible_collections.mfa.aws.tests.unit.utils.constants import NOW
from ansible_collections.mfa.aws.tests.unit.utils.constants import OLD_SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import OLD_SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import ENTRIES
from ansible_collections.mfa.aws.tests.unit.utils.constants import ENTRY_SECRETS
from ansible_collections.mfa.aws.tests.unit.utils.constants import assert_problem
from ansible_collections.mfa.aws.tests.unit.utils.constants import entry


@pytest.mark.parametrize(
    "seeds, message",
    [({"alice": given}, f"seeds['alice'] {problem}") for given, problem in ENTRIES if problem]
    + [
        ({"bob smith": entry()}, "seeds: user name 'bob smith' is not an IAM user name"),
        ({"../alice": entry()}, "seeds: user name '../alice' is not an IAM user name"),
    ],
)
def test_the_seeds_option_is_refused_where_the_aws_stores_refuse_it_without_quoting_a_seed(seeds, message):
    assert seeds_problem(seeds, "secretsmanager") is not None
    with pytest.raises(AnsibleActionFail) as raised:
        seed_vault_file._validated_seeds(seeds)
    found = str(raised.value)
    assert "\n" not in found
    assert_problem(found, message, start=True, secrets=ENTRY_SECRETS)


def test_the_seeds_option_is_taken_where_the_aws_stores_take_it():
    seeds = {
        "alice": entry(created=NOW, previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)),
        "bob": dict(entry("GAHT12345678", OLD_SEED.lower() + "=="), created=None, previous=None),
    }
    assert seeds_problem(seeds, "secretsmanager") is None
    assert seed_vault_file._validated_seeds(seeds) == {
        "alice": entry(created=NOW, previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)),
        "bob": entry("GAHT12345678", OLD_SEED.lower() + "=="),
    }


def read(monkeypatch, content):
    monkeypatch.setattr(seed_vault_file, "read_vaulted_yaml", lambda vault, path: content)
    return seed_vault_file._read(None, "/seeds/123456789012.yml")


def test_stored_entries_are_read_with_their_known_keys_only(monkeypatch):
    stored = {
        "alice": dict(entry(created=NOW, previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)), label="not ours"),
        "bob": entry(created=None),
    }
    assert read(monkeypatch, stored) == {
        "alice": entry(created=NOW, previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)),
        "bob": entry(),
    }
    assert read(monkeypatch, None) == {}


@pytest.mark.parametrize(
    "stored",
    [
        {"alice": {"serial_number": SERIAL}},
        {"alice": entry(created=20240601)},
        {"alice": entry(previous={"base32_seed": OLD_SEED})},
        {"alice": entry(previous=entry(previous=entry()))},
    ],
)
def test_a_stored_value_that_is_not_an_entry_is_refused_without_its_seed(monkeypatch, stored):
    with pytest.raises(AnsibleActionFail) as raised:
        read(monkeypatch, stored)
    message = str(raised.value)
    assert message.startswith("the entry of 'alice' in /seeds/123456789012.yml is not a seed entry")
    assert SEED not in message and OLD_SEED not in message


def test_a_stored_file_that_is_not_a_mapping_is_refused(monkeypatch):
    with pytest.raises(AnsibleActionFail, match="does not hold a mapping of user names to seeds"):
        read(monkeypatch, ["alice"])
