# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.mfa.aws.plugins.lookup import totp as totp_lookup
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import messages
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import reference_hotp

SEED = "JBSWY3DPEHPK3PXP"

# RFC 6238 Appendix B: ASCII seeds and 8-digit codes for SHA1, SHA256 and SHA512.
RFC_SEEDS = {
    "sha1": base64.b32encode(b"12345678901234567890").decode(),
    "sha256": base64.b32encode(b"12345678901234567890123456789012").decode(),
    "sha512": base64.b32encode(b"1234567890123456789012345678901234567890123456789012345678901234").decode(),
}
RFC_CODES = [
    (59, "sha1", "94287082"),
    (59, "sha256", "46119246"),
    (59, "sha512", "90693936"),
    (1111111109, "sha1", "07081804"),
    (1111111109, "sha256", "68084774"),
    (1111111109, "sha512", "25091201"),
    (1111111111, "sha1", "14050471"),
    (1111111111, "sha256", "67062674"),
    (1111111111, "sha512", "99943326"),
    (1234567890, "sha1", "89005924"),
    (1234567890, "sha256", "91819424"),
    (1234567890, "sha512", "93441116"),
    (2000000000, "sha1", "69279037"),
    (2000000000, "sha256", "90698825"),
    (2000000000, "sha512", "38618901"),
    (20000000000, "sha1", "65353130"),
    (20000000000, "sha256", "77737706"),
    (20000000000, "sha512", "47863826"),
]


