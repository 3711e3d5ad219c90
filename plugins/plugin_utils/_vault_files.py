# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ansible-vault encrypted files on the controller, for the action plugins of mfa.aws that store seeds.

Private to this collection: the names here may change in any release.

Every function fails with a one-line AnsibleActionFail that names the fix; no message raised
here contains what a file holds.  Nothing is ever written unencrypted: callers hand
write_atomically() vault text only.
"""

from __future__ import annotations

import os
import tempfile

import yaml

from ansible.errors import AnsibleActionFail
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.parsing.vault import AnsibleVaultError
from ansible.parsing.vault import AnsibleVaultFormatError
from ansible.parsing.vault import is_encrypted
from ansible.parsing.vault import match_encrypt_secret
from ansible.parsing.vault import parse_vaulttext
from ansible.parsing.vault import parse_vaulttext_envelope


def plain_data(value):
    """value with every string an exact str, and every mapping and list a plain one, as yaml.safe_dump writes them.

    Task arguments are str subclasses: ansible-core 2.19 and later tag them (str() drops the tags), 2.16 to 2.18 mark them
    unsafe with a subclass whose str() is itself; str.__str__ gives an exact str on every core.
    """
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(item) for item in value]
    return value


def dump_yaml(value, **kwargs):
    """yaml.safe_dump of value, whatever ansible-core made of its strings."""
    return yaml.safe_dump(plain_data(value), **kwargs)


def validated_mode(mode):
    """The octal file mode given as text, when it gives others no access and nobody else write access."""
    try:
        value = int(mode, 8)
    except ValueError:
        value = -1
    if value < 0 or value > 0o777 or value & 0o077 & ~0o040:
        raise AnsibleActionFail(f"mode {mode!r} must be an octal mode that gives no write or read access to others (such as 0600 or 0640)")
    return value


def encryption_secret(vault, vault_id):
    """The (vault id, secret) of the run that encrypts new files: vault_id's, or the first one."""
    if not vault.secrets:
        raise AnsibleActionFail(
            "no vault secret to encrypt the seeds with: run with --vault-id or --vault-password-file (or set ANSIBLE_VAULT_PASSWORD_FILE)"
        )
    try:
        found = match_encrypt_secret(vault.secrets, encrypt_vault_id=vault_id) if vault_id else match_encrypt_secret(vault.secrets)
    except AnsibleVaultError:
        found = None
    if not found:
        raise AnsibleActionFail(f"no vault secret with vault id {vault_id!r}: give it with --vault-id {vault_id}@<source>") from None
    return found


def read_decrypted(vault, path):
    """The decrypted bytes of the vault file at path, or None when there is no file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AnsibleActionFail(f"cannot read {path}: {e.strerror}; choose a path in a directory this run can write") from None
    if not is_encrypted(data):
        raise AnsibleActionFail(f"{path} is not ansible-vault encrypted: move it away; MFA seeds are only ever stored encrypted")
    try:
        return vault.decrypt(data)
    except AnsibleError:  # AnsibleVaultError, AnsibleVaultFormatError, and on ansible-core 2.16 a cipher it does not know
        damage = _damage(data)
        if damage:
            raise AnsibleActionFail(f"{path} is damaged ({damage}): restore it from a backup; a vault secret cannot help") from None
        raise AnsibleActionFail(
            f"cannot decrypt {path} with the vault secrets of this run: give the vault id it was written with "
            "(if it is the right one, the file was altered: restore it from a backup)"
        ) from None


def _damage(data):
    """What is wrong with vault text that no secret decrypts, when it is not a whole ansible-vault file; None when it is one
    (then the secret is the wrong one, or the file was changed in a way only its HMAC tells)."""
    try:
        vaulttext, _version, cipher, _vault_id = parse_vaulttext_envelope(data)
        ciphertext = parse_vaulttext(vaulttext)[0]
    except (AnsibleVaultError, AnsibleVaultFormatError, ValueError, TypeError, IndexError):
        return "its text is not whole ansible-vault text: cut short or altered"
    if cipher != "AES256":
        return f"its header names the cipher {cipher}, not AES256"
    if len(ciphertext) % 16:
        return "its encrypted content is cut short"
    return None


def read_vaulted_yaml(vault, path):
    """What the YAML vault file at path holds (None when there is no file or it is empty)."""
    data = read_decrypted(vault, path)
    if data is None:
        return None
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError:
        raise AnsibleActionFail(f"{path} decrypts but is not YAML: restore it from a backup") from None


def check_writable(path):
    """Fail, writing nothing, when path's directory cannot be created or written."""
    directory = os.path.dirname(os.path.abspath(path))
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise AnsibleActionFail(f"cannot write the seed file in {directory}: {existing} is not a writable directory; choose a writable directory")


def write_atomically(path, data, mode):
    """Write data (vault text) to path with mode: a temporary file in the same directory, renamed over path.

    A missing directory is created with mode 0700.  After a crash, path holds either its old or its
    new content, never a part of it.
    """
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
        sync_directory(directory)
    except OSError as e:
        if os.path.exists(temp):
            os.unlink(temp)
        raise AnsibleActionFail(f"cannot write {path}: {e.strerror}") from None


def remove_file(path):
    """Delete the file at path; True if there was one."""
    try:
        os.unlink(path)
        sync_directory(os.path.dirname(os.path.abspath(path)))
    except FileNotFoundError:
        return False
    except OSError as e:
        raise AnsibleActionFail(f"cannot delete {path}: {e.strerror}; delete it by hand or fix the permissions of its directory") from None
    return True


def sync_directory(directory):
    """Make the renames and deletions in directory durable."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
