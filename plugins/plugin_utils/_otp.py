# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""TOTP (RFC 6238) for the controller-side plugins of mfa.aws.

Private to this collection: the names here may change in any release.

pyotp computes the HMAC and its truncation; seeds and otpauth URIs are checked, built and parsed
here, where pyotp falls short (see the comments).  Callers must check ``PYOTP_IMPORT_ERROR`` before
computing codes.  No message raised here contains a seed or an otpauth URI (the URI carries the seed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

try:
    import pyotp
except ImportError as exc:
    PYOTP_IMPORT_ERROR: ImportError | None = exc
else:
    PYOTP_IMPORT_ERROR = None

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
DIGITS = (6, 8)
DEFAULT_DIGITS = 6
DEFAULT_PERIOD = 30
DEFAULT_ALGORITHM = "sha1"
# pyotp.TOTP refuses longer periods (NIST SP 800-63B asks for a new code at least every two minutes).
MAX_PERIOD = 120
# 16 base32 characters: short, but many providers still hand out such seeds.
MIN_SEED_BITS = 80
# The TOTP counter is an 8-byte integer.
MAX_WINDOW = 2**64 - 1

_BASE32 = re.compile(r"[A-Z2-7]+")
_IGNORED_SEED_CHARS = re.compile(r"[\s-]")
# Unpadded base32 text of whole bytes never has 1, 3 or 6 characters in its last group of 8; every
# other length of base32 characters decodes.
_BASE32_REMAINDERS = (0, 2, 4, 5, 7)
_URI_PARAMETERS = ("secret", "issuer", "algorithm", "digits", "period")
_URI_PARAMETER_RULES = {
    "digits": "it must be 6 or 8",
    "period": f"it must be a whole number of seconds from 1 to {MAX_PERIOD}",
    "algorithm": f"it must be one of {', '.join(name.upper() for name in ALGORITHMS)}",
}


class OtpError(ValueError):
    """An invalid seed, otpauth URI or TOTP parameter.  The message never contains the seed."""


@dataclasses.dataclass(frozen=True)
class OtpauthUri:
    """The parts of an ``otpauth://totp/`` URI; parameters the URI lacks are ``None``."""

    secret: str = dataclasses.field(repr=False)
    label: str
    issuer: str | None
    account: str
    digits: int | None
    period: int | None
    algorithm: str | None


def normalize_seed(seed: object) -> str:
    """The base32 seed in upper case, without spaces, dashes or ``=`` padding.

    Raises OtpError if the seed is not base32 or decodes to fewer than MIN_SEED_BITS bits.
    """
    if not isinstance(seed, str):
        raise OtpError(f"the seed must be a base32 string, not {type(seed).__name__}")
    normalized = _IGNORED_SEED_CHARS.sub("", seed).upper().rstrip("=")
    if not normalized:
        raise OtpError("the seed is empty")
    if not _BASE32.fullmatch(normalized):
        raise OtpError("the seed has characters outside the base32 alphabet A-Z and 2-7 (spaces, dashes and trailing '=' are ignored)")
    if len(normalized) % 8 not in _BASE32_REMAINDERS:
        raise OtpError(f"the seed has {len(normalized)} base32 characters, a length no base32 encoding produces: is a character missing?")
    if len(normalized) < MIN_SEED_BITS // 5:
        raise OtpError(
            f"the seed is too short: it has {len(normalized)} base32 characters, at least {MIN_SEED_BITS // 5} ({MIN_SEED_BITS} bits) are needed"
        )
    return normalized


def check_digits(digits: object) -> int:
    """digits if it is a supported code length, else OtpError."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits not in DIGITS:
        raise OtpError(f"digits must be 6 or 8, not {digits!r}")
    return digits


def check_period(period: object) -> int:
    """period if it is a whole number of seconds from 1 to MAX_PERIOD, else OtpError."""
    if isinstance(period, bool) or not isinstance(period, int) or not 0 < period <= MAX_PERIOD:
        raise OtpError(f"period must be a whole number of seconds from 1 to {MAX_PERIOD}, not {period!r}")
    return period


def check_algorithm(algorithm: object) -> str:
    """The lower-case name of a supported HMAC algorithm (any case accepted), else OtpError."""
    if not isinstance(algorithm, str) or algorithm.lower() not in ALGORITHMS:
        raise OtpError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
    return algorithm.lower()


# Not pyotp.parse_uri(): it refuses OTPAUTH://TOTP/ and algorithm=sha512 (lower case), accepts digits=7
# and otpauth://hotp/, keeps the spaces of "ACME:%20alice", fills in 6, 30 and SHA1 for the parameters the
# URI lacks (the totp lookup must know which ones it gives), raises when the issuer parameter differs from
# the label's, and reads "ACME%3Aalice" as issuer ACME in pyotp 2.9 but as the account "ACME:alice" in 2.12.
def parse_otpauth_uri(uri: str) -> OtpauthUri:
    """Parse an ``otpauth://totp/<label>?secret=...`` URI (the Google Authenticator key URI format).

    The label and the parameters are percent-decoded and the secret is normalised with
    normalize_seed().  OtpError for ``otpauth://hotp/`` URIs, a missing or repeated secret,
    and unsupported digits, period or algorithm.
    """
    parts = urlsplit(uri)  # The scheme comes in lower case, the type as written.
    otp_type = parts.netloc.lower()
    if parts.scheme != "otpauth":
        raise OtpError("not an otpauth URI: it must start with otpauth://totp/")
    if otp_type == "hotp":
        raise OtpError("otpauth://hotp/ URIs (counter-based codes) are not supported, only otpauth://totp/ (time-based codes)")
    if otp_type != "totp":
        raise OtpError("the otpauth URI type must be totp (otpauth://totp/...)")

    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        key = key.lower()
        if key not in _URI_PARAMETERS:
            continue
        if key in params:
            raise OtpError(f"the otpauth URI has more than one '{key}' parameter")
        params[key] = value
    if not params.get("secret"):
        raise OtpError("the otpauth URI has no 'secret' parameter")
    try:
        secret = normalize_seed(params["secret"])
    except OtpError as err:
        raise OtpError(f"the 'secret' parameter of the otpauth URI is invalid: {err}") from None

    def setting(name, check):
        """The parameter name checked by check, or None if the URI lacks it."""
        try:
            return check(params[name]) if params.get(name) else None
        except ValueError:
            raise OtpError(f"the otpauth URI has an invalid '{name}' parameter: {_URI_PARAMETER_RULES[name]}") from None

    # The label is "account" or "issuer:account"; the colon may be percent-encoded and followed by spaces.
    label = unquote(parts.path.lstrip("/"))
    issuer, colon, account = label.partition(":")
    return OtpauthUri(
        secret=secret,
        label=label,
        issuer=params.get("issuer") or (issuer if colon else None),
        account=account.lstrip(" ") if colon else label,
        digits=setting("digits", lambda value: check_digits(int(value))),
        period=setting("period", lambda value: check_period(int(value))),
        algorithm=setting("algorithm", check_algorithm),
    )


# Not pyotp's provisioning_uri(): it writes '@' as %40 ("AWS:alice%40123456789012") and leaves '/' raw in
# the issuer and the label, where the path reads it as a separator.
def otpauth_uri(
    seed: str,
    label: str,
    issuer: str | None = None,
    *,
    digits: int = DEFAULT_DIGITS,
    period: int = DEFAULT_PERIOD,
    algorithm: str = DEFAULT_ALGORITHM,
) -> str:
    """The ``otpauth://totp/<issuer>:<label>?secret=...&issuer=...`` URI of seed (the Key URI format).

    The seed is normalised with normalize_seed().  The issuer and the label are UTF-8 and
    percent-encoded (RFC 3986) in the path, a literal ``:`` between them; the issuer is repeated,
    percent-encoded, in the ``issuer`` parameter.  digits, period and algorithm appear only when
    they differ from the defaults, which is what parse_otpauth_uri() and authenticator apps assume
    without them.  A false issuer leaves it out.  OtpError for an invalid seed or parameter, and for
    an issuer with a ``:`` (it would be read as the end of the issuer).
    """
    secret = normalize_seed(seed)
    if not isinstance(label, str) or not label:
        raise OtpError("the label (the account name the authenticator app shows, such as alice@123456789012) must be a non-empty string")
    if issuer is not None and not isinstance(issuer, str):
        raise OtpError(f"the issuer must be a string, not {type(issuer).__name__}")
    if issuer and ":" in issuer:
        raise OtpError("the issuer cannot contain ':', which separates the issuer from the label in an otpauth URI: choose another issuer")
    if not issuer and ":" in label:
        raise OtpError("a label with ':' needs an issuer: without one, the text before the ':' would be read as the issuer")
    digits, period, algorithm = check_digits(digits), check_period(period), check_algorithm(algorithm)

    # All but the RFC 3986 unreserved characters and '@' percent-encoded as UTF-8, spaces as %20.
    path = f"{quote(issuer, safe='@')}:{quote(label, safe='@')}" if issuer else quote(label, safe="@")
    query = f"secret={secret}" + (f"&issuer={quote(issuer, safe='@')}" if issuer else "")
    if algorithm != DEFAULT_ALGORITHM:
        query += f"&algorithm={algorithm.upper()}"
    if digits != DEFAULT_DIGITS:
        query += f"&digits={digits}"
    if period != DEFAULT_PERIOD:
        query += f"&period={period}"
    return f"otpauth://totp/{path}?{query}"


def manual_entry_key(seed: str) -> str:
    """The normalised seed in groups of four characters, as authenticator apps take it typed by hand."""
    secret = normalize_seed(seed)
    return " ".join(secret[start:start + 4] for start in range(0, len(secret), 4))


if PYOTP_IMPORT_ERROR is None:

    class _TOTP(pyotp.TOTP):
        """pyotp.TOTP accepting seeds from MIN_SEED_BITS bits on, as normalize_seed() does.

        pyotp's own floor is 112 bits; versions of pyotp without a floor ignore this attribute.
        """

        min_secret_length_bits = MIN_SEED_BITS


def totp_code(seed: str, at: int | float, **settings) -> str:
    """The code (digits with leading zeros) of the window of the Unix time at, moved by offset windows.

    settings: digits, period, algorithm and offset (keywords only, see _codes()).
    """
    return _codes(seed, at, 1, **settings)[0]


def totp_pair(seed: str, at: int | float, **settings) -> list[str]:
    """``[code(w - 1), code(w)]``, w being the window of the Unix time at moved by offset windows.

    These are the two consecutive codes AWS asks for to enable an MFA device.  Both are known
    as soon as the window w starts, so enabling a device never waits for the next window.
    """
    return _codes(seed, at, 2, **settings)


def _codes(seed, at, count, *, digits=DEFAULT_DIGITS, period=DEFAULT_PERIOD, algorithm=DEFAULT_ALGORITHM, offset=0):
    """The codes of count consecutive windows, the last one being the window of at moved by offset windows."""
    secret = normalize_seed(seed)
    digits, period, algorithm = check_digits(digits), check_period(period), check_algorithm(algorithm)
    if isinstance(at, bool) or not isinstance(at, (int, float)) or at < 0 or (isinstance(at, float) and not math.isfinite(at)):
        raise OtpError(f"at must be a Unix time (seconds since 1970-01-01 UTC, 0 or more), not {at!r}")
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise OtpError(f"offset must be a whole number of windows, not {offset!r}")
    # RFC 6238: the counter is the number of whole periods since the Unix epoch.  Not pyotp's TOTP.at(): pyotp 2.9
    # goes through local time, which gives the code of the wrong window in the hour when daylight saving time ends.
    last = int(at) // period + offset
    first = last - count + 1
    if first < 0 or last > MAX_WINDOW:
        raise OtpError("the requested window is outside what a TOTP counter can hold (before the Unix epoch, or beyond 64 bits)")

    # pyotp's messages are not passed on: nothing guarantees that they leave the seed out.
    try:
        totp = _TOTP(secret, digits=digits, digest=ALGORITHMS[algorithm], interval=period)
        return [totp.generate_otp(window) for window in range(first, last + 1)]
    except ValueError as err:
        raise OtpError(f"pyotp refused to compute the code ({type(err).__name__})") from None
