# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the mfa.aws modules know about IAM MFA devices.

Private to this collection: the names here may change in any release.

Every AWS call goes through a client made by ``iam_client()`` (retries with jittered
backoff on throttling and on ``ConcurrentModification``) and every botocore error is turned
into an ``AnsibleIAMError`` whose message says what failed and, for the errors a person can
act on, what to fix.  Nothing here ever puts a seed or an authentication code in a message.
"""

from __future__ import annotations

import functools
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library.

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import is_root_arn
from ansible_collections.mfa.aws.plugins.module_utils import _totp

VIRTUAL = "virtual"
FIDO = "fido"
HARDWARE = "hardware"

MAX_DEVICES_PER_USER = 8

# How the credential report and the root user's ARN name the root user.
ROOT_USER_NAMES = ("<root_account>",)
ROOT_HANDOFF = (
    "AWS lets nobody enable MFA for the root user through the API, only in the console signed in as root: "
    "run mfa.aws.iam_mfa_info (or playbooks/audit.yml) for the console steps to hand to the account owner"
)

_DEVICE_NAME = re.compile(r"[\w+=,.@-]{1,226}", re.ASCII)
_PATH = re.compile(r"/([\x21-\x7e]+/)*")
_HARDWARE_SERIAL = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)
_CODE = re.compile(r"[0-9]{6}")

# IAM answers ConcurrentModification and EntityTemporarilyUnmodifiable while another change of the entity settles.
_RETRY = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["ConcurrentModification", "EntityTemporarilyUnmodifiable"])

# One line per error a person can act on: what to fix.
_HINTS = {
    "InvalidAuthenticationCode": "the two codes are not consecutive codes of this device's seed: check the device clock or the seed",
    "LimitExceeded": f"the user already has {MAX_DEVICES_PER_USER} MFA devices, the most AWS allows: deactivate and delete one first",
    "DeleteConflict": "the device is still enabled for a user: deactivate it first (or set force=true)",
    "Throttling": "AWS throttled every retry: run with fewer forks or later",
    "AccessDenied": "the credentials in use lack this IAM permission: grant it to the role or user that runs the task",
    "AccessDeniedException": "the credentials in use lack this IAM permission: grant it to the role or user that runs the task",
    "InvalidClientTokenId": "the AWS credentials are not valid: check the access key, profile or assumed role",
    "ExpiredToken": "the AWS credentials have expired: assume the role again",
}


def with_connection_secrets_hidden(argument_spec: dict) -> dict:
    """argument_spec plus amazon.aws's access_key option marked no_log.

    amazon.aws shows the access key id in module invocations (-vvv), and the ids of assumed-role
    credentials are part of the credentials this collection keeps out of every output.
    """
    return dict(argument_spec, access_key=dict(aws_argument_spec()["access_key"], no_log=True))


def iam_client(module):
    """An IAM client whose calls retry on throttling when given ``aws_retry=True``."""
    return module.client("iam", retry_decorator=_RETRY)


def error_code(exception) -> str | None:
    try:
        return exception.response["Error"]["Code"]
    except (AttributeError, KeyError, TypeError):
        return None


def fail_with_result(module, error: AnsibleIAMError, **result):
    """Fail with the error, as AnsibleAWSModule.fail_json_aws_error does, and with the result so far."""
    if error.exception:
        module.fail_json_aws(error.exception, msg=error.message, **result)
    module.fail_json(msg=error.message, **result)


def _handles_errors(description, missing=None, hints=None):
    """Turn botocore errors of the decorated call into AnsibleIAMError.

    ``description`` is formatted with the call's keyword arguments, so a message names the
    user and device concerned.  ``missing`` (a value) is returned when AWS answers
    ``NoSuchEntity``; without it, NoSuchEntity is an error like any other.  ``hints`` adds
    or overrides per-code hints for this call; they are formatted with the call's keyword
    arguments too.  The decorated functions take the client positionally and everything else
    by keyword.
    """
    all_hints = dict(_HINTS, **(hints or {}))

    def decorator(func):
        @functools.wraps(func)
        def wrapper(client, **kwargs):
            try:
                return func(client, **kwargs)
            except botocore.exceptions.ClientError as e:
                code = error_code(e)
                if code == "NoSuchEntity" and missing is not None:
                    return missing() if callable(missing) else missing
                message = "Failed to " + description.format(**kwargs)
                if code in all_hints:
                    message += f" ({all_hints[code].format(**kwargs)})"
                raise AnsibleIAMError(message=message, exception=e) from e
            except botocore.exceptions.BotoCoreError as e:
                raise AnsibleIAMError(message="Failed to " + description.format(**kwargs), exception=e) from e

        return wrapper

    return decorator


# --- pure helpers --------------------------------------------------------------------------


def device_kind(serial_number: str) -> str:
    """``virtual`` for ``:mfa/`` ARNs, ``fido`` for ``:u2f/`` ARNs, ``hardware`` for printed serials."""
    if serial_number.startswith("arn:") and ":mfa/" in serial_number:
        return VIRTUAL
    if serial_number.startswith("arn:") and ":u2f/" in serial_number:
        return FIDO
    return HARDWARE


def is_root_user(user_name: str) -> bool:
    return user_name in ROOT_USER_NAMES or is_root_arn(user_name)


def validate_device_name(name: str) -> str | None:
    """The problem with a virtual MFA device name, or None when IAM would accept it."""
    if not _DEVICE_NAME.fullmatch(name):
        return "name must be 1 to 226 characters of letters, digits and +=,.@_- (as IAM requires)"
    return None


def validate_path(path: str) -> str | None:
    if len(path) > 512 or not _PATH.fullmatch(path):
        return "path must begin and end with / and be at most 512 printable ASCII characters (as IAM requires)"
    return None


def validate_code(code: str | None) -> bool:
    return code is not None and bool(_CODE.fullmatch(code))


def validate_serial_number(serial_number: str) -> str | None:
    if device_kind(serial_number) == HARDWARE and not _HARDWARE_SERIAL.fullmatch(serial_number):
        return "serial_number must be a virtual device ARN or a hardware token's printed serial (9 to 256 characters)"
    return None


def virtual_serial_suffix(path: str, name: str) -> str:
    """The end of a virtual device's serial number ARN, after the account id."""
    return f":mfa{path}{name}"


