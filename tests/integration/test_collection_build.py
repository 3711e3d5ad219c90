"""The collection builds into a tarball that installs, and ansible-doc renders every plugin in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# amazon.aws, beside mfa.aws in the checkout's venv or in the support matrix's collections of a core.
AMAZON_AWS = os.environ.get("MFA_AWS_TEST_COLLECTIONS") or os.path.join(REPO, ".venv", "collections")
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


# --- the execution environment (execution-environment.yml) ------------------------------------------------------------


@pytest.fixture(scope="module", name="ee_context")
def fixture_ee_context(installed, tmp_path_factory):
    """`ansible-builder create` of execution-environment.yml, laid out as `make ee` lays it out, with the built tarball."""
    root = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt"):
        shutil.copy(os.path.join(REPO, name), root / name)
    (root / ".build" / "ee").mkdir(parents=True)
    shutil.copy(installed["tarball"], root / ".build" / "ee" / "mfa-aws.tar.gz")
    created = run(os.path.join(BIN, "ansible-builder"), "create", "-f", str(root / "execution-environment.yml"), "--context", str(root / "context"),
                  env=installed["env"])
    assert created.returncode == 0, created.stdout + created.stderr
    return root / "context"


def test_the_execution_environment_installs_ansible_the_collections_and_their_python_packages(ee_context):
    containerfile = (ee_context / "Dockerfile").read_text(encoding="utf-8")
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16,<2.22 ansible-runner>=2.4,<2.5"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    galaxy = yaml.safe_load((ee_context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert {entry["name"] for entry in galaxy["collections"]} == {"amazon.aws", "collections/mfa-aws.tar.gz"}
    # The galaxy stage runs in /build, where the context's _build/ lands: the tarball is found there.
    with tarfile.open(ee_context / "_build" / "collections" / "mfa-aws.tar.gz") as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        names = archive.getnames()
    assert (manifest["collection_info"]["namespace"], manifest["collection_info"]["name"]) == ("mfa", "aws")
    assert {"plugins/modules/iam_root_mfa.py", "meta/execution-environment.yml", "requirements.txt"} <= set(names)
    python = (ee_context / "_build" / "requirements.txt").read_text(encoding="utf-8")
    assert all(package in python for package in ("boto3", "botocore", "pyotp", "segno"))


def test_the_builder_finds_the_collections_python_packages_by_introspection(installed, ee_context):
    """What the builder stage of the image runs on the installed collections: it must read meta/execution-environment.yml."""
    introspected = run(sys.executable, str(ee_context / "_build" / "scripts" / "introspect.py"), "introspect", str(installed["target"]),
                       env=installed["env"])
    assert introspected.returncode == 0, introspected.stderr
    found = yaml.safe_load(introspected.stdout)
    ours = [line for line in found["python"] if line.endswith("# from collection mfa.aws")]
    assert [line.split()[0] for line in ours] == ["boto3>=1.34.0", "botocore>=1.34.0", "pyotp>=2.9.0", "segno>=1.6.0"]
