#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: account_lock
short_description: Let one run at a time work on the MFA seeds of an AWS account
version_added: 0.2.0
description:
  - AWS returns the seed of a virtual MFA device only once. Two runs that work on one account at once (a schedule and a person,
    two AWX job templates, a retry started while the first run still runs) could each read the stored seeds, plan from them and write
    them back, and the later write would drop the other run's new seeds for good.
  - This action takes (O(state=present)) or lets go of (O(state=absent)) the account's lock on the controller. A run takes it before it
    reads the account's state and lets go of it once its seeds are stored and its devices enabled, as the P(mfa.aws.enroll#role) role
    does. Another run that wants the lock waits for it, up to O(timeout) seconds, then fails with
    C(another run is working on account ...), naming the process that holds it.
  - The lock is a lease in the file O(path), written under C(fcntl.flock). It names the C(ansible-playbook) process of the run that holds
    it (host, process id and start time), so a run that has ended, even killed, holds nothing any more and the next run takes the lock at
    once. A lease taken on another host (a file system shared between controllers) is honoured for O(stale_after) seconds.
  - M(mfa.aws.seed_vault_file) waits for this lock too when it writes the file whose lock file is O(path) (its own path with C(.lock)
    appended), so a playbook of its own that writes seeds never overwrites those of a run holding the lock.
  - Taking and letting go of the lock is reported as no change. In check mode nothing is taken and no file is created.
  - Runs entirely on the controller.
author:
  - Contributors to the mfa.aws project (@mfa-aws)
options:
  path:
    description:
      - The lock file, created with mode C(0600) (and its directory with C(0700)) when missing.
      - Use the seed file's path with C(.lock) appended, C(<enroll_vault_dir>/<account id>.yml.lock), as the role does, so that
        M(mfa.aws.seed_vault_file) honours the same lock.
    type: path
    required: true
  account_id:
    description:
      - The 12-digit id of the AWS account the lock is for, for the lease and the messages.
    type: str
    required: true
  state:
    description:
      - V(present) takes the lock (waiting for another run to let go of it), V(absent) lets go of it if this run holds it.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - How many seconds to wait for another run to let go of the lock before failing. V(0) tries once.
    type: int
    default: 300
  stale_after:
    description:
      - How many seconds a lease taken on another host is honoured. A lease of this host lasts as long as its run, whatever this says.
    type: int
    default: 3600
  purpose:
    description:
      - What the run does with the account (V(enroll), V(rotate), ...), written into the lease for people who look at it.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    details:
      - Takes no lock and creates no file.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Always reports no change.
  platform:
    platforms: posix
    description: Runs on the controller, whatever the target host; needs C(fcntl.flock).
notes:
  - The lock keeps runs of one controller, or of controllers that share the seed directory, apart. Runs on hosts that share no disk (AWX
    execution nodes with Secrets Manager or SSM stores) are kept apart by the tag that every device created by the
    P(mfa.aws.enroll#role) role carries (C(mfa.aws/run)); no run deletes a device that another live run created and has not stored yet.
seealso:
  - module: mfa.aws.seed_vault_file
extends_documentation_fragment: [mfa.aws._attributes, mfa.aws._attributes.CONTROLLER]
"""

EXAMPLES = r"""
- name: Work on the account alone
  block:
    - name: Take the account's lock (wait up to ten minutes for another run)
      mfa.aws.account_lock:
        path: "mfa-seeds/{{ aws_account_id }}.yml.lock"
        account_id: "{{ aws_account_id }}"
        timeout: 600

    - name: Create, store and enable
      ansible.builtin.debug:
        msg: the steps that read and write the account's seeds
  always:
    - name: Let go of the account's lock
      mfa.aws.account_lock:
        path: "mfa-seeds/{{ aws_account_id }}.yml.lock"
        account_id: "{{ aws_account_id }}"
        state: absent
"""

RETURN = r"""
path:
  description: The lock file.
  returned: always
  type: str
  sample: mfa-seeds/123456789012.yml.lock
account_id:
  description: The account.
  returned: always
  type: str
  sample: "123456789012"
run_id:
  description: The run this task belongs to, C(<host>:<process id>:<process start>), as the lease and the devices' C(mfa.aws/run) tag name it.
  returned: always
  type: str
  sample: controller01:41234:8812734
held:
  description: Whether this run holds the lock after the task.
  returned: with O(state=present)
  type: bool
  sample: true
since:
  description: When this run took the lock (ISO 8601).
  returned: when the lock was taken
  type: str
  sample: "2026-12-04T17:00:00+00:00"
waited:
  description: How many seconds the task waited for another run to let go of the lock.
  returned: always
  type: float
  sample: 2.5
taken_over:
  description: The lease of an ended run that this run replaced, or V(null).
  returned: always
  type: str
  sample: held by process 41001 on controller01 since 2026-12-04T16:00:00+00:00
released:
  description: Whether the task let go of a lock that this run held.
  returned: with O(state=absent)
  type: bool
  sample: true
"""
