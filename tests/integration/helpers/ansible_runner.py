"""Run ansible-playbook in a subprocess against the local AWS endpoint, with a clean environment."""
from __future__ import annotations

import ast
import itertools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from local_aws import LocalAWS

CALLBACK_DIR = Path(__file__).resolve().parent.parent / "callback_plugins"


def collections_path(repo: Path) -> str:
    """Where ansible-playbook finds mfa.aws and amazon.aws: the checkout's venv (mfa.aws linked to the working tree), or
    MFA_AWS_TEST_COLLECTIONS, where the support matrix installs the built tarball beside the amazon.aws of each core."""
    return os.environ.get("MFA_AWS_TEST_COLLECTIONS") or str(repo / ".venv" / "collections")


MODULE_TASK = "module under test"

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$", re.MULTILINE)


@dataclass
class Result:
    """The outcome of one ansible-playbook run."""

    rc: int
    output: str
    """stdout followed by stderr."""
    recap: dict[str, dict[str, int]]
    """PLAY RECAP per host: {"ok": 2, "changed": 0, "unreachable": 0, "failed": 0, ...}."""
    task_results: list[dict[str, Any]] = field(default_factory=list)
    """Every task result in order: {"task", "host", "status", "result"} (no_log results censored)."""
    result: dict[str, Any] | None = None
    """module(): the registered result of the module's task."""


def documented_example(repo: Path, module: str, index: int = 0) -> str:
    """The example at index of the EXAMPLES of the collection's module, as a play on localhost: a test that runs it runs
    what the module's documentation shows."""
    source = (repo / "plugins" / "modules" / f"{module}.py").read_text(encoding="utf-8")
    examples = next(node.value.value for node in ast.parse(source).body
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES")
    task = yaml.safe_load(examples)[index]
    return yaml.safe_dump([{"name": task["name"], "hosts": "localhost", "gather_facts": False, "tasks": [task]}], sort_keys=False)


def module_result(result: Result) -> dict[str, Any] | None:
    """The result of the task named MODULE_TASK of a run (of the first host that ran it), None when no host did."""
    return next((task["result"] for task in result.task_results if task["task"] == MODULE_TASK), None)


def runner_envvars(local_aws: LocalAWS, root: Path, repo: Path) -> dict[str, str]:
    """env/envvars of an ansible-runner private data dir at `root`: the endpoint's AWS variables (what AWX's AWS
    credential injects), this venv's bin dir and collections, and Ansible's home and temporary files under `root`."""
    return {
        **local_aws.env,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.defpath]),
        "HOME": str(root / "home"),
        "ANSIBLE_COLLECTIONS_PATH": collections_path(repo),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCAL_TEMP": str(root / "tmp"),
        "ANSIBLE_HOME": str(root / "ansible_home"),
        "ANSIBLE_NOCOLOR": "1",
    }


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP counters per host ({} without a recap)."""
    recap = output.rpartition("PLAY RECAP")[2] if "PLAY RECAP" in output else ""
    return {
        match["host"]: {name: int(count) for name, count in (pair.split("=") for pair in match["counts"].split())}
        for match in _RECAP_LINE.finditer(recap)
    }


class Ansible:
    """ansible-playbook from the interpreter's bin dir, with the collections of `repo`'s venv,
    an inventory of localhost, and everything Ansible writes kept under `tmp_path`."""

    def __init__(self, local_aws: LocalAWS, tmp_path: Path, repo: Path) -> None:
        self.workdir = tmp_path / "ansible"
        for name in ("home", "ansible_home", "local_tmp", "remote_tmp"):
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
        self.bin_dir = Path(sys.executable).parent
        self.inventory = self.workdir / "inventory.ini"
        self.inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n", encoding="utf-8")
        config = self.workdir / "ansible.cfg"
        config.write_text("", encoding="utf-8")
        self._runs = itertools.count(1)
        self.env = {
            "PATH": os.pathsep.join([str(self.bin_dir), os.defpath]),
            "HOME": str(self.workdir / "home"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            **local_aws.env,
            "ANSIBLE_CONFIG": str(config),
            "ANSIBLE_COLLECTIONS_PATH": collections_path(repo),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_HOME": str(self.workdir / "ansible_home"),
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "local_tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.workdir / "remote_tmp"),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "results_dump",
        }

    def _prepare(self, playbook, extra_vars, check, diff, verbosity, inventory, env, args=()):
        """(command, environment, results file) of one ansible-playbook run."""
        run = next(self._runs)
        if isinstance(playbook, str) and "\n" in playbook:
            path = self.workdir / f"playbook-{run}.yml"
            path.write_text(playbook, encoding="utf-8")
        elif isinstance(playbook, str) and playbook.startswith("mfa.aws."):
            path = playbook  # a playbook of the installed collection, by its FQCN
        else:
            path = Path(playbook)
            if not path.is_file():
                raise FileNotFoundError(f"no playbook at {path}")
        results_file = self.workdir / f"results-{run}.jsonl"
        command = [str(self.bin_dir / "ansible-playbook"), "-i", str(inventory or self.inventory), str(path)]
        if extra_vars:
            vars_file = self.workdir / f"extra-vars-{run}.json"
            vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
            command += ["-e", f"@{vars_file}"]
        command += ["--check"] * check + ["--diff"] * diff + list(args)
        if verbosity:
            command.append("-" + "v" * verbosity)
        return command, {**self.env, "MFA_AWS_TEST_RESULTS": str(results_file), **(env or {})}, results_file

    def playbook(
        self,
        playbook: str | Path,
        extra_vars: dict[str, Any] | None = None,
        check: bool = False,
        diff: bool = False,
        verbosity: int = 0,
        inventory: str | Path | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> Result:
        """Run a playbook given as a path, as YAML text (anything with a line break), or as the FQCN of a playbook of the
        collection; args are more command-line arguments (-e key=value, as people type them), cwd the directory it runs in."""
        command, environment, results_file = self._prepare(playbook, extra_vars, check, diff, verbosity, inventory, env, args)
        completed = subprocess.run(command, env=environment, cwd=cwd or self.workdir, capture_output=True, text=True, timeout=600, check=False)
        return self._result(completed.returncode, completed.stdout, completed.stderr, results_file)

    def start(self, playbook: str | Path, extra_vars: dict[str, Any] | None = None, inventory: str | Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ansible-playbook in a session of its own (os.killpg stops it with its workers) and return at once."""
        command, environment = self._prepare(playbook, extra_vars, False, False, 0, inventory, env)[:2]
        return subprocess.Popen(command, env=environment, cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    @staticmethod
    def _result(rc: int, stdout: str, stderr: str, results_file: Path) -> Result:
        lines = results_file.read_text(encoding="utf-8").splitlines() if results_file.exists() else []
        return Result(rc=rc, output=stdout + stderr, recap=parse_recap(stdout), task_results=[json.loads(line) for line in lines])

    def module(self, fqcn: str, args: dict[str, Any], check: bool = False, diff: bool = False, verbosity: int = 0,
               env: dict[str, str] | None = None) -> Result:
        """Run one module on localhost (env: more environment variables); Result.result is its registered result."""
        play = {
            "name": f"Run {fqcn}",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": MODULE_TASK, fqcn: args, "register": "module_result"}],
        }
        result = self.playbook(json.dumps([play], indent=2) + "\n", check=check, diff=diff, verbosity=verbosity, env=env)
        result.result = module_result(result)
        return result
