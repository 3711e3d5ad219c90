# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side work of mfa.aws.account_lock: one run at a time works on an account's MFA seeds."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.plugin_utils import _account_lock


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "account_id", "state", "timeout", "stale_after", "purpose"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(
            argument_spec=dict(
                path=dict(type="path", required=True),
                account_id=dict(type="str", required=True),
                state=dict(type="str", default="present", choices=["present", "absent"]),
                timeout=dict(type="int", default=300),
                stale_after=dict(type="int", default=_account_lock.DEFAULT_STALE_AFTER),
                purpose=dict(type="str", default=""),
            ),
        )[1]
        account, path = args["account_id"], args["path"]
        problem = account_id_problem(account, "the AWS account the lock is for")
        if problem:
            raise AnsibleActionFail(problem)
        if args["timeout"] < 0 or args["stale_after"] < 60:
            raise AnsibleActionFail("timeout must be 0 or more seconds, and stale_after at least 60 seconds")
        run = _account_lock.this_run()
        # Taking or letting go of the lock changes nothing that the run manages: a second run reports changed=0.
        result.update(changed=False, path=path, account_id=account, run_id=run["run"], waited=0.0, taken_over=None)
        try:
            if args["state"] == "absent":
                result["released"] = False if self._task.check_mode else _account_lock.release(path, run)
            elif self._task.check_mode:
                # Check mode reads and writes nothing of the seed stores: it takes no lock and creates no file.
                result["held"] = False
            else:
                taken = _account_lock.acquire(path, account, run, args["timeout"], args["stale_after"], args["purpose"])
                result.update(held=True, waited=taken["waited"], since=taken["lease"]["since"])
                if taken["taken_over"]:
                    stale = taken["taken_over"]
                    result["taken_over"] = _account_lock.describe(stale)
                    self._display.vvv(f"mfa.aws.account_lock: took over the lock of account {account}, {result['taken_over']}, whose run has ended")
        except _account_lock.LockError as e:
            raise AnsibleActionFail(str(e)) from None
        return result
