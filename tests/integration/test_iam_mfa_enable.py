"""mfa.aws.iam_mfa_enable against the strict local endpoint: each behaviour in check mode, for real,
then both again to show idempotence, with the resulting state read back with boto3."""
from __future__ import annotations

import stat
import time

import pyotp
import pytest

from helpers.ansible_runner import documented_example
from helpers.fleet import REPO
from helpers.seeds import decrypt
from helpers.steps import STEPS, changes, iam_calls, iam_writes
from helpers.steps import converge as steps_converge

MODULE = "mfa.aws.iam_mfa_enable"
ACCOUNT = "123456789012"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
TOKEN = "GAHT12345678"
HINT = "the two codes are not consecutive codes of this device's seed: check the device clock or the seed"
ROOT_HANDOFF = (
    "AWS lets nobody enable MFA for the root user through the API, only in the console signed in as root: "
    "run mfa.aws.iam_mfa_info (or playbooks/audit.yml) for the console steps to hand to the account owner"
)


def converge(ansible, aws, args, diff=False, steps=STEPS, seed=None):
    """The module in each step (by default check, apply, check again, apply again); `seed` is the play's
    variable `seed`, for codes computed by the tasks (see LOOKUP_CODES)."""
    return steps_converge(ansible, aws, MODULE, args, diff=diff, steps=steps, play_vars={"seed": seed})


def codes(seed, windows_ago=0):
    """Two consecutive codes of the device: those of the window `windows_ago` windows back and the one before."""
    totp, now = pyotp.TOTP(seed), time.time() - 30 * windows_ago
    return totp.at(now - 30), totp.at(now)


# Codes computed by the mfa.aws.totp lookup from the play's `seed` when the task runs, as a
# playbook would: they are fresh however long the earlier tasks took.
LOOKUP_CODES = ("{{ lookup('mfa.aws.totp', seed, pair=true)[0] }}", "{{ lookup('mfa.aws.totp', seed, pair=true)[1] }}")


def enable_args(serial_number, pair, user_name="alice", **extra):
    return {"user_name": user_name, "serial_number": serial_number, "authentication_code_1": pair[0], "authentication_code_2": pair[1], **extra}


def assert_clean_failure(aws, run, *secrets):
    """A failed run whose message is one line, with no seed or code anywhere in the output."""
    assert run.rc != 0
    assert "\n" not in run.result["msg"]
    assert not [seed for seed in aws.issued_seeds() if seed in run.output], "a seed appears in the output"
    assert not [secret for secret in secrets if secret in run.output], "a code appears in the output"


def virtual_device(aws, user_name="alice", name="alice"):
    """Create the user and a virtual device; returns the device's seed."""
    iam = aws.client("iam")
    iam.create_user(UserName=user_name)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    return device["Base32StringSeed"].decode("ascii")


def enabled_device(aws, user_name="alice", name="alice"):
    """Create the user and a virtual device enabled for them with the older of the two pairs of codes
    AWS accepts now; returns the device's seed."""
    seed = virtual_device(aws, user_name, name)
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/{name}"
    iam = aws.client("iam")
    # That pair stops being accepted when a 30-second window ends, which can happen between computing it and the
    # endpoint checking it on a loaded machine: then the pair of the new moment is tried once.
    for attempt in range(2):
        pair = codes(seed, windows_ago=1)
        try:
            iam.enable_mfa_device(UserName=user_name, SerialNumber=serial, AuthenticationCode1=pair[0], AuthenticationCode2=pair[1])
            return seed
        except iam.exceptions.InvalidAuthenticationCodeException:
            if attempt:
                raise
    return seed


def user_devices(aws, user_name="alice"):
    return [device["SerialNumber"] for device in aws.client("iam").list_mfa_devices(UserName=user_name)["MFADevices"]]


@pytest.mark.contract
def test_virtual_device_is_enabled_with_two_codes(fresh_aws, ansible):
    seed = virtual_device(fresh_aws)

    results, calls = converge(ansible, fresh_aws, enable_args(SERIAL, LOOKUP_CODES), diff=True, seed=seed)

    assert changes(results) == [True, True, False, False]
    assert [iam_calls(made) for made in calls] == [["ListMFADevices"], ["ListMFADevices", "EnableMFADevice"], ["ListMFADevices"], ["ListMFADevices"]]
    assert user_devices(fresh_aws) == [SERIAL]
    assert results[1]["diff"] == {
        "before": {"user_name": "alice", "serial_number": SERIAL, "enabled": False},
        "after": {"user_name": "alice", "serial_number": SERIAL, "enabled": True},
    }
    assert results[3]["kind"] == "virtual"
    assert results[3]["enable_date"]
    assert results[3]["mfa_devices"] == [{"user_name": "alice", "serial_number": SERIAL, "enable_date": results[3]["enable_date"], "kind": "virtual"}]


