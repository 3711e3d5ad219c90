# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.mfa.aws.plugins.module_utils import _seed_store as store
from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code
from ansible_collections.mfa.aws.tests.unit.utils.constants import EARLIER
from ansible_collections.mfa.aws.tests.unit.utils.constants import ENTRIES
from ansible_collections.mfa.aws.tests.unit.utils.constants import ENTRY_SECRETS
from ansible_collections.mfa.aws.tests.unit.utils.constants import NOW
from ansible_collections.mfa.aws.tests.unit.utils.constants import OLD_SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import OLD_SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import SEED
from ansible_collections.mfa.aws.tests.unit.utils.constants import SERIAL
from ansible_collections.mfa.aws.tests.unit.utils.constants import entry
from ansible_collections.mfa.aws.tests.unit.utils.constants import client_error
from ansible_collections.mfa.aws.tests.unit.utils.constants import assert_problem

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# --- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "validate, part, service, problem",
    [
        # A prefix: parts of the characters the service allows in a name, joined by single slashes.
        (store.validate_prefix, "mfa-seeds", "secretsmanager", None),
        (store.validate_prefix, "security/mfa_seeds.v1", "ssm", None),
        (store.validate_prefix, "team+ops@x=y", "secretsmanager", None),
        (store.validate_prefix, "team+ops", "ssm", "as an SSM parameter name requires"),
        (store.validate_prefix, "seeds with space", "secretsmanager", "as a Secrets Manager secret name requires"),
        (store.validate_prefix, "/mfa-seeds", "secretsmanager", "without a slash at either end"),
        (store.validate_prefix, "mfa-seeds/", "ssm", "without a slash at either end"),
        (store.validate_prefix, "mfa//seeds", "secretsmanager", "single slashes"),
        # At most 256 characters; an SSM name has at most 15 levels, 13 of them the prefix's.
        (store.validate_prefix, "", "ssm", "1 to 256 characters"),
        (store.validate_prefix, "x" * 257, "secretsmanager", "1 to 256 characters"),
        (store.validate_prefix, "/".join(["p"] * 13), "ssm", None),
        (store.validate_prefix, "/".join(["p"] * 14), "ssm", "at most 13 parts"),
        (store.validate_prefix, "/".join(["p"] * 14), "secretsmanager", None),
        # SSM reserves the names that begin with aws or ssm, whatever their case.
        (store.validate_prefix, "aws-seeds", "ssm", "must not begin with aws or ssm"),
        (store.validate_prefix, "SSM/seeds", "ssm", "must not begin with aws or ssm"),
        (store.validate_prefix, "aws-seeds", "secretsmanager", None),
        # A user name: an IAM user name, of the characters the service allows in a name.
        (store.validate_user_name, "alice", "secretsmanager", None),
        (store.validate_user_name, "alice.b-c_d", "ssm", None),
        (store.validate_user_name, "a+b=c@d", "secretsmanager", None),
        (store.validate_user_name, "a,b", "secretsmanager", "user name a,b cannot be part of a Secrets Manager secret name (letters, digits and _+=.@- only)"),
        (store.validate_user_name, "a@b", "ssm",
         "user name a@b cannot be part of an SSM parameter name (letters, digits and _.- only): choose the other service"),
        (store.validate_user_name, "a/b", "ssm", "is not an IAM user name"),
        (store.validate_user_name, "x" * 65, "secretsmanager", "is not an IAM user name"),
        (store.validate_user_name, "", "ssm", "is not an IAM user name"),
    ],
)
def test_the_parts_of_an_entry_name_are_what_the_service_accepts(validate, part, service, problem):
    assert_problem(validate(part, service), problem)


@pytest.mark.parametrize(
    "seeds, problem",
    [({"alice": given}, problem and f"seeds.alice {problem}") for given, problem in ENTRIES]
    + [({"bob smith": entry()}, "seeds: user name 'bob smith' is not an IAM user name")],
)
def test_seeds_problem_names_the_user_and_never_the_seed(seeds, problem):
    assert_problem(store.seeds_problem(seeds, "secretsmanager"), problem, start=True, secrets=ENTRY_SECRETS)


