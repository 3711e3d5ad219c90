"""The IAM policies of docs/iam-policies/, proven against the local endpoint with IAM enforced.

The run starts from an IAM user of the management account that holds only controller.json (sts:AssumeRole on the
collection's roles); each member account has the job's role (its trust policy names the management account) holding only
the job's policy. With IAM enforced, the endpoint refuses every call the policies do not allow, on the resource the call
acts on, as AWS does. Each playbook must succeed; the actions the runs called must be exactly those the policy grants (the
statements whose Sid starts with "IfNeeded" hold the actions only some runs call: orphans, tags, users newer than the
credential report); and a run with one action taken out fails with a message naming it, having lost no seed.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pyotp

import pytest
import yaml
from botocore.exceptions import ClientError

from helpers.fleet import Fleet
from local_aws import authorization, is_write
from test_enroll_delivery import secret_entries
from test_inventory_accounts import ansible_inventory

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "docs" / "iam-policies"
TEMPLATE = POLICIES / "mfa-aws-roles.cfn.yaml"
PLAYBOOKS = REPO / "playbooks"
CONDITIONAL_PREFIX = "IfNeeded"
ROLE_NAMES = {"audit": "mfa-aws-audit", "enroll": "mfa-aws-enroll", "rotate": "mfa-aws-rotate", "remove": "mfa-aws-remove",
              "enroll_hardware_token": "mfa-aws-hardware-token"}
TOKEN = "GAHT00004321"


def policy(name: str) -> dict:
    return json.loads((POLICIES / f"{name}.json").read_text(encoding="utf-8"))


def granted(document: dict, conditional: bool | None = None) -> set[str]:
    """The actions the Allow statements of a policy grant (conditional: only those of IfNeeded statements, or none)."""
    actions = set()
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        is_conditional = statement.get("Sid", "").startswith(CONDITIONAL_PREFIX)
        if conditional is None or conditional == is_conditional:
            actions.update([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    return actions


def without(document: dict, action: str) -> dict:
    """The policy with one action taken out."""
    statements = []
    for statement in document["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        kept = [name for name in actions if name != action]
        if kept:
            statements.append({**statement, "Action": kept})
    return {**document, "Statement": statements}


class LeastPrivilegeFleet(Fleet):
    """A fleet whose runs start from a controller user holding controller.json, into one role per job and account."""

    def __init__(self, aws, tmp_path: Path, **kwargs) -> None:
        super().__init__(aws, tmp_path, **kwargs)
        self.controller_env = self.user("mfa-controller", policy("controller"))
        self.management_account = aws.client("sts").get_caller_identity()["Account"]
        # The roles come from the CloudFormation template users deploy (with a StackSet, in every account).
        for account_id in self.accounts.values():
            aws.client("cloudformation", account_id=account_id).create_stack(
                StackName="mfa-aws-roles", TemplateBody=TEMPLATE.read_text(encoding="utf-8"), Capabilities=["CAPABILITY_NAMED_IAM"],
                Parameters=[{"ParameterKey": "ControllerAccountId", "ParameterValue": self.management_account}])

    def user(self, name: str, document: dict) -> dict[str, str]:
        """A user of the management account that holds only this policy: the environment of its access key."""
        iam = self.aws.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def grant(self, account_id: str, job: str, document: dict) -> None:
        """Give the job's role of the account exactly this policy (in place of the template's)."""
        self.aws.client("iam", account_id=account_id).put_role_policy(
            RoleName=ROLE_NAMES[job], PolicyName=f"mfa-aws-{job.replace('_', '-')}", PolicyDocument=json.dumps(document))

    def run(self, ansible, job: str, playbook: str, extra_vars: dict | None = None, check: bool = False):
        inventory = yaml.safe_load(self.inventory.read_text(encoding="utf-8"))
        inventory["aws_accounts"]["vars"]["account_session_role_arn"] = (
            "arn:aws:iam::{{ account_session_account_id }}:role/" + ROLE_NAMES[job])
        path = self.inventory.with_name(f"accounts-{job}.yml")
        path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
        return ansible.playbook(PLAYBOOKS / playbook, inventory=path, check=check,
                                extra_vars={"enroll_vault_dir": str(self.seed_dir), "verify_vault_dir": str(self.seed_dir), **(extra_vars or {})},
                                env={**self.env, **self.controller_env})

    def called_by(self, marker: str) -> set[str]:
        """The actions the principals whose ARN holds marker called (refused ones included)."""
        return {action for call in self.aws.calls() if marker in str(call.get("principal", "")) for action in call["needed"]}

    def called(self, job: str) -> set[str]:
        """The actions the job's role called in the member accounts."""
        return self.called_by(f":assumed-role/{ROLE_NAMES[job]}/")

    def controller_called(self) -> set[str]:
        return self.called_by(":user/mfa-controller")

    def denied(self) -> list[dict]:
        return [call for call in self.aws.calls() if call.get("denied")]


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    fleet = LeastPrivilegeFleet(fresh_aws, tmp_path, accounts=("payments", "sandbox"), users=("alice", "bob", "carol"))
    fresh_aws.enforce_iam()
    fresh_aws.reset_calls()
    return fleet


