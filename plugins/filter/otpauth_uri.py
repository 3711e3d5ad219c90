# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The otpauth_uri filter (documented in otpauth_uri.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa.aws.plugins.plugin_utils._otp import DEFAULT_ALGORITHM
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import DEFAULT_DIGITS
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import DEFAULT_PERIOD
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import OtpError
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import otpauth_uri as build_otpauth_uri


def otpauth_uri(seed, label=None, issuer="AWS", digits=DEFAULT_DIGITS, period=DEFAULT_PERIOD, algorithm=DEFAULT_ALGORITHM):
    """The otpauth://totp/ URI of a base32 seed; see DOCUMENTATION.  Errors never repeat the seed."""
    try:
        return build_otpauth_uri(
            seed,
            label,
            issuer,
            digits=_whole_number(digits),
            period=_whole_number(period),
            algorithm=algorithm,
        )
    except OtpError as err:
        raise AnsibleFilterError(f"otpauth_uri: {err}") from None


def _whole_number(value):
    """value as an int when it is a string of digits (as templated values can be), else unchanged."""
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return value


class FilterModule:

    def filters(self):
        return {"otpauth_uri": otpauth_uri}
