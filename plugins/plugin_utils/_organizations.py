# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the mfa.aws.accounts inventory plugin knows about AWS Organizations.

Private to this collection: the names here may change in any release.

``read_organization()`` reads an organisation the way the plugin needs it: the tree of
organisational units (OUs) from the root, the accounts of the OUs asked for, and their tags
when they are wanted, with paginated calls that retry on throttling.  The other functions
select accounts and name hosts and groups; they make no call.  Every problem is an
``OrganizationsError`` whose message is one line that says what to fix.

The result of ``read_organization()`` is plain JSON data (it is what the inventory cache keeps, with
the ``connection_data()`` of the connection options it was read with under "connection"):

    {"query": {...the selection...},
     "organization": {"id", "arn", "management_account_id"},
     "units": [{"id", "name", "path", "parent_id"}, ...],    # the whole OU tree, root first
     "accounts": [{"id", "name", "email", "arn", "status", "joined_method", "unit_id", "tags"}, ...]}

``tags`` is None when the tags were not read.
"""

from __future__ import annotations

import dataclasses
import re
import string
import urllib.parse

try:
    import botocore
except ImportError:
    pass  # The inventory plugin reports the missing library before any call.

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.mfa.aws.plugins.module_utils._errors import hint as error_hint
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import is_account_id

# Account states, as ListAccountsForParent reports them (State, or Status where State is absent).
STATUSES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "PENDING_ACTIVATION", "CLOSED")
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_HOSTNAME_FORMAT = "{name}"
HOSTNAME_FIELDS = ("id", "name", "email")
ALL_ACCOUNTS_GROUP = "aws_accounts"
OU_GROUP_PREFIX = "ou_"
PATH_SEPARATOR = "/"
# How OU groups are named: after the OU's path, or after its path and id.
OU_GROUP_NAMES = ("path", "path_and_id")
DEFAULT_OU_GROUP_NAMES = "path"

# AWS Organizations answers throttled calls with TooManyRequestsException, which AWSRetry retries
# already; ThrottlingException is what other JSON services (and local endpoints) answer.
_RETRY = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["ThrottlingException"])

_UNIT_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
_ROLE_NAME = re.compile(r"(?:[\x21-\x7e]+/)*[\w+=,.@-]{1,64}", re.ASCII)
_UNSAFE_HOST_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")
_UNSAFE_GROUP_CHARACTERS = re.compile(r"[^a-z0-9]+")

_NOT_AN_ADMINISTRATOR = (
    "run the inventory with credentials of the organization's management account or of a delegated "
    "administrator for AWS Organizations"
)
_BAD_CREDENTIALS = "the AWS credentials are not valid or have expired: check access_key, secret_key, session_token, profile or assume_role_arn"
# What the inventory alone can say; the collection's table (module_utils/_errors.py) has the rest.
_HINTS = {
    "AWSOrganizationsNotInUseException": f"the account of these credentials is not in an AWS organization: {_NOT_AN_ADMINISTRATOR}",
    "UnrecognizedClientException": _BAD_CREDENTIALS,
    "InvalidClientTokenId": _BAD_CREDENTIALS,
    "InvalidSignatureException": _BAD_CREDENTIALS,
    "ExpiredTokenException": _BAD_CREDENTIALS,
    "ExpiredToken": _BAD_CREDENTIALS,
    "TooManyRequestsException": "AWS Organizations throttled every retry: run again later, and set cache to true so that runs reuse the listing",
    "ThrottlingException": "AWS Organizations throttled every retry: run again later, and set cache to true so that runs reuse the listing",
}


class OrganizationsError(Exception):
    """A problem with the organisation, the credentials or the options, in one line that says what to fix."""


def one_line(text: object) -> str:
    """text with every run of white space (line breaks included) made one space."""
    return " ".join(str(text).split())


def _failure(action: str, error: Exception) -> OrganizationsError:
    """The OrganizationsError for a botocore error raised by `action` (e.g. "ListRoots")."""
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return OrganizationsError(
            "no AWS credentials found: set access_key and secret_key, or profile, in the inventory configuration, "
            "or the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) environment variables"
        )
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = one_line(error.response.get("Error", {}).get("Message", ""))
        if code in ("AccessDenied", "AccessDeniedException"):
            # AWS's message names the principal; the action is named whatever it says.
            return OrganizationsError(
                f"organizations:{action} was refused ({code}: {message}): {_NOT_AN_ADMINISTRATOR}, allowed to call organizations:{action} "
                "(the policy docs/iam-policies/inventory.json of the collection has every action the inventory calls)"
            )
        hint = error_hint(code, hints=_HINTS)
        if hint:
            return OrganizationsError(f"{action} failed ({code}): {hint}")
        return OrganizationsError(f"{action} failed ({code}): {message}")
    return OrganizationsError(f"{action} failed: {one_line(error)}: check endpoint_url, region and the network")


@_RETRY
def _paginate(client, operation: str, result_key: str, **params) -> list:
    return client.get_paginator(operation).paginate(**params).build_full_result().get(result_key, [])


@_RETRY
def _call(client, operation: str, **params) -> dict:
    return getattr(client, operation)(**params)


def _read(action: str, function, *args, **kwargs):
    """function(*args, **kwargs), with botocore errors turned into OrganizationsError."""
    try:
        return function(*args, **kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise _failure(action, error) from error


@dataclasses.dataclass(frozen=True)
class Unit:
    """The root or an organisational unit, with its path from the root (e.g. Root/Engineering/Prod)."""

    id: str
    name: str
    path: str
    parent_id: str | None = None


class Tree:
    """The organisational units of an organisation, root first, each after its parent."""

    def __init__(self, units: list[Unit]) -> None:
        if not units or units[0].parent_id is not None:
            raise ValueError("a tree starts with its root")
        self.units = list(units)
        self.by_id = {unit.id: unit for unit in units}
        self.children: dict[str, list[str]] = {unit.id: [] for unit in units}
        for unit in units[1:]:
            self.children[unit.parent_id].append(unit.id)

    @classmethod
    def from_data(cls, data: list[dict]) -> Tree:
        return cls([Unit(**item) for item in data])

    def to_data(self) -> list[dict]:
        return [dataclasses.asdict(unit) for unit in self.units]

    @property
    def root(self) -> Unit:
        return self.units[0]

    def find(self, selector: str) -> Unit | None:
        """The unit with this id (r-..., ou-...) or path from the root (Root/Engineering); None if there is none."""
        selector = selector.strip()
        if _UNIT_ID.fullmatch(selector):
            return self.by_id.get(selector)
        path = split_path(selector)
        if not path or path[0] != self.root.name:
            return None
        unit = self.root
        for name in path[1:]:
            unit = next((self.by_id[child] for child in self.children[unit.id] if self.by_id[child].name == name), None)
            if unit is None:
                return None
        return unit

    def subtree(self, unit_id: str) -> list[str]:
        """The ids of the unit and of every unit under it, the unit first."""
        found, pending = [], [unit_id]
        while pending:
            current = pending.pop(0)
            found.append(current)
            pending.extend(self.children[current])
        return found

    def ancestry(self, unit_id: str) -> list[Unit]:
        """The unit and its ancestors, the root last."""
        chain = [self.by_id[unit_id]]
        while chain[-1].parent_id is not None:
            chain.append(self.by_id[chain[-1].parent_id])
        return chain


def split_path(path: str) -> list[str]:
    """The names in an OU path: "Root/Engineering/Prod" or "/Root/Engineering/" -> ["Root", "Engineering", "Prod"]."""
    return [name for name in path.strip().strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if name != ""]


def join_path(parent: str | None, name: str) -> str:
    return name if parent is None else f"{parent}{PATH_SEPARATOR}{name}"


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which accounts to list, and whether to read their tags."""

    organizational_units: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("ACTIVE",)
    tags: dict = dataclasses.field(default_factory=dict)
    exclude_accounts: tuple[str, ...] = ()
    include_management_account: bool = True
    include_tags: bool = True

    @classmethod
    def from_options(cls, organizational_units, statuses, tags, exclude_accounts, include_management_account, include_tags) -> Selection:
        """A selection from the plugin's options, checked: OrganizationsError names the option to fix."""
        for account_id in exclude_accounts or ():
            if not is_account_id(account_id):
                raise OrganizationsError(
                    f"exclude_accounts takes 12-digit account ids, not '{account_id}': quote the ids in YAML so that they stay strings"
                )
        unknown = [status for status in statuses or () if status not in STATUSES]
        if unknown:
            raise OrganizationsError(f"statuses may hold {', '.join(STATUSES)}, not {', '.join(map(str, unknown))}")
        for unit in organizational_units or ():
            if not isinstance(unit, str) or not unit.strip():
                raise OrganizationsError(f"organizational_units takes OU ids or paths like Root/Engineering, not {unit!r}")
        return cls(
            organizational_units=tuple(unit.strip() for unit in organizational_units or ()),
            statuses=tuple(statuses or ()),
            tags={str(key): None if value is None else str(value) for key, value in (tags or {}).items()},
            exclude_accounts=tuple(exclude_accounts or ()),
            include_management_account=bool(include_management_account),
            include_tags=bool(include_tags),
        )

    def as_data(self) -> dict:
        """The selection as JSON data, which tells whether a cached listing answers it."""
        return {
            "organizational_units": list(self.organizational_units),
            "statuses": list(self.statuses),
            "tags": dict(self.tags),
            "exclude_accounts": list(self.exclude_accounts),
            "include_management_account": self.include_management_account,
            "include_tags": self.include_tags,
        }

    @property
    def reads_tags(self) -> bool:
        return self.include_tags or bool(self.tags)


