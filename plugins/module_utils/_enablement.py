# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The work of mfa.aws.iam_mfa_enable: MFA devices enabled for IAM users, deactivated and resynchronised.

Private to this collection: the names here may change in any release.

One code path: ``plan`` decides what a device needs for its user (enable, deactivate or nothing) and ``apply`` does it,
item after item, in ``ensure_items``. The single form (``ensure_one``) is a batch of one item whose owner is read from its
user's devices (ListMFADevices), which it returns; a batch (``ensure_all``) reads whom the account's virtual devices are
enabled for (ListVirtualMFADevices) once, or enables them at once (``ensure_items_concurrently``). State resynced is the
single form's alone (``resync``). The codes come from the task or are computed from the device's seed right before each
call; no message built here holds either.
"""

from __future__ import annotations

import datetime
import threading

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import VIRTUAL
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_kind
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import serial_number_problem
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import Codes
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import ROOT_HANDOFF
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import VISIBILITY_TIMEOUT
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import call_while_invisible
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import deactivate_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import enable_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import is_root_user
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import item_error
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_user_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_mfa_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import resync_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import run_concurrently
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import validate_code
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import virtual_device_users
from ansible_collections.mfa.aws.plugins.module_utils._totp import SeedError
from ansible_collections.mfa.aws.plugins.module_utils._totp import code_at

CODE_OPTIONS = ("authentication_code_1", "authentication_code_2")
ENABLE = "enable"
DEACTIVATE = "deactivate"

# The options of one device: the single form's (where state may also be resynced), and those of each item of devices
# (where user_name and serial_number are required).
ITEM_OPTIONS = dict(
    user_name=dict(type="str"),
    serial_number=dict(type="str"),
    authentication_code_1=dict(type="str", no_log=True),
    authentication_code_2=dict(type="str", no_log=True),
    base32_seed=dict(type="str", no_log=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def argument_spec() -> dict:
    """The module's options: the single form's, devices (items of the same options), and the batch's."""
    item = dict(ITEM_OPTIONS, user_name=dict(type="str", required=True), serial_number=dict(type="str", required=True))
    return dict(
        ITEM_OPTIONS,
        state=dict(ITEM_OPTIONS["state"], choices=["present", "absent", "resynced"]),
        devices=dict(type="list", elements="dict", options=item, required_together=[CODE_OPTIONS],
                     mutually_exclusive=[("base32_seed", option) for option in CODE_OPTIONS]),
        list_first=dict(type="bool", default=True),
        visibility_timeout=dict(type="int", default=VISIBILITY_TIMEOUT),
        concurrency=dict(type="int", default=4),
    )


def argument_problem(user_name: str, serial_number: str, codes: tuple, seed: str | None = None) -> str | None:
    """What is wrong with the arguments, found without AWS; never quotes a code or a seed."""
    if is_root_user(user_name):
        return ROOT_HANDOFF
    problem = serial_number_problem(serial_number)
    if problem:
        return problem
    for option, code in zip(CODE_OPTIONS, codes):
        if code is not None and not validate_code(code):
            return f"{option} must be exactly 6 digits (quote it in YAML to keep a leading zero)"
    if seed is not None:
        try:
            code_at(seed, 0)
        except SeedError as e:
            return f"base32_seed cannot give codes: {e}"
    return None


def find_device(devices: list, serial_number: str) -> dict | None:
    """The device with that serial number in a ListMFADevices answer, or None."""
    return next((device for device in devices if device["SerialNumber"] == serial_number), None)


def diff_view(user_name: str, serial_number: str, devices: list) -> dict:
    return dict(user_name=user_name, serial_number=serial_number, enabled=find_device(devices, serial_number) is not None)


def build_result(changed, user_name, serial_number, devices_before, devices_after):
    """The module's result from the user's devices before and after the run."""
    result = dict(
        changed=changed,
        user_name=user_name,
        serial_number=serial_number,
        kind=device_kind(serial_number),
        mfa_devices=[normalize_mfa_device(device) for device in devices_after],
        diff=dict(before=diff_view(user_name, serial_number, devices_before), after=diff_view(user_name, serial_number, devices_after)),
    )
    enabled = find_device(devices_after, serial_number)
    if enabled is not None:
        result["enable_date"] = normalize_mfa_device(enabled)["enable_date"]
    return result


