# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the mfa.aws plugins read from the IAM credential report.

Private to this collection: the names here may change in any release.

The credential report lists every IAM user of an account and its root user, one CSV row
each, with whether MFA is active: one report answers for a thousand users in a handful of
calls.  AWS keeps a report for four hours before it generates a new one, so a row can be
up to four hours old.  The parsing functions are pure; ``read_credential_report()`` makes
the AWS calls through the client and error handling of ``_mfa_devices``.
"""

from __future__ import annotations

import csv
import io
import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library.

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils._identifiers import ROOT_ARN
from ansible_collections.mfa.aws.plugins.module_utils._mfa_devices import iam_call
from ansible_collections.mfa.aws.plugins.module_utils._errors import error_code

ROOT_USER = "<root_account>"

REQUIRED_COLUMNS = ("user", "arn", "user_creation_time", "password_enabled", "mfa_active")

# Values the report writes where a column does not apply or AWS has nothing to say.
NO_VALUE = frozenset(("N/A", "not_supported", "no_information"))

# GetCredentialReport answers these while no finished report is there to read.
_NOT_READY = frozenset(("ReportInProgress", "ReportNotPresent", "ReportExpired"))

_FIRST_DELAY = 0.25
_MAX_DELAY = 8.0


ROOT_MFA_DOCUMENTATION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html"


class CredentialReportError(ValueError):
    """The credential report is not the CSV that AWS documents."""


def root_mfa_handoff() -> dict:
    """What to tell the person who signs in as the root user when it has no MFA.

    AWS offers no API call, with the account's own credentials or in a root session, that enables MFA for
    the root user: it is done in the console, signed in as root. ``methods`` holds the console steps of each
    kind of device, in the order AWS presents them: passkey or security key, authenticator app, hardware TOTP token.
    """
    sign_in = "Sign in to the AWS console as the root user (https://console.aws.amazon.com/, choose Root user, then the account's email address)."
    open_page = "Choose the account name at the top right of the navigation bar, then Security credentials."
    assign = "In the Multi-factor authentication (MFA) section, choose Assign MFA device, and type a device name."
    return {
        "reason": (
            "MFA for the root user can only be enabled in the AWS console, signed in as the root user: "
            "no API call made with the account's own credentials can do it."
        ),
        "steps": [
            sign_in,
            open_page,
            assign,
            "Choose the kind of device: passkey or security key, authenticator app, or hardware TOTP token.",
            "For an authenticator app: show the QR code, scan it with the app, then enter two consecutive codes from the app and choose Add MFA.",
            "For a passkey or security key: follow the browser's prompts; for a hardware TOTP token: enter its serial number and two consecutive codes.",
        ],
        "methods": [
            {
                "kind": "fido",
                "title": "Passkey or security key",
                "steps": [
                    sign_in, open_page, assign,
                    "Choose Passkey or Security Key, then Next.",
                    "Create the passkey with the browser (face, fingerprint or device PIN, or a passkey provider that syncs it across "
                    "your devices), or insert the FIDO security key into a USB port and tap it.",
                    "Choose Continue. From now on, signing in as the root user asks for the passkey or security key.",
                ],
            },
            {
                "kind": "virtual",
                "title": "Authenticator app (virtual MFA device)",
                "steps": [
                    sign_in, open_page, assign,
                    "Choose Authenticator app, then Next: the console shows the device's QR code and secret key.",
                    "In the authenticator app on your phone, add an account and scan the QR code (Show QR code), or type the secret key "
                    "(Show secret key) if the app cannot scan. The QR code and key belong to this account only: keep them as secret as a password.",
                    "Type the code the app shows in MFA code 1, wait up to 30 seconds for the next code, type it in MFA code 2, then choose Add MFA.",
                ],
            },
            {
                "kind": "hardware",
                "title": "Hardware TOTP token",
                "steps": [
                    sign_in, open_page, assign,
                    "Choose Hardware TOTP token, then Next.",
                    "Type the serial number printed on the back of the token.",
                    "Press the token's button and type the code in MFA code 1, wait about 30 seconds, press it again and type the "
                    "new code in MFA code 2, then choose Add MFA.",
                ],
            },
        ],
        "documentation": ROOT_MFA_DOCUMENTATION,
    }


# --- pure helpers --------------------------------------------------------------------------


def _is_boolean_column(column: str) -> bool:
    return column.endswith("_active") or column.endswith("_enabled")


def _typed(column: str, value: str, line: int):
    if column in ("user", "arn"):
        return value
    if value in NO_VALUE:
        return None
    if _is_boolean_column(column):
        if value not in ("true", "false"):
            raise CredentialReportError(f"credential report line {line}: column {column} is {value!r}, expected true or false")
        return value == "true"
    return value


def parse_report(content: bytes | str) -> list[dict]:
    """The rows of a credential report, as dicts of typed values keyed by column name.

    Columns ending in ``_active`` or ``_enabled`` become booleans, ``N/A``,
    ``not_supported`` and ``no_information`` become None, dates stay ISO 8601 strings.
    The root user's row, whose ``user`` is ``<root_account>``, is among the rows.
    Raises CredentialReportError when the content is not such a report.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CredentialReportError(f"the credential report is not UTF-8 text: {e}") from e
    reader = csv.reader(io.StringIO(content), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise CredentialReportError("the credential report is empty: it has no header line")
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise CredentialReportError(f"the credential report has no column {', '.join(missing)}: its header is {','.join(header)}")
        rows = []
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue
            if len(fields) != len(header):
                raise CredentialReportError(f"credential report line {line} has {len(fields)} fields where the header has {len(header)}")
            rows.append({column: _typed(column, value, line) for column, value in zip(header, fields)})
    except csv.Error as e:
        raise CredentialReportError(f"the credential report is not valid CSV (line {reader.line_num}): {e}") from e
    return rows


def split_root(rows: list[dict]) -> tuple[dict, list[dict]]:
    """(the root user's row, the IAM users' rows) of a parsed report."""
    roots = [row for row in rows if row["user"] == ROOT_USER]
    if len(roots) != 1:
        raise CredentialReportError(f"the credential report has {len(roots)} {ROOT_USER} rows where AWS writes exactly one")
    return roots[0], [row for row in rows if row["user"] != ROOT_USER]


def account_id(root_row: dict) -> str:
    """The account id, from the root user's ARN ``arn:aws:iam::<id>:root``."""
    match = ROOT_ARN.fullmatch(root_row["arn"] or "")
    if not match:
        raise CredentialReportError(f"the {ROOT_USER} row of the credential report has ARN {root_row['arn']!r}, not arn:aws:iam::<account id>:root")
    return match.group(1)


def summarize(users: list[dict], root_mfa_active: bool) -> dict:
    """Counts of an account's MFA state; ``users`` are dicts with ``user_name`` and ``mfa_active``."""
    without = sorted(user["user_name"] for user in users if not user["mfa_active"])
    return {
        "users": len(users),
        "users_with_mfa": len(users) - len(without),
        "users_without_mfa": len(without),
        "users_without_mfa_names": without,
        "root_mfa_active": root_mfa_active,
        "all_mfa_active": root_mfa_active and not without,
    }


# --- AWS calls -----------------------------------------------------------------------------


@iam_call(
    "generate the credential report",
    hints={"LimitExceeded": "AWS is generating too many credential reports for this account: run again in a few minutes"},
)
def _generate_report(client):
    return client.generate_credential_report(aws_retry=True)["State"]


@iam_call("read the credential report")
def _get_report(client):
    """The GetCredentialReport answer, or None while no finished report is there to read."""
    try:
        return client.get_credential_report(aws_retry=True)
    except botocore.exceptions.ClientError as e:
        if error_code(e) in _NOT_READY:
            return None
        raise


def read_credential_report(client, timeout: float) -> tuple[list[dict], str | None]:
    """(rows, time AWS generated the report) of the account's credential report.

    Asks AWS to generate the report (AWS reuses one younger than four hours) and waits for
    it with a growing pause, for at most ``timeout`` seconds.  Generating a report changes
    nothing in the account.
    """
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while True:
        if _generate_report(client) == "COMPLETE":
            response = _get_report(client)
            if response is not None:
                generated = response.get("GeneratedTime")
                return parse_report(response["Content"]), generated.isoformat() if generated else None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AnsibleIAMError(
                message=f"Failed to read the credential report: AWS had not finished it after {timeout} seconds (raise report_timeout or run again later)"
            )
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_DELAY)
