"""The delivery backends of the mfa.aws.enroll role on the strict local endpoint: Secrets Manager, SSM SecureString
(with a KMS key), QR codes for people (enabled later with the codes they type), several at once, a central account,
and a run stopped between the primary store and its copies."""
from __future__ import annotations

import json
import time

import pyotp
import pytest
import yaml

from helpers.fleet import Fleet, changed_hosts, iam_actions
from helpers.seeds import decrypt

USERS = ("alice", "bob")


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    return Fleet(fresh_aws, tmp_path, accounts=("payments",), users=USERS)


def secret_entries(fleet, service, account_id=None, owner="payments"):
    """user -> the entry stored for it in Secrets Manager or SSM (in account_id, by default the users' own account)."""
    member = fleet.accounts[owner]
    client = fleet.aws.client(service, account_id=account_id or member)
    entries = {}
    for user in fleet.users:
        try:
            if service == "secretsmanager":
                value = client.get_secret_value(SecretId=f"mfa-seeds/{member}/{user}")["SecretString"]
            else:
                value = client.get_parameter(Name=f"/mfa-seeds/{member}/{user}", WithDecryption=True)["Parameter"]["Value"]
        except client.exceptions.ClientError:
            continue
        entries[user] = json.loads(value)
    return entries


def qr_entries(fleet, qr_dir, name="payments"):
    """user -> the decrypted QR entry file of an account's user."""
    entries = {}
    for path in sorted((qr_dir / fleet.accounts[name]).glob("*.yml")):
        assert path.stat().st_mode & 0o777 == 0o600
        assert (path.parent / f"{path.stem}.png.vault").read_bytes().startswith(b"$ANSIBLE_VAULT")
        entries[path.stem] = decrypt(path, fleet.env)
    return entries


def assert_enabled_with(fleet, entries, name="payments"):
    """Each user's one enabled device is the stored one, and the stored seed is the one AWS issued."""
    enabled = fleet.enabled_devices(name)
    for user in fleet.users:
        assert enabled[user] == [entries[user]["serial_number"]]
        assert entries[user]["base32_seed"] == fleet.issued_seed(name, enabled[user][0])


@pytest.mark.parametrize("service", ["secretsmanager", "ssm"])
def test_a_secret_store_alone_keeps_the_seeds_that_enable_the_devices(fleet, ansible, service):
    delivery = {"enroll_delivery": [service]}
    checked = fleet.enroll(ansible, check=True, extra_vars=delivery)
    assert checked.rc == 0, checked.output
    assert secret_entries(fleet, service) == {}
    applied = fleet.enroll(ansible, extra_vars=delivery)
    assert applied.rc == 0, applied.output
    assert changed_hosts(checked) == changed_hosts(applied) and changed_hosts(applied)["payments"] > 0
    assert_enabled_with(fleet, secret_entries(fleet, service))
    # No seed on the controller's disk: the seed directory holds only the account's lock, let go of (empty).
    lock = fleet.seed_dir / f"{fleet.accounts['payments']}.yml.lock"
    assert list(fleet.seed_dir.iterdir()) == [lock] and lock.read_text(encoding="utf-8") == ""
    again = fleet.enroll(ansible, extra_vars=delivery)
    assert again.rc == 0 and changed_hosts(again) == {"payments": 0}, again.output


