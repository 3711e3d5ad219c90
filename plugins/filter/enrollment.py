# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filters that plan the MFA lifecycle of an account's users: enrollment_plan, enrollment_seeds,
rotation_plan, rotation_seeds and removal_plan (each documented in its own .yml file beside this one)."""

from __future__ import annotations

import datetime
import time

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa.aws.plugins.plugin_utils._otp import OtpError
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import totp_pair

# A rotation creates the new device under the name that the current one does not have, so that old and
# new coexist (AWS allows 8 devices per user) and an interrupted rotation finds its new device again.
ROTATION_SUFFIX = "-2"


def _checked(filter_name, info, name_format):
    """(users by name, virtual devices by (path, name)) of an iam_mfa_info result run with virtual_devices=true."""
    if not isinstance(info, dict) or "users" not in info or "virtual_mfa_devices" not in info:
        raise AnsibleFilterError(f"{filter_name} needs the result of mfa.aws.iam_mfa_info run with virtual_devices=true")
    if "{user_name}" not in name_format:
        raise AnsibleFilterError("name_format must contain {user_name}, so that every user gets a device of their own")
    return {user["user_name"]: user for user in info["users"]}, {(device["path"], device["name"]): device for device in info["virtual_mfa_devices"]}


def _device_changes(deletions, creations, tags):
    """The iam_virtual_mfa devices option that deletes, then creates, the devices of those plan entries."""
    return [{"name": entry["name"], "path": entry["path"], "state": "absent"} for entry in deletions] + [
        {"name": entry["name"], "path": entry["path"], "state": "present", "tags": dict(tags or {})} for entry in creations
    ]


def enrollment_plan(info, stored=None, users=None, name_format="{user_name}", path="/", tags=None, typed_codes=None):
    """What enrolling ``users`` (all users without MFA when empty) takes; see DOCUMENTATION."""
    account_users, devices = _checked("enrollment_plan", info, name_format)
    if typed_codes is not None and not isinstance(typed_codes, dict):
        raise AnsibleFilterError("typed_codes must be a dictionary of user names to the two codes each person typed")
    stored = stored or {}
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
    plan["iam_virtual_mfa_devices"] = _device_changes(plan["recreate"], plan["recreate"] + plan["create"], tags)
    plan["new_users"] = [entry["user_name"] for entry in plan["create"] + plan["recreate"]]
    plan["enable_users"] = plan["new_users"] + [entry["user_name"] for entry in plan["reuse"]]
    plan["ready_users"] = [user_name for user_name in plan["enable_users"] if typed_codes is None or user_name in typed_codes]
    plan["awaiting_codes"] = [user_name for user_name in plan["enable_users"] if user_name not in plan["ready_users"]]
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


def _serial_index(info):
    return {device["serial_number"]: device for device in info["virtual_mfa_devices"]}


def _age_days(created, now):
    """Whole days since the ISO 8601 time created (an entry without it counts as infinitely old)."""
    try:
        then = datetime.datetime.fromisoformat(str(created))
    except ValueError:
        return float("inf")
    if then.tzinfo is None:
        then = then.replace(tzinfo=datetime.timezone.utc)
    return (now - then).total_seconds() / 86400


def _now(now):
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    parsed = datetime.datetime.fromisoformat(str(now))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def rotation_slot(current_name, name_format, user_name):
    """The name of the device that replaces one named current_name: the one of the two names current_name is not."""
    name = name_format.format(user_name=user_name)
    return name + ROTATION_SUFFIX if current_name == name else name


def rotation_plan(info, entries=None, users=None, max_age_days=90, name_format="{user_name}", path="/", tags=None, now=None):
    """What rotating the managed virtual MFA devices of ``users`` takes; see DOCUMENTATION."""
    account_users, devices = _checked("rotation_plan", info, name_format)
    if not isinstance(max_age_days, (int, float)) or isinstance(max_age_days, bool) or max_age_days < 0:
        raise AnsibleFilterError("max_age_days must be a number of days, 0 or more")
    entries = entries or {}
    by_serial = _serial_index(info)
    moment = _now(now)
    wanted = list(dict.fromkeys(users)) if users else sorted(entries)

    plan = {key: [] for key in ("unknown", "unmanaged", "lost", "current", "conflicts", "start", "recreate", "enable", "retire", "finish", "revert")}
    for user_name in wanted:
        entry = entries.get(user_name)
        if entry is None:
            plan["unknown" if user_name not in account_users else "unmanaged"].append(user_name)
            continue
        serial, previous = entry["serial_number"], entry.get("previous_serial_number")
        device = by_serial.get(serial)
        if previous:
            # A rotation that an earlier run started: its new device is stored, the old one is kept until retired.
            if device is None:
                # The new device vanished: go back to the previous one if it is still there, else the user must enroll again.
                plan["revert" if previous in by_serial else "lost"].append(user_name)
                continue
            if device.get("user_name") not in (None, user_name):
                plan["conflicts"].append({"user_name": user_name, "serial_number": serial, "enabled_for": device["user_name"]})
                continue
            old = by_serial.get(previous)
            if old is not None and old.get("user_name") not in (None, user_name):
                plan["conflicts"].append({"user_name": user_name, "serial_number": previous, "enabled_for": old["user_name"]})
                continue
            if device.get("user_name") is None:
                plan["enable"].append({"user_name": user_name, "serial_number": serial})
            if old is not None:
                plan["retire"].append({"user_name": user_name, "serial_number": previous, "name": old["name"], "path": old["path"]})
            plan["finish"].append(user_name)
            continue
        if device is None or device.get("user_name") != user_name:
            plan["unmanaged"].append(user_name)
            continue
        if _age_days(entry.get("created"), moment) < max_age_days:
            plan["current"].append(user_name)
            continue
        name = rotation_slot(device["name"], name_format, user_name)
        taken = devices.get((path, name))
        start = {"user_name": user_name, "name": name, "path": path, "old_serial_number": serial}
        if taken is not None and taken.get("user_name"):
            plan["conflicts"].append({"user_name": user_name, "serial_number": taken["serial_number"], "enabled_for": taken["user_name"]})
            continue
        if taken is None:
            plan["start"].append(start)
        else:
            plan["recreate"].append(dict(start, serial_number=taken["serial_number"]))
        plan["retire"].append({"user_name": user_name, "serial_number": serial, "name": device["name"], "path": device["path"]})
        plan["finish"].append(user_name)
    plan["iam_virtual_mfa_devices"] = _device_changes(plan["recreate"], plan["recreate"] + plan["start"], tags)
    plan["retire_devices"] = [{"name": entry["name"], "path": entry["path"], "state": "absent", "force": True} for entry in plan["retire"]]
    return plan


def rotation_seeds(created, plan, seeds):
    """The entries that record the rotations the plan started: the new device's seed, the old one kept as previous."""
    if not isinstance(seeds, dict):
        raise AnsibleFilterError("rotation_seeds needs the stored seeds of the users being rotated (return_seeds of the seed store)")
    new = enrollment_seeds(created, {"create": plan.get("start", []), "recreate": plan.get("recreate", [])})
    entries = {}
    for user_name, entry in new.items():
        current = seeds.get(user_name)
        if not current:
            raise AnsibleFilterError(f"the seed store holds no seed for {user_name}, whose device is being rotated: run again")
        previous = {key: current[key] for key in ("serial_number", "base32_seed", "created") if current.get(key)}
        entries[user_name] = dict(entry, previous=previous)
    return entries