def connection_data(profile: str | None, assume_role_arn: str | None, endpoint_url: str | None, region: str | None) -> dict:
    """Which organisation the connection options reach, as JSON data that a cached listing must match.

    No secret: the access keys and tokens are left out, and so are the user name and password that
    an endpoint URL may hold.  A listing cached with other values is of another organisation, or may be."""
    if endpoint_url:
        parts = urllib.parse.urlsplit(str(endpoint_url))
        endpoint_url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return {
        "profile": str(profile) if profile else None,
        "assume_role_arn": str(assume_role_arn) if assume_role_arn else None,
        "endpoint_url": endpoint_url or None,
        "region": str(region) if region else None,
    }


def account_status(account: dict) -> str:
    """The account's state: State, or the older Status where State is absent."""
    return account.get("State") or account.get("Status") or ""


def selected_before_tags(account: dict, selection: Selection, management_account_id: str) -> bool:
    """Whether the account passes the filters that need no tags (statuses, exclusions, management account)."""
    if account["id"] in selection.exclude_accounts:
        return False
    if not selection.include_management_account and account["id"] == management_account_id:
        return False
    return account["status"] in selection.statuses


def tags_match(tags: dict | None, wanted: dict) -> bool:
    """Whether tags hold every wanted tag (a wanted value of None: any value)."""
    if not wanted:
        return True
    tags = tags or {}
    return all(key in tags and (value is None or tags[key] == value) for key, value in wanted.items())


