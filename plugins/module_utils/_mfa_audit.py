# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The work of mfa.aws.iam_mfa_info: who in an account has MFA, and which kind, root user included.

Private to this collection: the names here may change in any release.

``audit_account`` reads the credential report (users, MFA at the report's time) and settles every user it returns with
current listings; ``audit_without_report`` reads the users (ListUsers) and the account (sts:GetCallerIdentity) instead.
Both make their independent calls at once, in threads, and return ``audit_result``. Nothing here writes to the account.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_user
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_users

from ansible_collections.mfa.aws.plugins.module_utils._credential_report import ROOT_USER
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import account_id
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import read_credential_report
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import root_mfa_handoff
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import split_root
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import summarize
from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import account_mfa_enabled
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import caller_account
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_device_tags
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_user_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import list_virtual_devices
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_mfa_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import normalize_virtual_device
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import run_concurrently

DEVICE_KEYS = ("serial_number", "kind", "user_name", "enable_date")

ARGUMENT_SPEC = dict(
    user_names=dict(type="list", elements="str", default=[]),
    details=dict(type="bool", default=False),
    device_kinds=dict(type="bool", default=False),
    report_timeout=dict(type="int", default=60),
    credential_report=dict(type="bool", default=True),
    confirm_without_mfa=dict(type="bool", default=False),
    virtual_devices=dict(type="bool", default=False),
    skip_unknown_users=dict(type="bool", default=False),
    concurrency=dict(type="int", default=4),
)
# The options that both audits take as they are.
AUDIT_OPTIONS = ("confirm_without_mfa", "virtual_devices", "skip_unknown_users", "device_kinds", "concurrency")


def user_entry(row):
    """A user of the result, from its credential report row."""
    return {
        "user_name": row["user"],
        "arn": row["arn"],
        "user_creation_time": row["user_creation_time"],
        "password_enabled": row["password_enabled"],
        "mfa_active": row["mfa_active"],
    }


def root_entry(root_row, mfa_active):
    """The root user of the result; ``mfa_active`` is current, the report's row may not be."""
    root = {"user": ROOT_USER, "arn": root_row["arn"], "mfa_active": mfa_active, "password_enabled": root_row["password_enabled"]}
    if not mfa_active:
        root["handoff"] = root_mfa_handoff()
    return root


def set_devices(user, devices):
    """Add the listed devices to a user of the result, whose MFA state they settle."""
    normalized = (normalize_mfa_device(device) for device in devices)
    user["mfa_devices"] = sorted(({key: device.get(key) for key in DEVICE_KEYS} for device in normalized), key=itemgetter("serial_number"))
    user["mfa_active"] = bool(devices)


def devices_or_none(client, user_name):
    """The MFA devices of the user, or None when the account has no user of that name."""
    try:
        return list_user_devices(client, user_name=user_name)
    except AnsibleIAMError as e:
        if error_code(e.exception) == "NoSuchEntity":
            return None
        raise


def user_newer_than_report(client, user_name):
    """A user of the result for a user that AWS created after it generated the credential report."""
    return new_user_entry(get_iam_user(client, user_name, normalize=False))


def new_user_entry(user):
    """A user of the result from a GetUser or ListUsers entry (a user newer than the credential report)."""
    return {
        "user_name": user["UserName"],
        "arn": user["Arn"],
        "user_creation_time": user["CreateDate"].isoformat(),
        "password_enabled": None,
        "mfa_active": False,
    }


def virtual_device_entry(client, device):
    """A virtual device of the result: where it is and whom it is enabled for; the tags of an unassigned one, which say
    which run created it (ListMFADeviceTags: AWS's listing carries no tags)."""
    normalized = normalize_virtual_device(device)
    entry = {key: normalized.get(key) for key in ("serial_number", "path", "name", "user_name", "enable_date")}
    entry["tags"] = None if device.get("User") else list_device_tags(client, serial_number=entry["serial_number"])
    return entry


def enabled_virtual_devices(virtual):
    """{user name: (the user as the listing shows it, [its virtual devices as ListMFADevices shows them])} of a
    ListVirtualMFADevices answer: the devices enabled for IAM users (the root user's, if any, are left out)."""
    enabled = {}
    for device in virtual:
        user = device.get("User") or {}
        if not user.get("UserName") or not device.get("EnableDate") or user.get("Arn", "").endswith(":root"):
            continue
        entry = {"UserName": user["UserName"], "SerialNumber": device["SerialNumber"], "EnableDate": device["EnableDate"]}
        enabled.setdefault(user["UserName"], (user, []))[1].append(entry)
    return enabled


def settle_kinds(client, users, virtual, concurrency=1):
    """Give every user its MFA devices at the least cost: the virtual ones from the account's listing, and the devices of
    the users whose report row has MFA that no virtual device explains (hardware tokens, passkeys) from ListMFADevices."""
    for user_name, (user, devices) in enabled_virtual_devices(virtual).items():
        if user_name not in users:
            users[user_name] = new_user_entry(user)  # created since AWS generated the report
        if "mfa_devices" not in users[user_name]:
            set_devices(users[user_name], devices)
    list_devices(client, users, [name for name, user in users.items() if "mfa_devices" not in user and user["mfa_active"]], concurrency)


def list_devices(client, users, user_names, concurrency=1):
    """List the MFA devices of those users of the result, concurrency at a time; leave out those deleted since AWS generated
    the report."""
    for user_name, devices in user_devices(client, user_names, concurrency).items():
        if devices is None:
            del users[user_name]
        else:
            set_devices(users[user_name], devices)


def user_devices(client, user_names, concurrency):
    """{user name: its MFA devices, or None for a user the account does not have} of those users, concurrency at a time."""
    names = list(user_names)
    outcomes = run_concurrently(lambda _index, name: devices_or_none(client, name), names, concurrency)
    for _name, (_devices, error) in zip(names, outcomes):
        if error is not None:
            raise error
    return {name: devices for name, (devices, _error) in zip(names, outcomes)}


def audit_result(client, account, root_row, root_mfa_active, generated_time, users, unknown=None, virtual=None) -> dict:
    """The module's result, with or without the credential report: the account, its root user, its users sorted by name
    and their summary; unknown_users when unknown is a list, and virtual_mfa_devices when virtual is a listing."""
    user_list = sorted(users.values(), key=itemgetter("user_name"))
    extra = {} if unknown is None else {"unknown_users": unknown}
    if virtual is not None:
        extra["virtual_mfa_devices"] = sorted((virtual_device_entry(client, d) for d in virtual), key=itemgetter("serial_number"))
    return {
        **extra,
        "account_id": account,
        "account_mfa_enabled": root_mfa_active,
        "report_generated_time": generated_time,
        "root": root_entry(root_row, root_mfa_active),
        "users": user_list,
        "summary": summarize(user_list, root_mfa_active),
    }


def audit_account(client, user_names, details, report_timeout, confirm_without_mfa=False, virtual_devices=False, skip_unknown_users=False,
                  device_kinds=False, concurrency=1):
    named = list(dict.fromkeys(user_names))
    need_user_list = details or confirm_without_mfa
    need_virtual = virtual_devices or (device_kinds and not details)
    # AWS takes a moment to generate the credential report: the calls that do not need it are made meanwhile, each in a
    # thread of its own (a boto3 client may be shared by threads), and so are the device listings that do not depend on it.
    with ThreadPoolExecutor(max_workers=4) as pool:
        report = pool.submit(read_credential_report, client, timeout=report_timeout)
        root_mfa = pool.submit(account_mfa_enabled, client)
        listed_users = pool.submit(list_iam_users, client) if need_user_list else None
        listed_virtual = pool.submit(list_virtual_devices, client) if need_virtual else None
        to_list = list(named)
        if confirm_without_mfa and not details and listed_virtual and not listed_virtual.exception() and not listed_users.exception():
            # Whoever no enabled virtual device covers is listed now, without waiting for the report to say who lacks MFA: a
            # user with a hardware token or a passkey costs a call more, and the answer is current for every user. One
            # listing for them and the users named, concurrency at a time.
            covered = enabled_virtual_devices(listed_virtual.result())
            to_list += [user["UserName"] for user in listed_users.result() if user["UserName"] not in covered and user["UserName"] not in named]
        listing_error = None
        try:
            listed_devices = user_devices(client, to_list, concurrency) if to_list else {}
        except AnsibleIAMError as e:
            listed_devices, listing_error = {}, e
    # The errors in the order of the calls made one after the other: the report, the users named, the listings, the summary.
    rows, generated_time = report.result()
    if listing_error is not None:
        raise listing_error
    named_devices = {name: listed_devices[name] for name in named}
    early = {name: devices for name, devices in listed_devices.items() if name not in named_devices}
    new_users = listed_users.result() if listed_users else []
    virtual = listed_virtual.result() if listed_virtual else None
    root_mfa_active = root_mfa.result()

    root_row, user_rows = split_root(rows)
    account = account_id(root_row)
    users = {row["user"]: user_entry(row) for row in user_rows}
    unknown = []

    for user_name in named:
        devices = named_devices[user_name]
        if devices is None and skip_unknown_users:
            unknown.append(user_name)
            users.pop(user_name, None)  # deleted since AWS generated the report
            continue
        if devices is None:
            raise AnsibleIAMError(message=f"no IAM user named {user_name} in account {account}: check user_names")
        if user_name not in users:
            users[user_name] = user_newer_than_report(client, user_name)
        set_devices(users[user_name], devices)

    if need_user_list:
        # The report can be four hours old: users created since then are only in ListUsers.
        for user in new_users:
            if user["UserName"] not in users:
                users[user["UserName"]] = new_user_entry(user)
        for user_name, devices in early.items():
            if user_name not in users or "mfa_devices" in users[user_name]:
                continue
            if devices is None:
                del users[user_name]  # deleted since ListUsers
            else:
                set_devices(users[user_name], devices)
        list_devices(client, users, [name for name, user in users.items() if "mfa_devices" not in user and (details or not user["mfa_active"])],
                     concurrency)

    if device_kinds and not details:
        settle_kinds(client, users, virtual, concurrency)

    return audit_result(client, account, root_row, root_mfa_active, generated_time, users, unknown if skip_unknown_users else None,
                        virtual if virtual_devices else None)


def audit_without_report(client, sts, user_names, details, confirm_without_mfa=False, virtual_devices=False, skip_unknown_users=False,
                         device_kinds=False, concurrency=1):
    """audit_account() without the credential report: every user's MFA from the listings, current; the account id from
    sts:GetCallerIdentity. The users are every user of the account, or only those named (without details or
    confirm_without_mfa)."""
    named = list(dict.fromkeys(user_names))
    with ThreadPoolExecutor(max_workers=4) as pool:
        identity = pool.submit(caller_account, sts)
        root_mfa = pool.submit(account_mfa_enabled, client)
        listed_users = pool.submit(list_iam_users, client)
        listed_virtual = pool.submit(list_virtual_devices, client) if virtual_devices or device_kinds else None
        every_user = details or confirm_without_mfa or not named
        users = {user["UserName"]: new_user_entry(user) for user in listed_users.result()
                 if every_user or user["UserName"] in named}
        virtual = listed_virtual.result() if listed_virtual else None
        if virtual is not None and not details:
            for user_name, (_user, devices) in enabled_virtual_devices(virtual).items():
                if user_name in users:
                    set_devices(users[user_name], devices)
        # A named user that ListUsers did not show (created since) is listed all the same.
        to_list = [name for name in users if "mfa_devices" not in users[name]] + [name for name in named if name not in users]
        listed_devices = user_devices(client, to_list, concurrency) if to_list else {}
    account, partition = identity.result()
    unknown = []
    for user_name, devices in listed_devices.items():
        if devices is None:
            if user_name in named and not skip_unknown_users:
                raise AnsibleIAMError(message=f"no IAM user named {user_name} in account {account}: check user_names")
            if user_name in named:
                unknown.append(user_name)
            users.pop(user_name, None)  # deleted since ListUsers
            continue
        if user_name not in users:
            users[user_name] = user_newer_than_report(client, user_name)
        set_devices(users[user_name], devices)
    root_row = {"arn": f"arn:{partition}:iam::{account}:root", "password_enabled": None}
    return audit_result(client, account, root_row, root_mfa.result(), None, users, unknown if skip_unknown_users else None,
                        virtual if virtual_devices else None)
