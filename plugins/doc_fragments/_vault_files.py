# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it may change in any release.

from __future__ import annotations


class ModuleDocFragment:

    # The options, attributes and notes of the modules that write ansible-vault encrypted files of seeds on the controller.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - Run the task with C(no_log=true) when it receives seeds, as the examples do.
options:
  vault_id:
    description:
      - The vault id whose secret encrypts the files written. By default the first secret of the run, as C(ansible-vault encrypt) does.
      - Any secret of the run can decrypt the existing files.
    type: str
  mode:
    description:
      - Octal file mode of the written files. No access for others is allowed.
    type: str
    default: "0600"
  check_writable:
    description:
      - Also fail, without writing anything, when no file could be written now (no vault secret for O(vault_id), or a
        directory that cannot be created or written).
      - Lets a play stop before it creates a device whose seed it could not deliver.
    type: bool
    default: false
"""