def test_seeds_problem_checks_user_names_for_the_service():
    assert store.seeds_problem({"a@b": entry()}, "secretsmanager") is None
    assert store.seeds_problem({"a@b": entry()}, "ssm").startswith("seeds: user name a@b cannot be part of an SSM parameter name")


# --- entries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, parsed",
    [
        (json.dumps(entry(created=NOW)), entry(created=NOW)),
        (json.dumps(entry(previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER))), entry(previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER))),
        (json.dumps(dict(entry(), label="kept out", created=None)), entry()),
        ("not json", None),
        (None, None),
        ("[]", None),
        (json.dumps({"serial_number": SERIAL}), None),
        (json.dumps(entry(created=5)), None),
        (json.dumps(entry(previous={"serial_number": OLD_SERIAL})), None),
        (json.dumps(entry(previous=entry(previous=entry()))), None),
    ],
)
def test_parse_entry(text, parsed):
    assert store.parse_entry(text) == parsed


def test_entry_text_is_compact_sorted_json():
    assert store.entry_text(entry(created=NOW)) == (
        '{"base32_seed":"' + SEED + '","created":"' + NOW + '","serial_number":"' + SERIAL + '"}'
    )
    assert store.parse_entry(store.entry_text(entry(created=NOW))) == entry(created=NOW)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, kwargs, method, code, message",
    [
        (
            store.put_parameter,
            dict(name="/p/1/alice", text="{}", description="d", kms_key_arn=None, tags=None, overwrite=False),
            "put_parameter",
            "AccessDeniedException",
            "Failed to write parameter /p/1/alice (the credentials in use lack ssm:PutParameter (with tags, ssm:AddTagsToResource; "
            "with a KMS key, kms:Encrypt on it): grant it to the role or user that runs the task)",
        ),
        (
            store.create_secret,
            dict(name="p/1/alice", text="{}", description="d", kms_key_arn=None, tags=None),
            "create_secret",
            "AccessDeniedException",
            "Failed to create secret p/1/alice (the credentials in use lack secretsmanager:CreateSecret",
        ),
        (
            store.create_secret,
            dict(name="p/1/alice", text="{}", description="d", kms_key_arn=None, tags=None),
            "create_secret",
            "InvalidRequestException",
            "Failed to create secret p/1/alice (a secret of that name is scheduled for deletion or was deleted moments ago: restore it",
        ),
        (
            store.put_secret_value,
            dict(name="p/1/alice", text="{}"),
            "put_secret_value",
            "ThrottlingException",
            "Failed to write a new value to secret p/1/alice (AWS throttled every retry: run with fewer forks or later)",
        ),
        (
            store.put_parameter,
            dict(name="/p/1/alice", text="{}", description="d", kms_key_arn=KEY_ARN, tags=None, overwrite=True),
            "put_parameter",
            "InvalidKeyId",
            "Failed to write parameter /p/1/alice (the KMS key cannot be used: check that it is enabled",
        ),
        (
            store.get_parameters,
            dict(names=["/p/1/alice", "/p/1/bob"]),
            "get_parameters",
            "AccessDeniedException",
            "Failed to read the parameters /p/1/alice, /p/1/bob (the credentials in use lack ssm:GetParameters (with a KMS key, kms:Decrypt on it)",
        ),
        (store.tag_secret, dict(name="p/1/alice", tags={"a": "1"}), "tag_resource", "ValidationException", "Failed to tag secret p/1/alice"),
    ],
)
def test_errors_name_the_entry_and_the_permission_and_keep_the_aws_error(call, kwargs, method, code, message):
    client = MagicMock()
    getattr(client, method).side_effect = client_error(code, "PutParameter")

    with pytest.raises(store.AnsibleSeedStoreError) as raised:
        call(client, **kwargs)

    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message
    assert error_code(raised.value.exception) == code


def test_missing_entries_are_no_error_when_deleting():
    client = MagicMock()
    client.delete_secret.side_effect = client_error("ResourceNotFoundException", "DeleteSecret")
    client.delete_parameter.side_effect = client_error("ParameterNotFound", "DeleteParameter")

    assert store.delete_secret(client, name="p/1/alice") is False
    assert store.delete_parameter(client, name="/p/1/alice") is False


