# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs this collection's AWS modules inside the worker process of a local connection.

The hosts of this collection are AWS accounts reached from the controller (``ansible_connection: local``), so a module
task starts a new Python interpreter on the controller, which imports Ansible's module code, boto3 and botocore again:
about a second of CPU per task and account, several times what the AWS calls themselves cost. When the module would run
with the controller's own Python anyway, the action plugin runs the module's ``main()`` in the worker process that
Ansible has already forked for the task, where those imports are inherited from the controller. The arguments, check
mode, diff, no_log handling and result are those of the module, which is the same code either way. This is the
"direct execution" that ansible.netcommon offers its network modules.

Any other case runs the module as usual: a connection other than local, become, async, another Python interpreter, the
variable ``mfa_aws_in_process`` set to false, or an ansible-core whose module protocol ``_module_protocol`` does not know
(said once, at -v). Nothing imported here is missing from any supported ansible-core (2.16 and later).
"""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import io
import logging
import os
import sys

try:
    import botocore.loaders
    import botocore.session
except ImportError:
    botocore = None  # the module then runs as a process, and says itself what is missing

from ansible import constants as C
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import filter_loader
from ansible.plugins.loader import test_loader
from ansible.utils.display import Display

from ansible_collections.mfa.aws.plugins.plugin_utils import _module_protocol

display = Display()

IN_PROCESS_VARIABLE = "mfa_aws_in_process"


class _Probe(ActionBase):
    """An action with nothing set up: enough to read a module's output the way this ansible-core reads it."""

    def run(self, tmp=None, task_vars=None):
        raise NotImplementedError


def _protocol_problem():
    """Why this ansible-core's modules cannot run in the worker process, or None.

    Reading a module's output is tried on a made-up result first, so that a core whose internals differ runs the modules
    as processes instead of failing after a module has run.
    """
    problem = _module_protocol.unsupported()
    if problem:
        return problem
    try:
        read = _module_protocol.task_result(_Probe.__new__(_Probe), '{"changed": false, "probe": 1}', "")
    except Exception as e:  # pylint: disable=broad-exception-caught
        return f"this ansible-core reads module results in a way the runner does not know ({type(e).__name__})"
    if not isinstance(read, dict) or read.get("probe") != 1:
        return "this ansible-core reads module results in a way the runner does not know"
    return None


# Checked once, in the controller, when the first action plugin of the collection is loaded.
_UNSUPPORTED = _protocol_problem()
if _UNSUPPORTED:
    display.v(f"mfa.aws modules run as module processes: {_UNSUPPORTED}")


# The service descriptions that botocore reads from JSON files for every new session: parsing them again for each
# module run costs more CPU than the module's AWS calls. Loaded once in the controller's process, they are shared by the
# sessions of the modules that run in its workers (never by other code of the controller).
_SHARED_LOADER = botocore.loaders.Loader() if botocore else None
_WARM_SERVICES = ("iam", "sts")
# botocore's built-in event handlers, registered once: a new session registers about 130 of them one by one, which costs
# more CPU than the client it then creates. Each session of a module run gets a copy of its own (botocore copies a
# session's handlers the same way for each client). A botocore without that private attribute registers them per session.
_BUILTIN_EVENTS = getattr(botocore.session.Session(), "_original_handler", None) if botocore else None


def _warm_shared_loader():
    """Read the descriptions of the services this collection calls most, before the workers fork."""
    try:
        session = botocore.session.Session()
        session.register_component("data_loader", _SHARED_LOADER)
        for service in _WARM_SERVICES:
            client = session.create_client(service, region_name="us-east-1", aws_access_key_id="warm-up", aws_secret_access_key="warm-up")
            client.can_paginate("list_users" if service == "iam" else "get_caller_identity")
    except Exception:  # pylint: disable=broad-exception-caught
        pass  # a profile or configuration botocore does not accept here: each session reads the files itself


def _warm_template_plugins():
    """Index the Jinja filters and tests, and import this collection's, in the controller before the workers fork.

    Ansible indexes the filter and test plugins on their first use in a process, by importing every file of them. No
    templating in the controller needs them before the tasks, so without this each task's worker indexes them again,
    which costs more CPU than most of the role's tasks themselves.
    """
    try:
        filter_loader.get("mfa.aws.enrollment_plan")
        test_loader.get("ansible.builtin.failed")
    except Exception:  # pylint: disable=broad-exception-caught
        pass  # each worker indexes them itself, as without this


