"""Protected builds of the example deals through MkDocs: nothing readable without the password."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort

from buildutil import build_site, set_plugin_options
from protectutil import (
    build_protected_examples, copy_project, derive, every_byte, lock_of, open_item, open_page, password_for,
    sensitive_strings, set_passwords, slugs,
)

PAGES = ["index.html", "plan/index.html", "people/index.html", "value/index.html", "proposal/index.html"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The examples built twice: protected (passwords from the environment) and plain."""
    base = tmp_path_factory.mktemp("protected")
    with pytest.MonkeyPatch.context() as mp:
        project, site, passwords = build_protected_examples(mp, base)
        set_plugin_options(project, protect=False)
        plain = build_site(project, site_dir=str(base / "plain"))
        set_plugin_options(project, protect=True)
    return project, site, plain, passwords


def test_build_without_passwords_fails_naming_every_deal_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    monkeypatch.setenv("DEALROOMS_CACHE_DIR", str(tmp_path / "cache"))
    old = project / "site"
    old.mkdir()
    (old / "previous.html").write_text("old output")
    deals = slugs(project)
    first = deals[0]
    monkeypatch.setenv("DEALROOMS_PASSWORD_" + first.upper().replace("-", "_"), password_for(first))
    with pytest.raises(Abort):
        build_site(project)
    assert [p.name for p in old.iterdir()] == ["previous.html"]  # nothing written, nothing cleaned


