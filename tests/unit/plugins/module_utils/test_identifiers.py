# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.mfa.aws.plugins.module_utils import _identifiers as identifiers


@pytest.mark.parametrize(
    "value, ok",
    [
        ("alice", True),
        ("alice.b-c_d", True),
        ("a+b=c,d@e", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        ("bob smith", False),
        ("../alice", False),
        ("a/b", False),
        ("ålice", False),
        (1234, False),
        (None, False),
    ],
)
def test_user_names(value, ok):
    assert identifiers.is_user_name(value) is ok
    problem = identifiers.user_name_problem(value)
    if ok:
        assert problem is None
    else:
        assert problem == f"user name {value!r} is not an IAM user name (1 to 64 letters, digits and +=,.@_-)"


@pytest.mark.parametrize(
    "value, ok",
    [("123456789012", True), ("12345678901", False), ("1234567890123", False), ("12345678901a", False), (123456789012, False), (None, False)],
)
def test_account_ids(value, ok):
    assert identifiers.is_account_id(value) is ok


@pytest.mark.parametrize(
    "value, ok",
    [
        ("arn:aws:iam::123456789012:root", True),
        ("arn:aws-cn:iam::123456789012:root", True),
        ("arn:aws-us-gov:iam::123456789012:root", True),
        ("arn:aws:iam::123456789012:user/root", False),
        ("arn:aws:iam::12345678901:root", False),
        ("<root_account>", False),
        (None, False),
    ],
)
def test_root_arns(value, ok):
    assert identifiers.is_root_arn(value) is ok
    if ok:
        assert identifiers.ROOT_ARN.fullmatch(value).group(1) == "123456789012"
