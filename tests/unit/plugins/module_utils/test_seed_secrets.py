# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ansible_collections.mfa.aws.plugins.module_utils._seed_store import STORES
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import AnsibleSeedStoreError
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import entry_text
from ansible_collections.mfa.aws.plugins.module_utils import _seed_secrets as seed_secrets
from ansible_collections.mfa.aws.tests.unit.utils.constants import client_error
from ansible_collections.mfa.aws.tests.unit.utils.constants import assert_problem

ACCOUNT = "123456789012"
SERIAL = "arn:aws:iam::123456789012:mfa/{}"
SEEDS = {"alice": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "bob": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "carol": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"}
NEW_SEED = "KRUGS4ZANFZSAYJAORSXG5BAONSWKZDA"
NOW = "2024-06-01T09:30:00+00:00"
LATER = "2024-07-01T00:00:00+00:00"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WRITES = (
    "create_secret", "put_secret_value", "tag_resource", "delete_secret", "put_parameter", "add_tags_to_resource", "delete_parameter",
)


def given(user, seed=None, **extra):
    return dict(serial_number=SERIAL.format(user), base32_seed=seed or SEEDS[user], **extra)


class FakeService:
    """What both fakes share: stored entries by name, and every operation called, listings named by their paginator."""

    def __init__(self, entries=None):
        self.entries = {name: dict(value) for name, value in (entries or {}).items()}
        self.calls = []
        self.corrupt = False

    def get_paginator(self, name):
        service = self

        class Paginator:
            def paginate(self, **kwargs):
                service.calls.append(name)
                result = getattr(service, f"_{name}")(**kwargs)
                return SimpleNamespace(build_full_result=lambda: result)

        return Paginator()

    def writes(self):
        return [call for call in self.calls if call in WRITES]

    def _stored(self, text):
        """What AWS keeps of a written value; a corrupting fake keeps something else."""
        return text.replace("JBSW", "AAAA") if self.corrupt else text


class FakeSecretsManager(FakeService):
    """Secrets by name: {"text", "tags", "deleted", "kms"}."""

    def _list_secrets(self, Filters, IncludePlannedDeletion, PaginationConfig):
        prefix = Filters[0]["Values"][0]
        assert IncludePlannedDeletion is True
        return {
            "SecretList": [
                dict({"Name": name, "Tags": [{"Key": k, "Value": v} for k, v in secret.get("tags", {}).items()]},
                     **({"DeletedDate": "2024-07-01"} if secret.get("deleted") else {}))
                for name, secret in sorted(self.entries.items()) if name.startswith(prefix)
            ]
        }

    def batch_get_secret_value(self, aws_retry, SecretIdList):
        assert aws_retry and len(SecretIdList) <= 20
        self.calls.append("batch_get_secret_value")
        found = [name for name in SecretIdList if name in self.entries and not self.entries[name].get("deleted")]
        return {
            "SecretValues": [{"Name": name, "SecretString": self.entries[name]["text"]} for name in found],
            "Errors": [{"SecretId": name, "ErrorCode": "ResourceNotFoundException"} for name in SecretIdList if name not in found],
        }

    def create_secret(self, aws_retry, Name, SecretString, Description, KmsKeyId=None, Tags=None):
        assert aws_retry and Description
        self.calls.append("create_secret")
        self.entries[Name] = {"text": self._stored(SecretString), "tags": {t["Key"]: t["Value"] for t in Tags or []}, "kms": KmsKeyId}

    def put_secret_value(self, aws_retry, SecretId, SecretString):
        self.calls.append("put_secret_value")
        self.entries[SecretId]["text"] = self._stored(SecretString)

    def tag_resource(self, aws_retry, SecretId, Tags):
        self.calls.append("tag_resource")
        self.entries[SecretId]["tags"].update((t["Key"], t["Value"]) for t in Tags)

    def delete_secret(self, aws_retry, SecretId, ForceDeleteWithoutRecovery):
        assert ForceDeleteWithoutRecovery is True
        self.calls.append("delete_secret")
        if self.entries.pop(SecretId, None) is None:
            raise client_error("ResourceNotFoundException", "DeleteSecret")


class FakeSSM(FakeService):
    """Parameters by name: {"text", "type", "tags", "kms"}."""

    def _parameter(self, name):
        parameter = self.entries[name]
        return {"Name": name, "Value": parameter["text"], "Type": parameter.get("type", "SecureString")}

    def _get_parameters_by_path(self, Path, Recursive, WithDecryption, PaginationConfig):
        assert Recursive is False and WithDecryption is True
        return {"Parameters": [self._parameter(name) for name in sorted(self.entries) if name.rpartition("/")[0] == Path]}

    def _describe_parameters(self, ParameterFilters):
        names = ParameterFilters[0]["Values"]
        return {"Parameters": [{"Name": name, "KeyId": self.entries[name].get("kms") or "alias/aws/ssm"} for name in names if name in self.entries]}

    def get_parameters(self, aws_retry, Names, WithDecryption):
        assert WithDecryption is True and len(Names) <= 10
        self.calls.append("get_parameters")
        return {"Parameters": [self._parameter(name) for name in Names if name in self.entries]}

    def put_parameter(self, aws_retry, Name, Value, Description, Type, Overwrite, KeyId=None, Tags=None):
        assert Type == "SecureString" and not (Overwrite and Tags)
        self.calls.append("put_parameter")
        if not Overwrite:
            assert Name not in self.entries
            self.entries[Name] = {"tags": {t["Key"]: t["Value"] for t in Tags or []}}
        self.entries[Name].update(text=self._stored(Value), kms=KeyId)

    def list_tags_for_resource(self, aws_retry, ResourceType, ResourceId):
        self.calls.append("list_tags_for_resource")
        return {"TagList": [{"Key": k, "Value": v} for k, v in self.entries[ResourceId].get("tags", {}).items()]}

    def add_tags_to_resource(self, aws_retry, ResourceType, ResourceId, Tags):
        self.calls.append("add_tags_to_resource")
        self.entries[ResourceId].setdefault("tags", {}).update((t["Key"], t["Value"]) for t in Tags)

    def delete_parameter(self, aws_retry, Name):
        self.calls.append("delete_parameter")
        if self.entries.pop(Name, None) is None:
            raise client_error("ParameterNotFound", "DeleteParameter")


FAKES = {"secretsmanager": FakeSecretsManager, "ssm": FakeSSM}
FOLDERS = {"secretsmanager": f"mfa-seeds/{ACCOUNT}", "ssm": f"/mfa-seeds/{ACCOUNT}"}
READ = {"secretsmanager": ["list_secrets", "batch_get_secret_value"], "ssm": ["get_parameters_by_path"]}
READ_BACK = {"secretsmanager": ["batch_get_secret_value"], "ssm": ["get_parameters"]}


def fake(service, stored=None, **raw):
    """A fake of the service holding the entries (user -> entry) and the raw values (user -> dict of the fake)."""
    entries = {f"{FOLDERS[service]}/{user}": {"text": entry_text(entry)} for user, entry in (stored or {}).items()}
    entries.update((f"{FOLDERS[service]}/{user}", value) for user, value in raw.items())
    return FAKES[service](entries)


def run(client, service, check_mode=False, seeds=None, remove=(), users=None, tags=None, kms_key_arn=None, now=NOW):
    store = STORES[service](client, "mfa-seeds", ACCOUNT)
    changed, before, after = seed_secrets.ensure_seeds(store, check_mode, seeds or {}, list(remove), users, tags, kms_key_arn, now)
    return store, changed, before, after


def stored_entry(client, service, user):
    return json.loads(client.entries[f"{FOLDERS[service]}/{user}"]["text"])


services = pytest.mark.parametrize("service", ["secretsmanager", "ssm"])


# --- options --------------------------------------------------------------------------------


def params(**overrides):
    return dict(dict(service="secretsmanager", account_id=ACCOUNT, prefix="mfa-seeds", seeds={}, remove=[], kms_key_id=None, tags=None,
                     return_seeds=False, users=None), **overrides)


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({}, None),
        ({"seeds": {"alice": given("alice")}, "remove": ["bob"], "users": ["carol"], "tags": {"a": 1}}, None),
        ({"account_id": "1234"}, "account_id must be the 12-digit id of the AWS account of the users, not '1234'"),
        ({"prefix": "/seeds", "service": "ssm"}, "prefix must be 1 to 256 characters of letters, digits and _.-"),
        ({"seeds": {"alice": given("alice", seed="nope")}}, "seeds.alice base32_seed must be a base32 seed"),
        ({"remove": ["bob smith"]}, "remove: user name 'bob smith' is not an IAM user name"),
        ({"users": ["a@b"], "service": "ssm"}, "users: user name a@b cannot be part of an SSM parameter name"),
        ({"seeds": {"alice": given("alice"), "bob": given("bob")}, "remove": ["bob", "alice"]},
         "alice, bob in both seeds and remove: store a seed or delete it, not both"),
        ({"tags": {"team": None}}, "tags.team has no value: give it one, or leave the tag out"),
    ],
)
def test_options_problem(overrides, problem):
    assert_problem(seed_secrets.options_problem(params(**overrides)), problem, start=True, secrets=[SEEDS["alice"]])


