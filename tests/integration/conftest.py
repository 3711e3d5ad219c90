"""Fixtures of the integration suite: a strict local AWS endpoint per (xdist worker) process, and
Ansible runs against it."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "tests"))

# pylint: disable=wrong-import-position
from helpers.ansible_runner import Ansible  # noqa: E402
from local_aws import LocalAWS  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "contract: the flows every supported ansible-core must pass (tools/matrix.py runs them on each)")


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAWS]:
    """The endpoint of this process, started in a thread for the whole session."""
    aws = LocalAWS().start()
    yield aws
    aws.stop()


@pytest.fixture
def fresh_aws(local_aws: LocalAWS) -> LocalAWS:  # pylint: disable=redefined-outer-name
    """The endpoint, reset: no resources, no recorded calls, no faults."""
    local_aws.reset()
    return local_aws


@pytest.fixture
def ansible(local_aws: LocalAWS, tmp_path: Path) -> Ansible:  # pylint: disable=redefined-outer-name
    """Runs ansible-playbook against the endpoint in subprocesses (see helpers.ansible_runner)."""
    return Ansible(local_aws, tmp_path, REPO_ROOT)


@pytest.fixture
def vault(tmp_path: Path) -> dict[str, str]:
    """A vault password file (0600) and the environment that makes it the run's vault secret."""
    password = tmp_path / "vault-password"
    password.write_text("correct horse battery staple\n", encoding="utf-8")
    password.chmod(0o600)
    return {"ANSIBLE_VAULT_PASSWORD_FILE": str(password)}
