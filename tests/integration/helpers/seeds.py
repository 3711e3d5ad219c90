"""The example account, serial numbers and seeds of the seed store tests, and the read every store must answer."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ACCOUNT = "123456789012"
SERIAL = "arn:aws:iam::123456789012:mfa/{}"
SEEDS = {"alice": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "bob": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}


def read_stored(ansible: Any, fqcn: str, args: dict[str, Any], env: dict[str, str], secrets: Iterable[str]) -> dict[str, Any]:
    """Read a store with the module `fqcn` at -vvvv without asking for its seeds: what it holds (its `stored` result), after
    checking that the read changed nothing and that none of `secrets` reached the output."""
    read = ansible.module(fqcn, args, verbosity=4, env=env)
    assert read.rc == 0, read.output
    assert read.result["changed"] is False
    assert not any(secret in read.output for secret in secrets)
    return read.result["stored"]
