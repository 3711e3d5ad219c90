"""A strict local AWS endpoint: moto in server mode, behind a middleware that behaves like AWS where
mfa.aws depends on it (MFA codes are checked, seeds are never listed, quotas and conflicts apply),
records every API call, injects throttling, and offers an admin API under /_local_aws/."""
from .actions import WRITE_ACTION_PREFIXES, is_write
from .client import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, LocalAWS

__all__ = ["ACCESS_KEY_ID", "REGION", "SECRET_ACCESS_KEY", "WRITE_ACTION_PREFIXES", "LocalAWS", "is_write"]
