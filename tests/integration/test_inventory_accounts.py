"""The mfa.aws.accounts inventory plugin against an organisation on the strict local endpoint: hosts, variables,
groups, filters, errors and caching with ansible-inventory, and playbooks/enroll.yml over its inventory."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENROLL = REPO / "playbooks" / "enroll.yml"
MANAGEMENT_ACCOUNT = "123456789012"
PLUGIN = "mfa.aws.accounts"

# OU path -> accounts in it: name -> tags. The management account ("master" in moto) sits in Root.
LAYOUT = {
    "Root": {"sandbox": {"team": "platform"}},
    "Root/Engineering": {"tools": {"team": "platform"}},
    "Root/Engineering/Prod": {"payments": {"env": "production", "team": "payments"}, "analytics": {"env": "production", "team": "data"}},
    "Root/Engineering/Dev": {"payments-dev": {"env": "development", "team": "payments"}},
    "Root/Finance": {"ledger": {"env": "production", "team": "finance"}, "retired": {"env": "production"}},
}
CLOSED = ("retired",)
ACTIVE = ("master", "sandbox", "tools", "payments", "analytics", "payments-dev", "ledger")


class Organization:
    """An organisation with nested OUs, tagged accounts in each and one closed (SUSPENDED) account."""

    def __init__(self, aws, tmp_path: Path, layout=None):
        self.aws = aws
        self.tmp_path = tmp_path
        self.client = aws.client("organizations")
        self.id = self.client.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        self.units = {"Root": self.client.list_roots()["Roots"][0]["Id"]}
        self.accounts = {"master": MANAGEMENT_ACCOUNT}
        self.paths = {"master": "Root"}
        for path, accounts in (layout or LAYOUT).items():
            *ancestors, name = path.split("/")
            parent = "/".join(ancestors)
            if parent:
                self.units[path] = self.client.create_organizational_unit(ParentId=self.units[parent], Name=name)["OrganizationalUnit"]["Id"]
            for account_name, tags in accounts.items():
                self.add_account(account_name, path, tags)
        for name in CLOSED:
            if name in self.accounts:
                self.client.close_account(AccountId=self.accounts[name])
        aws.reset_calls()

    def add_account(self, name, path, tags=None):
        status = self.client.create_account(
            Email=f"{name}@example.com", AccountName=name, Tags=[{"Key": key, "Value": value} for key, value in (tags or {}).items()]
        )["CreateAccountStatus"]
        account_id = status["AccountId"]
        if path != "Root":
            self.client.move_account(AccountId=account_id, SourceParentId=self.units["Root"], DestinationParentId=self.units[path])
        self.accounts.setdefault(name, account_id)
        self.paths.setdefault(name, path)
        return account_id

    def config(self, name="org", **options):
        """Write <name>.mfa_accounts.yml with these options; return its path."""
        path = self.tmp_path / f"{name}.mfa_accounts.yml"
        path.write_text(yaml.safe_dump({"plugin": PLUGIN, **options}, sort_keys=False), encoding="utf-8")
        return path

    def organizations_calls(self):
        return Counter(call["action"] for call in self.aws.calls() if call["service"] == "organizations" and not call.get("throttled"))


@pytest.fixture(name="org")
def fixture_org(fresh_aws, tmp_path):
    return Organization(fresh_aws, tmp_path)


def plain(value):
    """ansible-inventory's JSON without the markers of untrusted strings."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


class Listing:
    """The outcome of `ansible-inventory --list`."""

    def __init__(self, completed: subprocess.CompletedProcess):
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.data = plain(json.loads(completed.stdout)) if completed.returncode == 0 and completed.stdout.strip() else {}
        self.hostvars = self.data.get("_meta", {}).get("hostvars", {})

    @property
    def hosts(self):
        return set(self.hostvars)

    def members(self, group):
        """Every host of the group, its child groups' included."""
        entry = self.data.get(group, {})
        found = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            found |= self.members(child)
        return found


