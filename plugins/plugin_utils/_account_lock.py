# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lock that lets one ansible-playbook run at a time work on an AWS account's MFA seeds, on the controller.

Private to this collection: the names here may change in any release.

AWS returns a seed once, in the answer that creates the device.  Two runs working on one account at once
would each read the stored seeds, plan from what they read and write the store back: the slower writer's
merge of an older read overwrites the faster one's entries, and a device the other run has just created,
whose seed is not stored yet, looks like a leftover to delete.  Both lose seeds for good.

So a run takes the account's lock before it reads anything, and lets go of it once its seeds are stored and
its devices enabled.  The lock is a lease kept in a small JSON file beside the account's seed file
(``<seed file>.lock``), which names the run that holds it:

* ``fcntl.flock`` on that file makes every read and change of the lease (and every write of the seed file
  beside it) atomic among the processes of this machine, for the few milliseconds they take;
* the lease itself lasts from one task to a later one, whose worker processes come and go: it names the
  ansible-playbook process of the run (host, pid and the process's start time), so a lease whose run has
  ended, killed or not, is taken over at once by the next run; a lease held from another host (a shared
  file system) is taken over once ``stale_after`` seconds have passed since it was taken.

Nothing here holds a secret: a lease names a process, an account and times.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import socket
import time

LOCK_SUFFIX = ".lock"
# How long a lease taken on another host is honoured; a lease of this host lasts as long as its run.
DEFAULT_STALE_AFTER = 3600
# How often a run waiting for a lock looks again.
POLL_SECONDS = 0.25
# How long one flock of the lease file may take before it counts as contention (it is held for milliseconds).
FLOCK_TIMEOUT = 60


class LockError(Exception):
    """The lock cannot be used (its file cannot be created or read); the message names the file and the fix."""


class LockBusy(LockError):
    """Another run holds the lock; the message says which, and what to do."""


def lock_path(seed_file: str) -> str:
    """The lock file of a seed file: beside it, with .lock appended."""
    return seed_file + LOCK_SUFFIX


def _process_start(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (Linux), so that a reused pid is not taken for the run."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def this_run(pid: int | None = None) -> dict:
    """The run a task belongs to: the ansible-playbook process that forked this worker (or pid)."""
    pid = os.getppid() if pid is None else pid
    host = socket.gethostname()
    started = _process_start(pid)
    return {"run": f"{host}:{pid}:{started or 0}", "host": host, "pid": pid, "started": started}


def run_is_alive(holder: dict, now: float | None = None) -> bool:
    """Whether the run that a lease (or a device's claim) names may still be working."""
    now = time.time() if now is None else now
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return now < float(holder.get("expires") or 0)
    if not _pid_alive(holder["pid"]):
        return False
    started = _process_start(holder["pid"])
    return holder.get("started") is None or started is None or started == holder["started"]


def run_of(run_id: str) -> dict:
    """The holder that a run id (``host:pid:start``) names, as run_is_alive() takes it, without an expiry."""
    try:
        host, pid, started = str(run_id).rsplit(":", 2)
        return {"host": host, "pid": int(pid), "started": None if started == "0" else started}
    except ValueError:
        return {"host": None, "pid": None}


def _iso(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).replace(microsecond=0).isoformat()


def describe(holder: dict) -> str:
    """Who holds a lease, for messages: process, host and since when."""
    return f"held by process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


def busy_message(account: str, path: str, holder: dict) -> str:
    return f"another run is working on account {account} (lock {path}, {describe(holder)}): wait for it or run later"


@contextlib.contextmanager
def flocked(path: str, timeout: float = FLOCK_TIMEOUT):
    """The lock file open and flock-ed (exclusive) for the block; created 0600, its directory 0700, when missing."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as e:
        # makedirs says "File exists" when a file stands where a directory of the path should be.
        reason = "Not a directory" if isinstance(e, FileExistsError) else e.strerror
        raise LockError(f"cannot create the lock file {path}: {reason}; choose a path in a directory this run can write") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise LockError(f"cannot lock {path}: {e.strerror}; use a local file system for the seed files") from None
                if time.monotonic() > deadline:
                    raise LockBusy(f"another run keeps {path} locked for more than {timeout:.0f} s: wait for it or run later") from None
                time.sleep(0.02)
        yield fd
    finally:
        os.close(fd)


def read_lease(fd: int) -> dict | None:
    """The lease in an open lock file, None when it is free (empty, released, or not a lease)."""
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    try:
        lease = json.loads(data.decode("utf-8")) if data.strip() else None
    except ValueError:
        return None
    return lease if isinstance(lease, dict) and lease.get("run") else None


def _write_lease(fd: int, lease: dict | None) -> None:
    data = (json.dumps(lease, sort_keys=True) + "\n").encode("utf-8") if lease else b""
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, data)
    os.fsync(fd)


def other_holder(fd: int, run: dict, now: float | None = None) -> dict | None:
    """The lease of another run that may still be working, None when the lock is free, stale or this run's."""
    lease = read_lease(fd)
    if lease is None or lease.get("run") == run["run"] or not run_is_alive(lease, now):
        return None
    return lease


def acquire(path: str, account: str, run: dict, timeout: float, stale_after: float = DEFAULT_STALE_AFTER, purpose: str = "") -> dict:
    """Take the lease for run, waiting up to timeout seconds for another run to let go of it.

    Returns {waited: seconds, taken_over: the stale lease replaced or None, lease: the lease now held}.
    Raises LockBusy naming the holder when the wait is over.
    """
    started = time.monotonic()
    while True:
        with flocked(path) as fd:
            holder = other_holder(fd, run)
            if holder is None:
                previous = read_lease(fd)
                now = time.time()
                lease = dict(run, account=account, purpose=purpose, since=_iso(now), expires=now + stale_after)
                _write_lease(fd, lease)
                stale = previous if previous and previous.get("run") != run["run"] else None
                return {"waited": round(time.monotonic() - started, 3), "taken_over": stale, "lease": lease}
        if time.monotonic() - started >= timeout:
            raise LockBusy(busy_message(account, path, holder))
        time.sleep(POLL_SECONDS)


def release(path: str, run: dict) -> bool:
    """Let go of the lease if run holds it; True when it did.  A missing lock file holds nothing."""
    if not os.path.exists(path):
        return False
    with flocked(path) as fd:
        lease = read_lease(fd)
        if lease is None or lease.get("run") != run["run"]:
            return False
        _write_lease(fd, None)
        return True


@contextlib.contextmanager
def free(path: str, run: dict, timeout: float, account: str = ""):
    """The lock file flock-ed, once no other live run holds its lease (waiting up to timeout seconds).

    What a writer of the seed file beside the lock holds for its read, merge, write and read-back.
    """
    started = time.monotonic()
    while True:
        with flocked(path) as fd:
            holder = other_holder(fd, run)
            if holder is None:
                yield fd
                return
        if time.monotonic() - started >= timeout:
            raise LockBusy(busy_message(account or holder.get("account") or "?", path, holder))
        time.sleep(POLL_SECONDS)