def test_enabled_device_costs_one_call_and_needs_no_codes(fresh_aws, ansible):
    enabled_device(fresh_aws)

    results, calls = converge(ansible, fresh_aws, {"user_name": "alice", "serial_number": SERIAL})

    assert changes(results) == [False, False, False, False]
    assert [iam_calls(made) for made in calls] == [["ListMFADevices"]] * 4
    assert user_devices(fresh_aws) == [SERIAL]


def test_codes_are_required_to_enable(fresh_aws, ansible):
    virtual_device(fresh_aws)
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, {"user_name": "alice", "serial_number": SERIAL})

    assert_clean_failure(fresh_aws, run)
    assert run.result["msg"].startswith(f"authentication_code_1 and authentication_code_2 are required to enable MFA device {SERIAL} for user alice")
    assert iam_calls(fresh_aws.calls()) == ["ListMFADevices"]
    assert user_devices(fresh_aws) == []


@pytest.mark.contract
def test_wrong_codes_fail_with_the_hint_and_change_nothing(fresh_aws, ansible):
    seed = virtual_device(fresh_aws)
    stale = codes(seed, windows_ago=20)
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, enable_args(SERIAL, stale))

    assert_clean_failure(fresh_aws, run, *stale)
    assert run.result["msg"].startswith(f"Failed to enable MFA device {SERIAL} for user alice ({HINT})")
    assert iam_calls(fresh_aws.calls()) == ["ListMFADevices", "EnableMFADevice"]
    assert user_devices(fresh_aws) == []
    assert fresh_aws.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"][0].get("User") is None


def test_badly_formed_code_is_refused_before_any_call(fresh_aws, ansible):
    run = ansible.module(MODULE, enable_args(SERIAL, ("12345", "271828")))

    assert_clean_failure(fresh_aws, run, "271828")
    assert run.result["msg"] == "authentication_code_1 must be exactly 6 digits (quote it in YAML to keep a leading zero)"
    assert fresh_aws.calls() == []


def test_device_of_another_user_is_refused_naming_that_user(fresh_aws, ansible):
    pair = codes(enabled_device(fresh_aws, user_name="bob", name="bob"))
    fresh_aws.client("iam").create_user(UserName="alice")
    bobs_serial = f"arn:aws:iam::{ACCOUNT}:mfa/bob"
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, enable_args(bobs_serial, pair))

    assert_clean_failure(fresh_aws, run, *pair)
    assert run.result["msg"].startswith(
        f"Failed to enable MFA device {bobs_serial} for user alice: it is enabled for user bob, deactivate it there first (mfa.aws.iam_mfa_enable state=absent)"
    )
    assert "EntityAlreadyExists" in run.result["msg"]
    assert iam_calls(fresh_aws.calls()) == ["ListMFADevices", "EnableMFADevice", "ListVirtualMFADevices"]
    assert user_devices(fresh_aws, "bob") == [bobs_serial]
    assert user_devices(fresh_aws, "alice") == []


def test_hardware_token_is_enabled(fresh_aws, ansible):
    seed = pyotp.random_base32()
    fresh_aws.register_hardware_token(TOKEN, seed)
    fresh_aws.client("iam").create_user(UserName="alice")

    results, calls = converge(ansible, fresh_aws, enable_args(TOKEN, LOOKUP_CODES), seed=seed)

    assert changes(results) == [True, True, False, False]
    assert iam_writes(calls[1]) == ["EnableMFADevice"]
    assert user_devices(fresh_aws) == [TOKEN]
    assert results[3]["kind"] == "hardware"


def test_device_is_resynced_on_every_real_run(fresh_aws, ansible):
    seed = enabled_device(fresh_aws)
    # No fourth step: AWS accepts a pair of codes once, so another real run needs the next window.
    steps = STEPS[:3]

    results, calls = converge(ansible, fresh_aws, enable_args(SERIAL, LOOKUP_CODES, state="resynced"), steps=steps, seed=seed)

    assert changes(results) == [True, True, True]
    assert [iam_writes(made) for made in calls] == [[], ["ResyncMFADevice"], []]
    assert user_devices(fresh_aws) == [SERIAL]


