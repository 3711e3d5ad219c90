"""playbooks/enroll_hardware_token.yml: a hardware TOTP token enabled by its serial number and two codes a person reads off
it, given as extra vars (an AWX survey) or typed at its prompts; the endpoint knows the token's seed and checks the codes."""
from __future__ import annotations

import json
import time

import ansible_runner
import pyotp
import pytest

from helpers.ansible_runner import runner_envvars
from helpers.fleet import REPO, Fleet, changed_hosts, iam_actions

PLAYBOOK = REPO / "playbooks" / "enroll_hardware_token.yml"
TOKEN = "GAHT00001234"
SEED = pyotp.random_base32(32)


def codes(windows_ago=0):
    """Two consecutive codes the token showed: those of the window before and of the current one."""
    totp, now = pyotp.TOTP(SEED), time.time() - 30 * windows_ago
    return totp.at(now - 30), totp.at(now)


@pytest.fixture(name="fleet")
def fixture_fleet(fresh_aws, tmp_path):
    fleet = Fleet(fresh_aws, tmp_path, users=("alice", "bob"))
    fresh_aws.register_hardware_token(TOKEN, SEED, account_id=fleet.accounts["payments"])
    fresh_aws.reset_calls()
    return fleet


def survey(user="alice", pair=None, account="payments"):
    pair = pair or codes()
    return {"mfa_hosts": account, "hardware_token_user": user, "hardware_token_serial": TOKEN,
            "hardware_token_code_1": pair[0], "hardware_token_code_2": pair[1]}


def run(fleet, ansible, extra_vars, verbosity=0):
    return ansible.playbook(PLAYBOOK, inventory=fleet.inventory, extra_vars=extra_vars, verbosity=verbosity)


def test_a_token_is_enabled_with_the_codes_of_the_survey_and_a_second_run_changes_nothing(fleet, ansible):
    pair = codes()
    first = run(fleet, ansible, survey(pair=pair), verbosity=4)

    assert first.rc == 0, first.output
    assert changed_hosts(first) == {"payments": 1}
    assert fleet.enabled_devices("payments") == {"alice": [TOKEN], "bob": []}
    assert iam_actions(fleet.aws.calls())["EnableMFADevice"] == 1
    assert not [secret for secret in (*pair, SEED) if secret in first.output]

    again = run(fleet, ansible, survey(pair=codes()))
    assert again.rc == 0 and changed_hosts(again) == {"payments": 0}, again.output


@pytest.mark.parametrize(
    "extra_vars, message",
    [
        ({"hardware_token_code_1": "000000", "hardware_token_code_2": "000001"}, "not consecutive codes of this device's seed"),
        ({"hardware_token_user": "ghost"}, "no IAM user named ghost: check hardware_token_user"),
        ({"hardware_token_code_1": "12345"}, "authentication_code_1 must be exactly 6 digits"),
        ({"mfa_hosts": "all"}, "limit it to the user's account"),
    ],
)
def test_bad_input_stops_with_one_line_and_enables_nothing(fleet, ansible, extra_vars, message):
    arguments = {**survey(), **extra_vars}
    result = run(fleet, ansible, arguments)

    assert result.rc != 0
    failures = [task["result"]["msg"] for task in result.task_results if task["status"] == "failed" and "msg" in task["result"]]
    assert failures and message in failures[0] and "\n" not in failures[0], result.output
    typed = (arguments["hardware_token_code_1"], arguments["hardware_token_code_2"])
    assert not [code for code in typed if len(code) == 6 and code in result.output]
    assert fleet.enabled_devices("payments") == {"alice": [], "bob": []}


def test_the_codes_typed_at_the_prompts_enable_the_token(fleet, tmp_path):
    """ansible-playbook asks for what is not given: answered here by ansible-runner, as a terminal would be."""
    root = tmp_path / "prompted"
    (root / "env").mkdir(parents=True)
    (root / "project").mkdir()
    pair = codes()
    answers = {
        r"IAM user who holds the token:\s*$": "bob",
        r"Serial number printed on the back of the token:\s*$": TOKEN,
        r"Code the token shows now \(press its button\):\s*$": pair[0],
        r"Next code \(wait until the token shows a new one, about 30 seconds\):\s*$": pair[1],
    }
    (root / "env" / "passwords").write_text(json.dumps(answers), encoding="utf-8")
    envvars = runner_envvars(fleet.aws, root, REPO)
    (root / "env" / "envvars").write_text(json.dumps(envvars), encoding="utf-8")

    job = ansible_runner.run(private_data_dir=str(root), playbook=str(PLAYBOOK), inventory=str(fleet.inventory), limit="payments", quiet=True)

    assert (job.status, job.rc) == ("successful", 0), job.stdout.read()
    assert fleet.enabled_devices("payments") == {"alice": [], "bob": [TOKEN]}
    output = "".join(path.read_text(encoding="utf-8", errors="replace") for path in (root / "artifacts").rglob("*") if path.is_file())
    assert not [secret for secret in (*pair, SEED) if secret in output]
