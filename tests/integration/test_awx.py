"""playbooks/enroll.yml as AWX / Automation Controller runs it: through ansible-runner, in a private data dir laid out
as AWX lays it out (project checkout, inventory, extra vars of the survey, credentials injected as environment
variables, the vault password answered at its prompt), and as concurrent job slices of one fleet."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import ansible_runner
import pytest

from helpers.ansible_runner import runner_envvars
from helpers.fleet import REPO, Fleet, iam_actions

VAULT_PASSWORD = "fleet vault secret\n"
SLICES = ("aws_accounts[0]", "aws_accounts[1]", "aws_accounts[2]")  # three job slices of a fleet of three accounts


def private_data_dir(root: Path, fleet: Fleet, aws, extra_vars: dict) -> Path:
    """What AWX writes before a job: project/ (the project's checkout), inventory/hosts, env/extravars (survey answers
    and extra vars), env/envvars (what the AWS credential injects), env/cmdline and env/passwords (the vault
    credential: --vault-id with the password answered at its prompt), env/settings."""
    shutil.copytree(REPO / "playbooks", root / "project" / "playbooks")
    (root / "inventory").mkdir(parents=True)
    shutil.copy(fleet.inventory, root / "inventory" / "hosts")
    env = root / "env"
    env.mkdir()
    (env / "extravars").write_text(json.dumps(extra_vars), encoding="utf-8")
    envvars = runner_envvars(aws, root, REPO)
    (env / "envvars").write_text(json.dumps(envvars), encoding="utf-8")
    (env / "cmdline").write_text("--vault-id mfa@prompt", encoding="utf-8")
    (env / "passwords").write_text(json.dumps({r"^Vault password \(mfa\):\s*?$": VAULT_PASSWORD.strip()}), encoding="utf-8")
    (env / "settings").write_text(json.dumps({"job_timeout": 600, "pexpect_timeout": 10, "suppress_ansible_output": True}), encoding="utf-8")
    for path in env.iterdir():
        path.chmod(0o600)
    return root


def fleet_summary(runner) -> dict:
    """What set_stats published for the workflow (AWX keeps it as the job's artifacts)."""
    stats = [event for event in runner.events if event.get("event") == "playbook_on_stats"]
    return stats[-1]["event_data"].get("artifact_data", {})


def assert_no_secret(aws, root: Path):
    """No file of the private data dir (stdout, job events, artifacts) holds a seed, a temporary credential or the vault password."""
    secrets = [value for value in aws.issued_seeds() + aws.issued_credentials() if len(value) >= 16] + [VAULT_PASSWORD.strip()]
    for path in (root / "artifacts").rglob("*"):
        if path.is_file() and path.name not in ("passwords",):
            content = path.read_text(encoding="utf-8", errors="replace")
            assert not [secret for secret in secrets if secret in content], f"{path} holds a secret"


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments", "analytics", "ledger"), users=("alice", "bob"))
    fleet.password.write_text(VAULT_PASSWORD, encoding="utf-8")
    return fleet


@pytest.mark.contract
def test_enroll_runs_in_ansible_runner_as_an_awx_job_and_publishes_the_fleet_summary(fleet, tmp_path):
    survey = {"enroll_vault_dir": str(fleet.seed_dir), "enroll_vault_id": "mfa"}
    root = private_data_dir(tmp_path / "job", fleet, fleet.aws, survey)

    job = ansible_runner.run(private_data_dir=str(root), playbook="playbooks/enroll.yml", quiet=True)

    assert (job.status, job.rc) == ("successful", 0), job.stdout.read()
    fleet.assert_converged()
    summary = fleet_summary(job)["mfa_enroll"]
    assert sorted(summary) == sorted(fleet.accounts)
    assert all(report["enrolled"] == ["alice", "bob"] and report["account_id"] == fleet.accounts[name] for name, report in summary.items())
    # The vault file is encrypted with the vault id of the AWX vault credential.
    assert (fleet.seed_dir / f"{fleet.accounts['payments']}.yml").read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT;1.2;AES256;mfa")
    assert_no_secret(fleet.aws, root)

    again = ansible_runner.run(private_data_dir=str(root), playbook="playbooks/enroll.yml", quiet=True)
    assert again.status == "successful" and all(count == 0 for count in again.stats["changed"].values())
    assert sorted(again.stats["ok"]) == sorted(fleet.accounts)


def test_three_concurrent_job_slices_enroll_the_fleet_without_conflict(fleet, tmp_path):
    survey = {"enroll_vault_dir": str(fleet.seed_dir), "enroll_vault_id": "mfa"}
    jobs = []
    for index, host_range in enumerate(SLICES):
        root = private_data_dir(tmp_path / f"slice-{index + 1}", fleet, fleet.aws, survey)
        thread, job = ansible_runner.run_async(private_data_dir=str(root), playbook="playbooks/enroll.yml", limit=host_range, quiet=True)
        jobs.append((thread, job, root))
    for thread, _job, _root in jobs:
        thread.join(timeout=600)

    for _thread, job, root in jobs:
        assert (job.status, job.rc) == ("successful", 0), job.stdout.read()
        assert len(job.stats["ok"]) == 1
        assert_no_secret(fleet.aws, root)
    # Each slice enrolled its own accounts, and together they cover the fleet once.
    enrolled = [sorted(fleet_summary(job)["mfa_enroll"]) for _thread, job, _root in jobs]
    assert sorted(name for names in enrolled for name in names) == sorted(fleet.accounts)
    fleet.assert_converged()
    assert iam_actions(fleet.aws.calls())["CreateVirtualMFADevice"] == len(fleet.accounts) * len(fleet.users)

    fleet.aws.reset_calls()
    whole = ansible_runner.run(private_data_dir=str(jobs[0][2]), playbook="playbooks/enroll.yml", quiet=True)
    assert whole.status == "successful" and sorted(whole.stats["ok"]) == sorted(fleet.accounts)
    assert all(count == 0 for count in whole.stats["changed"].values())
    assert fleet_summary(whole)["mfa_enroll"]["ledger"]["compliant"] == ["alice", "bob"]