def ansible_inventory(ansible, config, *args, env=None, drop=()):
    environment = {key: value for key, value in {**ansible.env, **(env or {})}.items() if key not in drop}
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(config), "--list", *args],
        env=environment, cwd=ansible.workdir, capture_output=True, text=True, timeout=300, check=False,
    )
    return Listing(completed)


@pytest.mark.contract
def test_every_active_account_is_a_host_with_its_variables_and_ou_groups(org, ansible):
    listing = ansible_inventory(ansible, org.config())

    assert listing.rc == 0, listing.output
    assert listing.hosts == set(ACTIVE)
    for name in ACTIVE:
        variables = listing.hostvars[name]
        account_id = org.accounts[name]
        assert variables["aws_account_id"] == account_id and re.fullmatch(r"[0-9]{12}", account_id)
        assert variables["aws_account_name"] == name
        assert variables["aws_account_email"] == ("master@example.com" if name == "master" else f"{name}@example.com")
        assert variables["aws_account_status"] == "ACTIVE"
        assert variables["aws_account_ou_path"] == org.paths[name]
        assert variables["aws_account_ou_id"] == org.units[org.paths[name]]
        assert variables["aws_account_is_management"] is (name == "master")
        assert variables["aws_organization_id"] == org.id
        assert variables["account_session_role_arn"] == f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
        assert variables["ansible_connection"] == "local"
        assert variables["ansible_python_interpreter"] == sys.executable
    assert listing.hostvars["payments"]["aws_account_tags"] == {"env": "production", "team": "payments"}
    assert listing.hostvars["master"]["aws_account_tags"] == {}

    assert listing.members("aws_accounts") == set(ACTIVE)
    assert listing.members("ou_root") == set(ACTIVE)
    assert listing.members("ou_root_engineering") == {"tools", "payments", "analytics", "payments-dev"}
    assert listing.members("ou_root_engineering_prod") == {"payments", "analytics"}
    assert listing.members("ou_root_engineering_dev") == {"payments-dev"}
    assert listing.members("ou_root_finance") == {"ledger"}
    assert set(listing.data["ou_root_engineering"]["children"]) == {"ou_root_engineering_prod", "ou_root_engineering_dev"}

    # Reads only, each at its floor: one listing of OUs and of accounts per unit, tags of the accounts listed.
    calls = org.organizations_calls()
    assert set(calls) == {"DescribeOrganization", "ListRoots", "ListOrganizationalUnitsForParent", "ListAccountsForParent", "ListTagsForResource"}
    assert calls["DescribeOrganization"] == calls["ListRoots"] == 1
    assert calls["ListOrganizationalUnitsForParent"] == calls["ListAccountsForParent"] == len(org.units)
    assert calls["ListTagsForResource"] == len(ACTIVE)
    assert {call["service"] for call in org.aws.calls()} == {"organizations"}


def test_ou_tag_and_exclusion_filters_select_accounts_and_read_only_what_they_need(org, ansible):
    config = org.config(
        organizational_units=["Root/Engineering", org.units["Root/Finance"]],
        tags={"env": "production"},
        exclude_accounts=[org.accounts["analytics"]],
    )
    listing = ansible_inventory(ansible, config)

    assert listing.rc == 0, listing.output
    assert listing.hosts == {"payments", "ledger"}
    assert listing.members("ou_root_engineering") == {"payments"}
    assert "ou_root_engineering_dev" not in listing.data
    calls = org.organizations_calls()
    # The accounts of the four units selected; the tags of the active, not excluded ones among them.
    assert calls["ListAccountsForParent"] == 4
    assert calls["ListTagsForResource"] == len({"tools", "payments", "payments-dev", "ledger"})


