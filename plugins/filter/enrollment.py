# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filters that plan the MFA lifecycle of an account's users: enrollment_plan, enrollment_seeds,
rotation_plan, rotation_seeds, removal_plan and seedless_devices (each documented in its own .yml file beside this one),
and the decisions of the plan actions that are no filters: the line that stops a run (enrollment_stop, rotation_stop,
removal_stop) and the report of what a run did (rotation_report, removal_report)."""

from __future__ import annotations

import datetime
import json
import shlex
import time

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa.aws.plugins.plugin_utils import _account_lock
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import OtpError
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import totp_pair

# A rotation creates the new device under the name that the current one does not have, so that old and
# new coexist (AWS allows 8 devices per user) and an interrupted rotation finds its new device again.
ROTATION_SUFFIX = "-2"

# The tags that mark a device the role created: the run that created it and when. An unassigned device whose seed is not
# stored is a leftover to delete, unless another run that may still be working created it: that run stores its seed soon.
RUN_TAG = "mfa.aws/run"
CREATED_TAG = "mfa.aws/created"
# How long a claim of a run on another host is honoured (a run of this host is asked whether it still runs).
CLAIM_SECONDS = 900


def _checked(filter_name, info, name_format):
    """(users by name, virtual devices by (path, name)) of an iam_mfa_info result run with virtual_devices=true."""
    if not isinstance(info, dict) or "users" not in info or "virtual_mfa_devices" not in info:
        raise AnsibleFilterError(f"{filter_name} needs the result of mfa.aws.iam_mfa_info run with virtual_devices=true")
    if "{user_name}" not in name_format:
        raise AnsibleFilterError("name_format must contain {user_name}, so that every user gets a device of their own")
    return {user["user_name"]: user for user in info["users"]}, {(device["path"], device["name"]): device for device in info["virtual_mfa_devices"]}


def claim_tags(run_id, now=None):
    """The tags that mark a device created now by the run run_id ({} without a run id)."""
    if not run_id:
        return {}
    return {RUN_TAG: str(run_id), CREATED_TAG: _now(now).replace(microsecond=0).isoformat()}


def other_claim(device, run_id=None, claim_seconds=CLAIM_SECONDS, now=None):
    """Who else may still be working on the unassigned device (its run and creation time), or None.

    A device's claim is its RUN_TAG and CREATED_TAG, read only for unassigned devices (iam_mfa_info's virtual_mfa_devices[].tags).
    """
    tags = device.get("tags") or {}
    run = tags.get(RUN_TAG)
    if not run or run == run_id or device.get("user_name"):
        return None
    try:
        created = _now(tags[CREATED_TAG]).timestamp()
    except (KeyError, TypeError, ValueError):
        created = 0
    holder = dict(_account_lock.run_of(run), expires=created + claim_seconds)
    if not _account_lock.run_is_alive(holder, _now(now).timestamp()):
        return None
    return {"serial_number": device["serial_number"], "run": run, "created": tags.get(CREATED_TAG)}


def _new_device_tags(tags, run_id, now):
    return dict(tags or {}, **claim_tags(run_id, now))


def _device_changes(deletions, creations, tags):
    """The iam_virtual_mfa devices option that deletes, then creates, the devices of those plan entries."""
    # Exclusive: a device that another run created after the listing this plan comes from is left to that run, whose seed it is.
    return [{"name": entry["name"], "path": entry["path"], "state": "absent"} for entry in deletions] + [
        {"name": entry["name"], "path": entry["path"], "state": "present", "tags": dict(tags or {}), "exclusive": True} for entry in creations
    ]


def enrollment_plan(info, stored=None, users=None, name_format="{user_name}", path="/", tags=None, typed_codes=None, run_id=None,
                    claim_seconds=CLAIM_SECONDS, now=None):
    """What enrolling ``users`` (all users without MFA when empty) takes; see DOCUMENTATION."""
    account_users, devices = _checked("enrollment_plan", info, name_format)
    if typed_codes is not None and not isinstance(typed_codes, dict):
        raise AnsibleFilterError("typed_codes must be a dictionary of user names to the two codes each person typed")
    stored = stored or {}
    enabled_users = {device["user_name"] for device in devices.values() if device.get("user_name")}
    wanted = list(dict.fromkeys(users)) if users else sorted(account_users)

    plan = {"compliant": [], "unknown": [], "conflicts": [], "busy": [], "create": [], "recreate": [], "reuse": []}
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
        elif claim := other_claim(device, run_id, claim_seconds, now):
            plan["busy"].append(dict(claim, user_name=user_name))
        else:
            plan["recreate"].append({"user_name": user_name, "name": name, "path": path, "serial_number": device["serial_number"]})
    plan["iam_virtual_mfa_devices"] = _device_changes(plan["recreate"], plan["recreate"] + plan["create"], _new_device_tags(tags, run_id, now))
    plan["new_users"] = [entry["user_name"] for entry in plan["create"] + plan["recreate"]]
    plan["enable_users"] = plan["new_users"] + [entry["user_name"] for entry in plan["reuse"]]
    plan["ready_users"] = [user_name for user_name in plan["enable_users"] if typed_codes is None or user_name in typed_codes]
    plan["awaiting_codes"] = [user_name for user_name in plan["enable_users"] if user_name not in plan["ready_users"]]
    return plan


# The message that stops a run on a device that another run, which may still be working, created and has not stored yet.
BUSY_MESSAGE = (
    "another run is working on account {account_id}: run {run} created {serial_number} for {user_name} at {created} and has not "
    "stored its seed yet; wait for it to finish or run later (its device is deleted as a leftover once that run has ended)"
)
DELIVERIES = ("vault_file", "secretsmanager", "ssm", "qr_png")
SEED_STORES = ("vault_file", "secretsmanager", "ssm")


def other_account(info, account_id):
    """The line that stops a run whose credentials reach another account than account_id (enroll_account_id); None when they do not."""
    if str(info.get("account_id")) != str(account_id):
        return (f"the credentials in use reach account {info.get('account_id')}, not {account_id} (enroll_account_id): "
                "fix the account id or the credentials")
    return None


def busy_message(account_id, busy):
    """The line that stops a run on busy, a device of a plan's busy list (another run created it and has not stored its seed)."""
    return BUSY_MESSAGE.format(account_id=account_id, run=busy["run"], serial_number=busy["serial_number"], user_name=busy["user_name"],
                               created=busy["created"])


