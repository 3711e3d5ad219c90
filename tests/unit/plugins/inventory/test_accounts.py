# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

import botocore.session
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.mfa.aws.plugins.inventory import accounts as accounts_plugin
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import OrganizationsError
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import Selection
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import Tree
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import Unit
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import check_hostname_format
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import check_role_name
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import connection_data
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import host_names
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import host_vars
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import ou_group_name
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import ou_group_names
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import ou_groups
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import partition_of
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import read_organization
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import resolve_units
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import safe_host_name
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import selected_before_tags
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import split_path
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import tags_match

ORG_ID = "o-exampleorgid"
MANAGEMENT = "111111111111"
ORG = {"id": ORG_ID, "arn": f"arn:aws:organizations::{MANAGEMENT}:organization/{ORG_ID}", "management_account_id": MANAGEMENT}
ROOT = "r-ab12"
ENG = "ou-ab12-11111111"
PROD = "ou-ab12-22222222"
DEV = "ou-ab12-33333333"
FINANCE = "ou-ab12-44444444"


def make_tree():
    return Tree([
        Unit(ROOT, "Root", "Root"),
        Unit(ENG, "Engineering", "Root/Engineering", ROOT),
        Unit(FINANCE, "Finance", "Root/Finance", ROOT),
        Unit(DEV, "Dev", "Root/Engineering/Dev", ENG),
        Unit(PROD, "Prod", "Root/Engineering/Prod", ENG),
    ])


def account(account_id, name, unit_id=ROOT, status="ACTIVE", tags=None, arn=None):
    return {
        "id": account_id, "name": name, "email": f"{name}@example.com", "status": status, "joined_method": "CREATED", "unit_id": unit_id,
        "arn": arn if arn is not None else f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{account_id}", "tags": tags,
    }


# OU paths, ids and subtrees

@pytest.mark.parametrize("path, names", [
    ("Root/Engineering/Prod", ["Root", "Engineering", "Prod"]),
    ("/Root/Engineering/", ["Root", "Engineering"]),
    (" Root ", ["Root"]),
    ("Root//Finance", ["Root", "Finance"]),
    ("", []),
])
def test_split_path(path, names):
    assert split_path(path) == names


@pytest.mark.parametrize("selector, found", [
    ("Root", ROOT),
    (ROOT, ROOT),
    ("Root/Engineering/Prod", PROD),
    ("/Root/Engineering/Prod/", PROD),
    (DEV, DEV),
    ("Root/engineering", None),   # names are case-sensitive
    ("Engineering", None),        # paths start at the root
    ("Root/Nope", None),
    ("ou-ab12-99999999", None),
])
def test_tree_finds_units_by_id_and_path(selector, found):
    unit = make_tree().find(selector)
    assert (unit.id if unit else None) == found


def test_subtree_and_ancestry():
    tree = make_tree()
    assert tree.subtree(ENG) == [ENG, DEV, PROD]
    assert tree.subtree(ROOT) == [ROOT, ENG, FINANCE, DEV, PROD]
    assert [unit.id for unit in tree.ancestry(PROD)] == [PROD, ENG, ROOT]
    assert Tree.from_data(tree.to_data()).by_id == tree.by_id


def test_resolve_units_selects_subtrees_once_in_tree_order():
    tree = make_tree()
    assert resolve_units(tree, (), ORG_ID) == [ROOT, ENG, FINANCE, DEV, PROD]
    assert resolve_units(tree, ("Root/Engineering/Prod", FINANCE, "Root/Engineering"), ORG_ID) == [ENG, FINANCE, DEV, PROD]


def test_a_missing_ou_names_itself_the_organization_and_the_option():
    with pytest.raises(OrganizationsError) as excinfo:
        resolve_units(make_tree(), ("Root/Engineering", "Root/Nope"), ORG_ID)
    message = str(excinfo.value)
    assert message.startswith(f"organizational unit Root/Nope does not exist in organization {ORG_ID}: check organizational_units")
    assert "\n" not in message


# Filters