def rotation_settled(seeds, plan):
    """The entries that close the rotations of the plan: finished ones without previous, abandoned ones back to previous."""
    if not isinstance(seeds, dict) or not isinstance(plan, dict):
        raise AnsibleFilterError("rotation_settled needs the stored seeds (return_seeds of the seed store) and the rotation plan")
    settled = {}
    for user_name in plan.get("finish", []) + plan.get("revert", []):
        entry = seeds.get(user_name)
        if not entry:
            raise AnsibleFilterError(f"the seed store holds no seed for {user_name}, whose rotation is being closed: run again")
        if user_name in plan.get("revert", []):
            settled[user_name] = dict(entry["previous"])
        else:
            settled[user_name] = {key: value for key, value in entry.items() if key != "previous"}
    return settled


def current_seeds(seeds):
    """The entries without the previous device a rotation keeps: what a person's copy (a QR code) needs."""
    if not isinstance(seeds, dict):
        raise AnsibleFilterError("current_seeds needs a dictionary of seed entries by user name")
    return {user_name: {key: value for key, value in entry.items() if key != "previous"} for user_name, entry in seeds.items()}


def enable_devices(seeds, users, rotating=False, at=None):
    """The iam_mfa_enable devices that enable the stored device of each of users with two codes of its stored seed."""
    if not isinstance(seeds, dict) or not isinstance(users, list):
        raise AnsibleFilterError("enable_devices needs the stored seeds (return_seeds of the seed store) and a list of user names")
    moment = time.time() if at is None else at
    devices = []
    for user_name in users:
        entry = seeds.get(user_name)
        if not entry or (rotating and not entry.get("previous")):
            continue
        try:
            codes = totp_pair(entry["base32_seed"], moment)
        except OtpError as e:
            raise AnsibleFilterError(f"the stored seed of {user_name} cannot give codes ({e}): restore the seed store from a backup") from None
        devices.append({"user_name": user_name, "serial_number": entry["serial_number"],
                        "authentication_code_1": codes[0], "authentication_code_2": codes[1]})
    return devices


