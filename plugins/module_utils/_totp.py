# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""RFC 6238 TOTP codes as AWS IAM's virtual MFA devices compute them (SHA1, 6 digits, 30-second windows), for modules.

Private to this collection: the names here may change in any release.

The modules that enable or resynchronise a device from its seed compute the two codes right before each call, so that a
call made again (the device not visible yet, the pair used already) has codes of the current windows. Standard library
only: a module runs wherever its interpreter is. Nothing here puts a seed or a code in a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
import time

PERIOD = 30
DIGITS = 6

_BASE32 = re.compile(r"[A-Z2-7]+")


class SeedError(ValueError):
    """A seed that is not base32 of a usable key; the message never holds the seed."""


def _key(seed: str) -> bytes:
    text = re.sub(r"[\s-]", "", str(seed)).upper().rstrip("=")
    if not _BASE32.fullmatch(text):
        raise SeedError("the seed is not base32 (letters A-Z and digits 2-7)")
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise SeedError("the seed is not valid base32") from None
    if len(key) < 10:
        raise SeedError("the seed is shorter than 80 bits")
    return key


def code_at(seed: str, counter: int) -> str:
    """The code of the 30-second window number counter (RFC 4226 HOTP of the key)."""
    digest = hmac.new(_key(seed), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** DIGITS).zfill(DIGITS)


def window(at: float | None = None) -> int:
    """The number of the 30-second window of the time at (now by default)."""
    return int((time.time() if at is None else at) // PERIOD)


def pair(seed: str, at: float | None = None) -> tuple[str, str]:
    """Two consecutive codes that end with the current window: (code of the previous window, code of the current one)."""
    current = window(at)
    return code_at(seed, current - 1), code_at(seed, current)


def seconds_to_next_window(at: float | None = None) -> float:
    """How long until the next window starts."""
    now = time.time() if at is None else at
    return PERIOD - now % PERIOD