def test_selection_from_options_normalises_and_checks():
    selection = Selection.from_options([" Root/Engineering "], ["ACTIVE", "SUSPENDED"], {"env": "prod", "cost": 12, "team": None},
                                       ["222222222222"], True, False)
    assert selection.organizational_units == ("Root/Engineering",)
    assert selection.tags == {"env": "prod", "cost": "12", "team": None}
    assert selection.reads_tags
    assert selection.as_data()["tags"] == {"env": "prod", "cost": "12", "team": None}
    assert not Selection.from_options([], ["ACTIVE"], {}, [], True, False).reads_tags


@pytest.mark.parametrize("options, message", [
    ({"exclude_accounts": ["12345678901"]}, "exclude_accounts takes 12-digit account ids, not '12345678901'"),
    ({"statuses": ["ACTIVE", "GONE"]}, "statuses may hold ACTIVE, SUSPENDED, PENDING_CLOSURE, PENDING_ACTIVATION, CLOSED, not GONE"),
    ({"organizational_units": [""]}, "organizational_units takes OU ids or paths like Root/Engineering"),
])
def test_selection_refuses_bad_options(options, message):
    arguments = {"organizational_units": [], "statuses": ["ACTIVE"], "tags": {}, "exclude_accounts": [],
                 "include_management_account": True, "include_tags": True, **options}
    with pytest.raises(OrganizationsError, match=message.replace("(", r"\(")):
        Selection.from_options(**arguments)


def test_filters_before_tags():
    selection = Selection(statuses=("ACTIVE",), exclude_accounts=("333333333333",), include_management_account=False)
    assert selected_before_tags(account("222222222222", "a"), selection, MANAGEMENT)
    assert not selected_before_tags(account("333333333333", "excluded"), selection, MANAGEMENT)
    assert not selected_before_tags(account(MANAGEMENT, "management"), selection, MANAGEMENT)
    assert not selected_before_tags(account("444444444444", "closed", status="SUSPENDED"), selection, MANAGEMENT)
    assert selected_before_tags(account(MANAGEMENT, "management"), Selection(), MANAGEMENT)


@pytest.mark.parametrize("tags, wanted, matches", [
    ({"env": "prod", "team": "a"}, {"env": "prod"}, True),
    ({"env": "prod"}, {"env": "prod", "team": "a"}, False),
    ({"env": "dev"}, {"env": "prod"}, False),
    ({"env": "dev"}, {"env": None}, True),
    ({}, {"env": None}, False),
    (None, {}, True),
    (None, {"env": None}, False),
])
def test_tags_match(tags, wanted, matches):
    assert tags_match(tags, wanted) is matches


# Host and group names

@pytest.mark.parametrize("make_name, text, name", [
    (safe_host_name, "payments", "payments"),
    (safe_host_name, "Payments Prod (EU)", "Payments_Prod_EU"),
    (safe_host_name, "team:a,b", "team_a_b"),
    (safe_host_name, "a.b-c_d", "a.b-c_d"),
    (safe_host_name, "!!!", ""),
    (ou_group_name, "Root", "ou_root"),
    (ou_group_name, "Root/Engineering/Prod", "ou_root_engineering_prod"),
    (ou_group_name, "Root/Data & ML/EU-West", "ou_root_data_ml_eu_west"),
    (ou_group_name, "Root/***", "ou_root"),
])
def test_host_and_group_names_hold_only_what_ansible_accepts(make_name, text, name):
    assert make_name(text) == name


def test_host_names_by_format_with_twins_made_distinct():
    listed = [account("222222222222", "sandbox"), account("333333333333", "Pay ments"), account("444444444444", "sandbox"),
              account("555555555555", "***")]
    names, shared = host_names(listed, "{name}")
    assert names == {"222222222222": "sandbox_222222222222", "333333333333": "Pay_ments", "444444444444": "sandbox_444444444444",
                     "555555555555": "555555555555"}
    assert shared == ["sandbox"]
    assert host_names(listed, "{id}")[0]["333333333333"] == "333333333333"
    assert host_names(listed, "{name}-{id}")[0]["333333333333"] == "Pay_ments-333333333333"
    assert host_names(listed, "{email}")[0]["333333333333"] == "Pay_ments_example.com"


