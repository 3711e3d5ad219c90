"""`make demo`: the collection's main job against an embedded local AWS endpoint.

Starts the strict local endpoint (moto in server mode on 127.0.0.1), fills it with an
organisation of example member accounts and IAM users, then runs the collection's
playbooks against it with ansible-playbook and prints what they did.  Everything lives in
a temporary folder (or --workdir) and the endpoint stops when the demo ends.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from local_aws import LocalAWS  # noqa: E402  pylint: disable=wrong-import-position

EXAMPLE_ACCOUNTS = {
    "payments": ["alice", "bob", "carol"],
    "analytics": ["dave", "erin"],
    "sandbox": ["frank", "grace", "heidi", "ivan"],
}


def banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 72 - len(text)), flush=True)


def seed_organisation(endpoint: LocalAWS) -> dict[str, str]:
    """Create the organisation, its member accounts and their users; return name → account id."""
    org = endpoint.client("organizations")
    org.create_organization(FeatureSet="ALL")
    accounts = {}
    for name, users in EXAMPLE_ACCOUNTS.items():
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        account_id = status["AccountId"]
        accounts[name] = account_id
        iam = endpoint.client("iam", account_id=account_id)
        for user in users:
            iam.create_user(UserName=user, Tags=[{"Key": "team", "Value": name}])
    # Centralised root access: the audit lists root users' MFA devices through root sessions. The analytics root user
    # has an authenticator app and a passkey, registered in the console; the others have no MFA yet.
    endpoint.client("iam").enable_organizations_root_credentials_management()
    endpoint.client("iam").enable_organizations_root_sessions()
    analytics = accounts.get("analytics")
    if analytics:
        endpoint.set_root_mfa(True, account_id=analytics, devices=[f"arn:aws:iam::{analytics}:mfa/root", f"arn:aws:iam::{analytics}:u2f/root/passkey-7f3a"])
    return accounts


def write_inventory(workdir: str, accounts: dict[str, str]) -> str:
    path = os.path.join(workdir, "accounts.yml")
    lines = ["---", "aws_accounts:", "  hosts:"]
    for name, account_id in accounts.items():
        lines += [f"    {name}:", f"      aws_account_id: \"{account_id}\"", f"      aws_account_email: {name}@example.com"]
    lines += ["  vars:", "    ansible_connection: local", f"    ansible_python_interpreter: {sys.executable}", ""]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return path


def write_vault_password(workdir: str) -> str:
    """A random vault password for this demo's seed files, readable by its owner only."""
    path = os.path.join(workdir, "vault-password")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def ansible_env(endpoint: LocalAWS, workdir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(endpoint.env)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_HOME=os.path.join(workdir, "ansible-home"),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_FORCE_COLOR="false",
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    )
    return env


def run_playbook(env: dict[str, str], *args: str) -> None:
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), *args]
    print("$ " + " ".join(os.path.relpath(a, REPO) if a.startswith(REPO) else a for a in command[1:]), flush=True)
    started = time.monotonic()
    subprocess.run(command, env=env, cwd=REPO, check=True)
    print(f"({time.monotonic() - started:.1f} s)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="keep the demo's files (inventory, vault files, reports) here")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="mfa-aws-demo-")
    os.makedirs(workdir, mode=0o700, exist_ok=True)

    endpoint = LocalAWS()
    endpoint.start()
    try:
        banner(f"local AWS endpoint at {endpoint.url}")
        accounts = seed_organisation(endpoint)
        for name, account_id in accounts.items():
            print(f"member account {account_id} ({name}): users {', '.join(EXAMPLE_ACCOUNTS[name])}")
        inventory = write_inventory(workdir, accounts)
        env = ansible_env(endpoint, workdir)

        reports = os.path.join(workdir, "reports")
        vault_password = write_vault_password(workdir)
        seeds = os.path.join(workdir, "mfa-seeds")
        banner("audit before (read-only)")
        run_playbook(env, "-i", inventory, os.path.join(REPO, "playbooks", "audit.yml"), "-e", f"audit_report_dir={reports}/before")
        banner("enroll every IAM user without MFA, check mode first")
        enroll = ["-i", inventory, os.path.join(REPO, "playbooks", "enroll.yml"), "--vault-password-file", vault_password,
                  "-e", f"enroll_vault_dir={seeds}", "--forks", "10"]
        run_playbook(env, *enroll, "--check")
        run_playbook(env, *enroll)
        banner("enroll again: nothing left to do")
        run_playbook(env, *enroll)
        banner("rotate the devices of one account (new device and seed; the old ones deleted)")
        run_playbook(env, "-i", inventory, os.path.join(REPO, "playbooks", "rotate.yml"), "--vault-password-file", vault_password,
                     "-e", f"enroll_vault_dir={seeds}", "-e", '{"enroll_rotate_max_age_days": 0}', "--limit", "payments")
        banner("audit after")
        run_playbook(env, "-i", inventory, os.path.join(REPO, "playbooks", "audit.yml"), "-e", f"audit_report_dir={reports}/after")
        banner("codes computed from the vault file are accepted by AWS")
        run_playbook(env, "-i", inventory, os.path.join(REPO, "playbooks", "verify_seeds.yml"), "--vault-password-file", vault_password,
                     "-e", f"verify_vault_dir={seeds}")
        print(f"\nSeed files (ansible-vault encrypted, mode 0600): {', '.join(sorted(os.listdir(seeds)))}")
        print(f"Audit reports: {reports}/after/mfa-audit.md and mfa-audit.json")
        handoffs = os.path.join(reports, "after", "root-handoff")
        print(f"Console hand-offs of the root users without MFA, for tickets: {', '.join(sorted(os.listdir(handoffs)))} in {handoffs}")
        print(f"\nDemo files are in {workdir}")
    finally:
        endpoint.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
