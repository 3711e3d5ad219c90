# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest


from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa.aws.plugins.module_utils import _credential_report
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import CredentialReportError
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import account_id
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import parse_report
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import read_credential_report
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import root_mfa_handoff
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import split_root
from ansible_collections.mfa.aws.plugins.module_utils._credential_report import summarize
from ansible_collections.mfa.aws.tests.unit.utils.constants import client_error

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,"
    "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
ROOT = (
    "<root_account>,arn:aws:iam::123456789012:root,2019-03-04T10:11:12+00:00,not_supported,2025-05-30T08:00:00+00:00,not_supported,not_supported,"
    "false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
ALICE = (
    "alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,no_information,2024-01-02T03:04:05+00:00,N/A,"
    "true,true,2024-01-02T03:04:06+00:00,2025-05-01T00:00:00+00:00,eu-west-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
BOB = (
    "bob,arn:aws:iam::123456789012:user/team/bob,2024-02-03T04:05:06+00:00,false,not_supported,N/A,not_supported,"
    "false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)


def report(*rows):
    return "\n".join((HEADER,) + rows) + "\n"


class ReportClient:
    """Answers GenerateCredentialReport and GetCredentialReport from scripted answers, in order."""

    def __init__(self, states, reports):
        self.states = list(states)
        self.reports = list(reports)
        self.calls = []

    def generate_credential_report(self, aws_retry=False):
        self.calls.append("GenerateCredentialReport")
        return {"State": self.states.pop(0)}

    def get_credential_report(self, aws_retry=False):
        self.calls.append("GetCredentialReport")
        answer = self.reports.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(_credential_report.time, "sleep", slept.append)
    return slept


def test_parse_types_the_values():
    rows = parse_report(report(ROOT, ALICE, BOB))
    assert [row["user"] for row in rows] == ["<root_account>", "alice", "bob"]
    alice = rows[1]
    assert alice["arn"] == "arn:aws:iam::123456789012:user/alice"
    assert alice["user_creation_time"] == "2024-01-02T03:04:05+00:00"
    assert alice["password_enabled"] is True
    assert alice["mfa_active"] is True
    assert alice["access_key_1_active"] is True
    assert alice["access_key_2_active"] is False
    assert alice["access_key_1_last_used_region"] == "eu-west-1"
    assert alice["password_last_used"] is None
    assert alice["password_next_rotation"] is None


def test_parse_turns_the_no_value_markers_into_none():
    root, bob = parse_report(report(ROOT, BOB))
    assert root["password_enabled"] is None
    assert root["password_last_changed"] is None
    assert root["password_last_used"] == "2025-05-30T08:00:00+00:00"
    assert bob["password_last_used"] is None
    assert bob["password_last_changed"] is None
    assert bob["access_key_1_last_rotated"] is None


def test_parse_keeps_user_names_that_look_like_markers():
    row = BOB.replace("bob,arn:aws:iam::123456789012:user/team/bob", "not_supported,arn:aws:iam::123456789012:user/not_supported")
    (user,) = parse_report(report(row))
    assert user["user"] == "not_supported"
    assert user["arn"] == "arn:aws:iam::123456789012:user/not_supported"


def test_parse_reads_bytes_with_a_byte_order_mark_and_crlf_lines():
    content = ("\ufeff" + report(ROOT, ALICE).replace("\n", "\r\n")).encode("utf-8")
    rows = parse_report(content)
    assert [row["user"] for row in rows] == ["<root_account>", "alice"]
    assert rows[1]["mfa_active"] is True


def test_report_with_only_the_root_user():
    root, users = split_root(parse_report(report(ROOT)))
    assert root["user"] == "<root_account>"
    assert root["mfa_active"] is False
    assert users == []
    assert account_id(root) == "123456789012"


def test_split_root_separates_the_root_row():
    root, users = split_root(parse_report(report(ALICE, ROOT, BOB)))
    assert root["arn"] == "arn:aws:iam::123456789012:root"
    assert [user["user"] for user in users] == ["alice", "bob"]


@pytest.mark.parametrize("rows", [(ALICE,), (ROOT, ALICE, ROOT)], ids=["no root row", "two root rows"])
def test_split_root_wants_exactly_one_root_row(rows):
    with pytest.raises(CredentialReportError, match="<root_account> rows where AWS writes exactly one"):
        split_root(parse_report(report(*rows)))


@pytest.mark.parametrize(
    "arn, expected",
    [("arn:aws:iam::123456789012:root", "123456789012"), ("arn:aws-cn:iam::210987654321:root", "210987654321")],
)
def test_account_id_from_the_root_arn(arn, expected):
    assert account_id({"arn": arn}) == expected


@pytest.mark.parametrize("arn", ["arn:aws:iam::123456789012:user/root", "arn:aws:iam::1234:root", None])
def test_account_id_rejects_other_arns(arn):
    with pytest.raises(CredentialReportError, match="not arn:aws:iam::<account id>:root"):
        account_id({"arn": arn})


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the credential report is empty"),
        (b"", "the credential report is empty"),
        ("user,arn,password_enabled\n", "has no column user_creation_time, mfa_active"),
        (report(ROOT, "alice,arn:aws:iam::123456789012:user/alice,true"), r"line 3 has 3 fields where the header has 22"),
        (report(ROOT, ALICE.replace(",true,true,", ",yes,true,", 1)), r"line 3: column mfa_active is 'yes', expected true or false"),
        (report(ROOT) + 'carol,"arn:aws:iam::123456789012:user/carol\n', "is not valid CSV"),
        (b"user,arn\n\xff\xfe\n", "is not UTF-8 text"),
    ],
    ids=["empty", "empty bytes", "missing columns", "short row", "not a boolean", "unclosed quote", "not utf-8"],
)
def test_parse_rejects_malformed_reports(content, message):
    with pytest.raises(CredentialReportError, match=message):
        parse_report(content)


def test_summarize_counts_users_and_names_those_without_mfa():
    users = [
        {"user_name": "dave", "mfa_active": False},
        {"user_name": "alice", "mfa_active": True},
        {"user_name": "carol", "mfa_active": False},
    ]
    assert summarize(users, root_mfa_active=True) == {
        "users": 3,
        "users_with_mfa": 1,
        "users_without_mfa": 2,
        "users_without_mfa_names": ["carol", "dave"],
        "root_mfa_active": True,
        "all_mfa_active": False,
    }


@pytest.mark.parametrize("root_mfa_active", [True, False])
def test_all_mfa_active_needs_the_root_user_too(root_mfa_active):
    summary = summarize([{"user_name": "alice", "mfa_active": True}], root_mfa_active=root_mfa_active)
    assert summary["users_without_mfa"] == 0
    assert summary["all_mfa_active"] is root_mfa_active


def test_summarize_an_account_without_users():
    assert summarize([], root_mfa_active=False) == {
        "users": 0,
        "users_with_mfa": 0,
        "users_without_mfa": 0,
        "users_without_mfa_names": [],
        "root_mfa_active": False,
        "all_mfa_active": False,
    }


def test_root_mfa_handoff_gives_the_console_steps():
    handoff = root_mfa_handoff()
    assert "signed in as the root user" in handoff["reason"]
    steps = " ".join(handoff["steps"])
    for words in ("Security credentials", "Assign MFA device", "passkey or security key", "authenticator app", "hardware TOTP token", "two consecutive codes"):
        assert words in steps
    assert handoff["documentation"].startswith("https://docs.aws.amazon.com/IAM/")


def test_root_mfa_handoff_is_a_fresh_copy_each_time():
    root_mfa_handoff()["steps"].clear()
    assert root_mfa_handoff()["steps"]


def test_read_waits_for_the_report(sleeps):
    generated = datetime.datetime(2025, 6, 1, 9, 30, 12, tzinfo=datetime.timezone.utc)
    client = ReportClient(["STARTED", "INPROGRESS", "COMPLETE"], [{"Content": report(ROOT, ALICE).encode(), "GeneratedTime": generated}])
    rows, generated_time = read_credential_report(client, timeout=60)
    assert [row["user"] for row in rows] == ["<root_account>", "alice"]
    assert generated_time == "2025-06-01T09:30:12+00:00"
    assert client.calls == ["GenerateCredentialReport"] * 3 + ["GetCredentialReport"]
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("code", ["ReportInProgress", "ReportNotPresent", "ReportExpired"])
def test_read_generates_again_while_no_report_is_ready(sleeps, code):
    client = ReportClient(["COMPLETE", "COMPLETE"], [client_error(code, "GetCredentialReport"), {"Content": report(ROOT).encode()}])
    rows, generated_time = read_credential_report(client, timeout=60)
    assert [row["user"] for row in rows] == ["<root_account>"]
    assert generated_time is None
    assert client.calls == ["GenerateCredentialReport", "GetCredentialReport"] * 2
    assert sleeps == [0.25]


def test_read_fails_after_the_timeout(sleeps):
    client = ReportClient(["STARTED"], [])
    with pytest.raises(AnsibleIAMError, match="AWS had not finished it after 0 seconds"):
        read_credential_report(client, timeout=0)
    assert client.calls == ["GenerateCredentialReport"]
    assert sleeps == []


def test_read_bounds_the_pauses_by_the_timeout(monkeypatch):
    now = [1000.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(_credential_report.time, "sleep", sleep)
    monkeypatch.setattr(_credential_report.time, "monotonic", lambda: now[0])
    client = ReportClient(["INPROGRESS"] * 20, [])
    with pytest.raises(AnsibleIAMError, match="after 20 seconds"):
        read_credential_report(client, timeout=20)
    assert slept == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 4.25]
    assert len(client.calls) == 8


def test_read_reports_other_errors():
    client = ReportClient(["COMPLETE"], [client_error("AccessDenied", "GetCredentialReport")])
    with pytest.raises(AnsibleIAMError, match=r"Failed to read the credential report \(the credentials in use lack this IAM permission"):
        read_credential_report(client, timeout=60)
