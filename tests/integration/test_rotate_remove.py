"""playbooks/rotate.yml and playbooks/remove.yml (the rotate and remove entry points of mfa.aws.enroll) on the strict
local endpoint: rotation and removal converge from every point where a run can stop, with no seed lost and no device
orphaned; the endpoint accepts only codes of the right seed, so every enabled device proves its stored seed."""
from __future__ import annotations

import time

import pyotp
import pytest

from helpers.fleet import REPO, Fleet, changed_hosts, iam_actions
from local_aws import is_write

ROTATE = REPO / "playbooks" / "rotate.yml"
REMOVE = REPO / "playbooks" / "remove.yml"
ACCOUNTS = ("payments",)
USERS = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path, ansible):
    fleet = Fleet(fresh_aws, tmp_path, accounts=ACCOUNTS, users=USERS)
    enrolled = fleet.enroll(ansible)
    assert enrolled.rc == 0, enrolled.output
    fleet.aws.reset_calls()
    return fleet


def rotate(fleet, ansible, check=False, verbosity=0, **extra_vars):
    """rotate.yml with a maximum age of 0 days (every chosen device rotates) unless extra_vars say otherwise."""
    return fleet.enroll(ansible, playbook=ROTATE, check=check, verbosity=verbosity, extra_vars={"enroll_rotate_max_age_days": 0, **extra_vars})


def remove(fleet, ansible, users, check=False, verbosity=0):
    return fleet.enroll(ansible, playbook=REMOVE, check=check, verbosity=verbosity, extra_vars={"enroll_remove_users": list(users)})


def writes(calls):
    return [call["action"] for call in calls if is_write(call["action"]) and not call.get("throttled")]


def snapshot(fleet):
    return {name: (fleet.stored(name), fleet.enabled_devices(name), fleet.unassigned_devices(name)) for name in fleet.accounts}


def assert_rotated(fleet, before):
    """Every user has exactly one enabled device, new, whose stored seed is AWS's; no old seed or device is left."""
    fleet.assert_converged()
    for name in fleet.accounts:
        stored = fleet.stored(name)
        for user in fleet.users:
            assert "previous" not in stored[user], (name, user)
            assert stored[user]["serial_number"] != before[name][user]["serial_number"], (name, user)
            assert stored[user]["base32_seed"] != before[name][user]["base32_seed"]


@pytest.mark.contract
def test_check_mode_predicts_the_rotation_which_converges_and_is_idempotent(fleet, ansible):
    before = {name: fleet.stored(name) for name in fleet.accounts}
    state = snapshot(fleet)
    checked = rotate(fleet, ansible, check=True)
    assert checked.rc == 0, checked.output
    assert writes(fleet.aws.calls()) == [] and snapshot(fleet) == state

    rotated = rotate(fleet, ansible)
    assert rotated.rc == 0, rotated.output
    assert changed_hosts(checked) == changed_hosts(rotated)
    assert all(changed_hosts(rotated).values())
    assert_rotated(fleet, before)
    serials = {name: fleet.enabled_devices(name) for name in fleet.accounts}
    assert all(s[0].endswith(f"/{user}-2") for devices in serials.values() for user, s in devices.items())
    calls = iam_actions(fleet.aws.calls())
    count = len(ACCOUNTS) * len(USERS)
    assert calls["CreateVirtualMFADevice"] == calls["EnableMFADevice"] == count
    assert calls["DeactivateMFADevice"] == calls["DeleteVirtualMFADevice"] == count

    fleet.aws.reset_calls()
    again = rotate(fleet, ansible, enroll_rotate_max_age_days=90)  # every device is new
    assert again.rc == 0, again.output
    assert set(changed_hosts(again).values()) == {0}
    assert writes(fleet.aws.calls()) == []

    second = rotate(fleet, ansible, enroll_rotate_users=["alice"])  # back to the first name
    assert second.rc == 0, second.output
    assert fleet.enabled_devices("payments")["alice"][0].endswith("/alice")
    fleet.assert_converged()