def enrollment_stop(info, plan=None, account_id=None, delivery=None, codes=None):
    """Why an enrollment must stop before any change, as one line that names what to fix; None when it may go on.

    info is the registered result of mfa.aws.iam_mfa_info (failed or skipped included); plan is enrollment_plan's answer,
    needed once info is sound; account_id is the account the run is meant for; codes the codes people typed (enroll_codes).
    """
    if not delivery:
        return ("enroll_delivery is empty: name at least one of " + ", ".join(DELIVERIES)
                + "; a device is enabled only once its seed is delivered")
    if info.get("failed"):
        return str(info.get("msg") or "the MFA state of the account could not be read").replace("check user_names", "check enroll_users")
    message = other_account(info, account_id)
    if message:
        return message
    if plan is None:
        return None
    if plan["unknown"]:
        return f"account {info['account_id']} has no IAM user named {', '.join(plan['unknown'])}: check enroll_users"
    if plan["conflicts"]:
        conflict = plan["conflicts"][0]
        return (f"the device name of {conflict['user_name']} is taken by {conflict['serial_number']}, enabled for {conflict['enabled_for']}: "
                "choose another enroll_device_name or enroll_device_path")
    if plan["busy"]:
        return busy_message(info["account_id"], plan["busy"][0])
    if codes:
        if any(store in delivery for store in SEED_STORES):
            return "enroll_codes is for enroll_delivery [qr_png] alone: with a seed store the run computes the codes itself; drop enroll_codes"
        malformed = malformed_code_pairs(codes)
        if malformed:
            return f"enroll_codes of {', '.join(malformed)} must be a list of the two consecutive 6-digit codes the app shows, each quoted"
        awaiting = {entry["user_name"] for entry in plan["reuse"]}
        early = [user_name for user_name in codes if user_name not in awaiting]
        if early:
            return (f"no device of {', '.join(early)} awaits codes yet: run once without their codes, let them scan their QR codes, "
                    "then give the two codes their app shows")
    return None