@pytest.mark.parametrize("hostname_format, message", [
    ("{account}", "hostname_format '{account}' uses {account}: use the fields {id}, {name}, {email}"),
    ("static", "hostname_format 'static' uses no field"),
    ("{name", "hostname_format '{name' is not a valid format"),
])
def test_bad_hostname_formats(hostname_format, message):
    with pytest.raises(OrganizationsError) as excinfo:
        check_hostname_format(hostname_format)
    assert str(excinfo.value).startswith(message)


def test_ou_groups_are_made_for_the_units_with_accounts_and_their_parents():
    assert ou_groups(make_tree(), {PROD}) == [
        ("ou_root", None, "Root"),
        ("ou_root_engineering", "ou_root", "Root/Engineering"),
        ("ou_root_engineering_prod", "ou_root_engineering", "Root/Engineering/Prod"),
    ]


ENG_PROD = "ou-ab12-55555555"


def make_colliding_tree():
    """Root/Engineering/Prod and Root/Engineering-Prod: both would be ou_root_engineering_prod."""
    return Tree(make_tree().units + [Unit(ENG_PROD, "Engineering-Prod", "Root/Engineering-Prod", ROOT)])


def test_ou_group_name_with_the_unit_id():
    assert ou_group_name("Root/Engineering/Prod", PROD) == "ou_root_engineering_prod_ou_ab12_22222222"
    assert ou_group_name("Root", ROOT) == "ou_root_r_ab12"


def test_ou_group_names_by_path_and_by_path_and_id():
    assert ou_group_names(make_tree()) == {
        ROOT: "ou_root", ENG: "ou_root_engineering", FINANCE: "ou_root_finance", DEV: "ou_root_engineering_dev", PROD: "ou_root_engineering_prod",
    }
    assert ou_group_names(make_tree(), "path_and_id")[PROD] == "ou_root_engineering_prod_ou_ab12_22222222"


def test_two_ous_that_would_share_a_group_fail_naming_both_and_the_fix():
    with pytest.raises(OrganizationsError) as excinfo:
        ou_group_names(make_colliding_tree())
    message = str(excinfo.value)
    assert message.startswith(
        f"the OUs Root/Engineering-Prod ({ENG_PROD}) and Root/Engineering/Prod ({PROD}) would share the group ou_root_engineering_prod"
    )
    assert message.endswith("rename one of them, or set ou_group_names to path_and_id to end every OU group's name with the OU's id")
    assert "\n" not in message
    # Whichever accounts are listed: the whole tree counts.
    with pytest.raises(OrganizationsError):
        ou_groups(make_colliding_tree(), {FINANCE})


def test_path_and_id_names_give_each_colliding_ou_a_group_of_its_own():
    tree = make_colliding_tree()
    names = ou_group_names(tree, "path_and_id")
    assert len(set(names.values())) == len(tree.units)
    groups = ou_groups(tree, {PROD, ENG_PROD}, names)
    parents = {group: parent for group, parent, _path in groups}
    assert parents[names[PROD]] == names[ENG]
    assert parents[names[ENG_PROD]] == names[ROOT]


def test_unknown_ou_group_names_are_refused():
    with pytest.raises(OrganizationsError, match="^ou_group_names may be path or path_and_id, not 'ids'"):
        ou_group_names(make_tree(), "ids")


# What a cached listing must match

def test_connection_data_holds_no_secret():
    assert connection_data(None, "", None, "us-east-1") == {"profile": None, "assume_role_arn": None, "endpoint_url": None, "region": "us-east-1"}
    assert connection_data("org-reader", "arn:aws:iam::111111111111:role/Reader", "https://key:s3cret@example.com:8443/path", "eu-west-1") == {
        "profile": "org-reader",
        "assume_role_arn": "arn:aws:iam::111111111111:role/Reader",
        "endpoint_url": "https://example.com:8443/path",
        "region": "eu-west-1",
    }


