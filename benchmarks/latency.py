"""`make bench-latency`: the collection against boto3 scripts at a realistic latency of AWS's API.

Real IAM answers in 50 to 300 ms. The local endpoint can wait that long before each answer (LocalAWS.slow_down), and
then the time a run spends waiting for AWS, not its CPU, decides. For every measured run a new organisation of member
accounts with IAM users is seeded (not timed), the latency is set, and one of these enrolls every user:

- the sequential boto3 script (benchmarks/boto3_enroll.py): one call after the other;
- the parallel boto3 script (benchmarks/boto3_parallel_enroll.py): accounts in 20 threads, users in 4 threads each;
- the collection: playbooks/enroll.yml with --forks 10 (vault-file delivery, crash-safe, every seed read back).

Each run is checked afterwards (every user has exactly one MFA device). The three run --repeat times (5 by default) in turns; the report
gives the median wall time of each, the ratios, and where the collection's time goes (the wall time of each task, summed
over its hosts' parallel run, and of each step of the enrollment, from benchmarks/callback_plugins/task_times.py).

After each of its enrollments the collection runs on, at the same latency, on the fleet it enrolled (unless
--no-later-runs): enroll.yml again (the scheduled run: changed=0, the same devices), audit.yml (changed=0), rotate.yml
with a maximum age of 0 days (every device replaced) and remove.yml for every user (no device left); each is checked,
and the report gives their median wall time and API calls. It prints Markdown and writes it to
benchmarks/RESULTS-latency.md (or --output). Not part of `make test`, and no test asserts a time.

    .venv/bin/python benchmarks/latency.py [--latency-ms 80] [--accounts 10] [--users 10] [--forks 10] [--repeat 5] [--no-later-runs]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

# pylint: disable=wrong-import-position
from fleet import CallRecord, VerificationError, seed_fleet, user_name, verify_enrolled, verify_removed
from local_aws import LocalAWS
from prerequisites import HERE, OUTPUT, REPO, git_commit, machine, versions
from run import Bench, EnrollSession, progress, recap_changes

CALLBACKS = os.path.join(HERE, "callback_plugins")
T = TypeVar("T")


def script_run(bench: Bench, name: str, script: str, fleet: dict[str, str]) -> float:
    workdir = bench.workdir(name)
    accounts_file = os.path.join(workdir, "accounts.txt")
    with open(accounts_file, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{account_id}\n" for account_id in fleet.values()))
    env = bench.endpoint.environ()
    env["PYTHONPATH"] = HERE
    return bench.execute([sys.executable, os.path.join(HERE, script), accounts_file, workdir], env, os.path.join(workdir, "run.log"))[0]


def collection_run(session: EnrollSession, forks: int) -> tuple[float, dict[str, float]]:
    """enroll.yml on the session's fleet, with the task times recorded: (wall seconds, where the time went)."""
    times = os.path.join(session.workdir, "task-times.json")
    env = dict(session.env, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="task_times", MFA_AWS_TASK_TIMES=times)
    seconds, cpu = session.play(forks, "enroll.log", env=env)
    with open(times, encoding="utf-8") as handle:
        recorded = json.load(handle)
    phases = dict(recorded["tasks"])
    phases["(CPU seconds of the run's processes)"] = cpu
    phases["(steps)"] = recorded["phases"]
    return seconds, phases


def at_latency(bench: Bench, latency_ms: float, run: Callable[[], T]) -> tuple[T, int]:
    """run() with every API call answered after latency_ms: (what it returns, the API calls it made)."""
    bench.endpoint.reset_calls()
    bench.endpoint.slow_down(latency_ms=latency_ms)
    try:
        result = run()
    finally:
        bench.endpoint.slow_down()
    return result, CallRecord.of(bench.endpoint.calls()).total


# The collection's later runs on the fleet it has just enrolled, in this order: step -> (playbook, what is checked).
LATER_RUNS = {
    "enroll.yml again": ("enroll.yml", "changed=0 on every account, the same devices"),
    "audit.yml": ("audit.yml", "changed=0 on every account, the same devices"),
    "rotate.yml": ("rotate.yml", "every device replaced by a new one (`enroll_rotate_max_age_days=0`)"),
    "remove.yml": ("remove.yml", "no MFA device left, virtual or enabled (`enroll_remove_users`: every user)"),
}


def later_extra_vars(playbook: str, users: int, workdir: str) -> dict:
    """The extra vars of a later run: rotate every device, remove every user's."""
    return {
        "audit.yml": {"audit_report_dir": os.path.join(workdir, "audit")},
        "rotate.yml": {"enroll_rotate_max_age_days": 0},
        "remove.yml": {"enroll_remove_users": [user_name(index) for index in range(1, users + 1)]},
    }.get(playbook, {})


