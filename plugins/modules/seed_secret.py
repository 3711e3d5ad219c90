#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: seed_secret
version_added: 0.1.0
short_description: Keep MFA seeds in AWS Secrets Manager or SSM Parameter Store
description:
  - Stores the base32 seeds of virtual MFA devices in AWS, one entry per IAM user, either as a Secrets Manager secret
    named C(<prefix>/<account id>/<user name>) or as an SSM Parameter Store C(SecureString) parameter named
    C(/<prefix>/<account id>/<user name>).
  - Each entry is a JSON string with the user's C(serial_number), C(base32_seed) and C(created) time, and during a
    device rotation a C(previous) entry of the same shape for the device being replaced. This is the entry
    M(mfa.aws.seed_vault_file) keeps on the controller, so either store can back the same play.
  - Merges the given seeds with the entries already stored and deletes only the entries of the users in O(remove), so a
    seed is never lost by a later run. An entry equal to the stored one is not written again.
  - After writing, reads every written entry back from AWS and fails if it does not hold what was written.
  - The store lives in the account and region the connection options point to, which may be the account O(account_id)
    names or a central account (see the examples). O(account_id) only names the account whose users the seeds belong to.
  - With neither O(seeds) nor O(remove) it only reads, and returns which device each stored seed belongs to.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  service:
    description:
      - Where the seeds are kept, V(secretsmanager) (AWS Secrets Manager) or V(ssm) (AWS Systems Manager Parameter Store,
        as C(SecureString) parameters).
    type: str
    required: true
    choices: [secretsmanager, ssm]
  account_id:
    description:
      - The 12-digit id of the AWS account whose IAM users the seeds belong to, part of every entry's name.
    type: str
    required: true
  prefix:
    description:
      - The first part of every entry's name.
      - Letters, digits and C(_+=.@-) for V(secretsmanager), letters, digits and C(_.-) for V(ssm), in parts separated
        by single slashes, without a slash at either end, at most 256 characters. For V(ssm), at most 13 parts, and not
        beginning with C(aws) or C(ssm). Checked before any call to AWS.
    type: str
    default: mfa-seeds
  seeds:
    description:
      - The entries to store, by IAM user name. Each is a dictionary with the strings C(serial_number) and C(base32_seed),
        optionally C(created), and optionally C(previous), a dictionary of the same keys (without a C(previous) of its own)
        for the device a rotation is replacing, kept until that device is deleted.
      - An entry with the same content as the stored one is not written again. Without C(created), an entry keeps the
        C(created) time of the stored entry of the same device (same serial number and seed), and a new device gets the
        current time (UTC, ISO 8601, in seconds). The same holds for C(previous).
      - User names are checked before any call to AWS, as are the entries (never quoted in a message). A user name with
        a character the service does not allow in names (C(,) for V(secretsmanager), C(+=,@) for V(ssm)) fails.
    type: dict
    default: {}
  remove:
    description:
      - Users whose entries are deleted. A user without an entry is no change.
      - Secrets are deleted at once, with C(ForceDeleteWithoutRecovery=true) and no recovery window, because the seed
        of a deleted device must not linger. A secret already scheduled for deletion is deleted at once too.
      - Drop an entry only once its device is deleted in AWS, or its seed is gone for good.
      - A user cannot be in both O(seeds) and O(remove).
    type: list
    elements: str
    default: []
  kms_key_id:
    description:
      - The KMS key that encrypts the entries this task creates, as a key id, key ARN, alias name (C(alias/...)) or alias
        ARN. By default the AWS managed key of the service (C(aws/secretsmanager) or C(aws/ssm)).
      - When set, the key is looked up (C(kms:DescribeKey)) before anything else, even when nothing is to be written, and
        the task fails, writing nothing, unless it exists in the store's account and region (or is given by ARN), is
        enabled and is a symmetric encryption key.
      - The key is chosen when an entry is created. An entry written again keeps its key; to move an entry to another
        key, remove it and store it again.
    type: str
  tags:
    description:
      - Tags of the entries (secrets or parameters) of the users in O(seeds), set when an entry is created and added
        or updated on the existing entries of those users.
      - Tags not listed are kept. Entries of users not in O(seeds) are not touched.
      - With V(ssm), each existing entry of a user in O(seeds) costs one C(ListTagsForResource) call when O(tags) is set.
    type: dict
  return_seeds:
    description:
      - Also return the entries with their seeds, as RV(seeds).
      - B(The result then holds secrets), so the task must set C(no_log=true); it warns when it does not.
      - Seeds given in O(seeds) to the same task come back masked by Ansible, as values of a C(no_log) option, so read
        them with a task of their own.
    type: bool
    default: false
  users:
    description:
      - Restrict what is read, and what RV(stored), RV(names), RV(entries) and RV(seeds) show, to these users (and
        those of O(seeds) and O(remove), which are always read). By default every entry under
        C(<prefix>/<account id>/) is read.
      - With V(ssm), the entries of these users are read with C(GetParameters), one call per 10 users, instead of
        listing them all.
      - Has no effect on what is written.
    type: list
    elements: str
