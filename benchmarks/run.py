"""`make bench`: how fast, and with how few API calls, mfa.aws enrolls a fleet of AWS accounts in MFA.

Starts the strict local AWS endpoint (moto in server mode behind the project's middleware) on 127.0.0.1 in this
process. For every measured run it resets the endpoint and seeds a new AWS Organization of member accounts with IAM
users (not timed), then measures, side by side:

1. the API calls of playbooks/enroll.yml per new user and per account, and per already-compliant user (a second run);
2. the calls of mfa.aws.iam_mfa_info auditing one account with 1,000 users;
3. the wall time to enroll the fleet with the collection (1 and 20 forks), a plain boto3 script and a shell loop
   around the AWS CLI and oathtool, each checked afterwards: every user has exactly one MFA device;
4. how the collection's wall time grows with the number of accounts.

Prints the report as Markdown and writes it to benchmarks/RESULTS.md, keeping that file's History section and adding
a line to it. Scratch files live in benchmarks/output/runs/; seeds and credentials never reach a log or the report
(checked at the end against every seed and credential the endpoint handed out).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

# tests/local_aws (the endpoint) and tools/demo.py, beside the benchmark's own modules.
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

# pylint: disable=wrong-import-position
import demo  # tools/demo.py: the environment, the inventory and the vault secret of Ansible runs
import report
from fleet import CallRecord, VerificationError, create_users, seed_fleet, verify_enrolled
from local_aws import LocalAWS
from moto.core import DEFAULT_ACCOUNT_ID
from prerequisites import HERE, OUTPUT, REPO, SetupError, ensure_aws_cli, ensure_oathtool, git_commit, machine, versions
from report import Results, Run

RUNS = os.path.join(OUTPUT, "runs")
BIN = os.path.dirname(sys.executable)
PLAYBOOKS = os.path.join(REPO, "playbooks")
FORKS = 20
MIN_SECRET_LENGTH = 16  # seeds, access key ids, secret keys and session tokens are longer; shorter values are no secrets
COLLECTION_LABEL = "collection: `ansible-playbook playbooks/enroll.yml`"
STARTED = time.monotonic()
LOAD_AT_START = os.getloadavg()[0]
DATE = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


class RunError(RuntimeError):
    """A measured command failed."""


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries the report), with the time since the start."""
    elapsed = int(time.monotonic() - STARTED)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def children_cpu() -> float:
    """User + system CPU seconds of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def recap_changes(log_path: str) -> dict[str, int]:
    """changed= of every host in the PLAY RECAP of an ansible-playbook log."""
    with open(log_path, encoding="utf-8") as handle:
        recap = handle.read().rpartition("PLAY RECAP")[2]
    changes = {}
    for line in recap.splitlines():
        if " : " not in line:
            continue
        host, counters = line.split(" : ", 1)
        fields = dict(pair.split("=", 1) for pair in counters.split() if "=" in pair)
        if "changed" in fields:
            changes[host.strip()] = int(fields["changed"])
    return changes


class EnrollSession:
    """playbooks/enroll.yml on one fleet, with an inventory, a random vault secret and a seed directory of its own."""

    def __init__(self, bench: Bench, workdir: str, fleet: dict[str, str]) -> None:
        self.bench = bench
        self.workdir = workdir
        self.fleet = fleet
        self.password = demo.write_vault_password(workdir)
        self.seeds = os.path.join(workdir, "mfa-seeds")
        self.env = demo.ansible_env(bench.endpoint, workdir)
        self.inventory = demo.write_inventory(workdir, fleet)

    def play(self, forks: int, log_name: str, playbook: str = "enroll.yml", extra_vars: dict | None = None,
             env: dict[str, str] | None = None) -> tuple[float, float]:
        """Run a playbook of playbooks/ (enroll.yml by default) with the session's inventory, vault secret and seed
        directory and that many forks, its output in workdir/log_name: (wall seconds, CPU seconds)."""
        command = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, os.path.join(PLAYBOOKS, playbook),
                   "--vault-password-file", self.password, "-e", f"enroll_vault_dir={self.seeds}", "--forks", str(forks)]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        return self.bench.execute(command, env or self.env, os.path.join(self.workdir, log_name))

    def close(self) -> None:
        """Delete the vault secret and the seed files."""
        os.remove(self.password)
        shutil.rmtree(self.seeds, ignore_errors=True)


class Bench:
    """The endpoint and the measured runs against it."""

    def __init__(self, endpoint: LocalAWS, cli_bin: str | None) -> None:
        self.endpoint = endpoint
        self.cli_bin = cli_bin

    @staticmethod
    def workdir(name: str) -> str:
        """A new scratch directory of one run, readable by its owner only (name-2, name-3... for a repeated run)."""
        path, number = os.path.join(RUNS, name), 1
        while os.path.exists(path):
            number += 1
            path = os.path.join(RUNS, f"{name}-{number}")
        os.makedirs(path, mode=0o700)
        return path

    @staticmethod
    def execute(command: list[str], env: dict[str, str], log_path: str) -> tuple[float, float]:
        """Run a command with its output in a log file: (wall seconds, CPU seconds of its processes); RunError if it fails."""
        cpu = children_cpu()
        started = time.monotonic()
        with open(log_path, "w", encoding="utf-8") as log:
            returncode = subprocess.run(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
        seconds = time.monotonic() - started
        if returncode:
            with open(log_path, encoding="utf-8", errors="replace") as log:
                tail = "".join(log.readlines()[-15:])
            raise RunError(f"{shlex.join(os.path.basename(part) for part in command[:2])} failed (exit {returncode}), "
                           f"log {os.path.relpath(log_path, REPO)}:\n{tail}")
        return seconds, children_cpu() - cpu

    def measure(self, key: str, label: str, fleet: dict[str, str], users: int, action: Callable[[], tuple[float, float]],
                forks: int | None = None) -> Run:
        """Run `action` on the fleet, take the calls it made, and check that every user has exactly one MFA device."""
        self.endpoint.reset_calls()
        seconds, cpu = action()
        calls = CallRecord.of(self.endpoint.calls())
        verify_enrolled(self.endpoint, fleet, users)
        progress(f"  {key}: {seconds:.1f} s, {calls.total} API calls")
        return Run(key, label, len(fleet), users, seconds, cpu, calls, forks)

    @contextlib.contextmanager
    def enroll_session(self, name: str, fleet: dict[str, str]) -> Iterator[EnrollSession]:
        """A session of enroll.yml runs on the fleet; its vault secret and seed files are deleted afterwards."""
        session = EnrollSession(self, self.workdir(name), fleet)
        try:
            yield session
        finally:
            session.close()

    def collection(self, key: str, accounts: int, users: int, forks: int) -> Run:
        """The collection enrolling a new fleet."""
        fleet = seed_fleet(self.endpoint, accounts, users)
        with self.enroll_session(f"{key}-{accounts}x{users}", fleet) as session:
            return self.measure(key, COLLECTION_LABEL, fleet, users, lambda: session.play(forks, "enroll.log"), forks)

    def calls_and_again(self, accounts: int, users: int) -> tuple[Run, Run, Run]:
        """The collection at 20 forks enrolling a new fleet, then run again twice on the compliant fleet: with the credential
        report of the first run (as AWS keeps it for four hours), and with a new report. Each run again must change nothing."""
        fleet = seed_fleet(self.endpoint, accounts, users)
        with self.enroll_session(f"enroll-{accounts}x{users}", fleet) as session:
            enroll = self.measure(report.COLLECTION_20, COLLECTION_LABEL, fleet, users, lambda: session.play(FORKS, "enroll.log"), FORKS)
            kept = self.again(session, users, "again-report-kept")
            self.endpoint.keep_credential_reports(0)
            fresh = self.again(session, users, "again-new-report")
        return enroll, kept, fresh

    def again(self, session: EnrollSession, users: int, name: str) -> Run:
        """enroll.yml on a compliant fleet: it must report changed=0 for every account."""
        run = self.measure(name, name, session.fleet, users, lambda: session.play(FORKS, f"{name}.log"), FORKS)
        changes = recap_changes(os.path.join(session.workdir, f"{name}.log"))
        if len(changes) != len(session.fleet) or any(changes.values()):
            raise VerificationError(f"enroll.yml on a compliant fleet changed something: {changes}")
        return run

    def script(self, key: str, label: str, accounts: int, users: int, command: list[str], env: dict[str, str]) -> Run:
        """A script enrolling a new fleet: `command` + [accounts file, scratch dir]."""
        fleet = seed_fleet(self.endpoint, accounts, users)
        workdir = self.workdir(f"{key}-{accounts}x{users}")
        accounts_file = os.path.join(workdir, "accounts.txt")
        with open(accounts_file, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{account_id}\n" for account_id in fleet.values()))
        log = os.path.join(workdir, f"{key}.log")
        return self.measure(key, label, fleet, users, lambda: self.execute([*command, accounts_file, workdir], env, log), 1)

    def boto3_floor(self, accounts: int, users: int) -> Run:
        """benchmarks/boto3_enroll.py enrolling a new fleet."""
        return self.script(report.BOTO3, "(a) boto3 floor: `benchmarks/boto3_enroll.py`", accounts, users,
                           [sys.executable, os.path.join(HERE, "boto3_enroll.py")], self.endpoint.environ())

    def cli_loop(self, accounts: int, users: int) -> Run:
        """benchmarks/cli_enroll.sh (AWS CLI + oathtool) enrolling a new fleet."""
        env = self.endpoint.environ()
        env["PATH"] = str(self.cli_bin) + os.pathsep + env.get("PATH", "")
        return self.script(report.CLI, "(b) shell loop: `benchmarks/cli_enroll.sh` (AWS CLI + oathtool)", accounts, users,
                           ["bash", os.path.join(HERE, "cli_enroll.sh")], env)

    def audits(self, users: int) -> list[Run]:
        """mfa.aws.iam_mfa_info on one account of `users` users, plain and through playbooks/audit.yml, each from no report."""
        plain = [os.path.join(BIN, "ansible"), "localhost", "-m", "mfa.aws.iam_mfa_info"]
        ways = [
            (report.AUDIT_PLAIN, "`mfa.aws.iam_mfa_info` with no options (ad-hoc)", None),
            (report.AUDIT_PLAYBOOK, "`playbooks/audit.yml` as it is (`device_kinds: true`, `virtual_devices: true`)", []),
            (report.AUDIT_PLAYBOOK_DETAILS, "`playbooks/audit.yml -e audit_details=true` (every device of every user)",
             ["-e", "audit_details=true"]),
        ]
        runs = []
        for key, label, playbook_options in ways:
            self.endpoint.reset()
            create_users(self.endpoint, users)
            workdir = self.workdir(f"{key}-{users}")
            command = plain
            if playbook_options is not None:
                # The endpoint's credentials act as its default account: no role to assume.
                inventory = demo.write_inventory(workdir, {"audited": DEFAULT_ACCOUNT_ID})
                command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(PLAYBOOKS, "audit.yml"),
                           "-e", f"audit_report_dir={workdir}/reports", "-e", '{"account_session_assume_role": false}', *playbook_options]
            self.endpoint.reset_calls()
            seconds, cpu = self.execute(command, demo.ansible_env(self.endpoint, workdir), os.path.join(workdir, f"{key}.log"))
            calls = CallRecord.of(self.endpoint.calls())
            progress(f"  {key}: {calls.service_total('iam')} IAM calls, {seconds:.1f} s")
            runs.append(Run(key, label, 1, users, seconds, cpu, calls))
        return runs

    def check_no_leaks(self, paths: list[str]) -> None:
        """No file under `paths` holds a seed or a temporary credential the endpoint handed out."""
        secrets = {value.encode() for value in self.endpoint.issued_seeds() + self.endpoint.issued_credentials() if len(value) >= MIN_SECRET_LENGTH}
        files = []
        for path in paths:
            if os.path.isfile(path):
                files.append(path)
            for root, _dirs, names in os.walk(path):
                files += [os.path.join(root, name) for name in names]
        for path in files:
            with open(path, "rb") as handle:
                content = handle.read()
            if any(secret in content for secret in secrets):
                raise VerificationError(f"{os.path.relpath(path, REPO)} holds a seed or credential the endpoint issued")


def parse_args() -> argparse.Namespace:
    """The options; --quick fills in what is not given with a small fleet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, help="member accounts of the fleet (default 20; --quick 5)")
    parser.add_argument("--users", type=int, help="IAM users per account (default 10; --quick 5)")
    parser.add_argument("--scaling", help="fleet sizes of the scaling runs, comma-separated (default 5,20,80; --quick 2,5)")
    parser.add_argument("--audit-users", type=int, help="users of the audited account (default 1000; --quick 100)")
    parser.add_argument("--skip-cli", action="store_true", help="leave out the AWS CLI loop (needs neither awscli nor oathtool)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: 5 accounts x 5 users, scaling 2,5, 100 audited users")
    parser.add_argument("--repeat", type=int, help="interleaved runs of the boto3 floor and the collection at 20 forks, whose medians "
                        "give the ratio (default 3; --quick 1)")
    parser.add_argument("--output", help="the report (default benchmarks/RESULTS.md; --quick benchmarks/output/RESULTS-quick.md)")
    args = parser.parse_args()
    quick = args.quick
    args.accounts = args.accounts or (5 if quick else 20)
    args.users = args.users or (5 if quick else 10)
    args.audit_users = args.audit_users or (100 if quick else 1000)
    args.repeat = args.repeat or (1 if quick else 3)
    try:
        args.scaling = sorted({int(size) for size in (args.scaling or ("2,5" if quick else "5,20,80")).split(",") if size.strip()})
    except ValueError:
        parser.error("--scaling takes comma-separated numbers of accounts, e.g. 5,20,80")
    if min([args.accounts, args.users, args.audit_users, args.repeat, *args.scaling]) < 1:
        parser.error("accounts, users, fleet sizes and repeats must be 1 or more")
    args.output = os.path.abspath(args.output or os.path.join(OUTPUT if quick else HERE, "RESULTS-quick.md" if quick else "RESULTS.md"))
    return args


