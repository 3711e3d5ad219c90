# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How a module's arguments go in and its result comes out, on each supported ansible-core: the one place that knows.

Private to this collection: the names here may change in any release.

The in-process runner (``_in_process.py``) hands a module its arguments the way a module process reads them from stdin
(``AnsibleModule`` looks at ``basic._ANSIBLE_ARGS`` first) and turns what the module printed into the task's result as
``ActionBase._execute_module`` does. Those steps changed between releases:

* ansible-core 2.16 to 2.18: arguments are JSON written with ``AnsibleJSONEncoder``; the result is a dict that
  ``ansible.vars.clean.remove_internal_keys`` cleans;
* 2.19 and 2.20: arguments and result are serialised with a named profile (``get_module_encoder``, ``Direction``), and
  the module reads the profile's name from ``basic._ANSIBLE_PROFILE``; the result is still a dict;
* 2.21 and later: the result is a ``UnifiedTaskResult`` that cleans itself and gives the result dict.

Nothing here fails at import time on any of them: each piece is looked up, and ``unsupported()`` says which one is
missing, so that the runner falls back to ordinary module execution instead of breaking a run.
"""

from __future__ import annotations

import json

from ansible.module_utils.common import json as _module_json

try:
    from ansible.vars.clean import remove_internal_keys as _remove_internal_keys
except ImportError:  # ansible-core 2.21 and later: the result cleans itself
    _remove_internal_keys = None

# The serialisation profile of modules built on AnsibleModule (2.19 and later).
PROFILE = "legacy"

_DIRECTION = getattr(_module_json, "Direction", None)
_GET_ENCODER = getattr(_module_json, "get_module_encoder", None)
_LEGACY_ENCODER = getattr(_module_json, "AnsibleJSONEncoder", None)
PROFILES = _DIRECTION is not None and _GET_ENCODER is not None


def unsupported() -> str | None:
    """Why this ansible-core's module protocol is one the runner does not know, or None when it knows it."""
    if not PROFILES and _LEGACY_ENCODER is None:
        return "this ansible-core has neither AnsibleJSONEncoder nor serialisation profiles"
    if not PROFILES and _remove_internal_keys is None:
        return "this ansible-core has no ansible.vars.clean.remove_internal_keys"
    return None


def module_input(module_args: dict) -> bytes:
    """What a module process would read from stdin: the arguments as JSON, encoded as this ansible-core encodes them."""
    if PROFILES:
        encoder = _GET_ENCODER(PROFILE, _DIRECTION.CONTROLLER_TO_MODULE)
        return json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()
    return json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=_LEGACY_ENCODER, vault_to_text=True).encode()


def hand_over(basic, data: bytes | None) -> None:
    """Give AnsibleModule its arguments (None takes them back), with the profile's name where the core reads one."""
    basic._ANSIBLE_ARGS = data  # pylint: disable=protected-access
    if PROFILES:
        basic._ANSIBLE_PROFILE = PROFILE if data is not None else None  # pylint: disable=protected-access


def task_result(action, stdout: str, stderr: str) -> dict:
    """The task's result from what the module printed, as ActionBase._execute_module makes it."""
    res = {"stdout": stdout, "stderr": stderr, "rc": 0}
    parsed = action._parse_returned_data(res, PROFILE) if PROFILES else action._parse_returned_data(res)  # pylint: disable=protected-access
    if hasattr(parsed, "remove_internal_keys"):  # 2.21 and later
        parsed.remove_internal_keys()
        return parsed.as_result_dict(for_round_trip=True)
    _remove_internal_keys(parsed)
    return parsed