def test_a_tag_with_no_value_asks_for_the_key_and_tags_are_read_only_when_wanted(org, ansible):
    with_env = ansible_inventory(ansible, org.config(tags={"env": None}))
    assert with_env.rc == 0, with_env.output
    assert with_env.hosts == {"payments", "analytics", "payments-dev", "ledger"}

    org.aws.reset_calls()
    untagged = ansible_inventory(ansible, org.config(include_tags=False))
    assert untagged.rc == 0, untagged.output
    assert untagged.hosts == set(ACTIVE)
    assert "ListTagsForResource" not in org.organizations_calls()
    assert not any("aws_account_tags" in variables for variables in untagged.hostvars.values())


def test_statuses_list_closed_accounts(org, ansible):
    listing = ansible_inventory(ansible, org.config(statuses=["SUSPENDED"]))

    assert listing.rc == 0, listing.output
    assert listing.hosts == {"retired"}
    assert listing.hostvars["retired"]["aws_account_status"] == "SUSPENDED"
    assert listing.members("ou_root_finance") == {"retired"}


def test_host_names_by_id_and_accounts_that_share_a_name(org, ansible):
    by_id = ansible_inventory(ansible, org.config(hostname_format="{id}", organizational_units=["Root/Engineering/Prod"]))
    assert by_id.rc == 0, by_id.output
    assert by_id.hosts == {org.accounts["payments"], org.accounts["analytics"]}

    twin = org.add_account("sandbox", "Root/Finance", {"team": "platform"})
    both = ansible_inventory(ansible, org.config(tags={"team": "platform"}))
    assert both.rc == 0, both.output
    assert both.hosts == {"tools", f"sandbox_{org.accounts['sandbox']}", f"sandbox_{twin}"}
    assert "several accounts are named sandbox" in both.output


def test_constructed_keyed_groups_groups_and_compose(org, ansible):
    config = org.config(
        keyed_groups=[{"key": "aws_account_tags.team | default('none')", "prefix": "team"}],
        groups={"production": "aws_account_tags.env | default('') == 'production'"},
        compose={
            "account_session_assume_role": "not aws_account_is_management",
            "account_session_role_arn": "'arn:aws:iam::' ~ aws_account_id ~ ':role/MfaEnrollment'",
        },
        role_name="automation/Unused",
    )
    listing = ansible_inventory(ansible, config)

    assert listing.rc == 0, listing.output
    assert listing.members("team_payments") == {"payments", "payments-dev"}
    assert listing.members("team_platform") == {"sandbox", "tools"}
    assert listing.members("team_none") == {"master"}
    assert listing.members("production") == {"payments", "analytics", "ledger"}
    assert listing.hostvars["payments"]["account_session_role_arn"] == f"arn:aws:iam::{org.accounts['payments']}:role/MfaEnrollment"
    assert listing.hostvars["master"]["account_session_assume_role"] is False
    assert listing.hostvars["payments"]["account_session_assume_role"] is True


def test_the_role_name_sets_the_role_arn(org, ansible):
    listing = ansible_inventory(ansible, org.config(role_name="automation/MfaEnrollment", organizational_units=["Root/Finance"]))
    assert listing.rc == 0, listing.output
    assert listing.hostvars["ledger"]["account_session_role_arn"] == f"arn:aws:iam::{org.accounts['ledger']}:role/automation/MfaEnrollment"


def test_a_large_ou_is_listed_through_every_page(fresh_aws, ansible, tmp_path):
    # moto answers ListAccountsForParent 20 accounts at a time.
    many = {f"member-{index:02d}": {} for index in range(27)}
    org = Organization(fresh_aws, tmp_path, layout={"Root": {}, "Root/Fleet": many})
    listing = ansible_inventory(ansible, org.config(organizational_units=["Root/Fleet"], include_tags=False))
    assert listing.rc == 0, listing.output
    assert listing.hosts == set(many)
    assert org.organizations_calls()["ListAccountsForParent"] == 2


