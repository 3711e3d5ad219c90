#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: seed_store
short_description: Store, drop and read back MFA seeds in several seed stores in one task
version_added: 0.1.0
description:
  - One operation on the seed stores named in O(stores), in the order named, each by the module that works it
    (M(mfa.aws.seed_vault_file), M(mfa.aws.seed_secret) for V(secretsmanager) and V(ssm), M(mfa.aws.seed_qr_code) for
    V(qr_png)) with the arguments a task of that module would get.
  - Stores O(seeds), drops the entries of the users in O(remove) and, with O(return_seeds), reads the seeds back from each
    store that can return them. The primary store is the first of V(vault_file), V(secretsmanager) and V(ssm) named in
    O(stores), else V(qr_png); its answer is returned as RV(stored), RV(entries) and RV(seeds).
  - With O(copy), the primary store is worked first and the other stores then get the seeds read back from it, so that a copy
    an interrupted run missed is made up by the next run.
  - Stops at the first store that fails, with that store's message; the stores after it are not touched.
  - Used by the M(mfa.aws.enroll) role, one task for every store of C(enroll_delivery), since a task costs every host of a
    fleet a worker process.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  stores:
    description:
      - The stores to work, in order. V(secretsmanager) and V(ssm) are worked together, where the first of them is named.
    type: list
    elements: str
    choices: [vault_file, secretsmanager, ssm, qr_png]
    required: true
  seeds:
    description:
      - The entries to store, by user name, as M(mfa.aws.seed_vault_file) takes them. A QR code gets the current device only.
    type: dict
    default: {}
  remove:
    description:
      - User names whose entries are dropped from every store named.
    type: list
    elements: str
    default: []
  check_writable:
    description:
      - Check that the vault file and the QR code directory can be written (and, for the vault file, that a vault secret is
        given) before anything is read.
    type: bool
    default: false
  return_seeds:
    description:
      - Read the seeds back from each seed store named (a second call for V(secretsmanager) and V(ssm)).
      - B(The result then holds secrets), so set C(no_log=true) on the task.
    type: bool
    default: false
  users:
    description:
      - Return the entries of these users only. By default, those of every stored user.
    type: list
    elements: str
  predict:
    description:
      - In check mode, report a change, since the devices the run would create have no seed yet and no store can say it would change.
    type: bool
    default: false
  copy:
    description:
      - Work the primary store first, then give the other stores of O(stores) the seeds read back from it (O(seeds) and
        O(remove) go to the primary store only).
      - Needs O(return_seeds). When a copy fails, RV(delivered) is V(true), since the primary store holds the seeds.
    type: bool
    default: false
  require_seeds:
    description:
      - Users whose seeds the primary store must hold after the task, since their devices are enabled next. The task fails
        when one is missing (except in check mode, where no device is created), with RV(delivered) V(true).
      - Needs O(return_seeds); ignored when the primary store is V(qr_png), which cannot return seeds.
    type: list
    elements: str
    default: []
  account_id:
    description:
      - The AWS account the seeds belong to. Required for V(secretsmanager), V(ssm) and V(qr_png).
    type: str
attributes:
  diff_mode:
    details:
      - The diff of each store, never a seed.
  action:
    description: Runs on the controller through an action plugin, which runs the action of each store's module.
notes:
  - Run the task with C(no_log=true) when it receives or returns seeds, as the example does.
  - The connection options apply to V(secretsmanager) and V(ssm) only. With O(store_credentials), those credentials replace
    the connection options that name a caller (keys, session token, profile); the region and endpoint still apply.
  - The arguments of each store's module are given by this task, so C(module_defaults) set for M(mfa.aws.seed_vault_file),
    M(mfa.aws.seed_secret) or M(mfa.aws.seed_qr_code) by name do not apply to it; the connection options of the
    C(group/mfa.aws.aws) group do.
seealso:
  - module: mfa.aws.seed_vault_file
  - module: mfa.aws.seed_secret
  - module: mfa.aws.seed_qr_code
extends_documentation_fragment: [mfa.aws._seed_stores, mfa.aws._attributes.AWS_WRITES, mfa.aws._attributes.ACTION_GROUP,
                                 mfa.aws._attributes.CONTROLLER, amazon.aws.common.modules, amazon.aws.region.modules, amazon.aws.boto3]
"""

EXAMPLES = r"""
- name: Store alice's seed in the vault file, read it back, and copy it to Secrets Manager
  mfa.aws.seed_store:
    stores: [vault_file, secretsmanager]
    copy: true
    require_seeds: [alice]
    account_id: "123456789012"
    vault_file: "mfa-seeds/123456789012.yml"
    seeds:
      alice:
        serial_number: "{{ alice_device.serial_number }}"
        base32_seed: "{{ alice_device.base32_seed }}"
    return_seeds: true
  register: stored
  no_log: true
"""

RETURN = r"""
stored:
  description: The serial number of the device of each user whose seed the primary store holds after the task.
  returned: success
  type: dict
  sample:
    alice: arn:aws:iam::123456789012:mfa/alice
entries:
  description: What the primary store holds for each user after the task, without the seeds.
  returned: success
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice
      created: "2026-11-25T10:00:00+00:00"
      previous_serial_number: null
seeds:
  description:
    - The primary store's entries with their seeds. B(Secret.)
  returned: with O(return_seeds=true), when the primary store is V(vault_file), V(secretsmanager) or V(ssm)
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice
      base32_seed: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
      created: "2026-11-25T10:00:00+00:00"
stores:
  description: What each store worked did, and the users whose entries it holds (never a seed).
  returned: when the stores were worked
  type: dict
  sample:
    vault_file:
      changed: true
      failed: false
      stored: [alice]
delivered:
  description: The task failed after the primary store took the seeds (a copy failed, or a seed of O(require_seeds) is missing).
  returned: when such a failure happened
  type: bool
  sample: true
"""
