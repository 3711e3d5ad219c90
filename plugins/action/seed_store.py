# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""mfa.aws.seed_store: one operation on several seed stores, in one task.

Each store is worked by the action of its own module (mfa.aws.seed_vault_file, mfa.aws.seed_secret, mfa.aws.seed_qr_code),
run here in turn in this worker process, with the same arguments a task of that module would get. One task instead of a
task per store: a task costs every host of the fleet a worker process, and the role's default run has one store.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.mfa.aws.plugins.filter.enrollment import DELIVERIES
from ansible_collections.mfa.aws.plugins.filter.enrollment import SEED_STORES
from ansible_collections.mfa.aws.plugins.filter.enrollment import current_seeds
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import CONNECTION_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import STORE_OPTIONS
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import connection_option_names
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import given
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import own_arguments
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import preload
from ansible_collections.mfa.aws.plugins.plugin_utils._actions import run_action

# The stores (DELIVERIES) and those a run can read the seeds back from (SEED_STORES, in the order that picks the primary
# one) are the enrollment's, from the enrollment filters.
_SECRET_SERVICES = ("secretsmanager", "ssm")

_OWN_OPTIONS = dict(
    stores=dict(type="list", elements="str", required=True),
    seeds=dict(type="dict", default={}, no_log=True),
    remove=dict(type="list", elements="str", default=[]),
    check_writable=dict(type="bool", default=False),
    return_seeds=dict(type="bool", default=False),
    users=dict(type="list", elements="str"),
    predict=dict(type="bool", default=False),
    copy=dict(type="bool", default=False),
    require_seeds=dict(type="list", elements="str", default=[]),
    account_id=dict(type="str"),
    **STORE_OPTIONS,
)


# The connection options that say who calls: a central store's credentials replace all of them, so that no session token or
# profile of the account's session goes with the central account's keys.
_IDENTITY_OPTIONS = connection_option_names(("access_key", "secret_key", "session_token", "profile"))
# The actions of the stores' modules.
STORE_ACTIONS = ("mfa.aws.seed_vault_file", "mfa.aws.seed_secret", "mfa.aws.seed_qr_code")