def test_missing_password_message_names_each_deal_and_how_to_set_it(tmp_path: Path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    with pytest.raises(Abort):
        build_site(project)
    text = caplog.text
    for slug in slugs(project):
        assert f"{slug}: run `dealrooms password {slug}`" in text
        assert "DEALROOMS_PASSWORD_" + slug.upper().replace("-", "_") in text
    assert "nothing was built" in text


def test_no_deal_content_anywhere_in_the_output(built) -> None:  # type: ignore[no-untyped-def]
    project, site, plain, passwords = built
    secrets = sensitive_strings(project)
    output = every_byte(site)
    assert len(output) > 20
    # The same scan finds every one of these strings in the plain build (so it can find them).
    plain_bytes = b"\0".join(every_byte(plain).values())
    for slug, strings in secrets.items():
        assert len(strings) > 15
        missing = [s for s in strings if s.encode("utf-8") not in plain_bytes]
        assert not missing, f"{slug}: not in the plain build either: {missing}"
    names = "\n".join(output)
    for slug, strings in secrets.items():
        for needle in sorted(strings | {passwords[slug]}):
            for variant in {needle, needle.lower(), needle.upper()}:
                raw = variant.encode("utf-8")
                hits = [path for path, data in output.items() if raw in data]
                assert not hits, f"{slug}: {needle!r} readable in {hits}"
                assert variant not in names.replace(slug, ""), f"{slug}: {needle!r} in a file name"


def test_pages_keep_their_urls_and_everything_else_is_opaque(built) -> None:  # type: ignore[no-untyped-def]
    _, site, plain, _ = built
    for slug in slugs(built[0]):
        files = sorted(p.relative_to(site / slug).as_posix() for p in (site / slug).rglob("*") if p.is_file())
        pages = [f for f in files if f.endswith(".html")]
        assert pages == sorted(PAGES)
        others = [f for f in files if not f.endswith(".html")]
        assert others and all(re.fullmatch(r"blobs/[0-9a-f]{24}\.bin", f) for f in others), others
        for page in pages:
            html = (site / slug / page).read_text(encoding="utf-8")
            assert html.count('type="password"') == 1
            assert "This deal room is private." in html and "Enter the password you received." in html
            lock = lock_of(html.encode())
            assert lock["iterations"] >= 600_000 and lock["cipher"] == "AES-256-GCM"
            assert (len(base64.b64decode(lock["data"])) - 28) % 4096 == 0  # padded: sizes say little
    assert (site / "assets" / "dealrooms" / "unlock.js").is_file()
    assert (site / "assets" / "dealrooms" / "brand.svg").is_file()


def test_independent_decryption_recovers_the_plain_pages(built) -> None:  # type: ignore[no-untyped-def]
    project, site, plain, passwords = built
    for slug in slugs(project):
        for page in PAGES:
            lock, payload = open_page(passwords[slug], (site / slug / page).read_bytes())
            assert payload["html"].encode("utf-8") == (plain / slug / page).read_bytes(), f"{slug}/{page}"
        key = derive(passwords[slug], lock)
        for path, blob in payload["files"].items():
            plain_file = plain / slug / path
            expected = plain_file.read_bytes() if plain_file.exists() or path != "assets/logo.svg" else b""
            assert open_item(key, path, (site / slug / blob).read_bytes()) == expected
        assert "sitemap.xml" in payload["files"] and "calendar.ics" in payload["files"]
        assert not [path for path in payload["files"] if path.startswith("search/")]  # deal rooms have no search


def test_every_sealed_deal_has_the_same_set_of_files(built) -> None:  # type: ignore[no-untyped-def]
    """Whether a deal has a logo must not show: one without gets an empty one, sealed like the rest."""
    project, site, plain, passwords = built
    counts = {slug: len(list((site / slug / "blobs").iterdir())) for slug in slugs(project)}
    assert len(set(counts.values())) == 1, counts
    without = [slug for slug in slugs(project) if not list((plain / slug).glob("assets/logo.*"))]
    assert without, "the examples should include a deal without a logo"
    for slug in without:
        lock, payload = open_page(passwords[slug], (site / slug / "index.html").read_bytes())
        blob = payload["files"]["assets/logo.svg"]
        assert open_item(derive(passwords[slug], lock), "assets/logo.svg", (site / slug / blob).read_bytes()) == b""


def test_each_deal_has_its_own_salt_and_key(built) -> None:  # type: ignore[no-untyped-def]
    project, site, _, passwords = built
    deals = slugs(project)
    salts = {lock_of((site / s / "index.html").read_bytes())["salt"] for s in deals}
    assert len(salts) == len(deals)
    a, b = deals[0], deals[1]
    with pytest.raises(Exception):
        open_page(passwords[a], (site / b / "index.html").read_bytes())


def test_public_deal_opts_out_and_password_sources_are_ordered(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = copy_project(tmp_path / "project", brand=False)
    monkeypatch.chdir(project)
    monkeypatch.setenv("DEALROOMS_CACHE_DIR", str(tmp_path / "cache"))
    deals = slugs(project)
    public, from_file, from_own_env = deals[0], deals[1], deals[2]
    with open(project / "dealrooms" / f"{public}.yml", "a", encoding="utf-8") as fh:
        fh.write("\naccess: public\n")
    with open(project / "dealrooms" / f"{from_own_env}.yml", "a", encoding="utf-8") as fh:
        fh.write("\naccess: {password_env: MY_DEAL_PASSWORD}\n")
    monkeypatch.setenv("MY_DEAL_PASSWORD", "own-env-password-8841")
    (project / ".dealrooms-secrets.yml").write_text(f"{from_file}: file-password-3377-x\n{from_own_env}: file-wins-over-own-env-1\n")
    for extra in deals[3:]:
        monkeypatch.setenv("DEALROOMS_PASSWORD_" + extra.upper().replace("-", "_"), password_for(extra))
    site = build_site(project)
    assert b"dr-lock-params" not in (site / public / "index.html").read_bytes()  # plain
    open_page("file-password-3377-x", (site / from_file / "index.html").read_bytes())
    open_page("file-wins-over-own-env-1", (site / from_own_env / "index.html").read_bytes())
    # The environment variable named after the deal wins over the secrets file.
    monkeypatch.setenv("DEALROOMS_PASSWORD_" + from_file.upper().replace("-", "_"), "env-wins-over-file-5521")
    site = build_site(project)
    open_page("env-wins-over-file-5521", (site / from_file / "index.html").read_bytes())


def test_weak_password_is_refused(tmp_path: Path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    project = copy_project(tmp_path / "project", brand=False)
    monkeypatch.chdir(project)
    set_passwords(monkeypatch, project, tmp_path / "cache")
    weak = slugs(project)[0]
    monkeypatch.setenv("DEALROOMS_PASSWORD_" + weak.upper().replace("-", "_"), "password1234")
    with pytest.raises(Abort):
        build_site(project)
    assert f"{weak}: the password from env" in caplog.text and "common password" in caplog.text


def test_serve_style_plain_build_needs_no_password(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = copy_project(tmp_path / "project", protect=False, brand=False)
    monkeypatch.chdir(project)
    site = build_site(project)
    assert b"dr-lock-params" not in (site / slugs(project)[0] / "index.html").read_bytes()
    assert not (site / "assets" / "dealrooms" / "unlock.js").exists()


@pytest.mark.parametrize(
    ("make_logo", "message"),
    [
        (lambda branding, outside: (branding / "orbisoft.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "script"),
        (lambda branding, outside: ((branding / "orbisoft.svg").unlink(), (branding / "orbisoft.svg").symlink_to(outside)),
         "leads outside the project"),
    ],
    ids=["svg-with-script", "link-leaving-the-project"],
)
def test_the_sellers_brand_logo_is_checked_like_a_deal_logo(tmp_path: Path, monkeypatch, caplog, make_logo, message) -> None:  # type: ignore[no-untyped-def]
    """The unlock page's logo is served to every visitor: no scripts, nothing from outside the project."""
    project = copy_project(tmp_path / "project")
    outside = tmp_path / "crm-export.svg"
    outside.write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>Kestrel Freight pricing</title></svg>')
    make_logo(project / "branding", outside)
    monkeypatch.chdir(project)
    set_passwords(monkeypatch, project, tmp_path / "cache")
    with pytest.raises(Abort):
        build_site(project)
    assert "brand_logo" in caplog.text and message in caplog.text
    assert not (project / "site").exists() or not list((project / "site").rglob("brand*"))
