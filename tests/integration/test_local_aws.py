"""The local AWS endpoint behaves like AWS where mfa.aws depends on it, and the fixtures around it work."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pyotp
import pytest
from botocore.exceptions import ClientError

from local_aws import WRITE_ACTION_PREFIXES, LocalAWS, is_write
from local_aws.totp import DeviceTOTP

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    """The AWS error code of a failed call."""
    return excinfo.value.response["Error"]["Code"]


def window() -> int:
    """The current TOTP window, after waiting out its last two seconds so that a test's calls fall in it."""
    remaining = 30 - time.time() % 30
    if remaining < 2:
        time.sleep(remaining + 0.1)
    return int(time.time() // 30)


def code(seed: str, totp_window: int) -> str:
    """The code a device with this seed shows during the window."""
    return pyotp.TOTP(seed).at(totp_window * 30)


def codes(seed: str, first_window: int) -> dict[str, str]:
    """The two codes of windows first_window and first_window + 1, as EnableMFADevice parameters."""
    return {"AuthenticationCode1": code(seed, first_window), "AuthenticationCode2": code(seed, first_window + 1)}


def new_device(iam: Any, name: str, **kwargs: Any) -> tuple[str, str]:
    """Create a virtual device: its serial number and base32 seed."""
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, **kwargs)["VirtualMFADevice"]
    return device["SerialNumber"], device["Base32StringSeed"].decode("ascii")


def enable(iam: Any, user: str, serial: str, seed: str) -> None:
    """Enable the device for the user with a valid pair, the way mfa.aws computes it: [code(now-1), code(now)]."""
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, **codes(seed, window() - 1))


def user_devices(iam: Any, user: str) -> list[str]:
    """The serial numbers of the user's MFA devices."""
    return [device["SerialNumber"] for device in iam.list_mfa_devices(UserName=user)["MFADevices"]]


@pytest.fixture(name="iam")
def iam_client(fresh_aws: LocalAWS) -> Any:
    """An IAM client of the freshly reset endpoint."""
    return fresh_aws.client("iam")


@pytest.fixture(name="alice_device")
def alice_with_a_device(iam: Any) -> tuple[str, str]:
    """The IAM user alice and a virtual device named after her, not enabled yet: its serial number and seed."""
    iam.create_user(UserName="alice")
    return new_device(iam, "alice")


# --- calls, accounts, admin API, CLI ---------------------------------------------------------------


def test_every_call_is_recorded_with_service_action_and_account(fresh_aws: LocalAWS) -> None:
    fresh_aws.client("iam").create_user(UserName="alice")
    fresh_aws.client("sts").get_caller_identity()
    fresh_aws.client("secretsmanager").create_secret(Name="s", SecretString="v")
    fresh_aws.client("iam", account_id=OTHER_ACCOUNT).list_users()
    fresh_aws.calls()  # admin calls are not recorded

    assert fresh_aws.calls() == [
        {"service": "iam", "action": "CreateUser", "account_id": ACCOUNT},
        {"service": "sts", "action": "GetCallerIdentity", "account_id": ACCOUNT},
        {"service": "secretsmanager", "action": "CreateSecret", "account_id": ACCOUNT},
        {"service": "iam", "action": "ListUsers", "account_id": OTHER_ACCOUNT},
    ]
    fresh_aws.reset_calls()
    assert not fresh_aws.calls()


def test_client_of_another_account_sees_only_that_account(fresh_aws: LocalAWS) -> None:
    fresh_aws.client("iam", account_id=OTHER_ACCOUNT).create_user(UserName="bob")

    assert [u["UserName"] for u in fresh_aws.client("iam", account_id=OTHER_ACCOUNT).list_users()["Users"]] == ["bob"]
    assert not fresh_aws.client("iam").list_users()["Users"]
    assert fresh_aws.client("sts", account_id=OTHER_ACCOUNT).get_caller_identity()["Account"] == OTHER_ACCOUNT