# Imported in the controller before the workers fork.
preload(STORE_ACTIONS)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(_OWN_OPTIONS) | CONNECTION_OPTIONS
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args, connection = own_arguments(self, _OWN_OPTIONS)
        _check(args)
        stores = list(dict.fromkeys(args["stores"]))
        primary = primary_store(stores)
        # With copy, the primary store is worked first; the others then get the seeds read back from it.
        first = [primary] if args["copy"] and primary else stores
        copies = [store for store in stores if store not in first]

        answers = {}
        if self._work(dict(args, stores=first), connection, answers, result, task_vars or {}):
            return result
        # The primary's latest answer: the read of a secret service when there is one.
        latest = answers[primary][-1] if primary else {}
        if copies:
            # A copy an interrupted run missed is made up by the next run.
            copied = dict(args, stores=copies, seeds=latest.get("seeds", {}), remove=[], check_writable=False, return_seeds=False)
            if self._work(copied, connection, answers, result, task_vars or {}):
                # The primary store holds the seeds: nothing this run created needs to be undone.
                result["delivered"] = True
                return result
        missing = [user for user in args["require_seeds"] if user not in latest.get("seeds", {})] if primary in SEED_STORES else []
        if missing and not self._task.check_mode:
            result.update(
                failed=True, delivered=True, stores=_summaries(answers),
                msg=f"the {primary} store holds no seed for {', '.join(missing)}: no device is enabled without its stored seed; if another "
                f"run works on account {args['account_id']} from another controller, wait for it to finish, else run again to create new "
                "devices for them",
            )
            return result

        if primary:
            result.update(stored=latest.get("stored", {}), entries=latest.get("entries", {}))
            if "seeds" in latest:
                result["seeds"] = latest["seeds"]
        changed = any(answer.get("changed") for operations in answers.values() for answer in operations)
        # In check mode nothing is written: predict tells whether the run would (the devices it would create have no seed yet).
        result["changed"] = changed or (bool(self._task.check_mode) and args["predict"] and bool(answers))
        result["stores"] = _summaries(answers)
        warnings = [warning for operations in answers.values() for answer in operations for warning in answer.get("warnings", [])]
        if warnings:
            result["warnings"] = warnings
        diffs = [answer["diff"] for operations in answers.values() for answer in operations if answer.get("diff")]
        if diffs:
            result["diff"] = diffs
        return result

    def _work(self, args, connection, answers, result, task_vars):
        """Work the stores of args in turn, their answers into answers; True once one failed (result then says so)."""
        for store, operations in self._operations(args, connection):
            answers[store] = [run_action(self, name, arguments, task_vars) for name, arguments in operations]
            if _failed(result, store, answers):
                return True
        return False

    def _operations(self, args, connection):
        """(store, [(action, arguments), ...]) for each store named, in the order named; both secret services in one step."""
        stores = list(dict.fromkeys(args["stores"]))
        seeds, remove = args["seeds"], args["remove"]
        first_secret = next((named for named in stores if named in _SECRET_SERVICES), None)
        for store in stores:
            if store == "vault_file":
                arguments = dict(path=args["vault_file"], seeds=seeds, remove=remove, check_writable=args["check_writable"],
                                 return_seeds=args["return_seeds"])
                yield store, [("mfa.aws.seed_vault_file", given(arguments, vault_id=args["vault_id"], users=args["users"]))]
            elif store == "qr_png":
                # A person's copy holds the device in use, not the previous one a rotation keeps.
                arguments = dict(dir=args["qr_dir"], seeds=current_seeds(seeds), remove=remove, issuer=args["issuer"], account_id=args["account_id"],
                                 check_writable=args["check_writable"])
                yield store, [("mfa.aws.seed_qr_code", given(arguments, vault_id=args["vault_id"]))]
            elif store == first_secret:
                for service in (service for service in _SECRET_SERVICES if service in stores):
                    yield service, self._secret_operations(service, args, connection)

    @staticmethod
    def _secret_operations(service, args, connection):
        """Write, then read back in a call of its own: the module masks in its result whatever seeds it was given."""
        common = dict(connection, service=service, account_id=args["account_id"], prefix=args["secret_prefix"])
        if args["store_credentials"]:
            # A central store's credentials replace every identity option of the account's session.
            common = {name: value for name, value in common.items() if name not in _IDENTITY_OPTIONS}
            common.update((name, args["store_credentials"][name]) for name in ("access_key", "secret_key", "session_token")
                          if args["store_credentials"].get(name))
        common = given(common, kms_key_id=args["kms_key_id"], tags=args["secret_tags"], users=args["users"])
        operations = [("mfa.aws.seed_secret", dict(common, seeds=args["seeds"], remove=args["remove"], return_seeds=False))]
        if args["return_seeds"]:
            operations.append(("mfa.aws.seed_secret", dict(common, seeds={}, remove=[], return_seeds=True)))
        return operations


def primary_store(stores):
    """The store whose answer is returned: the first of vault_file, secretsmanager and ssm named, else qr_png, or None."""
    return next((store for store in SEED_STORES + ("qr_png",) if store in stores), None)


def _check(args):
    """Stop on stores this action does not know, or without the options a named store needs."""
    named = args["stores"]
    unknown = [store for store in named if store not in DELIVERIES]
    if unknown:
        raise AnsibleActionFail(f"{', '.join(unknown)} is not a seed store: choose from {', '.join(DELIVERIES)}")
    for store, option in (("vault_file", "vault_file"), ("qr_png", "qr_dir")):
        if store in named and not args[option]:
            raise AnsibleActionFail(f"the {store} store needs the option {option}")
    if any(store in named for store in _SECRET_SERVICES + ("qr_png",)) and not args["account_id"]:
        raise AnsibleActionFail("the secretsmanager, ssm and qr_png stores need the option account_id")
    if (args["copy"] or args["require_seeds"]) and not args["return_seeds"]:
        raise AnsibleActionFail("copy and require_seeds work on the seeds read back from the primary store: set return_seeds")
    if args["copy"] and len(set(named)) > 1 and primary_store(named) not in SEED_STORES:
        raise AnsibleActionFail("copy needs a store the seeds can be read back from (vault_file, secretsmanager or ssm) in stores")


def _failed(result, store, answers):
    """Whether an operation on store failed; if so, result says so with its message and what each store did."""
    failed = [answer for answer in answers[store] if answer.get("failed")]
    if failed:
        result.update(failed=True, msg=failed[0].get("msg") or f"the {store} store failed", stores=_summaries(answers))
    return bool(failed)


def _summaries(answers):
    """What each store did, without seeds: changed, and the users whose entries it holds."""
    return {
        store: dict(changed=any(answer.get("changed") for answer in operations), failed=any(answer.get("failed") for answer in operations),
                    stored=sorted(operations[-1].get("stored", {})))
        for store, operations in answers.items()
    }
