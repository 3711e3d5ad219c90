# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side work of mfa.aws.seed_qr_code: ansible-vault encrypted QR codes of MFA seeds, one per user."""

from __future__ import annotations

import datetime
import io
import os


from ansible.errors import AnsibleActionFail
from ansible.parsing.vault import VaultLib

from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import ENTRY_FIELDS
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import has_device_keys
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import account_id_problem
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import is_user_name
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import public_entries
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import same_device
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import user_name_problem
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import OtpError
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import manual_entry_key
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import normalize_seed
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import otpauth_uri
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import SecretsAction
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import check_writable
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import dump_yaml
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import encryption_secret
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import read_decrypted
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import read_vaulted_yaml
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import remove_file
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import validated_mode
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import write_atomically

try:
    import segno
except ImportError as exc:
    SEGNO_IMPORT_ERROR: ImportError | None = exc
else:
    SEGNO_IMPORT_ERROR = None

_PNG_SUFFIX = ".png.vault"
_ENTRY_SUFFIX = ".yml"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Error correction level M (15 % of the code can be lost), 8 pixels a module and the 4-module quiet zone of the standard:
# about 400 pixels square, which phone cameras read from a screen.
_QR_ERROR = "m"
_QR_SCALE = 8
_QR_BORDER = 4
_HEADER = (
    "# MFA seed of one IAM user, written by mfa.aws.seed_qr_code: scan the QR code of {user}{png}"
    " (decrypted) or type manual_entry_key into an authenticator app\n"
)


class ActionModule(SecretsAction):

    DOING = "writing the QR codes"
    OPTIONS = dict(
        dir=dict(type="path", required=True),
        issuer=dict(type="str", default="AWS"),
        account_id=dict(type="str"),
        account_alias=dict(type="str"),
    )

    def _run(self, result, args):
        directory = args["dir"]
        mode = validated_mode(args["mode"])
        seeds = _validated_seeds(args["seeds"])
        remove = [_checked_user_name(user, "remove") for user in args["remove"] if user not in seeds]
        if seeds and SEGNO_IMPORT_ERROR is not None:
            raise AnsibleActionFail("mfa.aws.seed_qr_code needs the Python library segno on the controller (pip install segno)")
        account = _account(args["account_id"], args["account_alias"]) if seeds else None
        vault = VaultLib(self._loader._vault.secrets)  # pylint: disable=protected-access

        before = _stored(vault, directory)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        writes = {}
        for user, seed in seeds.items():
            current = before.get(user)
            entry = _entry(user, seed, args["issuer"], f"{user}@{account}", current, now)
            if entry != current or not _current_files(vault, _paths(directory, user), mode):
                writes[user] = entry
        removals = [user for user in dict.fromkeys(remove) if any(os.path.lexists(path) for path in _paths(directory, user).values())]

        if args["check_writable"]:
            encryption_secret(vault, args["vault_id"])
            check_writable(os.path.join(directory, ".probe"))
        after = {user: entry for user, entry in before.items() if user not in removals}
        after.update(writes)
        changed = bool(writes or removals)
        if writes:
            # Everything that can fail is tried in check mode too, short of writing.
            secret_id, secret = encryption_secret(vault, args["vault_id"])
            images = {user: _qr_png(user, entry["otpauth_uri"]) for user, entry in writes.items()}
            if self._task.check_mode:
                check_writable(_paths(directory, next(iter(writes)))["entry"])
            else:
                for user, entry in writes.items():
                    _write(vault, secret_id, secret, _paths(directory, user), entry, images[user], mode)
        if removals and not self._task.check_mode:
            for user in removals:
                # The entry first: a PNG without its entry is not a stored seed, and a later run deletes it.
                paths = _paths(directory, user)
                remove_file(paths["entry"])
                remove_file(paths["png"])

        result.update(
            changed=changed,
            stored={user: entry["serial_number"] for user, entry in sorted(after.items())},
            files={user: _paths(directory, user) for user in sorted(after)},
            # A QR code is of one device, with no previous one.
            entries=public_entries(after),
        )
        if self._task.diff:
            result["diff"] = dict(before=_public(before), after=_public(after), before_header=directory, after_header=directory)
        return result


def _checked_user_name(user, option):
    """The user name, when IAM accepts it: then nothing in it can leave the directory once a suffix is added."""
    problem = user_name_problem(user)
    if problem:
        raise AnsibleActionFail(f"{option}: {problem}: give the user's name")
    return str(user)