def test_several_stores_at_once_hold_the_same_seeds_and_a_stopped_copy_is_made_up(fleet, ansible, tmp_path):
    key = fleet.aws.client("kms", account_id=fleet.accounts["payments"]).create_key()["KeyMetadata"]["KeyId"]
    qr_dir = tmp_path / "mfa-qr"
    every = {"enroll_delivery": ["vault_file", "ssm", "qr_png"], "enroll_secret_kms_key_id": key, "enroll_qr_dir": str(qr_dir)}
    # A run that stops once the primary store (the vault file) has the seeds, before the copies are made.
    play = [{"hosts": "all", "gather_facts": False, "vars": {"ansible_pipelining": True, **every},
             "roles": [{"role": "mfa.aws.account_session"}],
             "module_defaults": {"group/mfa.aws.aws": {key_name: f"{{{{ account_session_result.credentials.{key_name} | default(omit) }}}}"
                                                       for key_name in ("access_key", "secret_key", "session_token")}},
             "tasks": [{"name": f"step {step}", "ansible.builtin.include_role": {"name": "mfa.aws.enroll", "tasks_from": step}}
                       for step in ("plan", "create")] + [
                 {"name": "primary store only", "ansible.builtin.include_role": {"name": "mfa.aws.enroll", "tasks_from": "store"},
                  "vars": {"__enroll_targets": ["vault_file"], "__enroll_account_id": "{{ __enroll_plan.account_id }}",
                           "__enroll_put": "{{ __enroll_created | mfa.aws.enrollment_seeds(__enroll_plan) }}"}}]}]
    stopped = tmp_path / "stopped.yml"
    stopped.write_text(yaml.safe_dump(play), encoding="utf-8")
    partial = fleet.enroll(ansible, playbook=stopped, extra_vars=every)
    assert partial.rc == 0, partial.output
    assert set(fleet.stored("payments")) == set(USERS) and secret_entries(fleet, "ssm") == {} and not qr_dir.exists()

    fleet.aws.reset_calls()
    resumed = fleet.enroll(ansible, extra_vars=every)
    assert resumed.rc == 0, resumed.output
    assert iam_actions(fleet.aws.calls())["CreateVirtualMFADevice"] == 0  # reused: their seeds were stored
    stored = fleet.stored("payments")
    assert_enabled_with(fleet, stored)
    in_ssm, in_qr = secret_entries(fleet, "ssm"), qr_entries(fleet, qr_dir)
    for user in USERS:
        assert in_ssm[user]["base32_seed"] == in_qr[user]["base32_seed"].replace(" ", "") == stored[user]["base32_seed"]
        assert f"secret={stored[user]['base32_seed']}" in in_qr[user]["otpauth_uri"]
    parameter = fleet.aws.client("ssm", account_id=fleet.accounts["payments"]).describe_parameters()["Parameters"][0]
    assert parameter["Type"] == "SecureString" and parameter["KeyId"].endswith(key)
    again = fleet.enroll(ansible, extra_vars=every)
    assert again.rc == 0 and changed_hosts(again) == {"payments": 0}, again.output


def test_qr_codes_alone_wait_for_the_codes_a_person_types(fleet, ansible, tmp_path):
    qr_dir = tmp_path / "mfa-qr"
    delivery = {"enroll_delivery": ["qr_png"], "enroll_qr_dir": str(qr_dir)}
    first = fleet.enroll(ansible, extra_vars=delivery)
    assert first.rc == 0, first.output
    assert not any(fleet.enabled_devices("payments").values())
    assert set(qr_entries(fleet, qr_dir)) == set(USERS)
    waiting = fleet.enroll(ansible, extra_vars=delivery)
    assert waiting.rc == 0 and changed_hosts(waiting) == {"payments": 0}, waiting.output

    # alice scans her QR code and types two codes from her app; bob has not yet.
    totp, now = pyotp.parse_uri(qr_entries(fleet, qr_dir)["alice"]["otpauth_uri"]), time.time()
    codes = [totp.at(now - 30), totp.at(now)]
    typed = fleet.enroll(ansible, extra_vars={**delivery, "enroll_codes": {"alice": codes}})
    assert typed.rc == 0, typed.output
    enabled = fleet.enabled_devices("payments")
    assert len(enabled["alice"]) == 1 and enabled["bob"] == []
    assert qr_entries(fleet, qr_dir)["alice"]["serial_number"] == enabled["alice"][0]
    for secret in codes + [totp.secret]:
        assert secret not in typed.output

    # bob types a wrong pair and carol, a new user, a good one: carol is enabled all the same, and bob is named.
    fleet.iam("payments").create_user(UserName="carol")
    fleet.users = (*USERS, "carol")
    assert fleet.enroll(ansible, extra_vars=delivery).rc == 0
    totp, now = pyotp.parse_uri(qr_entries(fleet, qr_dir)["carol"]["otpauth_uri"]), time.time()
    wrong = {"bob": ["000000", "000001"], "carol": [totp.at(now - 30), totp.at(now)]}
    mixed = fleet.enroll(ansible, extra_vars={**delivery, "enroll_codes": wrong})
    assert mixed.rc != 0 and "AWS refused the codes typed for bob:" in mixed.output, mixed.output
    enabled = fleet.enabled_devices("payments")
    assert enabled["bob"] == [] and len(enabled["carol"]) == 1


