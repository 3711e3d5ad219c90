"""The collection builds into a tarball that installs, and ansible-doc renders every plugin in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
AMAZON_AWS = os.path.join(REPO, ".venv", "collections")
PLUGIN_TYPES = ("module", "lookup", "filter", "inventory")


def run(*args, env):
    return subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module", name="installed")
def fixture_installed(tmp_path_factory):
    """Build the collection, install the tarball alone into a fresh collections path."""
    root = tmp_path_factory.mktemp("build")
    target = root / "collections"
    # Only the target path, or ansible-galaxy sees mfa.aws installed already and skips it.
    env = dict(
        os.environ, ANSIBLE_HOME=str(root / "home"), ANSIBLE_COLLECTIONS_PATH=str(target), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1"
    )
    built = run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(root), REPO, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = root.glob("mfa-aws-*.tar.gz")
    installed = run(
        os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(target), str(tarball), env=env
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([str(target), AMAZON_AWS])
    return {"tarball": tarball, "target": target, "env": env}


def test_tarball_leaves_out_development_files(installed):
    with tarfile.open(installed["tarball"]) as archive:
        names = archive.getnames()
    assert "MANIFEST.json" in names and "plugins/lookup/totp.py" in names
    for unwanted in (".venv", ".build", "tools", "Makefile", ".ci", "tests/output"):
        assert not any(name == unwanted or name.startswith(unwanted + "/") for name in names), unwanted


def test_installed_collection_is_the_one_ansible_uses(installed):
    target, env = installed["target"], installed["env"]
    listed = run(os.path.join(BIN, "ansible-galaxy"), "collection", "list", "mfa.aws", "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    paths = json.loads(listed.stdout)
    assert str(target / "ansible_collections") in paths
    assert paths[str(target / "ansible_collections")]["mfa.aws"]["version"] == "0.1.0"


def test_ansible_doc_renders_every_plugin(installed):
    env = installed["env"]
    rendered = 0
    for plugin_type in PLUGIN_TYPES:
        listed = run(os.path.join(BIN, "ansible-doc"), "-t", plugin_type, "--list", "mfa.aws", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        for name in json.loads(listed.stdout):
            page = run(os.path.join(BIN, "ansible-doc"), "-t", plugin_type, name, env=env)
            assert page.returncode == 0, f"{name}: {page.stderr}"
            assert name in page.stdout and "EXAMPLES" in page.stdout and "ERROR" not in page.stderr, name
            rendered += 1
    assert rendered >= 1
