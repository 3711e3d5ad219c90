# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import stat

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.vault import VaultLib
from ansible.parsing.vault import VaultSecret

from ansible_collections.mfa.aws.tests.unit.utils.otp_reference import messages
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import check_writable
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import encryption_secret
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import read_decrypted
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import read_vaulted_yaml
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import remove_file
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import validated_mode
from ansible_collections.mfa.aws.plugins.plugin_utils._vault_files import write_atomically

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PNG = b"\x89PNG\r\n\x1a\n\x00\x01\xfe\xff" + bytes(range(256))


def vault_of(*secrets):
    """A VaultLib with the (vault id, password) secrets, as a run's --vault-id options give them."""
    return VaultLib([(vault_id, VaultSecret(password.encode())) for vault_id, password in secrets])


@pytest.fixture(name="vault")
def fixture_vault():
    return vault_of(("default", "correct horse battery staple"))


def failure(function, *args):
    with pytest.raises(AnsibleActionFail) as excinfo:
        function(*args)
    message = str(excinfo.value)
    assert "\n" not in message
    assert SEED not in messages(excinfo.value)
    return message


@pytest.mark.parametrize("mode, value", [("0600", 0o600), ("600", 0o600), ("0640", 0o640), ("0400", 0o400), ("0", 0)])
def test_modes_without_access_for_others_are_accepted(mode, value):
    assert validated_mode(mode) == value


@pytest.mark.parametrize("mode", ["0644", "0604", "0602", "0660", "0620", "0777", "1600", "rw-------", ""])
def test_modes_that_open_the_file_are_refused(mode):
    assert "must be an octal mode that gives no write or read access to others" in failure(validated_mode, mode)


def test_the_first_secret_encrypts_by_default():
    vault = vault_of(("first", "one"), ("second", "two"))
    assert encryption_secret(vault, None)[0] == "first"
    assert encryption_secret(vault, "second")[0] == "second"


def test_no_secret_or_an_unknown_vault_id_names_the_fix():
    assert "run with --vault-id or --vault-password-file" in failure(encryption_secret, vault_of(), None)
    assert "give it with --vault-id prod@<source>" in failure(encryption_secret, vault_of(("dev", "x")), "prod")


def test_write_atomically_creates_a_0700_directory_and_the_file_with_its_mode(vault, tmp_path):
    path = tmp_path / "new" / "alice.png.vault"
    secret_id, secret = encryption_secret(vault, None)
    write_atomically(str(path), vault.encrypt(PNG, secret, vault_id=secret_id), 0o600)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"$ANSIBLE_VAULT;")
    assert os.listdir(path.parent) == ["alice.png.vault"]
    assert read_decrypted(vault, str(path)) == PNG


def test_write_atomically_replaces_the_file_and_applies_the_mode(vault, tmp_path):
    path = tmp_path / "seeds.yml"
    path.write_bytes(b"old")
    path.chmod(0o644)
    secret_id, secret = encryption_secret(vault, None)
    write_atomically(str(path), vault.encrypt("alice: {}\n", secret, vault_id=secret_id), 0o640)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert read_vaulted_yaml(vault, str(path)) == {"alice": {}}
    assert os.listdir(tmp_path) == ["seeds.yml"]


def test_write_atomically_in_a_file_fails_with_the_fix(tmp_path):
    (tmp_path / "a-file").write_bytes(b"")
    message = failure(write_atomically, str(tmp_path / "a-file" / "seeds.yml"), b"$ANSIBLE_VAULT;...", 0o600)
    assert "choose a writable directory" in message


def test_reading_a_missing_file_gives_none(vault, tmp_path):
    assert read_decrypted(vault, str(tmp_path / "missing")) is None
    assert read_vaulted_yaml(vault, str(tmp_path / "missing")) is None


def test_a_plaintext_file_is_refused(vault, tmp_path):
    path = tmp_path / "seeds.yml"
    path.write_text(f"alice: {SEED}\n", encoding="utf-8")
    assert "is not ansible-vault encrypted: move it away" in failure(read_decrypted, vault, str(path))


def test_a_file_of_another_secret_names_the_fix(vault, tmp_path):
    path = tmp_path / "seeds.yml"
    other = vault_of(("default", "another secret"))
    path.write_bytes(other.encrypt(f"alice: {SEED}\n", encryption_secret(other, None)[1]))
    assert "give the vault id it was written with" in failure(read_decrypted, vault, str(path))


def test_an_encrypted_file_that_is_not_yaml_is_refused(vault, tmp_path):
    path = tmp_path / "seeds.yml"
    path.write_bytes(vault.encrypt(f"alice: [{SEED}\n", encryption_secret(vault, None)[1]))
    assert "decrypts but is not YAML" in failure(read_vaulted_yaml, vault, str(path))


def test_check_writable(tmp_path):
    check_writable(str(tmp_path / "new" / "deeper" / "seeds.yml"))
    assert not (tmp_path / "new").exists()
    (tmp_path / "a-file").write_bytes(b"")
    assert "is not a writable directory" in failure(check_writable, str(tmp_path / "a-file" / "seeds.yml"))


def test_remove_file(tmp_path):
    path = tmp_path / "alice.yml"
    path.write_bytes(b"")
    assert remove_file(str(path)) is True
    assert not path.exists()
    assert remove_file(str(path)) is False
    (tmp_path / "a-dir").mkdir()
    assert "delete it by hand" in failure(remove_file, str(tmp_path / "a-dir"))


@pytest.mark.parametrize(
    "damage, damaged",
    [
        (lambda data: data[: len(data) // 2], True),  # cut short
        (lambda data: data[: len(data) // 2 + 1], True),
        (lambda data: data[:-40] + b"\n", True),
        (lambda data: data[:80] + b"z" + data[81:], True),  # a byte that is no hex digit
        (lambda data: data.replace(b"$ANSIBLE_VAULT;1.1;AES256", b"$ANSIBLE_VAULT;1.1;AES512"), True),
        (lambda data: data[:80] + (b"0" if data[80:81] != b"0" else b"1") + data[81:], True),  # a hex digit changed
    ],
)
def test_a_damaged_file_is_told_from_a_wrong_secret_and_names_the_fix(vault, tmp_path, damage, damaged):
    path = tmp_path / "seeds.yml"
    data = vault.encrypt(f"alice:\n  base32_seed: {SEED}\n".encode() * 20)
    path.write_bytes(damage(data))
    with pytest.raises(AnsibleActionFail) as raised:
        read_decrypted(vault, str(path))
    message = str(raised.value)
    assert SEED not in message and "\n" not in message
    if damaged:
        assert message.startswith(f"{path} is damaged (") and message.endswith("restore it from a backup; a vault secret cannot help")
    else:
        assert message == (f"cannot decrypt {path} with the vault secrets of this run: give the vault id it was written with "
                           "(if it is the right one, the file was altered: restore it from a backup)")


def test_a_whole_file_under_another_secret_asks_for_the_vault_id(vault, tmp_path):
    path = tmp_path / "seeds.yml"
    path.write_bytes(vault_of(("other", "another secret")).encrypt(b"alice: {}\n"))
    with pytest.raises(AnsibleActionFail) as raised:
        read_decrypted(vault, str(path))
    assert str(raised.value) == (f"cannot decrypt {path} with the vault secrets of this run: give the vault id it was written with "
                                 "(if it is the right one, the file was altered: restore it from a backup)")
