# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The values the unit tests share: one account, alice's devices and seeds, two dates, an AWS error and a fake IAM client."""

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
