# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filters of the account_session role's check: shared_account_ids and account_session_stop (each documented in its
own .yml file beside this one)."""

from __future__ import annotations

from jinja2 import Undefined

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import is_account_id


def _host_account_ids(play_hosts, hostvars):
    """[(inventory host, account id as a string)] of the hosts of play_hosts that have an aws_account_id, in play order."""
    pairs = []
    for host in play_hosts:
        if host not in hostvars:
            continue
        variables = hostvars[host]
        if "aws_account_id" not in variables:
            continue
        account_id = variables["aws_account_id"]
        if not isinstance(account_id, Undefined):  # as Jinja's test defined (ansible-core's markers are Undefined too)
            pairs.append((host, str(account_id)))
    return pairs


def shared_account_ids(play_hosts, hostvars):
    """The account ids (strings, sorted) that more than one of play_hosts stands for (its aws_account_id); see DOCUMENTATION."""
    seen, shared = set(), set()
    for _host, account_id in _host_account_ids(play_hosts, hostvars):
        (shared if account_id in seen else seen).add(account_id)
    return sorted(shared)


def account_session_stop(result, host, account_id, assume_role=False, role_arn="", shared_ids=None, play_hosts=(), hostvars=None):
    """Why the account_session role must stop on host, as one line that names what to fix; '' when it may go on.

    result is the registered result of mfa.aws.sts_account_credentials; shared_ids is shared_account_ids' answer for the
    play, read from play_hosts and hostvars when it is None (the play's first host skipped the role, and the step that
    lists them once for the play with it). play_hosts and hostvars are read only then, or for the message of a host that
    must stop.
    """
    account_id = str(account_id)
    if shared_ids is None:
        shared_ids = shared_account_ids(play_hosts, hostvars)
    # No account id is no error: the host works on the account of the run's own credentials.
    malformed = account_id != "" and not is_account_id(account_id)
    if not (malformed or account_id in shared_ids or "account_id" not in result):
        return ""
    if malformed:
        return f"aws_account_id (account_session_account_id) of {host} must be a 12-digit AWS account id"
    if account_id == "" and assume_role and ":iam:::" in str(role_arn):
        return (f"account_session_assume_role needs the account id of {host} (aws_account_id) to name the role: "
                "set aws_account_id, or account_session_role_arn")
    twins = [other for other, other_id in _host_account_ids(play_hosts, hostvars) if other_id == account_id and other != host]
    if twins:
        return f"{host} and {', '.join(twins)} have the same account id {account_id}: give each AWS account one inventory host"
    return f"{result['msg'] if 'msg' in result else 'no credentials returned'} (inventory host {host})"


class FilterModule:

    def filters(self):
        return {
            "shared_account_ids": shared_account_ids,
            "account_session_stop": account_session_stop,
        }
