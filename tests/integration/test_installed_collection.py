"""The collection as users have it: built with ansible-galaxy collection build, installed with ansible-galaxy collection
install, its playbooks run by their FQCN from an empty directory outside the repository, with variables typed on the
command line. Every path a user gives (or leaves to its default) is relative to that directory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.ansible_runner import collections_path
from helpers.fleet import REPO, Fleet

BIN = Path(sys.executable).parent
ROOT_ACCOUNT = "123456789012"  # the account of the endpoint's own credentials, the organisation's management account


@pytest.fixture(scope="module", name="installed")
def fixture_installed(tmp_path_factory):
    """ANSIBLE_COLLECTIONS_PATH with mfa.aws installed from its tarball (the support matrix installs it already)."""
    if os.environ.get("MFA_AWS_TEST_COLLECTIONS"):
        return os.environ["MFA_AWS_TEST_COLLECTIONS"]
    root = tmp_path_factory.mktemp("galaxy")
    env = dict(os.environ, ANSIBLE_HOME=str(root / "home"), ANSIBLE_COLLECTIONS_PATH=str(root / "collections"), ANSIBLE_NOCOLOR="1")
    built = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(root), str(REPO)], env=env,
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = root.glob("mfa-aws-*.tar.gz")
    done = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(root / "collections"), str(tarball)],
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # amazon.aws from the venv; mfa.aws from the tarball, which comes first.
    return os.pathsep.join([str(root / "collections"), collections_path(REPO)])


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    return Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice", "bob"))


@pytest.fixture(name="here")
def fixture_here(tmp_path):
    """An empty directory outside the repository, where the user runs ansible-playbook."""
    here = tmp_path / "work"
    here.mkdir()
    assert REPO not in here.parents
    return here


def run(ansible, installed, here, fleet, playbook, *args, inventory=None):
    result = ansible.playbook(playbook, inventory=inventory or fleet.inventory, env={**fleet.env, "ANSIBLE_COLLECTIONS_PATH": installed},
                              args=args, cwd=here)
    return result


def installed_playbooks(installed):
    for root in installed.split(os.pathsep):
        path = Path(root) / "ansible_collections" / "mfa" / "aws" / "playbooks"
        if path.is_dir():
            return path
    raise AssertionError(f"no mfa.aws in {installed}")


@pytest.mark.contract
def test_fqcn_playbooks_keep_every_file_in_the_directory_they_run_from(fleet, ansible, installed, here):
    playbooks = installed_playbooks(installed)
    before = sorted(path.name for path in playbooks.iterdir())
    account = fleet.accounts["payments"]

    audit = run(ansible, installed, here, fleet, "mfa.aws.audit", "-e", "audit_report_dir=reports")
    assert audit.rc == 0, audit.output
    assert json.loads((here / "reports" / "mfa-audit.json").read_text(encoding="utf-8"))["accounts"][0]["account_id"] == account
    default_audit = run(ansible, installed, here, fleet, "mfa.aws.audit")
    assert default_audit.rc == 0, default_audit.output
    assert (here / "audit-reports" / "mfa-audit.md").is_file()

    enroll = run(ansible, installed, here, fleet, "mfa.aws.enroll")
    assert enroll.rc == 0, enroll.output
    assert (here / "mfa-seeds" / f"{account}.yml").stat().st_mode & 0o777 == 0o600
    verify = run(ansible, installed, here, fleet, "mfa.aws.verify_seeds")
    assert verify.rc == 0, verify.output
    assert f"{account}: AWS accepted codes from the stored seeds of alice, bob" in verify.output

    # Numbers typed on the command line are text: the roles take them as numbers.
    rotate = run(ansible, installed, here, fleet, "mfa.aws.rotate", "-e", "enroll_rotate_max_age_days=0", "-e", "enroll_lock_timeout=30",
                 "-e", "enroll_lock_stale_after=600")
    assert rotate.rc == 0, rotate.output
    assert "rotated 2 device(s) alice, bob" in rotate.output
    remove = run(ansible, installed, here, fleet, "mfa.aws.remove", "-e", '{"enroll_remove_users": ["bob"]}')
    assert remove.rc == 0, remove.output
    assert set(fleet.stored("payments")) == set()  # the fleet's own seed dir was never used
    again = run(ansible, installed, here, fleet, "mfa.aws.verify_seeds")
    assert again.rc == 0 and "stored seeds of alice" in again.output, again.output

    assert sorted(path.name for path in playbooks.iterdir()) == before
    assert sorted(path.name for path in here.iterdir()) == ["audit-reports", "mfa-seeds", "reports"]


@pytest.mark.contract
@pytest.mark.parametrize("false", ["false", "no", "0"])
def test_booleans_typed_on_the_command_line_are_booleans(fleet, ansible, installed, here, false):
    # Without a role, the credentials in use (the management account's) are checked against the member account.
    session = run(ansible, installed, here, fleet, "mfa.aws.audit", "-e", f"account_session_assume_role={false}", "-e",
                  f"audit_stored_seeds={false}")
    assert session.rc != 0
    assert f"the credentials in use reach account {ROOT_ACCOUNT}, not {fleet.accounts['payments']}" in session.output

    audit = run(ansible, installed, here, fleet, "mfa.aws.audit", "-e", f"audit_stored_seeds={false}", "-e", f"audit_root_sessions={false}")
    assert audit.rc == 0, audit.output
    account = json.loads((here / "audit-reports" / "mfa-audit.json").read_text(encoding="utf-8"))["accounts"][0]
    assert account["seeds_unchecked"] == "audit_stored_seeds is false"
    assert account["root"]["devices_unavailable"] == "root sessions were not asked for (audit_root_sessions=false)"


@pytest.mark.contract
def test_one_account_without_an_inventory_is_the_account_of_the_credentials_in_use(fresh_aws, ansible, installed, here, tmp_path):
    iam = fresh_aws.client("iam")
    for user in ("carol", "dave"):
        iam.create_user(UserName=user)
    env = {"ANSIBLE_COLLECTIONS_PATH": installed, "ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "vault-password")}
    (tmp_path / "vault-password").write_text("local vault secret\n", encoding="utf-8")

    audit = ansible.playbook("mfa.aws.audit", inventory="localhost,", env=env, cwd=here)
    assert audit.rc == 0, audit.output
    report = json.loads((here / "audit-reports" / "mfa-audit.json").read_text(encoding="utf-8"))
    assert [account["account_id"] for account in report["accounts"]] == [ROOT_ACCOUNT]
    assert {"carol", "dave"} <= {user["user_name"] for user in report["accounts"][0]["users"]}

    enroll = ansible.playbook("mfa.aws.enroll", inventory="localhost,", env=env, cwd=here, args=("-e", '{"enroll_users": ["carol", "dave"]}'))
    assert enroll.rc == 0, enroll.output
    assert f"{ROOT_ACCOUNT}: enrolled 2 user(s) carol, dave" in enroll.output
    assert (here / "mfa-seeds" / f"{ROOT_ACCOUNT}.yml").is_file()
    verify = ansible.playbook("mfa.aws.verify_seeds", inventory="localhost,", env=env, cwd=here)
    assert verify.rc == 0 and f"{ROOT_ACCOUNT}: AWS accepted codes from the stored seeds of carol, dave" in verify.output, verify.output