def test_assumed_role_credentials_act_in_the_role_account(fresh_aws: LocalAWS) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    fresh_aws.client("iam", account_id=OTHER_ACCOUNT).create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=json.dumps(trust))
    fresh_aws.reset_calls()
    credentials = fresh_aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/OrganizationAccountAccessRole", RoleSessionName="mfa-aws"
    )["Credentials"]
    session = botocore.session.get_session()
    member_iam = session.create_client(
        "iam",
        endpoint_url=fresh_aws.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    member_iam.create_user(UserName="carol")

    assert fresh_aws.calls()[-1] == {"service": "iam", "action": "CreateUser", "account_id": OTHER_ACCOUNT}
    assert [u["UserName"] for u in fresh_aws.client("iam", account_id=OTHER_ACCOUNT).list_users()["Users"]] == ["carol"]


def test_connect_drives_a_running_endpoint_by_url(fresh_aws: LocalAWS) -> None:
    fresh_aws.client("iam").list_users()
    remote = LocalAWS.connect(fresh_aws.url + "/")

    assert remote.url == fresh_aws.url
    assert remote.calls() == [{"service": "iam", "action": "ListUsers", "account_id": ACCOUNT}]


def test_admin_api_rejects_unknown_endpoints_and_bad_input(fresh_aws: LocalAWS) -> None:
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(f"{fresh_aws.url}/_local_aws/nothing-here", timeout=30)
    with pytest.raises(urllib.error.HTTPError) as bad_share:
        fresh_aws.throttle(1.5)
    with pytest.raises(urllib.error.HTTPError) as arn_serial:
        fresh_aws.register_hardware_token(f"arn:aws:iam::{ACCOUNT}:mfa/x", "JBSWY3DPEHPK3PXP")

    assert (unknown.value.code, bad_share.value.code, arn_serial.value.code) == (404, 400, 400)


def test_environ_points_subprocesses_at_the_endpoint(fresh_aws: LocalAWS) -> None:
    environ = fresh_aws.environ({"PATH": os.defpath, "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "stale", "LANG": "C.UTF-8"})
    script = "import boto3; print(boto3.client('iam').list_users()['Users'][0]['UserName'])"
    fresh_aws.client("iam").create_user(UserName="dave")

    listed = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True, check=True, timeout=60)

    assert "AWS_PROFILE" not in environ and "AWS_SESSION_TOKEN" not in environ
    assert environ["AWS_ENDPOINT_URL"] == fresh_aws.url and environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert listed.stdout.strip() == "dave"
    assert fresh_aws.calls()[-1] == {"service": "iam", "action": "ListUsers", "account_id": ACCOUNT}


def test_command_line_serves_until_sigterm(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    tests_dir = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tests_dir)}
    with subprocess.Popen([sys.executable, "-m", "local_aws", "--port", "0", "--url-file", str(url_file)], env=env) as server:
        deadline = time.monotonic() + 30
        while not url_file.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        endpoint = LocalAWS.connect(url_file.read_text(encoding="utf-8"))
        endpoint.client("iam").create_user(UserName="erin")
        users = [u["UserName"] for u in endpoint.client("iam").list_users()["Users"]]
        calls = endpoint.calls()
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=30)

    assert users == ["erin"]
    assert [call["action"] for call in calls] == ["CreateUser", "ListUsers"]
    assert returncode == 0


def test_command_line_behaves_like_aws_from_afar_when_asked(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    tests_dir = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tests_dir)}
    command = [sys.executable, "-m", "local_aws", "--port", "0", "--url-file", str(url_file), "--latency-ms", "5", "--lag-seconds", "600",
               "--throttle-share", "0.5"]
    with subprocess.Popen(command, env=env) as server:
        deadline = time.monotonic() + 30
        while not url_file.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        endpoint = LocalAWS.connect(url_file.read_text(encoding="utf-8"))
        iam = endpoint.client("iam")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="erin")["VirtualMFADevice"]["SerialNumber"]
        listings = [iam.list_virtual_mfa_devices()["VirtualMFADevices"] for _attempt in range(6)]
        throttled = [call for call in endpoint.calls() if call.get("throttled")]
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert serial.endswith(":mfa/erin") and listings == [[]] * 6  # created, and not visible yet
    assert throttled and all(call["service"] == "iam" for call in throttled)


# --- EnableMFADevice -------------------------------------------------------------------------------


def test_enable_accepts_the_previous_and_current_code(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device

    enable(iam, "alice", serial, seed)

    assert user_devices(iam, "alice") == [serial]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [(d["SerialNumber"], d["User"]["UserName"]) for d in assigned] == [(serial, "alice")]


def test_enable_accepts_a_pair_that_started_two_windows_ago(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device

    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, window() - 2))

    assert user_devices(iam, "alice") == [serial]


@pytest.mark.parametrize(
    "make_pair",
    [
        pytest.param(lambda seed, now: (code(seed, now - 3), code(seed, now - 2)), id="too-old"),
        pytest.param(lambda seed, now: (code(seed, now + 1), code(seed, now + 2)), id="future"),
        pytest.param(lambda seed, now: (code(seed, now), code(seed, now - 1)), id="swapped"),
        pytest.param(lambda seed, now: (code(seed, now), code(seed, now)), id="same-code-twice"),
        pytest.param(lambda seed, now: (code(seed, now - 2), code(seed, now)), id="not-consecutive"),
        pytest.param(lambda seed, now: ("123456", "654321"), id="made-up"),
        pytest.param(lambda seed, now: tuple(codes(pyotp.random_base32(), now - 1).values()), id="other-seed"),
    ],
)
def test_enable_refuses_invalid_codes_and_changes_nothing(iam: Any, make_pair: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    code1, code2 = make_pair(seed, window())

    with pytest.raises(ClientError) as refused:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2)

    assert error_code(refused) == "InvalidAuthenticationCode"
    assert refused.value.response["Error"]["Message"] == "Authentication code for device is not valid."
    assert not user_devices(iam, "alice")
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial]


def test_enable_refuses_a_pair_already_used_for_the_device(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    now = window()
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 1))
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)

    with pytest.raises(ClientError) as reused:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 1))
    assert error_code(reused) == "InvalidAuthenticationCode"
    assert not user_devices(iam, "alice")

    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 2))
    assert user_devices(iam, "alice") == [serial]


