"""Benchmark-only callback: how long each task of a play took, from its start to the start of the next (all hosts)."""
from __future__ import annotations

import json
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_times
type: aggregate
short_description: Write the wall time of every task to a JSON file
description:
  - For the mfa.aws benchmarks only. Writes C({"task name": seconds}) (summed over tasks of the same name) to the file.
options:
  path:
    description: The JSON file.
    type: path
    required: true
    env:
      - name: MFA_AWS_TASK_TIMES
"""


class CallbackModule(CallbackBase):
    """Sum the wall time of the tasks by name."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._current = None
        self._started = time.monotonic()
        self._times = {"(start: inventory, loading)": 0.0}

    def _close(self):
        now = time.monotonic()
        key = self._current or "(start: inventory, loading)"
        self._times[key] = self._times.get(key, 0.0) + now - self._started
        self._started = now

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = task.get_name()

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(self.get_option("path"), "w", encoding="utf-8") as handle:
            json.dump(self._times, handle)