def split_virtual_serial(serial_number: str) -> tuple[str, str]:
    """(path, name) of a virtual device's serial number ARN."""
    resource = serial_number.split(":mfa", 1)[1]
    path, name = resource.rsplit("/", 1)
    return path + "/", name


def normalize_virtual_device(device: dict, tags: dict | None = None) -> dict:
    """snake_case view of a virtual device, never with its seed or QR code."""
    public = {k: v for k, v in device.items() if k not in ("Base32StringSeed", "QRCodePNG", "Tags", "User")}
    result = boto3_resource_to_ansible_dict(public, transform_tags=False)
    path, name = split_virtual_serial(device["SerialNumber"])
    result.update(path=path, name=name, user_name=(device.get("User") or {}).get("UserName"))
    result.setdefault("enable_date", None)
    result["tags"] = tags if tags is not None else boto3_tag_list_to_ansible_dict(device.get("Tags") or [])
    return result


def index_virtual_devices(devices: list) -> dict:
    """{(path, name): device} of a ListVirtualMFADevices answer."""
    return {split_virtual_serial(device["SerialNumber"]): device for device in devices if device_kind(device["SerialNumber"]) == VIRTUAL}


def virtual_device_users(devices: list) -> dict:
    """{serial number: the name of the user it is enabled for, None when it is not} of a ListVirtualMFADevices answer."""
    return {device["SerialNumber"]: (device.get("User") or {}).get("UserName") for device in devices}


def item_error(index: int, label: str, error: AnsibleIAMError) -> AnsibleIAMError:
    """The error of the item at that index of the devices option, named first: ``devices[2] (alice): ...``."""
    return AnsibleIAMError(message=f"devices[{index}] ({label}): {error.message}", exception=error.exception)


