"""mfa.aws.seed_vault_file: seeds kept in an ansible-vault encrypted file on the controller."""

from __future__ import annotations

import stat
from pathlib import Path

import pyotp
import pytest
import yaml

from helpers.ansible_runner import module_result
from helpers.seeds import SEEDS
from helpers.seeds import SERIAL
from helpers.seeds import decrypt
from helpers.seeds import read_stored


def store_playbook(path: Path, users: list[str], remove: list[str] | None = None) -> str:
    seeds = {user: {"serial_number": SERIAL.format(user), "base32_seed": SEEDS[user]} for user in users}
    task = {"path": str(path), "seeds": seeds, "remove": remove or []}
    return yaml.safe_dump(
        [{"hosts": "localhost", "gather_facts": False,
          "tasks": [{"name": "module under test", "mfa.aws.seed_vault_file": task, "register": "module_result", "no_log": True}]}]
    )


def test_check_then_store_then_idempotent(ansible, vault, tmp_path):
    path = tmp_path / "seeds" / "123456789012.yml"

    checked = ansible.playbook(store_playbook(path, ["alice"]), check=True, env=vault)
    assert checked.rc == 0, checked.output
    assert checked.recap["localhost"]["changed"] == 1
    assert not path.exists()

    stored = ansible.playbook(store_playbook(path, ["alice"]), env=vault, verbosity=4)
    assert stored.rc == 0, stored.output
    assert stored.recap["localhost"]["changed"] == 1
    assert SEEDS["alice"] not in stored.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;") and SEEDS["alice"].encode() not in raw
    content = decrypt(path, vault)
    assert content["alice"]["serial_number"] == SERIAL.format("alice")
    assert content["alice"]["base32_seed"] == SEEDS["alice"]
    assert content["alice"]["created"]

    for check in (True, False):
        again = ansible.playbook(store_playbook(path, ["alice"]), check=check, env=vault)
        assert again.rc == 0, again.output
        assert again.recap["localhost"]["changed"] == 0
    assert decrypt(path, vault)["alice"]["created"] == content["alice"]["created"]


def test_merge_keeps_entries_and_remove_drops_only_the_named(ansible, vault, tmp_path):
    path = tmp_path / "123456789012.yml"
    assert ansible.playbook(store_playbook(path, ["alice"]), env=vault).rc == 0
    assert ansible.playbook(store_playbook(path, ["bob"]), env=vault).rc == 0
    assert set(decrypt(path, vault)) == {"alice", "bob"}

    removed = ansible.playbook(store_playbook(path, [], remove=["alice", "nobody"]), env=vault, diff=True)
    assert removed.rc == 0, removed.output
    assert set(decrypt(path, vault)) == {"bob"}
    assert SEEDS["bob"] not in removed.output


def test_read_only_call_returns_serials_never_seeds(ansible, vault, tmp_path):
    path = tmp_path / "123456789012.yml"
    assert ansible.playbook(store_playbook(path, ["alice", "bob"]), env=vault).rc == 0
    stored = read_stored(ansible, "mfa.aws.seed_vault_file", {"path": str(path)}, vault, SEEDS.values())
    assert stored == {"alice": SERIAL.format("alice"), "bob": SERIAL.format("bob")}


def test_seeds_read_back_give_the_codes_of_the_device(ansible, vault, tmp_path):
    path = tmp_path / "123456789012.yml"
    assert ansible.playbook(store_playbook(path, ["alice"]), env=vault).rc == 0
    at = 1_700_000_000
    playbook = yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "load", "ansible.builtin.include_vars": {"file": str(path), "name": "mfa_seeds"}, "no_log": True},
        {"name": "module under test", "ansible.builtin.set_fact": {
            "codes": "{{ lookup('mfa.aws.totp', mfa_seeds.alice.base32_seed, pair=true, at=%d) }}" % at}},
    ]}])
    run = ansible.playbook(playbook, env=vault)
    assert run.rc == 0, run.output
    totp = pyotp.TOTP(SEEDS["alice"])
    assert module_result(run)["ansible_facts"]["codes"] == [totp.at(at - 30), totp.at(at)]


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no vault secret", "no vault secret to encrypt the seeds with: run with --vault-id or --vault-password-file"),
        ("plaintext file", "is not ansible-vault encrypted"),
        ("wrong vault secret", "cannot decrypt"),
        ("parent is a file", "seeds.yml: Not a directory; choose a path in a directory this run can write"),
        ("open mode", "must be an octal mode that gives no write or read access to others"),
    ],
)
def test_bad_input_fails_with_a_clear_message_and_writes_nothing(ansible, vault, tmp_path, case, expected):
    path = tmp_path / "seeds.yml"
    env = dict(vault)
    extra = {}
    if case == "no vault secret":
        env = {}
    elif case == "plaintext file":
        path.write_text("alice: {}\n", encoding="utf-8")
    elif case == "wrong vault secret":
        assert ansible.playbook(store_playbook(path, ["bob"]), env=vault).rc == 0
        other = tmp_path / "other-password"
        other.write_text("another secret\n", encoding="utf-8")
        env = {"ANSIBLE_VAULT_PASSWORD_FILE": str(other)}
    elif case == "parent is a file":
        (tmp_path / "a-file").write_text("", encoding="utf-8")
        path = tmp_path / "a-file" / "seeds.yml"
    elif case == "open mode":
        extra = {"mode": "0644"}
    before = path.read_bytes() if path.is_file() else None

    seeds = {"alice": {"serial_number": SERIAL.format("alice"), "base32_seed": SEEDS["alice"]}}
    playbook = yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "module under test", "mfa.aws.seed_vault_file": {"path": str(path), "seeds": seeds, **extra}}]}])
    run = ansible.playbook(playbook, env=env)
    assert run.rc != 0
    message = module_result(run)["msg"]
    assert expected in message
    assert "\n" not in message
    assert SEEDS["alice"] not in run.output
    assert (path.read_bytes() if path.is_file() else None) == before
