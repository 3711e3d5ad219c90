# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The values the unit tests share: one account, alice's devices and seeds, two dates, an AWS error, a fake IAM client and a check of
the problems found in a value."""

from __future__ import annotations

from unittest.mock import MagicMock

import botocore.exceptions

ACCOUNT = "123456789012"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
OLD_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice-old"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OLD_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
NOW = "2024-06-01T09:30:00+00:00"
EARLIER = "2023-01-01T00:00:00+00:00"


def entry(serial=SERIAL, seed=SEED, **extra):
    """A seed entry as the stores keep it."""
    return dict(serial_number=serial, base32_seed=seed, **extra)


# Seed entries as a task may give them, each with the problem every check of an entry finds in it (None: a good one).
ENTRIES = [
    (entry(), None),
    (entry(created=NOW, previous=entry(OLD_SERIAL, OLD_SEED, created=EARLIER)), None),
    (entry(previous=None, created=None), None),
    (entry(seed=SEED.lower() + "=="), None),
    (entry(serial="GAHT12345678"), None),
    ("not a dict", "must be a dictionary with the strings serial_number and base32_seed"),
    ({"serial_number": SERIAL}, "must have the string base32_seed"),
    (entry(serial=""), "must have the string serial_number"),
    (entry(seed=None), "must have the string base32_seed"),
    (entry(base32seed=SEED), "has unknown keys base32seed: an entry has only serial_number, base32_seed, created, previous"),
    (entry(seed="not a seed!"), "base32_seed must be a base32 seed: at least 16 letters and digits 2-7, with optional = padding"),
    (entry(seed="JBSWY3DP"), "base32_seed must be a base32 seed"),
    (entry(serial="x"), "serial_number must be a virtual device ARN or a hardware token's printed serial"),
    (entry(created=1), "created must be a string, such as 2024-06-01T09:30:00+00:00"),
    (entry(previous="x"), "previous must be a dictionary"),
    (entry(previous=entry(seed="1")), "previous base32_seed must be a base32 seed"),
    (entry(previous=entry(previous=entry())), "previous has unknown keys previous: an entry has only serial_number, base32_seed, created"),
]
# What no message about an entry may quote.
ENTRY_SECRETS = (SEED, SEED.lower(), OLD_SEED, "not a seed!")


def paged_client(pages):
    """A MagicMock boto3 client whose paginators answer pages ({operation name: the full result}); other calls succeed."""
    client = MagicMock()

    def paginator(name):
        result = MagicMock()
        result.paginate.return_value.build_full_result.return_value = pages[name]
        return result

    client.get_paginator.side_effect = paginator
    return client


def client_error(code, operation="EnableMFADevice", message="AWS says no"):
    """The botocore error of an AWS answer with that error code to that operation."""
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def assert_problem(found, expected, *, start=False, secrets=()):
    """found (a problem found, or None) is None when expected is None; otherwise it holds expected (begins with it, with
    start) and none of the secrets."""
    if expected is None:
        assert found is None
        return
    assert found.startswith(expected) if start else expected in found, found
    for secret in secrets:
        assert secret not in found
