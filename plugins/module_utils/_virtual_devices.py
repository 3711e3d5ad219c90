# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The work of mfa.aws.iam_virtual_mfa: virtual MFA devices created, tagged and deleted, one or a batch.

Private to this collection: the names here may change in any release.

One code path: the single form of the module is a batch of one item (``ensure_one``). ``ensure_devices`` brings the
items to their state in order, with one listing of the account's virtual devices; ``ensure_all`` runs a batch (at once,
``concurrency`` at a time, when every item creates a device of its own) and ``outcome`` is the module's result. Only the
result of a creation holds the device's seed and QR code, which AWS never returns again.
"""

from __future__ import annotations

import base64
import random
import threading
import time

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_name_problem
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_path_problem
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import VISIBILITY_TIMEOUT
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import create_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import deactivate_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import delete_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import index_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import item_error
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_device_tags
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import run_concurrently
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import tag_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import untag_device

# The options of one device: the single form's, and those of each item of devices (where name is required).
ITEM_OPTIONS = dict(
    name=dict(type="str"),
    path=dict(type="str", default="/"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
    force=dict(type="bool", default=False),
)


def argument_spec() -> dict:
    """The module's options: the single form's, devices (items of the same options, and exclusive), and the batch's."""
    item = dict(ITEM_OPTIONS, name=dict(type="str", required=True), exclusive=dict(type="bool", default=False))
    return dict(
        ITEM_OPTIONS,
        tags=dict(ITEM_OPTIONS["tags"], aliases=["resource_tags"]),
        devices=dict(type="list", elements="dict", options=item),
        list_first=dict(type="bool", default=True),
        concurrency=dict(type="int", default=4),
    )


DIFF_KEYS = ("serial_number", "path", "name", "user_name", "tags")
SECRET_KEYS = ("base32_seed", "qr_code_png")
NO_LOG_WARNING = (
    "The result holds the seed of the new device, which AWS never returns again: "
    "set no_log: true on this task, and deliver the seed in this play"
)
BATCH_NO_LOG_WARNING = (
    "The result holds the seeds of the new devices, which AWS never returns again: "
    "set no_log: true on this task, and deliver the seeds in this play"
)


def diff_view(device: dict | None) -> dict:
    """What --diff shows of a normalised device: never its seed; {} for no device."""
    if not device:
        return {}
    return {key: device.get(key) for key in DIFF_KEYS}


def stored_tags(tags: dict) -> dict:
    """The tags as AWS stores them: every value as text."""
    return {key: to_text(value) for key, value in tags.items()}


def plan_tags(current: dict, tags: dict | None, purge_tags: bool) -> tuple[dict, list, dict]:
    """(tags to set, tag keys to remove, tags after) to go from current to tags; no change when tags is None."""
    if tags is None:
        return {}, [], current
    to_set, to_remove = compare_aws_tags(current, tags, purge_tags=purge_tags)
    after = {key: value for key, value in current.items() if key not in to_remove}
    after.update(stored_tags(to_set))
    return to_set, to_remove, after


def ensure_tags(client, check_mode, serial_number, current, tags, purge_tags):
    """Set the device's tags; returns (changed, the tags after)."""
    to_set, to_remove, after = plan_tags(current, tags, purge_tags)
    if not to_set and not to_remove:
        return False, current
    if check_mode:
        return True, after
    if to_remove:
        untag_device(client, serial_number=serial_number, tag_keys=to_remove)
    if to_set:
        tag_device(client, serial_number=serial_number, tags=to_set)
    return True, after


def create(client, check_mode, path, name, tags):
    """Create the device; only this result carries its seed and QR code."""
    planned = dict(serial_number=None, path=path, name=name, user_name=None, tags=stored_tags(tags or {}))
    if check_mode:
        return dict(changed=True, diff=dict(before={}, after=diff_view(planned)))
    created = create_virtual_device(client, path=path, name=name, tags=tags)
    device = normalize_virtual_device(created, planned["tags"])
    return dict(
        changed=True,
        serial_number=device["serial_number"],
        virtual_mfa_device=device,
        base32_seed=to_text(created["Base32StringSeed"]),
        qr_code_png=to_text(base64.b64encode(created["QRCodePNG"])),
        diff=dict(before={}, after=diff_view(device)),
    )


def update(client, check_mode, device, tags, purge_tags):
    """Set the tags of an existing device, given normalised with its current tags."""
    changed, after_tags = ensure_tags(client, check_mode, device["serial_number"], device["tags"], tags, purge_tags)
    after = dict(device, tags=after_tags)
    return dict(
        changed=changed,
        serial_number=after["serial_number"],
        virtual_mfa_device=after,
        diff=dict(before=diff_view(device), after=diff_view(after)),
    )