def _freeze_controller_objects():
    """Move the objects the controller holds now (Ansible, boto3, botocore, the playbook and the inventory) out of reach of
    the garbage collector, as Python's documentation advises for a process that forks without exec (gc.freeze).

    Ansible forks a worker for every task and host: the controller's own collections then no longer walk that heap between
    the forks, and a worker's collections do not touch (and so copy) the pages it inherits. Only what exists now is frozen;
    it lives as long as the run anyway.
    """
    gc.freeze()


# This file is imported once, with the first action plugin that uses it: in the controller's process, before any fork.
if _SHARED_LOADER is not None:
    _warm_shared_loader()
_warm_template_plugins()
_freeze_controller_objects()


def _session_with_builtin_events(env_vars=None):
    """botocore.session.get_session(), with a copy of the built-in event handlers registered once."""
    events = copy.copy(_BUILTIN_EVENTS)
    # The copy shares the lookup cache of the original, which registering a handler replaces; emitting before that
    # would fill it for every copy.
    events._lookup_cache = {}  # pylint: disable=protected-access
    return botocore.session.Session(env_vars, event_hooks=events, include_builtin_handlers=False)


@contextlib.contextmanager
def _shared_botocore_data():
    """New botocore sessions use the shared loader, unless AWS_DATA_PATH asks for other data, and start with a copy of
    the built-in event handlers instead of registering them again."""
    if _SHARED_LOADER is None:
        yield
        return
    create_loader = botocore.session.create_loader
    get_session = botocore.session.get_session

    def shared_or_own(search_path_string=None):
        return _SHARED_LOADER if search_path_string is None else create_loader(search_path_string)

    botocore.session.create_loader = shared_or_own
    if _BUILTIN_EVENTS is not None:
        botocore.session.get_session = _session_with_builtin_events
    # boto3 adds its own data directory to the loader of each session it creates.
    search_paths = list(_SHARED_LOADER.search_paths)
    try:
        yield
    finally:
        botocore.session.create_loader = create_loader
        botocore.session.get_session = get_session
        _SHARED_LOADER.search_paths[:] = search_paths


