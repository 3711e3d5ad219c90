# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it may change in any release.

from __future__ import annotations


class ModuleDocFragment:

    # The options of the seed stores, which mfa.aws.seed_store takes and the plan modules pass on to it as they are
    # (argument spec: STORE_OPTIONS in plugin_utils/_actions.py).
    DOCUMENTATION = r"""
options:
  vault_file:
    description:
      - The encrypted file of the V(vault_file) store (O(mfa.aws.seed_vault_file#module:path)).
    type: path
  vault_id:
    description:
      - The vault id whose secret encrypts the vault file and the QR codes. By default the first secret of the run.
    type: str
  qr_dir:
    description:
      - The directory of the V(qr_png) store (O(mfa.aws.seed_qr_code#module:dir)).
    type: path
  issuer:
    description:
      - The issuer that authenticator apps show for the QR codes.
    type: str
    default: AWS
  secret_prefix:
    description:
      - The name prefix of the secrets and parameters (O(mfa.aws.seed_secret#module:prefix)).
    type: str
    default: mfa-seeds
  kms_key_id:
    description:
      - The KMS key of the secrets and parameters (O(mfa.aws.seed_secret#module:kms_key_id)).
    type: str
  secret_tags:
    description:
      - Tags of the secrets and parameters (O(mfa.aws.seed_secret#module:tags)).
    type: dict
  store_credentials:
    description:
      - Credentials of a central account that holds the secrets and parameters (C(access_key), C(secret_key),
        C(session_token)). By default the connection options of the task apply.
    type: dict
    default: {}
"""