def run_later(bench: Bench, session: EnrollSession, args: argparse.Namespace, enrolled: dict) -> dict[str, tuple[float, int]]:
    """The runs of LATER_RUNS on the enrolled fleet at the latency, each checked: step -> (wall seconds, API calls)."""
    measured = {}
    for step, (playbook, _checked) in LATER_RUNS.items():
        log = f"{step.replace(' ', '-')}.log"
        play = functools.partial(session.play, args.forks, log, playbook, later_extra_vars(playbook, args.users, session.workdir))
        (seconds, _cpu), calls = at_latency(bench, args.latency_ms, play)
        changes = recap_changes(os.path.join(session.workdir, log))
        if len(changes) != len(session.fleet):
            raise VerificationError(f"{step}: the recap names {len(changes)} accounts instead of {len(session.fleet)}")
        if playbook == "remove.yml":
            verify_removed(bench.endpoint, session.fleet)
        elif playbook == "rotate.yml":
            rotated = verify_enrolled(bench.endpoint, session.fleet, args.users)
            kept = sorted("/".join(key) for key, serial in rotated.items() if enrolled[key] == serial)
            if kept or not all(changes.values()):
                raise VerificationError(f"rotate.yml left devices as they were: {kept[:5]}, changes {changes}")
        elif any(changes.values()) or verify_enrolled(bench.endpoint, session.fleet, args.users) != enrolled:
            raise VerificationError(f"{step} on the enrolled fleet changed something: {changes}")
        measured[step] = (seconds, calls)
        progress(f"  collection, {step}: {seconds:.1f} s, {calls} API calls")
    return measured


@dataclass
class Measured:
    """One measured run: wall seconds, API calls, and for the collection where its time went and its later runs."""

    seconds: float
    calls: int
    phases: dict[str, float] = field(default_factory=dict)
    later: dict[str, tuple[float, int]] = field(default_factory=dict)


def measure(bench: Bench, variant: str, args: argparse.Namespace, round_number: int) -> Measured:
    """One run of a variant on a new fleet at the latency, checked, and for the collection its later runs."""
    fleet = seed_fleet(bench.endpoint, args.accounts, args.users)
    name = f"{variant}-{round_number}"
    if variant != "collection":
        seconds, calls = at_latency(bench, args.latency_ms, lambda: script_run(bench, name, f"{variant}.py", fleet))
        verify_enrolled(bench.endpoint, fleet, args.users)
        progress(f"  {variant}: {seconds:.1f} s, {calls} API calls")
        return Measured(seconds, calls)
    with bench.enroll_session(name, fleet) as session:
        (seconds, phases), calls = at_latency(bench, args.latency_ms, lambda: collection_run(session, args.forks))
        enrolled = verify_enrolled(bench.endpoint, fleet, args.users)
        progress(f"  {variant}: {seconds:.1f} s, {calls} API calls")
        later = run_later(bench, session, args, enrolled) if args.later_runs else {}
    return Measured(seconds, calls, phases, later)


VARIANTS = {
    "boto3_enroll": "sequential boto3 (`benchmarks/boto3_enroll.py`)",
    "boto3_parallel_enroll": "parallel boto3 (`benchmarks/boto3_parallel_enroll.py`: accounts in 20 threads, users in 4 each)",
    "collection": "the collection (`playbooks/enroll.yml`, --forks {forks})",
}