def _validated_seeds(seeds):
    """The seeds option, checked: user name -> {serial_number, base32_seed (normalised)[, created]}."""
    checked = {}
    for user, entry in seeds.items():
        user = _checked_user_name(user, "seeds")
        if not has_device_keys(entry):
            raise AnsibleActionFail(f"seeds[{user!r}] must be a dictionary with the strings serial_number and base32_seed")
        try:
            seed = normalize_seed(entry["base32_seed"])
        except OtpError as err:
            raise AnsibleActionFail(f"seeds[{user!r}]: {err}") from None
        # str() drops Ansible's data tags, which the YAML dumper cannot represent.
        checked[user] = {"serial_number": str(entry["serial_number"]), "base32_seed": seed, "created": str(entry.get("created") or "")}
    return checked


def _account(account_id, account_alias):
    """What follows user@ in the account labels: the account id, or the alias and the id."""
    problem = account_id_problem(account_id, "the AWS account the devices belong to")
    if problem:
        raise AnsibleActionFail(problem)
    return f"{account_alias} ({account_id})" if account_alias else account_id


def _entry(user, seed, issuer, account_label, current, now):
    """What <user>.yml holds for the seed; created kept from the current entry of the same device."""
    try:
        uri = otpauth_uri(seed["base32_seed"], account_label, issuer)
    except OtpError as err:
        raise AnsibleActionFail(f"cannot build the otpauth URI of {user!r}: {err}") from None
    return {
        "user_name": user,
        "serial_number": seed["serial_number"],
        "issuer": str(issuer or ""),
        "account_label": str(account_label),
        "otpauth_uri": uri,
        "base32_seed": seed["base32_seed"],
        "manual_entry_key": manual_entry_key(seed["base32_seed"]),
        "created": seed["created"] or (current.get("created") if same_device(current, seed) else None) or now,
    }


def _paths(directory, user):
    return {"png": os.path.join(directory, user + _PNG_SUFFIX), "entry": os.path.join(directory, user + _ENTRY_SUFFIX)}


def _stored(vault, directory):
    """The entries in directory, by user: every <user>.yml with a <user>.png.vault beside it ({} without the directory)."""
    try:
        names = set(os.listdir(directory))
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise AnsibleActionFail(f"cannot read the directory {directory}: {e.strerror}; choose a directory this run can write") from None
    stored = {}
    for name in sorted(names):
        user = name[: -len(_ENTRY_SUFFIX)]
        if not name.endswith(_ENTRY_SUFFIX) or user + _PNG_SUFFIX not in names or not is_user_name(user):
            continue
        path = _paths(directory, user)["entry"]
        entry = read_vaulted_yaml(vault, path)
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) or not entry.get(k) for k in ENTRY_FIELDS):
            raise AnsibleActionFail(f"{path} is not an entry of mfa.aws.seed_qr_code (serial_number, base32_seed, created): move it away")
        stored[user] = entry
    return stored


def _current_files(vault, paths, mode):
    """Whether the PNG decrypts to a PNG and both files have the wanted mode (the entry is compared by the caller)."""
    try:
        modes = [os.stat(path).st_mode & 0o7777 for path in paths.values()]
    except FileNotFoundError:
        return False
    except OSError as e:
        raise AnsibleActionFail(f"cannot read {paths['png']}: {e.strerror}; choose a directory this run can write") from None
    png = read_decrypted(vault, paths["png"])
    return modes == [mode, mode] and png is not None and png.startswith(_PNG_SIGNATURE)


def _qr_png(user, uri):
    """The PNG image of the QR code of uri, made in memory."""
    try:
        code = segno.make_qr(uri, error=_QR_ERROR)
    except segno.DataOverflowError:
        raise AnsibleActionFail(f"the otpauth URI of {user!r} is too long for a QR code: shorten the issuer or the account alias") from None
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=_QR_SCALE, border=_QR_BORDER)
    return buffer.getvalue()


def _write(vault, secret_id, secret, paths, entry, png, mode):
    """Encrypt and write the PNG, then the entry (which makes the pair count as stored), and read both back."""
    text = _HEADER.format(user=entry["user_name"], png=_PNG_SUFFIX) + dump_yaml(entry, default_flow_style=False, sort_keys=False, allow_unicode=True)
    write_atomically(paths["png"], vault.encrypt(png, secret, vault_id=secret_id), mode)
    write_atomically(paths["entry"], vault.encrypt(text, secret, vault_id=secret_id), mode)
    if read_decrypted(vault, paths["png"]) != png or read_vaulted_yaml(vault, paths["entry"]) != entry:
        raise AnsibleActionFail(f"the files of {entry['user_name']!r} do not read back as written: check the file system and the vault secret")


def _public(entries):
    """What the diff shows: which device each user's QR code belongs to, never the seed or the URI."""
    return {user: {"serial_number": entry.get("serial_number")} for user, entry in sorted(entries.items())}
