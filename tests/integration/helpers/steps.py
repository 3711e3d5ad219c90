"""Run module tasks as the steps of one play and split the endpoint's call log by step.

The rhythm of every behaviour test: check mode, for real, then both again; check mode must make
no IAM write call."""
from __future__ import annotations

import json

from local_aws import is_write

STEPS = (("check", True), ("apply", False), ("check again", True), ("apply again", False))
COUNT_CALLS = "{{ call_counts + [lookup('ansible.builtin.url', calls_url, split_lines=false) | from_json | length] }}"


def iam_calls(calls):
    return [call["action"] for call in calls if call["service"] == "iam"]


def iam_writes(calls):
    return [action for action in iam_calls(calls) if is_write(action)]


def run_steps(ansible, aws, steps, play_vars=None, diff=False):
    """Run the steps, (name, check mode, task), as the tasks of one play; check mode must write nothing.

    Returns the registered result of each step and the API calls it made (counted from the
    endpoint's call log after each task)."""
    tasks = []
    for name, check, task in steps:
        tasks.append({"name": name, **task, "check_mode": check, "diff": diff})
        tasks.append({"name": f"count the calls after {name}", "ansible.builtin.set_fact": {"call_counts": COUNT_CALLS}})
    all_vars = {"call_counts": [0], "calls_url": f"{aws.url}/_local_aws/calls", **(play_vars or {})}
    play = {"hosts": "localhost", "gather_facts": False, "vars": all_vars, "tasks": tasks}
    aws.reset_calls()
    run = ansible.playbook(json.dumps([play]) + "\n")
    assert run.rc == 0, run.output
    by_task = {task["task"]: task["result"] for task in run.task_results}
    counts = by_task[f"count the calls after {steps[-1][0]}"]["ansible_facts"]["call_counts"]
    calls = aws.calls()
    step_calls = [calls[start:end] for start, end in zip(counts, counts[1:])]
    for (name, check, _task), made in zip(steps, step_calls):
        if check:
            assert iam_writes(made) == [], f"{name} wrote"
    return [by_task[name] for name, _check, _task in steps], step_calls


def converge(ansible, aws, module, args, diff=False, steps=STEPS, play_vars=None):
    """The module with args in each step of steps (by default: check, apply, check again, apply again)."""
    return run_steps(ansible, aws, [(name, check, {module: args}) for name, check in steps], play_vars=play_vars, diff=diff)


def changes(results):
    return [result["changed"] for result in results]
