# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import RFC_4226_CODES
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import messages
from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import reference_hotp
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import OtpError
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import normalize_seed
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import parse_otpauth_uri
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import totp_code
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import totp_pair

SEED = "JBSWY3DPEHPK3PXP"
# RFC 6238 Appendix B: the SHA1 seed of the test vectors.
RFC_SHA1_SEED = base64.b32encode(b"12345678901234567890").decode()


def test_reference_hotp_matches_rfc_4226():
    assert [reference_hotp(b"12345678901234567890", counter) for counter in range(10)] == RFC_4226_CODES


@pytest.mark.parametrize("counter", range(10))
def test_totp_code_matches_rfc_4226_hotp(counter):
    # With a period of 1 second the TOTP counter is the Unix time itself.
    assert totp_code(RFC_SHA1_SEED, counter, period=1) == RFC_4226_CODES[counter]


@pytest.mark.parametrize("key", [b"0123456789", bytes(range(10)), b"\xff" * 10])
@pytest.mark.parametrize("at", [0, 59, 1111111109, 1700000000, 20000000000])
def test_80_bit_seed(key, at):
    seed = base64.b32encode(key).decode()
    assert len(seed) == 16
    assert totp_code(seed, at) == reference_hotp(key, at // 30)
    assert totp_code(seed, at, digits=8, algorithm="sha256") == reference_hotp(key, at // 30, 8, hashlib.sha256)


@pytest.mark.parametrize(
    "seed",
    [
        "JBSWY3DPEHPK3PXP",
        "jbswy3dpehpk3pxp",
        "JbSw Y3Dp EhPk 3PxP",
        "jbsw-y3dp-ehpk-3pxp",
        " JBSWY3DP\tEHPK3PXP\n",
    ],
)
def test_normalize_seed(seed):
    assert normalize_seed(seed) == SEED


@pytest.mark.parametrize(
    "seed, normalized",
    [
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        # 15 bytes: 24 characters, no padding needed.
        ("MFRGGZDFMZTWQ2LKNNWG23TP", "MFRGGZDFMZTWQ2LKNNWG23TP"),
        # 11 bytes: 18 characters and 6 '=' of padding, given, partly given or missing.
        ("MFRGGZDFMZTWQ2LKNM======", "MFRGGZDFMZTWQ2LKNM"),
        ("mfrggzdfmztwq2lknm==", "MFRGGZDFMZTWQ2LKNM"),
        ("MFRGGZDFMZTWQ2LKNM", "MFRGGZDFMZTWQ2LKNM"),
    ],
)
def test_normalize_seed_padding(seed, normalized):
    assert normalize_seed(seed) == normalized


def test_padding_does_not_change_the_code():
    key = b"abcdefghijk"
    padded = base64.b32encode(key).decode()
    assert padded.endswith("=")
    expected = reference_hotp(key, 1700000000 // 30)
    assert totp_code(padded, 1700000000) == expected
    assert totp_code(padded.rstrip("=").lower(), 1700000000) == expected


@pytest.mark.parametrize(
    "seed, message",
    [
        ("", "empty"),
        (" - ", "empty"),
        ("JBSWY3DPEHPK3PX1", "base32 alphabet"),
        ("JBSWY3DPEHPK3PX8", "base32 alphabet"),
        ("JBSWY3DPEHPK=3PXP", "base32 alphabet"),
        ("JBSWY3DPÉHPK3PXP", "base32 alphabet"),
        ("JBSWY3DPEHPK3PXPA", "a length no base32 encoding produces"),
        ("JBSWY3DPEHPK3P", "a length no base32 encoding produces"),
        ("JBSWY3DPEHPK", "too short"),
        ("JBSWY3DPEHPK3", "too short"),
        ("jbsw-y3dp-ehpk-3px", "too short"),
    ],
)
def test_invalid_seed(seed, message):
    with pytest.raises(OtpError, match=message) as excinfo:
        normalize_seed(seed)
    text = messages(excinfo.value)
    for form in {seed, seed.upper(), seed.replace(" ", "").replace("-", "")} - {""}:
        assert form not in text


@pytest.mark.parametrize("seed", [None, 1234, b"JBSWY3DPEHPK3PXP", ["JBSWY3DPEHPK3PXP"]])
def test_seed_must_be_a_string(seed):
    with pytest.raises(OtpError, match="must be a base32 string") as excinfo:
        normalize_seed(seed)
    assert "JBSWY3DPEHPK3PXP" not in messages(excinfo.value)


def test_totp_pair():
    at = 1700000000
    assert totp_pair(SEED, at) == [totp_code(SEED, at - 30), totp_code(SEED, at)]
    assert totp_pair(SEED, at, offset=2) == [totp_code(SEED, at + 30), totp_code(SEED, at + 60)]
    assert totp_pair(SEED, at, period=60, digits=8) == [totp_code(SEED, at - 60, period=60, digits=8), totp_code(SEED, at, period=60, digits=8)]


def test_fractional_time_is_in_its_window():
    assert totp_code(SEED, 59.999) == totp_code(SEED, 30) != totp_code(SEED, 60.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"digits": 7}, "digits must be 6 or 8"),
        ({"digits": 6.0}, "digits must be 6 or 8"),
        ({"digits": True}, "digits must be 6 or 8"),
        ({"period": 0}, "period must be"),
        ({"period": -30}, "period must be"),
        ({"period": 121}, "period must be"),
        ({"period": 30.5}, "period must be"),
        ({"algorithm": "md5"}, "algorithm must be one of sha1, sha256, sha512"),
        ({"algorithm": None}, "algorithm must be one of"),
        ({"at": -1}, "at must be a Unix time"),
        ({"at": float("nan")}, "at must be a Unix time"),
        ({"at": float("inf")}, "at must be a Unix time"),
        ({"at": "59"}, "at must be a Unix time"),
        ({"offset": 1.5}, "offset must be a whole number"),
        ({"at": 29, "offset": -1}, "outside what a TOTP counter can hold"),
        ({"at": 0, "offset": 2**64}, "outside what a TOTP counter can hold"),
    ],
)
def test_invalid_parameters(kwargs, message):
    kwargs.setdefault("at", 1700000000)
    with pytest.raises(OtpError, match=message) as excinfo:
        totp_code(SEED, **kwargs)
    assert SEED not in messages(excinfo.value)