def delete(client, check_mode, device, force):
    """Delete an existing device, given normalised; one enabled for a user only with force, deactivating it first."""
    serial_number, user_name = device["serial_number"], device["user_name"]
    if user_name and not force:
        raise AnsibleIAMError(
            message=f"virtual MFA device {serial_number} is enabled for user {user_name}: set force=true to deactivate it first, "
            "or deactivate it with mfa.aws.iam_mfa_enable state=absent"
        )
    if not check_mode:
        if user_name:
            deactivate_device(client, user_name=user_name, serial_number=serial_number)
        delete_virtual_device(client, serial_number=serial_number)
    return dict(changed=True, serial_number=serial_number, diff=dict(before=diff_view(device), after={}))


def ensure_device(client, check_mode, device, item):
    """Bring one device to the state of item (name, path, state, tags, purge_tags, force): what both forms do for each device.

    device is the device normalised, None when it does not exist.  The result is the single form's.
    """
    if item["state"] == "present":
        if device is None:
            return create(client, check_mode, item["path"], item["name"], item["tags"])
        return update(client, check_mode, device, item["tags"], item["purge_tags"])
    if device is None:
        return dict(changed=False, diff=dict(before={}, after={}))
    return delete(client, check_mode, device, item["force"])


def item_label(item: dict) -> str:
    return f"{item['path']}{item['name']}"


def items_problem(items: list, labelled: bool = True) -> str | None:
    """The first problem of the items found without AWS, naming the item when labelled; None when there is none."""
    for index, item in enumerate(items):
        problem = device_name_problem(item["name"]) or device_path_problem(item["path"])
        if problem:
            return f"devices[{index}] ({item_label(item)}): {problem}" if labelled else problem
    return None


class Listing:
    """The account's virtual devices, normalised by (path, name): listed once (ListVirtualMFADevices) when first needed, and
    shared by the creations a batch makes at once."""

    def __init__(self, client):
        self.client = client
        self.devices = None
        self.lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self.devices is not None

    def get(self, refresh=False) -> dict:
        with self.lock:
            if self.devices is None or refresh:
                found = index_virtual_devices(list_virtual_devices(self.client))
                self.devices = {key: normalize_virtual_device(device) for key, device in found.items()}
            return self.devices


def ensure_devices(client, check_mode, items, list_first=True, offset=0, listing=None, read_tags=False, labelled=True):
    """Bring the devices of the items to their state, in order, and yield the result of each in turn.

    One ListVirtualMFADevices call finds every device.  With list_first false it is made only when an item
    needs it: a device to create is created straight away, and the devices are listed only if AWS answers that
    one exists already, for an item that deletes one, or in check mode (which must not write).  A device's tags are
    read (ListMFADeviceTags) only for an item that sets tags, and only when this run did not set them already.
    With read_tags, the tags of every device that exists are read, so that its result shows them (the single form).
    What an item does is seen by the items after it, so deleting then creating a device in one batch works.
    An error raised for an item names it when labelled; the results yielded before it are those of the items done.
    """
    if not items:
        return
    listing = listing or Listing(client)
    done = {}  # (path, name) -> the device as this run left it (None: deleted)
    # The devices whose tags in `done` are those AWS has: read or set by this run.
    exact_tags = set()

    def listed():
        return listing.get()

    def current(key):
        if key in done:
            return done[key]
        return listed().get(key)

    def listed_once_visible(key):
        """The device AWS says exists, once IAM's listing shows it too: a device created moments ago is missing from it for a
        few seconds (eventual consistency)."""
        deadline, delay = time.monotonic() + VISIBILITY_TIMEOUT, 0.5
        while time.monotonic() + delay <= deadline:
            time.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 4)
            device = listing.get(refresh=True).get(key)
            if device is not None:
                return device
        raise AnsibleIAMError(message=f"a device named {key[1]} at path {key[0]} exists, but IAM does not list it yet (a device just "
                              "created takes a few seconds to be visible to IAM's other calls): run again in a minute")

    if list_first or check_mode:
        listed()

    for index, item in enumerate(items):
        key = (item["path"], item["name"])
        try:
            # A device the listing does not show is created straight away; when AWS answers that it exists, it was created
            # moments ago, and the listing shows it once IAM makes it visible (each device a few seconds after its creation).
            if item["state"] == "present" and not check_mode and key not in done and (not listing.loaded or key not in listed()):
                result = try_create(client, item)
                device = None
                if result is None:  # it exists already: list, then update it
                    device = current(key) or listed_once_visible(key)
            else:
                device = current(key)
                result = None
            if result is None:
                if device is not None and item["state"] == "present" and item.get("exclusive"):
                    # Left as it is, tags included: its seed is whoever created it (another run, or an earlier run whose
                    # device IAM's listing did not show yet); the caller tells which from the stores.
                    result = dict(changed=False, serial_number=device["serial_number"], virtual_mfa_device=device,
                                  diff=dict(before=diff_view(device), after=diff_view(device)))
                else:
                    wants_tags = read_tags or (item["state"] == "present" and item["tags"] is not None)
                    if device is not None and wants_tags and key not in exact_tags:
                        device = dict(device, tags=list_device_tags(client, serial_number=device["serial_number"]))
                    result = ensure_device(client, check_mode, device, item)
        except AnsibleIAMError as e:
            if not labelled:
                raise
            raise item_error(offset + index, item_label(item), e) from e
        if item["state"] == "absent":
            done[key] = None
            exact_tags.discard(key)
        else:
            done[key] = result.get("virtual_mfa_device") or dict(result["diff"]["after"], enable_date=None)
            if device is None or item["tags"] is not None:
                exact_tags.add(key)
        yield result