def test_only_the_seeds_stay_masked():
    seeds = {"alice": dict(given("alice", created=NOW), previous=given("bob"))}
    module = SimpleNamespace(no_log_values={SEEDS["alice"], SEEDS["bob"], SERIAL.format("alice"), SERIAL.format("bob"), NOW, "session-token"})

    seed_secrets.reveal_device_names(module, seeds)

    assert module.no_log_values == {SEEDS["alice"], SEEDS["bob"], "session-token"}


# --- storing --------------------------------------------------------------------------------


@services
def test_check_mode_predicts_new_entries_without_writing(service):
    client = fake(service)

    _store, changed, before, after = run(client, service, check_mode=True, seeds={"alice": given("alice")}, tags={"team": "sec"})

    assert changed is True
    assert before == {} and after == {"alice": given("alice", created=NOW)}
    assert client.calls == READ[service][:1] and client.entries == {}  # nothing listed, nothing to read


@services
def test_new_entries_are_created_read_back_then_left_alone(service):
    client = fake(service)
    seeds = {"alice": given("alice"), "bob": given("bob")}

    _store, changed, _before, after = run(client, service, seeds=seeds)

    assert changed is True
    assert client.writes() == ["create_secret" if service == "secretsmanager" else "put_parameter"] * 2
    assert client.calls[-1:] == READ_BACK[service]
    assert stored_entry(client, service, "alice") == given("alice", created=NOW) == after["alice"]

    client.calls.clear()
    _store, changed, before, after = run(client, service, seeds=seeds, now=LATER)

    assert changed is False and before == after
    assert after["bob"]["created"] == NOW
    assert client.calls == READ[service]