def test_pair_needs_the_previous_window():
    assert totp_pair(SEED, 30) == [totp_code(SEED, 0), totp_code(SEED, 30)]
    with pytest.raises(OtpError, match="outside what a TOTP counter can hold"):
        totp_pair(SEED, 29)


def test_parse_uri():
    uri = parse_otpauth_uri(
        "otpauth://totp/Example%20Co:alice%40example.com?secret=jbsw-y3dp-ehpk-3pxp&issuer=Example%20Co&digits=8&period=60&algorithm=SHA256"
    )
    assert uri.secret == SEED
    assert uri.label == "Example Co:alice@example.com"
    assert uri.issuer == "Example Co"
    assert uri.account == "alice@example.com"
    assert (uri.digits, uri.period, uri.algorithm) == (8, 60, "sha256")
    assert SEED not in repr(uri)


def test_parse_uri_without_optional_parameters():
    uri = parse_otpauth_uri("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP")
    assert (uri.label, uri.issuer, uri.account) == ("alice", None, "alice")
    assert (uri.digits, uri.period, uri.algorithm) == (None, None, None)


@pytest.mark.parametrize(
    "label, issuer, account",
    [
        ("ACME%3Aalice", "ACME", "alice"),
        ("ACME:%20%20alice", "ACME", "alice"),
        ("My%20Bank%3Ajohn.doe%2Bmfa%40example.com", "My Bank", "john.doe+mfa@example.com"),
    ],
)
def test_parse_uri_label(label, issuer, account):
    uri = parse_otpauth_uri(f"otpauth://totp/{label}?secret={SEED}")
    assert (uri.issuer, uri.account) == (issuer, account)


