"""The benchmark's figures, and their Markdown: the report printed and written to RESULTS.md, whose History is kept."""

from __future__ import annotations

import math
import os
import re
import statistics
from dataclasses import dataclass, field

from fleet import CallRecord

NEW_USER_FLOOR = 3          # one read, one create, one enable
COMPLIANT_USER_FLOOR = 1    # one read when there is nothing to do
AUDIT_TARGET = 4            # calls of iam_mfa_info on an account of any size
# playbooks/audit.yml: the audit's calls and one ListVirtualMFADevices, which names the kinds of MFA and predicts what an
# enroll run would do (one ListMFADevices more per user with a hardware token or a passkey: none in this account).
AUDIT_PLAYBOOK_TARGET = AUDIT_TARGET + 1
CLI_TARGET = 3.0            # the collection at 20 forks at least this many times faster than the CLI loop
BOTO3_TARGET = 3.0          # the collection at 20 forks within this many times the boto3 floor
SCALING_TARGET = 1.10       # growth exponent of the wall time with the accounts: linear is 1, plus room for noise

# Keys of the runs.
COLLECTION_20, COLLECTION_1, BOTO3, CLI = "collection@20", "collection@1", "boto3", "cli"
AUDIT_PLAIN, AUDIT_PLAYBOOK, AUDIT_PLAYBOOK_DETAILS = "audit-plain", "audit.yml", "audit.yml-details"

HISTORY_HEADING = "## History"
# A section written by hand (what each speed-up changed, measured before and after), kept from run to run like History.
SPEEDUPS_HEADING = "## Speed-ups"
HISTORY_COLUMNS = (
    "Date", "Commit", "Fleet", "Calls / new user", "Fixed calls / account", "Compliant calls / account (report kept; fresh)",
    "Audit calls (plain; audit.yml)", "Collection@20 s", "Collection@1 s", "boto3 s", "CLI s", "CLI ÷ coll@20", "coll@20 ÷ boto3",
)

HISTORY_INTRO = ("Before/after: one line per run of the benchmark, oldest first (Fleet: accounts \u00d7 users; "
                 "`+changes`: tracked files differed from the commit).")
WALL_NOTES = (
    "The collection's runs include ansible-playbook's start, the account session, the vault-encrypted seed file written "
    "and read back before any device is enabled, and the report. The boto3 floor (`benchmarks/boto3_enroll.py`) reads each "
    "user's devices, creates, writes the seed to a 0600 scratch file and enables, sequentially; it has no crash-safety, no "
    "encryption of the seeds, no idempotence beyond skipping users with a device (a device left unassigned by an earlier run "
    "stops it), no check mode and no report. The CLI loop (`benchmarks/cli_enroll.sh`) starts one `aws` process per call "
    "and two `oathtool` per user, and checks nothing: run twice, it gives every user a second device. "
    "CPU s counts the processes a variant starts, not the endpoint, which runs in the benchmark's own process."
)


@dataclass
class Run:
    """One measured run: what it enrolled or read, how long it took and which calls it made."""

    key: str
    """What ran, e.g. COLLECTION_20, BOTO3, AUDIT_PLAIN."""
    label: str
    accounts: int
    users: int
    """Users per account."""
    seconds: float
    cpu_seconds: float
    """User + system CPU time of the processes it started (the endpoint runs in the benchmark's own process)."""
    calls: CallRecord
    forks: int | None = None

    @property
    def total_users(self) -> int:
        """Users in all the accounts."""
        return self.accounts * self.users