def test_a_device_of_one_user_cannot_be_enabled_again(iam: Any, alice_device: tuple[str, str]) -> None:
    iam.create_user(UserName="bob")
    serial, seed = alice_device
    now = window()
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 1))

    with pytest.raises(ClientError) as for_bob:
        iam.enable_mfa_device(UserName="bob", SerialNumber=serial, **codes(seed, now - 2))
    with pytest.raises(ClientError) as for_alice_again:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 2))

    assert error_code(for_bob) == error_code(for_alice_again) == "EntityAlreadyExists"
    assert for_bob.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert not user_devices(iam, "bob")
    assert user_devices(iam, "alice") == [serial]


def test_enable_refuses_unknown_devices_and_users(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    valid = codes(seed, window() - 1)

    with pytest.raises(ClientError) as unknown_virtual:
        iam.enable_mfa_device(UserName="alice", SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/nobody", **valid)
    with pytest.raises(ClientError) as unknown_hardware:
        iam.enable_mfa_device(UserName="alice", SerialNumber="GAHT00000001", **valid)
    with pytest.raises(ClientError) as unknown_user:
        iam.enable_mfa_device(UserName="nobody", SerialNumber=serial, **valid)

    assert [error_code(e) for e in (unknown_virtual, unknown_hardware, unknown_user)] == ["NoSuchEntity"] * 3
    assert not user_devices(iam, "alice")


def test_a_user_has_at_most_eight_mfa_devices(iam: Any) -> None:
    iam.create_user(UserName="alice")
    devices = [new_device(iam, f"alice-{index}") for index in range(9)]
    for serial, seed in devices[:8]:
        enable(iam, "alice", serial, seed)

    with pytest.raises(ClientError) as ninth:
        enable(iam, "alice", *devices[8])

    assert error_code(ninth) == "LimitExceeded"
    assert sorted(user_devices(iam, "alice")) == sorted(device[0] for device in devices[:8])


@pytest.mark.parametrize("seed", ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"], ids=["160-bit", "80-bit"])
def test_hardware_tokens_are_checked_against_their_registered_seed(fresh_aws: LocalAWS, iam: Any, seed: str) -> None:
    fresh_aws.register_hardware_token("GAHT12345678", seed)
    iam.create_user(UserName="alice")
    token = DeviceTOTP(seed)
    now = window()

    with pytest.raises(ClientError) as wrong:
        iam.enable_mfa_device(UserName="alice", SerialNumber="GAHT12345678", AuthenticationCode1="000000", AuthenticationCode2="000000")
    iam.enable_mfa_device(
        UserName="alice", SerialNumber="GAHT12345678", AuthenticationCode1=token.at((now - 1) * 30), AuthenticationCode2=token.at(now * 30)
    )

    assert error_code(wrong) == "InvalidAuthenticationCode"
    assert user_devices(iam, "alice") == ["GAHT12345678"]
    assert seed in fresh_aws.issued_seeds()


def test_hardware_tokens_belong_to_their_account(fresh_aws: LocalAWS, iam: Any) -> None:
    seed = pyotp.random_base32()
    fresh_aws.register_hardware_token("GAHT87654321", seed, account_id=OTHER_ACCOUNT)
    iam.create_user(UserName="alice")
    member_iam = fresh_aws.client("iam", account_id=OTHER_ACCOUNT)
    member_iam.create_user(UserName="alice")

    with pytest.raises(ClientError) as elsewhere:
        iam.enable_mfa_device(UserName="alice", SerialNumber="GAHT87654321", **codes(seed, window() - 1))
    member_iam.enable_mfa_device(UserName="alice", SerialNumber="GAHT87654321", **codes(seed, window() - 1))

    assert error_code(elsewhere) == "NoSuchEntity"
    assert user_devices(member_iam, "alice") == ["GAHT87654321"]


def test_invalid_hardware_token_seeds_are_refused(fresh_aws: LocalAWS) -> None:
    for bad_seed in ("not base32!", "JBSWY3DP"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            fresh_aws.register_hardware_token("GAHT00000002", bad_seed)
        assert refused.value.code == 400


# --- deleting ----------------------------------------------------------------------------------------


def test_an_assigned_device_cannot_be_deleted(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    enable(iam, "alice", serial, seed)

    with pytest.raises(ClientError) as conflict:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_code(conflict) == "DeleteConflict"
    assert conflict.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert not iam.list_virtual_mfa_devices()["VirtualMFADevices"]


def test_a_user_with_mfa_cannot_be_deleted(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    enable(iam, "alice", serial, seed)

    with pytest.raises(ClientError) as conflict:
        iam.delete_user(UserName="alice")
    assert error_code(conflict) == "DeleteConflict"

    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    iam.delete_user(UserName="alice")
    assert not iam.list_users()["Users"]


# --- ListVirtualMFADevices -------------------------------------------------------------------------


def test_listing_never_shows_seeds_or_qr_codes(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    other_seed = new_device(iam, "spare")[1]
    enable(iam, "alice", serial, seed)
    bodies: list[bytes] = []
    iam.meta.events.register("after-call.iam.ListVirtualMFADevices", lambda http_response, **kwargs: bodies.append(http_response.content))

    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]

    assert len(devices) == 2
    assert all("Base32StringSeed" not in device and "QRCodePNG" not in device for device in devices)
    assert b"Base32StringSeed" not in bodies[0] and b"QRCodePNG" not in bodies[0]
    assert seed.encode() not in bodies[0] and other_seed.encode() not in bodies[0]


@pytest.mark.parametrize("count", [7, 6])
def test_listing_pages_through_every_device_once_in_a_stable_order(iam: Any, count: int) -> None:
    names = [f"device-{index:02d}" for index in (5, 0, 3, 6, 1, 4, 2)[:count]]
    for name in names:
        new_device(iam, name)

    pages = []
    kwargs: dict[str, Any] = {"MaxItems": 3}
    while True:
        page = iam.list_virtual_mfa_devices(**kwargs)
        pages.append([device["SerialNumber"].rsplit("/", 1)[1] for device in page["VirtualMFADevices"]])
        if not page["IsTruncated"]:
            break
        kwargs["Marker"] = page["Marker"]
    listed = [name for page in pages for name in page]
    paginated = [
        device["SerialNumber"].rsplit("/", 1)[1]
        for page in iam.get_paginator("list_virtual_mfa_devices").paginate(PaginationConfig={"PageSize": 2})
        for device in page["VirtualMFADevices"]
    ]

    assert listed == paginated == sorted(names)
    assert [len(page) for page in pages] == [3, 3, 1] if count == 7 else [3, 3]


def test_listing_filters_by_assignment_status(iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    spare = new_device(iam, "spare")[0]
    enable(iam, "alice", serial, seed)

    def listed(status: str) -> list[str]:
        return [d["SerialNumber"] for d in iam.list_virtual_mfa_devices(AssignmentStatus=status)["VirtualMFADevices"]]

    assert listed("Assigned") == [serial]
    assert listed("Unassigned") == [spare]
    assert listed("Any") == sorted([serial, spare])


# --- CreateVirtualMFADevice, tags, GetMFADevice, ResyncMFADevice -------------------------------------


def test_create_returns_a_seed_and_a_png_qr_code_and_records_the_seed(fresh_aws: LocalAWS, iam: Any) -> None:
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode("ascii")

    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT}:mfa/alice"
    assert len(pyotp.TOTP(seed).now()) == 6
    assert device["QRCodePNG"].startswith(PNG_SIGNATURE)
    assert "Tags" not in device
    assert seed in fresh_aws.issued_seeds()


def test_tags_given_at_creation_are_returned_and_kept_but_not_listed(iam: Any) -> None:
    tags = [{"Key": "owner", "Value": "alice"}, {"Key": "team", "Value": "blue"}]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice", Tags=tags)["VirtualMFADevice"]

    assert device["Tags"] == tags
    # AWS's resource listings leave tags out: ListMFADeviceTags reads them.
    assert "Tags" not in iam.list_virtual_mfa_devices()["VirtualMFADevices"][0]
    assert iam.list_mfa_device_tags(SerialNumber=device["SerialNumber"])["Tags"] == tags


def test_tag_untag_and_list_device_tags(iam: Any) -> None:
    serial = new_device(iam, "alice", Tags=[{"Key": "owner", "Value": "alice"}])[0]

    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "owner", "Value": "bob"}, {"Key": "team", "Value": "blue"}])
    after_tagging = iam.list_mfa_device_tags(SerialNumber=serial)
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["owner", "absent"])
    after_untagging = iam.list_mfa_device_tags(SerialNumber=serial)

    assert after_tagging["Tags"] == [{"Key": "owner", "Value": "bob"}, {"Key": "team", "Value": "blue"}]
    assert after_tagging["IsTruncated"] is False
    assert after_untagging["Tags"] == [{"Key": "team", "Value": "blue"}]


def test_device_tags_page(iam: Any) -> None:
    serial = new_device(iam, "alice", Tags=[{"Key": f"k{index}", "Value": "v"} for index in range(5)])[0]

    first = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=3)
    second = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=3, Marker=first["Marker"])

    assert [tag["Key"] for tag in first["Tags"] + second["Tags"]] == [f"k{index}" for index in range(5)]
    assert first["IsTruncated"] and not second["IsTruncated"]


