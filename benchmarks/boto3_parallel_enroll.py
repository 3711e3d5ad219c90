"""The parallel boto3 floor: what boto3_enroll.py does, with the accounts in 20 threads and each account's users in 4.

    python benchmarks/boto3_parallel_enroll.py ACCOUNTS_FILE SCRATCH_DIR

The same work, call for call, as benchmarks/boto3_enroll.py (assume the role, list the users, and for each user without a
device: list its devices, create one, write the seed to a 0600 file, enable it with the codes of the previous and current
window). What it does not do, unlike mfa.aws: no crash-safety, no encryption of the seeds, no retries of throttled or not
yet visible calls beyond botocore's own, no check mode, no report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pyotp

from boto3_enroll import account_iam

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts_file", help="one AWS account id a line")
    parser.add_argument("scratch_dir", help="where the 0600 seed file lives while the script runs")
    args = parser.parse_args()
    with open(args.accounts_file, encoding="utf-8") as handle:
        account_ids = [line.strip() for line in handle if line.strip()]
    sts = boto3.client("sts")
    lock = threading.Lock()
    scratch = tempfile.mkdtemp(prefix="boto3-parallel-", dir=args.scratch_dir)
    try:
        fd = os.open(os.path.join(scratch, "seeds"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as seeds, ThreadPoolExecutor(ACCOUNT_THREADS) as pool:
            enrolled = sum(pool.map(lambda account_id: enroll_account(sts, account_id, seeds, lock), account_ids))
    finally:
        shutil.rmtree(scratch)
    print(f"enrolled {enrolled} users in {len(account_ids)} accounts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
