"""mfa.aws.iam_virtual_mfa against the strict local endpoint: each behaviour in check mode, for real,
then both again to show idempotence, with the resulting state read back with boto3."""
from __future__ import annotations

import base64
import time

import pyotp
import pytest

from helpers.steps import changes, iam_writes
from helpers.steps import converge as steps_converge

MODULE = "mfa.aws.iam_virtual_mfa"
ACCOUNT = "123456789012"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"


def converge(ansible, aws, args, diff=False):
    """The module in check mode, for real, then both again (see helpers.steps)."""
    return steps_converge(ansible, aws, MODULE, args, diff=diff)


def assert_no_seed(aws, text):
    leaked = [seed for seed in aws.issued_seeds() if seed in text]
    assert not leaked, "a seed appears in the output"


def create_device(aws, name="alice", tags=None):
    """A virtual device made directly with boto3; returns its base32 seed."""
    extra = {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]} if tags else {}
    device = aws.client("iam").create_virtual_mfa_device(VirtualMFADeviceName=name, **extra)["VirtualMFADevice"]
    return device["Base32StringSeed"].decode("ascii")


def enable_for(aws, user_name, serial_number, seed):
    """Create the user and enable the device for them with two consecutive codes."""
    iam = aws.client("iam")
    iam.create_user(UserName=user_name)
    totp, now = pyotp.TOTP(seed), time.time()
    iam.enable_mfa_device(UserName=user_name, SerialNumber=serial_number, AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))


def virtual_devices(aws):
    return aws.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"]


def device_tags(aws, serial_number=SERIAL):
    tags = aws.client("iam").list_mfa_device_tags(SerialNumber=serial_number)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


@pytest.mark.contract
def test_create_returns_the_seed_on_the_creating_run_only(fresh_aws, ansible):
    results, calls = converge(ansible, fresh_aws, {"name": "alice", "path": "/staff/", "tags": {"owner": "alice"}})

    assert changes(results) == [True, True, False, False]
    assert [iam_writes(made) for made in calls] == [[], ["CreateVirtualMFADevice"], [], []]
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/staff/alice"
    assert [device["SerialNumber"] for device in virtual_devices(fresh_aws)] == [serial]
    assert device_tags(fresh_aws, serial) == {"owner": "alice"}
    created = results[1]
    assert created["serial_number"] == serial
    assert created["base32_seed"] in fresh_aws.issued_seeds()
    assert base64.b64decode(created["qr_code_png"]).startswith(b"\x89PNG")
    assert created["virtual_mfa_device"] == {
        "serial_number": serial, "path": "/staff/", "name": "alice", "user_name": None, "enable_date": None, "tags": {"owner": "alice"},
    }
    for result in (results[0], results[2], results[3]):
        assert "base32_seed" not in result and "qr_code_png" not in result
    assert "set no_log: true on this task" in created["warnings"][0]
    assert results[3]["virtual_mfa_device"] == created["virtual_mfa_device"]


def test_tags_are_added_and_changed(fresh_aws, ansible):
    create_device(fresh_aws, tags={"owner": "alice", "team": "ops"})

    results, calls = converge(ansible, fresh_aws, {"name": "alice", "tags": {"owner": "bob", "cost-centre": "42"}, "purge_tags": False}, diff=True)

    assert changes(results) == [True, True, False, False]
    assert [iam_writes(made) for made in calls] == [[], ["TagMFADevice"], [], []]
    assert device_tags(fresh_aws) == {"owner": "bob", "team": "ops", "cost-centre": "42"}
    assert results[0]["diff"] == {
        "before": {"serial_number": SERIAL, "path": "/", "name": "alice", "user_name": None, "tags": {"owner": "alice", "team": "ops"}},
        "after": {"serial_number": SERIAL, "path": "/", "name": "alice", "user_name": None, "tags": {"owner": "bob", "team": "ops", "cost-centre": "42"}},
    }


def test_tags_are_purged(fresh_aws, ansible):
    create_device(fresh_aws, tags={"owner": "alice", "team": "ops"})

    results, calls = converge(ansible, fresh_aws, {"name": "alice", "tags": {"owner": "alice"}})

    assert changes(results) == [True, True, False, False]
    assert [iam_writes(made) for made in calls] == [[], ["UntagMFADevice"], [], []]
    assert device_tags(fresh_aws) == {"owner": "alice"}
    assert results[3]["virtual_mfa_device"]["tags"] == {"owner": "alice"}


def test_tags_are_left_alone_without_the_tags_option(fresh_aws, ansible):
    create_device(fresh_aws, tags={"owner": "alice"})

    results, _calls = converge(ansible, fresh_aws, {"name": "alice", "purge_tags": True})

    assert changes(results) == [False, False, False, False]
    assert device_tags(fresh_aws) == {"owner": "alice"}


