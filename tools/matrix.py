"""The support matrix: every ansible-core the collection supports besides the primary one, as users install the collection.

For each core: a virtualenv of its own (with the Python that core needs), the amazon.aws of its era, the collection
built with that core's `ansible-galaxy collection build` and installed with `ansible-galaxy collection install`, then
`ansible-test sanity` and `ansible-test units` of that core on the installed collection, and the integration flows that
prove the contract (tests marked `contract`) against the installed collection. `make test` runs the whole suite on the
primary core (ansible-core 2.19, Python 3.11, amazon.aws 10) and this for the others.

    python tools/matrix.py [--cores 2.16,2.21] [--steps sanity,units,integration] [--workers 2]

A core whose Python is not on this machine is skipped, and the summary says so (set MFA_AWS_PYTHON_3_12 or
MFA_AWS_PYTHON_3_13 to an interpreter, or put python3.12 / python3.13 on PATH; pyenv or the deadsnakes packages
provide them). The run fails if any core that ran failed, or if every core was skipped.
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))

# pylint: disable-next=wrong-import-position
from install_collections import extract_amazon_aws, prepare_ansible_test_cache  # noqa: E402

MATRIX = os.path.join(REPO, ".matrix")
# What each core's virtualenv gets besides ansible-core: the collection's own requirements at the lowest or newest
# boto3/botocore requirements.txt allows, and what the integration tests need.
TEST_PACKAGES = ("moto[server]==5.2.5", "pyotp==2.12.1", "segno==1.6.6", "zxing-cpp==3.1.1", "pytest==9.2.0", "pytest-xdist==3.8.0",
                 "ansible-runner==2.4.3", "PyYAML")
LOWEST_BOTO = ("boto3==1.34.0", "botocore==1.34.0")
NEWEST_BOTO = ("boto3==1.44.8", "botocore==1.44.8")


@dataclass(frozen=True)
class Core:
    version: str
    core: str
    python: str
    # The `ansible` release whose amazon.aws this core's users have.
    ansible: str
    boto: tuple = NEWEST_BOTO


CORES = (
    Core("2.16", "ansible-core==2.16.19", "3.11", "ansible==11.13.0", LOWEST_BOTO),  # amazon.aws 9.5.2
    Core("2.17", "ansible-core==2.17.14", "3.11", "ansible==11.13.0"),
    Core("2.18", "ansible-core==2.18.19", "3.11", "ansible==11.13.0"),
    Core("2.20", "ansible-core==2.20.10", "3.12", "ansible==13.8.0"),  # amazon.aws 10.3.2
    Core("2.21", "ansible-core==2.21.5", "3.13", "ansible==14.5.0"),  # amazon.aws 11.4.0
)


def find_python(version: str) -> str | None:
    """An interpreter of that Python version on this machine, or None."""
    candidates = [os.environ.get(f"MFA_AWS_PYTHON_{version.replace('.', '_')}"), shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")), reverse=True)
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True,
                                   check=False)
            if probe.returncode == 0 and probe.stdout.strip() == version:
                return candidate
    return None


def run(command, log, cwd=REPO, env=None):
    """Run a command, its output appended to the log; its return code."""
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"\n$ {' '.join(command)}\n")
        handle.flush()
        return subprocess.run(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False).returncode


def export_checkout(target):
    """The files git knows (committed or not, never ignored ones), copied to target: what a release is built from."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode("utf-8").split("\0")):
        source = os.path.join(REPO, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(target, name))
    return target


class Failed(Exception):
    pass


