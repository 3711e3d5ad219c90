"""Docs that cannot lie: every YAML example in README.md and docs/ loads, and is checked by what would read it.

- inventory sources of mfa.aws.accounts (and fragments of one) by the plugin's own option validation;
- playbooks and task lists by ansible-playbook --syntax-check, and the options of each task of this collection (and of
  amazon.aws) against the module's documentation;
- inventories and extra vars by the variables the roles and playbooks know;
- every role variable or fact the text names (enroll_*, account_session_*) is one that exists.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.fleet import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)
BIN = Path(sys.executable).parent
INVENTORY_OPTIONS = Path(__file__).resolve().parent / "helpers" / "inventory_options.py"
# Collections an example may use that the tests do not install: their tasks are loaded as YAML only.
NOT_INSTALLED = ("awx.awx.",)
ROLE_VARIABLE = re.compile(r"\b(?:enroll|account_session)_[a-z0-9_]+\b")
PLAYBOOK_VARIABLE = re.compile(r"\b(?:audit|verify|retire_root_mfa|hardware_token)_[a-z0-9_]+\b|\bmfa_(?:hosts|aws_in_process)\b")


def examples():
    """(doc, line, the example parsed) of every YAML block of the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 2
            found.append((doc.relative_to(REPO).as_posix(), line, yaml.safe_load(match.group(1))))
    return found


EXAMPLES = examples()


def label(example):
    return f"{example[0]}:{example[1]}"


def known_variables():
    """The variables a user may set or read: the roles' options and facts, the playbooks' own, and the inventory's."""
    known = {"aws_account_id", "aws_account_is_management", "aws_account_name", "aws_account_tags", "aws_account_status",
             "aws_account_joined_method"}
    for spec in (REPO / "roles").glob("*/meta/argument_specs.yml"):
        for entry in yaml.safe_load(spec.read_text(encoding="utf-8"))["argument_specs"].values():
            known.update(entry.get("options", {}))
    for path in [*(REPO / "roles").glob("*/tasks/*.yml"), *(REPO / "playbooks").glob("*.yml")]:
        text = path.read_text(encoding="utf-8")
        known.update(ROLE_VARIABLE.findall(text))
        known.update(PLAYBOOK_VARIABLE.findall(text))
    return {name for name in known if not name.startswith("__")}


KNOWN = known_variables()


def kind(parsed):
    if isinstance(parsed, list) and parsed and all(isinstance(item, dict) for item in parsed):
        return "playbook" if any("hosts" in item or "ansible.builtin.import_playbook" in item for item in parsed) else "tasks"
    if isinstance(parsed, dict) and (parsed.get("plugin") == "mfa.aws.accounts" or set(parsed) <= {"compose", "groups", "keyed_groups"}):
        return "inventory source"
    if isinstance(parsed, dict) and all(isinstance(group, dict) and {"hosts", "vars", "children"} & set(group) for group in parsed.values()):
        return "inventory"
    if isinstance(parsed, dict):
        return "extra vars"
    raise AssertionError(f"an example of no known kind: {parsed!r}")


def test_every_example_is_of_a_kind_that_is_checked():
    kinds = [kind(example[2]) for example in EXAMPLES]
    assert {"playbook", "tasks", "inventory source", "inventory", "extra vars"} == set(kinds)


@pytest.mark.contract
def test_inventory_sources_pass_the_plugins_own_option_validation(ansible, tmp_path):
    sources = {}
    for index, example in enumerate(EXAMPLES):
        if kind(example[2]) == "inventory source":
            path = tmp_path / f"source{index}.mfa_accounts.yml"
            path.write_text(yaml.safe_dump({"plugin": "mfa.aws.accounts", **example[2]}), encoding="utf-8")
            sources[str(path)] = label(example)
    checked = subprocess.run([sys.executable, str(INVENTORY_OPTIONS), *sources], env=ansible.env, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    problems = {sources[path]: problem for path, problem in json.loads(checked.stdout).items() if problem}
    assert problems == {}
    assert len(sources) >= 5


def module_options(ansible, names):
    """name -> the option names (and aliases) its documentation gives, from ansible-doc --json."""
    documented = subprocess.run([str(BIN / "ansible-doc"), "-t", "module", "--json", *sorted(names)], env=ansible.env, capture_output=True,
                                text=True, check=False)
    assert documented.returncode == 0, documented.stderr
    options = {}
    for name, page in json.loads(documented.stdout).items():
        accepted = set()
        for option, spec in page["doc"].get("options", {}).items():
            accepted.add(option)
            accepted.update(spec.get("aliases", []))
        options[name] = accepted
    return options


def tasks_of(parsed):
    """Every task of a playbook or task list, blocks included."""
    for item in parsed:
        if "tasks" in item:
            yield from tasks_of(item["tasks"])
        elif "block" in item:
            yield from tasks_of(item["block"] + item.get("rescue", []) + item.get("always", []))
        elif "hosts" not in item:
            yield item


def module_of(task):
    return next((key for key in task if key.startswith(("mfa.aws.", "amazon.aws.", "ansible.builtin.", *NOT_INSTALLED))), None)


@pytest.mark.contract
def test_playbooks_and_tasks_pass_the_syntax_check_and_name_only_documented_options(ansible, tmp_path):
    playbooks, used = [], {}
    for example in EXAMPLES:
        parsed = example[2]
        if kind(parsed) not in ("playbook", "tasks"):
            continue
        for task in tasks_of(parsed):
            module = module_of(task)
            assert module, f"{label(example)}: a task without a module of this collection, amazon.aws or ansible.builtin: {task}"
            if module.startswith(("mfa.aws.", "amazon.aws.")) and isinstance(task[module], dict):
                used.setdefault(module, []).append((label(example), set(task[module])))
        if any(module_of(task).startswith(NOT_INSTALLED) for task in tasks_of(parsed)):
            continue
        if kind(parsed) == "playbook":
            playbooks += parsed
        else:
            playbooks.append({"name": label(example), "hosts": "localhost", "gather_facts": False, "tasks": parsed})
    # One playbook of every example's plays: one syntax check.
    path = tmp_path / "examples.yml"
    path.write_text(yaml.safe_dump(playbooks, sort_keys=False), encoding="utf-8")
    checked = ansible.playbook(path, args=("--syntax-check",))
    assert checked.rc == 0, checked.output

    options = module_options(ansible, used)
    wrong = [f"{where}: {module} has no option {', '.join(sorted(given - options[module]))}"
             for module, uses in used.items() for where, given in uses if given - options[module]]
    assert wrong == []
    assert len(playbooks) >= 8 and "mfa.aws.iam_virtual_mfa" in used


def test_inventories_and_extra_vars_set_only_variables_that_exist():
    unknown = []
    for example in EXAMPLES:
        parsed, what = example[2], kind(example[2])
        if what == "extra vars":
            names = set(parsed)
        elif what == "inventory":
            names = set()
            for group in parsed.values():
                names.update(group.get("vars", {}))
                for host_vars in (group.get("hosts") or {}).values():
                    names.update(host_vars or {})
        else:
            continue
        unknown += [f"{label(example)}: {name}" for name in sorted(names) if not name.startswith("ansible_") and name not in KNOWN]
    assert unknown == []


def test_every_role_variable_the_docs_name_exists():
    unknown = []
    for doc in DOCS:
        for name in sorted(set(ROLE_VARIABLE.findall(doc.read_text(encoding="utf-8")))):
            if name not in KNOWN:
                unknown.append(f"{doc.relative_to(REPO).as_posix()}: {name}")
    assert unknown == []
