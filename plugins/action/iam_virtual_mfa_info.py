# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs mfa.aws.iam_virtual_mfa_info in the worker process when the connection is local (see plugin_utils/_in_process.py)."""

from __future__ import annotations

from ansible_collections.mfa.aws.plugins.plugin_utils._in_process import InProcessModuleAction
from ansible_collections.mfa.aws.plugins.plugin_utils._in_process import import_module_code


class ActionModule(InProcessModuleAction):

    MODULE = import_module_code("iam_virtual_mfa_info")