@contextlib.contextmanager
def _isolated_logging():
    """Log records of the module's run reach none of the controller's handlers (log_path), as from a module process.

    A module process has loggers of its own: botocore's request logs (the parameters of each call, codes and seeds
    included, when amazon.aws's debug_botocore_endpoint_logs raises their level) must not reach the controller's log file
    through the handlers the worker inherits. What the run sets on loggers is undone afterwards.
    """
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {
        name: (logger.level, logger.handlers[:], logger.propagate, logger.disabled)
        for name, logger in root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root.handlers = [logging.NullHandler()]
    try:
        yield
    finally:
        root.handlers = saved_root[0]
        root.setLevel(saved_root[1])
        for name, logger in list(root.manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger):
                continue
            level, handlers, propagate, disabled = saved.get(name, (logging.NOTSET, [], True, False))
            logger.setLevel(level)
            logger.handlers = handlers
            logger.propagate, logger.disabled = propagate, disabled


def _is_this_python(interpreter):
    """Whether the interpreter path names this very Python: the same file, in the same directory (a virtualenv's python and
    python3.11 are one file; the base Python they link to is another environment, with other packages)."""
    if not isinstance(interpreter, str) or not os.path.isabs(interpreter):
        return False
    this = sys.executable
    return os.path.dirname(interpreter) == os.path.dirname(this) and os.path.realpath(interpreter) == os.path.realpath(this)


def import_module_code(name):
    """Import a module of this collection (and with it boto3 and amazon.aws), or None when that is not possible here.

    Called when the action plugin is loaded: Ansible loads it in the controller's process before it forks the workers
    of a task, so the workers inherit what is imported here (and the descriptions warmed above) instead of loading it
    again.
    """
    try:
        module = importlib.import_module(f"ansible_collections.mfa.aws.plugins.modules.{name}")
    except Exception:  # pylint: disable=broad-exception-caught
        # Not importable in the controller's Python (boto3 missing, for example): the module runs as a process, and
        # says itself what is missing.
        return None
    return module


class InProcessModuleAction(ActionBase):
    """Action plugin of a module of this collection that runs it in the worker process when it can."""

    _supports_check_mode = True
    _supports_async = True

    # Set by each action plugin: the module's Python module, from import_module_code().
    MODULE = None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        reason = self._reason_for_a_process(task_vars)
        if reason:
            display.vvvv(f"{self._task.action} runs in a module process: {reason}", host=self._play_context.remote_addr)
            if C.DEFAULT_KEEP_REMOTE_FILES:
                # A module process would leave its AnsiballZ file, with the task's arguments (credentials, codes, seeds) in it.
                result.update(failed=True, msg=f"{self._task.action} refuses to run as a module process while ANSIBLE_KEEP_REMOTE_FILES is "
                              "set: its AnsiballZ file would keep the credentials, codes or seeds of the task on disk; unset it (the modules "
                              "then run as usual), or run the module in the worker process (local connection, the controller's Python)")
                return result
            wrap_async = self._task.async_val and not self._connection.has_native_async
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        display.vvvv(f"{self._task.action} runs in the worker process", host=self._play_context.remote_addr)
        result.update(self._run_in_process(task_vars))
        return result

    def _reason_for_a_process(self, task_vars):
        """Why the module must run as a process of its own, or None when it can run here."""
        if self.MODULE is None:
            return "its code cannot be imported in the controller's Python"
        if _UNSUPPORTED:
            return _UNSUPPORTED
        wanted = self._templar.template(task_vars.get(IN_PROCESS_VARIABLE, True))
        if not boolean(wanted, strict=False):
            return f"{IN_PROCESS_VARIABLE} is false"
        if self._connection.transport != "local" and getattr(self._connection, "_load_name", None) not in ("local", "ansible.builtin.local"):
            return f"the connection is {self._connection.transport}, not local"
        if self._play_context.become:
            return "become is set"
        if self._task.async_val:
            return "the task is async"
        # The interpreter of the host the task runs on: the one it is delegated to, if any (as _configure_module reads it).
        host_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to, {}) if self._task.delegate_to else task_vars
        interpreter = host_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = self._templar.template(interpreter)
        if not interpreter or (interpreter != task_vars.get("ansible_playbook_python") and not _is_this_python(interpreter)):
            return f"ansible_python_interpreter ({interpreter or 'discovered'}) is not the controller's Python {sys.executable}"
        return None

    def _run_in_process(self, task_vars):
        # _update_module_args adds keys: a copy keeps the task's own arguments as they are.
        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        environment = {}
        self._compute_environment_string(environment)

        arguments = _module_protocol.module_input(module_args)

        saved_environment = dict(os.environ)
        saved_directory = os.getcwd()
        stdout = io.StringIO()
        stderr = io.StringIO()
        # What an earlier run in this process (an earlier loop item) left behind must not reach this result.
        module_warnings._global_warnings.clear()
        module_warnings._global_deprecations.clear()
        _module_protocol.hand_over(basic, arguments)
        try:
            os.environ.update({str(k): str(v) for k, v in environment.items()})
            # A local connection starts a module process in the playbook's directory: relative paths resolve alike.
            os.chdir(self._loader.get_basedir())
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), _shared_botocore_data(), _isolated_logging():
                try:
                    self.MODULE.main()
                except SystemExit:
                    pass
        except Exception as e:  # pylint: disable=broad-exception-caught
            # A module process that dies this way fails the task with its traceback; here the type is enough, since the
            # message of an exception raised while handling a seed could hold it. A result, not an exception, so that
            # failed_when, ignore_errors and register apply as they do to a module process.
            return {
                "failed": True,
                "msg": f"{self._task.action} stopped on an unexpected {type(e).__name__}; set {IN_PROCESS_VARIABLE}=false and run again with -vvv for details",
            }
        finally:
            _module_protocol.hand_over(basic, None)
            os.chdir(saved_directory)
            os.environ.clear()
            os.environ.update(saved_environment)

        return _module_protocol.task_result(self, stdout.getvalue(), stderr.getvalue())
