# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.seed_qr_code takes user names and account ids by the rules of module_utils/_seed_entries."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.mfa.aws.plugins.action import seed_qr_code
from ansible_collections.mfa.aws.tests.unit.utils.constants import EARLIER
from ansible_collections.mfa.aws.tests.unit.utils.constants import NOW
from ansible_collections.mfa.aws.tests.unit.utils.constants import SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import SERIAL


@pytest.mark.parametrize("user", ["bob smith", "../alice", "", "x" * 65, 42])
def test_only_iam_user_names_name_files(user):
    with pytest.raises(AnsibleActionFail) as raised:
        seed_qr_code._checked_user_name(user, "remove")
    assert str(raised.value) == f"remove: user name {user!r} is not an IAM user name (1 to 64 letters, digits and +=,.@_-): give the user's name"


def test_iam_user_names_are_taken():
    assert seed_qr_code._checked_user_name("alice.b+c=d,e@f_g-h", "seeds") == "alice.b+c=d,e@f_g-h"


@pytest.mark.parametrize("account_id", ["1234", "1234567890123", 123456789012, None])
def test_only_account_ids_label_the_codes(account_id):
    with pytest.raises(AnsibleActionFail, match="^account_id must be the 12-digit id of the AWS account the devices belong to"):
        seed_qr_code._account(account_id, None)


def test_the_account_label():
    assert seed_qr_code._account("123456789012", None) == "123456789012"
    assert seed_qr_code._account("123456789012", "prod") == "prod (123456789012)"


def test_the_created_time_is_kept_for_the_same_device_only():
    seed = {"serial_number": SERIAL, "base32_seed": SEED, "created": ""}
    current = {"serial_number": SERIAL, "base32_seed": SEED, "created": EARLIER}
    entry = seed_qr_code._entry("alice", seed, "AWS", "alice@123456789012", current, NOW)
    assert entry["created"] == EARLIER
    other = dict(current, base32_seed="GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    assert seed_qr_code._entry("alice", seed, "AWS", "alice@123456789012", other, NOW)["created"] == NOW
    assert seed_qr_code._entry("alice", seed, "AWS", "alice@123456789012", None, NOW)["created"] == NOW