def resolve_units(tree: Tree, selectors: tuple[str, ...], organization_id: str) -> list[str]:
    """The ids of the units the selectors name and of the units under them, each once, in tree order."""
    if not selectors:
        return tree.subtree(tree.root.id)
    wanted = set()
    for selector in selectors:
        unit = tree.find(selector)
        if unit is None:
            raise OrganizationsError(
                f"organizational unit {selector} does not exist in organization {organization_id}: check organizational_units "
                f"(OU ids like ou-ab12-34cd56ef, or paths from the root like {tree.root.name}{PATH_SEPARATOR}Engineering)"
            )
        wanted.update(tree.subtree(unit.id))
    return [unit_id for unit_id in tree.subtree(tree.root.id) if unit_id in wanted]


def _account_data(account: dict, unit_id: str) -> dict:
    return {
        "id": account["Id"],
        "name": account.get("Name", ""),
        "email": account.get("Email", ""),
        "arn": account.get("Arn", ""),
        "status": account_status(account),
        "joined_method": account.get("JoinedMethod", ""),
        "unit_id": unit_id,
        "tags": None,
    }


def read_tree(client) -> Tree:
    """The organisation's root and every OU under it (one ListOrganizationalUnitsForParent per unit)."""
    roots = _read("ListRoots", _paginate, client, "list_roots", "Roots")
    if not roots:
        raise OrganizationsError(f"ListRoots returned no root: {_NOT_AN_ADMINISTRATOR}")
    root = Unit(id=roots[0]["Id"], name=roots[0].get("Name") or "Root", path=roots[0].get("Name") or "Root")
    units, pending = [root], [root]
    while pending:
        parent = pending.pop(0)
        found = _read("ListOrganizationalUnitsForParent", _paginate, client, "list_organizational_units_for_parent",
                      "OrganizationalUnits", ParentId=parent.id)
        for item in sorted(found, key=lambda item: (item.get("Name", ""), item["Id"])):
            unit = Unit(id=item["Id"], name=item.get("Name", ""), path=join_path(parent.path, item.get("Name", "")), parent_id=parent.id)
            units.append(unit)
            pending.append(unit)
    return Tree(units)


