#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: seed_vault_file
short_description: Keep MFA seeds in an ansible-vault encrypted file on the controller
version_added: 0.1.0
description:
  - Stores the base32 seeds of virtual MFA devices in one ansible-vault encrypted YAML file (typically one file per AWS
    account), mapping each user name to the C(serial_number), C(base32_seed) and C(created) time of its device.
  - Merges the given seeds with the entries already in the file and drops only the users named in O(remove), so a seed is
    never lost by a later run.
  - Encrypts with a vault secret of the current run (C(--vault-id), C(--vault-password-file)), writes a temporary file in the
    same directory with the file mode O(mode) and renames it over the old file, then reads the file back and compares it with
    what it meant to write.
  - Reads, merges, writes and reads back under an exclusive lock on the file C(<path>.lock) beside it, so that two runs that write one
    file at once never drop each other's seeds; and, when a run holds that account's lock (M(mfa.aws.account_lock)), another run
    waits for it to finish, up to O(lock_timeout) seconds.
  - With neither O(seeds) nor O(remove) it only reads the file and returns which device each stored seed belongs to.
  - Runs entirely on the controller; the seeds never leave it.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  path:
    description:
      - The encrypted file on the controller. Its directory is created (mode C(0700)) when missing.
    type: path
    required: true
  seeds:
    description:
      - The entries to store, by user name. Each is a dictionary with the strings C(serial_number) and C(base32_seed) and,
        optionally, C(created), and C(previous), an entry of the same shape for the device a rotation is replacing (kept until
        that device is deleted).
      - An entry equal to the stored one (same serial and seed) changes nothing and keeps its C(created) time.
    type: dict
    default: {}
  remove:
    description:
      - User names whose entries are dropped from the file.
      - Drop an entry only once its device is deleted in AWS, or its seed is gone for good.
    type: list
    elements: str
    default: []
  return_seeds:
    description:
      - Also return the stored entries with their seeds, as RV(seeds).
      - B(The result then holds secrets), so set C(no_log=true) on the task.
    type: bool
    default: false
  users:
    description:
      - Restrict RV(stored), RV(entries) and RV(seeds) to these users. By default they cover every entry of the file.
      - Has no effect on what is written.
    type: list
    elements: str
  lock_timeout:
    description:
      - How many seconds to wait, before a write, for another run that holds the account's lock (M(mfa.aws.account_lock) on
        C(<path>.lock)) to let go of it. The task then fails with C(another run is working on account ...) and writes nothing.
    type: int
    default: 300
    version_added: 0.2.0
attributes:
  diff_mode:
    details:
      - The diff shows the serial number and creation time of each entry, never a seed.
notes:
  - Read the file with M(ansible.builtin.include_vars) and its C(name) option, since user names can contain characters that
    variable names cannot.
seealso:
  - module: mfa.aws.account_lock
  - module: mfa.aws.iam_virtual_mfa
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - module: ansible.builtin.include_vars
extends_documentation_fragment: [mfa.aws._attributes, mfa.aws._attributes.CONTROLLER, mfa.aws._vault_files]
"""

EXAMPLES = r"""
- name: Create a virtual MFA device for alice (the seed is returned only this once)
  mfa.aws.iam_virtual_mfa:
    name: alice
  register: alice_device
  no_log: true

- name: Store its seed, encrypted with the run's vault secret
  mfa.aws.seed_vault_file:
    path: "mfa-seeds/{{ aws_account_id }}.yml"
    seeds:
      alice:
        serial_number: "{{ alice_device.serial_number }}"
        base32_seed: "{{ alice_device.base32_seed }}"
  when: alice_device.base32_seed is defined
  no_log: true

- name: Which users have a stored seed, and for which device
  mfa.aws.seed_vault_file:
    path: "mfa-seeds/{{ aws_account_id }}.yml"
  register: stored

- name: Read the seeds back to compute codes
  ansible.builtin.include_vars:
    file: "mfa-seeds/{{ aws_account_id }}.yml"
    name: mfa_seeds
  no_log: true

- name: Forget bob's seed once his device is deleted
  mfa.aws.seed_vault_file:
    path: "mfa-seeds/{{ aws_account_id }}.yml"
    remove: [bob]
"""

RETURN = r"""
path:
  description: The encrypted file.
  returned: always
  type: str
  sample: mfa-seeds/123456789012.yml
stored:
  description: The serial number of the device of each user whose seed the file holds after the task (never the seeds).
  returned: always
  type: dict
  sample:
    alice: arn:aws:iam::123456789012:mfa/alice
entries:
  description:
    - What the file holds for each user after the task, without the seeds.
    - C(previous_serial_number) is the device a rotation is replacing, V(null) when no rotation is under way.
  returned: always
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice-2
      created: "2026-11-25T10:00:00+00:00"
      previous_serial_number: arn:aws:iam::123456789012:mfa/alice
seeds:
  description:
    - The stored entries with their seeds (C(serial_number), C(base32_seed), C(created), and C(previous) during a rotation).
    - B(Secret.) Returned only with O(return_seeds=true).
  returned: with O(return_seeds=true)
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice
      base32_seed: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
      created: "2026-11-25T10:00:00+00:00"
"""
