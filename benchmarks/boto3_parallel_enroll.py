"""The parallel boto3 floor: what boto3_enroll.py does, with the accounts in 20 threads and each account's users in 4.

    python benchmarks/boto3_parallel_enroll.py ACCOUNTS_FILE SCRATCH_DIR

The same work, call for call, as benchmarks/boto3_enroll.py (assume the role, list the users, and for each user without a
device: list its devices, create one, write the seed to a 0600 file, enable it with the codes of the previous and current
window). What it does not do, unlike mfa.aws: no crash-safety, no encryption of the seeds, no retries of throttled or not
yet visible calls beyond botocore's own, no check mode, no report.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp

from boto3_enroll import account_iam
from boto3_enroll import run_script

ACCOUNT_THREADS = 20
USER_THREADS = 4


def enroll_user(iam, account_id: str, name: str, seeds, lock: threading.Lock) -> int:
    if iam.list_mfa_devices(UserName=name)["MFADevices"]:
        return 0
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode("ascii")
    with lock:
        seeds.write(f"{account_id} {name} {device['SerialNumber']} {seed}\n")
        seeds.flush()
    totp = pyotp.TOTP(seed)
    now = time.time()
    iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"], AuthenticationCode1=totp.at(now - totp.interval),
                          AuthenticationCode2=totp.at(now))
    return 1


def enroll_account(sts, account_id: str, seeds, lock: threading.Lock) -> int:
    iam = account_iam(sts, account_id)
    names = [user["UserName"] for page in iam.get_paginator("list_users").paginate() for user in page["Users"]]
    with ThreadPoolExecutor(USER_THREADS) as pool:
        return sum(pool.map(lambda name: enroll_user(iam, account_id, name, seeds, lock), names))


def main() -> int:
    lock = threading.Lock()

    def enroll_all(sts, account_ids, seeds):
        with ThreadPoolExecutor(ACCOUNT_THREADS) as pool:
            return sum(pool.map(lambda account_id: enroll_account(sts, account_id, seeds, lock), account_ids))

    return run_script(__doc__, enroll_all)


if __name__ == "__main__":
    sys.exit(main())
