"""mfa.aws.seed_qr_code: QR codes of seeds, ansible-vault encrypted, for people's authenticator apps."""

from __future__ import annotations

import stat
import struct
import zlib
from pathlib import Path

import pyotp
import pytest
import yaml
import zxingcpp

from helpers.ansible_runner import module_result
from helpers.seeds import ACCOUNT
from helpers.seeds import SEEDS
from helpers.seeds import SERIAL
from helpers.seeds import ansible_vault
from helpers.seeds import decrypt
from helpers.seeds import read_stored

GROUPED = {"alice": "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", "bob": "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PUBLIC_RESULT = "{{ {'changed': module_result.changed, 'stored': module_result.stored, 'files': module_result.files} }}"


def expected_uri(user, issuer="AWS", account=ACCOUNT):
    """The otpauth URI of user's seed, written out by hand from the Key URI format."""
    return f"otpauth://totp/{issuer}:{user}@{account}?secret={SEEDS[user]}&issuer={issuer}"


def qr_playbook(directory: Path, users: list[str], remove: list[str] | None = None, no_log: bool = True, **options) -> str:
    seeds = {user: {"serial_number": SERIAL.format(user), "base32_seed": SEEDS[user]} for user in users}
    task = {"dir": str(directory), "seeds": seeds, "account_id": ACCOUNT, "remove": remove or [], **options}
    return yaml.safe_dump(
        [{"hosts": "localhost", "gather_facts": False,
          "tasks": [{"name": "module under test", "mfa.aws.seed_qr_code": task, "register": "module_result", "no_log": no_log},
                    # The registered result of a no_log task is whole; only its display is censored.
                    {"name": "public result", "ansible.builtin.set_fact": {"public_result": PUBLIC_RESULT}}]}]
    )


def decrypted_png(path: Path, vault_env: dict[str, str], tmp_path: Path) -> bytes:
    """The PNG that `ansible-vault decrypt --output <user>.png <user>.png.vault` gives a person."""
    out = tmp_path / "decrypted" / path.name.replace(".png.vault", ".png")
    out.parent.mkdir(mode=0o700, exist_ok=True)
    ansible_vault("decrypt", "--output", str(out), str(path), vault_env=vault_env)
    try:
        return out.read_bytes()
    finally:
        out.unlink()


def png_grey_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, one byte a pixel) of a non-interlaced greyscale or palette PNG, such as segno writes."""
    assert data.startswith(PNG_SIGNATURE)
    pos, compressed, palette, header = len(PNG_SIGNATURE), b"", None, None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = [sum(body[i:i + 3]) // 3 for i in range(0, len(body), 3)]
        elif kind == b"IDAT":
            compressed += body
    width, height, depth, colour, _compression, _filter, interlace = header
    assert colour in (0, 3) and depth in (1, 2, 4, 8) and not interlace
    raw = zlib.decompress(compressed)
    stride = (width * depth + 7) // 8
    pixels = bytearray()
    previous = bytearray(stride)
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, up_left = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - up_left
                nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - up_left), 2, up_left))[2]
                line[i] = (line[i] + nearest) & 0xFF
        previous = line
        maximum = (1 << depth) - 1
        for x in range(width):
            bit = x * depth
            value = (line[bit // 8] >> (8 - depth - bit % 8)) & maximum
            pixels.append(palette[value] if colour == 3 else value * 255 // maximum)
    return width, height, bytes(pixels)


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in the PNG, read by the ZXing decoder."""
    width, height, pixels = png_grey_pixels(png)
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert [barcode.format for barcode in found] == [zxingcpp.BarcodeFormat.QRCode]
    return found[0].text


def public(result):
    """changed, stored and files of the module's result (a no_log task), as the next task saw them."""
    return next(task["result"] for task in result.task_results if task["task"] == "public result")["ansible_facts"]["public_result"]


def files_of(directory: Path, user: str) -> tuple[Path, Path]:
    return directory / f"{user}.png.vault", directory / f"{user}.yml"