def enrollment_summary(report):
    """The line that says what an enroll run did in one account, from the role's enroll_report; see DOCUMENTATION."""
    if not isinstance(report, dict) or "account_id" not in report:
        raise AnsibleFilterError("enrollment_summary needs the enroll_report of the mfa.aws.enroll role")
    enrolled, compliant, lost = report.get("enrolled", []), report.get("compliant", []), report.get("seed_not_stored", [])
    line = (f"{report['account_id']}: {'would enroll' if report.get('check_mode') else 'enrolled'} {len(enrolled)} user(s) {', '.join(enrolled)}; "
            f"{len(compliant)} already had MFA")
    if lost:
        rotate = shlex.quote(json.dumps({"enroll_rotate_users": lost}))
        line += (f"; SEED NOT STORED for the enabled device(s) of {', '.join(lost)} (AWS never returns a seed again): replace them with "
                 f"mfa.aws.rotate -e {rotate}")
    return line


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


def rotation_plan(info, entries=None, users=None, max_age_days=90, name_format="{user_name}", path="/", tags=None, now=None, run_id=None,
                  claim_seconds=CLAIM_SECONDS, seedless=None):
    """What rotating the managed virtual MFA devices of ``users`` takes; see DOCUMENTATION."""
    account_users, devices = _checked("rotation_plan", info, name_format)
    if not isinstance(max_age_days, (int, float)) or isinstance(max_age_days, bool) or max_age_days < 0:
        raise AnsibleFilterError("max_age_days must be a number of days, 0 or more")
    entries = entries or {}
    by_serial = _serial_index(info)
    moment = _now(now)
    wanted = list(dict.fromkeys(users)) if users else sorted(entries)
    # Enabled devices of the role whose seed no store holds: replaced when their user is named, since their seed is lost.
    lost_seeds = {device["user_name"]: device for device in seedless or []}

    plan = {key: [] for key in ("unknown", "unmanaged", "lost", "current", "conflicts", "busy", "start", "recreate", "enable", "retire",
                                "finish", "revert", "replacing")}

    def start(user_name, old, **extra):
        """A new device in the slot the old one does not take; False when that slot is taken."""
        name = rotation_slot(old["name"], name_format, user_name)
        taken = devices.get((path, name))
        entry = dict({"user_name": user_name, "name": name, "path": path, "old_serial_number": old["serial_number"]}, **extra)
        if taken is not None and taken.get("user_name"):
            plan["conflicts"].append({"user_name": user_name, "serial_number": taken["serial_number"], "enabled_for": taken["user_name"]})
            return False
        claim = taken is not None and other_claim(taken, run_id, claim_seconds, moment)
        if claim:
            plan["busy"].append(dict(claim, user_name=user_name))
            return False
        if taken is None:
            plan["start"].append(entry)
        else:
            plan["recreate"].append(dict(entry, serial_number=taken["serial_number"]))
        return True

    def retire(user_name, old):
        plan["retire"].append({"user_name": user_name, "serial_number": old["serial_number"], "name": old["name"], "path": old["path"]})
        plan["finish"].append(user_name)

    for user_name in wanted:
        entry = entries.get(user_name)
        if entry is None:
            if users and user_name in lost_seeds:
                # A seed lost for good: a new device replaces the one nobody can compute codes for.
                if start(user_name, lost_seeds[user_name], lost_seed=True):
                    retire(user_name, lost_seeds[user_name])
                    plan["replacing"].append(user_name)
                continue
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
        if device is not None and device.get("user_name") is None and user_name in lost_seeds:
            # The replacement of a lost seed that an earlier run stored and did not enable yet.
            plan["enable"].append({"user_name": user_name, "serial_number": serial})
            retire(user_name, lost_seeds[user_name])
            plan["replacing"].append(user_name)
            continue
        if device is None or device.get("user_name") != user_name:
            plan["unmanaged"].append(user_name)
            continue
        if _age_days(entry.get("created"), moment) < max_age_days:
            plan["current"].append(user_name)
            continue
        if start(user_name, device):
            retire(user_name, device)
    plan["iam_virtual_mfa_devices"] = _device_changes(plan["recreate"], plan["recreate"] + plan["start"], _new_device_tags(tags, run_id, moment))
    plan["retire_devices"] = [{"name": entry["name"], "path": entry["path"], "state": "absent", "force": True} for entry in plan["retire"]]
    plan["starting"] = [entry["user_name"] for entry in plan["start"] + plan["recreate"]]
    plan["rotating"] = plan["starting"] + plan["finish"] + plan["revert"]
    plan["enable_users"] = plan["starting"] + [entry["user_name"] for entry in plan["enable"]]
    return plan


