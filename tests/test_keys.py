"""The key cache: entries that are useless without this machine's secret, and that go with the password."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pytest

from dealrooms_plugin import keys
from dealrooms_plugin.keys import DealKey, KeyCache

PASSWORD = "tulip-ferry-crane-wafer-sonic-42"
OTHER = "second-password-4711"
ITERATIONS = keys.DEFAULT_ITERATIONS


@pytest.fixture(autouse=True)
def own_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """platformdirs follows XDG_DATA_HOME on Linux: the default secret lands in the test's folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def cache_at(folder: Path, secret: Path | None = None) -> KeyCache:
    return KeyCache(folder, enabled=True, secret_file=secret or folder.parent / "secret" / "key-cache.secret")


def a_key(byte: int = 7) -> DealKey:
    return DealKey(bytes([byte]) * 32, bytes(range(16)), ITERATIONS)


def entries(cache: KeyCache) -> list[Path]:
    return sorted(p for p in cache.folder.iterdir() if not p.name.startswith("."))


def test_key_cache_reuses_salt_and_key_until_the_password_changes(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "cache")
    first = keys.deal_keys({"a": PASSWORD, "b": OTHER}, cache=cache)
    assert first["a"].salt != first["b"].salt  # a random salt per deal
    again = keys.deal_keys({"a": PASSWORD, "b": OTHER}, cache=cache_at(tmp_path / "cache"))
    assert again == first
    changed = keys.deal_keys({"a": "a-new-password-2027", "b": OTHER}, cache=cache)
    assert changed["a"].salt != first["a"].salt and changed["b"] == first["b"]
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    found = entries(cache)
    assert len(found) == 2  # the old password's entry went when the new one was written
    assert all(stat.S_IMODE(e.stat().st_mode) == 0o600 for e in found)
    everything = b"".join(e.read_bytes() for e in found)
    assert PASSWORD.encode() not in everything
    for key in changed.values():  # the keys themselves are sealed, raw or base64
        assert key.key not in everything and keys._b64(key.key).encode() not in everything
    off = keys.deal_keys({"a": PASSWORD}, cache=KeyCache(tmp_path / "cache", enabled=False))
    assert off["a"].salt != first["a"].salt


def test_entry_names_need_the_machine_secret(tmp_path: Path) -> None:
    one = cache_at(tmp_path / "one", secret=tmp_path / "machine-one" / "key-cache.secret")
    two = cache_at(tmp_path / "two", secret=tmp_path / "machine-two" / "key-cache.secret")
    one.put("acme", PASSWORD, a_key())
    two.put("acme", PASSWORD, a_key())
    [name_one], [name_two] = [e.name for e in entries(one)], [e.name for e in entries(two)]
    assert name_one != name_two  # same deal and password, other machine: nothing in common
    # Nothing computed from slug and password alone names the entry (the first format did exactly that).
    material = json.dumps({"v": 1, "kdf": keys.KDF, "iterations": ITERATIONS, "slug": "acme", "password": PASSWORD},
                          sort_keys=True).encode()
    for guess in (hashlib.sha256(b"dealrooms key cache\0" + material).hexdigest(),
                  hashlib.sha256(material).hexdigest(), hashlib.sha256(b"acme").hexdigest()[:32]):
        assert guess not in name_one and guess not in name_two


def test_a_copied_cache_folder_opens_nothing_without_the_secret(tmp_path: Path) -> None:
    home = cache_at(tmp_path / "cache")
    key = keys.deal_keys({"acme": PASSWORD}, cache=home)["acme"]
    shutil.copytree(tmp_path / "cache", tmp_path / "copy")
    elsewhere = cache_at(tmp_path / "copy", secret=tmp_path / "elsewhere" / "key-cache.secret")
    assert elsewhere.get("acme", PASSWORD, ITERATIONS) is None
    assert not list((tmp_path / "copy").rglob("*.secret"))
    # With this machine's secret the same copy does open: the secret is what makes the difference.
    assert cache_at(tmp_path / "copy", secret=home.secret_file).get("acme", PASSWORD, ITERATIONS) == key


