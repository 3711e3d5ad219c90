# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When the collection's modules run in the worker process, and what such a run gives back and leaves behind."""

from __future__ import annotations

import logging
import os
import sys
import types

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.warnings import get_warning_messages
from ansible.plugins.loader import filter_loader
from ansible.plugins.loader import test_loader

from ansible_collections.mfa.aws.plugins.plugin_utils import _in_process

botocore_session = pytest.importorskip("botocore.session")


class _Templar:
    def template(self, value):
        return value


def action(transport="local", become=False, async_val=0, module=types.SimpleNamespace(), args=None, environment=None, delegate_to=None, basedir=None):
    """An InProcessModuleAction with the parts of a task that the decision and the run read."""
    plugin = _in_process.InProcessModuleAction.__new__(_in_process.InProcessModuleAction)
    plugin.MODULE = module
    plugin._templar = _Templar()
    plugin._connection = types.SimpleNamespace(transport=transport, _load_name=transport)
    plugin._play_context = types.SimpleNamespace(become=become, remote_addr="localhost")
    plugin._task = types.SimpleNamespace(async_val=async_val, action="mfa.aws.test", args=args or {}, delegate_to=delegate_to)
    plugin._loader = types.SimpleNamespace(get_basedir=lambda: basedir or os.getcwd())
    plugin._used_interpreter = None
    plugin._update_module_args = lambda name, module_args, task_vars: module_args.update(_ansible_check_mode=False, _ansible_no_log=False)

    def compute_environment(raw_environment_out=None):
        raw_environment_out.update(environment or {})
        return ""

    plugin._compute_environment_string = compute_environment
    return plugin


CONTROLLER = {"ansible_python_interpreter": sys.executable}


def test_a_local_task_with_the_controllers_python_runs_in_the_worker():
    assert action()._reason_for_a_process(CONTROLLER) is None
    assert action()._reason_for_a_process({"ansible_python_interpreter": "/usr/bin/python3", "ansible_playbook_python": "/usr/bin/python3"}) is None


@pytest.mark.parametrize(
    "plugin, task_vars, reason",
    [
        (action(transport="ssh"), CONTROLLER, "the connection is ssh, not local"),
        (action(become=True), CONTROLLER, "become is set"),
        (action(async_val=60), CONTROLLER, "the task is async"),
        (action(module=None), CONTROLLER, "its code cannot be imported in the controller's Python"),
        (action(), dict(CONTROLLER, mfa_aws_in_process="false"), "mfa_aws_in_process is false"),
        (action(), {"ansible_python_interpreter": "/opt/venv/bin/python"}, "ansible_python_interpreter (/opt/venv/bin/python) is not the controller's Python"),
        (action(), {}, "ansible_python_interpreter (discovered) is not the controller's Python"),
        (
            action(delegate_to="runner"),
            dict(CONTROLLER, ansible_delegated_vars={"runner": {"ansible_python_interpreter": "/opt/venv/bin/python"}}),
            "ansible_python_interpreter (/opt/venv/bin/python) is not the controller's Python",
        ),
    ],
)
def test_any_other_task_runs_as_a_module_process(plugin, task_vars, reason):
    assert reason in plugin._reason_for_a_process(task_vars)


def _module(main):
    return types.SimpleNamespace(main=main)


def _warns_its_name():
    earlier = list(get_warning_messages())
    module = AnsibleModule(argument_spec=dict(name=dict(type="str"), secret=dict(type="str", no_log=True)))
    module.warn(f"seen {module.params['name']}")
    module.exit_json(
        changed=False, name=module.params["name"], marker=os.environ.get("MFA_AWS_TEST_MARKER"), echoed=module.params["secret"], earlier=earlier
    )