def assert_exactly_granted(called: set[str], document: dict) -> None:
    """Every action called is granted, and every action granted unconditionally is called (sts:GetCallerIdentity needs no
    grant, as in AWS)."""
    called = called - authorization.NO_PERMISSION_NEEDED
    assert called <= granted(document), f"called but not granted: {sorted(called - granted(document))}"
    assert granted(document, conditional=False) <= called, f"granted but never called: {sorted(granted(document, conditional=False) - called)}"


def test_the_roles_template_holds_each_policy_as_it_is_and_trusts_only_the_controller_account(fresh_aws):
    assert subprocess.run([sys.executable, str(REPO / "tools" / "iam_roles_template.py"), "--check"], check=False).returncode == 0
    fleet_account = fresh_aws.client("organizations")
    fleet_account.create_organization(FeatureSet="ALL")
    member = fleet_account.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    cloudformation = fresh_aws.client("cloudformation", account_id=member)
    for read_only, roles in (("true", {"mfa-aws-audit"}), ("false", set(ROLE_NAMES.values()))):
        name = f"roles-{read_only}"
        cloudformation.create_stack(StackName=name, TemplateBody=TEMPLATE.read_text(encoding="utf-8"), Capabilities=["CAPABILITY_NAMED_IAM"],
                                    Parameters=[{"ParameterKey": "ControllerAccountId", "ParameterValue": "111111111111"},
                                                {"ParameterKey": "ExternalId", "ParameterValue": "fleet-42"},
                                                {"ParameterKey": "ReadOnly", "ParameterValue": read_only}])
        iam = fresh_aws.client("iam", account_id=member)
        assert {role["RoleName"] for role in iam.list_roles()["Roles"]} & set(ROLE_NAMES.values()) == roles
        cloudformation.delete_stack(StackName=name)
    cloudformation.create_stack(StackName="roles", TemplateBody=TEMPLATE.read_text(encoding="utf-8"), Capabilities=["CAPABILITY_NAMED_IAM"],
                                Parameters=[{"ParameterKey": "ControllerAccountId", "ParameterValue": "111111111111"},
                                            {"ParameterKey": "ExternalId", "ParameterValue": "fleet-42"}])
    iam = fresh_aws.client("iam", account_id=member)
    for job, role in ROLE_NAMES.items():
        name = f"mfa-aws-{job.replace('_', '-')}"
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        # moto answers the inline policies CloudFormation created as Python text, not JSON.
        assert (ast.literal_eval(document) if isinstance(document, str) else document) == policy(job)
        assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [name]
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole",
                                       "Condition": {"StringEquals": {"sts:ExternalId": "fleet-42"}}}]