@pytest.mark.parametrize("algorithm", ["SHA512", "sha512", "Sha512"])
def test_parse_uri_algorithm_in_any_case(algorithm):
    assert parse_otpauth_uri(f"otpauth://totp/a?secret={SEED}&algorithm={algorithm}").algorithm == "sha512"


def test_parse_uri_scheme_and_type_in_any_case():
    assert parse_otpauth_uri(f"OTPAUTH://TOTP/a?secret={SEED}").secret == SEED


@pytest.mark.parametrize(
    "query, message",
    [
        ("issuer=ACME", "has no 'secret' parameter"),
        ("secret=", "has no 'secret' parameter"),
        (f"secret={SEED}&secret={SEED}", "more than one 'secret' parameter"),
        (f"secret={SEED}&digits=6&digits=8", "more than one 'digits' parameter"),
        (f"secret={SEED[:-1]}1", "'secret' parameter of the otpauth URI is invalid: the seed has characters outside"),
        (f"secret={SEED[:12]}", "'secret' parameter of the otpauth URI is invalid: the seed is too short"),
        (f"secret={SEED}&digits=7", "invalid 'digits' parameter: it must be 6 or 8"),
        (f"secret={SEED}&digits=six", "invalid 'digits' parameter"),
        (f"secret={SEED}&period=0", "invalid 'period' parameter"),
        (f"secret={SEED}&period=-30", "invalid 'period' parameter"),
        (f"secret={SEED}&period=1.5", "invalid 'period' parameter"),
        (f"secret={SEED}&algorithm=MD5", "invalid 'algorithm' parameter: it must be one of SHA1, SHA256, SHA512"),
    ],
)
def test_parse_invalid_uri(query, message):
    uri = f"otpauth://totp/ACME:alice?{query}"
    with pytest.raises(OtpError, match=message) as excinfo:
        parse_otpauth_uri(uri)
    text = messages(excinfo.value)
    assert SEED[:12] not in text
    assert "otpauth://totp/ACME" not in text


@pytest.mark.parametrize(
    "uri, message",
    [
        (f"otpauth://hotp/ACME:alice?secret={SEED}&counter=0", "otpauth://hotp/ URIs .* are not supported"),
        (f"otpauth://steam/ACME:alice?secret={SEED}", "type must be totp"),
        (f"https://totp/ACME:alice?secret={SEED}", "not an otpauth URI"),
    ],
)
def test_parse_uri_of_another_kind(uri, message):
    with pytest.raises(OtpError, match=message) as excinfo:
        parse_otpauth_uri(uri)
    assert SEED not in messages(excinfo.value)


@pytest.mark.parametrize("length", [length for length in range(16, 81) if length % 8 in (0, 2, 4, 5, 7)])
def test_every_seed_length_that_is_accepted_decodes(length):
    # normalize_seed() accepts by alphabet and length alone: each such seed must be base32 of whole bytes.
    seed = ("JBSWY3DPEHPK3PXP7Z" * 5)[:length]
    assert normalize_seed(seed) == seed
    key = base64.b32decode(seed + "=" * (-length % 8))
    assert totp_code(seed, 1700000000) == reference_hotp(key, 1700000000 // 30)


def test_settings_are_keywords_only():
    with pytest.raises(TypeError):
        totp_code(SEED, 1700000000, 8)
    with pytest.raises(TypeError):
        totp_pair(SEED, 1700000000, digit=8)


def test_parse_uri_ignores_other_parameters_even_repeated():
    uri = parse_otpauth_uri(f"otpauth://totp/ACME:alice?secret={SEED}&image=https%3A%2F%2Fa&image=x&counter=1&counter=2")
    assert (uri.secret, uri.issuer, uri.account) == (SEED, "ACME", "alice")


def test_parse_uri_issuer_parameter_comes_before_the_label():
    uri = parse_otpauth_uri(f"otpauth://totp/Old:alice?secret={SEED}&issuer=New%20Co")
    assert (uri.label, uri.issuer, uri.account) == ("Old:alice", "New Co", "alice")
