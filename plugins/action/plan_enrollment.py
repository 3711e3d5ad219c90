# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_enrollment: read an account's MFA state and its stored seeds, then return the enrollment plan, or fail with
the one-line message that stops the run before any change.

The reads are the actions of mfa.aws.iam_mfa_info, mfa.aws.seed_store and mfa.aws.iam_virtual_mfa_info, run in this worker
with the arguments their tasks would get (plugin_utils/_actions.py): one task instead of four, since a task costs every host
of a fleet a worker process. The decisions are the enrollment filters' (enrollment_stop, enrollment_plan, seedless_devices).
"""

from __future__ import annotations

from ansible_collections.mfa.aws.plugins.filter.enrollment import SEED_STORES
from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_plan
from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_stop
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import virtual_serial_suffix
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import ParameterStore
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import SecretsManagerStore
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import DEVICE_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import PLAN_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import PlanAction
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import stop_if


class ActionModule(PlanAction):

    OPTIONS = dict(
        codes=dict(type="dict", default={}, no_log=True),
        **DEVICE_OPTIONS,
        **PLAN_OPTIONS,
    )

    def plan(self, planning, args):
        result = planning.result
        delivery, codes, account_id = args["delivery"], args["codes"], args["account_id"]
        if not delivery:
            stop_if(enrollment_stop({}, None, account_id, delivery, codes))
        stop_if(planning.lock(account_id))
        users = args["users"]
        # No credential report: the listings say who has MFA, current, and the plan does not wait for AWS to generate it.
        info = planning.read("mfa.aws.iam_mfa_info", dict(user_names=users, confirm_without_mfa=not users, virtual_devices=True,
                                                          credential_report=False))
        stop_if(enrollment_stop(info, None, account_id, delivery, codes))
        # Every store is read, and checked writable, before any device is created.
        store = planning.stores(delivery, info["account_id"])
        stored, entries = store.get("stored", {}), store.get("entries", {})
        seedless = planning.seedless(info, entries, args["name_format"], args["path"], args["tags"])
        # Typed codes enable only the devices of the people who typed them; with a seed store the run computes the codes.
        typed = None if any(named in delivery for named in SEED_STORES) else codes
        plan = enrollment_plan(info, stored, users=users, name_format=args["name_format"], path=args["path"], tags=args["tags"],
                               typed_codes=typed, run_id=planning.run_id, claim_seconds=args["claim_seconds"])
        result.update(plan, account_id=info["account_id"], stored=stored, entries=entries, seedless=seedless, stores=store.get("stores", {}))
        result["report"] = _report(result, delivery, args["vault_file"], bool(self._task.check_mode))
        if self._task.diff:
            # Ansible shows the diff of a changed task only: in diff mode the plan counts as changed when the run changes
            # something, so that --check --diff shows it.
            result["diff"] = _diff(result, delivery, args)
            result["changed"] = bool(plan["new_users"] or plan["reuse"])
        stop_if(enrollment_stop(info, plan, account_id, delivery, codes))


def _seed_places(delivery, account_id, args, user_name):
    """Where the seed of a user's new device goes, store by store, as the stores name it (never the seed)."""
    prefix = args["secret_prefix"] or "mfa-seeds"
    places = {
        "vault_file": f"vault file {args['vault_file']}",
        "secretsmanager": SecretsManagerStore(None, prefix, account_id).label(user_name),
        "ssm": ParameterStore(None, prefix, account_id).label(user_name),
        "qr_png": f"QR code in {args['qr_dir']}",
    }
    return [places[store] for store in delivery if store in places]


def _diff(plan, delivery, args):
    """The plan as --diff shows it: each user's MFA before, and the device and the seed's stores after (no seed, no code).
    A user whose MFA the run leaves alone has the same line on both sides."""
    account_id = plan["account_id"]
    lines = {user_name: ("MFA\n", "MFA\n") for user_name in plan["compliant"]}
    planned = [(entry, "a new virtual MFA device") for entry in plan["create"]]
    planned += [(entry, "a new virtual MFA device, in place of the unassigned one whose seed is lost") for entry in plan["recreate"]]
    planned += [(entry, "the unassigned device whose seed is stored") for entry in plan["reuse"]]
    for entry, what in planned:
        user_name = entry["user_name"]
        serial = entry.get("serial_number") if "name" not in entry else f"arn:aws:iam::{account_id}{virtual_serial_suffix(entry['path'], entry['name'])}"
        places = ", ".join(_seed_places(delivery, account_id, args, user_name))
        enabled = "enabled" if user_name in plan["ready_users"] else "waiting for the two codes the person types"
        lines[user_name] = ("no MFA\n", f"{what} {serial}, {enabled}; seed stored in {places}\n")
    header = f"IAM users of account {account_id}"
    return {"before_header": header, "after_header": header,
            "before": "".join(f"{user_name}: {lines[user_name][0]}" for user_name in sorted(lines)),
            "after": "".join(f"{user_name}: {lines[user_name][1]}" for user_name in sorted(lines))}


def _report(plan, delivery, vault_file, check_mode):
    """What the run has done for each user once the devices of the plan are enabled (the enroll role's enroll_report)."""
    return dict(
        account_id=plan["account_id"],
        delivery=delivery,
        vault_file=vault_file if "vault_file" in delivery else None,
        enrolled=sorted(plan["ready_users"]),
        awaiting_codes=sorted(plan["awaiting_codes"]),
        created=sorted(plan["new_users"]),
        recreated=sorted(entry["user_name"] for entry in plan["recreate"]),
        reused=sorted(entry["user_name"] for entry in plan["reuse"]),
        compliant=sorted(plan["compliant"]),
        # Enabled devices of this role whose seed no store holds: AWS never returns it again; rotate them.
        seed_not_stored=sorted(device["user_name"] for device in plan["seedless"]),
        check_mode=check_mode,
    )
