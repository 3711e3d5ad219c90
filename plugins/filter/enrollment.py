# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The enrollment_plan and enrollment_seeds filters (documented in enrollment_plan.yml and enrollment_seeds.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def enrollment_plan(info, stored=None, users=None, name_format="{user_name}", path="/", tags=None):
    """What enrolling ``users`` (all users without MFA when empty) takes; see DOCUMENTATION."""
    if not isinstance(info, dict) or "users" not in info or "virtual_mfa_devices" not in info:
        raise AnsibleFilterError("enrollment_plan needs the result of mfa.aws.iam_mfa_info run with virtual_devices=true")
    if "{user_name}" not in name_format:
        raise AnsibleFilterError("name_format must contain {user_name}, so that every user gets a device of their own")
    stored = stored or {}
    account_users = {user["user_name"]: user for user in info["users"]}
    devices = {(device["path"], device["name"]): device for device in info["virtual_mfa_devices"]}
    enabled_users = {device["user_name"] for device in devices.values() if device.get("user_name")}
    wanted = list(dict.fromkeys(users)) if users else sorted(account_users)

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
    plan["iam_virtual_mfa_devices"] = [{"name": entry["name"], "path": entry["path"], "state": "absent"} for entry in plan["recreate"]] + [
        {"name": entry["name"], "path": entry["path"], "state": "present", "tags": dict(tags or {})} for entry in plan["recreate"] + plan["create"]
    ]
    return plan


def enrollment_seeds(created, plan):
    """The seeds of the devices the plan created, by user: what mfa.aws.seed_vault_file stores."""
    if not isinstance(created, dict) or not isinstance(plan, dict):
        raise AnsibleFilterError("enrollment_seeds needs the registered result of mfa.aws.iam_virtual_mfa (with devices) and the enrollment plan")
    users = {(entry["path"], entry["name"]): entry["user_name"] for entry in plan.get("create", []) + plan.get("recreate", [])}
    seeds = {}
    for device in created.get("devices") or []:
        user_name = users.get((device.get("path"), device.get("name")))
        if user_name and device.get("base32_seed") and device.get("serial_number"):
            seeds[user_name] = {"serial_number": device["serial_number"], "base32_seed": device["base32_seed"]}
    return seeds


class FilterModule:

    def filters(self):
        return {"enrollment_plan": enrollment_plan, "enrollment_seeds": enrollment_seeds}