def malformed_code_pairs(codes):
    """The users of codes (user name -> two codes a person typed) whose value is not two 6-digit codes."""
    if not isinstance(codes, dict):
        raise AnsibleFilterError("malformed_code_pairs needs a dictionary of user names to two codes")
    return [
        user_name for user_name, pair in codes.items()
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (list, tuple)) or len(pair) != 2
        or not all(isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit() for code in pair)
    ]


def removal_plan(info, entries=None, users=None, name_format="{user_name}", path="/"):
    """What removing the MFA devices and stored seeds of ``users`` takes; see DOCUMENTATION."""
    account_users, devices = _checked("removal_plan", info, name_format)
    entries = entries or {}
    by_serial = _serial_index(info)
    plan = {"unknown": [], "users": [], "deactivate": [], "delete": [], "drop": []}
    deleted = set()
    for user_name in dict.fromkeys(users or []):
        entry = entries.get(user_name) or {}
        user = account_users.get(user_name)
        if user is not None and "mfa_devices" not in user:
            raise AnsibleFilterError(f"removal_plan needs the devices of {user_name}: name the users in user_names of mfa.aws.iam_mfa_info")
        # The user's own virtual devices, and the unassigned ones this collection made for them (kept seed, rotation slots).
        name = name_format.format(user_name=user_name)
        candidates = [by_serial.get(entry.get("serial_number")), by_serial.get(entry.get("previous_serial_number")),
                      devices.get((path, name)), devices.get((path, name + ROTATION_SUFFIX))]
        for device in (user or {}).get("mfa_devices", []):
            if device["kind"] == "virtual":
                candidates.append(by_serial.get(device["serial_number"]))
            else:
                plan["deactivate"].append({"user_name": user_name, "serial_number": device["serial_number"], "state": "absent"})
        mine = False
        for device in candidates:
            if device and device.get("user_name") in (None, user_name) and device["serial_number"] not in deleted:
                deleted.add(device["serial_number"])
                plan["delete"].append({"name": device["name"], "path": device["path"], "state": "absent", "force": True})
                mine = True
        if user is None and not entry and not mine:
            plan["unknown"].append(user_name)
            continue
        plan["users"].append(user_name)
        if entry:
            plan["drop"].append(user_name)
    return plan


class FilterModule:

    def filters(self):
        return {
            "enrollment_plan": enrollment_plan,
            "enrollment_seeds": enrollment_seeds,
            "rotation_plan": rotation_plan,
            "rotation_seeds": rotation_seeds,
            "rotation_settled": rotation_settled,
            "current_seeds": current_seeds,
            "malformed_code_pairs": malformed_code_pairs,
            "enable_devices": enable_devices,
            "removal_plan": removal_plan,
        }