def seeded_device(fleet, name, device_name, user=None):
    """A virtual device made outside the run (as a stopped run leaves it): (serial, seed), enabled for user if given."""
    iam = fleet.iam(name)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=device_name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode("ascii") if isinstance(device["Base32StringSeed"], bytes) else device["Base32StringSeed"]
    if user:
        totp, now = pyotp.TOTP(seed), time.time()
        iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"], AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    return device["SerialNumber"], seed


def test_rotations_stopped_at_every_step_converge_on_the_next_run(fleet, ansible):
    """Each user of one account is left as a rotation stopped at one step leaves it; one run finishes them all."""
    name = "payments"
    iam, stored = fleet.iam(name), fleet.stored(name)
    old = {user: stored[user] for user in USERS}
    new = {}
    # alice: stopped after create (the new seed was never stored); bob: after storing it; carol: after enabling the new
    # device; dave: after retiring the old one; erin: her new device vanished (deleted by hand) after storing.
    for user, enabled in (("alice", False), ("bob", False), ("carol", True), ("dave", True), ("erin", False)):
        new[user] = seeded_device(fleet, name, f"{user}-2", user=user if enabled else None)
    for user in ("bob", "carol", "dave", "erin"):
        stored[user] = {"serial_number": new[user][0], "base32_seed": new[user][1], "created": old[user]["created"], "previous": old[user]}
    fleet.write_stored(name, stored)
    iam.deactivate_mfa_device(UserName="dave", SerialNumber=old["dave"]["serial_number"])
    iam.delete_virtual_mfa_device(SerialNumber=old["dave"]["serial_number"])
    iam.delete_virtual_mfa_device(SerialNumber=new["erin"][0])

    # A maximum age of 0 starts alice's rotation again; the rotations under way are finished, not started anew.
    resumed = rotate(fleet, ansible, enroll_rotate_users=list(USERS))
    assert resumed.rc == 0, resumed.output
    fleet.assert_converged()
    after = fleet.stored(name)
    assert all("previous" not in after[user] for user in USERS)
    assert after["alice"]["serial_number"] == new["alice"][0] and after["alice"]["base32_seed"] != new["alice"][1]  # made again
    for user in ("bob", "carol", "dave"):
        assert after[user]["serial_number"] == new[user][0] and after[user]["base32_seed"] == new[user][1]
    assert after["erin"]["serial_number"] == old["erin"]["serial_number"]  # back to the device she has
    again = rotate(fleet, ansible, enroll_rotate_max_age_days=90)
    assert again.rc == 0 and set(changed_hosts(again).values()) == {0}, again.output


def test_rotation_refuses_unknown_and_unmanaged_users_before_any_change(fleet, ansible):
    fleet.iam("payments").create_user(UserName="mallory")
    for users, expected in ((["ghost"], "has no IAM user named ghost: check enroll_rotate_users"),
                            (["mallory"], "no stored seed belongs to an enabled device of mallory")):
        state = snapshot(fleet)
        fleet.aws.reset_calls()
        result = rotate(fleet, ansible, enroll_rotate_users=users)
        assert result.rc != 0 and expected in result.output, result.output
        assert writes(fleet.aws.calls()) == [] and snapshot(fleet) == state