def test_check_then_write_then_idempotent(ansible, vault, tmp_path):
    directory = tmp_path / "qr" / ACCOUNT

    checked = ansible.playbook(qr_playbook(directory, ["alice"]), check=True, env=vault)
    assert checked.rc == 0, checked.output
    assert checked.recap["localhost"]["changed"] == 1
    assert not directory.exists()

    written = ansible.playbook(qr_playbook(directory, ["alice"]), env=vault, diff=True, verbosity=4)
    assert written.rc == 0, written.output
    assert written.recap["localhost"]["changed"] == 1
    for secret in (SEEDS["alice"], GROUPED["alice"], "secret="):
        assert secret not in written.output
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    png_path, entry_path = files_of(directory, "alice")
    for path in (png_path, entry_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        raw = path.read_bytes()
        assert raw.startswith(b"$ANSIBLE_VAULT;") and SEEDS["alice"].encode() not in raw and PNG_SIGNATURE not in raw
    assert sorted(p.name for p in directory.iterdir()) == ["alice.png.vault", "alice.yml"]

    png = decrypted_png(png_path, vault, tmp_path)
    assert png.startswith(PNG_SIGNATURE)
    assert decode_qr(png) == expected_uri("alice")
    entry = decrypt(entry_path, vault)
    assert entry == {
        "user_name": "alice",
        "serial_number": SERIAL.format("alice"),
        "issuer": "AWS",
        "account_label": f"alice@{ACCOUNT}",
        "otpauth_uri": expected_uri("alice"),
        "base32_seed": SEEDS["alice"],
        "manual_entry_key": GROUPED["alice"],
        "created": entry["created"],
    }
    assert entry["created"]

    result = public(ansible.playbook(qr_playbook(directory, ["alice"]), env=vault))
    assert result["changed"] is False
    assert result["stored"] == {"alice": SERIAL.format("alice")}
    assert result["files"] == {"alice": {"png": str(png_path), "entry": str(entry_path)}}
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (png_path, entry_path)}
    for check in (True, False):
        again = ansible.playbook(qr_playbook(directory, ["alice"]), check=check, env=vault)
        assert again.rc == 0, again.output
        assert again.recap["localhost"]["changed"] == 0
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (png_path, entry_path)} == before


def test_the_qr_code_gives_the_codes_of_the_seed(ansible, vault, tmp_path):
    directory = tmp_path / ACCOUNT
    issuer = "ACME & Co / Zürich"
    run = ansible.playbook(qr_playbook(directory, ["alice", "bob"], issuer=issuer, account_alias="pay ments"), env=vault)
    assert run.rc == 0, run.output

    at = 1_700_000_000
    for user in ("alice", "bob"):
        uri = decode_qr(decrypted_png(files_of(directory, user)[0], vault, tmp_path))
        assert uri == (
            f"otpauth://totp/ACME%20%26%20Co%20%2F%20Z%C3%BCrich:{user}@pay%20ments%20%28{ACCOUNT}%29"
            f"?secret={SEEDS[user]}&issuer=ACME%20%26%20Co%20%2F%20Z%C3%BCrich"
        )
        assert decrypt(files_of(directory, user)[1], vault)["otpauth_uri"] == uri
        codes = ansible.playbook(
            yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
                {"name": "module under test", "ansible.builtin.set_fact": {
                    "codes": "{{ lookup('mfa.aws.totp', lookup('ansible.builtin.env', 'QR_URI'), pair=true, at=%d) }}" % at}}]}]),
            env={"QR_URI": uri},
        )
        assert codes.rc == 0, codes.output
        totp = pyotp.TOTP(SEEDS[user])
        assert module_result(codes)["ansible_facts"]["codes"] == [totp.at(at - 30), totp.at(at)]


def test_a_new_device_or_an_open_file_mode_rewrites_the_files(ansible, vault, tmp_path):
    directory = tmp_path / ACCOUNT
    assert ansible.playbook(qr_playbook(directory, ["alice"]), env=vault).rc == 0
    png_path, entry_path = files_of(directory, "alice")

    entry_path.chmod(0o644)
    fixed = ansible.playbook(qr_playbook(directory, ["alice"]), env=vault)
    assert fixed.rc == 0 and fixed.recap["localhost"]["changed"] == 1, fixed.output
    assert stat.S_IMODE(entry_path.stat().st_mode) == 0o600

    # Without no_log, to show that the diff and the -vvvv trace hold serial numbers, never a seed or a URI.
    new_device = yaml.safe_load(qr_playbook(directory, ["alice"], no_log=False))
    new_device[0]["tasks"][0]["mfa.aws.seed_qr_code"]["seeds"]["alice"] = {"serial_number": SERIAL.format("alice-2"), "base32_seed": SEEDS["bob"]}
    rewritten = ansible.playbook(yaml.safe_dump(new_device), env=vault, diff=True, verbosity=4)
    assert rewritten.rc == 0, rewritten.output
    assert public(rewritten)["stored"] == {"alice": SERIAL.format("alice-2")}
    diff = module_result(rewritten)["diff"]
    assert diff["before"] == {"alice": {"serial_number": SERIAL.format("alice")}}
    assert diff["after"] == {"alice": {"serial_number": SERIAL.format("alice-2")}}
    assert SERIAL.format("alice-2") in rewritten.output
    assert not any(secret in rewritten.output for secret in [*SEEDS.values(), *GROUPED.values(), "otpauth://"])
    assert decode_qr(decrypted_png(png_path, vault, tmp_path)) == expected_uri("alice").replace(SEEDS["alice"], SEEDS["bob"])


