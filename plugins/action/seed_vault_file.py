# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side work of mfa.aws.seed_vault_file: an ansible-vault encrypted file of MFA seeds."""

from __future__ import annotations

import datetime


from ansible.errors import AnsibleActionFail
from ansible.parsing.vault import VaultLib

from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import entry_problem
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import is_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import merged_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import plain_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import public_entries
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import user_name_problem
from ansible_collections.mfa.aws.plugins.plugin_utils import _account_lock
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import SecretsAction
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import check_writable
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import dump_yaml
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import encryption_secret
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import read_vaulted_yaml
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import validated_mode
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import write_atomically

_HEADER = "# MFA seeds written by mfa.aws.seed_vault_file: user name -> serial_number, base32_seed, created\n"


class ActionModule(SecretsAction):

    DOING = "handling the seed file"
    OPTIONS = dict(
        path=dict(type="path", required=True),
        return_seeds=dict(type="bool", default=False),
        users=dict(type="list", elements="str"),
        lock_timeout=dict(type="int", default=300),
    )

    def _run(self, result, args):
        path = args["path"]
        seeds = _validated_seeds(args["seeds"])
        mode = validated_mode(args["mode"])
        vault = VaultLib(self._loader._vault.secrets)  # pylint: disable=protected-access

        if args["check_writable"]:
            encryption_secret(vault, args["vault_id"])
            check_writable(path)
        # Read first, so that a file that cannot be read fails at once, before any wait for the lock.
        before = _read(vault, path)
        after = _merged(before, seeds, args["remove"])
        if not self._task.check_mode and (seeds or args["remove"]):
            # Read, merge, write and read back under the lock beside the file, once no other run holds the account's lease:
            # a writer that merged an older read would drop the entries written meanwhile, seeds that AWS never returns again.
            try:
                with _account_lock.free(_account_lock.lock_path(path), _account_lock.this_run(), args["lock_timeout"]):
                    before = _read(vault, path)
                    after = _merged(before, seeds, args["remove"])
                    if after != before:
                        secret_id, secret = encryption_secret(vault, args["vault_id"])
                        write_atomically(path, vault.encrypt(_HEADER + dump_yaml(after, default_flow_style=False), secret, vault_id=secret_id), mode)
                        if _read(vault, path) != after:
                            raise AnsibleActionFail(
                                f"{path} does not read back as written although this run holds its lock: a program that takes no lock "
                                "(an editor, a copy) wrote it meanwhile, or the file system failed; stop it and run again"
                            )
            except _account_lock.LockError as e:
                raise AnsibleActionFail(str(e)) from None
        changed = after != before

        shown = sorted(user for user in after if args["users"] is None or user in args["users"])
        result.update(
            changed=changed,
            path=path,
            stored={user: after[user]["serial_number"] for user in shown},
            entries=public_entries({user: after[user] for user in shown}),
        )
        if args["return_seeds"]:
            result["seeds"] = {user: after[user] for user in shown}
        if self._task.diff:
            result["diff"] = dict(before=public_entries(before), after=public_entries(after), before_header=path, after_header=path)
        return result


def _merged(before, seeds, remove):
    """The entries after dropping the users of remove and storing seeds (a stored entry of the same device keeps its created time)."""
    after = dict(before)
    for user in remove:
        after.pop(user, None)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    for user, entry in seeds.items():
        after[user] = merged_entry(before.get(user), entry, now)
    return after


def _validated_seeds(seeds):
    """The seeds option, checked as mfa.aws.seed_secret checks it: IAM user name -> {serial_number, base32_seed[, created][, previous]}.

    The messages name the user and the problem, never a value of the entry.
    """
    checked = {}
    for user, entry in seeds.items():
        user = str(user)
        problem = user_name_problem(user)
        if problem:
            raise AnsibleActionFail(f"seeds: {problem}")
        problem = entry_problem(entry)
        if problem:
            raise AnsibleActionFail(f"seeds[{user!r}] {problem}")
        checked[user] = plain_entry(entry)
    return checked


def _read(vault, path):
    """The entries stored at path ({} when there is no file yet), with their known keys only, as the AWS stores read theirs."""
    content = read_vaulted_yaml(vault, path) or {}
    if not isinstance(content, dict):
        raise AnsibleActionFail(f"{path} does not hold a mapping of user names to seeds: restore it from a backup")
    for user, entry in content.items():
        if not is_entry(entry):
            raise AnsibleActionFail(
                f"the entry of {user!r} in {path} is not a seed entry (the strings serial_number and base32_seed, a string created, "
                "a previous entry of the same shape): restore the file from a backup"
            )
    return {str(user): plain_entry(entry) for user, entry in content.items()}