def test_each_run_starts_without_the_warnings_of_the_one_before_and_has_its_own_environment_and_leaves_the_process_as_it_was():
    assert "MFA_AWS_TEST_MARKER" not in os.environ
    first = action(module=_module(_warns_its_name), args={"name": "first", "secret": "s3cr3t"}, environment={"MFA_AWS_TEST_MARKER": "task"})
    second = action(module=_module(_warns_its_name), args={"name": "second"})

    one = first._run_in_process({})
    two = second._run_in_process({})

    assert one["name"] == "first" and one["marker"] == "task" and one["earlier"] == []
    assert two["name"] == "second" and two["marker"] is None and two["earlier"] == []
    # The module's no_log handling applies as in a module process.
    assert one["echoed"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "MFA_AWS_TEST_MARKER" not in os.environ


def test_a_failing_module_fails_the_task_with_its_message():
    def fails():
        AnsibleModule(argument_spec={}).fail_json(msg="account 123456789012 has no IAM user named ghost: check user_names")

    result = action(module=_module(fails))._run_in_process({})

    assert result["failed"] is True
    assert result["msg"] == "account 123456789012 has no IAM user named ghost: check user_names"


def test_a_task_delegated_to_a_host_with_the_controllers_python_runs_in_the_worker():
    task_vars = {"ansible_python_interpreter": "/opt/venv/bin/python", "ansible_delegated_vars": {"localhost": CONTROLLER}}
    assert action(delegate_to="localhost")._reason_for_a_process(task_vars) is None


def test_an_unexpected_exception_fails_the_task_naming_its_type_only():
    def raises():
        raise ValueError("JBSWY3DPEHPK3PXP")

    result = action(module=_module(raises))._run_in_process({})

    assert result["failed"] is True
    assert "ValueError" in result["msg"] and "JBSWY3DPEHPK3PXP" not in result["msg"]
    assert "mfa_aws_in_process=false" in result["msg"]


def test_the_module_runs_in_the_playbooks_directory_and_its_logs_reach_no_handler_of_the_controller(tmp_path):
    seen = []

    class Recorder(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    recorder = Recorder()
    logging.getLogger().addHandler(recorder)

    def logs():
        endpoint = logging.getLogger("botocore.endpoint")
        endpoint.setLevel(logging.DEBUG)
        endpoint.addHandler(logging.NullHandler())
        endpoint.debug("Making request with params: AuthenticationCode1=123456")
        AnsibleModule(argument_spec={}).exit_json(changed=False, directory=os.getcwd())

    before = os.getcwd()
    try:
        result = action(module=_module(logs), basedir=str(tmp_path))._run_in_process({})
    finally:
        logging.getLogger().removeHandler(recorder)

    assert result["directory"] == str(tmp_path) and os.getcwd() == before
    assert seen == []
    assert logging.getLogger("botocore.endpoint").level == logging.NOTSET and logging.getLogger("botocore.endpoint").handlers == []


def test_sessions_share_the_warm_service_descriptions_only_while_a_module_runs(monkeypatch):
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    with _in_process._shared_botocore_data():
        assert botocore_session.Session().get_component("data_loader") is _in_process._SHARED_LOADER
        assert botocore_session.create_loader("/elsewhere") is not _in_process._SHARED_LOADER
        _in_process._SHARED_LOADER.search_paths.append("/added/by/a/session")
    assert "/added/by/a/session" not in _in_process._SHARED_LOADER.search_paths
    assert botocore_session.Session().get_component("data_loader") is not _in_process._SHARED_LOADER


def handler_tree(session):
    """Every event name of a session's handlers, with its first, middle and last handlers."""
    found = []

    def walk(node, prefix):
        if node.get("values"):
            values = node["values"]
            found.append((prefix, tuple(values.first), tuple(values.middle), tuple(values.last)))
        for key, child in node["children"].items():
            walk(child, prefix + (key,))

    walk(session._original_handler._handlers._root, ())
    return sorted(found, key=lambda item: item[0])


def test_sessions_start_with_their_own_copy_of_the_builtin_event_handlers_only_while_a_module_runs():
    plain = botocore_session.get_session()
    with _in_process._shared_botocore_data():
        first, second = botocore_session.get_session({"region": ("region", None, None, None)}), botocore_session.get_session()
        assert handler_tree(first) == handler_tree(plain) == handler_tree(second)
        assert first.session_var_map["region"] == ("region", None, None, None)

        def added(**kwargs):
            return None

        first.register("before-call.iam.EnableMFADevice", added)
        assert first._original_handler is not second._original_handler is not _in_process._BUILTIN_EVENTS
        assert handler_tree(second) == handler_tree(plain) and handler_tree(first) != handler_tree(plain)
        assert handler_tree(botocore_session.get_session()) == handler_tree(plain)
    assert botocore_session.get_session()._original_handler is not _in_process._BUILTIN_EVENTS
    assert handler_tree(botocore_session.get_session()) == handler_tree(plain)


def test_a_profile_botocore_cannot_read_does_not_stop_the_warm_up(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    _in_process._warm_shared_loader()


def test_the_jinja_plugins_are_indexed_in_the_process_that_imports_the_action_plugins():
    # Imported with the first action plugin, in the controller: the workers it forks inherit the index and the filters.
    assert "ansible_collections.mfa.aws.plugins.filter.enrollment" in sys.modules
    assert filter_loader.get("mfa.aws.enrollment_plan") is not None and test_loader.get("ansible.builtin.failed") is not None


def test_a_plugin_loader_that_fails_does_not_stop_the_warm_up(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no plugin path")

    monkeypatch.setattr(filter_loader, "get", broken)
    _in_process._warm_template_plugins()