def read_organization(client, selection: Selection) -> dict:
    """The organisation and its accounts that the selection asks for (see the module's docstring)."""
    description = _read("DescribeOrganization", _call, client, "describe_organization")["Organization"]
    organization = {
        "id": description["Id"],
        "arn": description.get("Arn", ""),
        "management_account_id": description.get("MasterAccountId", ""),
    }
    tree = read_tree(client)
    accounts = []
    for unit_id in resolve_units(tree, selection.organizational_units, organization["id"]):
        listed = _read("ListAccountsForParent", _paginate, client, "list_accounts_for_parent", "Accounts", ParentId=unit_id)
        accounts.extend(_account_data(account, unit_id) for account in listed)
    accounts = [account for account in accounts if selected_before_tags(account, selection, organization["management_account_id"])]
    if selection.reads_tags:
        for account in accounts:
            tags = _read("ListTagsForResource", _paginate, client, "list_tags_for_resource", "Tags", ResourceId=account["id"])
            account["tags"] = boto3_tag_list_to_ansible_dict(tags)
        accounts = [account for account in accounts if tags_match(account["tags"], selection.tags)]
    accounts.sort(key=lambda account: (account["name"], account["id"]))
    return {"query": selection.as_data(), "organization": organization, "units": tree.to_data(), "accounts": accounts}


def check_hostname_format(hostname_format: str) -> None:
    """OrganizationsError unless the format uses only the fields {id}, {name} and {email}, and at least one."""
    allowed = ", ".join("{" + name + "}" for name in HOSTNAME_FIELDS)
    try:
        fields = [field for _text, field, _spec, _conversion in string.Formatter().parse(hostname_format) if field is not None]
    except ValueError as error:
        raise OrganizationsError(f"hostname_format {hostname_format!r} is not a valid format ({error}): use the fields {allowed}") from None
    unknown = sorted({field for field in fields if field not in HOSTNAME_FIELDS})
    if unknown or not fields:
        what = "uses " + ", ".join("{" + field + "}" for field in unknown) if unknown else "uses no field"
        raise OrganizationsError(f"hostname_format {hostname_format!r} {what}: use the fields {allowed}")


def safe_host_name(text: str) -> str:
    """text with every run of characters other than letters, digits, '_', '.' and '-' made one '_'."""
    return _UNSAFE_HOST_CHARACTERS.sub("_", text).strip("_")


def host_names(accounts: list[dict], hostname_format: str) -> tuple[dict[str, str], list[str]]:
    """account id -> host name, and the names that several accounts shared.

    Accounts whose names collide get their id appended (name_123456789012), so that no account hides
    another; a name that is empty once made safe is the account id."""
    check_hostname_format(hostname_format)
    base = {}
    for account in accounts:
        fields = {name: account.get(name, "") for name in HOSTNAME_FIELDS}
        try:
            formatted = hostname_format.format(**fields)
        except (ValueError, KeyError, IndexError) as error:
            raise OrganizationsError(f"hostname_format {hostname_format!r} cannot name account {account['id']}: {error}") from None
        base[account["id"]] = safe_host_name(formatted) or account["id"]
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    shared = sorted(name for name, count in counts.items() if count > 1)
    names = {account_id: f"{name}_{account_id}" if counts[name] > 1 else name for account_id, name in base.items()}
    return names, shared