def test_device_tag_errors(iam: Any) -> None:
    serial = new_device(iam, "alice")[0]
    unknown = f"arn:aws:iam::{ACCOUNT}:mfa/nobody"

    failures = []
    for call in (
        lambda: iam.tag_mfa_device(SerialNumber=unknown, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: iam.untag_mfa_device(SerialNumber=unknown, TagKeys=["k"]),
        lambda: iam.list_mfa_device_tags(SerialNumber=unknown),
        lambda: iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": f"k{index}", "Value": "v"} for index in range(51)]),
        lambda: iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]),
        lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="many", Tags=[{"Key": f"k{index}", "Value": "v"} for index in range(51)]),
    ):
        with pytest.raises(ClientError) as failed:
            call()
        failures.append(error_code(failed))

    assert failures == ["NoSuchEntity", "NoSuchEntity", "NoSuchEntity", "LimitExceeded", "InvalidInput", "LimitExceeded"]
    assert not iam.list_mfa_device_tags(SerialNumber=serial)["Tags"]
    assert len(iam.list_virtual_mfa_devices()["VirtualMFADevices"]) == 1


def test_get_mfa_device_of_a_user(fresh_aws: LocalAWS, iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    spare = new_device(iam, "spare")[0]
    enable(iam, "alice", serial, seed)
    hardware_seed = pyotp.random_base32()
    fresh_aws.register_hardware_token("GAHT00000003", hardware_seed)
    enable(iam, "alice", "GAHT00000003", hardware_seed)

    virtual = iam.get_mfa_device(SerialNumber=serial, UserName="alice")
    hardware = iam.get_mfa_device(SerialNumber="GAHT00000003", UserName="alice")
    failures = []
    for kwargs in ({"SerialNumber": spare, "UserName": "alice"}, {"SerialNumber": serial, "UserName": "nobody"}, {"SerialNumber": serial}):
        with pytest.raises(ClientError) as failed:
            iam.get_mfa_device(**kwargs)
        failures.append(error_code(failed))

    assert (virtual["UserName"], virtual["SerialNumber"]) == ("alice", serial)
    assert (hardware["UserName"], hardware["SerialNumber"]) == ("alice", "GAHT00000003")
    assert abs(time.time() - virtual["EnableDate"].timestamp()) < 60
    assert "Certifications" not in virtual
    assert failures == ["NoSuchEntity"] * 3


def test_get_mfa_device_defaults_to_the_calling_user(fresh_aws: LocalAWS, iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    enable(iam, "alice", serial, seed)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice_iam = botocore.session.get_session().create_client(
        "iam", endpoint_url=fresh_aws.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
    )

    assert alice_iam.get_mfa_device(SerialNumber=serial)["UserName"] == "alice"


def test_resync_checks_codes_like_enable(iam: Any, alice_device: tuple[str, str]) -> None:
    iam.create_user(UserName="bob")
    serial, seed = alice_device
    now = window()
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 1))

    iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **codes(seed, now - 2))
    failures = []
    for user, pair in (("alice", codes(seed, now - 2)), ("alice", codes(seed, now - 4)), ("alice", codes(seed, now - 1)), ("bob", codes(seed, now - 1))):
        with pytest.raises(ClientError) as failed:
            iam.resync_mfa_device(UserName=user, SerialNumber=serial, **pair)
        failures.append(error_code(failed))

    assert failures == ["InvalidAuthenticationCode", "InvalidAuthenticationCode", "InvalidAuthenticationCode", "NoSuchEntity"]
    assert user_devices(iam, "alice") == [serial]


