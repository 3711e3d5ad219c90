# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the mfa.aws modules know about MFA seed entries kept in AWS Secrets Manager and SSM Parameter Store.

Private to this collection: the names here may change in any release.

A seed entry is one user's ``{serial_number, base32_seed[, created][, previous]}`` where
``previous`` is an entry of the same shape (without a previous of its own) for the device a
rotation is replacing; ``_seed_entries`` holds the rules of an entry, which every seed store of
the collection shares.  Each entry is stored as one JSON string: the secret
``<prefix>/<account id>/<user name>`` in Secrets Manager, or the SecureString parameter
``/<prefix>/<account id>/<user name>`` in Parameter Store.

Every AWS call goes through a client made by ``seed_store_client()`` (retries with jittered
backoff on throttling), and every botocore error becomes an ``AnsibleSeedStoreError`` whose
one-line message says what failed and, for the errors a person can act on, what to fix (the
permission to grant, the key to enable).  Calls that send a seed never put it in a message,
and no message built here contains a seed or a stored value.
"""

from __future__ import annotations

import json
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.mfa.aws.plugins.module_utils._errors import aws_call
from ansible_collections.mfa.aws.plugins.module_utils._errors import hint as error_hint
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import entry_problem
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import is_entry
from ansible_collections.mfa.aws.plugins.module_utils._seed_entries import plain_entry
from ansible_collections.mfa.aws.plugins.module_utils._identifiers import user_name_problem

SECRETS_MANAGER = "secretsmanager"
SSM = "ssm"
SERVICES = (SECRETS_MANAGER, SSM)

_RETRY = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["ThrottlingException", "TooManyUpdates"])

# The characters each service allows in a name, and how they are described in messages.
_NAME_PART = {
    SECRETS_MANAGER: (re.compile(r"[A-Za-z0-9_+=.@-]+"), "letters, digits and _+=.@-"),
    SSM: (re.compile(r"[A-Za-z0-9_.-]+"), "letters, digits and _.-"),
}
_SERVICE_NAMES = {SECRETS_MANAGER: "a Secrets Manager secret name", SSM: "an SSM parameter name"}
MAX_PREFIX_LENGTH = 256
# SSM allows 15 levels of hierarchy: the prefix's parts, the account id and the user name.
MAX_SSM_PREFIX_PARTS = 13

# At most this many names in one BatchGetSecretValue, GetParameters (or GetParametersByPath page), DescribeParameters call,
# and secrets in one ListSecrets page.
_SECRETS_PER_BATCH = 20
_PARAMETERS_PER_BATCH = 10
_DESCRIBED_PER_BATCH = 50
_SECRETS_PER_LISTING = 100

# How long to wait before reading a written entry back again, when it does not read back as written at once.
READ_BACK_DELAYS = (1, 2)

_RACE = "it was created meanwhile by another run or writer: run again"


class AnsibleSeedStoreError(AnsibleAWSError):
    """A seed store operation that failed; the message says what to fix and never holds a seed."""


def _calls_aws(description, permission, **options):
    """The collection's error layer (``_errors.aws_call``, with its options) for a seed store call that needs ``permission``."""
    return aws_call(description, permission, error=AnsibleSeedStoreError, **options)


def seed_store_client(module, service):
    """A client of service (secretsmanager, ssm or kms) whose calls retry on throttling when given ``aws_retry=True``."""
    return module.client(service, retry_decorator=_RETRY)


# --- checking options ------------------------------------------------------------------------


def validate_prefix(prefix: str, service: str) -> str | None:
    """The problem with a prefix of entry names for the service, or None when the service accepts it."""
    part, allowed = _NAME_PART[service]
    parts = prefix.split("/")
    if len(prefix) > MAX_PREFIX_LENGTH or not all(part.fullmatch(p) for p in parts):
        return (
            f"prefix must be 1 to {MAX_PREFIX_LENGTH} characters of {allowed}, in parts separated by single slashes "
            f"and without a slash at either end (as {_SERVICE_NAMES[service]} requires)"
        )
    if service == SSM and len(parts) > MAX_SSM_PREFIX_PARTS:
        return f"prefix must have at most {MAX_SSM_PREFIX_PARTS} parts: SSM parameter names have at most 15 levels"
    if service == SSM and parts[0].lower().startswith(("aws", "ssm")):
        return "prefix must not begin with aws or ssm: SSM reserves those parameter names"
    return None