class CoreRun:
    """One core: its virtualenv, collections and steps."""

    def __init__(self, core: Core, python: str, workers: int):
        self.core, self.python, self.workers = core, python, workers
        self.root = os.path.join(MATRIX, core.version)
        self.venv = os.path.join(self.root, "venv")
        self.bin = os.path.join(self.venv, "bin")
        self.collections = os.path.join(self.root, "collections")
        self.home = os.path.join(self.root, "home")
        self.log = os.path.join(self.root, "log.txt")
        os.makedirs(self.root, exist_ok=True)
        with open(self.log, "w", encoding="utf-8"):
            pass

    def env(self, **extra):
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "AWS_", "VIRTUAL_ENV", "PYTHONPATH"))}
        env.update(PATH=os.pathsep.join([self.bin, os.environ.get("PATH", os.defpath)]), ANSIBLE_COLLECTIONS_PATH=self.collections,
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1", **extra)
        return env

    def check(self, command, what, **kwargs):
        if run(command, self.log, **kwargs) != 0:
            raise Failed(f"{what} failed (log: {os.path.relpath(self.log, REPO)})")

    def install(self):
        """The virtualenv (kept from run to run while the packages are the same), amazon.aws, and the built tarball."""
        packages = [self.core.core, *self.core.boto, *TEST_PACKAGES, "-r", os.path.join(REPO, "requirements.txt")]
        stamp = os.path.join(self.venv, ".packages")
        wanted = "\n".join(packages) + "\n" + open(os.path.join(REPO, "requirements.txt"), encoding="utf-8").read()
        if not (os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == wanted):
            shutil.rmtree(self.venv, ignore_errors=True)
            self.check([self.python, "-m", "venv", self.venv], "creating the virtualenv")
            self.check([os.path.join(self.bin, "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages], "pip install")
            with open(stamp, "w", encoding="utf-8") as handle:
                handle.write(wanted)
        shutil.rmtree(self.collections, ignore_errors=True)
        extract_amazon_aws(self.collections, self.core.ansible, python_version=self.core.python)
        build = os.path.join(self.root, "build")
        shutil.rmtree(build, ignore_errors=True)
        source = export_checkout(os.path.join(build, "source"))
        self.check([os.path.join(self.bin, "ansible-galaxy"), "collection", "build", "--output-path", build, source],
                   "ansible-galaxy collection build", env=self.env())
        (tarball,) = glob.glob(os.path.join(build, "mfa-aws-*.tar.gz"))
        # amazon.aws is installed already: ansible-galaxy checks that it satisfies galaxy.yml, and reaches no server.
        self.check([os.path.join(self.bin, "ansible-galaxy"), "collection", "install", "-p", self.collections, tarball],
                   "ansible-galaxy collection install", env=self.env())
        prepare_ansible_test_cache(self.home, self.ansible_test_pip())

    def ansible_test_pip(self):
        """The pip that this core's ansible-test bootstraps into its virtualenvs (get_venv_packages), whose script it would download."""
        (source,) = glob.glob(os.path.join(self.venv, "lib", "python*", "site-packages", "ansible_test", "_internal", "python_requirements.py"))
        with open(source, encoding="utf-8") as handle:
            found = re.search(r"def get_venv_packages.*?pip='([0-9.]+)'", handle.read(), re.S)
        if not found:
            raise Failed(f"cannot find the pip version of ansible-test in {source}")
        return found.group(1)

    def installed(self):
        return os.path.join(self.collections, "ansible_collections", "mfa", "aws")

    def ansible_test(self, *args, what):
        """ansible-test of this core in the installed collection (a git repository of its own, as ansible-test wants)."""
        tree = self.installed()
        if not os.path.isdir(os.path.join(tree, ".git")):
            for command in (["git", "init", "-q"], ["git", "add", "-A"]):
                self.check(command, "git init of the installed collection", cwd=tree)
        self.check([os.path.join(self.bin, "ansible-test"), *args, "--local", "--python", self.core.python, "--color", "no"], what, cwd=tree,
                   env=self.env(HOME=self.home))

    def integration(self):
        env = self.env(MFA_AWS_TEST_COLLECTIONS=self.collections, HOME=self.home)
        self.check([os.path.join(self.bin, "python"), "-m", "pytest", "-q", "-m", "contract", "-n", str(self.workers), "--dist", "worksteal",
                    "-p", "no:cacheprovider", "tests/integration"], "the contract's integration tests", env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default=",".join(core.version for core in CORES), help="the cores to run, comma-separated (default: all)")
    parser.add_argument("--steps", default="sanity,units,integration", help="steps of each core (default: sanity,units,integration)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers of the integration step")
    args = parser.parse_args()
    wanted = args.cores.split(",")
    steps = args.steps.split(",")
    unknown = set(wanted) - {core.version for core in CORES}
    if unknown:
        parser.error(f"unknown cores {', '.join(sorted(unknown))}: the matrix has {', '.join(core.version for core in CORES)}")
    summary, failed, ran = [], False, 0
    for core in (core for core in CORES if core.version in wanted):
        python = find_python(core.python)
        if python is None:
            summary.append(f"ansible-core {core.version}: SKIPPED, no Python {core.python} on this machine (see tools/matrix.py)")
            continue
        ran += 1
        started = time.monotonic()
        current = CoreRun(core, python, args.workers)
        print(f"== ansible-core {core.version} (Python {core.python}, {core.ansible}'s amazon.aws, {core.boto[0]}): {', '.join(steps)}", flush=True)
        try:
            current.install()
            if "sanity" in steps:
                current.ansible_test("sanity", what="ansible-test sanity")
            if "units" in steps:
                current.ansible_test("units", what="ansible-test units")
            if "integration" in steps:
                current.integration()
        except Failed as e:
            failed = True
            summary.append(f"ansible-core {core.version}: FAILED: {e}")
            continue
        summary.append(f"ansible-core {core.version}: passed {', '.join(steps)} in {time.monotonic() - started:.0f} s")
    print("\n".join(["", "support matrix:", *summary]))
    if ran == 0:
        print("support matrix: no core ran (no Python for any of them)")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
