"""The collection's AWS modules run in the worker process of a local connection, and as a module process otherwise, with
the same results; mfa.aws.sts_account_credentials opens the session of one account and checks that it reaches it."""
from __future__ import annotations

import json
import sys

import pytest

from helpers.fleet import Fleet

IN_PROCESS = "runs in the worker process"
AS_PROCESS = "runs in a module process"
STS = "mfa.aws.sts_account_credentials"
DEFAULT_ACCOUNT = "123456789012"


def play(tasks, play_vars=None):
    return json.dumps([{"name": "in process", "hosts": "localhost", "gather_facts": False, "vars": play_vars or {}, "tasks": tasks}]) + "\n"


def results_of(run, task):
    return [entry["result"] for entry in run.task_results if entry["task"] == task]


@pytest.fixture
def member(fresh_aws, tmp_path):
    """A member account with two users, and the credentials of its OrganizationAccountAccessRole."""
    fleet = Fleet(fresh_aws, tmp_path, accounts=("payments",), users=("alice", "bob"))
    account_id = fleet.accounts["payments"]
    session = fresh_aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="test")
    credentials = session["Credentials"]
    fresh_aws.reset_calls()
    return {
        "account_id": account_id,
        "env": {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        },
    }


@pytest.mark.contract
def test_a_module_gives_the_same_result_in_the_worker_process_and_as_a_process(fresh_aws, ansible, tmp_path):
    fresh_aws.client("iam").create_user(UserName="alice")
    # Another path to the same Python (a wrapper: a symlink out of the virtualenv's directory would leave the virtualenv on
    # some Pythons): Ansible would start it as a process, so the module runs as one.
    other_python = tmp_path / "python3"
    other_python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    other_python.chmod(0o755)
    task = {"name": "audit", "mfa.aws.iam_mfa_info": {"user_names": ["alice"]}}
    ways = {
        "default": ({}, IN_PROCESS),
        "opted out": ({"mfa_aws_in_process": False}, f"{AS_PROCESS}: mfa_aws_in_process is false"),
        "another interpreter": ({"ansible_python_interpreter": str(other_python)}, f"{AS_PROCESS}: ansible_python_interpreter ({other_python})"),
    }
    audits = {}
    for way, (play_vars, said) in ways.items():
        run = ansible.playbook(play([task], play_vars), verbosity=4)
        assert run.rc == 0, run.output
        assert said in run.output, way
        (audits[way],) = results_of(run, "audit")
    assert "EXEC" not in ansible.playbook(play([task]), verbosity=4).output.split("TASK [audit]")[1]
    for result in audits.values():
        result.pop("credential_report", None)
        result.pop("invocation", None)
    assert audits["default"]["users"] == audits["opted out"]["users"] == audits["another interpreter"]["users"]
    assert audits["default"]["users"][0]["user_name"] == "alice" and audits["default"]["users"][0]["mfa_active"] is False


def test_the_environment_of_each_task_and_loop_item_reaches_the_module_and_goes_away_after(fresh_aws, ansible, member):
    tasks = [
        {"name": "with the member's credentials", "mfa.aws.iam_mfa_info": {}, "environment": member["env"]},
        {"name": "without", "mfa.aws.iam_mfa_info": {}},
        {"name": "each item", "mfa.aws.iam_mfa_info": {}, "environment": "{{ item }}", "loop": [member["env"], {}], "loop_control": {"label": "item"}},
    ]

    run = ansible.playbook(play(tasks))

    assert run.rc == 0, run.output
    assert [result["account_id"] for result in results_of(run, "with the member's credentials")] == [member["account_id"]]
    assert [result["account_id"] for result in results_of(run, "without")] == [DEFAULT_ACCOUNT]
    (looped,) = results_of(run, "each item")
    assert [item["account_id"] for item in looped["results"]] == [member["account_id"], DEFAULT_ACCOUNT]
    assert member["env"]["AWS_SECRET_ACCESS_KEY"] not in run.output