def rotation_stop(delivery, plan=None, account_id=None, users=None):
    """Why a rotation must stop before any change, as one line that names what to fix; None when it may go on.

    delivery is enroll_delivery; plan is rotation_plan's answer, once the account and its stores are read; users are the users
    named (enroll_rotate_users): a named user whose device is not managed stops the run, one found unmanaged is left alone.
    """
    if not any(store in (delivery or []) for store in SEED_STORES):
        return "rotation needs a seed store the run can read back in enroll_delivery: add vault_file, secretsmanager or ssm"
    if plan is None:
        return None
    if plan["unknown"]:
        return f"account {account_id} has no IAM user named {', '.join(plan['unknown'])}: check enroll_rotate_users"
    if users and plan["unmanaged"]:
        return (f"no stored seed belongs to an enabled device of {', '.join(plan['unmanaged'])}: enroll them with the mfa.aws.enroll role "
                "first, or leave them out of enroll_rotate_users")
    if plan["conflicts"]:
        conflict = plan["conflicts"][0]
        return (f"the device name for {conflict['user_name']} is taken by {conflict['serial_number']}, enabled for {conflict['enabled_for']}: "
                "choose another enroll_device_name or enroll_device_path")
    if plan["busy"]:
        return busy_message(account_id, plan["busy"][0])
    return None


def rotation_report(plan, account_id, seedless=None, check_mode=False):
    """What a rotation has done for each user once its steps are done (the enroll role's enroll_rotation_report); lists sorted."""
    return dict(
        account_id=account_id,
        rotated=sorted(set(plan["enable_users"] + plan["finish"])),
        reverted=sorted(plan["revert"]),
        current=sorted(plan["current"]),
        unmanaged=sorted(plan["unmanaged"]),
        lost=sorted(plan["lost"]),
        replaced_lost_seeds=sorted(plan["replacing"]),
        # Enabled devices of the role whose seed no store holds, and that this run does not replace: AWS never returns a seed again.
        seed_not_stored=sorted(device["user_name"] for device in seedless or [] if device["user_name"] not in plan["replacing"]),
        check_mode=bool(check_mode),
    )


def rotation_seeds(created, plan, seeds):
    """The entries that record the rotations the plan started: the new device's seed, the old one kept as previous."""
    if not isinstance(seeds, dict):
        raise AnsibleFilterError("rotation_seeds needs the stored seeds of the users being rotated (return_seeds of the seed store)")
    starts = plan.get("start", []) + plan.get("recreate", [])
    new = enrollment_seeds(created, {"create": starts})
    lost_seed = {start["user_name"] for start in starts if start.get("lost_seed")}
    entries = {}
    for user_name, entry in new.items():
        if user_name in lost_seed:
            # Nothing to keep of a device whose seed is lost: the new entry stands alone, and its device is enabled next.
            entries[user_name] = entry
            continue
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


def enable_devices(seeds, users, rotating=False, at=None, replacing=None, codes=True):
    """The iam_mfa_enable devices that enable the stored device of each of users with two codes of its stored seed, or, with
    codes false, with the seed itself (the module then computes the codes right before each call).

    With rotating, only the entries of a rotation (those with a previous entry), and those of the users of replacing (whose
    lost seed a new device replaces).
    """
    if not isinstance(seeds, dict) or not isinstance(users, list):
        raise AnsibleFilterError("enable_devices needs the stored seeds (return_seeds of the seed store) and a list of user names")
    moment = time.time() if at is None else at
    devices = []
    for user_name in users:
        entry = seeds.get(user_name)
        if not entry or (rotating and not entry.get("previous") and user_name not in (replacing or [])):
            continue
        try:
            pair = totp_pair(entry["base32_seed"], moment)
        except OtpError as e:
            raise AnsibleFilterError(f"the stored seed of {user_name} cannot give codes ({e}): restore the seed store from a backup") from None
        device = {"user_name": user_name, "serial_number": entry["serial_number"]}
        if codes:
            device.update(authentication_code_1=pair[0], authentication_code_2=pair[1])
        else:
            device["base32_seed"] = entry["base32_seed"]
        devices.append(device)
    return devices


def _stored_serials(entries):
    """The serial numbers of the devices whose seed a store holds (entries without seeds: serial_number, previous_serial_number)."""
    return {entry.get(key) for entry in (entries or {}).values() for key in ("serial_number", "previous_serial_number")} - {None}


