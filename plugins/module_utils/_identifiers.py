# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The identifiers of AWS that this collection checks before any call: account ids, IAM user names, root user ARNs.

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


def is_account_id(value) -> bool:
    """Whether value is an AWS account id: a string of 12 digits."""
    return isinstance(value, str) and bool(ACCOUNT_ID.fullmatch(value))


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
