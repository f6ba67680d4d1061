"""Password sources, strength rules, passphrases and `dealrooms password`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from mkdocs.exceptions import Abort

from buildutil import build_site, set_plugin_options
from dealrooms_plugin import keys, passwords
from dealrooms_plugin.cli import main
from dealrooms_plugin.errors import DealroomsError
from dealrooms_plugin.keys import KeyCache
from dealrooms_plugin.model import Deal
from protectutil import ROOT, copy_project, slugs

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
    assert "common password" in passwords.weakness("qwertyuiop123")
    assert "commonly used password" in passwords.weakness("Password2024!!")
    assert "commonly used password" in passwords.weakness("iloveyou1234")
    assert "Repeats" in passwords.weakness("abababababab")
    assert passwords.weakness("tulip-ferry-crane-wafer-sonic-42") is None


def kestrel() -> tuple[str, Deal]:
    from dealrooms_plugin.load import load_deal

    return "kestrel-freight", load_deal(ROOT / "dealrooms" / "kestrel-freight.yml").deal


@pytest.mark.parametrize(("password", "why"), [
    ("kestrel-freight-2027", "the deal's slug"),
    ("KestrelFreight1", "the deal's slug"),
    ("Orbisoft2026!", "the seller's name"),
    ("Ilse-Verhoeven-2027", "a person's name"),
])
def test_passwords_made_of_the_deals_own_names_are_refused(password: str, why: str) -> None:
    slug, d = kestrel()
    reason = passwords.weakness(password, passwords.deal_words(slug, d))
    assert reason and why in reason and "too easy to guess" in reason
    assert password.lower() not in reason.lower()  # the reason describes the password, never quotes it


def test_deal_words_cover_slug_parties_people_and_companies() -> None:
    words = passwords.deal_words("kestrel-freight", kestrel()[1])
    for word in ("kestrel-freight", "kestrelfreight", "kestrel", "freight", "orbisoft", "verhoeven", "ilse verhoeven"):
        assert word in words
    halden = deal(people=[{"id": "g", "name": "Greta Solheim", "side": "partner", "company": "Nordlicht Consulting"}])
    assert passwords.deal_words("x-1", halden)["nordlicht-consulting"] == "a company in the deal"
    assert set(passwords.deal_words("acme", None)) == {"acme"}  # an invalid deal file: its slug still counts


def test_strength_is_judged_on_a_bounded_prefix() -> None:
    slow = "Zq7-" + "".join(passwords.generate_passphrase() for _ in range(400))  # ~12,000 characters
    started = time.perf_counter()
    assert passwords.weakness(slow) is None
    assert passwords.weakness("a" * 10_000) is not None
    assert time.perf_counter() - started < 1


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


# --- the rules in `dealrooms password`, the build and `publish` -------------------------


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project with keys cached in tmp_path (cache and machine secret); cwd is the project."""
    project = copy_project(tmp_path / "project", brand=False)
    monkeypatch.chdir(project)
    monkeypatch.setenv("DEALROOMS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # where platformdirs puts the machine secret
    for slug in slugs(project):
        monkeypatch.delenv(passwords.env_name(slug), raising=False)
    return project


def set_via_cli(slug: str, password: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["password", slug, "--set"], input=f"{password}\n{password}\n")


@pytest.mark.parametrize("weak", ["kestrel-freight-2027", "KestrelFreight1", "Orbisoft2026!"])
def test_set_refuses_passwords_built_from_the_deal(example: Path, weak: str) -> None:
    result = set_via_cli("kestrel-freight", weak)
    assert result.exit_code != 0
    message = str(result.exception)
    assert "kestrel-freight: password refused: it is too easy to guess" in message
    assert "`dealrooms password kestrel-freight --rotate`" in message  # how to fix it
    assert weak not in message and weak not in result.output
    assert not (example / ".dealrooms-secrets.yml").exists()


def test_set_refuses_another_deals_password_unless_reuse_is_allowed(example: Path) -> None:
    shared = "Tidal ledger orchard 5812 quiet"
    passwords.write_secret(example / ".dealrooms-secrets.yml", "halden-health", shared)
    refused = set_via_cli("kestrel-freight", shared)
    assert refused.exit_code != 0
    message = str(refused.exception)
    assert "halden-health, kestrel-freight" in message and "allow_password_reuse: true" in message
    assert shared not in message and shared not in refused.output
    assert "kestrel-freight" not in passwords.read_secrets(example / ".dealrooms-secrets.yml")
    set_plugin_options(example, allow_password_reuse=True)
    assert set_via_cli("kestrel-freight", shared).exit_code == 0


def test_rotate_removes_the_old_key_from_the_key_cache(example: Path) -> None:
    runner = CliRunner()
    old = runner.invoke(main, ["password", "kestrel-freight"]).stdout.strip()
    keys.deal_keys({"kestrel-freight": old, "halden-health": "Tidal ledger orchard 5812 quiet"})  # what a build caches
    folder = Path(os.environ["DEALROOMS_CACHE_DIR"]) / "keys"
    assert len(list(folder.iterdir())) == 2 and KeyCache().get("kestrel-freight", old, keys.DEFAULT_ITERATIONS)
    assert runner.invoke(main, ["password", "kestrel-freight", "--rotate"]).exit_code == 0
    assert KeyCache().get("kestrel-freight", old, keys.DEFAULT_ITERATIONS) is None
    assert len(list(folder.iterdir())) == 1  # the other deal's key stays


def test_a_secrets_file_others_can_read_gives_the_chmod_to_run(example: Path) -> None:
    secrets = example / ".dealrooms-secrets.yml"
    runner = CliRunner()
    runner.invoke(main, ["password", "kestrel-freight"])
    assert "chmod" not in runner.invoke(main, ["password", "kestrel-freight"]).stderr  # created 0600
    secrets.chmod(0o644)
    shown = runner.invoke(main, ["password", "kestrel-freight"])
    assert "warning: .dealrooms-secrets.yml can be read by other users of this machine (mode 0644)" in shown.stderr
    assert "run `chmod 600 .dealrooms-secrets.yml`" in shown.stderr
    rotated = runner.invoke(main, ["password", "kestrel-freight", "--rotate"])
    assert rotated.exit_code == 0 and stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert "chmod" not in runner.invoke(main, ["password", "kestrel-freight"]).stderr


def test_build_refuses_reuse_and_weak_passwords_and_warns_about_the_secrets_file(
        example: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    strong = {slug: f"unlock-{slug}-7319-Zq" for slug in slugs(example)}
    secrets = example / ".dealrooms-secrets.yml"
    secrets.write_text("".join(f"{slug}: {pw}\n" for slug, pw in strong.items()))
    secrets.chmod(0o644)
    site = build_site(example)  # strong, distinct passwords: it builds, with a warning
    assert (site / "kestrel-freight" / "index.html").is_file()
    assert "run `chmod 600 .dealrooms-secrets.yml`" in caplog.text
    caplog.clear()
    reused = "Tidal ledger orchard 5812 quiet"
    monkeypatch.setenv("DEALROOMS_PASSWORD_KESTREL_FREIGHT", reused)
    monkeypatch.setenv("DEALROOMS_PASSWORD_MARLOW_VINE", reused)
    with pytest.raises(Abort):
        build_site(example)
    assert "kestrel-freight, marlow-vine" in caplog.text and "allow_password_reuse" in caplog.text
    assert reused not in caplog.text
    set_plugin_options(example, allow_password_reuse=True)
    build_site(example)


def test_a_failing_build_never_shows_the_passwords(example: Path, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    given = {"kestrel-freight": "KestrelFreight1", "halden-health": "Tidal ledger orchard 5812 quiet",
             "marlow-vine": "Tidal ledger orchard 5812 quiet"}
    for slug, password in given.items():
        monkeypatch.setenv(passwords.env_name(slug), password)
    with pytest.raises(Abort):
        build_site(example)
    assert "kestrel-freight: the password from env DEALROOMS_PASSWORD_KESTREL_FREIGHT is too easy" in caplog.text
    published = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", "publish"],
                               capture_output=True, text=True, timeout=300)
    assert published.returncode == 1 and "password(s) refused" in published.stderr
    for text in (caplog.text, published.stdout, published.stderr):
        for password in given.values():
            assert password not in text


def test_builds_judge_a_password_again_only_when_it_or_the_deal_words_change(
        example: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    given = {slug: f"unlock-{slug}-7319-Zq" for slug in slugs(example)}
    for slug, password in given.items():
        monkeypatch.setenv(passwords.env_name(slug), password)
    judged: list[str] = []
    real = passwords.weakness

    def counting(password: str, known=None):  # type: ignore[no-untyped-def]
        judged.append(password)
        return real(password, known)

    monkeypatch.setattr(passwords, "weakness", counting)
    build_site(example)
    assert sorted(judged) == sorted(given.values())
    judged.clear()
    build_site(example)
    assert judged == []  # zxcvbn's milliseconds per deal are paid once per password, not per build
    # A new person in one deal: new words a guesser would try, so that deal's password is judged again.
    deal_file = example / "dealrooms" / "kestrel-freight.yml"
    text = deal_file.read_text(encoding="utf-8")
    deal_file.write_text(text.replace("people:\n", "people:\n  - {id: zq, name: Ulla Zqvist, side: buyer, title: Ops}\n", 1),
                         encoding="utf-8")
    build_site(example)
    assert judged == [given["kestrel-freight"]]