def test_secrets_are_deleted_without_recovery_window():
    client = MagicMock()

    assert store.delete_secret(client, name="p/1/alice") is True
    client.delete_secret.assert_called_once_with(aws_retry=True, SecretId="p/1/alice", ForceDeleteWithoutRecovery=True)


def test_botocore_errors_become_seed_store_errors():
    client = MagicMock()
    client.put_secret_value.side_effect = botocore.exceptions.EndpointConnectionError(endpoint_url="https://secretsmanager")

    with pytest.raises(store.AnsibleSeedStoreError) as raised:
        store.put_secret_value(client, name="p/1/alice", text=json.dumps(entry()))

    assert raised.value.message == "Failed to write a new value to secret p/1/alice"


# --- KMS ------------------------------------------------------------------------------------


def kms_client(metadata=None, error=None):
    client = MagicMock()
    if error:
        client.describe_key.side_effect = client_error(error, "DescribeKey")
    else:
        client.describe_key.return_value = {"KeyMetadata": dict({"Arn": KEY_ARN, "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT"}, **(metadata or {}))}
    return client


@pytest.mark.parametrize(
    "client, message",
    [
        (kms_client(error="NotFoundException"), "KMS key alias/nope does not exist in this account and region: create it or fix kms_key_id"),
        (kms_client({"KeyState": "Disabled"}), "KMS key alias/nope is Disabled, not Enabled: enable it or fix kms_key_id"),
        (kms_client({"KeyState": "PendingDeletion"}), "KMS key alias/nope is scheduled for deletion: cancel the deletion (CancelKeyDeletion)"),
        (kms_client({"KeySpec": "RSA_2048"}), "KMS key alias/nope is not a symmetric encryption key"),
        (kms_client({"KeyUsage": "GENERATE_VERIFY_MAC"}), "KMS key alias/nope is not a symmetric encryption key"),
        (kms_client(error="AccessDeniedException"), "Failed to describe KMS key alias/nope (the credentials in use lack kms:DescribeKey"),
    ],
)
def test_an_unusable_key_fails_with_what_to_fix(client, message):
    with pytest.raises(store.AnsibleSeedStoreError) as raised:
        store.usable_key_arn(client, "alias/nope")

    assert raised.value.message.startswith(message)


def test_a_usable_key_gives_its_arn():
    client = kms_client()

    assert store.usable_key_arn(client, "alias/seeds") == KEY_ARN
    client.describe_key.assert_called_once_with(aws_retry=True, KeyId="alias/seeds")


# --- the stores -----------------------------------------------------------------------------


def paging_client(pages):
    """A client whose paginators return the full results in pages (by paginator name), remembering their arguments."""
    client = MagicMock()
    client.paginators = {name: MagicMock() for name in pages}
    for name, paginator in client.paginators.items():
        paginator.paginate.return_value.build_full_result.return_value = pages[name]
    client.get_paginator.side_effect = client.paginators.__getitem__
    return client


