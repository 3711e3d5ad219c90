# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

import pytest

from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import lookup_loader

from ansible_collections.mfa.aws.plugins.filter.otpauth_uri import FilterModule
from ansible_collections.mfa.aws.plugins.filter.otpauth_uri import otpauth_uri
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import manual_entry_key
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import parse_otpauth_uri
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import messages
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import reference_hotp

SEED = "JBSWY3DPEHPK3PXP"
KEY = base64.b32decode(SEED)
# 160 bits, the length of the seeds AWS gives its virtual MFA devices.
LONG_SEED = base64.b32encode(bytes(range(100, 120))).decode()
TIMES = [59, 1111111109, 1700000000, 1700000029.5, 20000000000]
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}

ODD_NAMES = [
    pytest.param("AWS", "alice@123456789012", id="plain"),
    pytest.param("Amazon Web Services", "alice smith@my account", id="spaces"),
    pytest.param("AWS", "alice:admin@123456789012", id="colon-in-label"),
    pytest.param("R&D / Ops", "a&b=c?d#e/f@g", id="query-and-path-characters"),
    pytest.param("100% + more", "50%2F+plus%20", id="percent-and-plus"),
    pytest.param("Société Générale", "José.Müller@Zürich", id="accents"),
    pytest.param("東京 🔐", "ユーザー@123456789012", id="cjk-and-emoji"),
    pytest.param("", "alice@123456789012", id="no-issuer"),
]


@pytest.fixture(name="totp")
def fixture_totp():
    plugin = lookup_loader.get("mfa.aws.totp")
    assert plugin is not None
    return plugin


def filter_error(seed, *args, **kwargs):
    """The messages of the AnsibleFilterError that the filter raises."""
    with pytest.raises(AnsibleFilterError) as excinfo:
        otpauth_uri(seed, *args, **kwargs)
    return messages(excinfo.value)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"otpauth_uri": otpauth_uri}


def test_defaults_are_left_out():
    assert otpauth_uri(SEED, "alice@123456789012") == f"otpauth://totp/AWS:alice@123456789012?secret={SEED}&issuer=AWS"


def test_issuer_and_label_are_percent_encoded_in_path_and_query():
    uri = otpauth_uri(SEED, "alice smith@example.com", "Example Co/R&D")
    assert uri == f"otpauth://totp/Example%20Co%2FR%26D:alice%20smith@example.com?secret={SEED}&issuer=Example%20Co%2FR%26D"


def test_unicode_is_utf8_percent_encoded():
    assert otpauth_uri(SEED, "José", "Zürich") == f"otpauth://totp/Z%C3%BCrich:Jos%C3%A9?secret={SEED}&issuer=Z%C3%BCrich"


def test_without_issuer_the_path_is_the_label():
    assert otpauth_uri(SEED, "alice@123456789012", "") == f"otpauth://totp/alice@123456789012?secret={SEED}"
    assert otpauth_uri(SEED, "alice", None) == f"otpauth://totp/alice?secret={SEED}"


def test_non_default_parameters_are_given():
    uri = otpauth_uri(SEED, "alice", digits=8, period=60, algorithm="SHA256")
    assert uri == f"otpauth://totp/AWS:alice?secret={SEED}&issuer=AWS&algorithm=SHA256&digits=8&period=60"


@pytest.mark.parametrize("digits, period, algorithm, parameters", [
    (6, 30, "sha1", ""),
    (8, 30, "sha1", "&digits=8"),
    (6, 60, "sha1", "&period=60"),
    (6, 30, "sha512", "&algorithm=SHA512"),
])
def test_only_non_default_parameters_appear(digits, period, algorithm, parameters):
    assert otpauth_uri(SEED, "a", "I", digits, period, algorithm) == f"otpauth://totp/I:a?secret={SEED}&issuer=I{parameters}"


@pytest.mark.parametrize("seed", ["jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP", "jbsw-y3dp-ehpk-3pxp", " JBSWY3DPEHPK3PXP\n"])
def test_the_seed_is_normalised(seed):
    assert otpauth_uri(seed, "alice") == otpauth_uri(SEED, "alice")


def test_padding_is_dropped():
    padded = base64.b32encode(b"abcdefghijk").decode()
    assert padded.endswith("=")
    assert f"secret={padded.rstrip('=')}&" in otpauth_uri(padded.lower(), "alice")


def test_string_numbers_from_templates_are_accepted():
    assert otpauth_uri(SEED, "alice", digits="8", period="60") == otpauth_uri(SEED, "alice", digits=8, period=60)


