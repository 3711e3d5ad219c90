# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils import _errors as errors
from ansible_collections.mfa.aws.tests.unit.utils.constants import client_error


def calling(exception=None, answer="answer", **decorator):
    """A function decorated by aws_call that raises exception (or returns answer), and the mock client it calls."""

    @errors.aws_call("tag device {serial_number} of {names}", **decorator)
    def call(client, serial_number, names):
        return client.tag(serial_number, names)

    client = MagicMock()
    client.tag.side_effect = exception
    client.tag.return_value = answer
    return call, client


def failure(exception, error=AnsibleAWSError, **decorator):
    """The error the decorated call raises when the client raises exception."""
    call, client = calling(exception, error=error, **decorator)
    with pytest.raises(error) as raised:
        call(client, serial_number="s1", names=["a", "b"])
    return raised.value


def test_a_call_that_succeeds_returns_its_answer():
    call, client = calling()

    assert call(client, serial_number="s1", names=["a", "b"]) == "answer"


@pytest.mark.parametrize(
    "exception, decorator, message",
    [
        (
            client_error("AccessDenied", "TagMFADevice"),
            dict(permission="iam:TagMFADevice on {serial_number}"),
            "(the credentials in use lack iam:TagMFADevice on s1: grant it to the role or user that runs the task)",
        ),
        (client_error("AccessDeniedException"), {}, "(the credentials in use lack this IAM permission: grant it to the role or user that runs the task)"),
        (client_error("Throttling"), dict(error=AnsibleIAMError), "(AWS throttled every retry: run with fewer forks or later)"),
        (client_error("LimitExceeded"), dict(hints={"LimitExceeded": "{serial_number} is one too many"}), "(s1 is one too many)"),
        (client_error("NoSuchEntity"), dict(hints={"NoSuchEntity": "no device {serial_number}: check serial_number"}), "(no device s1: check serial_number)"),
        (client_error("ServiceFailure"), {}, ""),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="https://iam.amazonaws.com"), {}, ""),
    ],
)
def test_an_error_names_the_call_with_its_identifiers_and_what_to_fix(exception, decorator, message):
    raised = failure(exception, **decorator)

    assert raised.message == f"Failed to tag device s1 of a, b {message}".rstrip()
    assert raised.exception is exception
    assert isinstance(raised, decorator.get("error", AnsibleAWSError))


@pytest.mark.parametrize("code", errors.MISSING_CODES)
def test_missing_is_the_answer_for_what_does_not_exist(code):
    call, client = calling(client_error(code), missing=False)

    assert call(client, serial_number="s1", names=[]) is False


def test_a_callable_missing_gives_a_new_value_each_time():
    call, client = calling(client_error("NoSuchEntity"), missing=dict)

    first = call(client, serial_number="s1", names=[])
    first["changed"] = True

    assert call(client, serial_number="s1", names=[]) == {}


def test_an_error_raised_by_a_call_inside_keeps_its_own_message():
    inner, inner_client = calling(client_error("AccessDenied"), permission="iam:ListMFADevices")

    @errors.aws_call("do the outer thing")
    def outer(client):
        return inner(client, serial_number="s1", names=[])

    with pytest.raises(AnsibleAWSError) as raised:
        outer(inner_client)

    assert raised.value.message == (
        "Failed to tag device s1 of  (the credentials in use lack iam:ListMFADevices: grant it to the role or user that runs the task)"
    )


@pytest.mark.parametrize(
    "code, hints, expected",
    [
        ("KMSDisabledException", None, "the KMS key cannot be used"),
        ("ExpiredTokenException", None, "the AWS credentials have expired"),
        ("ExpiredTokenException", {"ExpiredTokenException": "sign in again"}, "sign in again"),
        ("SomethingElse", None, None),
        (None, None, None),
    ],
)
def test_hint(code, hints, expected):
    found = errors.hint(code, hints=hints)

    assert found == expected or found.startswith(expected)


def test_failure_line_has_the_code_and_the_message_on_one_line():
    error = client_error("AccessDenied", "AssumeRole", message="User: arn:aws:iam::123456789012:user/x\nis not authorized")

    line = errors.failure_line("cannot assume r", error, "check the trust policy")

    assert line == "cannot assume r: AccessDenied: User: arn:aws:iam::123456789012:user/x is not authorized: check the trust policy"


def test_failure_line_of_an_error_without_an_answer_names_its_kind():
    line = errors.failure_line("cannot read the identity", botocore.exceptions.NoCredentialsError(), "check the credentials")

    assert line == "cannot read the identity: NoCredentialsError: check the credentials"