@services
def test_a_new_seed_for_a_user_writes_the_entry_again_with_a_new_created_time(service):
    client = fake(service, {"alice": given("alice", created=NOW), "bob": given("bob", created=NOW)})

    _store, changed, before, after = run(client, service, seeds={"alice": given("alice", seed=NEW_SEED)}, now=LATER)

    assert changed is True
    assert before["alice"] == given("alice", created=NOW)
    assert after == {"alice": given("alice", seed=NEW_SEED, created=LATER), "bob": given("bob", created=NOW)}
    assert stored_entry(client, service, "alice") == after["alice"]
    expected = {
        "secretsmanager": ["list_secrets", "batch_get_secret_value", "put_secret_value", "batch_get_secret_value"],
        "ssm": ["get_parameters_by_path", "describe_parameters", "put_parameter", "get_parameters"],
    }
    assert client.calls == expected[service]


def test_ssm_entries_written_again_keep_their_kms_key():
    client = fake("ssm", {}, alice={"text": entry_text(given("alice", created=NOW)), "kms": KEY_ARN})

    run(client, "ssm", seeds={"alice": given("alice", seed=NEW_SEED)})

    assert client.entries[f"/mfa-seeds/{ACCOUNT}/alice"]["kms"] == KEY_ARN


@services
def test_new_entries_get_the_kms_key(service):
    client = fake(service)

    run(client, service, seeds={"alice": given("alice")}, kms_key_arn=KEY_ARN)

    assert client.entries[f"{FOLDERS[service]}/alice"]["kms"] == KEY_ARN


