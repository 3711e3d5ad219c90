# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rules of an MFA seed entry, the same for every seed store of the collection.

Private to this collection: the names here may change in any release.

A seed entry is one IAM user's ``{serial_number, base32_seed[, created][, previous]}``, where
``previous`` is an entry of the same shape (without a previous of its own) for the device a
rotation is replacing.  mfa.aws.seed_secret keeps entries in Secrets Manager and Parameter Store,
mfa.aws.seed_vault_file in an ansible-vault encrypted file; mfa.aws.seed_qr_code checks user
names and account ids, and names devices, by the same rules.

There are two checks, and the difference between them is deliberate:

* ``entry_problem()`` checks an entry a task gives (the ``seeds`` option): known keys only, a
  serial number IAM could have issued, a base32 seed, a text ``created``;
* ``is_entry()`` accepts an entry read back from a store: the strings ``serial_number`` and
  ``base32_seed``, a text ``created`` if any, and, once, a previous entry.  Keys this version does
  not know are tolerated, and dropped (``plain_entry()``) when the entry is written again.

No message built here quotes a seed or any value of an entry.  Nothing here calls AWS.
"""

from __future__ import annotations

import re

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import serial_number_problem

ENTRY_KEYS = ("serial_number", "base32_seed")
ENTRY_FIELDS = ENTRY_KEYS + ("created",)

_BASE32_SEED = re.compile(r"[A-Za-z2-7]{16,}=*")


# --- entries ---------------------------------------------------------------------------------


def has_device_keys(value) -> bool:
    """Whether value is a dictionary with the non-empty strings serial_number and base32_seed."""
    return isinstance(value, dict) and all(isinstance(value.get(key), str) and value[key] for key in ENTRY_KEYS)


def entry_problem(entry, nested: bool = True) -> str | None:
    """The problem with an entry a task gives, without quoting any of its values; None when there is none.

    The problem reads after the entry's name, as in ``seeds.alice must have the string base32_seed``.
    """
    known = ENTRY_FIELDS + (("previous",) if nested else ())
    if not isinstance(entry, dict):
        return "must be a dictionary with the strings serial_number and base32_seed"
    unknown = sorted(str(key) for key in entry if key not in known)
    if unknown:
        return f"has unknown keys {', '.join(unknown)}: an entry has only {', '.join(known)}"
    for key in ENTRY_KEYS:
        if not isinstance(entry.get(key), str) or not entry[key]:
            return f"must have the string {key}"
    problem = serial_number_problem(entry["serial_number"])
    if problem:
        return problem
    if not _BASE32_SEED.fullmatch(entry["base32_seed"]):
        return "base32_seed must be a base32 seed: at least 16 letters and digits 2-7, with optional = padding"
    if entry.get("created") is not None and not isinstance(entry["created"], str):
        return "created must be a string, such as 2024-06-01T09:30:00+00:00"
    if nested and entry.get("previous"):
        problem = entry_problem(entry["previous"], nested=False)
        if problem:
            return f"previous {problem}"
    return None


def is_entry(value, nested: bool = True) -> bool:
    """Whether a stored value is a seed entry: the strings serial_number and base32_seed, and, once, a previous entry."""
    if not has_device_keys(value):
        return False
    if value.get("created") is not None and not isinstance(value["created"], str):
        return False
    return not value.get("previous") or (nested and is_entry(value["previous"], nested=False))


def plain_entry(entry: dict, nested: bool = True) -> dict:
    """The entry with its known keys only, as plain strings, without empty values.

    str.__str__ drops what Ansible makes of strings (the data tags of ansible-core 2.19, the unsafe str subclass of 2.16 to
    2.18, whose str() is itself), which YAML dumpers cannot write.
    """
    plain = {str(key): str.__str__(str(entry[key])) for key in ENTRY_FIELDS if entry.get(key)}
    if nested and entry.get("previous"):
        plain["previous"] = plain_entry(entry["previous"], nested=False)
    return plain


def same_device(current: dict | None, entry: dict) -> bool:
    """Whether current (a stored entry, or None) is of the same device as entry: same serial number and seed."""
    return bool(current) and all(current.get(key) == entry[key] for key in ENTRY_KEYS)


def merged_entry(current: dict | None, given: dict, now: str) -> dict:
    """The entry to store for a user: given, with its created time kept from the stored entry of the same device, else now.

    A created time that is given wins; so does the previous entry's.
    """
    created = current.get("created") if same_device(current, given) else None
    merged = dict(given, created=given.get("created") or created or now)
    if given.get("previous"):
        stored_previous = (current or {}).get("previous")
        kept = stored_previous.get("created") if same_device(stored_previous, given["previous"]) else None
        merged["previous"] = dict(given["previous"], created=given["previous"].get("created") or kept or now)
    return merged


def public_entry(entry: dict) -> dict:
    """What may be shown of an entry (diff, entries): which device the seed belongs to, never the seed."""
    return {
        "serial_number": entry.get("serial_number"),
        "created": entry.get("created"),
        "previous_serial_number": (entry.get("previous") or {}).get("serial_number"),
    }


def public_entries(entries: dict) -> dict:
    """public_entry() of each user's entry, by user name in order."""
    return {user_name: public_entry(entry) for user_name, entry in sorted(entries.items())}
