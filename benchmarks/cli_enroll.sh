#!/usr/bin/env bash
# The hand-written shell loop: enroll every IAM user of some AWS accounts in MFA with the AWS CLI and oathtool.
#
#   bash benchmarks/cli_enroll.sh ACCOUNTS_FILE SCRATCH_DIR
#
# ACCOUNTS_FILE holds one account id a line. For each account: aws sts assume-role into OrganizationAccountAccessRole,
# aws iam list-users; for each user: aws iam create-virtual-mfa-device (the seed goes to a 0600 file in a new directory
# under SCRATCH_DIR, deleted on exit), oathtool for the codes of the previous and the current 30-second window (no
# waiting), aws iam enable-mfa-device. The starting credentials come from the environment (AWS_*); aws and oathtool
# are looked up in PATH. Like most such loops it checks nothing: a user who already has MFA gets a second device.
set -euo pipefail
umask 077

accounts_file=$1
scratch=$(mktemp -d "$2/cli-enroll-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mapfile -t accounts < <(grep -v '^[[:space:]]*$' "$accounts_file")

enroll_account() {
    local account=$1 credentials key secret token users user serial seed_file now code1 code2
    credentials=$(aws sts assume-role \
        --role-arn "arn:aws:iam::${account}:role/OrganizationAccountAccessRole" --role-session-name mfa-enroll \
        --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
    read -r key secret token <<< "$credentials"
    export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token
    users=$(aws iam list-users --query 'Users[].UserName' --output text)
    for user in $users; do
        seed_file="$scratch/$account-$user"
        serial=$(aws iam create-virtual-mfa-device --virtual-mfa-device-name "$user" \
            --outfile "$seed_file" --bootstrap-method Base32StringSeed \
            --query 'VirtualMFADevice.SerialNumber' --output text)
        now=$(date +%s)
        code1=$(oathtool --totp -b --now "@$((now - 30))" - < "$seed_file")
        code2=$(oathtool --totp -b --now "@$now" - < "$seed_file")
        aws iam enable-mfa-device --user-name "$user" --serial-number "$serial" \
            --authentication-code1 "$code1" --authentication-code2 "$code2"
    done
}

for account in "${accounts[@]}"; do
    # A subshell per account: the assumed role's credentials never reach the next account.
    (enroll_account "$account")
done
echo "enrolled the users of ${#accounts[@]} accounts"