def normalize_mfa_device(device: dict) -> dict:
    """snake_case view of a device enabled for a user, with its kind."""
    result = boto3_resource_to_ansible_dict(device, transform_tags=False, force_tags=False)
    result["kind"] = device_kind(device["SerialNumber"])
    return result


# --- AWS calls -----------------------------------------------------------------------------


@_handles_errors("list the virtual MFA devices of the account")
@_RETRY
def list_virtual_devices(client, assignment_status="Any"):
    paginator = client.get_paginator("list_virtual_mfa_devices")
    return paginator.paginate(AssignmentStatus=assignment_status).build_full_result()["VirtualMFADevices"]


def find_virtual_device(client, path, name):
    """The virtual device with that path and name (AWS has no Get call for it), or None."""
    suffix = virtual_serial_suffix(path, name)
    for device in list_virtual_devices(client):
        if device["SerialNumber"].endswith(suffix) and device["SerialNumber"].startswith("arn:"):
            return device
    return None


@_handles_errors("read user {user_name}", missing=False)
def user_exists(client, user_name):
    client.get_user(aws_retry=True, UserName=user_name)
    return True


@_handles_errors("list the MFA devices of user {user_name}", hints={"NoSuchEntity": "no IAM user named {user_name}: check user_name"})
@_RETRY
def list_user_devices(client, user_name):
    paginator = client.get_paginator("list_mfa_devices")
    return paginator.paginate(UserName=user_name).build_full_result()["MFADevices"]


@_handles_errors("list the tags of MFA device {serial_number}", missing=dict)
@_RETRY
def list_device_tags(client, serial_number):
    paginator = client.get_paginator("list_mfa_device_tags")
    return boto3_tag_list_to_ansible_dict(paginator.paginate(SerialNumber=serial_number).build_full_result()["Tags"])