@services
def test_a_rotation_keeps_the_previous_device_and_its_created_time(service):
    client = fake(service, {"alice": given("alice", created=NOW)})
    rotated = given("alice", seed=NEW_SEED, previous=given("alice", created=NOW))

    _store, changed, _before, after = run(client, service, seeds={"alice": rotated}, now=LATER)

    assert changed is True
    assert after["alice"] == given("alice", seed=NEW_SEED, created=LATER, previous=given("alice", created=NOW))
    assert stored_entry(client, service, "alice") == after["alice"]


@services
def test_a_stored_entry_without_created_time_gets_one(service):
    client = fake(service, {"alice": given("alice")})

    _store, changed, _before, after = run(client, service, seeds={"alice": given("alice")})

    assert changed is True and after["alice"]["created"] == NOW


# --- removing -------------------------------------------------------------------------------


@services
@pytest.mark.parametrize("check_mode", [True, False])
def test_remove_deletes_existing_entries_only(service, check_mode):
    client = fake(service, {"alice": given("alice", created=NOW), "bob": given("bob", created=NOW)})

    _store, changed, before, after = run(client, service, check_mode=check_mode, remove=["bob", "nobody"])

    assert changed is True
    assert sorted(before) == ["alice", "bob"] and sorted(after) == ["alice"]
    assert client.writes() == ([] if check_mode else ["delete_secret" if service == "secretsmanager" else "delete_parameter"])
    assert (f"{FOLDERS[service]}/bob" in client.entries) is check_mode


@services
def test_removing_a_missing_entry_is_no_change(service):
    client = fake(service, {"alice": given("alice", created=NOW)})

    assert run(client, service, remove=["nobody"])[1] is False
    assert client.writes() == []


def test_a_secret_scheduled_for_deletion_is_deleted_at_once_when_removed():
    client = fake("secretsmanager", {}, bob={"text": entry_text(given("bob")), "deleted": True})

    _store, changed, before, after = run(client, "secretsmanager", remove=["bob"])

    assert changed is True and before == {"bob": {}} and after == {}
    assert client.writes() == ["delete_secret"] and client.entries == {}


def test_a_secret_scheduled_for_deletion_stops_the_run_before_any_write():
    client = fake("secretsmanager", {"bob": given("bob", created=NOW)}, alice={"text": entry_text(given("alice")), "deleted": True})

    with pytest.raises(AnsibleSeedStoreError) as raised:
        run(client, "secretsmanager", seeds={"alice": given("alice"), "carol": given("carol")}, remove=["bob"])

    assert raised.value.message == (
        f"secret mfa-seeds/{ACCOUNT}/alice is scheduled for deletion: restore it with RestoreSecret or choose another prefix"
    )
    assert client.writes() == []


# --- what is stored already -----------------------------------------------------------------


@services
@pytest.mark.parametrize("text", ["not json", "{}", json.dumps({"serial_number": SERIAL.format("alice")}), json.dumps(["x"])])
def test_a_stored_value_that_is_not_a_seed_entry_stops_the_run_before_any_write(service, text):
    client = fake(service, {}, alice={"text": text})

    with pytest.raises(AnsibleSeedStoreError) as raised:
        run(client, service, seeds={"bob": given("bob")})

    name = f"{FOLDERS[service]}/alice"
    assert raised.value.message == f"the stored entry of alice in {name} is not a seed entry: restore it or delete it"
    assert client.writes() == []


@services
def test_a_stored_value_that_is_not_a_seed_entry_can_be_removed(service):
    client = fake(service, {}, alice={"text": "not json"})

    _store, changed, before, after = run(client, service, remove=["alice"])

    assert changed is True and before == {"alice": {}} and after == {}
    assert client.entries == {}


def test_an_ssm_parameter_that_is_not_a_secure_string_stops_the_run():
    client = fake("ssm", {}, alice={"text": entry_text(given("alice")), "type": "String"})

    with pytest.raises(AnsibleSeedStoreError) as raised:
        run(client, "ssm")

    assert raised.value.message == (
        f"parameter /mfa-seeds/{ACCOUNT}/alice of alice is a String parameter, not a SecureString: "
        "delete it (its value is not encrypted) and store the seed again"
    )


# --- tags -----------------------------------------------------------------------------------


@services
def test_tags_are_set_on_creation(service):
    client = fake(service)

    run(client, service, seeds={"alice": given("alice")}, tags={"team": "sec", "count": 3})

    assert client.entries[f"{FOLDERS[service]}/alice"]["tags"] == {"team": "sec", "count": "3"}
    assert client.writes() == ["create_secret" if service == "secretsmanager" else "put_parameter"]


