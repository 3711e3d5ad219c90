#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: seed_qr_code
short_description: Hand MFA seeds to people as ansible-vault encrypted QR codes for their authenticator apps
version_added: 0.1.0
description:
  - Writes, for each user of O(seeds), the QR code of the C(otpauth://totp/) URI of the user's virtual MFA device as a PNG image,
    and a YAML entry with the URI and the seed grouped for typing by hand, so that the person can add the device to an
    authenticator app.
  - Both files are encrypted with a vault secret of the current run (C(--vault-id), C(--vault-password-file)); the PNG is a
    binary vault payload, so C(ansible-vault decrypt --output alice.png alice.png.vault) gives the image to scan.
  - The files are C(<dir>/<user>.png.vault) and C(<dir>/<user>.yml). Give each account a directory of its own; the directory is
    created with mode C(0700) when missing.
  - The URI is built as P(mfa.aws.otpauth_uri#filter) builds it, with the issuer O(issuer) and the account label
    C(<user>@<account_id>), such as V(alice@123456789012), or with O(account_alias) the alias and the id, such as
    V(alice@payments (123456789012\)).
  - Each file is written to a temporary file in the same directory with the file mode O(mode) and renamed over the old file;
    both are then read back and compared with what was meant to be written.
  - A user whose entry already holds the same serial number, seed, issuer and label, with its PNG readable and both files of mode
    O(mode), is left alone.
  - With neither O(seeds) nor O(remove) it only reads the entries and returns which device each QR code belongs to.
  - Runs entirely on the controller; the seeds never leave it.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
requirements:
  - segno
options:
  dir:
    description:
      - The directory of the files on the controller, one per account. It is created (mode C(0700)) when missing.
      - Every C(<name>.yml) with a C(<name>.png.vault) beside it is taken for an entry of this module.
    type: path
    required: true
  seeds:
    description:
      - The seeds to hand over, by IAM user name. Each is a dictionary with the strings C(serial_number) and C(base32_seed) and,
        optionally, C(created), the shape that M(mfa.aws.seed_vault_file) takes and P(mfa.aws.enrollment_seeds#filter) gives.
      - An entry equal to the stored one (same serial and seed) keeps its C(created) time.
    type: dict
    default: {}
  issuer:
    description:
      - The issuer of the URIs, which authenticator apps show above the account label. It cannot contain C(:).
      - An empty string leaves the issuer out.
    type: str
    default: AWS
  account_id:
    description:
      - The 12-digit id of the AWS account of the devices, part of the account label C(<user>@<account_id>).
      - Required with O(seeds).
    type: str
  account_alias:
    description:
      - The alias of the account. When given, the account labels show it before the account id, such as
        V(alice@payments (123456789012\)), easier for a person to recognise among several accounts.
    type: str
  remove:
    description:
      - User names whose two files are deleted.
      - Users also named in O(seeds) are kept.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    details:
      - Also fails, writing nothing, when the files could not be written (no vault secret for O(vault_id), a directory that cannot
        be created or written).
  diff_mode:
    details:
      - The diff shows the users and the serial numbers of their devices, never a seed or a URI.
notes:
  - A user's files are written again when one of them has another mode than O(mode).
  - The vault secret of the run decrypts every seed it encrypted; never hand it to the people the QR codes are for. Show each
    person their QR code straight from C(ansible-vault decrypt --output -) (see the examples), and keep no decrypted PNG
    file, since a QR code is the seed.
  - Read an entry with M(ansible.builtin.include_vars) and its C(name) option.
seealso:
  - module: mfa.aws.seed_vault_file
  - module: mfa.aws.iam_virtual_mfa
  - plugin: mfa.aws.otpauth_uri
    plugin_type: filter
  - plugin: mfa.aws.totp
    plugin_type: lookup
  - name: Key URI format
    description: The C(otpauth://) URI format of authenticator apps.
    link: https://github.com/google/google-authenticator/wiki/Key-Uri-Format
extends_documentation_fragment: [mfa.aws._attributes, mfa.aws._attributes.CONTROLLER, mfa.aws._vault_files]
"""

EXAMPLES = r"""
- name: Write the QR codes of the devices an enrollment created
  mfa.aws.seed_qr_code:
    dir: "mfa-qr/{{ aws_account_id }}"
    account_id: "{{ aws_account_id }}"
    seeds: "{{ created | mfa.aws.enrollment_seeds(plan) }}"
  no_log: true

- name: Write alice's QR code from the seed file of the account, with the account alias in the label
  mfa.aws.seed_qr_code:
    dir: "mfa-qr/{{ aws_account_id }}"
    account_id: "{{ aws_account_id }}"
    account_alias: payments
    issuer: Amazon Web Services
    seeds:
      alice: "{{ mfa_seeds.alice }}"
  no_log: true

- name: Which users have a QR code, and for which device
  mfa.aws.seed_qr_code:
    dir: "mfa-qr/{{ aws_account_id }}"
  register: qr_codes

- name: Delete bob's files once he has scanned his QR code
  mfa.aws.seed_qr_code:
    dir: "mfa-qr/{{ aws_account_id }}"
    remove: [bob]

# Show alice her QR code without writing it unencrypted anywhere (ImageMagick reads the PNG on standard input):
#   ansible-vault decrypt --output - mfa-qr/123456789012/alice.png.vault | display -
"""

RETURN = r"""
stored:
  description: The serial number of the device of each user whose QR code the directory holds after the task (never the seeds).
  returned: always
  type: dict
  sample:
    alice: arn:aws:iam::123456789012:mfa/alice
entries:
  description: What the directory holds for each user after the task, without the seeds, as M(mfa.aws.seed_vault_file) returns it.
  returned: always
  type: dict
  sample:
    alice:
      serial_number: arn:aws:iam::123456789012:mfa/alice
      created: "2026-11-25T10:00:00+00:00"
      previous_serial_number: null
files:
  description: The two files of each user of RV(stored), C(png) (the encrypted QR code image) and C(entry) (the encrypted YAML entry).
  returned: always
  type: dict
  sample:
    alice:
      png: mfa-qr/123456789012/alice.png.vault
      entry: mfa-qr/123456789012/alice.yml
"""