notes:
  - The task that gives O(seeds), or sets O(return_seeds=true), must set C(no_log=true), as the examples do. The seeds
    never appear in the diff, in an error message or in the module's other return values.
  - "Calls made, for V(secretsmanager): C(ListSecrets) (one per 100 secrets under the prefix), C(BatchGetSecretValue) (one
    per 20 entries read), then only for what changes: C(CreateSecret), C(PutSecretValue), C(TagResource), C(DeleteSecret),
    and one C(BatchGetSecretValue) per 20 entries written, to read them back."
  - "Calls made, for V(ssm): C(GetParametersByPath) (one per 10 entries; with O(users), C(GetParameters), one per 10 users
    read), C(ListTagsForResource) per existing entry of O(seeds) when O(tags) is set, then only for what changes:
    C(PutParameter), C(DescribeParameters) (one per 50 entries written again, to keep their KMS key),
    C(AddTagsToResource), C(DeleteParameter), and one C(GetParameters) per 10 entries written, to read them back."
  - With O(kms_key_id), one C(kms:DescribeKey) call comes first.
  - "IAM permissions, for V(secretsmanager): C(secretsmanager:ListSecrets), C(secretsmanager:BatchGetSecretValue),
    C(secretsmanager:GetSecretValue), and to write C(secretsmanager:CreateSecret), C(secretsmanager:PutSecretValue),
    C(secretsmanager:TagResource) (with O(tags)), C(secretsmanager:DeleteSecret) (with O(remove)). With a customer managed
    key, C(kms:DescribeKey), C(kms:GenerateDataKey) and C(kms:Decrypt) on it."
  - "IAM permissions, for V(ssm): C(ssm:GetParametersByPath) (or C(ssm:GetParameters) with O(users)), and to write
    C(ssm:GetParameters), C(ssm:PutParameter), C(ssm:DescribeParameters), C(ssm:ListTagsForResource) and
    C(ssm:AddTagsToResource) (with O(tags)), C(ssm:DeleteParameter) (with O(remove)). With a customer managed key,
    C(kms:DescribeKey), C(kms:Encrypt) and C(kms:Decrypt) on it."
  - A secret scheduled for deletion is not an entry. Storing a seed for its user fails, writing nothing, until it is
    restored with C(RestoreSecret) (or another O(prefix) is chosen).
  - A stored value that is not a seed entry (not JSON, or without C(serial_number) and C(base32_seed)), or a parameter
    that is not a C(SecureString), fails the task before any write, unless its user is in O(remove).
  - Errors name the entry and, when AWS denies a call, the permission to grant; throttled calls are retried with
    jittered backoff.
attributes:
  check_mode:
    details:
      - In check mode the entries are read, and nothing is written.
  diff_mode:
    details:
      - The diff shows the serial number, C(created) time and previous serial number of each entry read or written, never a seed.
seealso:
  - module: mfa.aws.seed_vault_file
  - module: mfa.aws.iam_virtual_mfa
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - name: BatchGetSecretValue in the Secrets Manager API reference
    description: How the module reads up to 20 secrets in one call.
    link: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
  - name: SSM Parameter Store SecureString parameters and KMS
    description: How Parameter Store encrypts C(SecureString) parameters.
    link: https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html