@services
@pytest.mark.parametrize("check_mode", [True, False])
def test_tags_of_existing_entries_of_the_seeds_are_added_and_others_kept(service, check_mode):
    client = fake(service, {}, alice={"text": entry_text(given("alice", created=NOW)), "tags": {"team": "ops", "other": "x"}},
                  bob={"text": entry_text(given("bob", created=NOW)), "tags": {}})

    _store, changed, _before, _after = run(client, service, check_mode=check_mode, seeds={"alice": given("alice")}, tags={"team": "sec"})

    assert changed is True
    tag_call = "tag_resource" if service == "secretsmanager" else "add_tags_to_resource"
    assert client.writes() == ([] if check_mode else [tag_call])
    if not check_mode:
        assert client.entries[f"{FOLDERS[service]}/alice"]["tags"] == {"team": "sec", "other": "x"}
        assert client.entries[f"{FOLDERS[service]}/bob"]["tags"] == {}
    assert client.calls.count("list_tags_for_resource") == (1 if service == "ssm" else 0)


@services
def test_tags_already_there_are_no_change(service):
    client = fake(service, {}, alice={"text": entry_text(given("alice", created=NOW)), "tags": {"team": "sec", "other": "x"}})

    assert run(client, service, seeds={"alice": given("alice")}, tags={"team": "sec"})[1] is False
    assert client.writes() == []


# --- users, reading back, results ------------------------------------------------------------


def test_ssm_reads_only_the_users_asked_for_and_those_of_seeds_and_remove():
    client = fake("ssm", {user: given(user, created=NOW) for user in SEEDS})

    store, changed, before, after = run(client, "ssm", seeds={"alice": given("alice")}, remove=["nobody"], users=["bob"])
    result = seed_secrets.outcome(store, changed, before, after, ["bob"], False, False)

    assert client.calls == ["get_parameters"]
    assert sorted(before) == ["alice", "bob"]
    assert result["stored"] == {"bob": SERIAL.format("bob")}
    assert result["names"] == {"bob": f"/mfa-seeds/{ACCOUNT}/bob"}


@services
def test_an_entry_that_does_not_read_back_as_written_fails_without_its_seed(service, monkeypatch):
    monkeypatch.setattr("ansible_collections.mfa.aws.plugins.module_utils._seed_store.READ_BACK_DELAYS", ())
    client = fake(service)
    client.corrupt = True

    with pytest.raises(AnsibleSeedStoreError) as raised:
        run(client, service, seeds={"alice": given("alice")})

    kind = "secret" if service == "secretsmanager" else "parameter"
    assert raised.value.message == (
        f"the {kind} {FOLDERS[service]}/alice of alice does not read back as written: check that nothing else writes it, then run again"
    )


@services
def test_outcome_shows_seeds_only_when_asked_and_never_in_the_diff(service):
    client = fake(service, {"bob": given("bob", created=NOW), "carol": given("carol", created=NOW, previous=given("alice"))})
    store, changed, before, after = run(client, service, seeds={"alice": given("alice")}, remove=["bob"])

    plain = seed_secrets.outcome(store, changed, before, after, None, False, True)
    secret = seed_secrets.outcome(store, changed, before, after, None, True, False)

    assert plain["stored"] == {"alice": SERIAL.format("alice"), "carol": SERIAL.format("carol")}
    assert plain["names"]["alice"] == f"{FOLDERS[service]}/alice"
    assert plain["entries"]["carol"] == {"serial_number": SERIAL.format("carol"), "created": NOW, "previous_serial_number": SERIAL.format("alice")}
    assert "seeds" not in plain and "diff" not in secret
    assert plain["diff"]["before"]["bob"] == {"serial_number": SERIAL.format("bob"), "created": NOW, "previous_serial_number": None}
    assert "bob" not in plain["diff"]["after"] and plain["diff"]["before_header"] == FOLDERS[service] + "/"
    assert not any(seed in json.dumps(plain) for seed in SEEDS.values())
    assert secret["seeds"]["alice"] == given("alice", created=NOW)
    assert secret["seeds"]["carol"]["previous"]["base32_seed"] == SEEDS["alice"]
