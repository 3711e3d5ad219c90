"""mfa.aws.seed_secret against the strict local endpoint, for Secrets Manager and SSM Parameter Store: each
behaviour in check mode, for real, then both again, with every API call counted and the stored values read
back with boto3."""
from __future__ import annotations

import json
import time

import pyotp
import pytest
import yaml

from helpers.seeds import ACCOUNT
from helpers.seeds import SEEDS
from helpers.steps import changes
from helpers.steps import converge as steps_converge
from local_aws import is_write

MODULE = "mfa.aws.seed_secret"
MEMBER = "111122223333"
CENTRAL = "210987654321"
NEW_SEED = "KRUGS4ZANFZSAYJAORSXG5BAONSWKZDA"
ALL_SEEDS = list(SEEDS.values()) + [NEW_SEED]
# The calls that read every entry of the account, and those that read back what a run wrote.
READ_ALL = {"secretsmanager": ["ListSecrets", "BatchGetSecretValue"], "ssm": ["GetParametersByPath"]}
READ_BACK = {"secretsmanager": ["BatchGetSecretValue"], "ssm": ["GetParameters"]}
CREATE = {"secretsmanager": "CreateSecret", "ssm": "PutParameter"}

services = pytest.mark.parametrize("service", ["secretsmanager", "ssm"])


def serial(user, account=MEMBER):
    return f"arn:aws:iam::{account}:mfa/{user}"


def seeds_of(*users, seed=None):
    return {user: {"serial_number": serial(user), "base32_seed": seed or SEEDS[user]} for user in users}


def name_of(service, user, account=MEMBER):
    return f"{'/' if service == 'ssm' else ''}mfa-seeds/{account}/{user}"


def args(service, **extra):
    return {"service": service, "account_id": MEMBER, **extra}


def actions(calls):
    """The API calls made, as Service:Action, without the throttled attempts."""
    return [f"{call['service']}:{call['action']}" for call in calls if not call.get("throttled")]


def writes(calls):
    """The write calls made (Create*, Put*, Delete*, Tag*, Untag*, Add*...), whatever the service."""
    return [f"{call['service']}:{call['action']}" for call in calls if is_write(call["action"])]


def converge(ansible, aws, service, module_args, diff=False):
    """The module in check mode, for real, then both again; no check-mode step may make a write call of any service."""
    results, calls = steps_converge(ansible, aws, MODULE, module_args, diff=diff)
    for (name, check), made in zip((("check", True), ("apply", False), ("check again", True), ("apply again", False)), calls):
        if check:
            assert writes(made) == [], f"{name} wrote"
    assert not any(seed in json.dumps(results) for seed in ALL_SEEDS), "a seed appears in a result"
    return results, [[action.split(":", 1)[1] for action in actions(made) if action.startswith(service + ":")] for made in calls], calls


def stored_value(aws, service, user, account=None):
    """The entry stored for the user, read with boto3 (None when there is none)."""
    client = aws.client(service, account_id=account)
    try:
        if service == "ssm":
            text = client.get_parameter(Name=name_of(service, user), WithDecryption=True)["Parameter"]["Value"]
        else:
            text = client.get_secret_value(SecretId=name_of(service, user))["SecretString"]
    except (client.exceptions.ResourceNotFoundException if service == "secretsmanager" else client.exceptions.ParameterNotFound):
        return None
    return json.loads(text)


def store(ansible, service, users, **extra):
    run = ansible.module(MODULE, args(service, seeds=seeds_of(*users), **extra))
    assert run.rc == 0, run.output
    return run


def playbook(*tasks, play_vars=None):
    return yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "vars": play_vars or {}, "tasks": list(tasks)}])


def assert_clean(output, *secrets):
    """No seed (nor any of the secrets given) appears in the output."""
    assert not [secret for secret in ALL_SEEDS + list(secrets) if secret in output], "a seed or a credential appears in the output"


