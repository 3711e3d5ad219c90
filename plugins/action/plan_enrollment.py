# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.plan_enrollment: the enrollment plan of an account, or the one-line message that stops the run before any change."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase

from ansible_collections.mfa.aws.plugins.filter.enrollment import CLAIM_SECONDS
from ansible_collections.mfa.aws.plugins.filter.enrollment import SEED_STORES
from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_plan
from ansible_collections.mfa.aws.plugins.filter.enrollment import enrollment_stop


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("info", "stored", "delivery", "account_id", "users", "name_format", "path", "tags", "codes", "run_id", "claim_seconds"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(
            argument_spec=dict(
                info=dict(type="dict", required=True),
                stored=dict(type="dict", default={}),
                delivery=dict(type="list", elements="str", default=[]),
                account_id=dict(type="str", required=True),
                users=dict(type="list", elements="str", default=[]),
                name_format=dict(type="str", default="{user_name}"),
                path=dict(type="str", default="/"),
                tags=dict(type="dict", default={}),
                codes=dict(type="dict", default={}, no_log=True),
                run_id=dict(type="str"),
                claim_seconds=dict(type="int", default=CLAIM_SECONDS),
            ),
        )[1]
        info, delivery, codes = args["info"], args["delivery"], args["codes"]
        stop = enrollment_stop(info, None, args["account_id"], delivery, codes)
        if stop is None:
            # Typed codes enable only the devices of the people who typed them; with a seed store the run computes the codes.
            typed = None if any(store in delivery for store in SEED_STORES) else codes
            try:
                plan = enrollment_plan(info, args["stored"], users=args["users"], name_format=args["name_format"], path=args["path"],
                                       tags=args["tags"], typed_codes=typed, run_id=args["run_id"], claim_seconds=args["claim_seconds"])
            except AnsibleFilterError as e:
                result.update(failed=True, msg=str(e.message))
                return result
            stop = enrollment_stop(info, plan, args["account_id"], delivery, codes)
            result.update(plan)
        if stop:
            result.update(failed=True, msg=stop)
        result["changed"] = False
        return result
