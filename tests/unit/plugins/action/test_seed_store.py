# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.seed_store runs the action of each store's module in turn, as the role's tasks did one per store."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.mfa.aws.plugins.action import seed_store

SEED = {"serial_number": "arn:aws:iam::123456789012:mfa/alice", "base32_seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
ROTATING = dict(SEED, previous=dict(SEED, serial_number="arn:aws:iam::123456789012:mfa/alice-2"))


class Stores:
    """The actions of the stores' modules: each call is recorded, and answers with what answer() gives."""

    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer or (lambda name, args: {"changed": bool(args.get("seeds")), "stored": {"alice": SEED["serial_number"]},
                                                     "entries": {"alice": {"serial_number": SEED["serial_number"]}},
                                                     **({"seeds": {"alice": SEED}} if args.get("return_seeds") else {})})

    def get(self, name, task, **_kwargs):
        action = MagicMock()

        def run(task_vars=None):
            self.calls.append((name, dict(task.args), task.action))
            return self.answer(name, task.args)

        action.run = run
        return action


def action(args, stores, check_mode=False):
    task = MagicMock()
    task.args, task.async_val, task.check_mode, task.diff, task.action = args, 0, check_mode, False, "mfa.aws.seed_store"
    task.copy.side_effect = lambda **_kwargs: MagicMock(args=None, action=None)
    loader_obj = MagicMock()
    loader_obj.action_loader = stores
    plugin = seed_store.ActionModule(task, MagicMock(), MagicMock(), MagicMock(), MagicMock(), loader_obj)
    # ansible-core 2.19 and later ignore the shared loader object given and use ansible.plugins.loader.
    plugin._shared_loader_obj = loader_obj
    return plugin


BASE = dict(account_id="123456789012", vault_file="/seeds/123456789012.yml", qr_dir="/qr/123456789012")


def test_the_default_run_is_one_call_of_the_vault_files_action_and_returns_its_answer():
    stores = Stores()
    args = dict(BASE, stores=["vault_file"], seeds={"alice": SEED}, return_seeds=True, users=["alice"], require_seeds=["alice"])
    result = action(args, stores).run(task_vars={})
    assert [call[0] for call in stores.calls] == ["mfa.aws.seed_vault_file"]
    assert stores.calls[0][1] == dict(path="/seeds/123456789012.yml", seeds={"alice": SEED}, remove=[], check_writable=False, return_seeds=True,
                                      users=["alice"])
    assert result["changed"] and result["seeds"] == {"alice": SEED} and result["stored"] == {"alice": SEED["serial_number"]}
    assert result["stores"] == {"vault_file": {"changed": True, "failed": False, "stored": ["alice"]}}


def test_secret_services_are_written_then_read_back_with_the_connection_options_or_the_central_stores_credentials():
    stores = Stores()
    args = dict(BASE, stores=["ssm", "vault_file", "secretsmanager"], return_seeds=True, access_key="AKIA", region="eu-west-1",
                store_credentials={"access_key": "CENTRAL", "secret_key": "s"})
    action(args, stores).run(task_vars={})
    assert [(call[0], call[1].get("service"), call[1].get("return_seeds")) for call in stores.calls] == [
        ("mfa.aws.seed_secret", "secretsmanager", False), ("mfa.aws.seed_secret", "secretsmanager", True),
        ("mfa.aws.seed_secret", "ssm", False), ("mfa.aws.seed_secret", "ssm", True),
        ("mfa.aws.seed_vault_file", None, True),
    ]
    secret = stores.calls[0][1]
    assert secret["access_key"] == "CENTRAL" and secret["secret_key"] == "s" and secret["region"] == "eu-west-1"
    # No session token or profile of the account's session goes with the central account's keys.
    stores = Stores()
    action(dict(args, session_token="MEMBER", aws_profile="member"), stores).run(task_vars={})
    assert "session_token" not in stores.calls[0][1] and "aws_profile" not in stores.calls[0][1] and stores.calls[0][1]["region"] == "eu-west-1"
    stores = Stores()
    action(dict(args, session_token="MEMBER", store_credentials={}), stores).run(task_vars={})
    assert stores.calls[0][1]["session_token"] == "MEMBER" and stores.calls[0][1]["access_key"] == "AKIA"
    assert secret["account_id"] == "123456789012" and secret["prefix"] == "mfa-seeds"
    assert all(call[2] == call[0] for call in stores.calls)


def test_with_copy_the_primary_store_is_written_first_and_the_others_get_its_seeds_a_qr_code_only_the_current_device():
    stores = Stores(lambda name, args: {"changed": False, "stored": {}, **({"seeds": {"alice": ROTATING}} if args.get("return_seeds") else {})})
    args = dict(BASE, stores=["qr_png", "vault_file", "ssm", "vault_file"], seeds={"alice": ROTATING}, return_seeds=True, copy=True)
    result = action(args, stores).run(task_vars={})
    assert [call[0] for call in stores.calls] == ["mfa.aws.seed_vault_file", "mfa.aws.seed_qr_code", "mfa.aws.seed_secret"]
    assert stores.calls[1][1]["seeds"] == {"alice": SEED} and stores.calls[1][1]["dir"] == "/qr/123456789012"
    assert stores.calls[2][1]["seeds"] == {"alice": ROTATING} and stores.calls[2][1]["return_seeds"] is False
    assert stores.calls[0][1]["seeds"] == {"alice": ROTATING} and stores.calls[0][1]["return_seeds"] is True
    assert result["seeds"] == {"alice": ROTATING} and not result["changed"]


def test_a_failing_store_stops_the_others_and_a_failing_copy_says_the_primary_holds_the_seeds():
    def answer(name, args):
        if name == "mfa.aws.seed_secret":
            return {"failed": True, "msg": "AccessDenied on secretsmanager:PutSecretValue: grant it"}
        return {"changed": True, "stored": {}, "seeds": {"alice": SEED}}

    stores = Stores(answer)
    result = action(dict(BASE, stores=["secretsmanager", "vault_file"], return_seeds=True), stores).run(task_vars={})
    assert result["failed"] and result["msg"] == "AccessDenied on secretsmanager:PutSecretValue: grant it" and "delivered" not in result
    assert [call[0] for call in stores.calls] == ["mfa.aws.seed_secret", "mfa.aws.seed_secret"]
    stores = Stores(answer)
    result = action(dict(BASE, stores=["ssm", "vault_file"], return_seeds=True, copy=True), stores).run(task_vars={})
    assert result["failed"] and result["delivered"] and "seeds" not in result
    assert [call[0] for call in stores.calls] == ["mfa.aws.seed_vault_file", "mfa.aws.seed_secret"]


def test_a_seed_the_primary_store_does_not_hold_stops_the_task_after_the_delivery_but_not_in_check_mode():
    stores = Stores()
    args = dict(BASE, stores=["vault_file"], return_seeds=True, require_seeds=["alice", "bob", "carol"])
    result = action(args, stores).run(task_vars={})
    assert result["failed"] and result["delivered"] and result["msg"] == (
        "the vault_file store holds no seed for bob, carol: no device is enabled without its stored seed; if another run works on account "
        "123456789012 from another controller, wait for it to finish, else run again to create new devices for them"
    )
    assert not action(args, Stores(), check_mode=True).run(task_vars={}).get("failed")
    # QR codes cannot give seeds back: nothing to require.
    assert not action(dict(args, stores=["qr_png"]), Stores()).run(task_vars={}).get("failed")


def test_check_mode_predicts_a_change_when_asked_and_an_action_failure_is_a_result():
    def refusing(name, args):
        raise AnsibleActionFail("the vault file is damaged: restore it from a backup")

    result = action(dict(BASE, stores=["vault_file"]), Stores(refusing)).run(task_vars={})
    assert result["failed"] and result["msg"] == "the vault file is damaged: restore it from a backup"
    stores = Stores(lambda name, args: {"changed": False, "stored": {}})
    assert action(dict(BASE, stores=["vault_file"], predict=True), stores, check_mode=True).run(task_vars={})["changed"]
    assert not action(dict(BASE, stores=["vault_file"], predict=True), stores).run(task_vars={})["changed"]


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(stores=["vault"]), "vault is not a seed store: choose from vault_file, secretsmanager, ssm, qr_png"),
        (dict(stores=["vault_file"], vault_file=None), "the vault_file store needs the option vault_file"),
        (dict(stores=["ssm"], account_id=None), "the secretsmanager, ssm and qr_png stores need the option account_id"),
        (dict(stores=["vault_file", "ssm"], copy=True), "copy and require_seeds work on the seeds read back from the primary store"),
        (dict(stores=["qr_png", "vault_file"], return_seeds=True, require_seeds=["alice"], copy=False, vault_file=None),
         "the vault_file store needs the option vault_file"),
        (dict(stores=["vault_file"], colour="blue"), "Invalid options for mfa.aws.seed_store: colour"),
    ],
)
def test_bad_options_stop_before_any_store_is_touched(args, message):
    stores = Stores()
    with pytest.raises(AnsibleActionFail) as raised:
        action(dict(BASE, **args), stores).run(task_vars={})
    assert str(raised.value.message).startswith(message) and not stores.calls
