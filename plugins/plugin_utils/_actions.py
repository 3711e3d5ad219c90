# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running the actions of this collection's modules from another action plugin, in the same worker process.

A task costs every host of a fleet a worker process, so the role's steps that read or write several things at once
(mfa.aws.seed_store, mfa.aws.plan_enrollment) run the actions of the modules they combine here, with the arguments a task
of each module would get. The connection options of amazon.aws that reach the combining action (through
``module_defaults: {group/mfa.aws.aws: ...}``) go on to the AWS modules it runs.
"""

from __future__ import annotations

from ansible.errors import AnsibleAction
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import action_loader

from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec


# The options of every action that writes ansible-vault encrypted files of seeds (doc fragment mfa.aws._vault_files).
VAULT_FILE_OPTIONS = dict(
    seeds=dict(type="dict", default={}, no_log=True),
    remove=dict(type="list", elements="str", default=[]),
    vault_id=dict(type="str"),
    mode=dict(type="str", default="0600"),
    check_writable=dict(type="bool", default=False),
)


# The options of the seed stores, which mfa.aws.seed_store takes and the plan actions pass on to it as they are (doc
# fragment mfa.aws._seed_stores).
STORE_OPTIONS = dict(
    vault_file=dict(type="path"),
    vault_id=dict(type="str"),
    qr_dir=dict(type="path"),
    issuer=dict(type="str", default="AWS"),
    secret_prefix=dict(type="str", default="mfa-seeds"),
    kms_key_id=dict(type="str", no_log=False),
    secret_tags=dict(type="dict"),
    store_credentials=dict(type="dict", default={}, no_log=True),
)


class SecretsAction(ActionBase):
    """An action plugin that writes seeds to vault-encrypted files on the controller: an unexpected error never shows its
    text.

    Ansible prints an exception's text even for a no_log task, and the text may hold a seed: such an error fails the task
    with its type and DOING (what the action was doing) only. Subclasses name their own options in OPTIONS (those of
    VAULT_FILE_OPTIONS are every one's) and implement _run(result, args), args being the options validated.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    DOING = "handling the seeds"
    OPTIONS: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._VALID_ARGS = frozenset(cls.OPTIONS) | frozenset(VAULT_FILE_OPTIONS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            args = self.validate_argument_spec(argument_spec=dict(self.OPTIONS, **VAULT_FILE_OPTIONS))[1]
            return self._run(result, args)
        except AnsibleActionFail:
            raise
        except Exception as e:  # pylint: disable=broad-exception-caught
            raise AnsibleActionFail(f"unexpected {type(e).__name__} while {self.DOING} (details withheld: they may contain a seed)") from None

    def _run(self, result, args):
        raise NotImplementedError


def connection_option_names(only=None):
    """amazon.aws's connection options (those named in only, by default all) and their aliases."""
    names = set()
    for name, spec in aws_argument_spec().items():
        if only is None or name in only:
            names.add(name)
            names.update(spec.get("aliases", ()))
    return frozenset(names)


CONNECTION_OPTIONS = connection_option_names()


def own_arguments(action, argument_spec):
    """(the action's own arguments validated against argument_spec, the connection options it was given).

    Raises AnsibleActionFail with the first problem of the own arguments.
    """
    connection = {name: value for name, value in action._task.args.items() if name in CONNECTION_OPTIONS}
    own = {name: value for name, value in action._task.args.items() if name not in CONNECTION_OPTIONS}
    validation = ArgumentSpecValidator(argument_spec).validate(own)
    if validation.error_messages:
        raise AnsibleActionFail(f"{action._task.action}: {validation.error_messages[0]}")
    return validation.validated_parameters, connection


def given(arguments, **optional):
    """arguments, plus the optional ones that have a value (the module's default applies to the others)."""
    return dict(arguments, **{name: value for name, value in optional.items() if value is not None})


def run_action(action, name, arguments, task_vars):
    """The result of the action of module name with arguments, as a task of that module would get it in action's worker.

    A failure is a result with failed true and a message, never an exception, whatever the ansible-core.
    """
    task = action._task.copy(exclude_tasks=True)
    task.args = arguments
    task.action = name
    # The arguments may hold credentials (a central store's) or seeds: the module logs none of them, whatever the task says.
    task.no_log = True
    loaded = action._shared_loader_obj.action_loader.get(
        name, task=task, connection=action._connection, play_context=action._play_context, loader=action._loader,
        templar=action._templar, shared_loader_obj=action._shared_loader_obj,
    )
    if loaded is None:
        return {"failed": True, "msg": f"the action of {name} cannot be found: reinstall the mfa.aws collection"}
    try:
        answer = loaded.run(task_vars=task_vars)
    except AnsibleActionFail as e:
        # ansible-core 2.20 and later keep the failure and its message out of the exception's result.
        answer = dict(e.result or {})
        answer.update(failed=True, msg=answer.get("msg") or e.message)
    except AnsibleAction as e:
        answer = dict(e.result or {})
        answer.update(failed=True, msg=f"{name} stopped without a result ({type(e).__name__})")
    if not isinstance(answer, dict):
        return {"failed": True, "msg": f"{name} returned no result"}
    # A module's failure arrives as failed: true with its message.
    answer["failed"] = boolean(answer.get("failed", False), strict=False)
    return answer


def preload(names):
    """Import the actions named in the controller's process, where Ansible imports the calling action before it forks the
    task's workers: each worker then finds them imported instead of importing them (and what they import) again."""
    for name in names:
        try:
            action_loader.get(name, class_only=True)
        except Exception:  # pylint: disable=broad-exception-caught
            pass  # the worker imports it, and says what fails