# Host variables

def test_host_vars():
    variables = host_vars(account("222222222222", "payments", PROD, tags={"env": "prod"}), make_tree(), ORG, "OrganizationAccountAccessRole")
    assert variables == {
        "aws_account_id": "222222222222",
        "aws_account_name": "payments",
        "aws_account_email": "payments@example.com",
        "aws_account_arn": f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/222222222222",
        "aws_account_status": "ACTIVE",
        "aws_account_joined_method": "CREATED",
        "aws_account_ou_id": PROD,
        "aws_account_ou_path": "Root/Engineering/Prod",
        "aws_account_is_management": False,
        "aws_organization_id": ORG_ID,
        "account_session_role_arn": "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
        "aws_account_tags": {"env": "prod"},
    }
    management = host_vars(account(MANAGEMENT, "management"), make_tree(), ORG, "automation/MfaEnrollment")
    assert management["aws_account_is_management"] is True
    assert management["account_session_role_arn"] == f"arn:aws:iam::{MANAGEMENT}:role/automation/MfaEnrollment"
    assert "aws_account_tags" not in management


def test_the_role_arn_is_in_the_partition_of_the_organization():
    gov = account("222222222222", "gov", arn=f"arn:aws-us-gov:organizations::{MANAGEMENT}:account/{ORG_ID}/222222222222")
    assert host_vars(gov, make_tree(), ORG, "R")["account_session_role_arn"] == "arn:aws-us-gov:iam::222222222222:role/R"
    assert partition_of("not an arn") == "aws"


@pytest.mark.parametrize("role_name, valid", [
    ("OrganizationAccountAccessRole", True),
    ("automation/MfaEnrollment", True),
    ("bad role", False),
    ("", False),
    ("a" * 65, False),
])
def test_check_role_name(role_name, valid):
    if valid:
        check_role_name(role_name)
    else:
        with pytest.raises(OrganizationsError, match="is not an IAM role name"):
            check_role_name(role_name)


# Reading the organisation (botocore Stubber)

JOINED = datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc)


# Whether this botocore knows the State of an account (newer than Status); an older one drops it from AWS's answers, as
# the Stubber refuses it: the plugin then reads Status.
STATE_KNOWN = "State" in botocore.session.get_session().get_service_model("organizations").shape_for("Account").members


def described(account_id, name, status="ACTIVE"):
    account = {"Id": account_id, "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{account_id}", "Email": f"{name}@example.com",
               "Name": name, "Status": status, "JoinedMethod": "CREATED", "JoinedTimestamp": JOINED}
    if STATE_KNOWN:
        account["State"] = status
    return account


def ou(unit_id, name):
    return {"Id": unit_id, "Arn": f"arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/{unit_id}", "Name": name}