def listed_secret(name, deleted=False, tags=None):
    secret = {"Name": name, "ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"}
    if deleted:
        secret["DeletedDate"] = "2024-06-01"
    if tags:
        secret["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return secret


def test_secrets_manager_read_lists_once_and_reads_directly_named_entries_in_batches_of_20():
    names = [f"mfa-seeds/123456789012/user{index:02d}" for index in range(25)]
    others = ["mfa-seeds/123456789012/team/deep", "MFA-seeds/123456789012/upper", "mfa-seeds/1234567890123/x"]
    listed = [listed_secret(name) for name in names + others] + [listed_secret("mfa-seeds/123456789012/gone", deleted=True)]
    client = paging_client({"list_secrets": {"SecretList": listed}})
    client.batch_get_secret_value.side_effect = lambda aws_retry, SecretIdList: {
        "SecretValues": [{"Name": name, "SecretString": f"text of {name}"} for name in SecretIdList if not name.endswith("user24")],
        "Errors": [{"SecretId": name, "ErrorCode": "ResourceNotFoundException"} for name in SecretIdList if name.endswith("user24")],
    }

    records = store.SecretsManagerStore(client, "mfa-seeds", "123456789012").read()

    assert sorted(records) == sorted([f"user{index:02d}" for index in range(24)] + ["gone"])
    assert records["user03"] == {"name": names[3], "text": f"text of {names[3]}", "deleted": False, "type": None, "tags": {}}
    assert records["gone"]["deleted"] is True and records["gone"]["text"] is None
    assert [call.args[0] for call in client.get_paginator.call_args_list] == ["list_secrets"]
    client.paginators["list_secrets"].paginate.assert_called_once_with(
        Filters=[{"Key": "name", "Values": ["mfa-seeds/123456789012/"]}], IncludePlannedDeletion=True, PaginationConfig={"PageSize": 100}
    )
    assert [len(call.kwargs["SecretIdList"]) for call in client.batch_get_secret_value.call_args_list] == [20, 5]


def test_secrets_manager_read_of_some_users_reads_only_their_values():
    client = paging_client({"list_secrets": {"SecretList": [listed_secret("p/123456789012/alice", tags={"a": "1"}), listed_secret("p/123456789012/bob")]}})
    client.batch_get_secret_value.return_value = {"SecretValues": [{"Name": "p/123456789012/alice", "SecretString": "x"}]}

    records = store.SecretsManagerStore(client, "p", "123456789012").read({"alice", "carol"})

    assert records == {"alice": {"name": "p/123456789012/alice", "text": "x", "deleted": False, "type": None, "tags": {"a": "1"}}}
    client.batch_get_secret_value.assert_called_once_with(aws_retry=True, SecretIdList=["p/123456789012/alice"])


def test_secrets_manager_read_errors_of_single_secrets_name_them_without_values():
    client = paging_client({"list_secrets": {"SecretList": [listed_secret("p/123456789012/alice")]}})
    client.batch_get_secret_value.return_value = {"SecretValues": [], "Errors": [{"SecretId": "p/123456789012/alice", "ErrorCode": "DecryptionFailure"}]}

    with pytest.raises(store.AnsibleSeedStoreError) as raised:
        store.SecretsManagerStore(client, "p", "123456789012").read()

    assert raised.value.message.startswith("Failed to read secret p/123456789012/alice: DecryptionFailure (the KMS key cannot be used")


def test_secrets_are_created_with_key_tags_and_description():
    client = MagicMock()

    store.SecretsManagerStore(client, "p", "123456789012").create("alice", "{}", KEY_ARN, {"team": "sec"})

    client.create_secret.assert_called_once_with(
        aws_retry=True,
        Name="p/123456789012/alice",
        SecretString="{}",
        Description="MFA seed of IAM user alice of AWS account 123456789012, written by mfa.aws.seed_secret",
        KmsKeyId=KEY_ARN,
        Tags=[{"Key": "team", "Value": "sec"}],
    )


def parameter(name, value="x", kind="SecureString"):
    return {"Name": name, "Value": value, "Type": kind}


def test_ssm_read_of_every_entry_is_one_paginated_read_by_path():
    client = paging_client({"get_parameters_by_path": {"Parameters": [parameter("/p/123456789012/alice"), parameter("/p/123456789012/bob", kind="String")]}})

    records = store.ParameterStore(client, "p", "123456789012").read()

    assert records == {
        "alice": {"name": "/p/123456789012/alice", "text": "x", "deleted": False, "type": "SecureString", "tags": None},
        "bob": {"name": "/p/123456789012/bob", "text": "x", "deleted": False, "type": "String", "tags": None},
    }
    client.get_paginator.assert_called_once_with("get_parameters_by_path")
    client.paginators["get_parameters_by_path"].paginate.assert_called_once_with(
        Path="/p/123456789012", Recursive=False, WithDecryption=True, PaginationConfig={"PageSize": 10}
    )


def test_ssm_read_of_some_users_gets_their_parameters_10_at_a_time():
    client = MagicMock()
    client.get_parameters.side_effect = lambda aws_retry, Names, WithDecryption: {"Parameters": [parameter(name) for name in Names if not name.endswith("u00")]}
    users = {f"u{index:02d}" for index in range(12)}

    records = store.ParameterStore(client, "p", "123456789012").read(users)

    assert sorted(records) == sorted(users - {"u00"})
    assert [len(call.kwargs["Names"]) for call in client.get_parameters.call_args_list] == [10, 2]
    assert all(call.kwargs["WithDecryption"] for call in client.get_parameters.call_args_list)


def test_ssm_read_of_no_user_makes_no_call():
    client = MagicMock()

    assert store.ParameterStore(client, "p", "123456789012").read(set()) == {}
    assert client.method_calls == []


def test_ssm_tags_are_read_once_per_record():
    client = MagicMock()
    client.list_tags_for_resource.return_value = {"TagList": [{"Key": "a", "Value": "1"}]}
    parameters = store.ParameterStore(client, "p", "123456789012")
    record = {"name": "/p/123456789012/alice", "tags": None}

    assert parameters.tags(record) == {"a": "1"}
    assert parameters.tags(record) == {"a": "1"}
    client.list_tags_for_resource.assert_called_once_with(aws_retry=True, ResourceType="Parameter", ResourceId="/p/123456789012/alice")


def test_ssm_parameters_written_again_keep_their_kms_key():
    client = paging_client({"describe_parameters": {"Parameters": [{"Name": "/p/123456789012/alice", "KeyId": KEY_ARN}]}})

    store.ParameterStore(client, "p", "123456789012").overwrite({"alice": "{}"})

    client.paginators["describe_parameters"].paginate.assert_called_once_with(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": ["/p/123456789012/alice"]}]
    )
    client.put_parameter.assert_called_once_with(
        aws_retry=True,
        Name="/p/123456789012/alice",
        Value="{}",
        Description="MFA seed of IAM user alice of AWS account 123456789012, written by mfa.aws.seed_secret",
        Type="SecureString",
        Overwrite=True,
        KeyId=KEY_ARN,
    )


def test_ssm_parameters_are_created_without_overwrite_with_their_tags():
    client = MagicMock()

    store.ParameterStore(client, "p", "123456789012").create("alice", "{}", None, {"team": "sec"})

    kwargs = client.put_parameter.call_args.kwargs
    assert kwargs["Overwrite"] is False and kwargs["Type"] == "SecureString" and "KeyId" not in kwargs
    assert kwargs["Tags"] == [{"Key": "team", "Value": "sec"}]


@pytest.mark.parametrize(
    "name, user",
    [("/p/1/alice", "alice"), ("/p/1/team/alice", None), ("/p/12/alice", None), ("/p/1/", None), ("/P/1/alice", None)],
)
def test_ssm_user_of_a_name(name, user):
    assert store.ParameterStore(None, "p", "1").user_of(name) == user


# --- reading back ---------------------------------------------------------------------------


class ReadBack:
    """A store whose read_back answers the given texts in turn."""

    kind = "parameter"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def read_back(self, user_names):
        self.asked.append(list(user_names))
        return self.answers.pop(0)

    def label(self, user_name):
        return f"parameter /p/1/{user_name}"


def test_entries_that_read_back_as_written_pass_at_once():
    written = {"alice": entry(created=NOW)}
    back = ReadBack({"alice": store.entry_text(entry(created=NOW))})
    sleeps = []

    store.verify_written(back, written, sleep=sleeps.append)

    assert back.asked == [["alice"]] and sleeps == []


def test_entries_that_read_back_late_are_read_again_alone():
    written = {"alice": entry(created=NOW), "bob": entry(created=EARLIER)}
    back = ReadBack({"alice": store.entry_text(entry(created=NOW))}, {"bob": store.entry_text(entry(created=EARLIER))})
    sleeps = []

    store.verify_written(back, written, sleep=sleeps.append)

    assert back.asked == [["alice", "bob"], ["bob"]] and sleeps == [1]


def test_an_entry_that_never_reads_back_as_written_fails_without_its_seed():
    written = {"alice": entry(created=NOW)}
    other = {"alice": store.entry_text(entry(seed=OLD_SEED, created=NOW))}
    back = ReadBack(other, other, other)

    with pytest.raises(store.AnsibleSeedStoreError) as raised:
        store.verify_written(back, written, sleep=lambda delay: None)

    assert raised.value.message == (
        "the parameter /p/1/alice of alice does not read back as written: check that nothing else writes it, then run again"
    )
    assert len(back.asked) == 3
