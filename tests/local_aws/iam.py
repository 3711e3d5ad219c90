"""IAM actions the endpoint answers itself, on moto's backend, because moto lacks them or is more lenient than AWS."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar
from urllib.parse import quote

import segno
from moto.core.exceptions import ServiceException
from moto.iam.exceptions import DeleteConflictException
from moto.iam.exceptions import EntityAlreadyExists
from moto.iam.exceptions import IAMException
from moto.iam.exceptions import LimitExceededException
from moto.iam.exceptions import NotFoundException
from moto.iam.exceptions import ReportNotPresentException
from moto.iam.exceptions import ValidationError
from moto.iam.models import IAMBackend, User, VirtualMfaDevice, iam_backends
from werkzeug.wrappers import Response

from . import totp
from .protocol import ApiRequest, Entries, xml_response
from .state import DeviceKey, EndpointState

MAX_MFA_DEVICES_PER_USER = 8
MAX_TAGS = 50
QR_ISSUER = "Amazon Web Services"

_Item = TypeVar("_Item")


class InvalidAuthenticationCode(IAMException):
    """The codes given to EnableMFADevice or ResyncMFADevice are wrong, stale or already used."""

    code = "InvalidAuthenticationCode"


class InvalidInput(IAMException):
    """A parameter AWS rejects as such, e.g. duplicate tag keys."""

    code = "InvalidInput"


@dataclass(frozen=True)
class IamCall:
    """One IAM call with what its handler needs: parameters, moto's backend of the account, our state."""

    request: ApiRequest
    state: EndpointState

    @property
    def backend(self) -> IAMBackend:
        """moto's IAM backend of the calling account."""
        return iam_backends[self.request.account_id]["global"]

    def param(self, name: str) -> str | None:
        """An optional parameter."""
        return self.request.params.get(name)

    def require(self, name: str) -> str:
        """A required parameter; ValidationError when it is missing, as AWS answers."""
        value = self.request.params.get(name)
        if value is None:
            field = name[:1].lower() + name[1:]
            raise ValidationError(f"1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null")
        return value

    def members(self, name: str) -> list[str]:
        """A list parameter (Name.member.1, Name.member.2, ...), in order."""
        pattern = re.compile(rf"{re.escape(name)}\.member\.(\d+)$")
        found = sorted((int(match[1]), value) for key, value in self.request.params.items() if (match := pattern.match(key)))
        return [pair[1] for pair in found]

    def tags(self) -> dict[str, str]:
        """The Tags parameter as a dict; InvalidInput for keys repeated (case-insensitively), as AWS does."""
        pattern = re.compile(r"Tags\.member\.(\d+)\.(Key|Value)$")
        fields: dict[int, dict[str, str]] = {}
        for key, value in self.request.params.items():
            if match := pattern.match(key):
                fields.setdefault(int(match[1]), {})[match[2]] = value
        keys = [fields[index].get("Key", "") for index in sorted(fields)]
        if len({key.lower() for key in keys}) != len(keys):
            raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        return {fields[index].get("Key", ""): fields[index].get("Value", "") for index in sorted(fields)}

    def device_key(self, serial: str) -> DeviceKey:
        """The key of a device in our state."""
        return (self.request.account_id, serial)

    def respond(self, result: dict[str, object] | None = None) -> Response:
        """The successful response of this call."""
        return xml_response("iam", str(self.request.action), result)


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _check_tag_count(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise LimitExceededException(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")


def _page(call: IamCall, items: list[_Item], sort_key: Callable[[_Item], str]) -> tuple[list[_Item], str | None]:
    """One page of items in a stable order, and the marker of the next page (None on the last page).

    The marker is the sort key of the next item, so pages stay right when items are added or
    removed between calls."""
    max_items = int(call.param("MaxItems") or 100)
    if not 1 <= max_items <= 1000:
        raise ValidationError("1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must be between 1 and 1000")
    ordered = sorted(items, key=sort_key)
    marker = call.param("Marker")
    if marker:
        ordered = [item for item in ordered if sort_key(item) >= marker]
    rest = ordered[max_items:]
    return ordered[:max_items], sort_key(rest[0]) if rest else None


def _device_seed(call: IamCall, serial: str) -> str:
    """The seed of a virtual device (serial is its ARN) or of a registered hardware token (vendor serial)."""
    if serial.startswith("arn:"):
        device = call.backend.virtual_mfa_devices.get(serial)
        seed = device.base32_string_seed if device and not call.state.lagging(call.device_key(serial)) else None
    else:
        seed = call.state.hardware_tokens.get(call.device_key(serial))
    if seed is None:
        raise NotFoundException(f"MFA device with serial number {serial} does not exist.")
    return seed


def _owner(backend: IAMBackend, serial: str) -> User | None:
    """The user a device is enabled for, if any."""
    return next((user for user in backend.users.values() if serial in user.mfa_devices), None)


def _check_codes(call: IamCall, serial: str, seed: str) -> tuple[str, str]:
    """Accept two consecutive recent codes of the device once; InvalidAuthenticationCode otherwise."""
    codes = (call.require("AuthenticationCode1"), call.require("AuthenticationCode2"))
    used = call.state.used_code_pairs.setdefault(call.device_key(serial), set())
    if codes in used or not totp.pair_is_valid(seed, *codes):
        raise InvalidAuthenticationCode("Authentication code for device is not valid.")
    used.add(codes)
    return codes


def _qr_code_png(label: str, seed: str) -> bytes:
    """The QR code AWS shows for a new virtual device, encoding the otpauth URI authenticator apps read."""
    uri = f"otpauth://totp/{quote(label, safe=':@')}?secret={seed}&issuer={quote(QR_ISSUER)}"
    png = io.BytesIO()
    segno.make(uri, micro=False).save(png, kind="png", scale=4)
    return png.getvalue()


def _listed_device(device: VirtualMfaDevice) -> dict[str, object]:
    """A virtual device as ListVirtualMFADevices shows it: never with its seed or QR code, and without its tags (AWS's
    resource-listing calls leave tags out: ListMFADeviceTags reads them)."""
    user = device.user
    return {
        "SerialNumber": device.serial_number,
        "User": None if user is None else {
            "Path": user.path, "UserName": user.name, "UserId": user.id, "Arn": user.arn, "CreateDate": user.create_date,
        },
        "EnableDate": device.enable_date,
    }


def _virtual_device_key(call: IamCall) -> DeviceKey:
    """The key of the virtual device named by SerialNumber; NoSuchEntity when there is none."""
    serial = call.require("SerialNumber")
    if serial not in call.backend.virtual_mfa_devices or call.state.lagging(call.device_key(serial)):
        raise NotFoundException(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    return call.device_key(serial)


def _report_row(user: User) -> str:
    """A user's row of the credential report as AWS writes it: CSV, with a field quoted when it holds a comma (IAM user names
    may: +=,.@_-), which moto's rows do not do."""
    prefix = f"{user.name},{user.arn},"
    line = user.to_csv()
    fields = [user.name, user.arn, *line[len(prefix):].rstrip("\n").split(",")] if line.startswith(prefix) else next(csv.reader([line]))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


def _root_report_row(call: IamCall) -> str:
    """The credential report's row of the root user, which AWS always puts first."""
    account = call.request.account_id
    mfa_active = "true" if call.state.root_mfa_enabled(account) else "false"
    created = call.state.started_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    access_key_columns = ["false", "N/A", "N/A", "N/A", "N/A"]
    fields = [
        "<root_account>", f"arn:{call.backend.partition}:iam::{account}:root", created,
        "not_supported", "no_information", "not_supported", "not_supported", mfa_active,
        *access_key_columns, *access_key_columns,
        "false", "N/A", "false", "N/A",
    ]
    return ",".join(fields) + "\n"


def create_virtual_mfa_device(call: IamCall) -> Response:
    """moto's device, plus its tags, a real QR code, and the seed remembered as issued."""
    name = call.require("VirtualMFADeviceName")
    tags = call.tags()
    _check_tag_count(tags)
    device = call.backend.create_virtual_mfa_device(name, call.param("Path") or "/")
    seed = device.base32_string_seed
    call.state.issued_seeds.append(seed)
    call.state.device_tags[call.device_key(device.serial_number)] = tags
    call.state.created(call.device_key(device.serial_number))
    account_name = next(iter(call.backend.account_aliases), call.request.account_id)
    return call.respond({"VirtualMFADevice": {
        "SerialNumber": device.serial_number,
        "Base32StringSeed": seed.encode("ascii"),
        "QRCodePNG": _qr_code_png(f"{QR_ISSUER}:{name}@{account_name}", seed),
        "Tags": _tag_list(tags) or None,
    }})


def delete_virtual_mfa_device(call: IamCall) -> Response:
    """DeleteConflict while the device is enabled for a user; NoSuchEntity for one too new to be seen."""
    serial = call.require("SerialNumber")
    if call.state.lagging(call.device_key(serial)):
        raise NotFoundException(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    if _owner(call.backend, serial) is not None:
        raise DeleteConflictException("Cannot delete entity, must deactivate the MFA device first.")
    call.backend.delete_virtual_mfa_device(serial)
    call.state.device_tags.pop(call.device_key(serial), None)
    call.state.used_code_pairs.pop(call.device_key(serial), None)
    call.state.device_visible_at.pop(call.device_key(serial), None)
    return call.respond()


def list_virtual_mfa_devices(call: IamCall) -> Response:
    """Stable order and paging, never a seed, a QR code or tags."""
    status = call.param("AssignmentStatus") or "Any"
    devices = [
        device for device in call.backend.virtual_mfa_devices.values()
        if (status == "Any" or (device.user is not None) == (status == "Assigned")) and not call.state.lagging(call.device_key(device.serial_number))
    ]
    page, marker = _page(call, devices, lambda device: device.serial_number)
    return call.respond({
        "VirtualMFADevices": [_listed_device(device) for device in page],
        "IsTruncated": marker is not None,
        "Marker": marker,
    })


def enable_mfa_device(call: IamCall) -> Response:
    """Only for an existing device that no user has yet, within the per-user quota, with valid codes."""
    user = call.backend.get_user(call.require("UserName"))
    serial = call.require("SerialNumber")
    seed = _device_seed(call, serial)
    owner = _owner(call.backend, serial)
    if owner is user:
        raise EntityAlreadyExists(f"MFA device {serial} is already enabled for user {user.name}.")
    if owner is not None:
        raise EntityAlreadyExists(f"MFA device {serial} is already in use.")
    if len(user.mfa_devices) >= MAX_MFA_DEVICES_PER_USER:
        raise LimitExceededException(f"Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES_PER_USER}")
    code1, code2 = _check_codes(call, serial, seed)
    call.backend.enable_mfa_device(user.name, serial, code1, code2)
    return call.respond()


def resync_mfa_device(call: IamCall) -> Response:
    """Checks the codes like EnableMFADevice, for a device enabled for that user."""
    user = call.backend.get_user(call.require("UserName"))
    serial = call.require("SerialNumber")
    if serial not in user.mfa_devices:
        raise NotFoundException(f"MFA device {serial} is not enabled for user {user.name}.")
    _check_codes(call, serial, _device_seed(call, serial))
    return call.respond()


def get_mfa_device(call: IamCall) -> Response:
    """A device enabled for UserName (default: the calling IAM user)."""
    serial = call.require("SerialNumber")
    user_name = call.param("UserName")
    user = call.backend.get_user(user_name) if user_name else call.backend.get_user_from_access_key_id(call.request.access_key)
    device = user.mfa_devices.get(serial) if user else None
    if user is None or device is None:
        raise NotFoundException(f"MFA device with serial number {serial} does not exist.")
    return call.respond({"UserName": user.name, "SerialNumber": serial, "EnableDate": device.enable_date})


def tag_mfa_device(call: IamCall) -> Response:
    """Add or overwrite tags of a virtual device, at most 50 in all."""
    key = _virtual_device_key(call)
    tags = {**call.state.device_tags.get(key, {}), **call.tags()}
    _check_tag_count(tags)
    call.state.device_tags[key] = tags
    return call.respond()


def untag_mfa_device(call: IamCall) -> Response:
    """Remove tags of a virtual device by key."""
    tags = call.state.device_tags.setdefault(_virtual_device_key(call), {})
    for tag_key in call.members("TagKeys"):
        tags.pop(tag_key, None)
    return call.respond()


def list_mfa_device_tags(call: IamCall) -> Response:
    """The tags of a virtual device, sorted by key and paged."""
    tags = _tag_list(call.state.device_tags.get(_virtual_device_key(call), {}))
    page, marker = _page(call, tags, lambda tag: tag["Key"])
    return call.respond({"Tags": page, "IsTruncated": marker is not None, "Marker": marker})


def delete_user(call: IamCall) -> Response:
    """DeleteConflict while the user has MFA devices."""
    user = call.backend.get_user(call.require("UserName"))
    if user.mfa_devices:
        raise DeleteConflictException("Cannot delete entity, must delete MFA device first.")
    call.backend.delete_user(user.name)
    return call.respond()


def generate_credential_report(call: IamCall) -> Response:
    """STARTED when there is no report, else COMPLETE; a report younger than the state's
    report_max_age is kept as it is, as AWS keeps one for four hours."""
    account = call.request.account_id
    now = datetime.now(timezone.utc)
    with call.state.lock:
        existing = call.state.reports.get(account)
        if existing and (now - existing[0]).total_seconds() < call.state.report_max_age:
            return call.respond({"State": "COMPLETE"})
        call.backend.generate_report()
        header = call.backend.get_credential_report().splitlines(keepends=True)[0]
        rows = "".join(_report_row(user) for user in call.backend.users.values())
        call.state.reports[account] = (now, header + _root_report_row(call) + rows)
    if existing:
        return call.respond({"State": "COMPLETE"})
    return call.respond({"State": "STARTED", "Description": "No report exists. Starting a new report generation task"})


def get_credential_report(call: IamCall) -> Response:
    """The account's last generated report, the root user's row first, as AWS has it."""
    with call.state.lock:
        report = call.state.reports.get(call.request.account_id)
    if report is None:
        raise ReportNotPresentException("Credential report not present. Use GenerateCredentialReport first.")
    generated, content = report
    return call.respond({"Content": content.encode("utf-8"), "ReportFormat": "text/csv", "GeneratedTime": generated})


def get_account_summary(call: IamCall) -> Response:
    """moto's summary, with AccountMFAEnabled following the root user's MFA."""
    summary = call.backend.get_account_summary().summary_map
    summary["AccountMFAEnabled"] = int(call.state.root_mfa_enabled(call.request.account_id))
    return call.respond({"SummaryMap": Entries(summary)})


HANDLERS: dict[str, Callable[[IamCall], Response]] = {
    "CreateVirtualMFADevice": create_virtual_mfa_device,
    "DeleteVirtualMFADevice": delete_virtual_mfa_device,
    "ListVirtualMFADevices": list_virtual_mfa_devices,
    "EnableMFADevice": enable_mfa_device,
    "ResyncMFADevice": resync_mfa_device,
    "GetMFADevice": get_mfa_device,
    "TagMFADevice": tag_mfa_device,
    "UntagMFADevice": untag_mfa_device,
    "ListMFADeviceTags": list_mfa_device_tags,
    "DeleteUser": delete_user,
    "GenerateCredentialReport": generate_credential_report,
    "GetCredentialReport": get_credential_report,
    "GetAccountSummary": get_account_summary,
}


def handle(request: ApiRequest, state: EndpointState) -> Response | None:
    """Answer an IAM call the endpoint overrides; None leaves it to moto."""
    handler = HANDLERS.get(str(request.action))
    if handler is None:
        return None
    with state.lock:
        try:
            return handler(IamCall(request, state))
        except ServiceException as error:
            return xml_response("iam", str(request.action), error=(error.code, error.message))