def ou_group_name(path: str, unit_id: str | None = None) -> str:
    """The group of an OU path: Root/Engineering/Prod -> ou_root_engineering_prod.

    With the unit's id, the name ends with it: ou_root_engineering_prod_ou_ab12_22222222."""
    name = _UNSAFE_GROUP_CHARACTERS.sub("_", path.lower()).strip("_") or "unnamed"
    if unit_id is not None:
        name = f"{name}_{_UNSAFE_GROUP_CHARACTERS.sub('_', unit_id.lower()).strip('_')}"
    return OU_GROUP_PREFIX + name


def ou_group_names(tree: Tree, ou_group_names_option: str = DEFAULT_OU_GROUP_NAMES) -> dict[str, str]:
    """unit id -> group name, for every unit of the tree; OrganizationsError when two units would share a group.

    Two OUs whose paths differ only in characters that group names cannot hold (Root/Eng/Prod and
    Root/Eng-Prod) would make one group of both, and a run limited to it would reach the accounts of
    both: that is refused, for the whole tree, whichever accounts are listed, so that several
    inventories of one organisation agree on every name.  ``path_and_id`` names every group after
    its path and id, which no other unit shares."""
    if ou_group_names_option not in OU_GROUP_NAMES:
        raise OrganizationsError(f"ou_group_names may be {' or '.join(OU_GROUP_NAMES)}, not {ou_group_names_option!r}")
    with_ids = ou_group_names_option == "path_and_id"
    names: dict[str, str] = {}
    owners: dict[str, Unit] = {}
    for unit in tree.units:
        name = ou_group_name(unit.path, unit.id if with_ids else None)
        other = owners.setdefault(name, unit)
        if other is not unit:
            fix = (
                "rename one of them" if with_ids
                else "rename one of them, or set ou_group_names to path_and_id to end every OU group's name with the OU's id"
            )
            first, second = sorted((other, unit), key=lambda shared: (shared.path, shared.id))
            raise OrganizationsError(
                f"the OUs {first.path} ({first.id}) and {second.path} ({second.id}) would share the group {name}, "
                f"and a run limited to it would reach the accounts of both: {fix}"
            )
        names[unit.id] = name
    return names


def ou_groups(tree: Tree, unit_ids, names: dict[str, str] | None = None) -> list[tuple[str, str | None, str]]:
    """(group, parent group or None, OU path) for the units given and their ancestors, parents first.

    names maps unit ids to group names (ou_group_names()); by default the groups are named after the paths."""
    if names is None:
        names = ou_group_names(tree)
    wanted = set()
    for unit_id in unit_ids:
        wanted.update(unit.id for unit in tree.ancestry(unit_id))
    groups = []
    for unit in tree.units:
        if unit.id in wanted:
            parent = names[unit.parent_id] if unit.parent_id is not None else None
            groups.append((names[unit.id], parent, unit.path))
    return groups


def check_role_name(role_name: str) -> None:
    """OrganizationsError unless role_name is an IAM role name, with an optional path (automation/MfaEnrollment)."""
    if not (isinstance(role_name, str) and _ROLE_NAME.fullmatch(role_name)):
        raise OrganizationsError(f"role_name {role_name!r} is not an IAM role name: use a name like {DEFAULT_ROLE_NAME}, or path/name")


def partition_of(arn: str) -> str:
    """The partition of an ARN (aws, aws-us-gov, aws-cn...); aws when there is none."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def host_vars(account: dict, tree: Tree, organization: dict, role_name: str) -> dict:
    """The variables of the account's host."""
    unit = tree.by_id[account["unit_id"]]
    variables = {
        "aws_account_id": account["id"],
        "aws_account_name": account["name"],
        "aws_account_email": account["email"],
        "aws_account_arn": account["arn"],
        "aws_account_status": account["status"],
        "aws_account_joined_method": account["joined_method"],
        "aws_account_ou_id": unit.id,
        "aws_account_ou_path": unit.path,
        "aws_account_is_management": account["id"] == organization["management_account_id"],
        "aws_organization_id": organization["id"],
        "account_session_role_arn": f"arn:{partition_of(account['arn'] or organization['arn'])}:iam::{account['id']}:role/{role_name}",
    }
    if account.get("tags") is not None:
        variables["aws_account_tags"] = dict(account["tags"])
    return variables