def validate_user_name(user_name: str, service: str) -> str | None:
    """The problem with an IAM user name as the last part of an entry name, or None."""
    problem = user_name_problem(user_name)
    if problem:
        return problem
    part, allowed = _NAME_PART[service]
    if not part.fullmatch(user_name):
        return f"user name {user_name} cannot be part of {_SERVICE_NAMES[service]} ({allowed} only): choose the other service"
    return None


def seeds_problem(seeds: dict, service: str) -> str | None:
    """The first problem of the seeds option found without AWS, naming the user; None when there is none."""
    for user_name, entry in seeds.items():
        problem = validate_user_name(user_name, service)
        if problem:
            return f"seeds: {problem}"
        problem = entry_problem(entry, nested=True)
        if problem:
            return f"seeds.{user_name} {problem}"
    return None


# --- entries ---------------------------------------------------------------------------------


def parse_entry(text) -> dict | None:
    """The seed entry a stored JSON string holds, None when it holds none."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return plain_entry(value) if is_entry(value) else None


def entry_text(entry: dict) -> str:
    """The JSON string stored for an entry."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- Secrets Manager -------------------------------------------------------------------------


@_calls_aws("list the secrets named {name_prefix}*", "secretsmanager:ListSecrets")
@_RETRY
def list_secrets(client, name_prefix):
    """The secrets whose names begin with name_prefix, those scheduled for deletion included."""
    paginator = client.get_paginator("list_secrets")
    filters = [{"Key": "name", "Values": [name_prefix]}]
    pages = paginator.paginate(Filters=filters, IncludePlannedDeletion=True, PaginationConfig={"PageSize": _SECRETS_PER_LISTING})
    return pages.build_full_result()["SecretList"]


@_calls_aws("read the secrets {names}", "secretsmanager:BatchGetSecretValue and secretsmanager:GetSecretValue")
def batch_get_secret_values(client, names):
    """({name: SecretString}, {name: error code}) of at most 20 secrets."""
    values, errors = {}, {}
    args = dict(SecretIdList=list(names))
    while True:
        answer = client.batch_get_secret_value(aws_retry=True, **args)
        values.update((found["Name"], found.get("SecretString")) for found in answer.get("SecretValues", []))
        errors.update((failed["SecretId"], failed.get("ErrorCode")) for failed in answer.get("Errors", []))
        if not answer.get("NextToken"):
            return values, errors
        args["NextToken"] = answer["NextToken"]