def enabled_elsewhere(user_name, serial_number, owner, exception=None):
    """The error for a device that is enabled for another user than the one it is meant for."""
    return AnsibleIAMError(
        message=f"Failed to enable MFA device {serial_number} for user {user_name}: it is enabled for user {owner}, "
        "deactivate it there first (mfa.aws.iam_mfa_enable state=absent)",
        exception=exception,
    )


def plan(state, user_name, serial_number, owner, codes):
    """What a device needs for the user: ENABLE, DEACTIVATE or None (nothing); both forms decide with it.

    owner is the user the device is enabled for, None when it is not (or when that cannot be told).
    Raises AnsibleIAMError when the device cannot get there: enabled for another user, or codes missing.
    """
    if state == "absent":
        return DEACTIVATE if owner == user_name else None
    if owner == user_name:
        return None
    if owner is not None:
        raise enabled_elsewhere(user_name, serial_number, owner)
    if codes.missing if isinstance(codes, Codes) else None in codes:
        raise AnsibleIAMError(
            message=f"authentication_code_1 and authentication_code_2 are required to enable MFA device {serial_number} for user {user_name}: "
            "give two consecutive codes of the device, or its base32_seed"
        )
    return ENABLE


class AssignedDevices:
    """Whom the account's virtual devices are enabled for: listed once (ListVirtualMFADevices), when first asked, and shared
    by the enablings a batch makes at once."""

    def __init__(self, client):
        self.client = client
        self.users = None
        self.lock = threading.Lock()

    def user_of(self, serial_number):
        """The user a virtual device is enabled for; None when it cannot be told (hardware tokens are not listed)."""
        if device_kind(serial_number) != VIRTUAL:
            return None
        with self.lock:
            if self.users is None:
                try:
                    self.users = virtual_device_users(list_virtual_devices(self.client, assignment_status="Assigned"))
                except AnsibleIAMError:
                    # The caller reports the error of the call that failed first, not this one.
                    return None
            return self.users.get(serial_number)


def enable(client, user_name, serial_number, codes, timeout=VISIBILITY_TIMEOUT, assigned=None):
    """EnableMFADevice: True, or False when AWS answers that the device is enabled for that user already.

    Made again while IAM does not show a device just created (see call_while_invisible). When the device is enabled for
    another user, the error names that user if AWS can tell (from ``assigned``, an AssignedDevices shared by a batch, or
    a listing of its own).
    """
    try:
        call_while_invisible(client, enable_device, user_name, serial_number, codes, timeout)
    except AnsibleIAMError as e:
        in_use = error_code(e.exception) == "EntityAlreadyExists"
        owner = in_use and (assigned or AssignedDevices(client)).user_of(serial_number)
        if not owner:
            raise
        if owner == user_name:
            return False
        raise enabled_elsewhere(user_name, serial_number, owner, e.exception) from e
    return True


def apply(client, check_mode, action, user_name, serial_number, codes, timeout=VISIBILITY_TIMEOUT, assigned=None):
    """Carry out what plan() decided, nothing in check mode; False when AWS says the device was enabled for the user already."""
    if check_mode or action is None:
        return True
    if action == ENABLE:
        return enable(client, user_name, serial_number, codes, timeout, assigned)
    deactivate_device(client, user_name=user_name, serial_number=serial_number)
    return True


def resync(client, check_mode, user_name, serial_number, codes, timeout=VISIBILITY_TIMEOUT):
    """ResyncMFADevice; with the seed, a pair AWS refuses (used already) is made again with the next window's codes."""
    codes = codes if isinstance(codes, Codes) else Codes(codes)
    devices = list_user_devices(client, user_name=user_name)
    if find_device(devices, serial_number) is None:
        raise AnsibleIAMError(
            message=f"MFA device {serial_number} is not enabled for user {user_name}: only an enabled device can be resynchronised, "
            "enable it with state=present"
        )
    if not check_mode:
        call_while_invisible(client, resync_device, user_name, serial_number, codes, timeout)
    return build_result(True, user_name, serial_number, devices, devices)


def item_codes(item: dict) -> tuple:
    return tuple(item.get(option) for option in CODE_OPTIONS)


def codes_of(item: dict) -> Codes:
    """Where the codes of an item (or of the single form's parameters) come from: its codes, or its seed."""
    return Codes(item_codes(item), item.get("base32_seed"))


