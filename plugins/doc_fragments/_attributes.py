# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it may change in any release.

# A module extends the fragment of its kind, which says what the attributes mean for it: DOCUMENTATION for the modules
# that write files on the controller and call no AWS API, AWS_WRITES for those that may change AWS resources, AWS_INFO for
# those that only read them. ACTION_GROUP adds the membership of group/mfa.aws.aws, CONTROLLER where the action runs. A
# module gives the support levels its fragments do not give, and its own details.

from __future__ import annotations


class ModuleDocFragment:

    # A module that writes files on the controller and calls no AWS API.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and predict the change without writing any file.
  diff_mode:
    description: Returns what changed (or would change in C(check_mode)) in diff mode, never a secret.
  idempotent:
    description:
      - A second run with the same arguments reports no change, as long as nothing else changed the files since.
"""

    # A module that may change AWS resources: full support of check mode, diff mode and idempotence unless the module says
    # otherwise.
    AWS_WRITES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and predict the change without making any write call to AWS.
    support: full
  diff_mode:
    description: Returns what changed (or would change in C(check_mode)) when in diff mode, never a secret.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode with the same arguments, the second run reports no change.
      - This assumes that nothing else changed the resources in between.
    support: full
"""

    # A module that only reads AWS resources.
    AWS_INFO = r"""
options: {}
attributes:
  check_mode:
    description: Runs in C(check_mode) as in a normal run, since it only reads.
    support: full
  diff_mode:
    description: Returns no diff, since it changes nothing.
    support: N/A
  idempotent:
    description: Changes nothing, so a second run reports no change either.
    support: full
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
    description: Runs on the controller through an action plugin.
  async:
    support: none
    description: Does not support C(async).
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the target host.
"""