# --- credential report, account summary --------------------------------------------------------------


def test_credential_report_starts_with_the_root_user(fresh_aws: LocalAWS, iam: Any, alice_device: tuple[str, str]) -> None:
    serial, seed = alice_device
    enable(iam, "alice", serial, seed)

    with pytest.raises(ClientError) as not_yet:
        iam.get_credential_report()
    states = [iam.generate_credential_report()["State"], iam.generate_credential_report()["State"]]
    report = iam.get_credential_report()
    rows = report["Content"].decode().splitlines()
    fresh_aws.set_root_mfa(True)
    root_unchanged = iam.get_credential_report()["Content"].decode().splitlines()[1].split(",")
    iam.generate_credential_report()
    root_after = iam.get_credential_report()["Content"].decode().splitlines()[1].split(",")

    assert error_code(not_yet) == "ReportNotPresent"
    assert states == ["STARTED", "COMPLETE"]
    assert report["ReportFormat"] == "text/csv"
    assert abs(time.time() - report["GeneratedTime"].timestamp()) < 60
    header = rows[0].split(",")
    root, alice = (dict(zip(header, row.split(","))) for row in rows[1:])
    assert (root["user"], root["arn"], root["mfa_active"]) == ("<root_account>", f"arn:aws:iam::{ACCOUNT}:root", "false")
    assert (alice["user"], alice["mfa_active"]) == ("alice", "true")
    assert root_unchanged[header.index("mfa_active")] == "false"  # a report is a snapshot
    assert root_after[header.index("mfa_active")] == "true"


def test_account_summary_follows_root_mfa(fresh_aws: LocalAWS, iam: Any) -> None:
    before = iam.get_account_summary()["SummaryMap"]
    fresh_aws.set_root_mfa(True)
    during = iam.get_account_summary()["SummaryMap"]
    other_account = fresh_aws.client("iam", account_id=OTHER_ACCOUNT).get_account_summary()["SummaryMap"]
    fresh_aws.set_root_mfa(False)
    after = iam.get_account_summary()["SummaryMap"]

    assert (before["AccountMFAEnabled"], during["AccountMFAEnabled"], other_account["AccountMFAEnabled"], after["AccountMFAEnabled"]) == (0, 1, 0, 0)
    assert during["UsersQuota"] == 5000


# --- centralised root access: sts:AssumeRoot and root sessions ----------------------------------------------------------

AUDIT_POLICY = {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}


