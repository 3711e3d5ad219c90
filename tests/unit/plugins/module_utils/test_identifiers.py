# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.mfa.aws.plugins.module_utils import _identifiers as identifiers
from ansible_collections.mfa.aws.tests.unit.utils.constants import SERIAL


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


@pytest.mark.parametrize(
    "serial_number, kind",
    [
        (SERIAL, identifiers.VIRTUAL),
        ("arn:aws:iam::123456789012:mfa/team/alice", identifiers.VIRTUAL),
        ("arn:aws-us-gov:iam::123456789012:mfa/alice", identifiers.VIRTUAL),
        ("arn:aws:iam::123456789012:u2f/user/alice/key-ABCDEFGHIJKLMNOPQRSTUVWXYZ", identifiers.FIDO),
        ("GAHT12345678", identifiers.HARDWARE),
        ("mfa/alice", identifiers.HARDWARE),
    ],
)
def test_device_kind(serial_number, kind):
    assert identifiers.device_kind(serial_number) == kind


@pytest.mark.parametrize("name", ["alice", "a", "build-robot_1+ops=x,y.z@example", "x" * 226])
def test_device_name_problem_accepts_iam_names(name):
    assert identifiers.device_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "x" * 227, "alice smith", "team/alice", "alice!", "élise"])
def test_device_name_problem_refuses_what_iam_refuses(name):
    assert "1 to 226 characters" in identifiers.device_name_problem(name)


@pytest.mark.parametrize("path", ["/", "/team/", "/a/b/c/", "/" + "p" * 510 + "/"])
def test_device_path_problem_accepts_iam_paths(path):
    assert identifiers.device_path_problem(path) is None


@pytest.mark.parametrize("path", ["", "team/", "/team", "/" + "p" * 511 + "/", "/t eam/", "/équipe/"])
def test_device_path_problem_refuses_what_iam_refuses(path):
    assert "must begin and end with /" in identifiers.device_path_problem(path)


@pytest.mark.parametrize("serial_number", [SERIAL, "GAHT12345678", "arn:aws:iam::123456789012:u2f/user/alice/key-ABC"])
def test_serial_number_problem_accepts_devices(serial_number):
    assert identifiers.serial_number_problem(serial_number) is None


@pytest.mark.parametrize("serial_number", ["GAHT1234", "GAHT 12345678", "x" * 257])
def test_serial_number_problem_refuses_bad_hardware_serials(serial_number):
    assert "9 to 256 characters" in identifiers.serial_number_problem(serial_number)


@pytest.mark.parametrize(
    "value, whose, problem",
    [
        ("123456789012", "x", None),
        ("012345678901", "x", None),
        (None, "the AWS account", "account_id must be the 12-digit id of the AWS account"),
        ("", "the AWS account", "account_id must be the 12-digit id of the AWS account"),
        ("12345", "a member account", "account_id must be the 12-digit id of a member account, not '12345'"),
        (12345678901, "the account", "account_id must be the 12-digit id of the account, not 12345678901 (quote it: YAML reads an unquoted id as a number)"),
        ("1234567890123", "the account", "account_id must be the 12-digit id of the account, not '1234567890123'"),
    ],
)
def test_account_id_problem(value, whose, problem):
    assert identifiers.account_id_problem(value, whose) == problem
