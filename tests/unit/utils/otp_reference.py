# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the OTP unit tests compare the code under test with, written independently of it."""

from __future__ import annotations

import hashlib
import hmac
import struct

# RFC 4226 Appendix D: HOTP values of the seed "12345678901234567890" for the counters 0 to 9.
RFC_4226_CODES = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def reference_hotp(key, counter, digits=6, digestmod=hashlib.sha1):
    """HOTP as written in RFC 4226 section 5.3 (TOTP is HOTP of the window number, RFC 6238)."""
    digest = hmac.new(key, struct.pack(">Q", counter), digestmod).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def messages(exception):
    """The messages of exception and of every exception it was raised from or during."""
    found = []
    while exception is not None:
        found.append(str(exception))
        exception = exception.__cause__ or (None if exception.__suppress_context__ else exception.__context__)
    return "\n".join(found)
