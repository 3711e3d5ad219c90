"""Lay out the ansible_collections/ tree that ansible-playbook and ansible-test use.

* amazon.aws comes from the `ansible` package on PyPI (the only collection source that
  needs no Galaxy access): the wheel is downloaded without its dependencies and only
  ansible_collections/amazon/aws is extracted.
* mfa.aws is a symlink to this repository, so playbooks run the working tree as it is.
* ansible-test's pip bootstrap script normally comes from a host outside PyPI; a local
  stand-in installs pip 24.2 from its PyPI wheel instead.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ANSIBLE_PACKAGE = "ansible>=12,<13"
PIP_FOR_ANSIBLE_TEST = "24.2"

GET_PIP_STANDIN = '''"""Stand-in for get-pip.py: install pip from the wheel that lies beside this file."""
import os
import subprocess
import sys

wheel = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-{version}-py3-none-any.whl")
subprocess.check_call([sys.executable, os.path.join(wheel, "pip"), "install", "--no-index", "--quiet",
                       "--disable-pip-version-check", wheel])
'''


def pip(*args, command=None):
    subprocess.check_call([*(command or [sys.executable, "-m", "pip"]), "--disable-pip-version-check", "-q", *args])


def extract_amazon_aws(collections_root, ansible_package=ANSIBLE_PACKAGE, python_version=None, pip_command=None):
    """amazon.aws of the `ansible` release ansible_package, extracted into collections_root (kept when it is there).

    python_version picks the wheel for another Python than this one (the `ansible` releases of ansible-core 2.20 and later
    need Python 3.12).
    """
    target = os.path.join(collections_root, "ansible_collections", "amazon", "aws")
    if os.path.isfile(os.path.join(target, "MANIFEST.json")):
        return
    with tempfile.TemporaryDirectory() as tmp:
        for_python = ["--python-version", python_version] if python_version else []
        pip("download", "--no-deps", "--only-binary=:all:", *for_python, "-d", tmp, ansible_package, command=pip_command)
        (wheel,) = glob.glob(os.path.join(tmp, "ansible-*.whl"))
        prefix = "ansible_collections/amazon/aws/"
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.startswith(prefix)]
            staging = os.path.join(tmp, "x")
            archive.extractall(staging, members=members)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(os.path.join(staging, prefix), target)
    with open(os.path.join(target, "MANIFEST.json"), encoding="utf-8") as manifest:
        version = json.load(manifest)["collection_info"]["version"]
    print(f"amazon.aws {version} installed in {target}")


def link_self(collections_root, repo_root):
    link = os.path.join(collections_root, "ansible_collections", "mfa", "aws")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(repo_root):
        return
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.realpath(repo_root), link)


def prepare_ansible_test_cache(home, version=PIP_FOR_ANSIBLE_TEST):
    """The stand-in for the pip bootstrap script of the ansible-test whose bootstrap is pip `version` (one per core)."""
    cache = os.path.join(home, ".ansible", "test", "cache")
    os.makedirs(cache, exist_ok=True)
    wheel = os.path.join(cache, f"pip-{version}-py3-none-any.whl")
    if not os.path.exists(wheel):
        pip("download", "--no-deps", "-d", cache, f"pip=={version}")
    script = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(GET_PIP_STANDIN.format(version=version))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", required=True, help="folder that will hold ansible_collections/")
    parser.add_argument("--repo", required=True, help="this collection's root")
    parser.add_argument("--ansible-test-home", help="HOME used by ansible-test; gets a pip bootstrap cache")
    args = parser.parse_args()
    extract_amazon_aws(args.collections)
    link_self(args.collections, args.repo)
    if args.ansible_test_home:
        prepare_ansible_test_cache(args.ansible_test_home)


if __name__ == "__main__":
    main()
