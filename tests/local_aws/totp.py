"""TOTP checks as AWS IAM applies them to MFA devices (RFC 6238: SHA1, 6 digits, 30 second windows)."""
from __future__ import annotations

import time

import pyotp

INTERVAL = 30

# How many windows back the first code of a pair may come from: AWS accepts a pair that started
# up to two windows ago, so that a user typing codes slowly is not refused.
MAX_WINDOW_AGE = 2


class DeviceTOTP(pyotp.TOTP):
    """pyotp's TOTP, accepting the 80-bit seeds that hardware tokens still ship with."""

    min_secret_length_bits = 80


def current_window(now: float | None = None) -> int:
    """The TOTP counter of the time `now` (default: the current time)."""
    return int((time.time() if now is None else now) // INTERVAL)


def code_at(seed: str, window: int) -> str:
    """The code a device with this base32 seed shows during the given window."""
    return DeviceTOTP(seed).generate_otp(window)


def is_valid_seed(seed: str) -> bool:
    """Whether `seed` is base32 that decodes to a key long enough for a device."""
    try:
        DeviceTOTP(seed)
    except ValueError:
        return False
    return True


def pair_is_valid(seed: str, code1: str, code2: str, now: float | None = None) -> bool:
    """Whether code1 and code2 are two consecutive, recent codes of the device.

    Accepted: code1 is the code of window w and code2 the code of window w + 1, where the pair
    is not in the future (w + 1 <= current window) and not too old (w >= current window - 2).
    """
    current = current_window(now)
    return any(
        code1 == code_at(seed, window) and code2 == code_at(seed, window + 1)
        for window in range(current - MAX_WINDOW_AGE, current)
    )