extends_documentation_fragment: [mfa.aws._attributes.AWS_WRITES, mfa.aws._attributes.ACTION_GROUP, amazon.aws.common.modules,
                                 amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Create a virtual MFA device for alice (the seed is returned only this once)
  mfa.aws.iam_virtual_mfa:
    name: alice
  register: alice_device
  no_log: true

- name: Keep its seed in Secrets Manager, as the secret mfa-seeds/123456789012/alice
  mfa.aws.seed_secret:
    service: secretsmanager
    account_id: "123456789012"
    seeds:
      alice:
        serial_number: "{{ alice_device.serial_number }}"
        base32_seed: "{{ alice_device.base32_seed }}"
    tags:
      managed-by: mfa.aws
  when: alice_device.base32_seed is defined
  no_log: true

- name: Keep the seeds of the devices of a batch in SSM, encrypted with a customer managed key
  mfa.aws.seed_secret:
    service: ssm
    account_id: "{{ aws_account_id }}"
    prefix: security/mfa-seeds
    kms_key_id: alias/mfa-seeds
    seeds: "{{ created | mfa.aws.enrollment_seeds(plan) }}"
  no_log: true

# The store may live in a central account: the connection options choose the account, account_id names
# the account whose users the seeds belong to.
- name: Keep the seeds of a member account's users in the security account
  mfa.aws.seed_secret:
    service: secretsmanager
    account_id: "{{ aws_account_id }}"
    kms_key_id: arn:aws:kms:us-east-1:999999999999:alias/mfa-seeds
    seeds: "{{ new_seeds }}"
    access_key: "{{ security_account_credentials.access_key }}"
    secret_key: "{{ security_account_credentials.secret_key }}"
    session_token: "{{ security_account_credentials.session_token }}"
  no_log: true

- name: Which users have a stored seed, and for which device (no seed in the result)
  mfa.aws.seed_secret:
    service: ssm
    account_id: "123456789012"
  register: stored

- name: Read alice's seed to compute codes
  mfa.aws.seed_secret:
    service: ssm
    account_id: "123456789012"
    users: [alice]
    return_seeds: true
  register: alice_seed
  no_log: true

- name: Compute two consecutive codes from it
  ansible.builtin.set_fact:
    alice_codes: "{{ lookup('mfa.aws.totp', alice_seed.seeds.alice.base32_seed, pair=true) }}"
  no_log: true

- name: Forget bob's seed once his device is deleted (the secret is deleted at once, without recovery window)
  mfa.aws.seed_secret:
    service: secretsmanager
    account_id: "123456789012"
    remove: [bob]
"""

RETURN = r"""
stored:
  description:
    - The serial number of the device of each user whose entry exists after the task (never the seeds).
    - Restricted to O(users) when it is set.
  returned: always
  type: dict
  sample:
    alice: arn:aws:iam::123456789012:mfa/alice
names:
  description:
    - The name of each user's secret or parameter, for the same users as RV(stored).
  returned: always
  type: dict
  sample:
    alice: mfa-seeds/123456789012/alice
entries:
  description:
    - What is stored for each user after the task, without the seeds, for the same users as RV(stored).
    - C(previous_serial_number) is the device a rotation is replacing, V(null) when no rotation is under way.
  returned: always
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice-2
      created: "2024-06-01T09:30:00+00:00"
      previous_serial_number: arn:aws:iam::123456789012:mfa/alice
seeds:
  description:
    - The entries with their seeds (C(serial_number), C(base32_seed), C(created), and C(previous) during a rotation),
      for the same users as RV(stored).
    - B(Secret.) Returned only with O(return_seeds=true); set C(no_log=true) on the task.
  returned: with O(return_seeds=true)
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice
      base32_seed: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
      created: "2024-06-01T09:30:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import with_connection_secrets_hidden
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import ARGUMENT_SPEC
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import NO_LOG_WARNING
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import ensure_seeds
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import given_entries
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import now_text
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import options_problem
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import outcome
from ansible_collections.mfa.aws.plugins.module_utils._seed_secrets import reveal_device_names
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import STORES
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import AnsibleSeedStoreError
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import seed_store_client
from ansible_collections.mfa.aws.plugins.module_utils._seed_store import usable_key_arn


def main():
    module = AnsibleAWSModule(argument_spec=with_connection_secrets_hidden(ARGUMENT_SPEC), supports_check_mode=True)
    params = module.params
    problem = options_problem(params)
    if problem:
        module.fail_json(msg=problem)
    seeds = given_entries(params["seeds"])
    reveal_device_names(module, seeds)

    try:
        kms_key_arn = usable_key_arn(seed_store_client(module, "kms"), params["kms_key_id"]) if params["kms_key_id"] else None
        store = STORES[params["service"]](seed_store_client(module, params["service"]), params["prefix"], params["account_id"])
        changed, before, after = ensure_seeds(
            store, module.check_mode, seeds, params["remove"], params["users"], params["tags"], kms_key_arn, now_text()
        )
    except AnsibleSeedStoreError as e:
        module.fail_json_aws_error(e)

    result = outcome(store, changed, before, after, params["users"], params["return_seeds"], module._diff)
    if result.get("seeds") and not module.no_log:
        module.warn(NO_LOG_WARNING)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
