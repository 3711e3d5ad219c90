# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: accounts
author:
  - Contributors to the mfa.aws project (@mfa-aws)
version_added: 0.1.0
short_description: The accounts of an AWS Organization, one inventory host each
description:
  - Lists the accounts of an AWS Organization and makes one inventory host of each, with the variables
    that the C(mfa.aws.account_session) role reads (C(aws_account_id), C(account_session_role_arn)), so that
    the collection's playbooks cover a whole organisation, or the organisational units (OUs) chosen.
  - Walks the organisation from its root with paginated AWS Organizations calls (C(DescribeOrganization),
    C(ListRoots), one C(ListOrganizationalUnitsForParent) per OU, one C(ListAccountsForParent) per OU listed)
    and, for the tags, one C(ListTagsForResource) per account. Throttled calls are retried with jittered backoff.
  - Run it with credentials of the organisation's management account, or of a delegated administrator
    for AWS Organizations.
  - Makes the group C(aws_accounts) of all the hosts, and one group per OU named after its path, C(ou_) followed
    by the path in lower case with every run of other characters than letters and digits made C(_)
    (C(Root/Engineering/Prod) is C(ou_root_engineering_prod)). The group of an OU has the groups of its child OUs
    as children, so C(ou_root_engineering) covers the accounts of C(Root/Engineering/Prod) too.
  - When two OUs of the organisation would get the same group name (C(Root/Eng/Prod) and C(Root/Eng-Prod) are both
    C(ou_root_eng_prod)), the inventory fails with an error that names both OUs, rather than make one group of the
    accounts of both, which a run limited to that group would reach. Rename one of the OUs, or set
    O(ou_group_names=path_and_id). Every OU of the organisation counts, whichever accounts are listed.
  - Every host has the variables C(aws_account_id) (12 digits, a string), C(aws_account_name), C(aws_account_email),
    C(aws_account_arn), C(aws_account_status), C(aws_account_joined_method), C(aws_account_ou_id),
    C(aws_account_ou_path) (for example C(Root/Engineering/Prod)), C(aws_account_is_management),
    C(aws_organization_id), C(aws_account_tags) (a dictionary; absent when O(include_tags=false) and O(tags) is empty)
    and C(account_session_role_arn) (the role O(role_name) in the account).
  - The group C(aws_accounts) has the variables C(ansible_connection=local) and C(ansible_python_interpreter) (the Python
    that runs Ansible), since the AWS modules run on the controller. C(group_vars/aws_accounts.yml) next to the
    configuration file can change them.
  - O(compose) runs after the plugin sets the variables, so it can replace any of them for some hosts,
    for example C(account_session_role_arn) or C(account_session_assume_role).
  - The configuration file must end with C(mfa_accounts.yml) or C(mfa_accounts.yaml), for example C(org.mfa_accounts.yml).
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description: Marks the file as a configuration of this plugin.
    type: str
    required: true
    choices: [mfa.aws.accounts]
  organizational_units:
    description:
      - The OUs whose accounts to list, each with every OU under it. Empty (the default) lists the whole organisation.
      - Each element is an OU id (C(ou-ab12-34cd56ef)), the root's id (C(r-ab12)), or a path of OU names from the root
        separated by C(/), such as C(Root/Engineering) (names are case-sensitive).
      - An OU that does not exist stops the inventory with an error that names it.
    type: list
    elements: str
    default: []
  statuses:
    description:
      - The account states to list. An account's state is its C(State) in the AWS Organizations API, or its older
        C(Status) where C(State) is absent.
    type: list
    elements: str
    choices: [ACTIVE, SUSPENDED, PENDING_CLOSURE, PENDING_ACTIVATION, CLOSED]
    default: [ACTIVE]
  tags:
    description:
      - Tags that an account must all have to be listed, as a dictionary of tag key to value.
      - A key with no value (C(null)) asks for the tag with any value.
      - Reading the tags takes one C(ListTagsForResource) call per account that passes the other filters.
    type: dict
    default: {}
  exclude_accounts:
    description: Ids of accounts not to list. Quote them in YAML so that they stay 12-digit strings.
    type: list
    elements: str
    default: []
  include_management_account:
    description:
      - Whether to list the organisation's management account (when it passes the other filters).
      - AWS creates C(OrganizationAccountAccessRole) in the member accounts it creates, not in the management
        account. To enroll the management account with the credentials the run starts from, set
        C(account_session_assume_role) to C(not aws_account_is_management) with O(compose).
    type: bool
    default: true
  include_tags:
    description:
      - Whether to read the tags of every account listed into C(aws_account_tags), for O(keyed_groups),
        O(groups) and O(compose). It takes one C(ListTagsForResource) call per account.
      - With V(false) the plugin reads tags only when O(tags) filters on them.
    type: bool
    default: true
  hostname_format:
    description:
      - How to name the host of an account, with the fields C({name}) (the account name), C({id}) and C({email}),
        for example V({name}), V({id}) or V({name}-{id}).
      - Every run of characters other than letters, digits, C(_), C(.) and C(-) in the result is made one C(_).
      - When several accounts would get the same name, each of them gets C(_) and its id appended, with a warning.
    type: str
    default: "{name}"
  ou_group_names:
    description:
      - How to name the group of each OU.
      - V(path) names it after the OU's path, C(ou_root_engineering_prod) for C(Root/Engineering/Prod).
      - V(path_and_id) ends that name with C(_) and the OU's id in lower case with C(-) made C(_), for example
        C(ou_root_engineering_prod_ou_ab12_34cd56ef) (the root's group ends with its id too), so that no two OUs
        share a group even where their paths differ only in characters that group names cannot hold.
    type: str
    choices: [path, path_and_id]
    default: path
  role_name:
    description:
      - The IAM role that C(account_session_role_arn) names in each account, C(arn:aws:iam::<id>:role/<role_name>),
        which the C(mfa.aws.account_session) role assumes. A path may come before the name (C(automation/MfaEnrollment)).
    type: str
    default: OrganizationAccountAccessRole
notes:
  - With O(cache=true), a later run within O(cache_timeout) makes no AWS Organizations call. The cache remembers
    the filters it was made with and the O(profile), O(assume_role_arn), O(endpoint_url) and O(region) that the run
    connected with (set in the configuration or the environment, such as C(AWS_PROFILE)), and a run with other filters
    or another of those lists the organisation again. The cache keeps no credentials, so after switching to the access
    keys of another organisation with the same profile, role, endpoint and region, run with C(--flush-cache), which lists
    the organisation again anyway.
  - When the plugin cannot read the organisation, Ansible shows its error as a warning and goes on without these
    hosts. Set C(any_unparsed_is_failed = true) in the C([inventory]) section of C(ansible.cfg) (or
    C(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true)) to make that stop the run.
  - AWS Organizations is a global service; O(region) selects the partition's endpoint and defaults to C(us-east-1).
  - Ansible's C(auto) inventory plugin, enabled by default, hands the file to this plugin by its C(plugin) key;
    with C(enable_plugins) set in the C([inventory]) section of C(ansible.cfg), list C(auto) or C(mfa.aws.accounts) there.
seealso:
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
  - name: Accessing member accounts in an organization
    description: The OrganizationAccountAccessRole that AWS creates in the accounts it creates in an organisation.
    link: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access.html
  - name: Delegated administrator for AWS Organizations
    description: Let an account other than the management account read the organisation.
    link: https://docs.aws.amazon.com/organizations/latest/userguide/orgs-policy-delegate.html
"""

EXAMPLES = r"""
# Each key is the name of an inventory source, and its value what that file holds.

# Every active account of the organisation. Run with credentials of the management account:
#   ansible-playbook -i org.mfa_accounts.yml mfa.aws.enroll --vault-id mfa@prompt
org.mfa_accounts.yml:
  plugin: mfa.aws.accounts
  compose:
    # The management account has no OrganizationAccountAccessRole: use the run's own credentials there.
    account_session_assume_role: not aws_account_is_management

# The production accounts under two OUs, by path and by id, hosts named after the account ids, a role of our own, and
# the listing cached for an hour.
engineering.mfa_accounts.yml:
  plugin: mfa.aws.accounts
  organizational_units:
    - Root/Engineering/Prod
    - ou-ab12-34cd56ef
  tags:
    environment: production
  exclude_accounts:
    - "111111111111"
  include_management_account: false
  hostname_format: "{id}"
  role_name: MfaEnrollment
  cache: true
  cache_plugin: ansible.builtin.jsonfile
  cache_connection: ~/.cache/mfa-aws-inventory
  cache_timeout: 3600

# Groups by tag and by state, and another role for the accounts that joined by invitation (AWS creates
# OrganizationAccountAccessRole only in the accounts it creates).
teams.mfa_accounts.yml:
  plugin: mfa.aws.accounts
  statuses: [ACTIVE, SUSPENDED]
  keyed_groups:
    - key: aws_account_tags.team | default('none')
      prefix: team
    - key: aws_account_status | lower
      prefix: status
  groups:
    sandboxes: "'sandbox' in aws_account_name"
  compose:
    account_session_role_arn: >-
      'arn:aws:iam::' ~ aws_account_id ~ ':role/'
      ~ ('MfaEnrollment' if aws_account_joined_method == 'INVITED' else 'OrganizationAccountAccessRole')

# From a delegated administrator account, with a profile of its own and the organisation's region.
delegated.mfa_accounts.yml:
  plugin: mfa.aws.accounts
  profile: org-reader
  region: us-east-1
  include_management_account: false
"""

import os
import sys

from ansible.errors import AnsibleParserError

from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import ALL_ACCOUNTS_GROUP
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import OrganizationsError
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import Selection
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import Tree
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import check_hostname_format
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import check_role_name
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import connection_data
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import host_names
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import host_vars
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import ou_group_names
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import ou_groups
from ansible_collections.mfa.aws.plugins.plugin_utils._organizations import read_organization

# Organizations is a global service: its endpoint lives in us-east-1 for the aws partition.
_DEFAULT_REGION = "us-east-1"


class InventoryModule(AWSInventoryBase):

    NAME = "mfa.aws.accounts"
    INVENTORY_FILE_SUFFIXES = ("mfa_accounts.yml", "mfa_accounts.yaml")

    def _do_fail(self, message):
        raise AnsibleParserError(message)

    def _read_config_data(self, path):
        """The configuration, checked: an unknown key is an error (a misspelt filter would list too much)."""
        config = super()._read_config_data(path)
        known = set()
        for name, definition in self.option_definitions.items():
            known.add(name)
            known.update(definition.get("aliases") or ())
        unknown = sorted(str(key) for key in config if key not in known)
        if unknown:
            raise AnsibleParserError(
                f"{self.NAME}: unknown option {', '.join(unknown)} in {path}: check the spelling (ansible-doc -t inventory {self.NAME})"
            )
        return config

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        try:
            selection = Selection.from_options(
                organizational_units=self.get_option("organizational_units"),
                statuses=self.get_option("statuses"),
                tags=self.get_option("tags"),
                exclude_accounts=self.get_option("exclude_accounts"),
                include_management_account=self.get_option("include_management_account"),
                include_tags=self.get_option("include_tags"),
            )
            check_hostname_format(self.get_option("hostname_format"))
            check_role_name(self.get_option("role_name"))
            connection = self._connection()
            listing = self._cached_listing(path, cache, selection, connection)
            if listing is None:
                listing = read_organization(self._organizations_client(), selection)
                listing["connection"] = connection
                if self.get_option("cache"):
                    self._cache[self.get_cache_key(path)] = listing
            self._populate(listing)
        except OrganizationsError as error:
            raise AnsibleParserError(f"{self.NAME}: {error}") from None

    def _organizations_region(self):
        return self.region or _DEFAULT_REGION

    def _organizations_client(self):
        return self.client("organizations", region=self._organizations_region())

    def _connection(self):
        """Which organisation this run reaches, without any secret (see connection_data())."""
        return connection_data(
            profile=self.get_option("profile"),
            assume_role_arn=self.get_option("assume_role_arn"),
            # botocore reads these variables itself when endpoint_url is not set.
            endpoint_url=self.get_option("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL_ORGANIZATIONS") or os.environ.get("AWS_ENDPOINT_URL"),
            region=self._organizations_region(),
        )

    def _cached_listing(self, path, cache, selection, connection):
        """The cached listing, if caching is on (and not flushed) and the cache holds one for these filters and this connection."""
        if not (cache and self.get_option("cache")):
            return None
        try:
            listing = self._cache[self.get_cache_key(path)]
        except KeyError:
            return None
        if not isinstance(listing, dict) or listing.get("query") != selection.as_data() or listing.get("connection") != connection:
            return None
        return listing

    def _populate(self, listing):
        organization = listing["organization"]
        tree = Tree.from_data(listing["units"])
        accounts = listing["accounts"]
        # Ansible keeps what a failing source added: everything that can fail comes before the first group or host.
        group_names = ou_group_names(tree, self.get_option("ou_group_names"))
        names, shared = host_names(accounts, self.get_option("hostname_format"))
        if shared:
            self.display.warning(
                f"{self.NAME}: several accounts are named {', '.join(shared)}: their hosts are named <name>_<account id>; "
                "set hostname_format to include {id} to name every host alike"
            )

        self.inventory.add_group(ALL_ACCOUNTS_GROUP)
        self.inventory.set_variable(ALL_ACCOUNTS_GROUP, "ansible_connection", "local")
        self.inventory.set_variable(ALL_ACCOUNTS_GROUP, "ansible_python_interpreter", sys.executable)

        for group, parent, _ou_path in ou_groups(tree, {account["unit_id"] for account in accounts}, group_names):
            self.inventory.add_group(group)
            if parent is not None:
                self.inventory.add_child(parent, group)

        role_name = self.get_option("role_name")
        strict = self.get_option("strict")
        for account in accounts:
            variables = host_vars(account, tree, organization, role_name)
            host = self.inventory.add_host(names[account["id"]], group=ALL_ACCOUNTS_GROUP)
            self.inventory.add_child(group_names[account["unit_id"]], host)
            for name, value in variables.items():
                self.inventory.set_variable(host, name, value)
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)
