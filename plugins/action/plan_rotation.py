# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_rotation: take the account's lock, read its MFA state and its stored seeds, then return the rotation plan,
or fail with the one-line message that stops the run before any change.

The reads are the actions of mfa.aws.account_lock, mfa.aws.iam_mfa_info, mfa.aws.seed_store and mfa.aws.iam_virtual_mfa_info,
run in this worker (plugin_utils/_plans.py); the decisions are the enrollment filters' (rotation_plan, rotation_stop,
rotation_report, seedless_devices).
"""

from __future__ import annotations

from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_plan
from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_report
from ansible_collections.mfa.aws.plugins.filter.enrollment import rotation_stop
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import DEVICE_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import PLAN_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import PlanAction
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import stop_if


class ActionModule(PlanAction):

    OPTIONS = dict(
        max_age_days=dict(type="float", default=90),
        report_timeout=dict(type="int"),
        **DEVICE_OPTIONS,
        **PLAN_OPTIONS,
    )

    def plan(self, planning, args):
        delivery, users = args["delivery"], args["users"]
        stop_if(planning.lock(args["account_id"]) or rotation_stop(delivery))
        info = planning.account(dict(virtual_devices=True), args["account_id"])
        account_id = info["account_id"]
        store = planning.stores(delivery, account_id)
        entries = store.get("entries", {})
        # A named user whose enabled device of the role has no stored seed gets a new device in its place.
        seedless = planning.seedless(info, entries, args["name_format"], args["path"], args["tags"])
        plan = rotation_plan(info, entries, users=users, max_age_days=args["max_age_days"], name_format=args["name_format"],
                             path=args["path"], tags=args["tags"], run_id=planning.run_id, claim_seconds=args["claim_seconds"],
                             seedless=seedless)
        planning.result.update(plan, account_id=account_id, stored=store.get("stored", {}), entries=entries, seedless=seedless,
                               stores=store.get("stores", {}), settle_stores=settle_stores(delivery, plan),
                               report=rotation_report(plan, account_id, seedless, bool(self._task.check_mode)))
        stop_if(rotation_stop(delivery, plan, account_id, users))


def settle_stores(delivery, plan):
    """The stores whose entries the rotations of plan close: a QR code holds only the current seed, copied already when the
    new seed was stored, unless a rotation goes back to the previous device."""
    return list(delivery) if plan["revert"] else [store for store in delivery if store != "qr_png"]
