"""Every write to the key cache leaves its folder private (0700), whichever write comes first."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dealrooms_plugin.keys import DEFAULT_ITERATIONS, DealKey, KeyCache


@pytest.mark.parametrize("write", ["put", "mark_passed"])
def test_a_world_readable_cache_folder_is_made_private_by_any_write(tmp_path: Path, write: str) -> None:
    cache = KeyCache(tmp_path / "cache", enabled=True, secret_file=tmp_path / "secret" / "key-cache.secret")
    cache.folder.mkdir(parents=True, mode=0o755)
    cache.folder.chmod(0o755)  # made by hand, or by a copy that dropped the mode
    if write == "put":
        cache.put("acme", "tulip-ferry-crane-wafer-sonic-42", DealKey(bytes(32), bytes(16), DEFAULT_ITERATIONS))
    else:
        cache.mark_passed("acme", "tulip-ferry-crane-wafer-sonic-42", DEFAULT_ITERATIONS, "rules")
        assert cache.passed("acme", "tulip-ferry-crane-wafer-sonic-42", DEFAULT_ITERATIONS, "rules")
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