@pytest.mark.parametrize("issuer, label", ODD_NAMES)
def test_odd_names_read_back_exactly(issuer, label):
    uri = otpauth_uri(LONG_SEED, label, issuer)
    assert uri.isascii()
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    # The only separators left raw: the ':' after the issuer, and the '&' between parameters.
    assert parts.path.count(":") == (1 if issuer else 0)
    assert parts.path.count("/") == 1 and " " not in uri and "#" not in uri
    assert parts.query.count("&") == (1 if issuer else 0) and parts.query.count("?") == 0
    parsed = parse_otpauth_uri(uri)
    assert parsed.secret == LONG_SEED
    assert parsed.issuer == (issuer or None)
    assert parsed.account == label
    assert (parsed.digits, parsed.period, parsed.algorithm) == (None, None, None)


@pytest.mark.parametrize("issuer, label", ODD_NAMES)
@pytest.mark.parametrize("seed", [SEED, LONG_SEED, "jbsw-y3dp ehpk-3pxp"])
def test_round_trip_through_the_totp_lookup_gives_the_codes_of_the_seed(totp, seed, issuer, label):
    uri = otpauth_uri(seed, label, issuer)
    key = base64.b32decode(seed.upper().replace(" ", "").replace("-", ""))
    for at in TIMES:
        from_uri = totp.run([uri], variables={}, at=at)
        assert from_uri == totp.run([seed], variables={}, at=at)
        assert from_uri == [reference_hotp(key, int(at) // 30)]
        assert totp.run([uri], variables={}, at=at, pair=True) == totp.run([seed], variables={}, at=at, pair=True)


@pytest.mark.parametrize("digits", [6, 8])
@pytest.mark.parametrize("period", [1, 30, 45, 60, 120])
@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_round_trip_of_digits_period_and_algorithm(totp, digits, period, algorithm):
    uri = otpauth_uri(LONG_SEED, "R&D: ü / x@y", "Ex ample & Co", digits=digits, period=period, algorithm=algorithm)
    parsed = parse_otpauth_uri(uri)
    assert (parsed.digits or 6, parsed.period or 30, parsed.algorithm or "sha1") == (digits, period, algorithm)
    key = base64.b32decode(LONG_SEED)
    for at in TIMES:
        expected = [reference_hotp(key, int(at) // period, digits, DIGESTS[algorithm])]
        # The lookup takes digits, period and algorithm from the URI alone.
        assert totp.run([uri], variables={}, at=at) == expected
        assert totp.run([LONG_SEED], variables={}, at=at, digits=digits, period=period, algorithm=algorithm) == expected


@pytest.mark.parametrize("seed, expected", [
    ("!" * 16, "characters outside the base32 alphabet"),
    ("JBSWY3DPEHPK3PXPJ", "a length no base32 encoding produces"),
    ("JBSWY3DP", "the seed is too short"),
    ("", "the seed is empty"),
    (12345678901234567890, "must be a base32 string, not int"),
])
def test_invalid_seeds_are_refused_without_repeating_them(seed, expected):
    message = filter_error(seed, "alice")
    assert message.startswith("otpauth_uri: ") and expected in message
    assert "\n" not in message
    if isinstance(seed, str) and seed:
        assert seed not in message


def test_a_seed_with_one_wrong_character_is_not_echoed():
    seed = LONG_SEED[:-2] + "1" + LONG_SEED[-1]
    message = filter_error(seed, "alice")
    for start in range(0, len(seed) - 6):
        assert seed[start:start + 6] not in message


@pytest.mark.parametrize("args, kwargs, expected", [
    ((), {}, "the label"),
    (("",), {}, "the label"),
    ((42,), {}, "the label"),
    (("alice", "Ex:ample"), {}, "the issuer cannot contain ':'"),
    (("alice:admin", ""), {}, "a label with ':' needs an issuer"),
    (("alice", 7), {}, "the issuer must be a string"),
    (("alice",), {"digits": 7}, "digits must be 6 or 8"),
    (("alice",), {"digits": True}, "digits must be 6 or 8"),
    (("alice",), {"period": 0}, "period must be a whole number of seconds from 1 to 120"),
    (("alice",), {"period": 121}, "period must be a whole number of seconds from 1 to 120"),
    (("alice",), {"period": "thirty"}, "period must be a whole number of seconds"),
    (("alice",), {"algorithm": "md5"}, "algorithm must be one of sha1, sha256, sha512"),
])
def test_invalid_options_are_refused_with_the_fix(args, kwargs, expected):
    message = filter_error(LONG_SEED, *args, **kwargs)
    assert expected in message
    assert LONG_SEED not in message


@pytest.mark.parametrize("seed, expected", [
    (SEED, "JBSW Y3DP EHPK 3PXP"),
    ("jbsw-y3dp-ehpk-3pxp", "JBSW Y3DP EHPK 3PXP"),
    (base64.b32encode(b"abcdefghijk").decode(), "MFRG GZDF MZTW Q2LK NM"),
])
def test_manual_entry_key_groups_the_normalised_seed_by_four(seed, expected):
    assert manual_entry_key(seed) == expected