@pytest.mark.parametrize(
    "delivery, codes, expected",
    [
        (["qr_png"], {"alice": ["123456"]}, "enroll_codes of alice must be a list of the two consecutive 6-digit codes"),
        (["qr_png"], {"alice": ["123456", "654321"]}, "no device of alice awaits codes yet"),
        (["vault_file", "qr_png"], {"alice": ["123456", "654321"]}, "enroll_codes is for enroll_delivery [qr_png] alone"),
    ],
)
def test_codes_that_cannot_be_used_stop_the_run_before_any_change(fleet, ansible, tmp_path, delivery, codes, expected):
    result = fleet.enroll(ansible, extra_vars={"enroll_delivery": delivery, "enroll_qr_dir": str(tmp_path / "qr"), "enroll_codes": codes})
    assert result.rc != 0 and expected in result.output, result.output
    assert fleet.unassigned_devices("payments") == [] and not any(fleet.enabled_devices("payments").values())
    for code in codes["alice"]:
        assert code not in result.output


def test_a_store_that_refuses_the_seeds_leaves_no_device_behind(fleet, ansible):
    iam = fleet.iam("payments")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["secretsmanager:CreateSecret"], "Resource": "*"}]}
    iam.put_role_policy(RoleName="OrganizationAccountAccessRole", PolicyName="no-secrets", PolicyDocument=json.dumps(deny))
    result = fleet.enroll(ansible, extra_vars={"enroll_delivery": ["secretsmanager"]})
    assert result.rc != 0 and "secretsmanager:CreateSecret" in result.output and "were deleted again" in result.output, result.output
    assert fleet.unassigned_devices("payments") == [] and not any(fleet.enabled_devices("payments").values())
    assert secret_entries(fleet, "secretsmanager") == {}


def test_credentials_of_another_account_are_refused_when_no_role_is_assumed(fleet, ansible):
    result = fleet.enroll(ansible, extra_vars={"account_session_assume_role": False})
    assert result.rc != 0 and "the credentials in use reach account 123456789012, not " in result.output, result.output
    assert iam_actions(fleet.aws.calls())["CreateVirtualMFADevice"] == 0


def test_seeds_in_a_central_account(fleet, ansible):
    org = fleet.aws.client("organizations")
    central = org.create_account(Email="security@example.com", AccountName="security")["CreateAccountStatus"]["AccountId"]
    role = f"arn:aws:iam::{central}:role/OrganizationAccountAccessRole"
    result = fleet.enroll(ansible, extra_vars={"enroll_delivery": ["secretsmanager"], "account_session_store_role_arn": role})
    assert result.rc == 0, result.output
    assert secret_entries(fleet, "secretsmanager") == {}
    assert_enabled_with(fleet, secret_entries(fleet, "secretsmanager", account_id=central))


def test_a_kms_key_that_does_not_exist_stops_the_run_before_any_change(fleet, ansible):
    result = fleet.enroll(ansible, extra_vars={"enroll_delivery": ["ssm"], "enroll_secret_kms_key_id": "alias/nope"})
    assert result.rc != 0
    assert "alias/nope" in result.output and "kms_key_id" in result.output, result.output
    assert iam_actions(fleet.aws.calls())["CreateVirtualMFADevice"] == 0
    assert fleet.unassigned_devices("payments") == []