def test_policy_files_grant_no_wildcard_action():
    files = sorted(POLICIES.glob("*.json"))
    assert {path.stem for path in files} >= {"audit", "enroll", "controller"}
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["Version"] == "2012-10-17"
        for statement in document["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            assert all("*" not in action for action in actions), f"{path.name}: {statement.get('Sid')} has a wildcard action"
            assert statement.get("Sid"), f"{path.name}: every statement has a Sid that says what it is for"


def test_audit_runs_with_audit_json_only(fleet, ansible, tmp_path):
    result = fleet.run(ansible, "audit", "audit.yml", extra_vars={"audit_report_dir": str(tmp_path / "report")})
    assert result.rc == 0, result.output
    assert not fleet.denied(), fleet.denied()
    report = json.loads((tmp_path / "report" / "mfa-audit.json").read_text(encoding="utf-8"))
    assert sorted(account["account_id"] for account in report["accounts"]) == sorted(fleet.accounts.values())
    assert_exactly_granted(fleet.called("audit"), policy("audit"))
    assert fleet.controller_called() <= granted(policy("controller"))


def test_enroll_and_verify_seeds_run_with_enroll_json_only(fleet, ansible):
    result = fleet.run(ansible, "enroll", "enroll.yml")
    assert result.rc == 0, result.output
    fleet.assert_converged()
    again = fleet.run(ansible, "enroll", "verify_seeds.yml")
    assert again.rc == 0, again.output
    assert not fleet.denied(), fleet.denied()
    assert_exactly_granted(fleet.called("enroll"), policy("enroll"))
    assert fleet.controller_called() <= granted(policy("controller"))


def test_enroll_without_enable_mfa_device_names_it_and_converges_with_the_full_policy(fleet, ansible):
    for account_id in fleet.accounts.values():
        fleet.grant(account_id, "enroll", without(policy("enroll"), "iam:EnableMFADevice"))
    result = fleet.run(ansible, "enroll", "enroll.yml")
    assert result.rc != 0
    assert "EnableMFADevice" in result.output and "mfa-aws-enroll" in result.output, result.output
    assert {call["action"] for call in fleet.denied()} == {"EnableMFADevice"}
    # The devices were created and their seeds delivered before the refusal: none is lost.
    for name in fleet.accounts:
        stored = {entry["serial_number"]: entry["base32_seed"] for entry in fleet.stored(name).values()}
        assert sorted(stored) == sorted(fleet.unassigned_devices(name)) and len(stored) == len(fleet.users)
        assert all(seed == fleet.issued_seed(name, serial) for serial, seed in stored.items())

    for account_id in fleet.accounts.values():
        fleet.grant(account_id, "enroll", policy("enroll"))
    again = fleet.run(ansible, "enroll", "enroll.yml")
    assert again.rc == 0, again.output
    fleet.assert_converged()


def test_rotate_runs_with_rotate_json_only(fleet, ansible):
    assert fleet.run(ansible, "enroll", "enroll.yml").rc == 0
    fleet.aws.reset_calls()
    result = fleet.run(ansible, "rotate", "rotate.yml", extra_vars={"enroll_rotate_max_age_days": 0})
    assert result.rc == 0, result.output
    assert not fleet.denied(), fleet.denied()
    fleet.assert_converged()
    assert_exactly_granted(fleet.called("rotate"), policy("rotate"))


def test_remove_runs_with_remove_json_only(fleet, ansible):
    assert fleet.run(ansible, "enroll", "enroll.yml").rc == 0
    fleet.aws.reset_calls()
    result = fleet.run(ansible, "remove", "remove.yml", extra_vars={"enroll_remove_users": ["alice", "bob"]})
    assert result.rc == 0, result.output
    assert not fleet.denied(), fleet.denied()
    assert all(fleet.enabled_devices(name)["alice"] == [] and "alice" not in fleet.stored(name) for name in fleet.accounts)
    assert_exactly_granted(fleet.called("remove"), policy("remove"))


def test_enroll_hardware_token_runs_with_its_policy_only(fleet, ansible):
    seed = pyotp.random_base32(32)
    fleet.aws.register_hardware_token(TOKEN, seed, account_id=fleet.accounts["payments"])
    now = time.time()
    result = fleet.run(ansible, "enroll_hardware_token", "enroll_hardware_token.yml", extra_vars={
        "mfa_hosts": "payments", "hardware_token_user": "alice", "hardware_token_serial": TOKEN,
        "hardware_token_code_1": pyotp.TOTP(seed).at(now - 30), "hardware_token_code_2": pyotp.TOTP(seed).at(now)})
    assert result.rc == 0, result.output
    assert not fleet.denied(), fleet.denied()
    assert fleet.enabled_devices("payments")["alice"] == [TOKEN]
    assert_exactly_granted(fleet.called("enroll_hardware_token"), policy("enroll_hardware_token"))


def assert_no_seed_lost(fleet):
    """Every virtual device of every account, enabled or not, has its seed (the one AWS issued) in the vault file: as a
    user's entry, or as its previous entry while a rotation replaces it."""
    for name in fleet.accounts:
        entries = list(fleet.stored(name).values())
        entries += [entry["previous"] for entry in entries if "previous" in entry]
        stored = {entry["serial_number"]: entry["base32_seed"] for entry in entries}
        devices = fleet.iam(name).list_virtual_mfa_devices()["VirtualMFADevices"]
        for device in devices:
            assert stored.get(device["SerialNumber"]) == fleet.issued_seed(name, device["SerialNumber"]), (name, device["SerialNumber"])


@pytest.mark.parametrize("action", sorted(granted(policy("enroll"), conditional=False)))
def test_enroll_without_any_one_action_stops_naming_it_and_the_full_policy_converges(fleet, ansible, action):
    for account_id in fleet.accounts.values():
        fleet.grant(account_id, "enroll", without(policy("enroll"), action))
    # verify_seeds proves the seeds of an enrollment; without its action, the enrollment runs and the proof stops.
    playbooks = ["enroll.yml"] + ["verify_seeds.yml"] * (action == "iam:ResyncMFADevice")
    results = [fleet.run(ansible, "enroll", playbook) for playbook in playbooks]
    result = results[-1]
    assert result.rc != 0
    refusals = [line for line in result.output.splitlines() if action in line]
    assert refusals and all(ROLE_NAMES["enroll"] in line for line in refusals), result.output
    # A refusal is never taken for codes AWS refused (which would blame the stored seeds).
    assert "refused codes" not in result.output
    assert {f"iam:{call['action']}" for call in fleet.denied()} <= {action, "iam:CreateVirtualMFADevice"}
    assert_no_seed_lost(fleet)

    for account_id in fleet.accounts.values():
        fleet.grant(account_id, "enroll", policy("enroll"))
    again = fleet.run(ansible, "enroll", "enroll.yml")
    assert again.rc == 0, again.output
    fleet.assert_converged()
    assert fleet.run(ansible, "enroll", "verify_seeds.yml").rc == 0


@pytest.mark.parametrize("service", ["secretsmanager", "ssm"])
def test_enroll_and_verify_with_a_secret_store_run_with_enroll_json_and_the_stores_statements(fleet, ansible, service):
    for account_id in fleet.accounts.values():
        fleet.aws.client("iam", account_id=account_id).put_role_policy(
            RoleName=ROLE_NAMES["enroll"], PolicyName="delivery", PolicyDocument=json.dumps(policy(f"delivery_{service}")))
    first = fleet.run(ansible, "enroll", "enroll.yml", extra_vars={"enroll_delivery": [service]})
    assert first.rc == 0, first.output
    again = fleet.run(ansible, "enroll", "enroll.yml", extra_vars={"enroll_delivery": [service]})
    assert again.rc == 0, again.output
    assert not fleet.denied(), fleet.denied()
    called = fleet.called("enroll")
    store_actions = {action for action in called if action.startswith(f"{service}:") or action.startswith("kms:")}
    assert_exactly_granted(store_actions, policy(f"delivery_{service}"))


def inventory_config(tmp_path: Path) -> Path:
    config = tmp_path / "org.mfa_accounts.yml"
    config.write_text(yaml.safe_dump({"plugin": "mfa.aws.accounts"}), encoding="utf-8")
    return config


def test_the_accounts_inventory_runs_with_inventory_json_only(fleet, ansible, tmp_path):
    env = fleet.user("mfa-inventory", policy("inventory"))
    fleet.aws.reset_calls()
    listing = ansible_inventory(ansible, inventory_config(tmp_path), env=env)
    assert listing.rc == 0, listing.output
    assert not fleet.denied(), fleet.denied()
    assert set(fleet.accounts) <= listing.hosts
    assert_exactly_granted(fleet.called_by(":user/mfa-inventory"), policy("inventory"))


def test_retire_root_mfa_runs_from_a_principal_holding_retire_root_mfa_json_only(fleet, ansible):
    fleet.aws.client("iam").enable_organizations_root_sessions()
    env = fleet.user("mfa-root", policy("retire_root_mfa"))
    payments = fleet.accounts["payments"]
    fleet.aws.set_root_mfa(True, account_id=payments)
    fleet.aws.reset_calls()
    result = ansible.playbook(PLAYBOOKS / "retire_root_mfa.yml", inventory=fleet.inventory, extra_vars={"retire_root_mfa_accounts": [payments]},
                              env=env)
    assert result.rc == 0, result.output
    assert not fleet.denied(), fleet.denied()
    assert fleet.aws.root_devices(payments) == []
    assert_exactly_granted(fleet.called_by(":user/mfa-root"), policy("retire_root_mfa"))

    # The condition holds the session to its task policy: this principal cannot open a session with another one.
    sts = boto3.session.Session().client("sts", endpoint_url=fleet.aws.url, region_name="us-east-1", aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                         aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    with pytest.raises(ClientError) as refused:
        sts.assume_root(TargetPrincipal=payments, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"})
    assert "not authorized to perform: sts:AssumeRoot" in refused.value.response["Error"]["Message"]

    # The audit opens root sessions with the read-only task policy, which controller.json allows.
    audit = fleet.run(ansible, "audit", "audit.yml", extra_vars={"audit_report_dir": str(fleet.seed_dir.parent / "report")})
    assert audit.rc == 0, audit.output
    assert {(call["action"], call.get("task_policy")) for call in fleet.aws.calls() if call["action"] == "AssumeRoot" and not call.get("denied")} \
        >= {("AssumeRoot", "IAMAuditRootUserCredentials"), ("AssumeRoot", "IAMDeleteRootUserCredentials")}
    assert fleet.controller_called() <= granted(policy("controller"))
    assert "sts:AssumeRoot" in fleet.controller_called()


JOB_RUNS = {
    "rotate": ("rotate.yml", {"enroll_rotate_max_age_days": 0}),
    "remove": ("remove.yml", {"enroll_remove_users": ["alice", "bob"]}),
}


@pytest.mark.parametrize("job, action", [(job, action) for job in sorted(JOB_RUNS) for action in sorted(granted(policy(job), conditional=False))])
def test_rotate_and_remove_without_any_one_action_stop_naming_it_and_lose_no_seed(fleet, ansible, job, action):
    assert fleet.run(ansible, "enroll", "enroll.yml").rc == 0
    for account_id in fleet.accounts.values():
        fleet.grant(account_id, job, without(policy(job), action))
    playbook, extra_vars = JOB_RUNS[job]
    result = fleet.run(ansible, job, playbook, extra_vars=extra_vars)
    assert result.rc != 0
    refusals = [line for line in result.output.splitlines() if action in line]
    assert refusals and all(ROLE_NAMES[job] in line for line in refusals), result.output
    assert_no_seed_lost(fleet)

    for account_id in fleet.accounts.values():
        fleet.grant(account_id, job, policy(job))
    again = fleet.run(ansible, job, playbook, extra_vars=extra_vars)
    assert again.rc == 0, again.output
    assert_no_seed_lost(fleet)
    if job == "rotate":
        fleet.assert_converged()
    else:
        assert all(fleet.enabled_devices(name)["bob"] == [] and "bob" not in fleet.stored(name) for name in fleet.accounts)


def _refused_naming(result, action: str, principal: str) -> None:
    assert result.rc != 0
    refusals = [line for line in result.output.splitlines() if action in line]
    assert refusals and all(principal in line for line in refusals), result.output


READ_ONLY_JOBS = [("audit", action) for action in sorted(granted(policy("audit"), conditional=False))]
READ_ONLY_JOBS += [("enroll_hardware_token", action) for action in sorted(granted(policy("enroll_hardware_token"), conditional=False))]
READ_ONLY_JOBS += [("inventory", action) for action in sorted(granted(policy("inventory"), conditional=False))]
READ_ONLY_JOBS += [("retire_root_mfa", action) for action in sorted(granted(policy("retire_root_mfa"), conditional=False))]


@pytest.mark.parametrize("job, action", READ_ONLY_JOBS)
def test_the_other_jobs_without_any_one_action_stop_naming_it_and_change_nothing(fleet, ansible, tmp_path, job, action):
    payments = fleet.accounts["payments"]
    if job in ("audit", "enroll_hardware_token"):
        for account_id in fleet.accounts.values():
            fleet.grant(account_id, job, without(policy(job), action))
    if job == "audit":
        result = fleet.run(ansible, "audit", "audit.yml", extra_vars={"audit_report_dir": str(tmp_path / "report")})
        principal = ROLE_NAMES["audit"]
    elif job == "enroll_hardware_token":
        seed = pyotp.random_base32(32)
        fleet.aws.register_hardware_token(TOKEN, seed, account_id=payments)
        now = time.time()
        result = fleet.run(ansible, job, "enroll_hardware_token.yml", extra_vars={
            "mfa_hosts": "payments", "hardware_token_user": "alice", "hardware_token_serial": TOKEN,
            "hardware_token_code_1": pyotp.TOTP(seed).at(now - 30), "hardware_token_code_2": pyotp.TOTP(seed).at(now)})
        principal = ROLE_NAMES[job]
    elif job == "inventory":
        listing = ansible_inventory(ansible, inventory_config(tmp_path), env=fleet.user("mfa-inventory", without(policy(job), action)))
        # ansible-inventory warns and goes on without the source: the warning names the action.
        assert action in listing.output and "user/mfa-inventory" in listing.output, listing.output
        assert "payments" not in listing.hosts and payments not in json.dumps(listing.data)
        return
    else:
        fleet.aws.client("iam").enable_organizations_root_sessions()
        fleet.aws.set_root_mfa(True, account_id=payments)
        result = ansible.playbook(PLAYBOOKS / "retire_root_mfa.yml", inventory=fleet.inventory, extra_vars={"retire_root_mfa_accounts": [payments]},
                                  env=fleet.user("mfa-root", without(policy(job), action)))
        principal = "user/mfa-root"
        assert fleet.aws.root_devices(payments)
    _refused_naming(result, action, principal)
    # The set-up's calls are the root user's; the run's own made no write.
    assert not [call for call in fleet.aws.calls()
                if is_write(call["action"]) and not call.get("denied") and not str(call.get("principal", "")).endswith(":root")]


@pytest.mark.parametrize("service, action", [(service, action) for service in ("secretsmanager", "ssm")
                                             for action in sorted(granted(policy(f"delivery_{service}"), conditional=False))])
def test_a_secret_store_without_any_one_action_stops_naming_it_and_leaves_no_device_without_its_seed(fleet, ansible, service, action):
    def deliver(document):
        for account_id in fleet.accounts.values():
            fleet.aws.client("iam", account_id=account_id).put_role_policy(
                RoleName=ROLE_NAMES["enroll"], PolicyName="delivery", PolicyDocument=json.dumps(document))
        return fleet.run(ansible, "enroll", "enroll.yml", extra_vars={"enroll_delivery": [service]})

    _refused_naming(deliver(without(policy(f"delivery_{service}"), action)), action, ROLE_NAMES["enroll"])
    for name, account_id in fleet.accounts.items():
        stored = {entry["serial_number"] for entry in secret_entries(fleet, service, owner=name).values()}
        devices = {device["SerialNumber"] for device in fleet.iam(name).list_virtual_mfa_devices()["VirtualMFADevices"]}
        assert devices <= stored, (account_id, devices - stored)
    again = deliver(policy(f"delivery_{service}"))
    assert again.rc == 0, again.output
    for name in fleet.accounts:
        entries = secret_entries(fleet, service, owner=name)
        assert all(fleet.enabled_devices(name)[user] == [entries[user]["serial_number"]] for user in fleet.users)
