#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_virtual_mfa
version_added: 0.1.0
short_description: Create, tag and delete AWS IAM virtual MFA devices
description:
  - Creates, tags and deletes a virtual MFA device (an authenticator app's TOTP seed) in AWS IAM.
  - B(AWS returns the seed of a virtual MFA device only once, ever), in the answer to the call that creates
    it. This module returns it, as RV(base32_seed) and RV(qr_code_png), only on the run that creates the device.
    The task that creates a device must therefore set C(no_log=true) and the play must deliver the seed (to the
    user, to a vault, or to M(mfa.aws.iam_mfa_enable) through the P(mfa.aws.totp#lookup) lookup) right away. A
    seed that is lost cannot be read again, the device can only be deleted and created anew.
  - Creating a device does not enable it for anyone, use M(mfa.aws.iam_mfa_enable) for that.
  - With O(devices), one task handles the devices of many users, with one C(ListVirtualMFADevices) call for all of them
    and then only the calls that each device needs (one C(CreateVirtualMFADevice) for a device to create). With
    O(list_first=false), a batch that only creates devices makes no C(ListVirtualMFADevices) call at all unless AWS
    answers that a device exists already (C(EntityAlreadyExists)).
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  name:
    description:
      - The name of the virtual MFA device, unique in the account together with O(path).
      - 1 to 226 letters, digits and C(+=,.@_-), as IAM requires. Checked before any call to AWS.
      - One of O(name) and O(devices) is required.
    type: str
  path:
    description:
      - The IAM path of the device, part of its serial number (its ARN).
      - It must begin and end with C(/). Checked before any call to AWS.
    type: str
    default: /
  state:
    description:
      - V(present) creates the device when it does not exist and updates its tags when it does.
      - V(absent) deletes the device. A device that is enabled for a user is deleted only with O(force=true).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), deactivate the device from the user it is enabled for before deleting it.
      - Without it, deleting a device that is enabled for a user fails, naming the user, and changes nothing.
      - Deactivating a device lets the user sign in without MFA until another device is enabled.
    type: bool
    default: false
  devices:
    description:
      - Several devices, handled in one task, in the order of the list. What an item does is seen by the items
        after it, so an item with O(devices[].state=absent) followed by one with the same path and name deletes
        the device and creates it anew.
      - Every item is checked (name and path) before any call to AWS.
      - The first item that fails stops the task. Its message names the item first, by its index in the list
        (from 0) and its path and name. The failed result still holds RV(devices) for the items done before it,
        B(with the seeds of the devices they created). Set C(no_log=true) on the task and deliver the seeds
        even when it fails (for example with C(failed_when=false) and a later task that fails).
      - Mutually exclusive with O(name), O(path), O(state), O(tags), O(purge_tags) and O(force), which
        each item has instead.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The name of the device, as O(name).
        required: true
        type: str
      path:
        description:
          - The IAM path of the device, as O(path).
        type: str
        default: /
      state:
        description:
          - V(present) creates the device when it does not exist and updates its tags when it does.
          - V(absent) deletes the device, as O(state=absent).
        type: str
        choices: [present, absent]
        default: present
      tags:
        description:
          - The tags of the device, as O(tags).
          - The tags of an existing device are read (C(ListMFADeviceTags)) only for an item with O(devices[].tags).
          - If not set, the tags of the device are not changed.
        type: dict
      purge_tags:
        description:
          - Remove the tags of the device that are not in O(devices[].tags), as O(purge_tags).
        type: bool
        default: true
      force:
        description:
          - With O(devices[].state=absent), deactivate the device from the user it is enabled for before deleting it,
            as O(force).
        type: bool
        default: false
      exclusive:
        description:
          - With O(devices[].state=present), only create the device. When a device of that path and name exists already (another run
            created it after this one listed the account, or IAM's listing did not show a device an earlier run created moments ago),
            the item changes nothing of it, not even its tags, and reports it unchanged, without a seed. Whose seed it is, the caller
            tells from its seed stores, as the P(mfa.aws.enroll#role) role does.
        type: bool
        default: false
        version_added: 0.2.0
  list_first:
    description:
      - With O(devices), whether to list the account's virtual MFA devices (C(ListVirtualMFADevices)) before acting on any.
      - With V(false), a device to create is created straight away, and the devices are listed only if AWS answers that one
        exists already (C(EntityAlreadyExists)) or for an item that deletes one. That saves one call for a caller that knows the
        devices are new, as the mfa.aws.enroll role does from the listing it planned with. A device that exists already then
        costs one refused C(CreateVirtualMFADevice) call before the listing, and is handled as with V(true).
      - Check mode always lists first.
    type: bool
    default: true
    version_added: 0.1.0
  concurrency:
    description:
      - With O(devices) and O(list_first=false), how many devices are created at once when every item creates a device of its own
        (a batch that also deletes is done one item at a time). A device that exists already is looked up in one listing of the
        account's devices, shared by the creations. Throttling is retried with back-off by each call.
      - With more than one at a time, every creation is tried even when one fails, and RV(devices) holds the items done, with the seeds
        of the devices created.
    type: int
    default: 4
    version_added: 0.2.0
notes:
  - The tags of a new device are set by the call that creates it.
  - The seed (RV(base32_seed)) and the QR code (RV(qr_code_png), which holds the seed in its C(otpauth://) URI)
    are returned only by a run that creates the device, never in check mode, never in the diff, and never in
    an error message.
  - With C(--diff), the diff shows the serial number, path, name, user and tags of the device.
  - A run that creates a device in a task without C(no_log=true) warns that its result holds the seed.
  - With O(devices) and C(--diff), the diff shows each device of the items, keyed by its path and name,
    before the run and after it. The tags shown for an item without O(devices[].tags) are those that
    C(ListVirtualMFADevices) returns.
attributes:
  check_mode:
    support: full
    details:
      - In check mode, a device that would be created has no serial number and no seed yet.
  diff_mode:
    support: full
  idempotent:
    support: full
extends_documentation_fragment:
  - mfa.aws._attributes
  - mfa.aws._attributes.ACTION_GROUP
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
seealso:
  - module: mfa.aws.iam_mfa_enable
  - module: mfa.aws.iam_mfa_info
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - name: CreateVirtualMFADevice in the IAM API reference
    description: The call that creates a device and returns its seed, once.
    link: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateVirtualMFADevice.html
  - name: Assigning a virtual MFA device
    description: How virtual MFA devices work for IAM users.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html
"""

EXAMPLES = r"""
# The seed comes back only from the run that creates the device, so the same play must use it:
# here it keeps the seed in an ansible-vault encrypted file first, then enables the device.
- name: Give alice a virtual MFA device
  module_defaults:
    group/mfa.aws.aws:
      region: us-east-1
  block:
    - name: Create the virtual MFA device (the seed is returned by this run only)
      mfa.aws.iam_virtual_mfa:
        name: alice
        tags:
          owner: alice
      register: device
      no_log: true

    - name: Keep the seed, ansible-vault encrypted with the run's vault secret
      mfa.aws.seed_vault_file:
        path: mfa-seeds/alice.yml
        seeds:
          alice:
            serial_number: "{{ device.serial_number }}"
            base32_seed: "{{ device.base32_seed }}"
      when: device.base32_seed is defined
      no_log: true

    - name: Enable it for alice with two consecutive codes computed from the seed
      mfa.aws.iam_mfa_enable:
        user_name: alice
        serial_number: "{{ device.serial_number }}"
        authentication_code_1: "{{ codes[0] }}"
        authentication_code_2: "{{ codes[1] }}"
      vars:
        codes: "{{ lookup('mfa.aws.totp', device.base32_seed, pair=true) }}"
      when: device.base32_seed is defined
      no_log: true

- name: Create a device under a path, without tags
  mfa.aws.iam_virtual_mfa:
    name: build-robot
    path: /automation/
  register: robot_device
  no_log: true

- name: Replace the tags of an existing device (adds, changes and removes tags)
  mfa.aws.iam_virtual_mfa:
    name: alice
    tags:
      owner: alice
      team: platform

- name: Add a tag and keep the others
  mfa.aws.iam_virtual_mfa:
    name: alice
    tags:
      reviewed: "2024-06"
    purge_tags: false

- name: Delete a device that nobody uses
  mfa.aws.iam_virtual_mfa:
    name: old-laptop
    state: absent

- name: Delete a device even though it is enabled for a user (deactivates it first)
  mfa.aws.iam_virtual_mfa:
    name: alice
    state: absent
    force: true

# One task for the devices of several users. The result of a task that fails part way still
# holds the seeds of the devices it created: store them before the play stops.
- name: Give alice, bob and carol a virtual MFA device each
  module_defaults:
    group/mfa.aws.aws:
      region: us-east-1
  block:
    - name: Create the virtual MFA devices (the seeds are returned by this run only)
      mfa.aws.iam_virtual_mfa:
        devices:
          - name: alice
            tags:
              owner: alice
          - name: bob
            tags:
              owner: bob
          - name: carol
            path: /contractors/
      register: created
      failed_when: false
      no_log: true

    - name: Keep the new seeds by user, ansible-vault encrypted with the run's vault secret
      mfa.aws.seed_vault_file:
        path: mfa-seeds/team.yml
        seeds: "{{ dict(new_devices | map(attribute='name') | zip(new_devices)) }}"
      vars:
        new_devices: "{{ created.devices | default([]) | selectattr('base32_seed', 'defined') | list }}"
      no_log: true

    - name: Stop when a device could not be created
      ansible.builtin.fail:
        msg: "{{ created.msg }}"
      when: created.failed | default(false)

- name: Delete an unused device, and replace dave's unassigned device whose seed was lost, in one task
  mfa.aws.iam_virtual_mfa:
    devices:
      - name: old-laptop
        state: absent
      - name: dave
        state: absent
      - name: dave
  register: recreated
  no_log: true
"""

RETURN = r"""
serial_number:
  description: The serial number (ARN) of the device.
  returned: >-
    with O(name), when the device exists, or was or would be deleted; not in check mode when the device would be created
  type: str
  sample: arn:aws:iam::123456789012:mfa/alice
base32_seed:
  description:
    - The base32 TOTP seed of the device, what an authenticator app needs to compute its codes.
    - B(Secret). AWS returns it only once, ever, so it is returned only by the run that created the device.
      Set C(no_log=true) on the task and deliver it in the same play.
  returned: with O(name), when the device was created by this run (not in check mode)
  type: str
  sample: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
qr_code_png:
  description:
    - The base64-encoded PNG image of the QR code that authenticator apps scan, made of an
      C(otpauth://totp/) URI that holds the seed.
    - B(Secret), like RV(base32_seed), and returned only with it.
  returned: with O(name), when the device was created by this run (not in check mode)
  type: str
  sample: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
virtual_mfa_device:
  description: The device, without its seed.
  returned: with O(name) and O(state=present), except in check mode when the device would be created
  type: dict
  contains:
    serial_number:
      description: The serial number (ARN) of the device.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    path:
      description: The IAM path of the device.
      returned: always
      type: str
      sample: /
    name:
      description: The name of the device.
      returned: always
      type: str
      sample: alice
    user_name:
      description: The user the device is enabled for, V(null) when it is not enabled.
      returned: always
      type: str
      sample: alice
    enable_date:
      description: When the device was enabled, V(null) when it is not enabled.
      returned: always
      type: str
      sample: "2024-06-01T09:30:00+00:00"
    tags:
      description: The tags of the device.
      returned: always
      type: dict
      sample: {"owner": "alice"}
devices:
  description:
    - What each item of O(devices) did, in the order of the items.
    - When the task fails, the entries of the items done before the one that failed, B(with the seeds of the
      devices they created).
  returned: with O(devices)
  type: list
  elements: dict
  contains:
    name:
      description: The name of the device.
      returned: always
      type: str
      sample: alice
    path:
      description: The IAM path of the device.
      returned: always
      type: str
      sample: /
    state:
      description: The state of the item, V(present) or V(absent).
      returned: always
      type: str
      sample: present
    changed:
      description: Whether the item changed the device (or would, in check mode).
      returned: always
      type: bool
      sample: true
    serial_number:
      description:
        - The serial number (ARN) of the device.
        - V(null) for a device that does not exist and is not created, and in check mode for a device to create.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    user_name:
      description: The user the device is enabled for after the item, V(null) when none (always for O(devices[].state=absent)).
      returned: always
      type: str
      sample: alice
    base32_seed:
      description:
        - The base32 TOTP seed of the device, as RV(base32_seed). B(Secret), returned once.
      returned: when this run created the device (not in check mode)
      type: str
      sample: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
    qr_code_png:
      description:
        - The base64-encoded PNG image of the QR code of the device, as RV(qr_code_png). B(Secret), returned once.
      returned: when this run created the device (not in check mode)
      type: str
      sample: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
"""

import base64
import random
import threading
import time

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import VISIBILITY_TIMEOUT
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import create_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import deactivate_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import delete_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import fail_with_result
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import find_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import index_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import item_error
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_device_tags
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import run_concurrently
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import tag_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import untag_device
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_name_problem
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_path_problem
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden

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


def read_device(client, path, name):
    """The device normalised with its tags (ListVirtualMFADevices, then ListMFADeviceTags), None when it does not exist.

    This is how the single form looks its device up.
    """
    found = find_virtual_device(client, path, name)
    if found is None:
        return None
    return normalize_virtual_device(found, list_device_tags(client, serial_number=found["SerialNumber"]))


def ensure_present(client, check_mode, path, name, tags, purge_tags):
    item = dict(name=name, path=path, state="present", tags=tags, purge_tags=purge_tags)
    return ensure_device(client, check_mode, read_device(client, path, name), item)


def ensure_absent(client, check_mode, path, name, force):
    item = dict(name=name, path=path, state="absent", force=force)
    return ensure_device(client, check_mode, read_device(client, path, name), item)


def item_label(item: dict) -> str:
    return f"{item['path']}{item['name']}"


def items_problem(items: list) -> str | None:
    """The first problem of the devices option found without AWS, naming the item; None when there is none."""
    for index, item in enumerate(items):
        problem = device_name_problem(item["name"]) or device_path_problem(item["path"])
        if problem:
            return f"devices[{index}] ({item_label(item)}): {problem}"
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


def ensure_devices(client, check_mode, items, list_first=True, offset=0, listing=None):
    """Bring the devices of the items to their state, in order, and yield the result of each in turn.

    One ListVirtualMFADevices call finds every device.  With list_first false it is made only when an item
    needs it: a device to create is created straight away, and the devices are listed only if AWS answers that
    one exists already, for an item that deletes one, or in check mode (which must not write).  A device's tags are
    read (ListMFADeviceTags) only for an item that sets tags, and only when this run did not set them already.
    What an item does is seen by the items after it, so deleting then creating a device in one batch works.
    An error raised for an item names it; the results yielded before it are those of the items done.
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
                    if device is not None and item["state"] == "present" and item["tags"] is not None and key not in exact_tags:
                        device = dict(device, tags=list_device_tags(client, serial_number=device["serial_number"]))
                    result = ensure_device(client, check_mode, device, item)
        except AnsibleIAMError as e:
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


def run_batch(module, items):
    """The module with the devices option: exits with every item's entry, or fails with those of the items done."""
    problem = items_problem(items)
    if problem:
        module.fail_json(msg=problem)
    client = iam_client(module)
    list_first, concurrency = module.params["list_first"], module.params["concurrency"]
    results = [None] * len(items)
    error = None
    try:
        if concurrency > 1 and creations_at_once(items, list_first, module.check_mode):
            # Every device is created at once, concurrency at a time: a device that exists already (EntityAlreadyExists) is
            # looked up in one listing of the account's devices, shared by the creations. Every one is tried, and the first
            # error (by index) is the task's.
            listing = Listing(client)

            def create_one(index, item):
                return next(ensure_devices(client, False, [item], False, offset=index, listing=listing))

            for index, (result, failure) in enumerate(run_concurrently(create_one, items, concurrency)):
                results[index] = result
                error = error or failure
        else:
            for index, result in enumerate(ensure_devices(client, module.check_mode, items, list_first)):
                results[index] = result
    except AnsibleIAMError as e:
        error = error or e
    done = [(item, result) for item, result in zip(items, results) if result is not None]
    entries = [device_entry(item, result) for item, result in done]
    if any("base32_seed" in entry for entry in entries) and not module.no_log:
        module.warn(BATCH_NO_LOG_WARNING)
    outcome = dict(changed=any(entry["changed"] for entry in entries), devices=entries)
    if error is not None:
        fail_with_result(module, error, **outcome)
    if module._diff:
        outcome["diff"] = batch_diff([item for item, _result in done], [result for _item, result in done])
    module.exit_json(**outcome)


def run_single(module):
    """The module with the name option: exits with the device's result."""
    params = module.params
    problem = device_name_problem(params["name"]) or device_path_problem(params["path"])
    if problem:
        module.fail_json(msg=problem)

    client = iam_client(module)
    try:
        if params["state"] == "present":
            result = ensure_present(client, module.check_mode, params["path"], params["name"], params["tags"], params["purge_tags"])
        else:
            result = ensure_absent(client, module.check_mode, params["path"], params["name"], params["force"])
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    if "base32_seed" in result and not module.no_log:
        module.warn(NO_LOG_WARNING)
    if not module._diff:
        del result["diff"]
    module.exit_json(**result)


def main():
    item_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
        exclusive=dict(type="bool", default=False),
    )
    argument_spec = dict(
        name=dict(type="str"),
        path=dict(type="str", default="/"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
        devices=dict(type="list", elements="dict", options=item_spec),
        list_first=dict(type="bool", default=True),
        concurrency=dict(type="int", default=4),
    )
    module = AnsibleAWSModule(
        argument_spec=with_connection_secrets_hidden(argument_spec),
        supports_check_mode=True,
        # The options of the single form, when set, would be ignored with devices.
        mutually_exclusive=[("devices", option) for option in ("name", "path", "state", "tags", "purge_tags", "force")],
        required_one_of=[("name", "devices")],
    )
    if not 1 <= module.params["concurrency"] <= 16:
        module.fail_json(msg="concurrency must be 1 to 16")
    if module.params["devices"] is None:
        run_single(module)
    else:
        run_batch(module, module.params["devices"])


if __name__ == "__main__":
    main()