@_calls_aws(
    "create secret {name}",
    "secretsmanager:CreateSecret (with tags, secretsmanager:TagResource; with a KMS key, kms:GenerateDataKey and kms:Decrypt on it)",
    hints={
        "ResourceExistsException": _RACE,
        "InvalidRequestException": (
            "a secret of that name is scheduled for deletion or was deleted moments ago: "
            "restore it with RestoreSecret, or wait a minute after a forced deletion, or choose another prefix"
        ),
    },
)
def create_secret(client, name, text, description, kms_key_arn, tags):
    args = dict(Name=name, SecretString=text, Description=description)
    if kms_key_arn:
        args["KmsKeyId"] = kms_key_arn
    if tags:
        args["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    client.create_secret(aws_retry=True, **args)


@_calls_aws(
    "write a new value to secret {name}",
    "secretsmanager:PutSecretValue (with a KMS key, kms:GenerateDataKey and kms:Decrypt on it)",
    hints={"InvalidRequestException": "the secret is scheduled for deletion: restore it with RestoreSecret or choose another prefix"},
)
def put_secret_value(client, name, text):
    client.put_secret_value(aws_retry=True, SecretId=name, SecretString=text)


@_calls_aws("tag secret {name}", "secretsmanager:TagResource")
def tag_secret(client, name, tags):
    client.tag_resource(aws_retry=True, SecretId=name, Tags=ansible_dict_to_boto3_tag_list(tags))


@_calls_aws("delete secret {name}", "secretsmanager:DeleteSecret", missing=False)
def delete_secret(client, name):
    """Delete the secret at once, with no recovery window: a seed of a deleted device must not linger."""
    client.delete_secret(aws_retry=True, SecretId=name, ForceDeleteWithoutRecovery=True)
    return True


# --- SSM Parameter Store -----------------------------------------------------------------------


@_calls_aws("read the parameters under {path}", "ssm:GetParametersByPath (with a KMS key, kms:Decrypt on it)")
@_RETRY
def get_parameters_by_path(client, path):
    paginator = client.get_paginator("get_parameters_by_path")
    pages = paginator.paginate(Path=path, Recursive=False, WithDecryption=True, PaginationConfig={"PageSize": _PARAMETERS_PER_BATCH})
    return pages.build_full_result()["Parameters"]


@_calls_aws("read the parameters {names}", "ssm:GetParameters (with a KMS key, kms:Decrypt on it)")
def get_parameters(client, names):
    """The parameters among names (at most 10) that exist, with their values decrypted."""
    return client.get_parameters(aws_retry=True, Names=list(names), WithDecryption=True)["Parameters"]


@_calls_aws("describe the parameters {names}", "ssm:DescribeParameters")
@_RETRY
def describe_parameters(client, names):
    """The descriptions (with KeyId) of the parameters among names (at most 50) that exist."""
    paginator = client.get_paginator("describe_parameters")
    filters = [{"Key": "Name", "Option": "Equals", "Values": list(names)}]
    return paginator.paginate(ParameterFilters=filters).build_full_result()["Parameters"]


@_calls_aws(
    "write parameter {name}",
    "ssm:PutParameter (with tags, ssm:AddTagsToResource; with a KMS key, kms:Encrypt on it)",
    hints={"ParameterAlreadyExists": _RACE},
)
def put_parameter(client, name, text, description, kms_key_arn, tags, overwrite):
    args = dict(Name=name, Value=text, Description=description, Type="SecureString", Overwrite=overwrite)
    if kms_key_arn:
        args["KeyId"] = kms_key_arn
    if tags:
        args["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    client.put_parameter(aws_retry=True, **args)


@_calls_aws("list the tags of parameter {name}", "ssm:ListTagsForResource", missing=dict)
def list_parameter_tags(client, name):
    answer = client.list_tags_for_resource(aws_retry=True, ResourceType="Parameter", ResourceId=name)
    return boto3_tag_list_to_ansible_dict(answer.get("TagList") or [])


@_calls_aws("tag parameter {name}", "ssm:AddTagsToResource")
def tag_parameter(client, name, tags):
    client.add_tags_to_resource(aws_retry=True, ResourceType="Parameter", ResourceId=name, Tags=ansible_dict_to_boto3_tag_list(tags))


@_calls_aws("delete parameter {name}", "ssm:DeleteParameter", missing=False)
def delete_parameter(client, name):
    client.delete_parameter(aws_retry=True, Name=name)
    return True


# --- KMS -------------------------------------------------------------------------------------


@_calls_aws("describe KMS key {key_id}", "kms:DescribeKey", missing=None)
def describe_key(client, key_id):
    """The key's metadata, None when there is no such key (or alias) in the account and region."""
    return client.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]


def usable_key_arn(client, key_id: str) -> str:
    """The ARN of the KMS key key_id (an id, ARN, alias name or alias ARN), when it can encrypt seeds; raises otherwise."""
    key = describe_key(client, key_id=key_id)
    if key is None:
        raise AnsibleSeedStoreError(message=f"KMS key {key_id} does not exist in this account and region: create it or fix kms_key_id")
    state = key.get("KeyState", "Enabled")
    if state == "PendingDeletion":
        raise AnsibleSeedStoreError(
            message=f"KMS key {key_id} is scheduled for deletion: cancel the deletion (CancelKeyDeletion) and enable it, or fix kms_key_id"
        )
    if state != "Enabled":
        raise AnsibleSeedStoreError(message=f"KMS key {key_id} is {state}, not Enabled: enable it or fix kms_key_id")
    if key.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or key.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        raise AnsibleSeedStoreError(
            message=f"KMS key {key_id} is not a symmetric encryption key, which Secrets Manager and SSM need: fix kms_key_id"
        )
    return key["Arn"]


# --- the two stores --------------------------------------------------------------------------


class _Store:
    """The entries of one account's users in one service: names, reads and writes.

    ``read()`` answers {user name: record}, where a record is a dictionary with the entry's
    ``name``, its stored ``text`` (None for a secret scheduled for deletion), ``deleted``,
    ``type`` (what SSM calls the parameter's type) and ``tags`` (None until read).
    """

    kind = "entry"

    def __init__(self, client, prefix: str, account_id: str):
        self.client = client
        self.account_id = account_id
        self.folder = self._folder(prefix, account_id)

    @staticmethod
    def _folder(prefix, account_id):
        raise NotImplementedError

    def name(self, user_name: str) -> str:
        return f"{self.folder}/{user_name}"

    def user_of(self, name: str) -> str | None:
        """The user whose entry the name is, None for a name that is not directly under the folder."""
        head, sep, user_name = name.rpartition("/")
        return user_name if sep and head == self.folder and user_name else None

    def description(self, user_name: str) -> str:
        return f"MFA seed of IAM user {user_name} of AWS account {self.account_id}, written by mfa.aws.seed_secret"

    def label(self, user_name: str) -> str:
        """How messages name a user's entry."""
        return f"{self.kind} {self.name(user_name)}"

    def read_back(self, user_names) -> dict:
        """{user name: stored text} of the entries of those users that exist, read again from AWS."""
        raise NotImplementedError


class SecretsManagerStore(_Store):
    """Each entry is the secret <prefix>/<account id>/<user name>."""

    kind = "secret"

    @staticmethod
    def _folder(prefix, account_id):
        return f"{prefix}/{account_id}"

    def _values(self, names: list) -> dict:
        values = {}
        for chunk in _chunks(sorted(names), _SECRETS_PER_BATCH):
            found, errors = batch_get_secret_values(self.client, names=chunk)
            for name, code in sorted(errors.items()):
                if code not in ("ResourceNotFoundException", "InvalidRequestException"):
                    hint = error_hint(code, "secretsmanager:GetSecretValue (with a KMS key, kms:Decrypt on it)")
                    hint = hint or "check the secret and the KMS key that encrypts it"
                    raise AnsibleSeedStoreError(message=f"Failed to read secret {name}: {code} ({hint})")
            values.update(found)
        return values

    def read(self, scope=None) -> dict:
        """The records of every entry, or of the users in scope; one listing, then one read per 20 entries."""
        records = {}
        for secret in list_secrets(self.client, name_prefix=self.folder + "/"):
            user_name = self.user_of(secret["Name"])
            if user_name and (scope is None or user_name in scope):
                records[user_name] = dict(
                    name=secret["Name"],
                    text=None,
                    deleted=bool(secret.get("DeletedDate")),
                    type=None,
                    tags=boto3_tag_list_to_ansible_dict(secret.get("Tags") or []),
                )
        values = self._values([record["name"] for record in records.values() if not record["deleted"]])
        for user_name in list(records):
            record = records[user_name]
            if not record["deleted"]:
                if record["name"] not in values:
                    del records[user_name]  # deleted since it was listed
                else:
                    record["text"] = values[record["name"]]
        return records

    def tags(self, record: dict) -> dict:
        return record["tags"]

    def create(self, user_name, text, kms_key_arn, tags):
        create_secret(
            self.client, name=self.name(user_name), text=text, description=self.description(user_name), kms_key_arn=kms_key_arn, tags=tags
        )

    def overwrite(self, texts: dict):
        """Write new values to existing secrets; each keeps its KMS key."""
        for user_name, text in texts.items():
            put_secret_value(self.client, name=self.name(user_name), text=text)

    def tag(self, user_name, tags):
        tag_secret(self.client, name=self.name(user_name), tags=tags)

    def delete(self, user_name):
        return delete_secret(self.client, name=self.name(user_name))

    def read_back(self, user_names) -> dict:
        values = self._values([self.name(user_name) for user_name in user_names])
        return {self.user_of(name): text for name, text in values.items()}


class ParameterStore(_Store):
    """Each entry is the SecureString parameter /<prefix>/<account id>/<user name>."""

    kind = "parameter"

    @staticmethod
    def _folder(prefix, account_id):
        return f"/{prefix}/{account_id}"

    def _records(self, parameters) -> dict:
        records = {}
        for parameter in parameters:
            user_name = self.user_of(parameter["Name"])
            if user_name:
                records[user_name] = dict(name=parameter["Name"], text=parameter.get("Value"), deleted=False, type=parameter.get("Type"), tags=None)
        return records

    def _parameters(self, names) -> list:
        found = []
        for chunk in _chunks(sorted(names), _PARAMETERS_PER_BATCH):
            found.extend(get_parameters(self.client, names=chunk))
        return found

    def read(self, scope=None) -> dict:
        """The records of every entry (one read per 10 entries), or of the users in scope (one read per 10 users)."""
        if scope is None:
            return self._records(get_parameters_by_path(self.client, path=self.folder))
        return self._records(self._parameters([self.name(user_name) for user_name in scope]))

    def tags(self, record: dict) -> dict:
        if record["tags"] is None:
            record["tags"] = list_parameter_tags(self.client, name=record["name"])
        return record["tags"]

    def create(self, user_name, text, kms_key_arn, tags):
        put_parameter(
            self.client,
            name=self.name(user_name),
            text=text,
            description=self.description(user_name),
            kms_key_arn=kms_key_arn,
            tags=tags,
            overwrite=False,
        )

    def overwrite(self, texts: dict):
        """Write new values to existing parameters; each keeps its KMS key (one description per 50 parameters)."""
        key_ids = {}
        for chunk in _chunks(sorted(self.name(user_name) for user_name in texts), _DESCRIBED_PER_BATCH):
            key_ids.update((found["Name"], found.get("KeyId")) for found in describe_parameters(self.client, names=chunk))
        for user_name, text in texts.items():
            name = self.name(user_name)
            put_parameter(
                self.client, name=name, text=text, description=self.description(user_name), kms_key_arn=key_ids.get(name), tags=None, overwrite=True
            )

    def tag(self, user_name, tags):
        tag_parameter(self.client, name=self.name(user_name), tags=tags)

    def delete(self, user_name):
        return delete_parameter(self.client, name=self.name(user_name))

    def read_back(self, user_names) -> dict:
        return {user_name: record["text"] for user_name, record in self._records(self._parameters([self.name(u) for u in user_names])).items()}


STORES = {SECRETS_MANAGER: SecretsManagerStore, SSM: ParameterStore}


def verify_written(store: _Store, written: dict, delays=READ_BACK_DELAYS, sleep=time.sleep):
    """Read the written entries ({user name: entry}) back; raise, naming the first that differs, when one still differs after the delays."""
    pending = dict(written)
    for delay in tuple(delays) + (None,):
        texts = store.read_back(sorted(pending))
        pending = {user_name: entry for user_name, entry in pending.items() if parse_entry(texts.get(user_name)) != entry}
        if not pending:
            return
        if delay is not None:
            sleep(delay)
    user_name = sorted(pending)[0]
    raise AnsibleSeedStoreError(
        message=f"the {store.label(user_name)} of {user_name} does not read back as written: check that nothing else writes it, then run again"
    )