def test_throttled_calls_are_retried(org, ansible):
    org.aws.throttle(0.3, service="organizations", seed=3)
    listing = ansible_inventory(ansible, org.config())
    org.aws.throttle(0, service="organizations")

    assert listing.rc == 0, listing.output
    assert any(call.get("throttled") for call in org.aws.calls())
    assert listing.hosts == set(ACTIVE)


def test_the_cache_answers_the_second_run_without_any_call(org, ansible, tmp_path):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    config = org.config(**cache)
    first = ansible_inventory(ansible, config)
    assert first.rc == 0, first.output
    assert sum(org.organizations_calls().values()) > 0

    org.aws.reset_calls()
    second = ansible_inventory(ansible, config)
    assert second.rc == 0, second.output
    assert org.aws.calls() == []
    assert second.data == first.data

    # The cache remembers the connection too: another region (profile, role or endpoint) lists the organisation again.
    elsewhere = ansible_inventory(ansible, config, env={"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert elsewhere.rc == 0, elsewhere.output
    assert org.organizations_calls()["DescribeOrganization"] == 1
    assert elsewhere.hosts == first.hosts

    org.aws.reset_calls()

    # The cache remembers the filters it answers: other filters list the organisation again.
    filtered = ansible_inventory(ansible, org.config(organizational_units=["Root/Finance"], **cache))
    assert filtered.rc == 0, filtered.output
    assert filtered.hosts == {"ledger"}
    assert org.organizations_calls()["ListAccountsForParent"] == 1

    org.aws.reset_calls()
    flushed = ansible_inventory(ansible, config, "--flush-cache")
    assert flushed.rc == 0, flushed.output
    assert org.organizations_calls()["DescribeOrganization"] == 1


def test_ous_that_would_share_a_group_fail_unless_groups_are_named_after_the_ou_ids(fresh_aws, ansible, tmp_path):
    org = Organization(fresh_aws, tmp_path, layout={"Root": {}, "Root/Eng": {}, "Root/Eng/Prod": {"payments": {}}, "Root/Eng-Prod": {"pipelines": {}}})
    line = unparsed(ansible_inventory(ansible, org.config(include_tags=False)), "would share the group ou_root_eng_prod")
    assert f"the OUs Root/Eng-Prod ({org.units['Root/Eng-Prod']}) and Root/Eng/Prod ({org.units['Root/Eng/Prod']})" in line
    assert "set ou_group_names to path_and_id" in line

    listing = ansible_inventory(ansible, org.config(include_tags=False, ou_group_names="path_and_id"))
    assert listing.rc == 0, listing.output

    def group(path):
        return "ou_" + re.sub(r"[^a-z0-9]+", "_", f"{path} {org.units[path]}".lower())

    assert listing.members(group("Root/Eng")) == {"payments"}
    assert listing.members(group("Root/Eng/Prod")) == {"payments"}
    assert listing.members(group("Root/Eng-Prod")) == {"pipelines"}
    assert "ou_root_eng_prod" not in listing.data


def unparsed(listing, message):
    """The inventory failed with the message on one line, and nothing else was listed."""
    assert listing.hosts == set()
    lines = [line for line in listing.output.splitlines() if message in line]
    assert lines, listing.output
    return lines[0]


def test_a_missing_ou_fails_early_with_the_fix(org, ansible):
    config = org.config(organizational_units=["Root/Engineering", "Root/Nope"])
    listing = ansible_inventory(ansible, config)
    line = unparsed(listing, f"organizational unit Root/Nope does not exist in organization {org.id}: check organizational_units")
    assert "Failed to parse inventory" in line
    assert "ListAccountsForParent" not in org.organizations_calls()

    strict = ansible_inventory(ansible, config, env={"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"})
    assert strict.rc != 0
    assert "organizational unit Root/Nope does not exist" in strict.output


@pytest.mark.parametrize(
    "options, message",
    [
        ({"organisational_units": ["Root"]}, "unknown option organisational_units in"),
        ({"statuses": ["GONE"]}, "Invalid value ['GONE'] for config 'statuses'"),
        ({"hostname_format": "{account}"}, "hostname_format '{account}' uses {account}: use the fields {id}, {name}, {email}"),
        ({"exclude_accounts": ["12345"]}, "exclude_accounts takes 12-digit account ids, not '12345'"),
        ({"role_name": "bad role"}, "role_name 'bad role' is not an IAM role name"),
    ],
)
def test_bad_options_are_refused_before_any_call(org, ansible, options, message):
    unparsed(ansible_inventory(ansible, org.config(**options)), message)
    assert org.aws.calls() == []


def test_credentials_outside_an_organization_are_told_what_to_use(fresh_aws, ansible, tmp_path):
    config = tmp_path / "org.mfa_accounts.yml"
    config.write_text(f"plugin: {PLUGIN}\n", encoding="utf-8")
    line = unparsed(ansible_inventory(ansible, config), "DescribeOrganization failed (AWSOrganizationsNotInUseException)")
    assert "credentials of the organization's management account or of a delegated administrator" in line


def test_no_credentials_are_told_where_to_set_them(org, ansible):
    listing = ansible_inventory(ansible, org.config(), drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    unparsed(listing, "no AWS credentials found: set access_key and secret_key, or profile, in the inventory configuration")
    assert org.aws.calls() == []


# Enrolling an organisation through the plugin's inventory.
USERS = ("alice", "bob")


def enabled_users(aws, account_id):
    iam = aws.client("iam", account_id=account_id)
    return {user: len(iam.list_mfa_devices(UserName=user)["MFADevices"]) for user in USERS}


@pytest.mark.contract
def test_enroll_covers_the_organisation_through_the_plugin_inventory(org, ansible, tmp_path):
    for account_id in org.accounts.values():
        iam = org.aws.client("iam", account_id=account_id)
        for user in USERS:
            iam.create_user(UserName=user)
    password = tmp_path / "vault-password"
    password.write_text("organisation vault secret\n", encoding="utf-8")
    password.chmod(0o600)
    seeds = tmp_path / "mfa-seeds"
    run = {"extra_vars": {"enroll_vault_dir": str(seeds)}, "env": {"ANSIBLE_VAULT_PASSWORD_FILE": str(password)}}
    # The management account has no OrganizationAccountAccessRole: the run's own credentials act there.
    compose = {"account_session_assume_role": "not aws_account_is_management"}

    engineering = ansible.playbook(ENROLL, inventory=org.config("engineering", organizational_units=["Root/Engineering"], compose=compose), **run)
    assert engineering.rc == 0, engineering.output
    assert set(engineering.recap) == {"tools", "payments", "analytics", "payments-dev"}
    for name, account_id in org.accounts.items():
        expected = 1 if name in engineering.recap else 0
        assert enabled_users(org.aws, account_id) == {user: expected for user in USERS}, name

    org.aws.reset_calls()
    whole = ansible.playbook(ENROLL, inventory=org.config("org", compose=compose), **run)
    assert whole.rc == 0, whole.output
    assert set(whole.recap) == set(ACTIVE)
    assert all(whole.recap[name]["failed"] == 0 for name in ACTIVE)
    for name in ACTIVE:
        assert enabled_users(org.aws, org.accounts[name]) == {user: 1 for user in USERS}, name
        assert (seeds / f"{org.accounts[name]}.yml").is_file()
    # The closed account is not listed, so nothing touched it.
    assert enabled_users(org.aws, org.accounts["retired"]) == {user: 0 for user in USERS}
    assert not (seeds / f"{org.accounts['retired']}.yml").exists()
    # One role assumed per member account; none in the management account.
    assert Counter(call["action"] for call in org.aws.calls() if call["service"] == "sts")["AssumeRole"] == len(ACTIVE) - 1