def role_credentials(aws, account, name, denied=()):
    """Temporary credentials of a role in the account that may do everything but the denied actions, as module options."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    statements = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    if denied:
        statements.append({"Effect": "Deny", "Action": list(denied), "Resource": "*"})
    iam = aws.client("iam", account_id=account)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="seed-store", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    credentials = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{name}", RoleSessionName="seed-store")["Credentials"]
    aws.reset_calls()
    return {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"], "session_token": credentials["SessionToken"]}


# --- storing, reading, rewriting, removing ----------------------------------------------------------------------------------


@services
def test_check_then_store_then_idempotent_at_the_floor_of_calls(fresh_aws, ansible, service):
    results, calls, _raw = converge(ansible, fresh_aws, service, args(service, seeds=seeds_of("alice", "bob")), diff=True)

    assert changes(results) == [True, True, False, False]
    listing = READ_ALL[service][:1]  # nothing stored yet: nothing to read after the listing
    assert calls == [
        listing,
        listing + [CREATE[service]] * 2 + READ_BACK[service],
        READ_ALL[service],
        READ_ALL[service],
    ]
    for user in ("alice", "bob"):
        value = stored_value(fresh_aws, service, user)
        assert value == {"serial_number": serial(user), "base32_seed": SEEDS[user], "created": results[1]["entries"][user]["created"]}
    created = results[1]["entries"]["alice"]["created"]
    assert time.time() - time.mktime(time.strptime(created[:19], "%Y-%m-%dT%H:%M:%S")) < 24 * 3600
    assert results[3]["entries"] == results[1]["entries"]
    assert results[1]["stored"] == {"alice": serial("alice"), "bob": serial("bob")}
    assert results[1]["names"] == {"alice": name_of(service, "alice"), "bob": name_of(service, "bob")}
    assert results[0]["diff"]["before"] == {}
    assert results[0]["diff"]["after"]["alice"]["serial_number"] == serial("alice")
    assert results[2]["diff"]["before"] == results[2]["diff"]["after"]
    assert "seeds" not in results[1]


@services
def test_seeds_read_back_give_the_codes_of_the_device(fresh_aws, ansible, service):
    stored = store(ansible, service, ["alice", "bob"], tags={"team": "security"})
    assert_clean(stored.output)
    at = 1_700_000_000
    totp = pyotp.TOTP(SEEDS["alice"])
    checks = ["codes == expected", "read.seeds | list == ['alice']", "read.stored == {'alice': serial}"]
    codes = "{{ lookup('mfa.aws.totp', read.seeds.alice.base32_seed, pair=true, at=%d) }}" % at
    run = ansible.playbook(playbook(
        {"name": "read the seeds", MODULE: args(service, users=["alice"], return_seeds=True), "register": "read", "no_log": True},
        {"name": "codes from the seed read", "ansible.builtin.assert": {"that": checks}, "vars": {"codes": codes}, "no_log": True},
    ), extra_vars={"expected": [totp.at(at - 30), totp.at(at)], "serial": serial("alice")}, verbosity=4)

    assert run.rc == 0, run.output
    assert_clean(run.output, totp.at(at - 30), totp.at(at))
    assert stored_value(fresh_aws, service, "alice")["base32_seed"] == SEEDS["alice"]


@services
def test_a_new_seed_rewrites_the_entry(fresh_aws, ansible, service):
    first = store(ansible, service, ["alice"]).result

    results, calls, _raw = converge(ansible, fresh_aws, service, args(service, seeds=seeds_of("alice", seed=NEW_SEED)), diff=True)

    assert changes(results) == [True, True, False, False]
    rewrite = {"secretsmanager": ["PutSecretValue"], "ssm": ["DescribeParameters", "PutParameter"]}
    assert calls[1] == READ_ALL[service] + rewrite[service] + READ_BACK[service]
    assert calls[3] == READ_ALL[service]
    value = stored_value(fresh_aws, service, "alice")
    assert value["base32_seed"] == NEW_SEED and value["serial_number"] == serial("alice")
    assert results[1]["diff"]["before"]["alice"]["created"] == first["entries"]["alice"]["created"]
    assert results[1]["diff"]["after"]["alice"]["created"] == value["created"]


@services
def test_remove_deletes_the_entries_at_once(fresh_aws, ansible, service):
    store(ansible, service, ["alice", "bob"])

    results, calls, _raw = converge(ansible, fresh_aws, service, args(service, remove=["bob", "nobody"]), diff=True)

    assert changes(results) == [True, True, False, False]
    delete = {"secretsmanager": "DeleteSecret", "ssm": "DeleteParameter"}
    assert calls[1] == READ_ALL[service] + [delete[service]]
    assert results[1]["stored"] == {"alice": serial("alice")}
    assert "bob" in results[1]["diff"]["before"] and "bob" not in results[1]["diff"]["after"]
    assert stored_value(fresh_aws, service, "bob") is None
    if service == "secretsmanager":
        listed = fresh_aws.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
        assert [secret["Name"] for secret in listed] == [name_of(service, "alice")], "the deleted secret lingers"


@services
def test_tags_are_set_on_creation_and_added_later(fresh_aws, ansible, service):
    store(ansible, service, ["alice"], tags={"team": "security"})

    results, calls, _raw = converge(ansible, fresh_aws, service, args(service, seeds=seeds_of("alice"), tags={"team": "security", "tier": "1"}))

    assert changes(results) == [True, True, False, False]
    tag_writes = {"secretsmanager": ["TagResource"], "ssm": ["AddTagsToResource"]}
    assert [call for call in calls[1] if is_write(call)] == tag_writes[service]
    if service == "ssm":
        tags = fresh_aws.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name_of(service, "alice"))["TagList"]
    else:
        tags = fresh_aws.client("secretsmanager").describe_secret(SecretId=name_of(service, "alice"))["Tags"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == {"team": "security", "tier": "1"}


def test_ssm_reads_only_the_users_asked_for(fresh_aws, ansible):
    store(ansible, "ssm", ["alice", "bob"])
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, args("ssm", users=["bob", "nobody"]))

    assert run.rc == 0, run.output
    assert run.result["stored"] == {"bob": serial("bob")}
    assert actions(fresh_aws.calls()) == ["ssm:GetParameters"]


# --- KMS --------------------------------------------------------------------------------------------------------------------


@services
def test_a_customer_managed_key_encrypts_the_entries(fresh_aws, ansible, service):
    kms = fresh_aws.client("kms")
    key = kms.create_key(Description="MFA seeds")["KeyMetadata"]
    kms.create_alias(AliasName="alias/mfa-seeds", TargetKeyId=key["KeyId"])

    results, raw_calls = converge(ansible, fresh_aws, service, args(service, seeds=seeds_of("alice"), kms_key_id="alias/mfa-seeds"))[::2]

    assert changes(results) == [True, True, False, False]
    assert all(actions(made)[0] == "kms:DescribeKey" for made in raw_calls)
    if service == "ssm":
        described = fresh_aws.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name_of(service, "alice")]}])
        assert described["Parameters"][0]["KeyId"] == key["Arn"]
    else:
        assert fresh_aws.client("secretsmanager").describe_secret(SecretId=name_of(service, "alice"))["KmsKeyId"] == key["Arn"]
    assert stored_value(fresh_aws, service, "alice")["base32_seed"] == SEEDS["alice"]


@services
@pytest.mark.parametrize(
    "key, message",
    [
        ("alias/nope", "KMS key alias/nope does not exist in this account and region: create it or fix kms_key_id"),
        ("disabled", "KMS key {key} is Disabled, not Enabled: enable it or fix kms_key_id"),
    ],
)
def test_an_unusable_key_fails_before_any_write(fresh_aws, ansible, service, key, message):
    if key == "disabled":
        kms = fresh_aws.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.disable_key(KeyId=key)
        fresh_aws.reset_calls()

    for check in (True, False):
        run = ansible.module(MODULE, args(service, seeds=seeds_of("alice"), kms_key_id=key), check=check)

        assert run.rc != 0
        assert run.result["msg"] == message.format(key=key)
        assert_clean(run.output)
    assert actions(fresh_aws.calls()) == ["kms:DescribeKey"] * 2
    assert stored_value(fresh_aws, service, "alice") is None


# --- where the store lives, and who may write it ------------------------------------------------------------------------------


@services
def test_a_central_account_keeps_the_seeds_of_a_member_account(fresh_aws, ansible, service):
    credentials = role_credentials(fresh_aws, CENTRAL, "MfaSeedStore")

    results, _calls, raw = converge(ansible, fresh_aws, service, args(service, seeds=seeds_of("alice"), **credentials))

    assert changes(results) == [True, True, False, False]
    assert results[1]["names"] == {"alice": name_of(service, "alice")}
    assert {call["account_id"] for made in raw for call in made} == {CENTRAL}
    assert stored_value(fresh_aws, service, "alice", account=CENTRAL)["serial_number"] == serial("alice")
    assert stored_value(fresh_aws, service, "alice") is None

    verbose = ansible.module(MODULE, args(service, seeds=seeds_of("alice"), **credentials), verbosity=4)
    assert verbose.rc == 0, verbose.output
    assert_clean(verbose.output, credentials["secret_key"], credentials["session_token"], credentials["access_key"])


@services
def test_a_denied_write_names_the_permission_and_stores_nothing(fresh_aws, ansible, service):
    denied = {"secretsmanager": "secretsmanager:CreateSecret", "ssm": "ssm:PutParameter"}[service]
    credentials = role_credentials(fresh_aws, ACCOUNT, "MfaSeedReader", denied=[denied])

    run = ansible.module(MODULE, args(service, seeds=seeds_of("alice"), **credentials), verbosity=4)

    assert run.rc != 0
    message = run.result["msg"]
    assert message.startswith(f"Failed to {'create secret' if service == 'secretsmanager' else 'write parameter'} {name_of(service, 'alice')} "
                              f"(the credentials in use lack {denied}")
    assert "grant it to the role or user that runs the task" in message and "\n" not in message
    assert_clean(run.output, credentials["secret_key"], credentials["session_token"])
    assert stored_value(fresh_aws, service, "alice") is None


@services
def test_throttled_calls_are_retried(fresh_aws, ansible, service):
    fresh_aws.throttle(0.3, service=service, seed=7)

    run = ansible.module(MODULE, args(service, seeds=seeds_of("alice", "bob")))

    fresh_aws.throttle(0, service=service)
    assert run.rc == 0, run.output
    assert any(call.get("throttled") for call in fresh_aws.calls())
    assert stored_value(fresh_aws, service, "bob")["base32_seed"] == SEEDS["bob"]


# --- what fails, and how ------------------------------------------------------------------------------------------------------


@services
@pytest.mark.parametrize(
    "extra, message",
    [
        ({"prefix": "/mfa-seeds"}, "prefix must be 1 to 256 characters of"),
        ({"account_id": "1111"}, "account_id must be the 12-digit id of the AWS account of the users, not '1111'"),
        ({"seeds": {"alice": {"serial_number": serial("alice"), "base32_seed": SEEDS["alice"] + "!"}}},
         "seeds.alice base32_seed must be a base32 seed: at least 16 letters and digits 2-7, with optional = padding"),
        ({"seeds": {"alice": {"serial_number": serial("alice"), "base32seed": SEEDS["alice"]}}}, "seeds.alice has unknown keys base32seed"),
        ({"seeds": seeds_of("alice"), "remove": ["alice"]}, "alice in both seeds and remove: store a seed or delete it, not both"),
        ({"seeds": {"a,b": seeds_of("alice")["alice"]}}, "seeds: user name a,b cannot be part of"),
    ],
)
def test_bad_input_fails_with_one_line_before_any_call(fresh_aws, ansible, service, extra, message):
    run = ansible.module(MODULE, {**args(service), **extra}, verbosity=4)

    assert run.rc != 0
    assert run.result["msg"].startswith(message) and "\n" not in run.result["msg"]
    assert fresh_aws.calls() == []
    assert_clean(run.output, SEEDS["alice"] + "!")


@services
def test_a_stored_value_that_is_not_a_seed_entry_stops_the_run(fresh_aws, ansible, service):
    client = fresh_aws.client(service)
    if service == "ssm":
        client.put_parameter(Name=name_of(service, "alice"), Value="not json", Type="SecureString")
    else:
        client.create_secret(Name=name_of(service, "alice"), SecretString="not json")
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, args(service, seeds=seeds_of("bob")))

    assert run.rc != 0
    assert run.result["msg"] == f"the stored entry of alice in {name_of(service, 'alice')} is not a seed entry: restore it or delete it"
    assert writes(fresh_aws.calls()) == []

    removed = ansible.module(MODULE, args(service, remove=["alice"]))
    assert removed.rc == 0 and removed.result["changed"] is True, removed.output


def test_a_secret_scheduled_for_deletion_must_be_restored_first(fresh_aws, ansible):
    secrets = fresh_aws.client("secretsmanager")
    secrets.create_secret(Name=name_of("secretsmanager", "alice"), SecretString=json.dumps(seeds_of("alice")["alice"]))
    secrets.delete_secret(SecretId=name_of("secretsmanager", "alice"), RecoveryWindowInDays=7)
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, args("secretsmanager", seeds=seeds_of("alice", "bob")))

    assert run.rc != 0
    assert run.result["msg"] == (
        f"secret {name_of('secretsmanager', 'alice')} is scheduled for deletion: restore it with RestoreSecret or choose another prefix"
    )
    assert writes(fresh_aws.calls()) == []

    removed = ansible.module(MODULE, args("secretsmanager", remove=["alice"]))
    assert removed.rc == 0 and removed.result["changed"] is True, removed.output
    assert secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
