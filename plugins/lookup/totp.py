# -*- coding: utf-8 -*-

# Copyright: Contributors to the mfa.aws project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: totp
author:
  - Contributors to the mfa.aws project (@mfa-aws)
version_added: 0.1.0
short_description: Compute TOTP codes of virtual MFA devices
description:
  - Computes time-based one-time passwords (TOTP, RFC 6238) from the base32 seed of a virtual MFA
    device, or from an C(otpauth://totp/) URI, on the Ansible controller.
  - With O(pair=true) it returns the two consecutive codes that AWS asks for to enable a virtual MFA
    device, for example with M(mfa.aws.iam_mfa_enable).
  - Error messages never contain a seed or an otpauth URI.
requirements:
  - pyotp
options:
  _terms:
    description:
      - Base32 seeds or C(otpauth://totp/) URIs, one code (or pair of codes) computed for each.
      - A seed may be in any case, contain spaces and dashes, and lack its C(=) padding. It must decode
        to at least 80 bits (16 base32 characters).
      - The C(secret), C(digits), C(period) and C(algorithm) parameters of a URI are honoured. C(otpauth://hotp/)
        URIs (counter-based codes) are refused.
    type: list
    elements: str
    required: true
  digits:
    description:
      - Number of digits of each code.
      - For a URI term, the URI's C(digits) parameter is used instead of the default; giving this option
        with a value that contradicts the URI is an error.
    type: int
    choices: [6, 8]
    default: 6
  period:
    description:
      - Length of a time window in seconds, from 1 to 120.
      - For a URI term, the URI's C(period) parameter is used instead of the default; giving this option
        with a value that contradicts the URI is an error.
    type: int
    default: 30
  algorithm:
    description:
      - HMAC algorithm of the device. AWS virtual MFA devices use V(sha1).
      - For a URI term, the URI's C(algorithm) parameter is used instead of the default; giving this option
        with a value that contradicts the URI is an error.
    type: str
    choices: [sha1, sha256, sha512]
    default: sha1
  at:
    description:
      - Unix time (seconds since 1970-01-01 UTC, a whole or fractional number) to compute the code for.
      - Defaults to the current time of the controller.
    type: float
  offset:
    description:
      - Number of whole time windows to move from the window of O(at); negative values go back in time.
    type: int
    default: 0
  pair:
    description:
      - If V(false), returns one code for each term.
      - If V(true), returns for each term a list of two consecutive codes, the code of the window before C(w)
        then the code of C(w), where C(w) is the window of O(at) moved by O(offset) windows. Both codes are known
        as soon as window C(w) starts, so enabling a device never waits for the next window.
    type: bool
    default: false
notes:
  - The codes are computed on the controller, whose clock must be right (NTP).
  - Give the seeds through variables protected with Ansible Vault, and set C(no_log) on the tasks that use the codes.
seealso:
  - module: mfa.aws.iam_virtual_mfa
  - module: mfa.aws.iam_mfa_enable
  - name: "RFC 6238: TOTP: Time-Based One-Time Password Algorithm"
    description: The algorithm, and the test vectors this lookup is checked against.
    link: https://www.rfc-editor.org/rfc/rfc6238
  - name: Key URI format
    description: The C(otpauth://) URI format of authenticator apps.
    link: https://github.com/google/google-authenticator/wiki/Key-Uri-Format
"""

EXAMPLES = r"""
- name: Show the current code of a test seed
  ansible.builtin.debug:
    msg: "{{ lookup('mfa.aws.totp', 'JBSWY3DPEHPK3PXP') }}"

# vault/alice_mfa.yml, encrypted with "ansible-vault encrypt", holds alice_mfa_seed: the base32 seed of
# alice's virtual MFA device.
- name: Load the seed of alice's device from a file encrypted with ansible-vault
  ansible.builtin.include_vars:
    file: vault/alice_mfa.yml
  no_log: true

- name: Enable alice's virtual MFA device with two consecutive codes
  mfa.aws.iam_mfa_enable:
    user_name: alice
    serial_number: arn:aws:iam::123456789012:mfa/alice
    authentication_code_1: "{{ codes[0] }}"
    authentication_code_2: "{{ codes[1] }}"
  vars:
    codes: "{{ lookup('mfa.aws.totp', alice_mfa_seed, pair=true) }}"
  no_log: true

- name: Compute a code from an otpauth URI (its digits, period and algorithm are honoured)
  ansible.builtin.set_fact:
    vpn_code: "{{ lookup('mfa.aws.totp', vpn_otpauth_uri) }}"
  vars:
    vpn_otpauth_uri: otpauth://totp/Example%20VPN:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example%20VPN&digits=8&period=60
  no_log: true

- name: Codes of several seeds at a given time, one window earlier
  ansible.builtin.debug:
    msg: "{{ query('mfa.aws.totp', 'JBSWY3DPEHPK3PXP', 'GEZDGNBVGY3TQOJQ', at=1700000000, offset=-1) }}"
"""

RETURN = r"""
_raw:
  description:
    - One element for each term, in the order of the terms.
    - Each element is a code, a string of O(digits) digits with its leading zeros.
    - With O(pair=true), each element is a list of two such codes, the earlier window first.
  type: list
  elements: raw
"""

import time

from ansible.errors import AnsibleLookupError, AnsibleOptionsError
from ansible.plugins.lookup import LookupBase

from ansible_collections.mfa.aws.plugins.plugin_utils._otp import PYOTP_IMPORT_ERROR
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import OtpError
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import parse_otpauth_uri
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import totp_code
from ansible_collections.mfa.aws.plugins.plugin_utils._otp import totp_pair

# Options that an otpauth URI can set too.
_URI_OPTIONS = ("digits", "period", "algorithm")


class LookupModule(LookupBase):

    def _invalid_option(self, variables, options):
        """The first of the options that the option system refuses alone (or '?' when none does alone)."""
        for name, value in options.items():
            try:
                self.set_options(var_options=variables, direct={name: value})
            except AnsibleOptionsError:
                return name
        return "?"

    def run(self, terms, variables=None, **kwargs):
        try:
            self.set_options(var_options=variables, direct=kwargs)
        except AnsibleOptionsError as err:
            # Each ansible-core words this its own way: name the option here, the same on every core.
            raise AnsibleLookupError(f"invalid option {self._invalid_option(variables, kwargs)!r} for the mfa.aws.totp lookup: {err.message}") from None
        if PYOTP_IMPORT_ERROR is not None:
            raise AnsibleLookupError("the mfa.aws.totp lookup needs the Python library pyotp (pip install pyotp)") from PYOTP_IMPORT_ERROR

        at = self.get_option("at")
        if at is None:
            at = time.time()
        offset = self.get_option("offset")
        compute = totp_pair if self.get_option("pair") else totp_code
        options = {name: self.get_option(name) for name in _URI_OPTIONS}
        explicit = {name: value for name, value in options.items() if name in kwargs}

        results = []
        for index, term in enumerate(terms, start=1):
            try:
                seed, settings = self._seed_and_settings(term, options, explicit)
                results.append(compute(seed, at, offset=offset, **settings))
            except OtpError as err:
                raise AnsibleLookupError(f"term {index}: {err}") from None
        return results

    @staticmethod
    def _seed_and_settings(term, options, explicit):
        """The seed of term, and the digits, period and algorithm to compute its codes with.

        The parameters of an otpauth URI replace the options' defaults; an option given
        explicitly with a different value is an error.
        """
        if not (isinstance(term, str) and term.lower().startswith("otpauth:")):
            return term, options
        uri = parse_otpauth_uri(term)
        settings = dict(options)
        for name in _URI_OPTIONS:
            value = getattr(uri, name)
            if value is None:
                continue
            if name in explicit and explicit[name] != value:
                raise OtpError(f"the {name} option ({explicit[name]}) contradicts the otpauth URI's '{name}' parameter ({value}): give only one of them")
            settings[name] = value
        return uri.secret, settings