def root_session_iam(fresh_aws: LocalAWS, credentials: dict[str, Any]) -> Any:
    session = botocore.session.get_session()
    return session.create_client("iam", endpoint_url=fresh_aws.url, region_name="us-east-1", aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"])


def test_assume_root_is_for_the_management_account_with_root_sessions_enabled(fresh_aws: LocalAWS) -> None:
    organizations = fresh_aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    member = organizations.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]["AccountId"]
    sts = fresh_aws.client("sts")

    with pytest.raises(ClientError, match="RootSessions") as disabled:
        sts.assume_root(TargetPrincipal=member, TaskPolicyArn=AUDIT_POLICY)
    iam = fresh_aws.client("iam")
    assert iam.enable_organizations_root_sessions()["EnabledFeatures"] == ["RootSessions"]
    with pytest.raises(ClientError, match="not a member account") as management:
        sts.assume_root(TargetPrincipal=ACCOUNT, TaskPolicyArn=AUDIT_POLICY)
    with pytest.raises(ClientError, match="root-task policies") as policy:
        sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    with pytest.raises(ClientError, match="between 0 and 900"):
        sts.assume_root(TargetPrincipal=member, TaskPolicyArn=AUDIT_POLICY, DurationSeconds=3600)
    with pytest.raises(ClientError) as from_member:
        fresh_aws.client("sts", account_id=member).assume_root(TargetPrincipal=member, TaskPolicyArn=AUDIT_POLICY)
    with pytest.raises(ClientError) as member_features:
        fresh_aws.client("iam", account_id=member).list_organizations_features()

    assert [error_code(raised) for raised in (disabled, management, policy, from_member)] == ["AccessDenied", "AccessDenied", "ValidationError", "AccessDenied"]
    assert error_code(member_features) == "AccountNotManagementOrDelegatedAdministratorException"


def test_a_root_session_acts_on_the_member_root_user_within_its_task_policy(fresh_aws: LocalAWS) -> None:
    organizations = fresh_aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    member = organizations.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]["AccountId"]
    fresh_aws.client("iam").enable_organizations_root_sessions()
    devices = [f"arn:aws:iam::{member}:mfa/root", "GAHT00000007"]
    fresh_aws.set_root_mfa(True, account_id=member, devices=devices)
    sts = fresh_aws.client("sts")

    audit = root_session_iam(fresh_aws, sts.assume_root(TargetPrincipal=member, TaskPolicyArn=AUDIT_POLICY)["Credentials"])
    assert sorted(device["SerialNumber"] for device in audit.list_mfa_devices()["MFADevices"]) == sorted(devices)
    assert audit.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 1
    with pytest.raises(ClientError, match="IAMAuditRootUserCredentials") as denied:
        audit.deactivate_mfa_device(SerialNumber="GAHT00000007")
    with pytest.raises(ClientError) as on_a_user:
        audit.list_mfa_devices(UserName="alice")
    assert error_code(denied) == error_code(on_a_user) == "AccessDenied"

    delete = {"arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"}
    remover = root_session_iam(fresh_aws, sts.assume_root(TargetPrincipal=member, TaskPolicyArn=delete)["Credentials"])
    remover.deactivate_mfa_device(SerialNumber="GAHT00000007")
    assert fresh_aws.root_devices(member) == [f"arn:aws:iam::{member}:mfa/root"]
    calls = [(call["service"], call["action"], call["account_id"]) for call in fresh_aws.calls()]
    assert ("iam", "DeactivateMFADevice", member) in calls  # the session's calls are the member account's
    issued = fresh_aws.issued_credentials()
    assert len([value for value in issued if value.startswith("ASIA")]) >= 2


# --- write classification ----------------------------------------------------------------------------


def test_every_iam_action_is_classified() -> None:
    reads = ("Get", "List", "Generate", "Simulate", "AcquireRole")
    operations = botocore.session.get_session().get_service_model("iam").operation_names

    unclassified = [op for op in operations if not is_write(op) and not op.startswith(reads)]

    assert not unclassified
    assert not any(is_write(op) and op.startswith(reads) for op in operations)
    assert is_write("EnableMFADevice") and is_write("TagMFADevice") and is_write("ResyncMFADevice")
    assert not is_write("GenerateCredentialReport") and not is_write("ListMFADevices") and not is_write(None)
    assert "Generate" not in WRITE_ACTION_PREFIXES


def test_calls_tell_reads_from_writes(iam: Any, fresh_aws: LocalAWS) -> None:
    iam.create_user(UserName="alice")
    fresh_aws.reset_calls()
    iam.list_users()
    iam.list_virtual_mfa_devices()
    iam.generate_credential_report()
    iam.get_credential_report()
    reads = fresh_aws.calls()
    iam.tag_user(UserName="alice", Tags=[{"Key": "k", "Value": "v"}])

    assert len(reads) == 4 and not any(is_write(call["action"]) for call in reads)
    assert [call["action"] for call in fresh_aws.calls() if is_write(call["action"])] == ["TagUser"]


# --- throttling ------------------------------------------------------------------------------------


def test_default_retries_get_through_partial_throttling(fresh_aws: LocalAWS, iam: Any) -> None:
    fresh_aws.throttle(0.3, service="iam", seed=1)

    for index in range(8):
        iam.create_user(UserName=f"user-{index}")
    users = iam.list_users()["Users"]
    fresh_aws.client("sts").get_caller_identity()
    calls = fresh_aws.calls()

    assert len(users) == 8
    throttled = [call for call in calls if call.get("throttled")]
    assert throttled and all(call["service"] == "iam" for call in throttled)
    assert len(calls) == 8 + 1 + 1 + len(throttled)


