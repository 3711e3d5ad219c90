# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account lock: a lease that names the ansible-playbook process of a run, changed under flock."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time

import pytest

from ansible_collections.mfa.aws.plugins.plugin_utils import _account_lock

ACCOUNT = "123456789012"


@pytest.fixture(name="path")
def fixture_path(tmp_path):
    return str(tmp_path / "seeds" / f"{ACCOUNT}.yml.lock")


def me():
    return _account_lock.this_run(pid=os.getpid())


def ended_run():
    """A run of this host whose process does not exist."""
    return {"run": f"{socket.gethostname()}:{2 ** 22 + 11}:5", "host": socket.gethostname(), "pid": 2 ** 22 + 11, "started": "5"}


def write_lease(path, lease):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(lease, handle)


def test_this_run_is_the_process_that_forked_the_worker():
    run = _account_lock.this_run()
    assert run["pid"] == os.getppid() and run["host"] == socket.gethostname()
    assert run["run"] == f"{run['host']}:{run['pid']}:{run['started'] or 0}"
    assert _account_lock.run_of(run["run"]) == {"host": run["host"], "pid": run["pid"], "started": run["started"]}
    assert _account_lock.run_of("not a run id") == {"host": None, "pid": None}


def test_a_lease_is_taken_kept_by_its_run_and_let_go_of(path):
    taken = _account_lock.acquire(path, ACCOUNT, me(), timeout=0, purpose="enroll")
    assert taken["taken_over"] is None and taken["waited"] < 1
    assert oct(os.stat(path).st_mode & 0o777) == "0o600" and oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    with open(path, encoding="utf-8") as handle:
        lease = json.load(handle)
    assert lease["run"] == me()["run"] and lease["account"] == ACCOUNT and lease["purpose"] == "enroll"
    # The same run takes it again at once (a later play of the run); another run does not.
    assert _account_lock.acquire(path, ACCOUNT, me(), timeout=0)["taken_over"] is None
    other = dict(me(), run="elsewhere:1:1", host="elsewhere")
    assert _account_lock.release(path, other) is False
    assert _account_lock.release(path, me()) is True
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == ""
    assert _account_lock.release(path, me()) is False
    assert _account_lock.release(path + ".missing", me()) is False


def test_a_live_run_keeps_the_lock_and_the_message_names_it(path):
    _account_lock.acquire(path, ACCOUNT, me(), timeout=0)
    waiter = dict(ended_run(), run="another:2:2")
    started = time.monotonic()
    with pytest.raises(_account_lock.LockBusy) as raised:
        _account_lock.acquire(path, ACCOUNT, waiter, timeout=0.6)
    assert 0.5 <= time.monotonic() - started < 5
    message = str(raised.value)
    assert message.startswith(f"another run is working on account {ACCOUNT} (lock {path}, held by process {os.getpid()} on {socket.gethostname()} since ")
    assert message.endswith("): wait for it or run later") and "\n" not in message


def test_the_lease_of_a_run_that_has_ended_is_taken_over_at_once(path):
    write_lease(path, dict(ended_run(), account=ACCOUNT, since="2026-01-01T00:00:00+00:00", expires=time.time() + 3600))
    taken = _account_lock.acquire(path, ACCOUNT, me(), timeout=0)
    assert taken["taken_over"]["pid"] == ended_run()["pid"]
    assert _account_lock.describe(taken["taken_over"]) == f"held by process {ended_run()['pid']} on {socket.gethostname()} since 2026-01-01T00:00:00+00:00"


def test_a_reused_process_id_does_not_keep_the_lock(path):
    # This process, but started at another time: the run that took the lease has ended, and its pid was given to another process.
    write_lease(path, dict(me(), run="reused", started="1", account=ACCOUNT, since="x", expires=time.time() + 3600))
    assert _account_lock.acquire(path, ACCOUNT, me(), timeout=0)["taken_over"]["run"] == "reused"


def test_a_lease_of_another_host_is_honoured_until_it_is_stale(path):
    remote = {"run": "controller-2:77:7", "host": "controller-2", "pid": 77, "started": "7"}
    write_lease(path, dict(remote, account=ACCOUNT, since="x", expires=time.time() + 60))
    with pytest.raises(_account_lock.LockBusy, match="held by process 77 on controller-2"):
        _account_lock.acquire(path, ACCOUNT, me(), timeout=0)
    write_lease(path, dict(remote, account=ACCOUNT, since="x", expires=time.time() - 1))
    assert _account_lock.acquire(path, ACCOUNT, me(), timeout=0)["taken_over"]["host"] == "controller-2"


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"no": "run"}'])
def test_a_file_without_a_lease_is_free(path, content):
    write_lease(path, None)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
    assert _account_lock.acquire(path, ACCOUNT, me(), timeout=0)["taken_over"] is None


def test_a_lock_file_that_cannot_be_created_names_the_fix(tmp_path):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(_account_lock.LockError) as raised:
        _account_lock.acquire(str(tmp_path / "a-file" / "x.yml.lock"), ACCOUNT, me(), timeout=0)
    assert str(raised.value).endswith("x.yml.lock: Not a directory; choose a path in a directory this run can write")


def test_a_writer_waits_while_another_run_holds_the_lease(path):
    _account_lock.acquire(path, ACCOUNT, me(), timeout=0)
    with _account_lock.free(path, me(), timeout=0):
        pass  # the holder itself writes at once
    with pytest.raises(_account_lock.LockBusy, match=f"another run is working on account {ACCOUNT}"):
        with _account_lock.free(path, dict(ended_run(), run="writer:3:3"), timeout=0.3):
            pass
    _account_lock.release(path, me())
    with _account_lock.free(path, dict(ended_run(), run="writer:3:3"), timeout=0):
        pass


def _count(path, counter, rounds):
    """A run of its own (this process): take the lease, read-modify-write the counter, let go; a writer in between."""
    run = _account_lock.this_run(pid=os.getpid())
    for _round in range(rounds):
        _account_lock.acquire(path, ACCOUNT, run, timeout=60)
        with open(counter, encoding="utf-8") as handle:
            value = int(handle.read())
        time.sleep(0.001)
        with open(counter, "w", encoding="utf-8") as handle:
            handle.write(str(value + 1))
        _account_lock.release(path, run)
        with _account_lock.free(path, run, timeout=60):
            with open(counter, encoding="utf-8") as handle:
                value = int(handle.read())
            with open(counter, "w", encoding="utf-8") as handle:
                handle.write(str(value + 1))


def test_processes_that_take_turns_lose_no_update(path, tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0", encoding="utf-8")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(path, str(counter), 15)) for _worker in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    assert counter.read_text(encoding="utf-8") == str(6 * 15 * 2)
