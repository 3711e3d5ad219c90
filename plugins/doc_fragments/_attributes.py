# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it may change in any release.

from __future__ import annotations


class ModuleDocFragment:

    # What each attribute means in this collection; every module extends this fragment.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and predict the change without making any write call to AWS.
  diff_mode:
    description: Returns what changed (or would change in C(check_mode)) when in diff mode, never a secret.
  idempotent:
    description:
      - When run twice in a row outside check mode with the same arguments, the second run reports no change.
      - This assumes that nothing else changed the resources in between.
"""

    # A module that may change what it manages: full support of check mode, diff mode and idempotence (a module says
    # otherwise, or adds details, in attributes of its own).
    WRITES = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

    # A module that only reads.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    # A module of the action group group/mfa.aws.aws.
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/mfa.aws.aws) in C(module_defaults) to set the AWS connection options for this module (the group extends
        C(amazon.aws.aws), so it reaches amazon.aws's modules too; C(group/amazon.aws.aws) does not reach this module).
    support: full
    membership:
      - mfa.aws.aws
"""

    # A module whose action runs on the controller.
    CONTROLLER = r"""
options: {}
attributes:
  action:
    support: full
  async:
    support: none
    description: Does not support C(async).
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the target host.
"""
