# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side work of mfa.aws.seed_vault_file: an ansible-vault encrypted file of MFA seeds."""

from __future__ import annotations

import datetime
import os
import tempfile

import yaml

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.parsing.vault import AnsibleVaultError
from ansible.parsing.vault import VaultLib
from ansible.parsing.vault import is_encrypted
from ansible.parsing.vault import match_encrypt_secret
from ansible.plugins.action import ActionBase

_ENTRY_KEYS = ("serial_number", "base32_seed")
_HEADER = "# MFA seeds written by mfa.aws.seed_vault_file: user name -> serial_number, base32_seed, created\n"


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "seeds", "remove", "vault_id", "mode", "check_writable"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            return self._run(result)
        except AnsibleActionFail:
            raise
        except Exception as e:  # pylint: disable=broad-exception-caught
            # Ansible prints an exception's text even for no_log tasks, and this one may hold a seed.
            raise AnsibleActionFail(f"unexpected {type(e).__name__} while handling the seed file (details withheld: they may contain a seed)") from None

    def _run(self, result):
        args = self.validate_argument_spec(
            argument_spec=dict(
                path=dict(type="path", required=True),
                seeds=dict(type="dict", default={}, no_log=True),
                remove=dict(type="list", elements="str", default=[]),
                vault_id=dict(type="str"),
                mode=dict(type="str", default="0600"),
                check_writable=dict(type="bool", default=False),
            ),
        )[1]
        path = args["path"]
        seeds = _validated_seeds(args["seeds"])
        mode = _validated_mode(args["mode"])
        vault = VaultLib(self._loader._vault.secrets)  # pylint: disable=protected-access

        before = _read(vault, path)
        after = dict(before)
        for user in args["remove"]:
            after.pop(user, None)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        for user, entry in seeds.items():
            current = before.get(user)
            if current and all(current.get(k) == entry[k] for k in _ENTRY_KEYS):
                after[user] = current
            else:
                after[user] = dict(entry, created=entry.get("created") or now)

        if args["check_writable"]:
            _encryption_secret(vault, args["vault_id"])
            _check_writable(path)
        changed = after != before
        if changed and not self._task.check_mode:
            secret_id, secret = _encryption_secret(vault, args["vault_id"])
            _write_atomically(path, vault.encrypt(_HEADER + yaml.safe_dump(after, default_flow_style=False), secret, vault_id=secret_id), mode)
            if _read(vault, path) != after:
                raise AnsibleActionFail(f"{path} does not read back as written: check the file system and the vault secret")

        result.update(changed=changed, path=path, stored={user: entry["serial_number"] for user, entry in sorted(after.items())})
        if self._task.diff:
            result["diff"] = dict(before=_public(before), after=_public(after), before_header=path, after_header=path)
        return result


def _validated_seeds(seeds):
    """The seeds option, checked: user name -> {serial_number, base32_seed[, created]}."""
    for user, entry in seeds.items():
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) or not entry.get(k) for k in _ENTRY_KEYS):
            raise AnsibleActionFail(f"seeds[{user!r}] must be a dictionary with the strings serial_number and base32_seed")
    # str() drops Ansible's data tags, which the YAML dumper cannot represent.
    return {str(user): {str(k): str(v) for k, v in entry.items() if k in _ENTRY_KEYS + ("created",)} for user, entry in seeds.items()}


def _validated_mode(mode):
    try:
        value = int(mode, 8)
    except ValueError:
        value = -1
    if value < 0 or value > 0o777 or value & 0o077 & ~0o040:
        raise AnsibleActionFail(f"mode {mode!r} must be an octal mode that gives no write or read access to others (such as 0600 or 0640)")
    return value


def _encryption_secret(vault, vault_id):
    if not vault.secrets:
        raise AnsibleActionFail(
            "no vault secret to encrypt the seeds with: run with --vault-id or --vault-password-file (or set ANSIBLE_VAULT_PASSWORD_FILE)"
        )
    found = match_encrypt_secret(vault.secrets, encrypt_vault_id=vault_id) if vault_id else match_encrypt_secret(vault.secrets)
    if not found:
        raise AnsibleActionFail(f"no vault secret with vault id {vault_id!r}: give it with --vault-id {vault_id}@<source>")
    return found


def _read(vault, path):
    """The entries stored at path ({} when there is no file yet)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise AnsibleActionFail(f"cannot read {path}: {e.strerror}; choose a path in a directory this run can write") from None
    if not is_encrypted(data):
        raise AnsibleActionFail(f"{path} is not ansible-vault encrypted: move it away; MFA seeds are only ever stored encrypted")
    try:
        content = yaml.safe_load(vault.decrypt(data)) or {}
    except AnsibleVaultError:
        raise AnsibleActionFail(f"cannot decrypt {path} with the vault secrets of this run: give the vault id it was written with") from None
    except yaml.YAMLError:
        raise AnsibleActionFail(f"{path} decrypts but is not YAML: restore it from a backup") from None
    if not isinstance(content, dict):
        raise AnsibleActionFail(f"{path} does not hold a mapping of user names to seeds: restore it from a backup")
    for user, entry in content.items():
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) or not entry.get(k) for k in _ENTRY_KEYS):
            raise AnsibleActionFail(f"the entry of {user!r} in {path} lacks serial_number or base32_seed: restore the file from a backup")
    return content


def _check_writable(path):
    """Fail, writing nothing, when path's directory cannot be created or written."""
    directory = os.path.dirname(os.path.abspath(path))
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise AnsibleActionFail(f"cannot write the seed file in {directory}: {existing} is not a writable directory; choose a writable directory")


def _write_atomically(path, data, mode):
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    except OSError as e:
        raise AnsibleActionFail(f"cannot write the seed file in {directory}: {e.strerror}; choose a writable directory") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(to_bytes(data))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as e:
        if os.path.exists(temp):
            os.unlink(temp)
        raise AnsibleActionFail(f"cannot write {path}: {e.strerror}") from None


def _public(entries):
    """What the diff shows of the entries: which device each user's seed belongs to, never the seed."""
    return {user: {"serial_number": entry.get("serial_number"), "created": entry.get("created")} for user, entry in sorted(entries.items())}