def _made_by_the_role(tags, managed_tags):
    tags = tags or {}
    return RUN_TAG in tags or bool(managed_tags) and all(tags.get(key) == str(value) for key, value in managed_tags.items())


def seedless_devices(info, entries=None, name_format="{user_name}", path="/", tagged=None, managed_tags=None):
    """The enabled virtual devices, named as the role names them, whose seed no store holds; see DOCUMENTATION."""
    if not isinstance(info, dict) or not isinstance(info.get("virtual_mfa_devices"), list):
        raise AnsibleFilterError("seedless_devices needs a result with virtual_mfa_devices (mfa.aws.iam_mfa_info with virtual_devices=true, "
                                 "or mfa.aws.iam_virtual_mfa_info)")
    if "{user_name}" not in name_format:
        raise AnsibleFilterError("name_format must contain {user_name}, so that every user gets a device of their own")
    stored = _stored_serials(entries)
    found = []
    for device in info["virtual_mfa_devices"]:
        user_name = device.get("user_name")
        if not user_name or device["serial_number"] in stored or device.get("path") != path:
            continue
        name = name_format.format(user_name=user_name)
        if device.get("name") in (name, name + ROTATION_SUFFIX):
            found.append({key: device[key] for key in ("user_name", "serial_number", "name", "path")})
    if tagged is None or tagged is False:
        return found
    tags = {device["serial_number"]: device.get("tags") for device in (info["virtual_mfa_devices"] if tagged is True else tagged)}
    return [device for device in found if _made_by_the_role(tags.get(device["serial_number"]), managed_tags)]


def malformed_code_pairs(codes):
    """The users of codes (user name -> two codes a person typed) whose value is not two 6-digit codes."""
    if not isinstance(codes, dict):
        raise AnsibleFilterError("malformed_code_pairs needs a dictionary of user names to two codes")
    return [
        user_name for user_name, pair in codes.items()
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (list, tuple)) or len(pair) != 2
        or not all(isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit() for code in pair)
    ]


def removal_plan(info, entries=None, users=None, name_format="{user_name}", path="/", run_id=None, claim_seconds=CLAIM_SECONDS, now=None):
    """What removing the MFA devices and stored seeds of ``users`` takes; see DOCUMENTATION."""
    account_users, devices = _checked("removal_plan", info, name_format)
    entries = entries or {}
    by_serial = _serial_index(info)
    stored_serials = _stored_serials(entries)
    plan = {"unknown": [], "users": [], "busy": [], "deactivate": [], "delete": [], "drop": []}
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
            claim = device and device["serial_number"] not in stored_serials and other_claim(device, run_id, claim_seconds, now)
            if claim:
                plan["busy"].append(dict(claim, user_name=user_name))
                continue
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


def removal_stop(users, delivery, plan=None, account_id=None):
    """Why a removal must stop before any change, as one line that names what to fix; None when it may go on.

    users are the users named (enroll_remove_users), delivery the stores (enroll_delivery); plan is removal_plan's answer, once
    the account and its stores are read.
    """
    if not users:
        return "enroll_remove_users is empty: name the IAM users whose MFA devices and stored seeds to remove"
    if not delivery:
        return "enroll_delivery is empty: name the stores that hold the seeds to drop"
    if plan is None:
        return None
    if plan["unknown"]:
        return f"account {account_id} has no IAM user, stored seed or MFA device for {', '.join(plan['unknown'])}: check enroll_remove_users"
    if plan["busy"]:
        return busy_message(account_id, plan["busy"][0])
    return None


def removal_report(plan, account_id, check_mode=False):
    """What a removal has done once its steps are done (the enroll role's enroll_removal_report)."""
    return dict(
        account_id=account_id,
        users=plan["users"],
        deactivated=[device["serial_number"] for device in plan["deactivate"]],
        deleted=[device["name"] for device in plan["delete"]],
        seeds_dropped=plan["drop"],
        check_mode=bool(check_mode),
    )


class FilterModule:

    def filters(self):
        return {
            "enrollment_plan": enrollment_plan,
            "enrollment_seeds": enrollment_seeds,
            "enrollment_summary": enrollment_summary,
            "rotation_plan": rotation_plan,
            "rotation_seeds": rotation_seeds,
            "rotation_settled": rotation_settled,
            "current_seeds": current_seeds,
            "malformed_code_pairs": malformed_code_pairs,
            "enable_devices": enable_devices,
            "removal_plan": removal_plan,
            "seedless_devices": seedless_devices,
        }
