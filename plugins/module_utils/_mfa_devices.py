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

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.mfa.aws.plugins.module_utils._errors import aws_call
from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import VIRTUAL
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_kind
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import is_root_arn
from ansible_collections.mfa.aws.plugins.module_utils import _totp

# How the credential report and the root user's ARN name the root user.
ROOT_USER_NAMES = ("<root_account>",)
ROOT_HANDOFF = (
    "AWS lets nobody enable MFA for the root user through the API, only in the console signed in as root: "
    "run mfa.aws.iam_mfa_info (or playbooks/audit.yml) for the console steps to hand to the account owner"
)

_CODE = re.compile(r"[0-9]{6}")

# IAM answers ConcurrentModification and EntityTemporarilyUnmodifiable while another change of the entity settles.
_RETRY = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["ConcurrentModification", "EntityTemporarilyUnmodifiable"])


def with_connection_secrets_hidden(argument_spec: dict) -> dict:
    """argument_spec plus amazon.aws's access_key option marked no_log.

    amazon.aws shows the access key id in module invocations (-vvv), and the ids of assumed-role
    credentials are part of the credentials this collection keeps out of every output.
    """
    return dict(argument_spec, access_key=dict(aws_argument_spec()["access_key"], no_log=True))


def iam_client(module):
    """An IAM client whose calls retry on throttling when given ``aws_retry=True``."""
    return module.client("iam", retry_decorator=_RETRY)


def fail_with_result(module, error: AnsibleIAMError, **result):
    """Fail with the error, as AnsibleAWSModule.fail_json_aws_error does, and with the result so far."""
    if error.exception:
        module.fail_json_aws(error.exception, msg=error.message, **result)
    module.fail_json(msg=error.message, **result)


def iam_call(description, **options):
    """The collection's error layer (``_errors.aws_call``, with its options) for an IAM or STS call: it raises AnsibleIAMError."""
    return aws_call(description, error=AnsibleIAMError, **options)


# --- pure helpers --------------------------------------------------------------------------


def is_root_user(user_name: str) -> bool:
    return user_name in ROOT_USER_NAMES or is_root_arn(user_name)


def validate_code(code: str | None) -> bool:
    return code is not None and bool(_CODE.fullmatch(code))


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


@iam_call("list the virtual MFA devices of the account")
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


@iam_call("read user {user_name}", missing=False)
def user_exists(client, user_name):
    client.get_user(aws_retry=True, UserName=user_name)
    return True


@iam_call("list the MFA devices of user {user_name}", hints={"NoSuchEntity": "no IAM user named {user_name}: check user_name"})
@_RETRY
def list_user_devices(client, user_name):
    paginator = client.get_paginator("list_mfa_devices")
    return paginator.paginate(UserName=user_name).build_full_result()["MFADevices"]


@iam_call("list the tags of MFA device {serial_number}", missing=dict)
@_RETRY
def list_device_tags(client, serial_number):
    paginator = client.get_paginator("list_mfa_device_tags")
    return boto3_tag_list_to_ansible_dict(paginator.paginate(SerialNumber=serial_number).build_full_result()["Tags"])


@iam_call(
    "create virtual MFA device {name} at path {path}",
    hints={"EntityAlreadyExists": "a device with that path and name exists already", "LimitExceeded": "the account has the most MFA devices AWS allows"},
)
def create_virtual_device(client, path, name, tags):
    args = dict(Path=path, VirtualMFADeviceName=name)
    if tags:
        args["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_virtual_mfa_device(aws_retry=True, **args)["VirtualMFADevice"]


@iam_call("delete virtual MFA device {serial_number}", missing=False)
def delete_virtual_device(client, serial_number):
    client.delete_virtual_mfa_device(aws_retry=True, SerialNumber=serial_number)
    return True


@iam_call(
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


@iam_call("deactivate MFA device {serial_number} of user {user_name}", missing=False)
def deactivate_device(client, user_name, serial_number):
    client.deactivate_mfa_device(aws_retry=True, UserName=user_name, SerialNumber=serial_number)
    return True


@iam_call(
    "resynchronise MFA device {serial_number} of user {user_name}",
    hints={"NoSuchEntity": "the device is not enabled for that user: check user_name and serial_number"},
)
def resync_device(client, user_name, serial_number, code_1, code_2):
    client.resync_mfa_device(
        aws_retry=True, UserName=user_name, SerialNumber=serial_number, AuthenticationCode1=code_1, AuthenticationCode2=code_2
    )


@iam_call("tag MFA device {serial_number}")
def tag_device(client, serial_number, tags):
    client.tag_mfa_device(aws_retry=True, SerialNumber=serial_number, Tags=ansible_dict_to_boto3_tag_list(tags))


@iam_call("untag MFA device {serial_number}")
def untag_device(client, serial_number, tag_keys):
    client.untag_mfa_device(aws_retry=True, SerialNumber=serial_number, TagKeys=list(tag_keys))


@iam_call("read the identity of the credentials in use (sts:GetCallerIdentity)")
def caller_account(client):
    """(account id, partition) of the credentials in use, from sts:GetCallerIdentity, which needs no permission."""
    identity = client.get_caller_identity(aws_retry=True)
    return identity["Account"], identity["Arn"].split(":")[1]


@iam_call("read the account summary")
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