def run(args: argparse.Namespace, bench: Bench) -> Results:
    """Every measurement, in order."""
    accounts, users = args.accounts, args.users
    progress(f"1. API calls: enroll {accounts} accounts x {users} users at {FORKS} forks, then run again twice")
    enroll, kept, fresh = bench.calls_and_again(accounts, users)
    progress(f"2. audit of one account with {args.audit_users} users")
    audits = bench.audits(args.audit_users)
    progress(f"3. wall time to enroll {accounts} x {users}: {args.repeat} interleaved runs of the boto3 floor and the collection "
             f"at {FORKS} forks, then the collection at 1 fork" + (" and the CLI loop" if bench.cli_bin is not None else ""))
    # Pairs, one after the other, so that the machine's drift (other work, its clock) weighs on both sides alike.
    pairs = [(bench.boto3_floor(accounts, users), bench.collection(report.COLLECTION_20, accounts, users, FORKS)) for _pair in range(args.repeat)]
    walls = [bench.collection(report.COLLECTION_1, accounts, users, 1)]
    if bench.cli_bin is not None:
        walls.append(bench.cli_loop(accounts, users))
    progress(f"4. scaling at {FORKS} forks: {', '.join(map(str, args.scaling))} accounts x {users} users")
    scaling = [enroll if size == accounts else bench.collection(f"scale-{size}", size, users, FORKS) for size in args.scaling]
    load = f"{LOAD_AT_START:.2f}; {os.getloadavg()[0]:.2f}"
    command = shlex.join([os.path.relpath(sys.executable, REPO), os.path.relpath(__file__, REPO), *sys.argv[1:]])
    return Results(
        command=command, date=DATE, commit=git_commit(), load=load, machine=machine(),
        versions=versions(bench.cli_bin), accounts=accounts, users=users, audit_users=args.audit_users,
        enroll=enroll, again_kept=kept, again_fresh=fresh, audits=audits, pairs=pairs, walls=walls, scaling=scaling,
    )


def main() -> int:
    """Install what is missing, measure, report."""
    args = parse_args()
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(REPO, ".venv")):
        print("run the benchmark with the project's virtualenv: make bench (or .venv/bin/python benchmarks/run.py)", file=sys.stderr)
        return 2
    os.makedirs(OUTPUT, exist_ok=True)
    shutil.rmtree(RUNS, ignore_errors=True)
    os.makedirs(RUNS, mode=0o700)
    cli_bin = None
    if not args.skip_cli:
        setup_log = os.path.join(OUTPUT, "setup.log")
        try:
            ensure_oathtool(setup_log)
            cli_bin = ensure_aws_cli(setup_log)
        except SetupError as error:
            print(f"cannot measure the AWS CLI loop: {error}", file=sys.stderr)
            return 2

    endpoint = LocalAWS().start()
    try:
        progress(f"local AWS endpoint at {endpoint.url}; scratch files in {os.path.relpath(RUNS, REPO)}")
        bench = Bench(endpoint, cli_bin)
        results = run(args, bench)
        body = report.write(args.output, results)
        bench.check_no_leaks([RUNS, args.output])
    except (RunError, VerificationError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        endpoint.stop()
    print(body)
    progress(f"report written to {os.path.relpath(args.output, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
