"""The example account, serial numbers and seeds of the seed store tests, and the read every store must answer."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ACCOUNT = "123456789012"
SERIAL = "arn:aws:iam::123456789012:mfa/{}"
SEEDS = {"alice": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "bob": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}


def ansible_vault(*args: str, vault_env: Mapping[str, str]) -> bytes:
    """What this interpreter's ansible-vault prints for args, with the vault secret of vault_env (the environment of the
    vault fixture, or a fleet's)."""
    command = [str(Path(sys.executable).parent / "ansible-vault"), *args, "--vault-password-file", vault_env["ANSIBLE_VAULT_PASSWORD_FILE"]]
    return subprocess.run(command, capture_output=True, check=True).stdout


def decrypt(path: Path, vault_env: Mapping[str, str]) -> Any:
    """What an ansible-vault encrypted YAML file holds."""
    return yaml.safe_load(ansible_vault("view", str(path), vault_env=vault_env))


def read_stored(ansible: Any, fqcn: str, args: dict[str, Any], env: dict[str, str], secrets: Iterable[str]) -> dict[str, Any]:
    """Read a store with the module `fqcn` at -vvvv without asking for its seeds: what it holds (its `stored` result), after
    checking that the read changed nothing and that none of `secrets` reached the output."""
    read = ansible.module(fqcn, args, verbosity=4, env=env)
    assert read.rc == 0, read.output
    assert read.result["changed"] is False
    assert not any(secret in read.output for secret in secrets)
    return read.result["stored"]