def later_runs_table(args: argparse.Namespace, runs: list[Measured]) -> list[str]:
    """The table of the collection's later runs on the fleets it enrolled."""
    users = args.accounts * args.users
    lines = [
        "",
        f"## Later runs on the enrolled fleet (the collection, --forks {args.forks}, at the same latency)",
        "",
        "After each enrollment by the collection, these run on its fleet in this order, each checked afterwards: the scheduled",
        "run on a compliant fleet, the read-only audit, the rotation of every device and the removal of every user's devices",
        "and seeds.",
        "",
        "| Run | Wall s (median) | Wall s of each run | API calls | API calls per user | Checked |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for step, (_playbook, checked) in LATER_RUNS.items():
        measured = [run.later[step] for run in runs]
        median = statistics.median(seconds for seconds, _calls in measured)
        calls = measured[0][1]
        lines.append(f"| `{step}` | {median:.1f} | {', '.join(f'{seconds:.1f}' for seconds, _calls in measured)} | {calls} | "
                     f"{calls / users:.1f} | {checked} |")
    return lines


def report(args: argparse.Namespace, results: dict[str, list[Measured]], started_load: float) -> str:
    medians = {variant: statistics.median(run.seconds for run in runs) for variant, runs in results.items()}
    collection_runs = sorted(results["collection"], key=lambda run: run.seconds)
    phases = dict(collection_runs[len(collection_runs) // 2].phases)
    lines = [
        "# mfa.aws at a realistic latency of AWS's API",
        "",
        "Written by `benchmarks/latency.py` (`make bench-latency`).",
        "",
        "|  |  |",
        "| --- | --- |",
        f"| Date | {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} |",
        f"| Commit | `{git_commit()}` |",
        "| Machine | {CPU}, {cores} cores, {memory} memory, {OS} |".format(**machine()),
        f"| Load average (1 min) at the start | {started_load:.2f} |",
        f"| Fleet | {args.accounts} member accounts x {args.users} IAM users, new for every run |",
        f"| Latency | every API call answered after {args.latency_ms:g} ms (the local endpoint, on 127.0.0.1) |",
        f"| Runs | {args.repeat} of each, in turns; medians |",
        "",
        f"Versions: {versions(None)}.",
        "",
        "| Variant | Wall s (median) | Wall s of each run | API calls |",
        "| --- | --- | --- | --- |",
    ]
    for variant, runs in results.items():
        label = VARIANTS[variant].format(forks=args.forks)
        lines.append(f"| {label} | {medians[variant]:.1f} | {', '.join(f'{run.seconds:.1f}' for run in runs)} | {runs[0].calls} |")
    collection = medians["collection"]
    lines += [
        "",
        "| Comparison | Ratio | Target | Met |",
        "| --- | --- | --- | --- |",
        f"| collection ÷ parallel boto3 | {collection / medians['boto3_parallel_enroll']:.2f}× | ≤ 2× (goal 1.5×) | "
        f"{'yes' if collection <= 2 * medians['boto3_parallel_enroll'] else '**no**'} |",
        f"| collection ÷ sequential boto3 | {collection / medians['boto3_enroll']:.2f}× |  |  |",
        f"| sequential ÷ parallel boto3 | {medians['boto3_enroll'] / medians['boto3_parallel_enroll']:.2f}× |  |  |",
        "",
        "Where the collection's time goes (the run with the median time), all hosts at once: the wall time of each step of the",
        "enrollment, in the order they run, then of each task, longest first. The enroll play runs with strategy free, so each",
        "account goes at its own pace: a task's time runs from its start on the first account to the start of the next task on",
        "any account, and the figures of the enroll role's steps are approximate.",
        "",
        "| Step | Wall s |",
        "| --- | --- |",
    ]
    cpu = phases.pop("(CPU seconds of the run's processes)", None)
    steps = phases.pop("(steps)", {})
    lines += [f"| {step} | {seconds:.2f} |" for step, seconds in steps.items()]
    lines += ["", "| Task | Wall s |", "| --- | --- |"]
    for task, seconds in sorted(phases.items(), key=lambda item: -item[1])[:15]:
        lines.append(f"| {task} | {seconds:.2f} |")
    lines.append(f"| (all {len(phases)} tasks) | {sum(phases.values()):.2f} |")
    if cpu is not None:
        lines += ["", f"The run's processes used {cpu:.1f} CPU seconds (ansible-playbook and its workers; the endpoint runs in the "
                  "benchmark's process)."]
    if args.later_runs:
        lines += later_runs_table(args, results["collection"])
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=80)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", default=os.path.join(HERE, "RESULTS-latency.md"))
    parser.add_argument("--later-runs", action=argparse.BooleanOptionalAction, default=True,
                        help="after each enrollment by the collection, run enroll.yml again, audit.yml, rotate.yml and remove.yml on the fleet")
    args = parser.parse_args()
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(REPO, ".venv")):
        print("run the benchmark with the project's virtualenv: make bench-latency (or .venv/bin/python benchmarks/latency.py)", file=sys.stderr)
        return 2
    os.makedirs(OUTPUT, exist_ok=True)
    started_load = os.getloadavg()[0]
    endpoint = LocalAWS().start()
    bench = Bench(endpoint, None)
    results: dict[str, list[Measured]] = {variant: [] for variant in VARIANTS}
    try:
        for round_number in range(1, args.repeat + 1):
            progress(f"round {round_number} of {args.repeat} at {args.latency_ms:g} ms a call")
            for variant in VARIANTS:
                results[variant].append(measure(bench, variant, args, round_number))
        bench.check_no_leaks([OUTPUT])
    finally:
        endpoint.stop()
    text = report(args, results, started_load)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
