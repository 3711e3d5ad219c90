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
    details:
      - In check mode, the codes are checked for their format only, AWS checks them when the device is enabled.
  idempotent:
    support: partial
    details:
      - O(state=present) and O(state=absent) are idempotent.
      - O(state=resynced) is never idempotent, it resynchronises the device and reports a change on every run.
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
extends_documentation_fragment: [mfa.aws._attributes.AWS_WRITES, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules,
                                 amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
# The seed of a virtual device is returned once, by the run that creates it (mfa.aws.iam_virtual_mfa shows the whole
# sequence: create the device, store the seed, enable the device). Given the seed, the module computes the two codes.
- name: Enable alice's new virtual MFA device with two consecutive codes computed from its seed
  mfa.aws.iam_mfa_enable:
    user_name: alice
    serial_number: "{{ device.serial_number }}"
    base32_seed: "{{ device.base32_seed }}"
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
    user_name: &user_name
      description: The name of the user.
      returned: always
      type: str
      sample: alice
    serial_number: &serial_number
      description: The serial number of the device.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    enable_date:
      description: When the device was enabled for the user.
      returned: always
      type: str
      sample: "2024-06-01T09:30:00+00:00"
    kind: &kind
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
    user_name: *user_name
    serial_number: *serial_number
    kind: *kind
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

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._enablement import CODE_OPTIONS
from ansible_collections.mfa.aws.plugins.module_utils._enablement import argument_problem
from ansible_collections.mfa.aws.plugins.module_utils._enablement import argument_spec
from ansible_collections.mfa.aws.plugins.module_utils._enablement import codes_of
from ansible_collections.mfa.aws.plugins.module_utils._enablement import ensure_all
from ansible_collections.mfa.aws.plugins.module_utils._enablement import ensure_one
from ansible_collections.mfa.aws.plugins.module_utils._enablement import items_problem
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import fail_with_result
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_client
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden


def main():
    module = AnsibleAWSModule(
        argument_spec=with_connection_secrets_hidden(argument_spec()),
        supports_check_mode=True,
        # The options of the single form, when set, would be ignored with devices.
        mutually_exclusive=[("devices", option) for option in ("user_name", "serial_number", "state", "base32_seed") + CODE_OPTIONS]
        + [("base32_seed", option) for option in CODE_OPTIONS],
        required_one_of=[("user_name", "devices")],
        required_together=[("user_name", "serial_number"), CODE_OPTIONS],
        required_if=[("state", "resynced", CODE_OPTIONS + ("base32_seed",), True)],
    )
    params = module.params
    timeout, concurrency = params["visibility_timeout"], params["concurrency"]
    if not 0 <= timeout <= 300 or not 1 <= concurrency <= 16:
        module.fail_json(msg="visibility_timeout must be 0 to 300 seconds, and concurrency 1 to 16")

    if params["devices"] is None:
        codes = codes_of(params)
        problem = argument_problem(params["user_name"], params["serial_number"], codes.given, codes.seed)
        if problem:
            module.fail_json(msg=problem)
        try:
            result = ensure_one(iam_client(module), module.check_mode, params, timeout)
        except AnsibleIAMError as e:
            module.fail_json_aws_error(e)
        if not module._diff:
            del result["diff"]
        module.exit_json(**result)

    items = params["devices"]
    problem = items_problem(items)
    if problem:
        module.fail_json(msg=problem)
    entries, before, after, error = ensure_all(iam_client(module), module.check_mode, items, params["list_first"], concurrency, timeout)
    result = dict(changed=any(entry["changed"] for entry in entries), devices=entries)
    if error is not None:
        fail_with_result(module, error, **result)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
