"""Password sources, strength rules, passphrases and `dealrooms password`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealrooms_plugin import passwords
from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin.model import Deal
from protectutil import copy_project, slugs

BASE = {"deal": {"title": "T", "buyer": {"name": "B"}, "seller": {"name": "S"}, "target_date": "2027-01-01"}}


def deal(**extra: object) -> Deal:
    return Deal.model_validate({**BASE, **extra})


def test_env_name() -> None:
    assert passwords.env_name("kestrel-freight") == "DEALROOMS_PASSWORD_KESTREL_FREIGHT"
    assert passwords.env_name("acme2") == "DEALROOMS_PASSWORD_ACME2"


def test_sources_in_order_env_then_secrets_file_then_own_env(tmp_path: Path) -> None:
    d = deal(access={"password_env": "ACME_PW"})
    path = tmp_path / "s.yml"
    env = {"DEALROOMS_PASSWORD_ACME": " from-env ", "ACME_PW": "own"}
    assert passwords.resolve("acme", d, {"acme": "from-file"}, path, env).password == "from-env"
    a = passwords.resolve("acme", d, {"acme": "from-file"}, path, {"ACME_PW": "own"})
    assert (a.password, a.source) == ("from-file", f"secrets file {path}")
    a = passwords.resolve("acme", d, {}, path, {"ACME_PW": "own"})
    assert a.password == "own" and "ACME_PW" in a.source
    missing = passwords.resolve("acme", deal(), {}, path, {})
    assert missing.protected and missing.password is None
    assert "from-env" not in repr(passwords.resolve("acme", d, {}, path, env))  # never printed by accident


def test_public_deals_need_no_password(tmp_path: Path) -> None:
    a = passwords.resolve("acme", deal(access="public"), {}, tmp_path / "s.yml", {})
    assert not a.protected and a.password is None


def test_weak_passwords_are_refused_with_a_reason() -> None:
    assert "too short" in passwords.weakness("abc12345")
    assert "common" in passwords.weakness("qwertyuiop123")
    assert "common" in passwords.weakness("Password2024!!")
    assert "common" in passwords.weakness("iloveyou1234")
    assert "repetitive" in passwords.weakness("abababababab")
    assert passwords.weakness("tulip-ferry-crane-wafer-sonic-42") is None


def test_generated_passphrases_are_five_words_and_a_number() -> None:
    seen = {passwords.generate_passphrase() for _ in range(200)}
    assert len(seen) == 200
    for phrase in seen:
        *words, number = phrase.split("-")
        assert len(words) == 5 and all(w in passwords.wordlist() for w in words)
        assert number.isdigit() and 10 <= int(number) <= 99
        assert passwords.weakness(phrase) is None
    assert len(passwords.wordlist()) > 1200


def test_secrets_file_is_private_and_keeps_other_deals(tmp_path: Path) -> None:
    path = tmp_path / ".dealrooms-secrets.yml"
    passwords.write_secret(path, "b-deal", "second-password-77")
    passwords.write_secret(path, "a-deal", "first-password-123")
    assert passwords.read_secrets(path) == {"a-deal": "first-password-123", "b-deal": "second-password-77"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("# Dealrooms deal-room passwords")
    path.write_text("a-deal: [not, text]\n")
    with pytest.raises(DealroomsError, match="expected a password as text"):
        passwords.read_secrets(path)
    path.write_text("a: b: c\n")
    with pytest.raises(DealroomsError, match="invalid YAML"):
        passwords.read_secrets(path)


def test_access_field_is_validated() -> None:
    assert deal(access="public").access.public
    assert deal(access={"password_env": "X_PW"}).access.password_env == "X_PW"
    with pytest.raises(Exception):
        deal(access="private")


def test_password_command_generates_stores_shows_and_rotates(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = copy_project(tmp_path / "project", brand=False)
    monkeypatch.chdir(project)
    slug = slugs(project)[0]
    runner = CliRunner()
    first = runner.invoke(main, ["password", slug])
    assert first.exit_code == 0, first.output
    generated = first.stdout.strip().splitlines()[0]
    secrets = project / ".dealrooms-secrets.yml"
    assert passwords.read_secrets(secrets) == {slug: generated}
    again = runner.invoke(main, ["password", slug])
    assert again.stdout.strip().splitlines()[0] == generated and "--rotate" in again.output
    rotated = runner.invoke(main, ["password", slug, "--rotate"])
    assert rotated.exit_code == 0 and passwords.read_secrets(secrets)[slug] != generated
    refused = runner.invoke(main, ["password", slug, "--set"], input="password1234\npassword1234\n")
    assert refused.exit_code != 0 and "common" in str(refused.exception)
    chosen = runner.invoke(main, ["password", slug, "--set"], input="Kestrel route plan 2027 ok\nKestrel route plan 2027 ok\n")
    assert chosen.exit_code == 0 and passwords.read_secrets(secrets)[slug] == "Kestrel route plan 2027 ok"
    unknown = runner.invoke(main, ["password", "no-such-deal"])
    assert unknown.exit_code != 0 and "unknown deal" in str(unknown.exception)
