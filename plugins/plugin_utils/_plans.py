# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the plan actions of the enroll role share (mfa.aws.plan_enrollment, mfa.aws.plan_rotation, mfa.aws.plan_removal).

Each takes the account's lock, reads the account's MFA state and the seeds its stores hold through the actions of their
modules (plugin_utils/_actions.py), decides with the enrollment filters, and returns the plan as its result or fails with
the one line that stops the run before any change: one task instead of one per read, since a task costs every host of a
fleet a worker process.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase

from ansible_collections.mfa.aws.plugins.filter.enrollment import CLAIM_SECONDS
from ansible_collections.mfa.aws.plugins.filter.enrollment import other_account
from ansible_collections.mfa.aws.plugins.filter.enrollment import seedless_devices
from ansible_collections.mfa.aws.plugins.plugin_utils._account_lock import DEFAULT_STALE_AFTER
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import CONNECTION_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import STORE_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import given
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import own_arguments
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import preload
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import run_action

# The options of every plan action: the stores' (STORE_OPTIONS), where the seeds go, the account and its users, the account's
# lock, the run's claim on the devices it creates, and the devices' names and IAM path (doc fragments mfa.aws._plans and
# mfa.aws._seed_stores).
PLAN_OPTIONS = dict(
    STORE_OPTIONS,
    delivery=dict(type="list", elements="str", default=[]),
    account_id=dict(type="str", required=True),
    users=dict(type="list", elements="str", default=[]),
    name_format=dict(type="str", default="{user_name}"),
    lock=dict(type="dict", options=dict(
        path=dict(type="path", required=True),
        timeout=dict(type="int", default=300),
        stale_after=dict(type="int", default=DEFAULT_STALE_AFTER),
        purpose=dict(type="str", default=""),
    )),
    run_id=dict(type="str"),
    claim_seconds=dict(type="int", default=CLAIM_SECONDS),
    path=dict(type="str", default="/"),
)

# The option of the plans that create devices, plan_enrollment and plan_rotation (doc fragment mfa.aws._plans.DEVICES).
DEVICE_OPTIONS = dict(
    tags=dict(type="dict", default={}),
)

# The actions a plan reads with, imported in the controller before the workers fork (plugin_utils/_actions.py preload).
READS = ("mfa.aws.account_lock", "mfa.aws.iam_mfa_info", "mfa.aws.seed_store", "mfa.aws.iam_virtual_mfa_info")
preload(READS)


class Stop(Exception):
    """The line that stops the run before any change (its message), and what the result holds so far (returned)."""

    def __init__(self, message, **returned):
        super().__init__(message)
        self.returned = returned


class Planning:
    """One run of a plan action: its reads (with the connection options of its task), their warnings, and its result."""

    def __init__(self, action, args, connection, result, task_vars):
        self.action, self.args, self.connection, self.result, self.task_vars = action, args, connection, result, task_vars
        self.warnings = []
        self.run_id = args["run_id"]

    def read(self, name, arguments):
        """The answer of the action of module name, run with the task's connection options; its warnings become the task's."""
        answer = run_action(self.action, name, dict(self.connection, **arguments), self.task_vars)
        self.warnings.extend(answer.get("warnings", []))
        return answer

    def done(self, **returned):
        self.result.update(returned)
        if self.warnings:
            self.result["warnings"] = self.warnings
        return self.result

    def stop(self, message, **returned):
        """The result that stops the run with message, before any change."""
        return self.done(failed=True, msg=message, **returned)

    def lock(self, account_id):
        """Take the account's lock (the lock option); the message that stops the run when it cannot be taken, else None.

        From then on no other run reads or writes the account's seeds; the lock is in every result, failed or not, so that
        the role lets go of it. The lock's run names the run (run_id).
        """
        if not self.args["lock"]:
            return None
        lock = run_action(self.action, "mfa.aws.account_lock", dict(self.args["lock"], account_id=account_id), self.task_vars)
        if lock.get("failed"):
            return lock["msg"]
        self.result["lock"] = {name: lock[name] for name in ("held", "run_id", "path") if name in lock}
        self.run_id = lock["run_id"]
        return None

    def stores(self, delivery, account_id):
        """The answer of mfa.aws.seed_store reading every store of delivery, each checked writable, with the store options.

        Every store is read, and checked writable, before anything changes: a store that cannot be written (no vault
        secret, a KMS key that does not exist, missing permissions) stops the run (Stop) with the stores read.
        """
        options = {name: self.args[name] for name in STORE_OPTIONS}
        store = self.read("mfa.aws.seed_store", given(dict(stores=delivery, check_writable=True, account_id=account_id), **options))
        if store.get("failed"):
            raise Stop(store["msg"], stores=store.get("stores", {}))
        return store

    def account(self, reading, account_id):
        """mfa.aws.iam_mfa_info's answer for reading (with the task's report_timeout); Stop when it fails, or when the
        credentials reach another account than account_id."""
        info = self.read("mfa.aws.iam_mfa_info", given(reading, report_timeout=self.args.get("report_timeout")))
        if info.get("failed"):
            raise Stop(str(info.get("msg") or "the MFA state of the account could not be read"))
        stop_if(other_account(info, account_id))
        return info

    def seedless(self, info, entries, name_format, path, managed_tags):
        """The enabled devices of the role (named as it names them, tagged as it tags them) whose seed no store holds.

        AWS never returns a seed again, so only a new device replaces them. The candidates are normally none: their tags are
        read only when there are some, to tell the devices the role created (mfa.aws/run, or managed_tags) from a device
        someone named so in the console. Stops the run (Stop) when the tags cannot be read.
        """
        candidates = seedless_devices(info, entries, name_format=name_format, path=path)
        if not candidates:
            return []
        tags = self.read("mfa.aws.iam_virtual_mfa_info", dict(serial_numbers=[device["serial_number"] for device in candidates]))
        if tags.get("failed"):
            raise Stop(str(tags.get("msg") or "the tags of the virtual MFA devices could not be read"))
        return seedless_devices(tags, entries, name_format=name_format, path=path, tagged=True, managed_tags=managed_tags)


class PlanAction(ActionBase):
    """An action that plans a run of the role: it reads the account and its stores, decides, and returns the plan or the
    one line that stops the run before any change. Subclasses name their options in OPTIONS (the connection options of
    amazon.aws are every one's) and implement plan(planning, args), args being the options validated."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    OPTIONS: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._VALID_ARGS = frozenset(cls.OPTIONS) | CONNECTION_OPTIONS

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args, connection = own_arguments(self, self.OPTIONS)
        result["changed"] = False
        planning = Planning(self, args, connection, result, task_vars or {})
        try:
            self.plan(planning, args)
        except Stop as e:
            return planning.stop(str(e), **e.returned)
        except AnsibleFilterError as e:
            return planning.stop(str(e.message))
        return planning.done()

    def plan(self, planning, args):
        """Read, decide and put the plan in planning.result; raise Stop with the line that stops the run."""
        raise NotImplementedError


def stop_if(message):
    """Stop the run with message, when there is one."""
    if message:
        raise Stop(message)