@pytest.fixture(name="client")
def fixture_client():
    session = botocore.session.get_session()
    return session.create_client("organizations", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """Retries happen at once."""
    monkeypatch.setattr(cloud.time, "sleep", lambda seconds: None)


def stub_organization(stubber, with_tags=True):
    """An organisation: Root (management account, a closed account) > Engineering (two pages of OUs) > Prod (two pages of accounts)."""
    stubber.add_response("describe_organization", {"Organization": {"Id": ORG_ID, "Arn": ORG["arn"], "MasterAccountId": MANAGEMENT}})
    stubber.add_response("list_roots", {"Roots": [{"Id": ROOT, "Name": "Root"}]})
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": [ou(ENG, "Engineering")]}, {"ParentId": ROOT})
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": [ou(PROD, "Prod")], "NextToken": "more"}, {"ParentId": ENG})
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": [ou(DEV, "Dev")]}, {"ParentId": ENG, "NextToken": "more"})
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": []}, {"ParentId": DEV})
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": []}, {"ParentId": PROD})
    return stubber


def stub_accounts(stubber, units):
    listed = {
        ROOT: [[described(MANAGEMENT, "management"), described("999999999999", "closed", "SUSPENDED")]],
        ENG: [[]],
        DEV: [[]],
        PROD: [[described("333333333333", "payments")], [described("222222222222", "analytics")]],
    }
    for unit in units:
        pages = listed[unit]
        for index, page in enumerate(pages):
            params = {"ParentId": unit, **({"NextToken": f"page{index}"} if index else {})}
            response = {"Accounts": page, **({"NextToken": f"page{index + 1}"} if index + 1 < len(pages) else {})}
            stubber.add_response("list_accounts_for_parent", response, params)


def test_read_organization_walks_the_tree_and_reads_every_page(client):
    with Stubber(client) as stubber:
        stub_organization(stubber)
        stub_accounts(stubber, [ROOT, ENG, DEV, PROD])
        for account_id, tags in ((MANAGEMENT, []), ("333333333333", [{"Key": "env", "Value": "prod"}]), ("222222222222", [])):
            stubber.add_response("list_tags_for_resource", {"Tags": tags}, {"ResourceId": account_id})
        listing = read_organization(client, Selection())
        stubber.assert_no_pending_responses()

    assert listing["organization"] == ORG
    assert [unit["path"] for unit in listing["units"]] == ["Root", "Root/Engineering", "Root/Engineering/Dev", "Root/Engineering/Prod"]
    # The closed account is filtered out before its tags are read; accounts come sorted by name.
    assert [(item["name"], item["unit_id"], item["tags"]) for item in listing["accounts"]] == [
        ("analytics", PROD, {}), ("management", ROOT, {}), ("payments", PROD, {"env": "prod"}),
    ]
    assert listing["query"] == Selection().as_data()


def test_read_organization_lists_only_the_selected_subtrees_and_no_tags_unless_asked(client):
    with Stubber(client) as stubber:
        stub_organization(stubber)
        stub_accounts(stubber, [PROD])
        listing = read_organization(client, Selection(organizational_units=("Root/Engineering/Prod",), include_tags=False))
        stubber.assert_no_pending_responses()
    assert [item["id"] for item in listing["accounts"]] == ["222222222222", "333333333333"]
    assert all(item["tags"] is None for item in listing["accounts"])


def test_read_organization_retries_throttled_calls(client):
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_organization", "TooManyRequestsException", "AWS Organizations can't complete your request")
        stub_organization(stubber)
        stub_accounts(stubber, [PROD])
        listing = read_organization(client, Selection(organizational_units=(PROD,), include_tags=False))
        stubber.assert_no_pending_responses()
    assert len(listing["accounts"]) == 2


@pytest.mark.parametrize("operation, code, expected", [
    ("describe_organization", "AWSOrganizationsNotInUseException",
     "DescribeOrganization failed (AWSOrganizationsNotInUseException): the account of these credentials is not in an AWS organization: "
     "run the inventory with credentials of the organization's management account or of a delegated administrator for AWS Organizations"),
    ("list_roots", "AccessDeniedException",
     "organizations:ListRoots was refused (AccessDeniedException: Something went wrong): run the inventory with credentials of the "
     "organization's management account or of a delegated administrator for AWS Organizations, allowed to call organizations:ListRoots "
     "(the policy docs/iam-policies/inventory.json of the collection has every action the inventory calls)"),
    ("describe_organization", "UnrecognizedClientException",
     "DescribeOrganization failed (UnrecognizedClientException): the AWS credentials are not valid or have expired"),
    ("list_roots", "ServiceException", "ListRoots failed (ServiceException): Something\nwent wrong"),
])
def test_errors_say_what_to_fix_in_one_line(client, operation, code, expected):
    with Stubber(client) as stubber:
        if operation == "list_roots":
            stubber.add_response("describe_organization", {"Organization": {"Id": ORG_ID, "MasterAccountId": MANAGEMENT}})
        stubber.add_client_error(operation, code, "Something\nwent wrong")
        with pytest.raises(OrganizationsError) as excinfo:
            read_organization(client, Selection())
    assert str(excinfo.value).startswith(expected.replace("\n", " "))
    assert "\n" not in str(excinfo.value)


def test_missing_credentials_are_told_where_to_set_them(client, monkeypatch):
    def no_credentials(**_kwargs):
        raise NoCredentialsError()

    monkeypatch.setattr(client, "describe_organization", no_credentials)
    with pytest.raises(OrganizationsError, match="^no AWS credentials found: set access_key and secret_key, or profile"):
        read_organization(client, Selection())


# The plugin

LISTING = {
    "query": Selection().as_data(),
    "organization": ORG,
    "units": make_tree().to_data(),
    "accounts": [
        account("222222222222", "analytics", PROD, tags={"team": "data"}),
        account(MANAGEMENT, "management", ROOT, tags={}),
        account("333333333333", "payments", PROD, tags={"team": "payments"}),
        account("444444444444", "tools", ENG, tags={"team": "platform"}),
    ],
}


class Reader:
    """Stands for read_organization: counts the readings and returns a copy of LISTING."""

    def __init__(self):
        self.selections = []

    def __call__(self, client, selection):
        self.selections.append(selection)
        return {**LISTING, "query": selection.as_data()}


@pytest.fixture(name="reader")
def fixture_reader(monkeypatch):
    reader = Reader()
    monkeypatch.setattr(accounts_plugin, "read_organization", reader)
    monkeypatch.setattr(accounts_plugin.InventoryModule, "_organizations_client", lambda self: None)
    return reader


def parse(tmp_path, text, name="org.mfa_accounts.yml", cache=True):
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    plugin = inventory_loader.get("mfa.aws.accounts")
    assert plugin.verify_file(str(config))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(config), cache=cache)
    try:
        plugin.update_cache_if_changed()
    except AttributeError:
        pass  # no cache
    return inventory