@pytest.mark.contract
def test_the_session_of_a_member_account_takes_one_call_and_keeps_its_keys_out_of_the_output(fresh_aws, ansible, member):
    account_id = member["account_id"]
    tasks = [
        {
            "name": "open",
            STS: {"account_id": account_id, "role_arn": f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"},
            "register": "session",
            "no_log": True,
        },
        {
            "name": "use",
            "mfa.aws.iam_mfa_info": {
                "access_key": "{{ session.credentials.access_key }}",
                "secret_key": "{{ session.credentials.secret_key }}",
                "session_token": "{{ session.credentials.session_token }}",
            },
        },
        {"name": "keep", "ansible.builtin.set_fact": {"keys": "{{ session.credentials }}"}, "no_log": True},
        {
            "name": "expose for the test",
            "ansible.builtin.copy": {"content": "{{ keys | to_json }}", "dest": "{{ playbook_dir }}/keys.json", "mode": "0600"},
            "no_log": True,
        },
    ]

    run = ansible.playbook(play(tasks), verbosity=4)

    assert run.rc == 0, run.output
    assert [result["account_id"] for result in results_of(run, "use")] == [account_id]
    keys = json.loads((ansible.workdir / "keys.json").read_text(encoding="utf-8"))
    assert set(keys) == {"access_key", "secret_key", "session_token", "expiration"}
    for secret in (keys["access_key"], keys["secret_key"], keys["session_token"]):
        assert secret not in run.output
        assert all(secret not in json.dumps(entry) for entry in run.task_results)
    assert [(call["service"], call["action"]) for call in fresh_aws.calls()][0] == ("sts", "AssumeRole")
    assert [call["action"] for call in fresh_aws.calls()].count("AssumeRole") == 1


@pytest.mark.parametrize(
    "case, message",
    [
        ("role of another account", "is not a role of account {account}"),
        ("role that does not exist", "cannot assume arn:aws:iam::{account}:role/NoSuchRole for account {account}: AccessDenied"),
        ("environment of another account", "the credentials in use reach account 123456789012, not {account}"),
        ("malformed account id", "account_id must be the 12-digit id of the account of this host, not '12345'"),
    ],
)
def test_a_session_that_does_not_reach_the_account_fails_with_one_line_and_no_credentials(fresh_aws, ansible, member, case, message):
    account_id = member["account_id"]
    args = {
        "role of another account": {"account_id": account_id, "role_arn": f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/admin"},
        "role that does not exist": {"account_id": account_id, "role_arn": f"arn:aws:iam::{account_id}:role/NoSuchRole"},
        "environment of another account": {"account_id": account_id},
        "malformed account id": {"account_id": "12345"},
    }[case]
    if case == "role of another account":
        fresh_aws.client("iam").create_role(RoleName="admin", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        fresh_aws.reset_calls()

    run = ansible.module(STS, args)

    assert run.rc != 0
    (line,) = [run.result["msg"]]
    assert message.format(account=account_id) in line and "\n" not in line
    assert "credentials" not in run.result or not run.result["credentials"]
    assert len(fresh_aws.calls()) <= 1


def test_without_a_role_the_credentials_of_the_environment_are_checked_with_one_call(fresh_aws, ansible, member):
    run = ansible.module(STS, {"account_id": DEFAULT_ACCOUNT})

    assert run.rc == 0, run.output
    assert run.result["account_id"] == DEFAULT_ACCOUNT and run.result["credentials"] == {} and run.result["changed"] is False
    assert [(call["service"], call["action"]) for call in fresh_aws.calls()] == [("sts", "GetCallerIdentity")]


def test_botocore_request_logs_of_a_module_never_reach_the_controllers_log_file(fresh_aws, ansible, member):
    # debug_botocore_endpoint_logs raises botocore's request logs, which hold each call's parameters (the seed of a
    # PutSecretValue), to DEBUG: in the worker process they must not reach the handler that log_path gives the
    # controller and its workers.
    seed = "KRUGS4ZANFZSAYJAORSXG5BAONSWKZDA"
    log_file = ansible.workdir / "ansible.log"
    entry = {"serial_number": f"arn:aws:iam::{member['account_id']}:mfa/alice", "base32_seed": seed}
    tasks = [
        {
            "name": "store",
            "mfa.aws.seed_secret": {"service": "secretsmanager", "account_id": member["account_id"], "seeds": {"alice": entry},
                                    "debug_botocore_endpoint_logs": True},
            "no_log": True,
        },
        {
            "name": "session",
            STS: {"account_id": member["account_id"], "role_arn": f"arn:aws:iam::{member['account_id']}:role/OrganizationAccountAccessRole",
                  "debug_botocore_endpoint_logs": True},
            "no_log": True,
        },
    ]

    run = ansible.playbook(play(tasks), verbosity=4, env={"ANSIBLE_LOG_PATH": str(log_file)})

    assert run.rc == 0, run.output
    logged = log_file.read_text(encoding="utf-8")
    assert "TASK [store]" in logged
    secrets = [seed] + fresh_aws.issued_credentials()
    for secret in secrets:
        assert secret not in logged and secret not in run.output


def test_keep_remote_files_never_leaves_credentials_or_codes_on_disk(fresh_aws, ansible, tmp_path):
    fresh_aws.client("iam").create_user(UserName="alice")
    task = {"name": "audit", "mfa.aws.iam_mfa_info": {"user_names": ["alice"], "secret_key": "the-secret-key-of-this-test"}}
    keep = {"ANSIBLE_KEEP_REMOTE_FILES": "1"}
    refused = ansible.playbook(play([task], {"mfa_aws_in_process": False}), env=keep)
    assert refused.rc != 0
    assert "refuses to run as a module process while ANSIBLE_KEEP_REMOTE_FILES is set" in refused.output
    # In the worker process nothing is written: the module runs, and no file anywhere under the run's directories holds the key.
    kept = ansible.playbook(play([task]), env=keep)
    assert kept.rc == 0, kept.output
    for path in ansible.workdir.rglob("*"):
        if path.is_file() and not path.name.startswith("playbook-"):  # the playbook holds it, as the test wrote it
            assert b"the-secret-key-of-this-test" not in path.read_bytes(), path
