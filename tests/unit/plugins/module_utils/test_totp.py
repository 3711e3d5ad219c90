# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The modules' own RFC 6238 codes, against the independent reference of the lookup's tests."""

from __future__ import annotations

import pytest

from ansible_collections.mfa.aws.plugins.module_utils import _totp
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import RFC_4226_CODES
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import reference_hotp

RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's SHA1 key


@pytest.mark.parametrize("at, code", [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")])
def test_rfc_6238_vectors(at, code):
    assert _totp.code_at(RFC_SEED, at // 30) == code
    assert _totp.pair(RFC_SEED, at)[1] == code


def test_the_pair_is_the_previous_and_the_current_window():
    assert _totp.pair(RFC_SEED, 95) == (_totp.code_at(RFC_SEED, 2), _totp.code_at(RFC_SEED, 3))
    assert [_totp.code_at(RFC_SEED, counter) for counter in range(10)] == RFC_4226_CODES
    assert _totp.code_at(RFC_SEED, 12345) == reference_hotp(b"12345678901234567890", 12345)
    assert _totp.seconds_to_next_window(95) == 25


@pytest.mark.parametrize("seed, problem", [("not base32!", "not base32"), ("JBSWY3DP", "shorter than 80 bits"), ("", "not base32")])
def test_bad_seeds_are_named_without_the_seed(seed, problem):
    with pytest.raises(_totp.SeedError) as raised:
        _totp.code_at(seed, 0)
    assert problem in str(raised.value) and (not seed or seed not in str(raised.value))


def test_spaces_dashes_lower_case_and_padding_are_read():
    assert _totp.code_at("gezd gnbv-gy3t qojq gezd gnbv gy3t qojq==", 1) == _totp.code_at(RFC_SEED, 1)
