# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

from ansible_collections.mfa.aws.plugins.modules.iam_virtual_mfa_info import read_devices

ARN = "arn:aws:iam::123456789012:mfa/{}"
ENABLED = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


def fake_iam(devices, tags):
    """An IAM client: a listing without tags (as AWS's), and the tags of each device by serial number."""
    client = MagicMock()

    def paginator(name):
        pages = MagicMock()
        if name == "list_virtual_mfa_devices":
            pages.paginate.return_value.build_full_result.return_value = {"VirtualMFADevices": devices}
        else:
            pages.paginate.side_effect = lambda SerialNumber: MagicMock(build_full_result=MagicMock(return_value={
                "Tags": [{"Key": key, "Value": value} for key, value in tags.get(SerialNumber, {}).items()]}))
        return pages

    client.get_paginator.side_effect = paginator
    return client


def tag_reads(client):
    return [args[0] for name, args, _kwargs in client.method_calls if name == "get_paginator" and args[0] == "list_mfa_device_tags"]


DEVICES = [
    {"SerialNumber": ARN.format("bob"), "User": {"UserName": "bob"}, "EnableDate": ENABLED},
    {"SerialNumber": ARN.format("team/alice")},
]
TAGS = {ARN.format("bob"): {"mfa.aws/run": "c:1:1"}, ARN.format("team/alice"): {"owner": "alice"}}


def test_every_device_sorted_with_its_tags():
    client = fake_iam(DEVICES, TAGS)
    devices = read_devices(client)
    assert devices == [
        {"serial_number": ARN.format("bob"), "path": "/", "name": "bob", "user_name": "bob", "enable_date": ENABLED.isoformat(),
         "tags": {"mfa.aws/run": "c:1:1"}},
        {"serial_number": ARN.format("team/alice"), "path": "/team/", "name": "alice", "user_name": None, "enable_date": None,
         "tags": {"owner": "alice"}},
    ]
    assert len(tag_reads(client)) == 2


def test_only_the_named_devices_have_their_tags_read():
    client = fake_iam(DEVICES, TAGS)
    devices = read_devices(client, serial_numbers=[ARN.format("bob"), ARN.format("gone")])
    assert [device["name"] for device in devices] == ["bob"] and len(tag_reads(client)) == 1


def test_without_tags_one_listing_is_all():
    client = fake_iam(DEVICES, TAGS)
    assert [device["tags"] for device in read_devices(client, assignment_status="Unassigned", tags=False)] == [None, None]
    assert tag_reads(client) == []