def test_full_throttling_fails_with_throttling(fresh_aws: LocalAWS, iam: Any) -> None:
    fresh_aws.throttle(1.0)
    with pytest.raises(ClientError) as throttled:
        iam.list_users()
    attempts = fresh_aws.calls()
    fresh_aws.throttle(0)
    iam.list_users()

    assert error_code(throttled) == "Throttling"
    assert throttled.value.response["Error"]["Message"] == "Rate exceeded"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert attempts and all(call == {"service": "iam", "action": "ListUsers", "account_id": ACCOUNT, "throttled": True} for call in attempts)
    assert fresh_aws.calls()[-1] == {"service": "iam", "action": "ListUsers", "account_id": ACCOUNT}


def test_json_protocol_services_are_throttled_in_their_protocol(fresh_aws: LocalAWS) -> None:
    fresh_aws.throttle(1.0, service="ssm")
    with pytest.raises(ClientError) as throttled:
        fresh_aws.client("ssm").get_parameters_by_path(Path="/")
    fresh_aws.client("iam").list_users()

    assert error_code(throttled) == "ThrottlingException"
    assert fresh_aws.calls()[-1] == {"service": "iam", "action": "ListUsers", "account_id": ACCOUNT}


def test_reset_turns_faults_off_but_keeps_issued_seeds(fresh_aws: LocalAWS) -> None:
    seed = new_device(fresh_aws.client("iam"), "alice")[1]
    fresh_aws.throttle(1.0)
    fresh_aws.reset()

    assert not fresh_aws.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"]
    assert fresh_aws.calls() == [{"service": "iam", "action": "ListVirtualMFADevices", "account_id": ACCOUNT}]
    assert seed in fresh_aws.issued_seeds()


# --- the ansible fixture -------------------------------------------------------------------------------


def test_playbook_from_yaml_text(ansible: Any) -> None:
    result = ansible.playbook(
        """
- name: Two tasks
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Set a fact
      ansible.builtin.set_fact:
        greeting: "hello {{ who }}"
    - name: Show it
      ansible.builtin.debug:
        msg: "{{ greeting }}"
""",
        extra_vars={"who": "world"},
    )

    assert result.rc == 0, result.output
    assert result.recap["localhost"]["ok"] == 2 and result.recap["localhost"]["changed"] == 0
    assert result.recap["localhost"]["failed"] == 0
    assert '"msg": "hello world"' in result.output
    assert [(task["task"], task["status"]) for task in result.task_results] == [("Set a fact", "ok"), ("Show it", "ok")]


def test_playbook_from_a_path_reports_failures_and_censors_no_log(ansible: Any, tmp_path: Path) -> None:
    playbook = tmp_path / "failing.yml"
    playbook.write_text(
        """
- name: Secret then failure
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Secret
      ansible.builtin.debug:
        msg: "s3cr3t-value"
      no_log: true
    - name: Fail
      ansible.builtin.fail:
        msg: "boom"
""",
        encoding="utf-8",
    )

    result = ansible.playbook(playbook, verbosity=1)

    assert result.rc == 2
    assert result.recap["localhost"]["failed"] == 1 and result.recap["localhost"]["ok"] == 1
    assert "s3cr3t-value" not in json.dumps(result.task_results)
    assert result.task_results[0]["result"]["censored"]
    assert (result.task_results[1]["status"], result.task_results[1]["result"]["msg"]) == ("failed", "boom")


def test_module_returns_the_registered_result(ansible: Any) -> None:
    result = ansible.module("ansible.builtin.set_fact", {"answer": 42, "names": ["a", "b"]}, check=True)

    assert result.rc == 0, result.output
    assert result.result["ansible_facts"] == {"answer": 42, "names": ["a", "b"]}
    assert result.recap["localhost"]["ok"] == 1


def test_ansible_aws_modules_reach_the_endpoint(ansible: Any, fresh_aws: LocalAWS) -> None:
    fresh_aws.client("iam").create_user(UserName="alice")
    fresh_aws.reset_calls()

    result = ansible.module("amazon.aws.iam_user_info", {"name": "alice"})

    assert result.rc == 0, result.output
    assert [user["user_name"] for user in result.result["iam_users"]] == ["alice"]
    assert {(call["service"], call["account_id"]) for call in fresh_aws.calls()} == {("iam", ACCOUNT)}
    assert not any(is_write(call["action"]) for call in fresh_aws.calls())


def test_credential_reports_are_kept_as_aws_keeps_them(fresh_aws: LocalAWS, iam: Any) -> None:
    fresh_aws.keep_credential_reports(3600)
    iam.create_user(UserName="alice")
    iam.generate_credential_report()
    first = iam.get_credential_report()
    iam.create_user(UserName="bob")

    assert iam.generate_credential_report()["State"] == "COMPLETE"
    kept = iam.get_credential_report()
    fresh_aws.keep_credential_reports(0)
    iam.generate_credential_report()
    renewed = iam.get_credential_report()

    assert kept["Content"] == first["Content"] and kept["GeneratedTime"] == first["GeneratedTime"]
    assert b"\nbob," not in kept["Content"]
    assert b"\nbob," in renewed["Content"]


