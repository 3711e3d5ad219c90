# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The work of mfa.aws.seed_secret: seed entries stored in, and deleted from, Secrets Manager or SSM Parameter Store.

Private to this collection: the names here may change in any release.

``ensure_seeds`` reads the entries of the users concerned, plans every write before making one (``plan_changes``), writes,
and reads back what it wrote; ``outcome`` is the module's result, in which only ``seeds`` (when asked for) holds seeds.
"""

from __future__ import annotations

import datetime

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import merged_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import plain_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import public_entries
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import public_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import SERVICES
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import AnsibleSeedStoreError
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import entry_text
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import parse_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import seeds_problem
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import validate_prefix
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import validate_user_name
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import verify_written

NO_LOG_WARNING = "The result holds MFA seeds (return_seeds=true): set no_log: true on this task"

ARGUMENT_SPEC = dict(
    service=dict(type="str", required=True, choices=list(SERVICES)),
    account_id=dict(type="str", required=True),
    prefix=dict(type="str", default="mfa-seeds"),
    seeds=dict(type="dict", default={}, no_log=True),
    remove=dict(type="list", elements="str", default=[]),
    kms_key_id=dict(type="str", no_log=False),
    tags=dict(type="dict"),
    return_seeds=dict(type="bool", default=False),
    users=dict(type="list", elements="str"),
)
# What a run may do to entries, in this order.
ACTIONS = ("delete", "create", "overwrite", "tag")


def now_text() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def options_problem(params: dict) -> str | None:
    """The first problem of the options found without AWS; None when there is none."""
    service = params["service"]
    problem = (
        account_id_problem(params["account_id"], "the AWS account of the users")
        or validate_prefix(params["prefix"], service)
        or seeds_problem(params["seeds"], service)
    )
    if problem:
        return problem
    for option in ("remove", "users"):
        for user_name in params[option] or []:
            problem = validate_user_name(user_name, service)
            if problem:
                return f"{option}: {problem}"
    both = sorted(set(params["seeds"]) & set(params["remove"]))
    if both:
        return f"{', '.join(both)} in both seeds and remove: store a seed or delete it, not both"
    for key, value in (params["tags"] or {}).items():
        if value is None:
            return f"tags.{key} has no value: give it one, or leave the tag out"
    return None


def given_entries(seeds: dict) -> dict:
    """The seeds option as plain entries, empty values left out."""
    return {str(user_name): plain_entry(entry) for user_name, entry in seeds.items()}


def reveal_device_names(module, seeds: dict):
    """Let the serial numbers and created times of the seeds option show in the result: only the seeds are secret.

    Ansible masks every value of a no_log option wherever it appears in a module's result, which
    would hide the serial numbers of RV(stored) and of the diff.  The seeds stay masked.
    """
    entries = list(seeds.values()) + [entry["previous"] for entry in seeds.values() if entry.get("previous")]
    secret = {entry["base32_seed"] for entry in entries}
    public = {entry[key] for entry in entries for key in ("serial_number", "created") if entry.get(key)}
    module.no_log_values.difference_update(public - secret)


def read_entries(store, scope, remove):
    """(records, entries) of the users in scope (all when None).

    entries maps each user with a stored entry to it.  A stored value that is not a seed entry (or an
    SSM parameter that is not a SecureString) fails, unless its user is in remove, which deletes it
    anyway.  A secret scheduled for deletion has a record and no entry.
    """
    records = store.read(scope)
    entries = {}
    for user_name, record in sorted(records.items()):
        if record["deleted"]:
            continue
        if user_name in remove:
            entries[user_name] = parse_entry(record["text"]) or {}
            continue
        if record["type"] not in (None, "SecureString"):
            raise AnsibleSeedStoreError(
                message=f"parameter {record['name']} of {user_name} is a {record['type']} parameter, not a SecureString: "
                "delete it (its value is not encrypted) and store the seed again"
            )
        entry = parse_entry(record["text"])
        if entry is None:
            raise AnsibleSeedStoreError(message=f"the stored entry of {user_name} in {record['name']} is not a seed entry: restore it or delete it")
        entries[user_name] = entry
    return records, entries


def plan_changes(store, records, before, seeds, remove, tags, now):
    """(plan, entries after): what to write, as {action: {user name: entry, tags or None}} for the actions of ACTIONS.

    Reads the tags of existing SSM entries when tags are to be ensured; writes nothing.  Fails,
    before any write, for a user of seeds whose secret is scheduled for deletion.
    """
    plan = {action: {} for action in ACTIONS}
    plan["delete"] = dict.fromkeys(sorted(set(remove) & set(records)))
    after = {user_name: entry for user_name, entry in before.items() if user_name not in remove}
    for user_name, given in sorted(seeds.items()):
        record = records.get(user_name)
        if record is not None and record["deleted"]:
            raise AnsibleSeedStoreError(
                message=f"secret {record['name']} is scheduled for deletion: restore it with RestoreSecret or choose another prefix"
            )
        entry = after[user_name] = merged_entry(before.get(user_name), given, now)
        if record is None:
            plan["create"][user_name] = entry
            continue
        if entry != before[user_name]:
            plan["overwrite"][user_name] = entry
        to_set = compare_aws_tags(store.tags(record), tags, purge_tags=False)[0] if tags else {}
        if to_set:
            plan["tag"][user_name] = stored_tags(to_set)
    return plan, after


def stored_tags(tags: dict | None) -> dict:
    """The tags as AWS stores them: every value as text."""
    return {key: to_text(value) for key, value in (tags or {}).items()}


def ensure_changes(store, check_mode, plan, kms_key_arn, tags):
    """Make the planned changes (none in check mode), then read back every entry written."""
    if check_mode:
        return
    for user_name in plan["delete"]:
        store.delete(user_name)
    for user_name, entry in plan["create"].items():
        store.create(user_name, entry_text(entry), kms_key_arn, stored_tags(tags))
    if plan["overwrite"]:
        store.overwrite({user_name: entry_text(entry) for user_name, entry in plan["overwrite"].items()})
    for user_name, to_set in plan["tag"].items():
        store.tag(user_name, to_set)
    written = dict(plan["create"], **plan["overwrite"])
    if written:
        verify_written(store, written)


def ensure_seeds(store, check_mode, seeds, remove, users, tags, kms_key_arn, now):
    """Store the seeds and delete the entries of the users in remove; returns (changed, entries before, entries after)."""
    scope = None if users is None else set(users) | set(seeds) | set(remove)
    records, before = read_entries(store, scope, remove)
    plan, after = plan_changes(store, records, before, seeds, remove, tags, now)
    ensure_changes(store, check_mode, plan, kms_key_arn, tags)
    for user_name in plan["delete"]:
        # A secret scheduled for deletion holds no entry, but the diff shows that the run deletes it.
        before.setdefault(user_name, {})
    return any(plan.values()), before, after


def outcome(store, changed, before, after, users, return_seeds, diff):
    """The module's result: what is stored for the users shown, the seeds only when asked for, the diff without seeds."""
    shown = sorted(user_name for user_name in after if users is None or user_name in users)
    result = dict(
        changed=changed,
        stored={user_name: after[user_name]["serial_number"] for user_name in shown},
        names={user_name: store.name(user_name) for user_name in shown},
        entries={user_name: public_entry(after[user_name]) for user_name in shown},
    )
    if return_seeds:
        result["seeds"] = {user_name: after[user_name] for user_name in shown}
    if diff:
        header = store.folder + "/"
        result["diff"] = dict(
            before=public_entries(before),
            after=public_entries(after),
            before_header=header,
            after_header=header,
        )
    return result
