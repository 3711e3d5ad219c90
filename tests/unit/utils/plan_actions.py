# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the unit tests of the plan actions share: the actions a plan reads with, answered without AWS, and one run of a
plan action with the arguments of a task."""

from __future__ import annotations

from unittest.mock import MagicMock

from ansible_collections.mfa.aws.tests.unit.utils.constants import ACCOUNT

# The connection options of amazon.aws that a plan's task gets; they go on to every read.
CONNECTION = {"access_key": "AKIAEXAMPLE", "secret_key": "example-secret", "session_token": "example-token"}
# The defaults of the store options (doc fragment mfa.aws._seed_stores), which a plan passes on to mfa.aws.seed_store.
STORE_DEFAULTS = {"issuer": "AWS", "secret_prefix": "mfa-seeds", "store_credentials": {}}


class Reads:
    """The actions the plan reads with: each call is recorded, and answered from answers (by action name, after mfa.aws.),
    by default from DEFAULTS."""

    DEFAULTS: dict = {}

    def __init__(self, **answers):
        self.calls = []
        self.answers = {f"mfa.aws.{name}": answer for name, answer in dict(self.DEFAULTS, **answers).items()}

    def get(self, name, task, **_kwargs):
        action = MagicMock()

        def run(task_vars=None):
            self.calls.append((name, dict(task.args)))
            return dict(self.answers[name])

        action.run = run
        return action

    def names(self):
        return [name for name, _args in self.calls]


def run_plan(module, reads, args, check_mode=False, diff=False):
    """The result of the plan action of module (its plugin module) run with the task's args, reading through reads."""
    task = MagicMock()
    task.args = args
    task.async_val, task.check_mode, task.diff, task.action = 0, check_mode, diff, f"mfa.aws.{module.__name__.rsplit('.', 1)[-1]}"
    task.copy.side_effect = lambda **_kwargs: MagicMock(args=None, action=None)
    loader_obj = MagicMock()
    loader_obj.action_loader = reads
    plugin = module.ActionModule(task, MagicMock(), MagicMock(), MagicMock(), MagicMock(), loader_obj)
    # ansible-core 2.19 and later ignore the shared loader object given and use ansible.plugins.loader.
    plugin._shared_loader_obj = loader_obj
    return plugin.run(task_vars={})


def vault_file_args(**args):
    """The arguments of a plan task of ACCOUNT with the vault file as the only store."""
    return dict({"account_id": ACCOUNT, "delivery": ["vault_file"], "vault_file": f"/seeds/{ACCOUNT}.yml"}, **args)