def reference_totp(key, at, digits=6, period=30):
    """SHA1 TOTP of the window of the Unix time at (RFC 6238)."""
    return reference_hotp(key, int(at) // period, digits)


@pytest.fixture
def lookup():
    plugin = lookup_loader.get("mfa.aws.totp")
    assert plugin is not None
    return plugin


def lookup_error(lookup, terms, **kwargs):
    """The messages of the AnsibleLookupError that running the lookup raises."""
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup.run(terms, variables={}, **kwargs)
    return messages(excinfo.value)


@pytest.mark.parametrize("at, algorithm, code", RFC_CODES)
def test_rfc_6238_vectors(lookup, at, algorithm, code):
    assert lookup.run([RFC_SEEDS[algorithm]], variables={}, at=at, digits=8, algorithm=algorithm) == [code]


@pytest.mark.parametrize("at, algorithm, code", RFC_CODES)
def test_rfc_6238_vectors_from_uri(lookup, at, algorithm, code):
    uri = f"otpauth://totp/RFC%206238:test?secret={RFC_SEEDS[algorithm]}&digits=8&algorithm={algorithm.upper()}"
    assert lookup.run([uri], variables={}, at=at) == [code]


def test_six_digits_keep_leading_zeros(lookup):
    # The 8-digit code at 1111111109 is 07081804: its last 6 digits start with a zero.
    assert lookup.run([RFC_SEEDS["sha1"]], variables={}, at=1111111109) == ["081804"]


def test_defaults(lookup):
    key = b"Hello!\xde\xad\xbe\xef"
    assert base64.b32encode(key).decode() == SEED
    assert lookup.run([SEED], variables={}, at=1700000000) == [reference_totp(key, 1700000000)]


def test_80_bit_seed(lookup):
    key = b"0123456789"
    seed = base64.b32encode(key).decode()
    assert len(seed) == 16
    assert lookup.run([seed], variables={}, at=1700000000) == [reference_totp(key, 1700000000)]
    assert lookup.run([seed], variables={}, at=1700000000, digits=8, period=60) == [reference_totp(key, 1700000000, 8, 60)]


def test_at_defaults_to_now(lookup, monkeypatch):
    monkeypatch.setattr(totp_lookup.time, "time", lambda: 1111111109.5)
    assert lookup.run([RFC_SEEDS["sha1"]], variables={}, digits=8) == ["07081804"]


def test_fractional_at(lookup):
    assert lookup.run([SEED], variables={}, at=1700000009.99) == lookup.run([SEED], variables={}, at=1699999980)


def test_one_result_per_term(lookup):
    terms = [SEED, RFC_SEEDS["sha1"], f"otpauth://totp/a?secret={SEED}"]
    result = lookup.run(terms, variables={}, at=1700000000)
    assert result == [lookup.run([term], variables={}, at=1700000000)[0] for term in terms]
    assert result[0] == result[2]
    assert all(isinstance(code, str) for code in result)


def test_no_terms(lookup):
    assert not lookup.run([], variables={})


@pytest.mark.parametrize("offset", [-2, -1, 1, 3])
def test_offset_moves_by_whole_windows(lookup, offset):
    at = 1700000010
    assert lookup.run([SEED], variables={}, at=at, offset=offset) == lookup.run([SEED], variables={}, at=at + 30 * offset)
    assert lookup.run([SEED], variables={}, at=at, period=60, offset=offset) == lookup.run([SEED], variables={}, at=at + 60 * offset, period=60)


@pytest.mark.parametrize("at", [30, 1700000000, 1700000029.5, 20000000000])
def test_pair(lookup, at):
    assert lookup.run([SEED], variables={}, at=at, pair=True) == [
        [lookup.run([SEED], variables={}, at=at - 30)[0], lookup.run([SEED], variables={}, at=at)[0]]
    ]


def test_pair_with_offset_and_options(lookup):
    at = 1700000000
    options = {"digits": 8, "period": 60, "algorithm": "sha256"}
    assert lookup.run([SEED], variables={}, at=at, offset=1, pair=True, **options) == [
        [lookup.run([SEED], variables={}, at=at, **options)[0], lookup.run([SEED], variables={}, at=at + 60, **options)[0]]
    ]


def test_pair_of_each_term(lookup):
    result = lookup.run([SEED, RFC_SEEDS["sha1"]], variables={}, at=1111111109, digits=8, pair=True)
    assert result[1] == [lookup.run([RFC_SEEDS["sha1"]], variables={}, at=1111111109 - 30, digits=8)[0], "07081804"]
    assert [len(pair) for pair in result] == [2, 2]


@pytest.mark.parametrize("seed", ["jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP", "jbsw-y3dp-ehpk-3pxp", "JBSWY3DPEHPK3PXP===="])
def test_seed_normalisation(lookup, seed):
    assert lookup.run([seed], variables={}, at=1700000000) == lookup.run([SEED], variables={}, at=1700000000)


def test_seed_without_padding(lookup):
    key = b"abcdefghijk"
    padded = base64.b32encode(key).decode()
    assert padded.endswith("======")
    expected = [reference_totp(key, 1700000000)]
    assert lookup.run([padded], variables={}, at=1700000000) == expected
    assert lookup.run([padded.rstrip("=")], variables={}, at=1700000000) == expected


def test_uri_parameters_are_honoured(lookup):
    uri = f"otpauth://totp/Example%20Co%3Aalice%40example.com?secret={SEED.lower()}&issuer=Example%20Co&digits=8&period=60&algorithm=sha512"
    expected = lookup.run([SEED], variables={}, at=1700000000, digits=8, period=60, algorithm="sha512")
    assert lookup.run([uri], variables={}, at=1700000000) == expected
    assert expected != lookup.run([SEED], variables={}, at=1700000000, digits=8)


def test_uri_without_parameters_uses_options(lookup):
    uri = f"otpauth://totp/alice?secret={SEED}"
    options = {"digits": 8, "period": 60, "algorithm": "sha256"}
    assert lookup.run([uri], variables={}, at=1700000000, **options) == lookup.run([SEED], variables={}, at=1700000000, **options)


def test_explicit_option_agreeing_with_uri(lookup):
    uri = f"otpauth://totp/alice?secret={SEED}&digits=8&period=60&algorithm=SHA256"
    assert lookup.run([uri], variables={}, at=1700000000, digits=8, period=60, algorithm="sha256") == lookup.run([uri], variables={}, at=1700000000)


def test_uri_pair(lookup):
    uri = f"otpauth://totp/alice?secret={SEED}&period=60"
    assert lookup.run([uri], variables={}, at=1700000000, pair=True) == [
        [lookup.run([SEED], variables={}, at=1700000000 - 60, period=60)[0], lookup.run([SEED], variables={}, at=1700000000, period=60)[0]]
    ]


@pytest.mark.parametrize(
    "option, value, parameter",
    [
        ("digits", 6, "digits=8"),
        ("period", 30, "period=60"),
        ("algorithm", "sha1", "algorithm=SHA256"),
    ],
)
def test_explicit_option_contradicting_uri(lookup, option, value, parameter):
    uri = f"otpauth://totp/alice?secret={SEED}&{parameter}"
    text = lookup_error(lookup, [uri], **{option: value})
    assert f"the {option} option" in text
    assert "contradicts the otpauth URI" in text
    assert SEED not in text
    assert uri not in text


@pytest.mark.parametrize(
    "seed, message",
    [
        ("JBSWY3DPEHPK3PX1", "outside the base32 alphabet"),
        ("jbsw y3dp ehpk 3px!", "outside the base32 alphabet"),
        ("JBSWY3DPEHPK3PXPA", "a length no base32 encoding produces"),
        ("JBSWY3DPEHPK", "too short"),
        ("jbsw-y3dp-ehpk-3px", "too short"),
        ("", "empty"),
    ],
)
def test_invalid_seed(lookup, seed, message):
    text = lookup_error(lookup, [SEED, seed], at=1700000000)
    assert "term 2: " in text
    assert message in text
    normalized = seed.replace(" ", "").replace("-", "")
    for form in {seed, seed.upper(), normalized, normalized.upper()} - {""}:
        assert form not in text


def test_seed_that_is_not_a_string(lookup):
    text = lookup_error(lookup, [12345678901234567890])
    assert "must be a base32 string" in text
    assert "12345678901234567890" not in text


@pytest.mark.parametrize(
    "uri, message",
    [
        (f"otpauth://hotp/ACME:alice?secret={SEED}&counter=1", "otpauth://hotp/ URIs (counter-based codes) are not supported"),
        ("otpauth://totp/ACME:alice?issuer=ACME", "has no 'secret' parameter"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&secret={SEED}", "more than one 'secret' parameter"),
        (f"otpauth://totp/ACME:alice?secret={SEED[:-1]}1", "the seed has characters outside the base32 alphabet"),
        (f"otpauth://totp/ACME:alice?secret={SEED[:12]}", "the seed is too short"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&digits=7", "invalid 'digits' parameter"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&period=0", "invalid 'period' parameter"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&algorithm=MD5", "invalid 'algorithm' parameter"),
        (f"otpauth://foo/ACME:alice?secret={SEED}", "type must be totp"),
    ],
)
def test_invalid_uri(lookup, uri, message):
    text = lookup_error(lookup, [uri])
    assert message in text
    assert SEED[:12] not in text
    assert uri not in text
    assert "ACME:alice" not in text


@pytest.mark.parametrize(
    "options, message",
    [
        ({"digits": 7}, "'digits'"),
        ({"digits": "six"}, "'digits'"),
        ({"algorithm": "md5"}, "'algorithm'"),
        ({"period": 0}, "period must be a whole number of seconds from 1 to 120, not 0"),
        ({"period": -30}, "period must be a whole number of seconds from 1 to 120"),
        ({"period": 121}, "period must be a whole number of seconds from 1 to 120"),
        ({"at": -1}, "at must be a Unix time"),
        ({"at": "yesterday"}, "'at'"),
        ({"offset": "x"}, "'offset'"),
        ({"at": 59, "offset": -2}, "outside what a TOTP counter can hold"),
        ({"at": 29, "pair": True}, "outside what a TOTP counter can hold"),
    ],
)
def test_invalid_options(lookup, options, message):
    text = lookup_error(lookup, [SEED], **options)
    assert message in text
    assert SEED not in text


def test_pyotp_missing(lookup, monkeypatch):
    monkeypatch.setattr(totp_lookup, "PYOTP_IMPORT_ERROR", ImportError("No module named 'pyotp'"))
    text = lookup_error(lookup, [SEED])
    assert "the mfa.aws.totp lookup needs the Python library pyotp (pip install pyotp)" in text
    assert SEED not in text