def test_resync_of_a_device_that_is_not_enabled_fails(fresh_aws, ansible):
    seed = virtual_device(fresh_aws)
    pair = codes(seed)
    fresh_aws.reset_calls()

    run = ansible.module(MODULE, enable_args(SERIAL, pair, state="resynced"))

    assert_clean_failure(fresh_aws, run, *pair)
    assert run.result["msg"].startswith(f"MFA device {SERIAL} is not enabled for user alice")
    assert iam_writes(fresh_aws.calls()) == []


def test_device_is_deactivated(fresh_aws, ansible):
    enabled_device(fresh_aws)

    results, calls = converge(ansible, fresh_aws, {"user_name": "alice", "serial_number": SERIAL, "state": "absent"}, diff=True)

    assert changes(results) == [True, True, False, False]
    assert iam_writes(calls[1]) == ["DeactivateMFADevice"]
    assert user_devices(fresh_aws) == []
    assert results[1]["mfa_devices"] == []
    assert results[1]["diff"]["after"]["enabled"] is False


def test_unknown_user_is_named_in_one_line(fresh_aws, ansible):
    run = ansible.module(MODULE, {"user_name": "nobody", "serial_number": SERIAL})

    assert_clean_failure(fresh_aws, run)
    assert run.result["msg"].startswith("Failed to list the MFA devices of user nobody (no IAM user named nobody: check user_name)")
    assert iam_calls(fresh_aws.calls()) == ["ListMFADevices"]


@pytest.mark.parametrize("user_name", ["<root_account>", f"arn:aws:iam::{ACCOUNT}:root"])
def test_root_user_is_refused_without_any_call(fresh_aws, ansible, user_name):
    run = ansible.module(MODULE, enable_args(SERIAL, ("271828", "314159"), user_name=user_name))

    assert_clean_failure(fresh_aws, run, "271828", "314159")
    assert run.result["msg"] == ROOT_HANDOFF
    assert fresh_aws.calls() == []


def test_enrollment_survives_throttling(fresh_aws, ansible):
    seed = pyotp.random_base32()
    fresh_aws.register_hardware_token(TOKEN, seed)
    fresh_aws.client("iam").create_user(UserName="alice")
    # With this seed, the endpoint throttles the first two EnableMFADevice calls of the real run.
    fresh_aws.throttle(0.3, service="iam", seed=2)

    results, calls = converge(ansible, fresh_aws, enable_args(TOKEN, LOOKUP_CODES), seed=seed)

    fresh_aws.throttle(0)
    assert [(call["action"], call.get("throttled", False)) for call in calls[1]] == [
        ("ListMFADevices", False), ("EnableMFADevice", True), ("EnableMFADevice", True), ("EnableMFADevice", False),
    ]
    assert changes(results) == [True, True, False, False]
    assert user_devices(fresh_aws) == [TOKEN]


@pytest.mark.contract
@pytest.mark.parametrize("verbosity", [0, 4])
def test_the_documented_enrollment_keeps_seeds_out_of_the_output(fresh_aws, ansible, vault, verbosity):
    fresh_aws.client("iam").create_user(UserName="alice")
    fresh_aws.reset_calls()

    # mfa.aws.iam_virtual_mfa's first example: alice's device is created, its seed kept in a vault file and the device
    # enabled with two codes the mfa.aws.totp lookup computes from the seed.
    run = ansible.playbook(documented_example(REPO, "iam_virtual_mfa"), verbosity=verbosity, env=vault)

    assert run.rc == 0, run.output
    assert run.recap["localhost"]["failed"] == 0 and run.recap["localhost"]["changed"] == 3
    assert iam_calls(fresh_aws.calls()) == ["ListVirtualMFADevices", "CreateVirtualMFADevice", "ListMFADevices", "EnableMFADevice"]
    assert user_devices(fresh_aws) == [SERIAL]
    stored = ansible.workdir / "mfa-seeds" / "alice.yml"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    entry = decrypt(stored, vault)["alice"]
    assert entry["serial_number"] == SERIAL and entry["base32_seed"] in fresh_aws.issued_seeds()
    assert not [seed for seed in fresh_aws.issued_seeds() if seed in run.output], "a seed appears in the output"