def cached_config(tmp_path, more=""):
    """An inventory configuration that caches its listing in a JSON file under tmp_path."""
    return f"""
plugin: mfa.aws.accounts
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: {tmp_path / 'cache'}
{more}"""


def members(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


@pytest.mark.parametrize("name, wanted", [
    ("org.mfa_accounts.yml", True), ("org.mfa_accounts.yaml", True), ("mfa_accounts.yml", True),
    ("org.aws_ec2.yml", False), ("org.mfa_accounts.json", False),
])
def test_verify_file(tmp_path, name, wanted):
    path = tmp_path / name
    path.write_text("plugin: mfa.aws.accounts\n", encoding="utf-8")
    assert bool(inventory_loader.get("mfa.aws.accounts").verify_file(str(path))) is wanted


def test_hosts_variables_and_groups(tmp_path, reader):
    inventory = parse(tmp_path, "plugin: mfa.aws.accounts\n")

    assert sorted(inventory.hosts) == ["analytics", "management", "payments", "tools"]
    assert members(inventory, "aws_accounts") == ["analytics", "management", "payments", "tools"]
    assert members(inventory, "ou_root_engineering") == ["analytics", "payments", "tools"]
    assert members(inventory, "ou_root_engineering_prod") == ["analytics", "payments"]
    assert "ou_root_finance" not in inventory.groups and "ou_root_engineering_dev" not in inventory.groups
    payments = inventory.get_host("payments").get_vars()
    assert payments["aws_account_id"] == "333333333333"
    assert payments["aws_account_ou_path"] == "Root/Engineering/Prod"
    assert payments["account_session_role_arn"] == "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole"
    assert payments["aws_account_tags"] == {"team": "payments"}
    assert inventory.groups["aws_accounts"].get_vars()["ansible_connection"] == "local"
    assert reader.selections == [Selection()]


def test_constructed_options_apply_after_the_plugin_variables(tmp_path, reader):
    inventory = parse(tmp_path, """
plugin: mfa.aws.accounts
role_name: MfaEnrollment
hostname_format: "{name}-{id}"
compose:
  account_session_assume_role: not aws_account_is_management
  account_session_role_arn: "'arn:aws:iam::' ~ aws_account_id ~ ':role/Other' if aws_account_name == 'tools' else account_session_role_arn"
keyed_groups:
  - key: aws_account_tags.team | default('none')
    prefix: team
groups:
  prod: aws_account_ou_path.endswith('/Prod')
""")
    tools = inventory.get_host("tools-444444444444").get_vars()
    assert tools["account_session_role_arn"] == "arn:aws:iam::444444444444:role/Other"
    assert inventory.get_host("payments-333333333333").get_vars()["account_session_role_arn"] == "arn:aws:iam::333333333333:role/MfaEnrollment"
    assert inventory.get_host(f"management-{MANAGEMENT}").get_vars()["account_session_assume_role"] is False
    assert members(inventory, "team_platform") == ["tools-444444444444"]
    assert members(inventory, "team_none") == [f"management-{MANAGEMENT}"]
    assert members(inventory, "prod") == ["analytics-222222222222", "payments-333333333333"]


def test_options_reach_the_selection(tmp_path, reader):
    parse(tmp_path, """
plugin: mfa.aws.accounts
organizational_units: [Root/Engineering, ou-ab12-44444444]
statuses: [ACTIVE, SUSPENDED]
tags: {team: payments, cost: null}
exclude_accounts: ["222222222222"]
include_management_account: false
include_tags: false
""")
    assert reader.selections == [Selection(("Root/Engineering", "ou-ab12-44444444"), ("ACTIVE", "SUSPENDED"), {"team": "payments", "cost": None},
                                           ("222222222222",), False, False)]


@pytest.mark.parametrize("text, message", [
    ("plugin: mfa.aws.accounts\norganisational_units: [Root]\n", "mfa.aws.accounts: unknown option organisational_units in "),
    ("plugin: mfa.aws.accounts\nhostname_format: '{account}'\n", "mfa.aws.accounts: hostname_format '{account}' uses {account}"),
    ("plugin: mfa.aws.accounts\nrole_name: bad role\n", "mfa.aws.accounts: role_name 'bad role' is not an IAM role name"),
])
def test_bad_configuration_fails_before_any_reading(tmp_path, reader, text, message):
    with pytest.raises(AnsibleParserError) as excinfo:
        parse(tmp_path, text)
    assert str(excinfo.value).startswith(message)
    assert reader.selections == []


def test_an_organizations_error_is_a_parser_error(tmp_path, monkeypatch):
    def fail(client, selection):
        raise OrganizationsError("organizational unit Root/Nope does not exist in organization o-x: check organizational_units")

    monkeypatch.setattr(accounts_plugin, "read_organization", fail)
    monkeypatch.setattr(accounts_plugin.InventoryModule, "_organizations_client", lambda self: None)
    with pytest.raises(AnsibleParserError, match="^mfa.aws.accounts: organizational unit Root/Nope does not exist"):
        parse(tmp_path, "plugin: mfa.aws.accounts\norganizational_units: [Root/Nope]\n")


def test_the_cache_answers_the_same_filters_and_only_them(tmp_path, reader):
    cached = cached_config(tmp_path)
    first = parse(tmp_path, cached)
    second = parse(tmp_path, cached)
    assert len(reader.selections) == 1
    assert sorted(second.hosts) == sorted(first.hosts)
    assert second.get_host("payments").get_vars()["aws_account_tags"] == {"team": "payments"}

    parse(tmp_path, cached + "statuses: [SUSPENDED]\n")
    assert len(reader.selections) == 2
    parse(tmp_path, cached, cache=False)  # --flush-cache
    assert len(reader.selections) == 3
    parse(tmp_path, cached)
    assert len(reader.selections) == 3


@pytest.mark.parametrize("other", [
    "profile: other-org\n",
    "assume_role_arn: arn:aws:iam::999999999999:role/OrgReader\n",
    "endpoint_url: http://127.0.0.1:9999\n",
    "region: eu-west-1\n",
])
def test_the_cache_answers_the_same_connection_only(tmp_path, reader, monkeypatch, other):
    monkeypatch.setattr(accounts_plugin.InventoryModule, "_set_frozen_credentials", lambda self: None)  # no AssumeRole call
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    cached = cached_config(tmp_path, "region: us-east-1\n")
    parse(tmp_path, cached)
    parse(tmp_path, cached)
    assert len(reader.selections) == 1

    switched = cached.replace("region: us-east-1\n", "") + other if other.startswith("region") else cached + other
    parse(tmp_path, switched)
    assert len(reader.selections) == 2
    parse(tmp_path, switched)
    assert len(reader.selections) == 2
    parse(tmp_path, cached)
    assert len(reader.selections) == 3


def test_the_cache_tells_endpoints_of_the_environment_apart(tmp_path, reader, monkeypatch):
    cached = cached_config(tmp_path, "region: us-east-1\n")
    monkeypatch.delenv("AWS_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_ORGANIZATIONS", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example/secret/access/key")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111")
    parse(tmp_path, cached)
    parse(tmp_path, cached)
    assert len(reader.selections) == 1
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2222")
    parse(tmp_path, cached)
    assert len(reader.selections) == 2
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", "http://127.0.0.1:3333")
    parse(tmp_path, cached)
    assert len(reader.selections) == 3
    # The cache keeps no credentials.
    cache_text = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "cache").iterdir())
    assert "127.0.0.1:3333" in cache_text
    assert "AKIAEXAMPLEKEYID" not in cache_text and "example/secret/access/key" not in cache_text


