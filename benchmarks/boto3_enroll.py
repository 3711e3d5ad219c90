"""The boto3 floor: enroll every IAM user of some AWS accounts in MFA with a plain sequential script.

    python benchmarks/boto3_enroll.py ACCOUNTS_FILE SCRATCH_DIR

ACCOUNTS_FILE holds one account id a line. For each account: assume OrganizationAccountAccessRole, list the users;
for each user without an MFA device: create a virtual MFA device, write its seed to a 0600 file in a new directory
under SCRATCH_DIR, compute the codes of the previous and the current 30-second window with pyotp (no waiting) and
enable the device. The seed file is deleted at the end. The credentials come from the environment (AWS_*).

What it does not do, unlike mfa.aws: no crash-safety (a device whose seed was not stored is not cleaned up), no
encryption of the seeds, no handling of a device left unassigned by an earlier run, no check mode, no report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import boto3
import pyotp

ROLE_NAME = "OrganizationAccountAccessRole"


def account_iam(sts, account_id: str):
    """An IAM client acting in the account through its OrganizationAccountAccessRole."""
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE_NAME}", RoleSessionName="mfa-enroll")["Credentials"]
    return boto3.client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def enroll_account(iam, account_id: str, seeds) -> int:
    """Enroll the account's users without MFA; the number enrolled."""
    enrolled = 0
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            name = user["UserName"]
            if iam.list_mfa_devices(UserName=name)["MFADevices"]:
                continue
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
            seed = device["Base32StringSeed"].decode("ascii")
            seeds.write(f"{account_id} {name} {device['SerialNumber']} {seed}\n")
            seeds.flush()
            totp = pyotp.TOTP(seed)
            now = time.time()
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=device["SerialNumber"],
                AuthenticationCode1=totp.at(now - totp.interval),
                AuthenticationCode2=totp.at(now),
            )
            enrolled += 1
    return enrolled


def run_script(doc: str, enroll_all) -> int:
    """The command line of both boto3 scripts: enroll_all(sts client, account ids, seed file) enrolls the accounts of
    ACCOUNTS_FILE and returns how many users it enrolled, which is printed. The seed file is 0600, in a new directory
    under SCRATCH_DIR, deleted at the end."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("accounts_file", help="one AWS account id a line")
    parser.add_argument("scratch_dir", help="where the 0600 seed file lives while the script runs")
    args = parser.parse_args()
    with open(args.accounts_file, encoding="utf-8") as handle:
        account_ids = [line.strip() for line in handle if line.strip()]
    scratch = tempfile.mkdtemp(prefix="boto3-enroll-", dir=args.scratch_dir)
    try:
        fd = os.open(os.path.join(scratch, "seeds"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as seeds:
            enrolled = enroll_all(boto3.client("sts"), account_ids, seeds)
    finally:
        shutil.rmtree(scratch)
    print(f"enrolled {enrolled} users in {len(account_ids)} accounts")
    return 0


def main() -> int:
    """Enroll the accounts of the file, one call after the other; print how many users were enrolled."""
    return run_script(__doc__, lambda sts, account_ids, seeds: sum(
        enroll_account(account_iam(sts, account_id), account_id, seeds) for account_id in account_ids))


if __name__ == "__main__":
    sys.exit(main())