def test_existing_device_reports_its_user(fresh_aws, ansible):
    enable_for(fresh_aws, "alice", SERIAL, create_device(fresh_aws))

    results, _calls = converge(ansible, fresh_aws, {"name": "alice"})

    assert changes(results) == [False, False, False, False]
    device = results[1]["virtual_mfa_device"]
    assert device["user_name"] == "alice" and device["enable_date"]
    assert "base32_seed" not in results[1]


def test_unassigned_device_is_deleted(fresh_aws, ansible):
    create_device(fresh_aws)

    results, _calls = converge(ansible, fresh_aws, {"name": "alice", "state": "absent"}, diff=True)

    assert changes(results) == [True, True, False, False]
    assert virtual_devices(fresh_aws) == []
    assert results[1]["diff"]["after"] == {} and results[1]["diff"]["before"]["serial_number"] == SERIAL


@pytest.mark.parametrize("check", [True, False])
def test_assigned_device_is_not_deleted_without_force(fresh_aws, ansible, check):
    enable_for(fresh_aws, "alice", SERIAL, create_device(fresh_aws))
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, {"name": "alice", "state": "absent"}, check=check)

    assert run.rc != 0
    assert run.result["msg"] == (
        f"virtual MFA device {SERIAL} is enabled for user alice: set force=true to deactivate it first, "
        "or deactivate it with mfa.aws.iam_mfa_enable state=absent"
    )
    assert iam_writes(fresh_aws.calls()) == []
    assert virtual_devices(fresh_aws)[0]["User"]["UserName"] == "alice"
    assert_no_seed(fresh_aws, run.output)


def test_assigned_device_is_deactivated_and_deleted_with_force(fresh_aws, ansible):
    enable_for(fresh_aws, "alice", SERIAL, create_device(fresh_aws))

    results, calls = converge(ansible, fresh_aws, {"name": "alice", "state": "absent", "force": True})

    assert changes(results) == [True, True, False, False]
    assert iam_writes(calls[1]) == ["DeactivateMFADevice", "DeleteVirtualMFADevice"]
    assert virtual_devices(fresh_aws) == []
    assert fresh_aws.client("iam").list_mfa_devices(UserName="alice")["MFADevices"] == []


def test_invalid_name_is_refused_before_any_call(fresh_aws, ansible):
    run = ansible.module(MODULE, {"name": "alice smith"})

    assert run.rc != 0
    assert run.result["msg"] == "name must be 1 to 226 characters of letters, digits and +=,.@_- (as IAM requires)"
    assert fresh_aws.calls() == []


def test_creation_and_tagging_survive_throttling(fresh_aws, ansible):
    create_device(fresh_aws, "bob")
    fresh_aws.throttle(0.3, service="iam", seed=7)

    created, creation_calls = converge(ansible, fresh_aws, {"name": "alice", "tags": {"owner": "alice"}})
    tagged, tagging_calls = converge(ansible, fresh_aws, {"name": "bob", "tags": {"owner": "bob"}})

    fresh_aws.throttle(0)
    assert any(call.get("throttled") for made in creation_calls + tagging_calls for call in made)
    assert changes(created) == changes(tagged) == [True, True, False, False]
    assert [device["SerialNumber"] for device in virtual_devices(fresh_aws)] == [SERIAL, f"arn:aws:iam::{ACCOUNT}:mfa/bob"]
    assert device_tags(fresh_aws) == {"owner": "alice"}
    assert device_tags(fresh_aws, f"arn:aws:iam::{ACCOUNT}:mfa/bob") == {"owner": "bob"}


CREATE_PLAY = """
- name: Create a virtual MFA device and keep its seed out of the logs
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the device
      mfa.aws.iam_virtual_mfa:
        name: "{{ device_name }}"
      register: device
      no_log: true

    - name: Check that the seed came back
      ansible.builtin.assert:
        that:
          - device.base32_seed | length == 64
          - device.qr_code_png | length > 0
        quiet: true
      no_log: true

    - name: Create it again
      mfa.aws.iam_virtual_mfa:
        name: "{{ device_name }}"
      register: again
      no_log: true

    - name: The seed is returned by the creating run only
      ansible.builtin.assert:
        that:
          - again is not changed
          - again.base32_seed is not defined
"""


@pytest.mark.contract
@pytest.mark.parametrize("verbosity", [0, 4])
def test_seed_stays_out_of_the_output_of_no_log_tasks(fresh_aws, ansible, verbosity):
    run = ansible.playbook(CREATE_PLAY, extra_vars={"device_name": f"alice-v{verbosity}"}, verbosity=verbosity)

    assert run.rc == 0, run.output
    assert run.recap["localhost"]["failed"] == 0
    assert len(virtual_devices(fresh_aws)) == 1
    assert_no_seed(fresh_aws, run.output)
