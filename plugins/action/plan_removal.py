# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_removal: take the account's lock, read the MFA devices of the users to remove and the account's stored seeds,
then return the removal plan, or fail with the one-line message that stops the run before any change.

The reads are the actions of mfa.aws.account_lock, mfa.aws.iam_mfa_info and mfa.aws.seed_store, run in this worker
(plugin_utils/_plans.py); the decisions are the enrollment filters' (removal_plan, removal_stop, removal_report).
"""

from __future__ import annotations

from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_plan
from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_report
from ansible_collections.mfa.aws.plugins.filter.enrollment import removal_stop
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import PLAN_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import PlanAction
from ansible_collections.mfa.aws.plugins.plugin_utils._plans import stop_if


class ActionModule(PlanAction):

    OPTIONS = dict(
        report_timeout=dict(type="int"),
        **PLAN_OPTIONS,
    )

    def plan(self, planning, args):
        delivery, users = args["delivery"], args["users"]
        stop_if(planning.lock(args["account_id"]) or removal_stop(users, delivery))
        # A user whose IAM user is deleted already still has stored seeds and leftover devices to remove.
        info = planning.account(dict(user_names=users, skip_unknown_users=True, virtual_devices=True), args["account_id"])
        account_id = info["account_id"]
        # A seed is dropped only once its device is gone.
        store = planning.stores(delivery, account_id)
        entries = store.get("entries", {})
        plan = removal_plan(info, entries, users=users, name_format=args["name_format"], path=args["path"], run_id=planning.run_id,
                            claim_seconds=args["claim_seconds"])
        planning.result.update(plan, account_id=account_id, stored=store.get("stored", {}), entries=entries, stores=store.get("stores", {}),
                               report=removal_report(plan, account_id, bool(self._task.check_mode)))
        stop_if(removal_stop(users, delivery, plan, account_id))