@pytest.mark.contract
def test_removal_deletes_every_device_then_drops_the_seeds_and_is_idempotent(fleet, ansible):
    token_seed = pyotp.random_base32()
    fleet.aws.register_hardware_token("GAHT00000001", token_seed, account_id=fleet.accounts["payments"])
    now, totp = time.time(), pyotp.TOTP(token_seed)
    fleet.iam("payments").enable_mfa_device(
        UserName="bob", SerialNumber="GAHT00000001", AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now)
    )
    fleet.aws.reset_calls()
    state = snapshot(fleet)
    checked = remove(fleet, ansible, ["alice", "bob"], check=True)
    assert checked.rc == 0, checked.output
    assert writes(fleet.aws.calls()) == [] and snapshot(fleet) == state

    removed = remove(fleet, ansible, ["alice", "bob"])
    assert removed.rc == 0, removed.output
    assert changed_hosts(checked) == changed_hosts(removed) and all(changed_hosts(removed).values())
    for name in fleet.accounts:
        devices, stored = fleet.enabled_devices(name), fleet.stored(name)
        assert devices["alice"] == devices["bob"] == [] and len(devices["carol"]) == 1
        assert set(stored) == {"carol", "dave", "erin"}
        assert fleet.unassigned_devices(name) == []
    calls = iam_actions(fleet.aws.calls())
    assert calls["DeactivateMFADevice"] == 2 * len(ACCOUNTS) + 1 and calls["DeleteVirtualMFADevice"] == 2 * len(ACCOUNTS)

    again = remove(fleet, ansible, ["alice", "bob"])
    assert again.rc == 0 and set(changed_hosts(again).values()) == {0}, again.output


def test_removals_stopped_at_every_step_converge_and_never_drop_a_seed_first(fleet, ansible):
    """alice stopped after her device was deactivated, bob after it was deleted, carol's IAM user is deleted already."""
    name = "payments"
    iam, stored = fleet.iam(name), fleet.stored(name)
    for user in ("alice", "bob", "carol"):
        iam.deactivate_mfa_device(UserName=user, SerialNumber=stored[user]["serial_number"])
    iam.delete_virtual_mfa_device(SerialNumber=stored["bob"]["serial_number"])
    iam.delete_user(UserName="carol")
    resumed = remove(fleet, ansible, ["alice", "bob", "carol"])
    assert resumed.rc == 0, resumed.output
    assert set(fleet.stored(name)) == {"dave", "erin"} and fleet.unassigned_devices(name) == []


def test_removal_of_an_unknown_user_fails_before_any_change(fleet, ansible):
    state = snapshot(fleet)
    result = remove(fleet, ansible, ["ghost"])
    assert result.rc != 0 and "has no IAM user, stored seed or MFA device for ghost: check enroll_remove_users" in result.output
    assert writes(fleet.aws.calls()) == [] and snapshot(fleet) == state


def test_no_seed_or_credential_reaches_the_output_of_rotation_or_removal(fleet, ansible):
    outputs = [rotate(fleet, ansible, verbosity=4).output, remove(fleet, ansible, ["alice"], verbosity=4).output]
    secrets = fleet.aws.issued_seeds() + fleet.aws.issued_credentials()
    for output in outputs:
        for secret in secrets:
            assert secret not in output


def test_a_new_device_that_cannot_be_enabled_stops_the_rotation_before_any_old_device_is_retired(fleet, ansible):
    """alice has the 8 devices AWS allows, so her new device cannot be enabled: nobody loses a working device."""
    name = "payments"
    before = fleet.enabled_devices(name)
    for number in range(7):
        seeded_device(fleet, name, f"spare-{number}", user="alice")
    stored = fleet.stored(name)
    failed = rotate(fleet, ansible, enroll_rotate_users=["alice", "bob"])
    assert failed.rc != 0 and "the most AWS allows" in failed.output, failed.output
    after = fleet.enabled_devices(name)
    for user in ("alice", "bob"):
        assert before[user][0] in after[user]  # the old device is still enabled
        assert fleet.stored(name)[user]["previous"]["serial_number"] == stored[user]["serial_number"]  # and its seed kept

    iam = fleet.iam(name)
    for number in range(7):
        serial = f"{stored['alice']['serial_number'].rsplit('/', 1)[0]}/spare-{number}"
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    resumed = rotate(fleet, ansible, enroll_rotate_users=["alice", "bob"], enroll_rotate_max_age_days=90)
    assert resumed.rc == 0, resumed.output
    fleet.assert_converged()
    assert all(fleet.enabled_devices(name)[user][0].endswith(f"/{user}-2") for user in ("alice", "bob"))
