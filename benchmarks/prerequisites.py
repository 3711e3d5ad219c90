"""What the benchmark needs besides the project's virtualenv, installed when missing, and what it ran on.

* oathtool, Debian's package `oathtool` (apt-get, as root).
* The AWS CLI v1, in a virtualenv of its own (benchmarks/output/cli-venv) from benchmarks/requirements-cli.txt:
  awscli pins docutils<=0.19 (and rsa<4.8), which would downgrade the docutils 0.2x that antsibull-changelog
  uses in .venv, so it does not go into .venv.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUTPUT = os.path.join(HERE, "output")
CLI_VENV = os.path.join(OUTPUT, "cli-venv")
CLI_REQUIREMENTS = os.path.join(HERE, "requirements-cli.txt")


class SetupError(RuntimeError):
    """Something the benchmark needs is missing and could not be installed."""


def _run_logged(command: list[str], log_path: str, env: dict[str, str] | None = None) -> bool:
    """Run a command with its output appended to a log file; whether it succeeded."""
    with open(log_path, "a", encoding="utf-8") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, check=False).returncode == 0


def ensure_oathtool(log_path: str) -> str:
    """The path of oathtool, installed with `apt-get install -y oathtool` when missing."""
    found = shutil.which("oathtool")
    if found:
        return found
    print("oathtool is missing: installing Debian's package oathtool (apt-get install -y oathtool)", file=sys.stderr, flush=True)
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SetupError("oathtool is missing and cannot be installed here (needs apt-get as root): "
                         "install the package oathtool (Debian, Ubuntu) or run with --skip-cli")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "oathtool"]
    if not _run_logged(install, log_path, env):
        # A new machine may have no package lists yet.
        _run_logged(["apt-get", "update", "-q"], log_path, env)
        _run_logged(install, log_path, env)
    found = shutil.which("oathtool")
    if not found:
        raise SetupError(f"apt-get install -y oathtool failed (see {os.path.relpath(log_path, REPO)}): "
                         "install oathtool by hand or run with --skip-cli")
    return found


def ensure_aws_cli(log_path: str) -> str:
    """The bin directory of the benchmark's own AWS CLI virtualenv, created or updated from requirements-cli.txt."""
    with open(CLI_REQUIREMENTS, encoding="utf-8") as handle:
        wanted = handle.read()
    stamp = os.path.join(CLI_VENV, ".requirements-cli.txt")
    bin_dir = os.path.join(CLI_VENV, "bin")
    if os.path.isfile(stamp) and os.access(os.path.join(bin_dir, "aws"), os.X_OK):
        with open(stamp, encoding="utf-8") as handle:
            if handle.read() == wanted:
                return bin_dir
    print(f"installing the AWS CLI into {os.path.relpath(CLI_VENV, REPO)} (requirements-cli.txt)", file=sys.stderr, flush=True)
    shutil.rmtree(CLI_VENV, ignore_errors=True)
    pip = [os.path.join(bin_dir, "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", CLI_REQUIREMENTS]
    if not (_run_logged([sys.executable, "-m", "venv", CLI_VENV], log_path) and _run_logged(pip, log_path)):
        raise SetupError(f"could not install the AWS CLI into {os.path.relpath(CLI_VENV, REPO)} "
                         f"(see {os.path.relpath(log_path, REPO)}), or run with --skip-cli")
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return bin_dir


def _first_line(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    return ((result.stdout or result.stderr).strip().splitlines() or ["?"])[0]


def versions(cli_bin: str | None) -> dict[str, str]:
    """The versions of everything the figures depend on."""
    manifest = os.path.join(REPO, ".venv", "collections", "ansible_collections", "amazon", "aws", "MANIFEST.json")
    with open(manifest, encoding="utf-8") as handle:
        amazon_aws = json.load(handle)["collection_info"]["version"]
    found = {
        "python": platform.python_version(),
        "ansible-core": importlib.metadata.version("ansible-core"),
        "amazon.aws": amazon_aws,
        "boto3": importlib.metadata.version("boto3"),
        "botocore": importlib.metadata.version("botocore"),
        "moto": importlib.metadata.version("moto"),
        "pyotp": importlib.metadata.version("pyotp"),
    }
    if cli_bin is None:
        found["awscli"] = found["oathtool"] = "not used (--skip-cli)"
    else:
        # "aws-cli/1.46.3 Python/3.11.7 Linux/... botocore/1.43.62": awscli bundles a botocore of its own.
        fields = dict(part.split("/", 1) for part in _first_line([os.path.join(cli_bin, "aws"), "--version"]).split() if "/" in part)
        found["awscli"] = f"{fields.get('aws-cli', '?')} (its own botocore {fields.get('botocore', '?')})"
        found["oathtool"] = _first_line(["oathtool", "--version"]).rsplit(" ", 1)[-1]
    return found


def machine() -> dict[str, str]:
    """CPU model, cores, memory and operating system of this machine."""
    cpu = platform.processor() or platform.machine()
    memory = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal:"))
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    system = f"{platform.system()} {platform.release()}"
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            pretty = next((line.split("=", 1)[1].strip().strip('"') for line in handle if line.startswith("PRETTY_NAME=")), "")
        system = f"{pretty}, {system}" if pretty else system
    except OSError:
        pass
    return {"CPU": cpu, "cores": str(os.cpu_count()), "memory": memory, "OS": system}


def git_commit() -> str:
    """The short commit of HEAD, with `+changes` when tracked files differ from it (RESULTS.md aside)."""
    commit = _first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    changed = subprocess.run(["git", "-C", REPO, "diff", "--quiet", "HEAD", "--", ".", ":(exclude)benchmarks/RESULTS.md"], check=False)
    return commit + ("+changes" if changed.returncode == 1 else "")
