"""Telling API calls that change account state ("writes") from those that only read it."""
from __future__ import annotations

# Verbs of the IAM API (and most other AWS APIs) whose actions change account state.
# Not writes: Get*, List*, Simulate*, AcquireRole (hands out credentials like sts:AssumeRole), and
# Generate* (GenerateCredentialReport, GenerateServiceLastAccessedDetails, ...): these compute a
# report from the account's state without changing anything an IAM entity consists of, so an
# audit that generates a credential report still counts as read-only.
WRITE_ACTION_PREFIXES: tuple[str, ...] = (
    "Accept", "Add", "Associate", "Attach", "Change", "Create", "Deactivate", "Delete", "Detach",
    "Disable", "Enable", "Put", "Reject", "Remove", "Reset", "Resync", "Send", "Set", "Tag",
    "Untag", "Update", "Upload",
)


def is_write(action: str | None) -> bool:
    """Whether the action changes account state."""
    return bool(action) and str(action).startswith(WRITE_ACTION_PREFIXES)
