# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: enrollment_plan
version_added: 0.1.0
short_description: Decide what enrolling an account's IAM users in MFA takes
description:
  - From an account's MFA state (the result of M(mfa.aws.iam_mfa_info) with O(mfa.aws.iam_mfa_info#module:virtual_devices=true))
    and the seeds already stored (RV(mfa.aws.seed_vault_file#module:stored)), works out, for each user to enroll, whether
    a virtual MFA device must be created, reused or deleted and created again.
  - "The rules keep enrollment crash-safe, since AWS returns a seed only once: a user with MFA is left alone; an unassigned
    device whose seed is stored is reused; an unassigned device whose seed was never stored is useless, so it is deleted and
    created again; a device name taken by a device enabled for another user is a conflict."
  - Pure computation on the controller; no AWS call.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
positional: stored, users, name_format, path
options:
  _input:
    description: The registered result of M(mfa.aws.iam_mfa_info) run with O(mfa.aws.iam_mfa_info#module:virtual_devices=true).
    type: dict
    required: true
  stored:
    description: User name to the serial number of the device whose seed is stored, as RV(mfa.aws.seed_vault_file#module:stored) returns it.
    type: dict
    default: {}
  users:
    description: The users to enroll. Empty means every user of the account without MFA.
    type: list
    elements: str
    default: []
  name_format:
    description: The name of each user's virtual device, with C({user_name}) standing for the user's name.
    type: str
    default: "{user_name}"
  path:
    description: The IAM path of the devices.
    type: str
    default: /
"""

EXAMPLES = r"""
- name: Plan the enrollment of every user without MFA
  ansible.builtin.set_fact:
    plan: "{{ audit | mfa.aws.enrollment_plan(stored_seeds.stored) }}"

- name: Plan the enrollment of two users, with devices named mfa-<user> under /people/
  ansible.builtin.set_fact:
    plan: "{{ audit | mfa.aws.enrollment_plan(stored_seeds.stored, users=['alice', 'bob'], name_format='mfa-{user_name}', path='/people/') }}"
"""

RETURN = r"""
_value:
  description: What each user needs.
  type: dict
  contains:
    compliant:
      description: Users that have MFA already.
      type: list
      elements: str
    unknown:
      description: Users asked for that the account does not have.
      type: list
      elements: str
    conflicts:
      description: Users whose device name is taken by a device enabled for another user (C(user_name), C(serial_number), C(enabled_for)).
      type: list
      elements: dict
    create:
      description: Users that get a new device (C(user_name), C(name), C(path)).
      type: list
      elements: dict
    recreate:
      description:
        - Users whose unassigned device has no stored seed, so it is deleted and created again
          (C(user_name), C(name), C(path), C(serial_number) of the device to delete).
      type: list
      elements: dict
    reuse:
      description: Users whose unassigned device has its seed stored; it is enabled without being created again (C(user_name), C(serial_number)).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError


def enrollment_plan(info, stored=None, users=None, name_format="{user_name}", path="/"):
    """What enrolling ``users`` (all users without MFA when empty) takes; see DOCUMENTATION."""
    if not isinstance(info, dict) or "users" not in info or "virtual_mfa_devices" not in info:
        raise AnsibleFilterError("enrollment_plan needs the result of mfa.aws.iam_mfa_info run with virtual_devices=true")
    if "{user_name}" not in name_format:
        raise AnsibleFilterError("name_format must contain {user_name}, so that every user gets a device of their own")
    stored = stored or {}
    account_users = {user["user_name"]: user for user in info["users"]}
    devices = {(device["path"], device["name"]): device for device in info["virtual_mfa_devices"]}
    enabled_users = {device["user_name"] for device in devices.values() if device.get("user_name")}
    wanted = list(dict.fromkeys(users)) if users else sorted(name for name, user in account_users.items() if not user["mfa_active"])

    plan = {"compliant": [], "unknown": [], "conflicts": [], "create": [], "recreate": [], "reuse": []}
    for user_name in wanted:
        if user_name not in account_users:
            plan["unknown"].append(user_name)
            continue
        if account_users[user_name]["mfa_active"] or user_name in enabled_users:
            plan["compliant"].append(user_name)
            continue
        name = name_format.format(user_name=user_name)
        device = devices.get((path, name))
        if device is None:
            plan["create"].append({"user_name": user_name, "name": name, "path": path})
        elif device.get("user_name"):
            plan["conflicts"].append({"user_name": user_name, "serial_number": device["serial_number"], "enabled_for": device["user_name"]})
        elif stored.get(user_name) == device["serial_number"]:
            plan["reuse"].append({"user_name": user_name, "serial_number": device["serial_number"]})
        else:
            plan["recreate"].append({"user_name": user_name, "name": name, "path": path, "serial_number": device["serial_number"]})
    return plan


class FilterModule:

    def filters(self):
        return {"enrollment_plan": enrollment_plan}
