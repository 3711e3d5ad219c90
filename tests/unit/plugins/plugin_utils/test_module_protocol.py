# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module protocol of the ansible-core under test: arguments in, result out, as a module process would have them."""

from __future__ import annotations

import json
import os
import sys
import types

from ansible.module_utils import basic
from ansible.plugins.action import ActionBase

from ansible_collections.mfa.aws.plugins.plugin_utils import _in_process
from ansible_collections.mfa.aws.plugins.plugin_utils import _module_protocol


class Action(ActionBase):
    def run(self, tmp=None, task_vars=None):
        raise NotImplementedError


def test_this_core_is_one_the_runner_knows():
    assert _module_protocol.unsupported() is None
    assert _in_process._UNSUPPORTED is None


def test_the_arguments_reach_ansible_module_as_from_stdin():
    data = _module_protocol.module_input({"name": "alice", "tags": {"a": "1"}, "_ansible_check_mode": True})
    assert json.loads(data) == {"ANSIBLE_MODULE_ARGS": {"name": "alice", "tags": {"a": "1"}, "_ansible_check_mode": True}}
    try:
        _module_protocol.hand_over(basic, data)
        assert basic._ANSIBLE_ARGS == data
        assert getattr(basic, "_ANSIBLE_PROFILE", _module_protocol.PROFILE) == _module_protocol.PROFILE
    finally:
        _module_protocol.hand_over(basic, None)
    assert basic._ANSIBLE_ARGS is None


def test_the_result_is_read_and_cleaned_as_the_core_does_it():
    printed = json.dumps({"changed": True, "serial_number": "arn:aws:iam::123456789012:mfa/alice", "_ansible_no_log": False,
                          "_ansible_suppress_tmpdir_delete": True,
                          "invocation": {"module_args": {"name": "alice"}}})
    result = _module_protocol.task_result(Action.__new__(Action), "noise before\n" + printed, "")
    assert result["changed"] is True and result["serial_number"] == "arn:aws:iam::123456789012:mfa/alice"
    # What the core keeps of the internal keys, as for a module process: whether the output was parsed, and no_log.
    assert {key for key in result if key.startswith("_ansible_")} <= {"_ansible_no_log", "_ansible_parsed"}


def test_only_this_very_python_runs_modules_in_the_worker(tmp_path):
    assert _in_process._is_this_python(sys.executable)
    twin = os.path.join(os.path.dirname(sys.executable), "python")
    if os.path.exists(twin) and os.path.realpath(twin) == os.path.realpath(sys.executable):
        assert _in_process._is_this_python(twin)  # python and python3.x of one virtualenv
    link = tmp_path / "python3"
    link.symlink_to(sys.executable)
    assert not _in_process._is_this_python(str(link))  # the same file in another directory: maybe another environment
    assert not _in_process._is_this_python("python3") and not _in_process._is_this_python(None)
    assert not _in_process._is_this_python(os.path.realpath(sys.executable)) or os.path.realpath(sys.executable) == sys.executable


def test_a_core_whose_result_reading_differs_runs_the_modules_as_processes(monkeypatch):
    monkeypatch.setattr(_module_protocol, "task_result", lambda action, stdout, stderr: types.SimpleNamespace())
    assert _in_process._protocol_problem() == "this ansible-core reads module results in a way the runner does not know"

    def broken(action, stdout, stderr):
        raise TypeError("an argument more")

    monkeypatch.setattr(_module_protocol, "task_result", broken)
    assert _in_process._protocol_problem() == "this ansible-core reads module results in a way the runner does not know (TypeError)"
    monkeypatch.setattr(_module_protocol, "unsupported", lambda: "no encoder")
    assert _in_process._protocol_problem() == "no encoder"
