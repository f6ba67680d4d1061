"""The page shell from frames (mkdocs_adapter/shell.py): the bytes of a full render, or a full render.

A frame is Material's shell rendered once per shape (language, logo, pages)
around stand-in texts; each deal's escaped texts then take the stand-ins'
places. These tests build the same deals with and without frames and
compare every file, with names that need escaping, and check that a theme
which transforms a deal's text makes that shape render in full.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from buildutil import copy_examples
from dealrooms_plugin.mkdocs_adapter import plugin as plugin_module
from dealrooms_plugin.mkdocs_adapter import shell

HOSTILE_BUYER = 'Tom & "Jerry" <svg><script>window.__pwned=1</script></svg> Ltd'
HOSTILE_SELLER = "O'Brien <b>Systems</b> & Co"


def make_project(base: Path) -> Path:
    """The examples plus copies of each: other names (some needing escaping), another language."""
    copy_examples(base)
    deals = base / "dealrooms"
    for source in sorted(deals.glob("*.yml")):
        text = source.read_text(encoding="utf-8")
        (deals / f"{source.stem}-copy.yml").write_text(
            text.replace("name: Kestrel Freight", "name: Kestrel Freight Two")
            .replace("name: Halden Health", "name: Halden & Söhne")
            .replace("name: Marlow & Vine", "name: 'Marlow, Vine & Daughters'"), encoding="utf-8")
        hostile = text.replace("buyer: {name: Kestrel Freight,", f"buyer: {{name: '{HOSTILE_BUYER}',")
        hostile = hostile.replace("seller: {name: Orbisoft", f"seller: {{name: \"{HOSTILE_SELLER}\"")
        (deals / f"{source.stem}-hostile.yml").write_text(hostile, encoding="utf-8")
        (deals / f"{source.stem}-de.yml").write_text(
            text.replace("locale: en_GB", "locale: de").replace("locale: en\n", "locale: de\n"), encoding="utf-8")
    return base


def build_in_process(project: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, shell.MaterialShell]:
    """Build with one process (the shell's frames stay inspectable here); the site and the shell used."""
    monkeypatch.setenv("DEALROOMS_TODAY", "2026-11-22")
    monkeypatch.setenv("DEALROOMS_CACHE_DIR", str(cache))
    monkeypatch.setattr(plugin_module, "_cores", lambda: 1)
    monkeypatch.chdir(project)
    config = load_config(str(project / "mkdocs.yml"))
    build(config)
    context = config.plugins["dealrooms"].context
    assert isinstance(context.shell, shell.MaterialShell)
    return Path(config.site_dir), context.shell


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_frames_give_the_bytes_of_a_full_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "project")
    framed_site, framed_shell = build_in_process(project, tmp_path / "cache-framed", monkeypatch)
    framed = tree(framed_site)
    assert framed_shell._frames and all(frames is not None for frames in framed_shell._frames.values())
    languages = {shape[0] for shape in framed_shell._frames}
    assert {"en", "en_GB", "de"} <= languages

    shutil.rmtree(framed_site)
    monkeypatch.setattr(shell.MaterialShell, "__call__", lambda self, chrome, bodies: shell.render_shell(
        self.env, self.config, chrome, bodies, preview=self.preview))
    full_site, _ = build_in_process(project, tmp_path / "cache-full", monkeypatch)
    full = tree(full_site)

    assert framed.keys() == full.keys()
    different = [path for path in full if framed[path] != full[path]]
    assert not different, different[:5]
    page = full["kestrel-freight-hostile/index.html"].decode("utf-8")
    assert "<svg><script>" not in page and "&lt;svg&gt;&lt;script&gt;" in page  # escaped, in both
    assert "O&#39;Brien &lt;b&gt;Systems&lt;/b&gt; &amp; Co" in page


def test_a_theme_that_transforms_a_deal_text_renders_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame would print the name as given where the theme prints it upper-cased: that shape is not framed."""
    project = make_project(tmp_path / "project")
    (project / "theme_overrides" / "partials").mkdir(exist_ok=True)
    (project / "theme_overrides" / "partials" / "logo.html").write_text(
        '<span class="shout">{{ config.site_name | upper }}</span>\n', encoding="utf-8")
    site, used = build_in_process(project, tmp_path / "cache", monkeypatch)
    assert used._frames and all(frames is None for frames in used._frames.values())
    for slug, shout in (("kestrel-freight", "KESTREL FREIGHT"), ("kestrel-freight-copy", "KESTREL FREIGHT TWO"),
                        ("halden-health-copy", "HALDEN &AMP; SÖHNE")):
        for page in ("index.html", "plan/index.html"):
            assert f'<span class="shout">{shout}</span>' in (site / slug / page).read_text(encoding="utf-8"), (slug, page)
