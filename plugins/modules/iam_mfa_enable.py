#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_enable
version_added: 0.1.0
short_description: Enable, deactivate and resynchronise the MFA device of an AWS IAM user
description:
  - Enables an MFA device for an IAM user, deactivates it, or resynchronises it.
  - The device is a virtual MFA device, named by its serial number (ARN), for example one made by
    M(mfa.aws.iam_virtual_mfa), or a hardware TOTP token, named by the serial number printed on it.
  - To enable a device, AWS asks for two consecutive codes of the device. For a virtual device whose seed
    the play knows, the P(mfa.aws.totp#lookup) lookup with C(pair=true) computes them. For a hardware
    token, the person holding it reads them.
  - A device that is already enabled for the user is left as it is, and no code is needed. This costs one
    call to AWS (C(ListMFADevices)); enabling costs that call and C(EnableMFADevice).
  - With O(devices), one task enables or deactivates the devices of many users. One C(ListVirtualMFADevices)
    call tells which user each virtual device is enabled for, one C(ListMFADevices) call per user with a
    hardware token tells it for the tokens, and then each device to enable or deactivate costs one call.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  user_name:
    description:
      - The name of the IAM user.
      - The root user is refused before any call to AWS, since AWS lets nobody enable its MFA through the API.
      - One of O(user_name) and O(devices) is required. Required with O(serial_number).
    type: str
  serial_number:
    description:
      - The serial number of the device, the ARN of a virtual MFA device (C(arn:aws:iam::123456789012:mfa/alice))
        or the serial number printed on a hardware token.
      - Required with O(user_name).
    type: str
  authentication_code_1:
    description:
      - A code of the device, 6 digits.
      - Required to enable a device that is not enabled yet for the user, and with O(state=resynced).
      - Quote it in YAML so that a leading zero is kept.
    type: str
  authentication_code_2:
    description:
      - The code of the device that follows O(authentication_code_1), 6 digits.
      - Required with O(authentication_code_1).
    type: str
  base32_seed:
    description:
      - The base32 seed of a virtual device, instead of O(authentication_code_1) and O(authentication_code_2). The module
        computes the two codes itself (RFC 6238) right before each call, so that a call made again - while IAM does not show a
        device just created, or in the next window after AWS refused a pair used already - has codes of the current windows.
      - B(Secret), never returned or shown. With O(state=resynced), a refused pair is tried once more in the next 30-second
        window, inside the task.
    type: str
    version_added: 0.2.0
  state:
    description:
      - V(present) enables the device for the user unless it is enabled for them already.
      - V(absent) deactivates the device from the user if it is enabled for them. The device itself is kept,
        delete a virtual device with M(mfa.aws.iam_virtual_mfa).
      - V(resynced) resynchronises the device with AWS, for a token whose clock drifted. This always reports a
        change since AWS cannot tell whether the device was in sync.
    type: str
    choices: [present, absent, resynced]
    default: present
  devices:
    description:
      - Several devices, each for its user, handled in one task in the order of the list. What an item does is seen
        by the items after it.
      - Every item is checked (user, serial number, format of the codes) before any call to AWS. Whether the codes
        are needed is known only once AWS tells whether the device is enabled for the user already.
      - The first item that fails stops the task. Its message names the item first, by its index in the list (from 0)
        and its user. The failed result still holds RV(devices) for the items done before it.
      - Mutually exclusive with O(user_name), O(serial_number), O(authentication_code_1), O(authentication_code_2)
        and O(state), which each item has instead. Resynchronising is done one device at a time, with O(state=resynced).
    type: list
    elements: dict
    suboptions:
      user_name:
        description:
          - The name of the IAM user, as O(user_name). The root user is refused before any call to AWS.
        required: true
        type: str
      serial_number:
        description:
          - The serial number of the device, as O(serial_number).
        required: true
        type: str
      authentication_code_1:
        description:
          - A code of the device, 6 digits, as O(authentication_code_1).
          - Required to enable a device that is not enabled yet for the user.
        type: str
      authentication_code_2:
        description:
          - The code of the device that follows O(devices[].authentication_code_1), 6 digits.
          - Required with O(devices[].authentication_code_1).
        type: str
      base32_seed:
        description:
          - The base32 seed of a virtual device instead of its two codes, as O(base32_seed). B(Secret).
        type: str
        version_added: 0.2.0
      state:
        description:
          - V(present) enables the device for the user unless it is enabled for them already.
          - V(absent) deactivates the device from the user if it is enabled for them.
        type: str
        choices: [present, absent]
        default: present
  list_first:
    description:
      - With O(devices), whether to list the account's virtual MFA devices (C(ListVirtualMFADevices)) before enabling any,
        to learn which are enabled already and for whom.
      - With V(false), when every item enables a virtual device, each is enabled straight away and the devices are listed only if
        AWS answers that one is in use (C(EntityAlreadyExists)). That saves one call for a caller that knows the devices are not enabled,
        as the mfa.aws.enroll role does from the listing it planned with. A device already enabled for its item's user then costs
        one refused C(EnableMFADevice) call before the listing, and is reported unchanged.
      - Check mode, and a batch with an item that deactivates a device, names a hardware token or has no codes, always list first.
    type: bool
    default: true
    version_added: 0.1.0
  visibility_timeout:
    description:
      - IAM makes a new virtual device visible to its other calls a few seconds after it is created (eventual consistency). For
        that many seconds the module calls C(EnableMFADevice) (or C(ResyncMFADevice)) again, with jittered back-off, while AWS answers
        that the device does not exist; then it fails with C(IAM does not show MFA device ... yet ... run again in a minute).
      - A user that does not exist fails at once (one C(GetUser) call tells which of the two AWS did not find).
      - V(0) calls once.
    type: int
    default: 30
    version_added: 0.2.0
  concurrency:
    description:
      - With O(devices) and O(list_first=false), how many devices are enabled at once when no two items name the same user or device
        (otherwise, and when the batch lists first, one at a time, in order). Throttling is retried with back-off by each call.
      - With more than one at a time, every item is tried even when one fails; the task then fails with the error of the first item
        that failed (by index), and RV(devices) holds the items done.
    type: int
    default: 4
    version_added: 0.2.0
notes:
  - The codes are checked (6 digits each) before any call to AWS, and no message of this module contains them.
  - AWS accepts each pair of codes once. Compute them, or read them from the token, right before the task runs.
  - Deactivating the last device of a user lets them sign in without MFA.
  - With O(devices), a device enabled for another user than its item's is refused, naming that user, before
    any call for that item if it is a virtual device; for a hardware token AWS refuses it.
  - With O(devices) and C(--diff), the diff shows, for each user of the items, which of the items' devices are
    enabled for them before the run and after it.
attributes:
  check_mode:
    support: full
    details:
      - In check mode, the codes are checked for their format only, AWS checks them when the device is enabled.
  diff_mode:
    support: full
  idempotent:
    support: partial
    details:
      - O(state=present) and O(state=absent) are idempotent.
      - O(state=resynced) is never idempotent, it resynchronises the device and reports a change on every run.
extends_documentation_fragment:
  - mfa.aws._attributes
  - mfa.aws._attributes.ACTION_GROUP
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: mfa.aws.iam_virtual_mfa
  - module: mfa.aws.iam_mfa_info
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - name: EnableMFADevice in the IAM API reference
    description: The call that enables a device for a user.
    link: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableMFADevice.html
  - name: Resynchronizing virtual and hardware MFA devices
    description: When and how AWS resynchronises a device.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_sync.html
"""

EXAMPLES = r"""
# The seed of a virtual device is returned once, by the run that creates it: create the device,
# store the seed, then enable the device, in the same play and with no_log on every task.
- name: Give alice a virtual MFA device and enable it
  module_defaults:
    group/mfa.aws.aws:
      region: us-east-1
  block:
    - name: Create the virtual MFA device
      mfa.aws.iam_virtual_mfa:
        name: alice
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

# token_code_1 and token_code_2 are typed by the person holding the token, for example
# through vars_prompt (private: true) or an AWX survey (password fields).
- name: Enable the hardware token handed to bob
  mfa.aws.iam_mfa_enable:
    user_name: bob
    serial_number: GAHT12345678
    authentication_code_1: "{{ token_code_1 }}"
    authentication_code_2: "{{ token_code_2 }}"
  no_log: true

- name: Check that alice's device is enabled (no codes needed when it is)
  mfa.aws.iam_mfa_enable:
    user_name: alice
    serial_number: arn:aws:iam::123456789012:mfa/alice
  check_mode: true
  register: alice_mfa

- name: Resynchronise a hardware token whose clock drifted
  mfa.aws.iam_mfa_enable:
    user_name: bob
    serial_number: GAHT12345678
    authentication_code_1: "{{ token_code_1 }}"
    authentication_code_2: "{{ token_code_2 }}"
    state: resynced
  no_log: true

- name: Deactivate alice's device (it stays in the account)
  mfa.aws.iam_mfa_enable:
    user_name: alice
    serial_number: arn:aws:iam::123456789012:mfa/alice
    state: absent

# The seeds of the devices were stored by mfa.aws.seed_vault_file, by user name, when the devices
# were created (see mfa.aws.iam_virtual_mfa). One task enables all of them, with codes computed from
# each seed when the task runs.
- name: Enable the virtual MFA devices of every user whose seed is stored
  module_defaults:
    group/mfa.aws.aws:
      region: us-east-1
  block:
    - name: Read the stored seeds back
      ansible.builtin.include_vars:
        file: mfa-seeds/team.yml
        name: mfa_seeds
      no_log: true

    - name: Enable every device with two consecutive codes computed from its seed
      mfa.aws.iam_mfa_enable:
        devices: "{{ devices_json | from_json }}"
      vars:
        devices_json: >-
          [{% for user in mfa_seeds %}
          {% set codes = lookup('mfa.aws.totp', mfa_seeds[user].base32_seed, pair=true) %}
          {"user_name": {{ user | to_json }}, "serial_number": {{ mfa_seeds[user].serial_number | to_json }},
           "authentication_code_1": {{ codes[0] | to_json }}, "authentication_code_2": {{ codes[1] | to_json }}}{{ '' if loop.last else ',' }}
          {% endfor %}]
      register: enabled
      no_log: true

- name: Check that the devices of alice and bob are enabled (no codes needed when they are)
  mfa.aws.iam_mfa_enable:
    devices:
      - user_name: alice
        serial_number: arn:aws:iam::123456789012:mfa/alice
      - user_name: bob
        serial_number: GAHT12345678
  check_mode: true
  register: team_mfa

- name: Deactivate the devices of two users who left
  mfa.aws.iam_mfa_enable:
    devices:
      - user_name: erin
        serial_number: arn:aws:iam::123456789012:mfa/erin
        state: absent
      - user_name: frank
        serial_number: arn:aws:iam::123456789012:mfa/frank
        state: absent
"""

RETURN = r"""
user_name:
  description: The name of the user.
  returned: with O(user_name)
  type: str
  sample: alice
serial_number:
  description: The serial number of the device.
  returned: with O(user_name)
  type: str
  sample: arn:aws:iam::123456789012:mfa/alice
kind:
  description: What the device is, V(virtual), V(hardware) or V(fido) (a security key).
  returned: with O(user_name)
  type: str
  sample: virtual
enable_date:
  description:
    - When the device was enabled for the user.
    - When this run enabled it (or would, in check mode), the time of the run.
  returned: with O(user_name), when the device is enabled for the user after the run
  type: str
  sample: "2024-06-01T09:30:00+00:00"
mfa_devices:
  description: The MFA devices enabled for the user after the run (as predicted in check mode).
  returned: with O(user_name)
  type: list
  elements: dict
  contains:
    user_name:
      description: The name of the user.
      returned: always
      type: str
      sample: alice
    serial_number:
      description: The serial number of the device.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    enable_date:
      description: When the device was enabled for the user.
      returned: always
      type: str
      sample: "2024-06-01T09:30:00+00:00"
    kind:
      description: V(virtual), V(hardware) or V(fido).
      returned: always
      type: str
      sample: virtual
devices:
  description:
    - What each item of O(devices) did, in the order of the items.
    - When the task fails, the entries of the items done before the one that failed.
  returned: with O(devices)
  type: list
  elements: dict
  contains:
    user_name:
      description: The name of the user.
      returned: always
      type: str
      sample: alice
    serial_number:
      description: The serial number of the device.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    kind:
      description: V(virtual), V(hardware) or V(fido).
      returned: always
      type: str
      sample: virtual
    state:
      description: The state of the item, V(present) or V(absent).
      returned: always
      type: str
      sample: present
    changed:
      description: Whether the item enabled or deactivated the device (or would, in check mode).
      returned: always
      type: bool
      sample: true
"""

import datetime
import threading

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import ROOT_HANDOFF
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import VIRTUAL
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import VISIBILITY_TIMEOUT
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import Codes
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import call_while_invisible
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import deactivate_device
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import device_kind
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import enable_device
from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import fail_with_result
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import is_root_user
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import item_error
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_user_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_mfa_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import resync_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import run_concurrently
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import validate_code
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import serial_number_problem
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import virtual_device_users
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden
from ansible_collections.mfa.aws.plugins.module_utils._totp import SeedError
from ansible_collections.mfa.aws.plugins.module_utils._totp import code_at

CODE_OPTIONS = ("authentication_code_1", "authentication_code_2")
ENABLE = "enable"
DEACTIVATE = "deactivate"


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


def ensure_enabled(client, check_mode, user_name, serial_number, codes, timeout=VISIBILITY_TIMEOUT):
    codes = codes if isinstance(codes, Codes) else Codes(codes)
    devices = list_user_devices(client, user_name=user_name)
    owner = user_name if find_device(devices, serial_number) is not None else None
    action = plan("present", user_name, serial_number, owner, codes)
    if action is None:
        return build_result(False, user_name, serial_number, devices, devices)
    if not apply(client, check_mode, action, user_name, serial_number, codes, timeout):
        # AWS answered that the device was enabled for the user meanwhile: no change of this run.
        devices = list_user_devices(client, user_name=user_name)
        return build_result(False, user_name, serial_number, devices, devices)
    enabled = dict(UserName=user_name, SerialNumber=serial_number, EnableDate=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0))
    return build_result(True, user_name, serial_number, devices, devices + [enabled])


def ensure_deactivated(client, check_mode, user_name, serial_number):
    devices = list_user_devices(client, user_name=user_name)
    owner = user_name if find_device(devices, serial_number) is not None else None
    action = plan("absent", user_name, serial_number, owner, Codes())
    if action is None:
        return build_result(False, user_name, serial_number, devices, devices)
    apply(client, check_mode, action, user_name, serial_number, Codes())
    remaining = [device for device in devices if device["SerialNumber"] != serial_number]
    return build_result(True, user_name, serial_number, devices, remaining)


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


def ensure_items(client, check_mode, items, owners, listed=True, seen=None, timeout=VISIBILITY_TIMEOUT, offset=0):
    """Bring the items to their state, in order, and yield the entry of each in turn.

    owners is read_owners()'s answer and is kept up to date (as predicted in check mode), so each item
    sees what the items before it did.  With listed false, owners starts empty (list_first=false): each
    device is enabled straight away, and the first one AWS says is in use has read_owners() called then,
    once for the whole batch; seen (a dict) then receives that listing as "listing" and the serial numbers
    this run enabled before it as "enabled", from which the caller tells what was enabled before the run.
    An error raised for an item names it; the entries yielded before it are those of the items done.
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


def run_batch(module, items):
    """The module with the devices option: exits with every item's entry, or fails with those of the items done."""
    problem = items_problem(items)
    if problem:
        module.fail_json(msg=problem)
    client = iam_client(module)
    timeout, concurrency = module.params["visibility_timeout"], module.params["concurrency"]
    entries = []
    try:
        # Without a listing first, every item enables a virtual device that the caller knows to be free.
        listed = lists_first(items, module.check_mode, module.params["list_first"])
        owners = read_owners(client, items) if listed else {}
        before = enabled_among(items, owners)
        seen = {}
        if concurrency > 1 and not listed and independent(items):
            # Every device is enabled at once, concurrency at a time; a device AWS says is in use is looked up then.
            more, error, already = ensure_items_concurrently(client, module.check_mode, items, owners, concurrency, timeout)
            entries += more
            # What was enabled before the run: the devices AWS said were enabled for their user already.
            before = enabled_among(items, already)
            if error is not None:
                raise error
        else:
            for entry in ensure_items(client, module.check_mode, items, owners, listed, seen, timeout):
                entries.append(entry)
            if seen:  # AWS said a device is in use: what was enabled before the run is the listing, less what this run enabled
                before = enabled_among(items, {serial: owner for serial, owner in seen["listing"].items() if serial not in seen["enabled"]})
    except AnsibleIAMError as e:
        fail_with_result(module, e, changed=any(entry["changed"] for entry in entries), devices=entries)
    result = dict(changed=any(entry["changed"] for entry in entries), devices=entries)
    if module._diff:
        result["diff"] = dict(before=before, after=enabled_among(items, owners))
    module.exit_json(**result)


def run_single(module):
    """The module with user_name and serial_number: exits with the device's result."""
    params = module.params
    user_name, serial_number, state = params["user_name"], params["serial_number"], params["state"]
    codes, timeout = codes_of(params), params["visibility_timeout"]

    problem = argument_problem(user_name, serial_number, codes.given, codes.seed)
    if problem:
        module.fail_json(msg=problem)

    client = iam_client(module)
    try:
        if state == "present":
            result = ensure_enabled(client, module.check_mode, user_name, serial_number, codes, timeout)
        elif state == "absent":
            result = ensure_deactivated(client, module.check_mode, user_name, serial_number)
        else:
            result = resync(client, module.check_mode, user_name, serial_number, codes, timeout)
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    if not module._diff:
        del result["diff"]
    module.exit_json(**result)


def main():
    item_spec = dict(
        user_name=dict(type="str", required=True),
        serial_number=dict(type="str", required=True),
        authentication_code_1=dict(type="str", no_log=True),
        authentication_code_2=dict(type="str", no_log=True),
        base32_seed=dict(type="str", no_log=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    argument_spec = dict(
        user_name=dict(type="str"),
        serial_number=dict(type="str"),
        authentication_code_1=dict(type="str", no_log=True),
        authentication_code_2=dict(type="str", no_log=True),
        base32_seed=dict(type="str", no_log=True),
        state=dict(type="str", default="present", choices=["present", "absent", "resynced"]),
        devices=dict(type="list", elements="dict", options=item_spec, required_together=[CODE_OPTIONS],
                     mutually_exclusive=[("base32_seed", option) for option in CODE_OPTIONS]),
        list_first=dict(type="bool", default=True),
        visibility_timeout=dict(type="int", default=VISIBILITY_TIMEOUT),
        concurrency=dict(type="int", default=4),
    )
    module = AnsibleAWSModule(
        argument_spec=with_connection_secrets_hidden(argument_spec),
        supports_check_mode=True,
        # The options of the single form, when set, would be ignored with devices.
        mutually_exclusive=[("devices", option) for option in ("user_name", "serial_number", "state", "base32_seed") + CODE_OPTIONS]
        + [("base32_seed", option) for option in CODE_OPTIONS],
        required_one_of=[("user_name", "devices")],
        required_together=[("user_name", "serial_number"), CODE_OPTIONS],
        required_if=[("state", "resynced", CODE_OPTIONS + ("base32_seed",), True)],
    )
    if not 0 <= module.params["visibility_timeout"] <= 300 or not 1 <= module.params["concurrency"] <= 16:
        module.fail_json(msg="visibility_timeout must be 0 to 300 seconds, and concurrency 1 to 16")
    if module.params["devices"] is None:
        run_single(module)
    else:
        run_batch(module, module.params["devices"])


if __name__ == "__main__":
    main()