def items_problem(items: list) -> str | None:
    """The first problem of the devices option found without AWS, naming the item; None when there is none. Never quotes a code."""
    for index, item in enumerate(items):
        problem = argument_problem(item["user_name"], item["serial_number"], item_codes(item), item.get("base32_seed"))
        if problem:
            return f"devices[{index}] ({item['user_name']}): {problem}"
    return None


def lists_first(items, check_mode, list_first) -> bool:
    """Whether the batch must read who each device is enabled for before acting (see the list_first option): unless every
    item enables a virtual device with its codes, outside check mode."""
    return list_first or check_mode or any(
        item["state"] != "present" or device_kind(item["serial_number"]) != VIRTUAL or codes_of(item).missing for item in items
    )


def read_owners(client, items):
    """{serial number: the user it is enabled for, or None} for the devices of the items.

    One ListVirtualMFADevices call tells it for every virtual device of the account; a hardware
    token (or a security key) is known only from the devices of its item's user, one ListMFADevices
    call per such user.  A serial number missing from the answer is not enabled for its item's user.
    """
    owners = {}
    if any(device_kind(item["serial_number"]) == VIRTUAL for item in items):
        owners.update(virtual_device_users(list_virtual_devices(client, assignment_status="Any")))
    listed = set()
    for index, item in enumerate(items):
        user_name = item["user_name"]
        if device_kind(item["serial_number"]) == VIRTUAL or user_name in listed:
            continue
        listed.add(user_name)
        try:
            devices = list_user_devices(client, user_name=user_name)
        except AnsibleIAMError as e:
            raise item_error(index, user_name, e) from e
        owners.update((device["SerialNumber"], device["UserName"]) for device in devices)
    return owners


def enabled_among(items: list, owners: dict) -> dict:
    """{user name: the serial numbers of the items that are enabled for that user}, for every user of the items."""
    enabled = {}
    for item in items:
        serials = enabled.setdefault(item["user_name"], [])
        if owners.get(item["serial_number"]) == item["user_name"] and item["serial_number"] not in serials:
            serials.append(item["serial_number"])
    return enabled


def ensure_items(client, check_mode, items, owners, listed=True, seen=None, timeout=VISIBILITY_TIMEOUT, offset=0, named=True):
    """Bring the items to their state, in order, and yield the entry of each in turn.

    owners is read_owners()'s answer and is kept up to date (as predicted in check mode), so each item
    sees what the items before it did.  With listed false, owners starts empty (list_first=false): each
    device is enabled straight away, and the first one AWS says is in use has read_owners() called then,
    once for the whole batch; seen (a dict) then receives that listing as "listing" and the serial numbers
    this run enabled before it as "enabled", from which the caller tells what was enabled before the run.
    An error raised for an item names it (unless named is false: the single form's); the entries yielded before it are
    those of the items done.
    """
    enabled_here = set()
    for index, item in enumerate(items):
        user_name, serial_number, codes = item["user_name"], item["serial_number"], codes_of(item)
        try:
            action = plan(item["state"], user_name, serial_number, owners.get(serial_number), codes)
            if listed or action != ENABLE or check_mode:
                changed = apply(client, check_mode, action, user_name, serial_number, codes, timeout) and action is not None
            else:
                try:
                    call_while_invisible(client, enable_device, user_name, serial_number, codes, timeout)
                    changed = True
                    enabled_here.add(serial_number)
                except AnsibleIAMError as e:
                    if error_code(e.exception) != "EntityAlreadyExists":
                        raise
                    listing = read_owners(client, items)
                    if seen is not None:
                        seen.update(listing=dict(listing), enabled=set(enabled_here))
                    owners.update(listing)
                    listed = True
                    action = plan(item["state"], user_name, serial_number, owners.get(serial_number), codes)
                    changed = apply(client, check_mode, action, user_name, serial_number, codes, timeout) and action is not None
        except AnsibleIAMError as e:
            if not named:
                raise
            raise item_error(offset + index, user_name, e) from e
        if action is not None:
            owners[serial_number] = user_name if action == ENABLE else None
        yield dict(user_name=user_name, serial_number=serial_number, kind=device_kind(serial_number), state=item["state"], changed=changed)


def independent(items: list) -> bool:
    """Whether no two items name the same device or the same user: then no item sees what another one does."""
    serials, users = [item["serial_number"] for item in items], [item["user_name"] for item in items]
    return len(set(serials)) == len(serials) and len(set(users)) == len(users)


