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
  - For the mfa.aws benchmarks only. Writes a JSON object to the file, with the tasks' times summed by name (C(tasks)) and by
    the step of the enrollment each task belongs to, from the file it is in (C(phases)).
options:
  path:
    description: The JSON file.
    type: path
    required: true
    env:
      - name: MFA_AWS_TASK_TIMES
"""


# The step of an enrollment each task file belongs to; the task of the seed stores' file (store.yml) belongs to the step
# of the file that imports it.
PHASES = (
    ("roles/account_session/", "account session (sts:AssumeRole)"),
    ("roles/enroll/tasks/lock.yml", "take the account's lock"),
    ("roles/enroll/tasks/seedless.yml", "take the lock, read state and plan"),
    ("roles/enroll/tasks/plan.yml", "take the lock, read state and plan"),
    ("roles/enroll/tasks/create.yml", "create devices"),
    ("roles/enroll/tasks/deliver", "deliver seeds (store, read back)"),
    ("roles/enroll/tasks/enable.yml", "enable devices"),
    ("roles/enroll/tasks/report.yml", "report"),
    ("roles/enroll/tasks/unlock.yml", "let go of the account's lock"),
    ("playbooks/", "report"),
)
STORE_FILES = "roles/enroll/tasks/store"


def phase_of(task, previous):
    """The step of the task, from the file it is defined in; the previous task's for a seed store's task."""
    if task.action.endswith("validate_argument_spec"):
        return "role argument validation"
    path = (task.get_path() or "").replace("\\", "/")
    if STORE_FILES in path:
        path = _importer_path(task) or ""
        if STORE_FILES in path or not path:
            return previous or "(other)"
    for fragment, phase in PHASES:
        if fragment in path:
            return phase
    return previous or "(other)"


def _importer_path(task):
    """The file of the nearest task that imports the task's file (import_tasks), or None."""
    parent = getattr(task, "_parent", None)
    while parent is not None:
        if hasattr(parent, "action") and STORE_FILES not in ((parent.get_path() or "").replace("\\", "/")):
            return (parent.get_path() or "").replace("\\", "/")
        parent = getattr(parent, "_parent", None)
    return None


class CallbackModule(CallbackBase):
    """Sum the wall time of the tasks by name."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._current = None
        self._phase = None
        self._started = time.monotonic()
        self._times = {"(start: inventory, loading)": 0.0}
        self._phases = {}

    def _close(self):
        now = time.monotonic()
        key = self._current or "(start: inventory, loading)"
        self._times[key] = self._times.get(key, 0.0) + now - self._started
        phase = self._phase or "(start: inventory, loading)"
        self._phases[phase] = self._phases.get(phase, 0.0) + now - self._started
        self._started = now

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = task.get_name()
        self._phase = phase_of(task, self._phase)

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(self.get_option("path"), "w", encoding="utf-8") as handle:
            json.dump({"tasks": self._times, "phases": self._phases}, handle)
