"""`make bench-latency`: the collection against boto3 scripts at a realistic latency of AWS's API.

Real IAM answers in 50 to 300 ms. The local endpoint can wait that long before each answer (LocalAWS.slow_down), and
then the time a run spends waiting for AWS, not its CPU, decides. For every measured run a new organisation of member
accounts with IAM users is seeded (not timed), the latency is set, and one of these enrolls every user:

- the sequential boto3 script (benchmarks/boto3_enroll.py): one call after the other;
- the parallel boto3 script (benchmarks/boto3_parallel_enroll.py): accounts in 20 threads, users in 4 threads each;
- the collection: playbooks/enroll.yml with --forks 10 (vault-file delivery, crash-safe, every seed read back).

Each run is checked afterwards (every user has exactly one MFA device). The three run --repeat times (5 by default) in turns; the report
gives the median wall time of each, the ratios, and where the collection's time goes (the wall time of each task, summed
over its hosts' parallel run, and of each step of the enrollment, from benchmarks/callback_plugins/task_times.py). It prints Markdown and writes it to
benchmarks/RESULTS-latency.md (or --output). Not part of `make test`, and no test asserts a time.

    .venv/bin/python benchmarks/latency.py [--latency-ms 80] [--accounts 10] [--users 10] [--forks 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import UTC, datetime

sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

# pylint: disable=wrong-import-position
import demo  # tools/demo.py
from fleet import CallRecord, seed_fleet, verify_enrolled
from local_aws import LocalAWS
from prerequisites import HERE, OUTPUT, REPO, git_commit, machine, versions
from run import BIN, PLAYBOOKS, Bench, progress

CALLBACKS = os.path.join(HERE, "callback_plugins")


def script_run(bench: Bench, name: str, script: str, fleet: dict[str, str]) -> float:
    workdir = bench.workdir(name)
    accounts_file = os.path.join(workdir, "accounts.txt")
    with open(accounts_file, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{account_id}\n" for account_id in fleet.values()))
    env = bench.endpoint.environ()
    env["PYTHONPATH"] = HERE
    return bench.execute([sys.executable, os.path.join(HERE, script), accounts_file, workdir], env, os.path.join(workdir, "run.log"))[0]


def collection_run(bench: Bench, name: str, fleet: dict[str, str], forks: int) -> tuple[float, dict[str, float]]:
    workdir = bench.workdir(name)
    env = demo.ansible_env(bench.endpoint, workdir)
    times = os.path.join(workdir, "task-times.json")
    env.update(ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="task_times", MFA_AWS_TASK_TIMES=times)
    password = demo.write_vault_password(workdir)
    command = [os.path.join(BIN, "ansible-playbook"), "-i", demo.write_inventory(workdir, fleet), os.path.join(PLAYBOOKS, "enroll.yml"),
               "--vault-password-file", password, "-e", f"enroll_vault_dir={workdir}/mfa-seeds", "--forks", str(forks)]
    seconds, cpu = bench.execute(command, env, os.path.join(workdir, "enroll.log"))
    with open(times, encoding="utf-8") as handle:
        recorded = json.load(handle)
    phases = dict(recorded["tasks"])
    phases["(CPU seconds of the run's processes)"] = cpu
    phases["(steps)"] = recorded["phases"]
    return seconds, phases


def measure(bench: Bench, variant: str, args: argparse.Namespace, round_number: int) -> tuple[float, int, dict[str, float]]:
    """One run of a variant on a new fleet at the latency: (wall seconds, API calls, task times of the collection)."""
    fleet = seed_fleet(bench.endpoint, args.accounts, args.users)
    bench.endpoint.slow_down(latency_ms=args.latency_ms)
    bench.endpoint.reset_calls()
    name = f"{variant}-{round_number}"
    phases: dict[str, float] = {}
    if variant == "collection":
        seconds, phases = collection_run(bench, name, fleet, args.forks)
    else:
        seconds = script_run(bench, name, f"{variant}.py", fleet)
    calls = CallRecord.of(bench.endpoint.calls()).total
    bench.endpoint.slow_down()
    verify_enrolled(bench.endpoint, fleet, args.users)
    progress(f"  {variant}: {seconds:.1f} s, {calls} API calls")
    return seconds, calls, phases


VARIANTS = {
    "boto3_enroll": "sequential boto3 (`benchmarks/boto3_enroll.py`)",
    "boto3_parallel_enroll": "parallel boto3 (`benchmarks/boto3_parallel_enroll.py`: accounts in 20 threads, users in 4 each)",
    "collection": "the collection (`playbooks/enroll.yml`, --forks {forks})",
}


def report(args, results, phases, started_load) -> str:
    medians = {variant: statistics.median(seconds for seconds, _calls in runs) for variant, runs in results.items()}
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
        lines.append(f"| {label} | {medians[variant]:.1f} | {', '.join(f'{run[0]:.1f}' for run in runs)} | {runs[0][1]} |")
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
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=80)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", default=os.path.join(HERE, "RESULTS-latency.md"))
    args = parser.parse_args()
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(REPO, ".venv")):
        print("run the benchmark with the project's virtualenv: make bench-latency (or .venv/bin/python benchmarks/latency.py)", file=sys.stderr)
        return 2
    os.makedirs(OUTPUT, exist_ok=True)
    started_load = os.getloadavg()[0]
    endpoint = LocalAWS().start()
    bench = Bench(endpoint, None)
    results: dict[str, list[tuple[float, int]]] = {variant: [] for variant in VARIANTS}
    collection_phases: list[tuple[float, dict[str, float]]] = []
    try:
        for round_number in range(1, args.repeat + 1):
            progress(f"round {round_number} of {args.repeat} at {args.latency_ms:g} ms a call")
            for variant in VARIANTS:
                seconds, calls, phases = measure(bench, variant, args, round_number)
                results[variant].append((seconds, calls))
                if variant == "collection":
                    collection_phases.append((seconds, phases))
        bench.check_no_leaks([OUTPUT])
    finally:
        endpoint.stop()
    median_phases = sorted(collection_phases, key=lambda item: item[0])[len(collection_phases) // 2][1]
    text = report(args, results, median_phases, started_load)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
