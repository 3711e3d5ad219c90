"""Test-only callback: append every task result to a JSON lines file, for the integration suite."""
from __future__ import annotations

import json

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: results_dump
type: aggregate
short_description: Write every task result as a JSON line to a file
description:
  - For the mfa.aws integration tests only. Each line is C({"task", "host", "status", "result"}),
    where C(result) is the registered value of the task, already censored by Ansible for C(no_log).
options:
  path:
    description: The file the results are appended to.
    type: path
    required: true
    env:
      - name: MFA_AWS_TEST_RESULTS
"""


class CallbackModule(CallbackBase):
    """Append task results to the file named by MFA_AWS_TEST_RESULTS."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_dump"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, status, result):
        # TaskResult.result and .host are new in ansible-core 2.19; earlier cores keep them in _result and _host.
        registered = result.result if hasattr(result, "result") else result._result  # pylint: disable=protected-access
        host = result.host if hasattr(result, "host") else result._host  # pylint: disable=protected-access
        line = {"task": result.task_name, "host": host.get_name(), "status": status, "result": registered}
        with open(self.get_option("path"), "a", encoding="utf-8") as results:
            results.write(json.dumps(line, cls=AnsibleJSONEncoder) + "\n")

    def v2_runner_on_ok(self, result):
        self._write("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write("failed", result)

    def v2_runner_on_skipped(self, result):
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._write("unreachable", result)
