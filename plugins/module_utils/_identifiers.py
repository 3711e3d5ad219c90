# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The identifiers of AWS that this collection checks before any call: account ids, IAM user names, root user ARNs,
MFA device names, paths and serial numbers.

Private to this collection: the names here may change in any release. One place, so that every module, action and
plugin accepts and refuses the same values. Standard library only: a module runs wherever its interpreter is.
"""

from __future__ import annotations

import re

# An AWS account id: 12 digits, as a string (YAML turns an unquoted id into a number, and a leading 0 is lost then).
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# An IAM user name: 1 to 64 letters, digits and +=,.@_- (never a path).
USER_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
# The ARN of an account's root user, in any partition; group 1 is the account id.
ROOT_ARN = re.compile(r"arn:aws[\w-]*:iam::([0-9]{12}):root")
# A virtual MFA device's name and path, and a hardware TOTP token's printed serial number, as IAM accepts them.
DEVICE_NAME = re.compile(r"[\w+=,.@-]{1,226}", re.ASCII)
DEVICE_PATH = re.compile(r"/([\x21-\x7e]+/)*")
HARDWARE_SERIAL = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)

# The kinds of MFA device, told apart by their serial numbers.
VIRTUAL = "virtual"
FIDO = "fido"
HARDWARE = "hardware"


def is_account_id(value) -> bool:
    """Whether value is an AWS account id: a string of 12 digits."""
    return isinstance(value, str) and bool(ACCOUNT_ID.fullmatch(value))


def account_id_problem(value, whose: str = "the AWS account") -> str | None:
    """The problem with an account id, or None when it is 12 digits; ``whose`` says which account it must be."""
    if is_account_id(value):
        return None
    if value is None or value == "":
        return f"account_id must be the 12-digit id of {whose}"
    quote = " (quote it: YAML reads an unquoted id as a number)" if isinstance(value, int) else ""
    return f"account_id must be the 12-digit id of {whose}, not {value!r}{quote}"


def is_user_name(value) -> bool:
    """Whether value is an IAM user name (1 to 64 letters, digits and +=,.@_-): never a path, never empty."""
    return isinstance(value, str) and bool(USER_NAME.fullmatch(value))


def user_name_problem(value) -> str | None:
    """The problem with an IAM user name, or None when IAM would accept it."""
    if is_user_name(value):
        return None
    return f"user name {value!r} is not an IAM user name (1 to 64 letters, digits and +=,.@_-)"


def is_root_arn(value) -> bool:
    """Whether value is the ARN of an account's root user."""
    return isinstance(value, str) and bool(ROOT_ARN.fullmatch(value))


def device_kind(serial_number: str) -> str:
    """``virtual`` for ``:mfa/`` ARNs, ``fido`` for ``:u2f/`` ARNs, ``hardware`` for printed serials."""
    if serial_number.startswith("arn:") and ":mfa/" in serial_number:
        return VIRTUAL
    if serial_number.startswith("arn:") and ":u2f/" in serial_number:
        return FIDO
    return HARDWARE


def device_name_problem(name: str) -> str | None:
    """The problem with a virtual MFA device name, or None when IAM would accept it."""
    if not DEVICE_NAME.fullmatch(name):
        return "name must be 1 to 226 characters of letters, digits and +=,.@_- (as IAM requires)"
    return None


def device_path_problem(path: str) -> str | None:
    """The problem with a virtual MFA device path, or None when IAM would accept it."""
    if len(path) > 512 or not DEVICE_PATH.fullmatch(path):
        return "path must begin and end with / and be at most 512 printable ASCII characters (as IAM requires)"
    return None


def serial_number_problem(serial_number: str) -> str | None:
    """The problem with an MFA device's serial number, or None for a device ARN or a plausible hardware serial."""
    if device_kind(serial_number) == HARDWARE and not HARDWARE_SERIAL.fullmatch(serial_number):
        return "serial_number must be a virtual device ARN or a hardware token's printed serial (9 to 256 characters)"
    return None
