"""A fleet of member accounts with IAM users on the strict local endpoint, an inventory of them, a vault secret,
and views of what AWS and the seed stores hold."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml
from moto.iam.models import iam_backends

from helpers.seeds import ansible_vault
from helpers.seeds import decrypt

REPO = Path(__file__).resolve().parents[3]
ENROLL = REPO / "playbooks" / "enroll.yml"
ACCOUNTS = ("payments", "analytics", "sandbox")
USERS = ("alice", "bob", "carol", "dave", "erin")


def enroll_play() -> dict:
    """The play of playbooks/enroll.yml that runs the enroll role (its vars and module_defaults), with the default strategy,
    to build one-play variants of the enrollment from: set its roles (mfa.aws.account_session first) and tasks."""
    plays = yaml.safe_load(ENROLL.read_text(encoding="utf-8"))
    play = next(play for play in plays if {"role": "mfa.aws.enroll"} in play.get("roles", []))
    play.pop("strategy", None)
    return play


class Fleet:
    """An organisation of member accounts with IAM users, an inventory of them, and a vault secret."""

    def __init__(self, aws, tmp_path: Path, accounts=ACCOUNTS, users=USERS):
        self.aws = aws
        org = aws.client("organizations")
        org.create_organization(FeatureSet="ALL")
        self.accounts = {}
        for name in accounts:
            status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
            self.accounts[name] = status["AccountId"]
            iam = aws.client("iam", account_id=status["AccountId"])
            for user in users:
                iam.create_user(UserName=user)
        self.users = users
        self.seed_dir = tmp_path / "mfa-seeds"
        self.inventory = tmp_path / "accounts.yml"
        hosts = {name: {"aws_account_id": account_id} for name, account_id in self.accounts.items()}
        inventory = {"aws_accounts": {"hosts": hosts, "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
        self.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")
        self.password = tmp_path / "vault-password"
        self.password.write_text("fleet vault secret\n", encoding="utf-8")
        self.password.chmod(0o600)
        self.env = {"ANSIBLE_VAULT_PASSWORD_FILE": str(self.password)}
        aws.reset_calls()

    def iam(self, name):
        return self.aws.client("iam", account_id=self.accounts[name])

    def enroll(self, ansible, check=False, verbosity=0, extra_vars=None, playbook=ENROLL, env=None):
        return ansible.playbook(
            playbook, inventory=self.inventory, check=check, verbosity=verbosity,
            extra_vars={"enroll_vault_dir": str(self.seed_dir), **(extra_vars or {})}, env={**self.env, **(env or {})},
        )

    def start_enroll(self, ansible, extra_vars=None, playbook=ENROLL):
        """An enroll run started in the background (subprocess.Popen, in a session of its own)."""
        return ansible.start(playbook, inventory=self.inventory, extra_vars={"enroll_vault_dir": str(self.seed_dir), **(extra_vars or {})},
                             env=self.env)

    def lock_file(self, name):
        """The lock file of an account, beside its vault file."""
        return self.seed_dir / f"{self.accounts[name]}.yml.lock"

    def stored(self, name):
        """The decrypted vault file of an account ({} when there is none)."""
        path = self.seed_dir / f"{self.accounts[name]}.yml"
        if not path.exists():
            return {}
        return decrypt(path, self.env) or {}

    def write_stored(self, name, entries):
        """Replace the vault file of an account with these entries, as an earlier run would have left it."""
        path = self.seed_dir / f"{self.accounts[name]}.yml"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(entries), encoding="utf-8")
        path.chmod(0o600)
        ansible_vault("encrypt", str(path), vault_env=self.env)

    def enabled_devices(self, name):
        """user -> serial numbers of its enabled MFA devices."""
        iam = self.iam(name)
        return {user: [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]] for user in self.users}

    def issued_seed(self, name, serial_number):
        """The seed the endpoint gave the device (this process runs the endpoint)."""
        device = iam_backends[self.accounts[name]]["global"].virtual_mfa_devices[serial_number]
        return device.base32_string_seed.decode("ascii") if isinstance(device.base32_string_seed, bytes) else device.base32_string_seed

    def unassigned_devices(self, name):
        return [d["SerialNumber"] for d in self.iam(name).list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]]

    def assert_converged(self, users=None):
        """Every user has exactly one enabled device, whose stored seed is the one AWS issued; nothing is left unassigned."""
        for name in self.accounts:
            stored = self.stored(name)
            for user, serials in self.enabled_devices(name).items():
                if users is not None and user not in users:
                    continue
                assert len(serials) == 1, (name, user, serials)
                assert stored[user]["serial_number"] == serials[0]
                assert stored[user]["base32_seed"] == self.issued_seed(name, serials[0])
            assert self.unassigned_devices(name) == [], name
            mode = (self.seed_dir / f"{self.accounts[name]}.yml").stat().st_mode & 0o777
            assert mode == 0o600


def service_actions(calls, service):
    """How many times each action of the service was answered (throttled calls left out)."""
    return Counter(call["action"] for call in calls if call["service"] == service and not call.get("throttled"))


def iam_actions(calls):
    return service_actions(calls, "iam")


def changed_hosts(result):
    return {host: counts["changed"] for host, counts in result.recap.items()}