def ensure_items_concurrently(client, check_mode, items, owners, concurrency, timeout=VISIBILITY_TIMEOUT, offset=0):
    """ensure_items() for independent items, concurrency of them at a time: (entries of the items done, in order; the error
    of the first item that failed, or None; {serial number: user} of the devices AWS said were enabled for their user already).

    Every item is tried, so an error leaves the items after it done too. owners is updated as ensure_items() updates it.
    """
    # A device AWS says is in use is looked up in one listing, made for the first such device and shared by the others.
    assigned = AssignedDevices(client)

    def work(index, item):
        user_name, serial_number, codes = item["user_name"], item["serial_number"], codes_of(item)
        try:
            action = plan(item["state"], user_name, serial_number, owners.get(serial_number), codes)
            done = apply(client, check_mode, action, user_name, serial_number, codes, timeout, assigned)
        except AnsibleIAMError as e:
            raise item_error(offset + index, user_name, e) from e
        entry = dict(user_name=user_name, serial_number=serial_number, kind=device_kind(serial_number), state=item["state"],
                     changed=done and action is not None)
        return entry, action, not done

    entries, error, already = [], None, {}
    for outcome, failure in run_concurrently(work, items, concurrency):
        if failure is not None:
            error = error or failure
            continue
        entry, action, was_enabled = outcome
        entries.append(entry)
        if action is not None:
            owners[entry["serial_number"]] = entry["user_name"] if action == ENABLE else None
        if was_enabled:
            already[entry["serial_number"]] = entry["user_name"]
    return entries, error, already


def ensure_one(client, check_mode, params, timeout=VISIBILITY_TIMEOUT):
    """The single form: the device of params (user_name, serial_number, codes or base32_seed, state) for its user, with
    the user's devices in the result. States present and absent are a batch of one item (ensure_items) whose owner is
    read from the user's devices."""
    user_name, serial_number, state = params["user_name"], params["serial_number"], params["state"]
    if state == "resynced":
        return resync(client, check_mode, user_name, serial_number, codes_of(params), timeout)
    devices = list_user_devices(client, user_name=user_name)
    owners = {device["SerialNumber"]: user_name for device in devices}
    entry = next(ensure_items(client, check_mode, [params], owners, timeout=timeout, named=False))
    if not entry["changed"]:
        if state == "present" and find_device(devices, serial_number) is None:
            # AWS answered that the device was enabled for the user meanwhile: no change of this run.
            devices = list_user_devices(client, user_name=user_name)
        return build_result(False, user_name, serial_number, devices, devices)
    if state == "absent":
        return build_result(True, user_name, serial_number, devices, [device for device in devices if device["SerialNumber"] != serial_number])
    enabled = dict(UserName=user_name, SerialNumber=serial_number, EnableDate=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0))
    return build_result(True, user_name, serial_number, devices, devices + [enabled])


def ensure_all(client, check_mode, items, list_first, concurrency, timeout=VISIBILITY_TIMEOUT):
    """(every item's entry done, {user: the items' serial numbers enabled for them} before and after, the error or None).

    The devices are read first unless every item enables a virtual device with its codes (lists_first); then, with
    concurrency above 1 and items that are independent, every device is enabled at once, concurrency at a time, and a
    device AWS says is in use is looked up then. Otherwise the items are done in order and the first error stops the batch.
    """
    entries, before, owners = [], {}, {}
    try:
        listed = lists_first(items, check_mode, list_first)
        owners = read_owners(client, items) if listed else {}
        before = enabled_among(items, owners)
        seen = {}
        if concurrency > 1 and not listed and independent(items):
            more, error, already = ensure_items_concurrently(client, check_mode, items, owners, concurrency, timeout)
            entries += more
            # What was enabled before the run: the devices AWS said were enabled for their user already.
            before = enabled_among(items, already)
            if error is not None:
                raise error
        else:
            for entry in ensure_items(client, check_mode, items, owners, listed, seen, timeout):
                entries.append(entry)
            if seen:  # AWS said a device is in use: what was enabled before the run is the listing, less what this run enabled
                before = enabled_among(items, {serial: owner for serial, owner in seen["listing"].items() if serial not in seen["enabled"]})
    except AnsibleIAMError as e:
        return entries, before, owners, e
    return entries, before, enabled_among(items, owners), None