def try_create(client, item):
    """Create the item's device, without listing first: its result, or None when a device of that path and name exists."""
    try:
        return create(client, False, item["path"], item["name"], item["tags"])
    except AnsibleIAMError as e:
        if error_code(e.exception) == "EntityAlreadyExists":
            return None
        raise


def device_entry(item: dict, result: dict) -> dict:
    """What the devices return value says of an item, from its result: the seed only for a device this run created."""
    entry = dict(
        name=item["name"],
        path=item["path"],
        state=item["state"],
        changed=result["changed"],
        serial_number=result.get("serial_number"),
        user_name=result["diff"]["after"].get("user_name"),
    )
    entry.update((key, result[key]) for key in SECRET_KEYS if key in result)
    return entry


def batch_diff(items: list, results: list) -> dict:
    """The diff of a batch: each device touched, keyed by path and name, before its first item and after its last one."""
    before, after = {}, {}
    for item, result in zip(items, results):
        key = item_label(item)
        before.setdefault(key, result["diff"]["before"])
        after[key] = result["diff"]["after"]
    return dict(before={key: view for key, view in before.items() if view}, after={key: view for key, view in after.items() if view})


def creations_at_once(items: list, list_first: bool, check_mode: bool) -> bool:
    """Whether the items may create their devices at once: a batch that does not list first, whose items each create a
    device of its own."""
    keys = [(item["path"], item["name"]) for item in items]
    return not (list_first or check_mode) and len(keys) > 1 and len(set(keys)) == len(keys) and all(item["state"] == "present" for item in items)


def ensure_one(client, check_mode, item):
    """The single form: one device brought to the state of item, as a batch of one that lists first and reads its tags."""
    item = dict(dict.fromkeys(ITEM_OPTIONS), exclusive=False, **item)
    return next(ensure_devices(client, check_mode, [item], list_first=True, read_tags=True, labelled=False))


def ensure_all(client, check_mode, items, list_first, concurrency):
    """(the result of each item, None for an item not done; the first error, or None) of a batch.

    When every item creates a device of its own and the batch does not list first, the devices are created at once,
    concurrency at a time: a device that exists already (EntityAlreadyExists) is looked up in one listing of the account's
    devices, shared by the creations. Every one is tried, and the first error (by index) is the batch's. Otherwise the
    items are done in order, and the first error stops the batch.
    """
    results, error = [None] * len(items), None
    try:
        if concurrency > 1 and creations_at_once(items, list_first, check_mode):
            listing = Listing(client)

            def create_one(index, item):
                return next(ensure_devices(client, False, [item], False, offset=index, listing=listing))

            for index, (result, failure) in enumerate(run_concurrently(create_one, items, concurrency)):
                results[index] = result
                error = error or failure
        else:
            for index, result in enumerate(ensure_devices(client, check_mode, items, list_first)):
                results[index] = result
    except AnsibleIAMError as e:
        error = error or e
    return results, error


def batch_outcome(items: list, results: list, diff: bool) -> dict:
    """The module's result for the devices option: every item's entry, and the diff when asked for."""
    done = [(item, result) for item, result in zip(items, results) if result is not None]
    entries = [device_entry(item, result) for item, result in done]
    outcome = dict(changed=any(entry["changed"] for entry in entries), devices=entries)
    if diff:
        outcome["diff"] = batch_diff([item for item, _result in done], [result for _item, result in done])
    return outcome
