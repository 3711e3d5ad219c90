"""Run as a script: check inventory sources of mfa.aws.accounts with the plugin's own option validation, without AWS.

    python inventory_options.py SOURCE.yml ...

prints a JSON object: source -> null when ansible-core accepts every option (names and types), else the problem."""
from __future__ import annotations

import json
import sys

import yaml

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins import AnsiblePlugin
from ansible.plugins.loader import init_plugin_loader, inventory_loader
from ansible.utils.display import Display


def check(path: str) -> str | None:
    plugin = inventory_loader.get("mfa.aws.accounts")
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    known = set(C.config.get_configuration_definitions("inventory", plugin._load_name))  # pylint: disable=protected-access
    unknown = sorted(set(config) - known)
    if unknown:
        return f"unknown options {', '.join(unknown)}"
    try:
        plugin.set_options(direct=config)
        for name in config:
            # The plain option system (the plugin's own get_option templates its values, which needs a play).
            AnsiblePlugin.get_option(plugin, name)
    except AnsibleError as e:
        return str(e)
    return None


def main() -> int:
    Display()
    init_plugin_loader()
    print(json.dumps({path: check(path) for path in sys.argv[1:]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