@_handles_errors(
    "create virtual MFA device {name} at path {path}",
    hints={"EntityAlreadyExists": "a device with that path and name exists already", "LimitExceeded": "the account has the most MFA devices AWS allows"},
)
def create_virtual_device(client, path, name, tags):
    args = dict(Path=path, VirtualMFADeviceName=name)
    if tags:
        args["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_virtual_mfa_device(aws_retry=True, **args)["VirtualMFADevice"]


@_handles_errors("delete virtual MFA device {serial_number}", missing=False)
def delete_virtual_device(client, serial_number):
    client.delete_virtual_mfa_device(aws_retry=True, SerialNumber=serial_number)
    return True


@_handles_errors(
    "enable MFA device {serial_number} for user {user_name}",
    hints={
        "EntityAlreadyExists": "the device is enabled for a user already: deactivate it there first",
        "NoSuchEntity": "the user or the device does not exist: check user_name and serial_number",
    },
)
def enable_device(client, user_name, serial_number, code_1, code_2):
    client.enable_mfa_device(
        aws_retry=True, UserName=user_name, SerialNumber=serial_number, AuthenticationCode1=code_1, AuthenticationCode2=code_2
    )


@_handles_errors("deactivate MFA device {serial_number} of user {user_name}", missing=False)
def deactivate_device(client, user_name, serial_number):
    client.deactivate_mfa_device(aws_retry=True, UserName=user_name, SerialNumber=serial_number)
    return True


@_handles_errors(
    "resynchronise MFA device {serial_number} of user {user_name}",
    hints={"NoSuchEntity": "the device is not enabled for that user: check user_name and serial_number"},
)
def resync_device(client, user_name, serial_number, code_1, code_2):
    client.resync_mfa_device(
        aws_retry=True, UserName=user_name, SerialNumber=serial_number, AuthenticationCode1=code_1, AuthenticationCode2=code_2
    )


@_handles_errors("tag MFA device {serial_number}")
def tag_device(client, serial_number, tags):
    client.tag_mfa_device(aws_retry=True, SerialNumber=serial_number, Tags=ansible_dict_to_boto3_tag_list(tags))


@_handles_errors("untag MFA device {serial_number}")
def untag_device(client, serial_number, tag_keys):
    client.untag_mfa_device(aws_retry=True, SerialNumber=serial_number, TagKeys=list(tag_keys))


@_handles_errors("read the identity of the credentials in use (sts:GetCallerIdentity)")
def caller_account(client):
    """(account id, partition) of the credentials in use, from sts:GetCallerIdentity, which needs no permission."""
    identity = client.get_caller_identity(aws_retry=True)
    return identity["Account"], identity["Arn"].split(":")[1]


@_handles_errors("read the account summary")
def account_mfa_enabled(client):
    """Whether the root user has an MFA device: GetAccountSummary's AccountMFAEnabled, always current."""
    return bool(client.get_account_summary(aws_retry=True)["SummaryMap"].get("AccountMFAEnabled"))


# --- eventual consistency, fresh codes, several calls at once --------------------------------------------------------

# How many seconds a device that was just created may stay invisible to IAM's other calls before the modules give up.
VISIBILITY_TIMEOUT = 30
NOT_VISIBLE = (
    "IAM does not show MFA device {serial_number} yet (a device just created takes a few seconds to be visible to IAM's "
    "other calls): run again in a minute; if it keeps saying so, the device does not exist: check serial_number"
)


class Codes:
    """Where the two codes of a call come from: given ones, or computed from the device's seed right before each call."""

    def __init__(self, codes=(None, None), seed=None):
        self.given, self.seed = tuple(codes), seed

    def __call__(self):
        if self.seed is not None:
            return _totp.pair(self.seed)
        return self.given

    @property
    def missing(self):
        return self.seed is None and None in self.given


def _jittered(delay):
    return delay * random.uniform(0.8, 1.2)


def call_while_invisible(client, call, user_name, serial_number, codes, timeout=VISIBILITY_TIMEOUT):
    """call(code_1, code_2) - EnableMFADevice or ResyncMFADevice - made again while IAM answers NoSuchEntity for a device
    that exists for IAM's other calls soon (eventual consistency), with fresh codes each time when the seed is known; and,
    with the seed, once more in the next 30-second window when AWS refuses a pair (used already, or a window that moved).

    A user that does not exist fails at once, naming them. Nothing raised here holds a code.
    """
    deadline = time.monotonic() + timeout
    delay, user_checked, new_window = 0.5, False, False
    while True:
        code_1, code_2 = codes()
        try:
            return call(client, user_name=user_name, serial_number=serial_number, code_1=code_1, code_2=code_2)
        except AnsibleIAMError as e:
            code = error_code(e.exception)
            if code == "NoSuchEntity" and device_kind(serial_number) == VIRTUAL:
                if not user_checked:
                    if not user_exists(client, user_name=user_name):
                        raise AnsibleIAMError(message=f"no IAM user named {user_name}: check user_name", exception=e.exception) from e
                    user_checked = True
                left = deadline - time.monotonic()
                if left < delay / 2:
                    raise AnsibleIAMError(message=NOT_VISIBLE.format(serial_number=serial_number), exception=e.exception) from e
                time.sleep(min(_jittered(delay), left))
                delay = min(delay * 2, 4)
                continue
            if code == "InvalidAuthenticationCode" and codes.seed is not None and not new_window:
                new_window = True
                time.sleep(_totp.seconds_to_next_window() + 0.5)
                continue
            raise


def run_concurrently(work, items, concurrency):
    """[(result, None) or (None, AnsibleIAMError)] of work(index, item) for every item, in the items' order, concurrency at a time.

    Every item is tried: an error of one does not stop the others.
    """
    def attempt(indexed):
        index, item = indexed
        try:
            return work(index, item), None
        except AnsibleIAMError as e:
            return None, e

    if concurrency <= 1 or len(items) <= 1:
        return [attempt(indexed) for indexed in enumerate(items)]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(attempt, enumerate(items)))