COLLIDING_LISTING = {
    **LISTING,
    "units": make_colliding_tree().to_data(),
    "accounts": LISTING["accounts"] + [account("555555555555", "pipelines", ENG_PROD, tags={})],
}


def test_ous_that_would_share_a_group_fail_the_inventory_before_any_host_is_added(tmp_path, monkeypatch):
    monkeypatch.setattr(accounts_plugin, "read_organization", lambda client, selection: {**COLLIDING_LISTING, "query": selection.as_data()})
    monkeypatch.setattr(accounts_plugin.InventoryModule, "_organizations_client", lambda self: None)
    config = tmp_path / "org.mfa_accounts.yml"
    config.write_text("plugin: mfa.aws.accounts\n", encoding="utf-8")
    inventory = InventoryData()
    with pytest.raises(AnsibleParserError) as excinfo:
        inventory_loader.get("mfa.aws.accounts").parse(inventory, DataLoader(), str(config))
    assert str(excinfo.value).startswith(
        f"mfa.aws.accounts: the OUs Root/Engineering-Prod ({ENG_PROD}) and Root/Engineering/Prod ({PROD}) would share the group ou_root_engineering_prod"
    )
    assert not inventory.hosts
    assert not any(group.startswith(("ou_", "aws_accounts")) for group in inventory.groups)


def test_path_and_id_group_names_keep_a_limited_run_to_its_own_ou(tmp_path, monkeypatch):
    monkeypatch.setattr(accounts_plugin, "read_organization", lambda client, selection: {**COLLIDING_LISTING, "query": selection.as_data()})
    monkeypatch.setattr(accounts_plugin.InventoryModule, "_organizations_client", lambda self: None)
    inventory = parse(tmp_path, "plugin: mfa.aws.accounts\nou_group_names: path_and_id\n")

    assert members(inventory, "ou_root_engineering_ou_ab12_11111111") == ["analytics", "payments", "tools"]
    assert members(inventory, "ou_root_engineering_prod_ou_ab12_22222222") == ["analytics", "payments"]
    assert members(inventory, "ou_root_engineering_prod_ou_ab12_55555555") == ["pipelines"]
    assert members(inventory, "ou_root_r_ab12") == ["analytics", "management", "payments", "pipelines", "tools"]
    assert "ou_root_engineering_prod" not in inventory.groups


def test_without_the_cache_option_every_parse_reads(tmp_path, reader):
    parse(tmp_path, "plugin: mfa.aws.accounts\n")
    parse(tmp_path, "plugin: mfa.aws.accounts\n")
    assert len(reader.selections) == 2