@dataclass
class Results:
    """Everything one benchmark run measured, and where and how it ran."""

    command: str
    date: str
    commit: str
    load: str
    """The load average over one minute when the benchmark started and when it ended: other work on the machine."""
    machine: dict[str, str]
    versions: dict[str, str]
    accounts: int
    users: int
    audit_users: int
    enroll: Run
    """The collection at 20 forks on the fleet: the first enrollment."""
    again_kept: Run
    """enroll.yml a second time, with the credential report of the first run (AWS keeps one for four hours)."""
    again_fresh: Run
    """enroll.yml a second time, with a new credential report."""
    audits: list[Run]
    pairs: list[tuple[Run, Run]]
    """The boto3 floor and then the collection at 20 forks, each on a new fleet, as many times as --repeat says."""
    walls: list[Run]
    """The collection at 1 fork and the CLI loop (when measured), once each."""
    scaling: list[Run] = field(default_factory=list)

    def runs(self, key: str) -> list[Run]:
        """Every wall-time run of that key: several of the boto3 floor and of the collection at 20 forks, one of the others."""
        return [run for pair in self.pairs for run in pair if run.key == key] + [run for run in self.walls if run.key == key]

    def wall(self, key: str) -> Run | None:
        """The wall-time run of that key, if it was measured: of repeated runs, the one with the median time (the lower
        of the two middle ones for an even number)."""
        runs = sorted(self.runs(key), key=lambda run: run.seconds)
        return runs[(len(runs) - 1) // 2] if runs else None

    def pair_ratios(self) -> list[float]:
        """collection@20 ÷ boto3 floor of each pair of interleaved runs."""
        return [collection.seconds / boto.seconds for boto, collection in self.pairs]

    def audit(self, key: str) -> Run | None:
        """The audit run of that key, if it was measured."""
        return next((run for run in self.audits if run.key == key), None)


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _ratio(value: float) -> str:
    return f"{value:.2f}\u00d7"


def _table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _setup(results: Results) -> list[str]:
    machine = results.machine
    lines = ["## Setup", ""]
    lines += _table(("", ""), [
        ["Date", results.date],
        ["Command", f"`{results.command}`"],
        ["Commit", f"`{results.commit}`"],
        ["Machine", f"{machine['CPU']}, {machine['cores']} cores, {machine['memory']} memory, {machine['OS']}"],
        ["Load average (1 min) at the start; at the end", results.load],
        ["Fleet", f"{results.accounts} member accounts \u00d7 {results.users} IAM users, new for every measured run (seeding not timed)"],
        ["Endpoint", "the strict local endpoint (moto server + middleware) on 127.0.0.1, in the benchmark's process"],
    ])
    lines += ["", "Versions: " + ", ".join(f"{name} {version}" for name, version in results.versions.items()) + ".", ""]
    return lines


def _calls(results: Results) -> list[str]:
    enroll, kept, fresh = results.enroll, results.again_kept, results.again_fresh
    users, accounts = enroll.total_users, enroll.accounts
    per_new_user = enroll.calls.per_user / users
    lines = [f"## 1. API calls of `playbooks/enroll.yml` ({accounts} accounts \u00d7 {enroll.users} users)", ""]
    lines += _table(("Figure", "Value", "Floor or target", "Met"), [
        ["Calls per new user (per-user IAM calls ÷ users enrolled)", f"{per_new_user:.2f}",
         f"≤ {NEW_USER_FLOOR} (1 read, 1 create, 1 enable)", _met(per_new_user <= NEW_USER_FLOOR)],
        ["Fixed calls per account, enrolling (STS and account-wide IAM calls)", f"{enroll.calls.fixed / accounts:.2f}", "", ""],
        ["Calls per already-compliant user, run again with the report of the first run (AWS keeps it 4 hours)",
         f"{kept.calls.per_user / users:.2f}", f"≤ {COMPLIANT_USER_FLOOR} read", _met(kept.calls.per_user / users <= COMPLIANT_USER_FLOOR)],
        ["Calls per already-compliant user, run again with a new report", f"{fresh.calls.per_user / users:.2f}",
         f"≤ {COMPLIANT_USER_FLOOR} read", _met(fresh.calls.per_user / users <= COMPLIANT_USER_FLOOR)],
        ["Calls per compliant account, run again (report kept; new report)",
         f"{kept.calls.total / accounts:.2f}; {fresh.calls.total / accounts:.2f}", "", ""],
        ["Wall s at 20 forks: enrolling; run again (report kept; new report)",
         f"{enroll.seconds:.1f}; {kept.seconds:.1f}; {fresh.seconds:.1f}", "", ""],
    ])
    lines += ["", "Every call by action (per account, and per user for the per-user actions):", ""]
    actions = sorted(set(enroll.calls.counts) | set(kept.calls.counts) | set(fresh.calls.counts),
                     key=lambda key: (key[0] != "sts", not enroll.calls.is_per_user(*key), key))
    rows = []
    for service, action in actions:
        per_user = enroll.calls.is_per_user(service, action)
        row = [f"{service}:{action}", "per user" if per_user else "per account"]
        for run in (enroll, kept, fresh):
            count = run.calls.counts.get((service, action), 0)
            row.append(f"{count} ({count / users:.2f}/user)" if per_user else f"{count} ({count / accounts:.2f}/account)")
        rows.append(row)
    rows.append(["**all**", "", str(enroll.calls.total), str(kept.calls.total), str(fresh.calls.total)])
    lines += _table(("Call", "Kind", "Enroll (new users)", "Again, report kept", "Again, new report"), rows)
    return [*lines, ""]


def _audit(results: Results) -> list[str]:
    lines = [f"## 2. Audit of one account with {results.audit_users} users", "",
             "Each way starts with no credential report (AWS answers the first GenerateCredentialReport with STARTED). "
             f"`playbooks/audit.yml` also lists the account's virtual devices, once: that names the kind of every user's MFA "
             f"and predicts what an enroll run would do, hence its target of {AUDIT_PLAYBOOK_TARGET}; a user with a hardware "
             "token or a passkey would add one `ListMFADevices` (the audited users have no MFA).", ""]
    rows = []
    for run in results.audits:
        iam = run.calls.service_total("iam")
        detail = ", ".join(f"{action} {count}" for (service, action), count in sorted(run.calls.counts.items()) if service == "iam")
        # Every device of every user is one ListMFADevices call per user, by request: no target.
        target = {AUDIT_PLAIN: AUDIT_TARGET, AUDIT_PLAYBOOK: AUDIT_PLAYBOOK_TARGET}.get(run.key)
        rows.append([run.label, str(iam), detail, f"{run.seconds:.1f}", f"≤ {target}" if target else "",
                     _met(iam <= target) if target else ""])
    lines += _table(("Way", "IAM calls", "By action", "Wall s", "Target", "Met"), rows)
    return [*lines, ""]


def _walls(results: Results) -> list[str]:
    repeat = len(results.pairs)
    lines = [f"## 3. Wall time to enroll {results.accounts} accounts \u00d7 {results.users} users", ""]
    if repeat > 1:
        lines += [f"The boto3 floor and the collection at 20 forks ran {repeat} times each, in turns (boto3, collection, boto3, ...), "
                  "each on a new fleet: their line shows the run with the median wall time, and every run's time.", ""]
    rows = []
    for key in (BOTO3, COLLECTION_20, COLLECTION_1, CLI):
        run = results.wall(key)
        if run is None:
            continue
        rows.append([
            run.label, "" if run.forks is None else str(run.forks), f"{run.seconds:.1f}",
            ", ".join(f"{each.seconds:.1f}" for each in results.runs(key)), f"{run.seconds / run.accounts:.2f}",
            f"{1000 * run.seconds / run.total_users:.0f}", f"{run.cpu_seconds:.1f}", str(run.calls.total), "yes",
        ])
    lines += _table(("Variant", "Forks", "Wall s (median)", "Wall s of each run", "s / account", "ms / user", "CPU s of its processes",
                     "API calls", "Every user has one device"), rows)
    coll20, coll1 = results.wall(COLLECTION_20), results.wall(COLLECTION_1)
    boto, cli = results.wall(BOTO3), results.wall(CLI)
    ratios = []
    if cli and coll20:
        ratios.append(["CLI loop ÷ collection@20 (times faster than the shell loop)", _ratio(cli.seconds / coll20.seconds),
                       f"≥ {CLI_TARGET:g}\u00d7", _met(cli.seconds / coll20.seconds >= CLI_TARGET)])
    if boto and coll20:
        ratios.append([f"collection@20 ÷ boto3 floor (medians of {repeat} runs each)" if repeat > 1 else "collection@20 ÷ boto3 floor",
                       _ratio(coll20.seconds / boto.seconds), f"≤ {BOTO3_TARGET:g}\u00d7", _met(coll20.seconds / boto.seconds <= BOTO3_TARGET)])
    if repeat > 1:
        pair_ratios = results.pair_ratios()
        ratios.append(["collection@20 ÷ boto3 floor, each pair of runs (lowest, median, highest)",
                       f"{_ratio(min(pair_ratios))}, {_ratio(statistics.median(pair_ratios))}, {_ratio(max(pair_ratios))}", "", ""])
    if boto and coll1:
        ratios.append(["collection@1 ÷ boto3 floor", _ratio(coll1.seconds / boto.seconds), "", ""])
    if coll1 and coll20:
        ratios.append(["collection@1 ÷ collection@20 (what the forks bring)", _ratio(coll1.seconds / coll20.seconds), "", ""])
    lines += ["", *_table(("Comparison", "Ratio", "Target", "Met"), ratios), ""]
    return [*lines, WALL_NOTES, ""]


def growth_exponent(runs: list[Run]) -> float | None:
    """b of time ~ accounts^b, fitted by least squares on the logarithms (1: linear); None with fewer than two sizes."""
    points = [(math.log(run.accounts), math.log(run.seconds)) for run in runs]
    mean_x = sum(x for x, _y in points) / len(points)
    mean_y = sum(y for _x, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else None


def _scaling(results: Results) -> list[str]:
    if not results.scaling:
        return []
    smallest = results.scaling[0]
    lines = [f"## 4. Scaling: the collection at 20 forks, {results.users} users per account", ""]
    rows = []
    for index, run in enumerate(results.scaling):
        step = f"{growth_exponent(results.scaling[index - 1:index + 1]):.2f}" if index else ""
        rows.append([str(run.accounts), str(run.total_users), f"{run.seconds:.1f}", f"{run.seconds / run.accounts:.2f}",
                     _ratio(run.seconds / smallest.seconds), _ratio(run.accounts / smallest.accounts), step])
    lines += _table(("Accounts", "Users", "Wall s", "s / account", "Time vs smallest", "Accounts vs smallest",
                     "Exponent from the size before"), rows)
    exponent = growth_exponent(results.scaling)
    if exponent is not None:
        lines += ["", *_table(("Figure", "Value", "Target", "Met"), [[
            "Growth exponent b of wall time ∝ accounts^b (least squares over all sizes; 1 is linear)",
            f"{exponent:.2f}", f"≤ {SCALING_TARGET:.2f} (linear, with room for noise)", _met(exponent <= SCALING_TARGET),
        ]])]
    if any(run.key == COLLECTION_20 for run in results.scaling):
        lines += ["", f"The {results.accounts}-account line is the enrollment of section 1."]
    return [*lines, ""]


def render(results: Results) -> str:
    """The report, without the History section."""
    lines = ["# mfa.aws enrollment benchmark", "",
             "Written by `benchmarks/run.py` (`make bench`); the History section at the end is kept from run to run.", ""]
    lines += _setup(results) + _calls(results) + _audit(results) + _walls(results) + _scaling(results)
    return "\n".join(lines)


def history_row(results: Results) -> str:
    """The History line of this run: its headline figures."""
    enroll, kept, fresh = results.enroll, results.again_kept, results.again_fresh

    def seconds(key: str) -> str:
        run = results.wall(key)
        return f"{run.seconds:.1f}" if run else "-"

    def audit_calls(key: str) -> str:
        run = results.audit(key)
        return str(run.calls.service_total("iam")) if run else "-"

    coll20, boto, cli = results.wall(COLLECTION_20), results.wall(BOTO3), results.wall(CLI)
    cells = [
        results.date, f"`{results.commit}`", f"{results.accounts}\u00d7{results.users}",
        f"{enroll.calls.per_user / enroll.total_users:.2f}", f"{enroll.calls.fixed / enroll.accounts:.2f}",
        f"{kept.calls.total / kept.accounts:.2f}; {fresh.calls.total / fresh.accounts:.2f}",
        f"{audit_calls(AUDIT_PLAIN)}; {audit_calls(AUDIT_PLAYBOOK)}",
        seconds(COLLECTION_20), seconds(COLLECTION_1), seconds(BOTO3), seconds(CLI),
        _ratio(cli.seconds / coll20.seconds) if cli and coll20 else "-",
        _ratio(coll20.seconds / boto.seconds) if boto and coll20 else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def _section(text: str, heading: str) -> list[str] | None:
    """The lines of a section of a report (its heading included), None when the report has none."""
    match = re.search(rf"^{re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    return [heading, *match.group(1).rstrip().splitlines()] if match else None


def _existing(path: str) -> str:
    if not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def read_history(path: str) -> list[str]:
    """The lines of the History section of an existing report (its heading included), or a new section."""
    return _section(_existing(path), HISTORY_HEADING) or [HISTORY_HEADING, "", HISTORY_INTRO, "", *_table(HISTORY_COLUMNS, [])]


def write(path: str, results: Results) -> str:
    """Write the report with its Speed-ups section (kept as it is) and its History, this run appended; return the
    report without them."""
    body = render(results)
    speedups = _section(_existing(path), SPEEDUPS_HEADING)
    history = [*read_history(path), history_row(results)]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(body + "\n" + ("\n".join(speedups) + "\n\n" if speedups else "") + "\n".join(history) + "\n")
    return body