def test_the_secret_is_private_and_outside_the_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            own_data_folder: Path) -> None:
    monkeypatch.setenv("DEALROOMS_CACHE_DIR", str(tmp_path / "cache"))
    cache = KeyCache(enabled=True)
    keys.deal_keys({"acme": PASSWORD}, cache=cache)
    assert cache.folder == tmp_path / "cache" / "keys"
    assert cache.secret_file.is_relative_to(own_data_folder)
    assert len(cache.secret_file.read_bytes()) == keys.SECRET_BYTES
    assert stat.S_IMODE(cache.secret_file.stat().st_mode) == 0o600
    assert not list((tmp_path / "cache").rglob("*.secret"))
    assert KeyCache(enabled=True).get("acme", PASSWORD, ITERATIONS) is not None  # the next build finds it


def test_forget_removes_every_entry_of_one_deal_only(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "cache")
    cache.put("acme", PASSWORD, a_key(1))
    cache.put("other", PASSWORD, a_key(2))
    before = entries(cache)
    assert cache.forget("acme") == 1
    assert cache.get("acme", PASSWORD, ITERATIONS) is None
    assert cache.get("other", PASSWORD, ITERATIONS) == a_key(2)
    assert len(entries(cache)) == len(before) - 1


def test_a_tampered_or_moved_entry_is_ignored(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "cache")
    cache.put("acme", PASSWORD, a_key(1))
    [entry] = entries(cache)
    data = bytearray(entry.read_bytes())
    data[-1] ^= 1
    entry.write_bytes(bytes(data))
    assert cache.get("acme", PASSWORD, ITERATIONS) is None
    # An intact entry copied over another deal's entry does not open as that deal's key.
    cache.put("acme", PASSWORD, a_key(1))
    [acme] = entries(cache)
    cache.put("other", OTHER, a_key(2))
    [other] = [e for e in entries(cache) if e != acme]
    shutil.copy(acme, other)
    assert cache.get("other", OTHER, ITERATIONS) is None
    assert cache.get("acme", PASSWORD, ITERATIONS) == a_key(1)


def test_entries_of_the_first_format_are_swept(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "cache")
    cache.folder.mkdir(parents=True)
    legacy = cache.folder / (hashlib.sha256(b"old").hexdigest() + ".json")
    legacy.write_text(json.dumps({"v": 1, "iterations": ITERATIONS, "salt": "AA==", "key": "raw key"}))
    cache.put("acme", PASSWORD, a_key())
    assert not legacy.exists()


def test_a_passed_check_is_remembered_per_password_and_rules_and_goes_with_the_password(tmp_path: Path) -> None:
    cache = cache_at(tmp_path / "cache")
    assert not cache.passed("acme", PASSWORD, ITERATIONS, "rules-1")
    cache.put("acme", PASSWORD, a_key())
    cache.mark_passed("acme", PASSWORD, ITERATIONS, "rules-1")
    assert cache.passed("acme", PASSWORD, ITERATIONS, "rules-1")
    assert not cache.passed("acme", PASSWORD, ITERATIONS, "rules-2")  # new rules or deal words: judged again
    assert not cache.passed("acme", OTHER, ITERATIONS, "rules-1")
    assert not cache.passed("other", PASSWORD, ITERATIONS, "rules-1")
    # Another machine's cache (another secret) cannot vouch for anything here.
    shutil.copytree(cache.folder, tmp_path / "copy" / "keys")
    assert not cache_at(tmp_path / "copy", secret=tmp_path / "x" / "key-cache.secret").passed(
        "acme", PASSWORD, ITERATIONS, "rules-1")
    cache.put("acme", OTHER, a_key(2))  # the password changed: its marks go with its key
    assert not cache.passed("acme", PASSWORD, ITERATIONS, "rules-1")
    assert [e.suffix for e in entries(cache)] == [".key"]
    cache.mark_passed("acme", OTHER, ITERATIONS, "rules-1")
    cache.forget("acme")
    assert entries(cache) == []
