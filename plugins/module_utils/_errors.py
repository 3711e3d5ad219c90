# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place where this collection turns AWS errors into its one-line messages.

Private to this collection: the names here may change in any release.

``aws_call`` wraps a function that calls AWS (amazon.aws's ``AWSErrorHandler``, extended with a hint
per error code and with the permission the call needs); ``hint`` is the table's answer for one
error code; ``failure_line`` is the one line of an error that has no hint of ours.  A message built
here names what failed and what to fix, and never holds a seed, a code or a credential: the
descriptions are formatted with the call's identifiers only.
"""

from __future__ import annotations

import functools

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

# How many MFA devices AWS lets one user have.
MAX_DEVICES_PER_USER = 8

# What AWS answers for an entity, a secret, a parameter or a key that does not exist.
MISSING_CODES = ("NoSuchEntity", "ResourceNotFoundException", "ParameterNotFound", "NotFoundException")

# The permission a message names when the call does not say which one it needs.
SOME_PERMISSION = "this IAM permission"

_DENIED = "the credentials in use lack {permission}: grant it to the role or user that runs the task"
_THROTTLED = "AWS throttled every retry: run with fewer forks or later"
_BAD_CREDENTIALS = "the AWS credentials are not valid: check the access key, profile or assumed role"
_EXPIRED = "the AWS credentials have expired: assume the role again"
_KMS = "the KMS key cannot be used: check that it is enabled and that its key policy lets the credentials in use encrypt and decrypt"

# One line per error a person can act on: what to fix. A call adds or overrides lines for what it alone can say.
HINTS = {
    "AccessDenied": _DENIED,
    "AccessDeniedException": _DENIED,
    "Throttling": _THROTTLED,
    "ThrottlingException": _THROTTLED,
    "TooManyUpdates": _THROTTLED,
    "InvalidClientTokenId": _BAD_CREDENTIALS,
    "UnrecognizedClientException": _BAD_CREDENTIALS,
    "ExpiredToken": _EXPIRED,
    "ExpiredTokenException": _EXPIRED,
    "DecryptionFailure": _KMS,
    "EncryptionFailure": _KMS,
    "InvalidKeyId": _KMS,
    "KMSAccessDeniedException": _KMS,
    "KMSDisabledException": _KMS,
    "KMSInvalidStateException": _KMS,
    "KMSNotFoundException": _KMS,
    "InvalidAuthenticationCode": "the two codes are not consecutive codes of this device's seed: check the device clock or the seed",
    "LimitExceeded": f"the user already has {MAX_DEVICES_PER_USER} MFA devices, the most AWS allows: deactivate and delete one first",
    "DeleteConflict": "the device is still enabled for a user: deactivate it first (or set force=true)",
}

_RAISE = object()


def error_code(exception) -> str | None:
    """The AWS error code of a botocore ClientError, None for any other exception."""
    try:
        return exception.response["Error"]["Code"]
    except (AttributeError, KeyError, TypeError):
        return None


def hint(code: str | None, permission: str = SOME_PERMISSION, hints: dict | None = None, **fields) -> str | None:
    """What to fix for an AWS error code, or None when a person cannot act on it.

    ``hints`` adds or overrides lines of the table; a line is formatted with the permission the call needs and with
    ``fields`` (the call's identifiers).
    """
    line = (hints or {}).get(code) or HINTS.get(code)
    return line.format(permission=permission, **fields) if line else None


def failure_line(what: str, exception: Exception, advice: str) -> str:
    """One line: what could not be done, AWS's error code and message (or the exception's kind), and what to check."""
    code = error_code(exception)
    message = " ".join(str(exception.response.get("Error", {}).get("Message", "")).split()) if code else ""
    detail = f"{code or exception.__class__.__name__}: {message}" if message else code or exception.__class__.__name__
    return f"{what}: {detail}: {advice}"


@functools.lru_cache(maxsize=None)
def _handler(error_class):
    """amazon.aws's error handler raising error_class, for which every code of MISSING_CODES means "not there"."""
    return type(
        f"{error_class.__name__}Handler",
        (AWSErrorHandler,),
        {"_CUSTOM_EXCEPTION": error_class, "_is_missing": classmethod(lambda cls: is_boto3_error_code(list(MISSING_CODES)))},
    )


def aws_call(description, permission=SOME_PERMISSION, missing=_RAISE, hints=None, error=AnsibleAWSError):
    """Turn the botocore errors of the decorated call into ``error`` (an AnsibleAWSError) with a one-line message.

    The message is ``Failed to <description> (<hint>)``. ``description``, ``permission`` (the actions the call needs)
    and the hints are formatted with the call's keyword arguments (lists joined with commas). ``missing`` is returned
    when the entity, secret, parameter or key does not exist (a callable is called for the value); without it, that is
    an error like any other. ``hints`` adds or overrides lines of the table for this call. The decorated functions take
    the client positionally and everything else by keyword.
    """

    def decorator(func):
        @functools.wraps(func)
        def wrapper(client, **kwargs):
            shown = {key: ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value for key, value in kwargs.items()}
            what = description.format(**shown)
            handler = _handler(error)
            if missing is _RAISE:
                handled = handler.common_error_handler(what)(func)
            else:
                handled = handler.list_error_handler(what, _RAISE)(func)
            try:
                result = handled(client, **kwargs)
            except error as e:
                if not e.message.endswith(what):  # raised by a call inside, which said what to fix already
                    raise
                line = hint(error_code(e.exception), permission.format(**shown), hints, **shown)
                if not line:
                    raise
                raise error(message=f"{e.message} ({line})", exception=e.exception) from e.exception
            if result is _RAISE:
                return missing() if callable(missing) else missing
            return result

        return wrapper

    return decorator