def test_remove_deletes_the_files_of_the_named_users_only(ansible, vault, tmp_path):
    directory = tmp_path / ACCOUNT
    assert ansible.playbook(qr_playbook(directory, ["alice", "bob"]), env=vault).rc == 0

    checked = ansible.playbook(qr_playbook(directory, [], remove=["alice", "nobody"]), check=True, env=vault)
    assert checked.rc == 0 and checked.recap["localhost"]["changed"] == 1, checked.output
    assert all(path.exists() for path in files_of(directory, "alice"))

    removed = ansible.playbook(qr_playbook(directory, [], remove=["alice", "nobody"]), env=vault, diff=True)
    assert removed.rc == 0 and removed.recap["localhost"]["changed"] == 1, removed.output
    assert sorted(p.name for p in directory.iterdir()) == ["bob.png.vault", "bob.yml"]
    assert public(removed)["stored"] == {"bob": SERIAL.format("bob")}
    assert SEEDS["bob"] not in removed.output

    again = ansible.playbook(qr_playbook(directory, [], remove=["alice"]), env=vault)
    assert again.rc == 0 and again.recap["localhost"]["changed"] == 0, again.output


def test_read_only_call_returns_serials_never_seeds(ansible, vault, tmp_path):
    directory = tmp_path / ACCOUNT
    assert ansible.playbook(qr_playbook(directory, ["alice", "bob"]), env=vault).rc == 0
    secrets = [*SEEDS.values(), *GROUPED.values(), "otpauth://"]
    stored = read_stored(ansible, "mfa.aws.seed_qr_code", {"dir": str(directory)}, vault, secrets)
    assert stored == {"alice": SERIAL.format("alice"), "bob": SERIAL.format("bob")}


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no vault secret", "no vault secret to encrypt the seeds with: run with --vault-id or --vault-password-file"),
        ("unknown vault id", "no vault secret with vault id 'prod': give it with --vault-id prod@<source>"),
        ("open mode", "must be an octal mode that gives no write or read access to others"),
        ("no account id", "account_id must be the 12-digit id of the AWS account"),
        ("path in user name", "'../alice' is not an IAM user name"),
        ("bad seed", "seeds['alice']: the seed has characters outside the base32 alphabet"),
        ("colon in issuer", "the issuer cannot contain ':'"),
        ("plaintext entry", "alice.yml is not ansible-vault encrypted"),
        ("dir is a file", "Not a directory; choose a directory this run can write"),
    ],
)
def test_bad_input_fails_with_a_clear_message_and_writes_nothing(ansible, vault, tmp_path, case, expected):
    directory = tmp_path / ACCOUNT
    env = dict(vault)
    seed = SEEDS["alice"]
    user = "alice"
    task = {"account_id": ACCOUNT}
    if case == "no vault secret":
        env = {}
    elif case == "unknown vault id":
        task["vault_id"] = "prod"
    elif case == "open mode":
        task["mode"] = "0644"
    elif case == "no account id":
        task = {}
    elif case == "path in user name":
        user = "../alice"
    elif case == "bad seed":
        seed = seed[:-1] + "1"
    elif case == "colon in issuer":
        task["issuer"] = "AWS: prod"
    elif case == "plaintext entry":
        directory.mkdir()
        (directory / "alice.yml").write_text("user_name: alice\n", encoding="utf-8")
        (directory / "alice.png.vault").write_text("", encoding="utf-8")
    elif case == "dir is a file":
        directory.write_text("", encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))

    task.update(dir=str(directory), seeds={user: {"serial_number": SERIAL.format("alice"), "base32_seed": seed}})
    playbook = yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "module under test", "mfa.aws.seed_qr_code": task}]}])
    for check in (True, False):
        run = ansible.playbook(playbook, check=check, env=env, verbosity=4)
        assert run.rc != 0
        message = module_result(run)["msg"]
        assert expected in message, message
        assert "\n" not in message
        assert seed not in run.output and seed[:16] not in run.output
    after = [path for path in sorted(tmp_path.rglob("*")) if "ansible" not in path.relative_to(tmp_path).parts]
    assert after == [path for path in before if "ansible" not in path.relative_to(tmp_path).parts]