def test_temporary_credentials_are_remembered_for_leak_checks(fresh_aws: LocalAWS) -> None:
    org = fresh_aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account_id = org.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    sts = fresh_aws.client("sts")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="leak-check")["Credentials"]

    issued = fresh_aws.issued_credentials()
    assert {credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]} <= set(issued)


def test_a_role_that_does_not_exist_cannot_be_assumed(fresh_aws: LocalAWS) -> None:
    org = fresh_aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account_id = org.create_account(Email="m@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    sts = fresh_aws.client("sts")

    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/NoSuchRole", RoleSessionName="denied")
    granted = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="granted")

    assert error_code(denied) == "AccessDenied"
    assert f":{account_id}:assumed-role/OrganizationAccountAccessRole/granted" in granted["AssumedRoleUser"]["Arn"]


# --- real AWS from afar: latency and eventual consistency ---------------------------------------------------------------


def test_latency_delays_every_call_and_calls_at_once_wait_at_once(fresh_aws: LocalAWS, iam: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fresh_aws.slow_down(latency_ms=1000)

    def timed_call(_index: int) -> tuple[float, float]:
        started = time.monotonic()
        fresh_aws.client("iam").list_users()
        return started, time.monotonic()

    with ThreadPoolExecutor(4) as pool:
        spans = list(pool.map(timed_call, range(4)))
    fresh_aws.slow_down()

    # Every call waited the latency, and the calls waited at once: each started before any other ended.
    assert all(ended - started >= 1.0 for started, ended in spans)
    assert max(started for started, _ended in spans) < min(ended for _started, ended in spans)


def test_a_new_device_is_invisible_for_the_lag_but_its_name_is_taken(fresh_aws: LocalAWS, iam: Any) -> None:
    fresh_aws.slow_down(lag_seconds=1.5)
    iam.create_user(UserName="alice")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    seed = device["Base32StringSeed"].decode("ascii") if isinstance(device["Base32StringSeed"], bytes) else device["Base32StringSeed"]
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    for call in (lambda: iam.list_mfa_device_tags(SerialNumber=serial), lambda: iam.delete_virtual_mfa_device(SerialNumber=serial),
                 lambda: iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456",
                                               AuthenticationCode2="654321")):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_code(raised) == "NoSuchEntity"
    with pytest.raises(ClientError) as raised:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")
    assert error_code(raised) == "EntityAlreadyExists"
    time.sleep(1.6)
    assert [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial]
    current = window()
    totp = DeviceTOTP(seed)
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1=totp.generate_otp(current - 1),
                          AuthenticationCode2=totp.generate_otp(current))


def _session_client(aws: LocalAWS, service: str, key: dict[str, str]) -> Any:
    return boto3.session.Session().client(service, endpoint_url=aws.url, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                                          aws_secret_access_key=key["SecretAccessKey"], aws_session_token=key.get("SessionToken"))


def test_enforced_iam_refuses_what_the_policies_do_not_allow_on_the_resource_acted_on(fresh_aws: LocalAWS) -> None:
    iam = fresh_aws.client("iam")
    for name in ("alice", "bob"):
        iam.create_user(UserName=name)
    iam.create_user(UserName="operator")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListMFADevices", "Resource": "arn:aws:iam::*:user/alice"},
        {"Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice"], "Resource": "arn:aws:iam::*:mfa/*"},
        {"Effect": "Deny", "Action": "iam:ListMFADevices", "Resource": "arn:aws:iam::*:user/bob"},
    ]}
    iam.put_user_policy(UserName="operator", PolicyName="p", PolicyDocument=json.dumps(policy))
    operator = _session_client(fresh_aws, "iam", iam.create_access_key(UserName="operator")["AccessKey"])
    fresh_aws.enforce_iam()

    assert operator.list_mfa_devices(UserName="alice")["MFADevices"] == []
    with pytest.raises(ClientError) as denied:
        operator.list_mfa_devices(UserName="bob")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "user/operator is not authorized to perform: iam:ListMFADevices on resource: arn:aws:iam::123456789012:user/bob" \
        in denied.value.response["Error"]["Message"]
    # A device created with tags also needs iam:TagMFADevice, as in AWS; without tags it does not.
    with pytest.raises(ClientError) as untagged:
        operator.create_virtual_mfa_device(VirtualMFADeviceName="alice", Tags=[{"Key": "k", "Value": "v"}])
    assert "iam:TagMFADevice" in untagged.value.response["Error"]["Message"]
    assert operator.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"].endswith(":mfa/alice")
    # An unknown key is refused; the endpoint's own key is the root user.
    with pytest.raises(ClientError) as unknown:
        _session_client(fresh_aws, "iam", {"AccessKeyId": "AKIAUNKNOWN000000000", "SecretAccessKey": "x"}).list_users()
    assert unknown.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert {user["UserName"] for user in iam.list_users()["Users"]} == {"alice", "bob", "operator"}
    refused = [call for call in fresh_aws.calls() if call.get("denied")]
    assert [call["action"] for call in refused] == ["ListMFADevices", "CreateVirtualMFADevice", "ListUsers"]

    fresh_aws.enforce_iam(False)
    assert operator.list_mfa_devices(UserName="bob")["MFADevices"] == []
