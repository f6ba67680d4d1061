"""The engine pipeline without MkDocs: a fake page shell, counted renders, content-addressed keys."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import pytest

from dealrooms_plugin.build import (CALENDAR, NO_LOGO, BuildContext, Chrome, Pipeline, content_signature, render_deal,
                                    render_key)
from dealrooms_plugin.load import load_deal
from dealrooms_plugin.render import RenderedPage, make_env

TODAY = dt.date(2026, 11, 22)
SLUGS = ("halden-health", "kestrel-freight", "marlow-vine")


class FakeShell:
    """Wraps bodies in a minimal page and remembers what it was asked for."""

    def __init__(self) -> None:
        self.chromes: list[Chrome] = []

    def __call__(self, chrome: Chrome, bodies: list[RenderedPage]) -> dict[str, bytes]:
        self.chromes.append(chrome)
        return {f"{b.spec.path}index.html": f"<title>{chrome.site_name}</title>{b.html}".encode() for b in bodies}


class FakeSealer:
    """Seals one deal by reversing its bytes (enough to see that it ran)."""

    def __init__(self, sealed: str, key: str = "k1") -> None:
        self.sealed, self.key = sealed, key

    def seals(self, slug: str) -> bool:
        return slug == self.sealed

    def fingerprint(self, slug: str) -> str:
        return f"sealed:{self.key}" if slug == self.sealed else "public"

    def seal(self, slug: str, files: dict[str, bytes], locale: str = "en") -> dict[str, bytes]:
        return {path: data[::-1] for path, data in files.items()}


def context(shell: FakeShell | None = None, **changes: object) -> BuildContext:
    values: dict[str, object] = dict(today=TODAY, fragments=make_env(), shell=shell or FakeShell(), signature="s1")
    values.update(changes)
    return BuildContext(**values)  # type: ignore[arg-type]


def test_render_deal_returns_the_finished_files(project: Path) -> None:
    loaded = load_deal(project / "dealrooms" / "kestrel-freight.yml", project_dir=project)
    shell = FakeShell()
    files = render_deal(loaded, context(shell))
    assert {"index.html", "plan/index.html", "people/index.html", "value/index.html", "proposal/index.html",
            CALENDAR} <= set(files)
    assert files[CALENDAR].startswith(b"BEGIN:VCALENDAR")
    (chrome,) = shell.chromes
    assert chrome.slug == "kestrel-freight" and chrome.site_name == loaded.deal.deal.buyer.name
    assert chrome.generated_on == "2026-11-22"
    assert b"Security questionnaire returned" in files["plan/index.html"]
    if loaded.logo is not None:
        assert files[chrome.logo_file] == loaded.logo.read_bytes()


def test_a_sealer_seals_its_deals_and_gives_each_the_same_files(project: Path) -> None:
    loaded = load_deal(project / "dealrooms" / "marlow-vine.yml", project_dir=project)
    plain = render_deal(loaded, context())
    sealed = render_deal(loaded, context(sealer=FakeSealer("marlow-vine")))
    assert NO_LOGO in sealed or any(p.startswith("assets/logo") for p in plain)
    assert sealed["index.html"] == plain["index.html"][::-1]
    assert render_deal(loaded, context(sealer=FakeSealer("other"))) == plain  # a public deal stays plain
    assert render_key(loaded, context(sealer=FakeSealer("marlow-vine"))) != render_key(loaded, context())
    assert render_key(loaded, context(sealer=FakeSealer("marlow-vine", "k2"))) != \
        render_key(loaded, context(sealer=FakeSealer("marlow-vine")))  # a new password renders again


def test_render_key_follows_contents_never_times_or_places(project: Path, tmp_path: Path) -> None:
    path = project / "dealrooms" / "halden-health.yml"
    key = render_key(load_deal(path, project_dir=project), context())
    os.utime(path, (1, 1))  # touched, unchanged
    assert render_key(load_deal(path, project_dir=project), context()) == key
    clone = tmp_path / "elsewhere" / "clone"
    shutil.copytree(project, clone)  # a fresh checkout in another folder
    assert render_key(load_deal(clone / "dealrooms" / "halden-health.yml", project_dir=clone), context()) == key
    assert render_key(load_deal(path, project_dir=project), context(today=TODAY + dt.timedelta(days=1))) != key
    assert render_key(load_deal(path, project_dir=project), context(signature="s2")) != key
    path.write_text(path.read_text() + "# a comment\n")
    assert render_key(load_deal(path, project_dir=project), context()) != key


def test_content_signature_ignores_times_and_places(tmp_path: Path) -> None:
    first = tmp_path / "a" / "overrides"
    (first / "dealrooms").mkdir(parents=True)
    (first / "dealrooms" / "people.html").write_text("<h1>People</h1>")
    signature = content_signature([first], "palette: indigo")
    second = tmp_path / "b" / "copy"
    shutil.copytree(first, second)
    os.utime(second / "dealrooms" / "people.html", (1, 1))
    assert content_signature([second], "palette: indigo") == signature
    assert content_signature([second], "palette: teal") != signature
    (second / "dealrooms" / "people.html").write_text("<h1>Our people</h1>")
    assert content_signature([second], "palette: indigo") != signature



def test_content_signature_ignores_compiled_bytecode(tmp_path: Path) -> None:
    """__pycache__ differs per checkout (it embeds source times): a fresh clone must reuse every deal."""
    package = tmp_path / "package"
    package.mkdir()
    (package / "render.py").write_text("X = 1\n")
    signature = content_signature([package])
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "render.cpython-311.pyc").write_bytes(b"\x00compiled at some time")
    assert content_signature([package]) == signature


def publish_all(project: Path, cache: Path, site: Path, ctx: BuildContext | None = None):  # type: ignore[no-untyped-def]
    """One build as a new process would run it: a new pipeline over the same cache folder."""
    pipeline = Pipeline(project / "dealrooms", project_dir=project, cache_dir=cache)
    pipeline.refresh()
    pipeline.expect()
    pipeline.hold(site)
    shutil.rmtree(site, ignore_errors=True)  # what MkDocs does to the site folder
    return pipeline, pipeline.publish(site, ctx or context())


def test_a_new_process_reuses_every_unchanged_deal(project: Path, tmp_path: Path) -> None:
    cache, site = tmp_path / "cache", tmp_path / "site"
    _, first = publish_all(project, cache, site)
    assert sorted(first.rendered) == list(SLUGS) and first.reused == []
    page = (site / "kestrel-freight" / "plan" / "index.html").read_bytes()

    _, second = publish_all(project, cache, site)
    assert second.rendered == [] and sorted(second.reused) == list(SLUGS)
    assert (site / "kestrel-freight" / "plan" / "index.html").read_bytes() == page

    deal = project / "dealrooms" / "marlow-vine.yml"
    deal.write_text(deal.read_text().replace("MSA redlines agreed", "MSA redlines signed"))
    _, third = publish_all(project, cache, site)
    assert third.rendered == ["marlow-vine"] and sorted(third.reused) == ["halden-health", "kestrel-freight"]
    assert b"MSA redlines signed" in (site / "marlow-vine" / "plan" / "index.html").read_bytes()

    _, other_day = publish_all(project, cache, site, context(today=TODAY + dt.timedelta(days=1)))
    assert sorted(other_day.rendered) == list(SLUGS)


def test_a_fresh_clone_with_the_cache_folder_copied_reuses_every_deal(project: Path, tmp_path: Path) -> None:
    cache = project / ".cache" / "dealrooms"
    publish_all(project, cache, project / "site")
    clone = tmp_path / "ci" / "checkout"
    shutil.copytree(project, clone, ignore=shutil.ignore_patterns("site"))
    for path in clone.rglob("*"):
        os.utime(path, None)  # a checkout: every file new
    pipeline, again = publish_all(clone, clone / ".cache" / "dealrooms", clone / "site")
    assert again.rendered == [] and sorted(again.reused) == list(SLUGS)
    assert pipeline.catalog.parsed == 0  # validated deals came from the cache file too: none was parsed again


def test_a_live_update_renders_only_the_edited_deal(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    pipeline, _ = publish_all(project, tmp_path / "cache", site)
    deal = project / "dealrooms" / "halden-health.yml"
    deal.write_text(deal.read_text().replace("Integration design review", "Integration design sign-off"))
    writes = []
    update = pipeline.update(site, context(), {deal}, writing=lambda: _Recorder(writes))
    assert update.changes.changed == ("halden-health",)
    assert update.published.rendered == ["halden-health"] and update.published.reused == []
    assert writes == ["enter", "exit"]
    assert b"Integration design sign-off" in (site / "halden-health" / "index.html").read_bytes()
    assert not pipeline.update(site, context(), {deal})  # nothing changed since

    deal.unlink()
    update = pipeline.update(site, context(), {deal})
    assert update.changes.removed == ("halden-health",) and not (site / "halden-health").exists()
    assert not pipeline.allowed.allows("halden-health/index.html")


def test_an_invalid_deal_gets_its_problem_pages(project: Path, tmp_path: Path) -> None:
    deal = project / "dealrooms" / "kestrel-freight.yml"
    deal.write_text(deal.read_text().replace("owner: marta", "owner: grimsby"))
    pages = lambda slug, problems: {"index.html": "\n".join(map(str, problems)).encode()}  # noqa: E731
    pipeline = Pipeline(project / "dealrooms", project_dir=project)
    pipeline.refresh()
    pipeline.expect()
    done = pipeline.publish(tmp_path / "site", context(problem_pages=pages))
    assert done.failed == ["kestrel-freight"] and sorted(done.rendered) == ["halden-health", "marlow-vine"]
    assert b"unknown person 'grimsby'" in (tmp_path / "site" / "kestrel-freight" / "index.html").read_bytes()
    assert pipeline.check_output(tmp_path / "site") == []  # problem pages are part of the output


def test_a_deal_named_like_a_shared_folder_is_refused(project: Path, tmp_path: Path) -> None:
    shutil.copy(project / "dealrooms" / "marlow-vine.yml", project / "dealrooms" / "assets.yml")
    pipeline = Pipeline(project / "dealrooms", project_dir=project)
    pipeline.refresh()
    assert pipeline.expect({"assets/stylesheets/main.css", "index.html"}) == ["assets"]
    done = pipeline.publish(tmp_path / "site", context())
    assert done.refused == ["assets"] and not (tmp_path / "site" / "assets").exists()


class _Recorder:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __enter__(self) -> None:
        self.log.append("enter")

    def __exit__(self, *exc: object) -> None:
        self.log.append("exit")


def test_live_edits_wait_for_a_build_in_progress(project: Path) -> None:
    """Under serve, the watcher's update and MkDocs' own rebuild take one lock: they never overlap."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from buildutil import set_plugin_options

    set_plugin_options(project, protect=False)
    config = load_config(str(project / "mkdocs.yml"))
    plugin = config.plugins["dealrooms"]
    plugin.on_startup(command="serve", dirty=False)
    try:
        seen: list[bool] = []
        build(config)
        original = plugin.pipeline.publish

        def publishing(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(plugin.building.locked())  # a rebuild publishes under the lock
            return original(*args, **kwargs)

        plugin.pipeline.publish = publishing  # type: ignore[method-assign]
        build(config)
        assert seen == [True] and not plugin.building.locked()

        deal = project / "dealrooms" / "halden-health.yml"
        deal.write_text(deal.read_text().replace("Integration design review", "Integration design sign-off"))
        plugin.building.acquire()  # a rebuild in progress
        done = threading.Event()
        worker = threading.Thread(target=lambda: (plugin.live_update(), done.set()))
        worker.start()
        assert not done.wait(0.5), "the live edit ran during a rebuild"
        plugin.building.release()
        assert done.wait(10)
        worker.join()
        assert "Integration design sign-off" in (Path(config.site_dir) / "halden-health" / "index.html").read_text()
    finally:
        plugin.on_startup(command="build", dirty=False)


def test_the_installed_mkdocs_has_the_live_reload_handshake(tmp_path: Path) -> None:
    """Else every deal edit falls back to a full rebuild (pyproject pins the tested MkDocs range)."""
    from mkdocs.livereload import LiveReloadServer

    from dealrooms_plugin.mkdocs_adapter.live import LiveReload

    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(tmp_path))
    try:
        assert LiveReload.supported(server)
    finally:
        server.server_close()


def test_a_live_update_never_announces_a_rebuild_mkdocs_has_not_finished(tmp_path: Path) -> None:
    from mkdocs.livereload import LiveReloadServer

    from dealrooms_plugin.mkdocs_adapter.live import LiveReload

    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(tmp_path))
    try:
        server._wanted_epoch = server._visible_epoch = 0  # the site as first built
        with LiveReload(server).updating():
            ours = server._wanted_epoch
            assert ours > server._visible_epoch  # page requests wait while files change
            with server._rebuild_cond:  # MkDocs starts a rebuild meanwhile (it then waits for the plugin's lock)
                server._wanted_epoch = ours + 10_000
        assert server._visible_epoch == ours  # browsers reload to this update...
        assert server._wanted_epoch == ours + 10_000  # ...and wait for MkDocs' rebuild to announce its own
    finally:
        server.server_close()


class PidShell(FakeShell):
    """Records which process wrapped each deal (a file: forked workers cannot report through memory)."""

    def __init__(self, log: Path) -> None:
        super().__init__()
        self.log = log

    def __call__(self, chrome: Chrome, bodies: list[RenderedPage]) -> dict[str, bytes]:
        with self.log.open("a") as f:
            f.write(f"{os.getpid()} {chrome.slug}\n")
        return super().__call__(chrome, bodies)


def test_a_cold_build_renders_in_worker_processes_with_the_same_bytes(project: Path, tmp_path: Path) -> None:
    for i in range(5):  # enough deals for a pool
        shutil.copy(project / "dealrooms" / "marlow-vine.yml", project / "dealrooms" / f"extra-{i}.yml")
    outputs = {}
    for workers in (1, 2):
        log = tmp_path / f"pids-{workers}.txt"
        site = tmp_path / f"site-{workers}"
        pipeline = Pipeline(project / "dealrooms", project_dir=project, cache_dir=tmp_path / f"cache-{workers}")
        pipeline.refresh()
        pipeline.expect()
        done = pipeline.publish(site, context(PidShell(log), sealer=FakeSealer("extra-0")), workers=workers)
        assert len(done.rendered) == 8 and done.reused == []
        pids = {line.split()[0] for line in log.read_text().splitlines()}
        assert sorted(line.split()[1] for line in log.read_text().splitlines()) == sorted(done.rendered)  # once each
        if workers == 1:
            assert pids == {str(os.getpid())}
        else:
            assert str(os.getpid()) not in pids and len(pids) == 2  # every core
        outputs[workers] = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
        assert pipeline.check_output(site) == []  # the workers' files are all allowed
    assert outputs[1] == outputs[2]  # sealed and plain deals alike, rendered here or in workers
    assert outputs[2][Path("extra-0/index.html")] == outputs[2][Path("extra-1/index.html")][::-1]


def test_a_protected_build_in_worker_processes_seals_every_deal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough deals for the worker pool: every page still opens with its own password only."""
    from cryptography.exceptions import InvalidTag

    from buildutil import build_site
    from protectutil import copy_project, open_page, password_for, set_passwords

    project = copy_project(tmp_path / "project")
    for name in ("ostara-labs", "pell-and-rook"):
        text = (project / "dealrooms" / "marlow-vine.yml").read_text(encoding="utf-8")
        (project / "dealrooms" / f"{name}.yml").write_text(text.replace("Marlow & Vine", name.title()), encoding="utf-8")
    monkeypatch.chdir(project)
    passwords = set_passwords(monkeypatch, project, tmp_path / "keys")
    assert len(passwords) >= 4  # build.PARALLEL_MIN: rendered by the pool
    site = build_site(project)
    for slug, password in passwords.items():
        page = (site / slug / "plan" / "index.html").read_bytes()
        _, payload = open_page(password, page)
        assert "Plan" in payload["html"]
        other = next(s for s in passwords if s != slug)
        with pytest.raises(InvalidTag):  # another deal's password opens nothing
            open_page(password_for(other), page)


def test_a_deals_digest_tells_apart_bytes_moved_between_its_files() -> None:
    """A template and a deal that split the same bytes differently are different inputs."""
    from dealrooms_plugin.load import sources_digest

    assert sources_digest([b"deal: a", b"b"]) != sources_digest([b"deal: ", b"ab"])
    assert sources_digest([b"x", b"y"]) == sources_digest([b"x", b"y"])


def test_a_live_edit_leaves_the_cache_files_to_save_so_its_cost_stays_flat(project: Path, tmp_path: Path) -> None:
    """Rewriting the whole catalog and manifest on every save grows with the deals: edits defer it to save()."""
    cache, site = tmp_path / "cache", tmp_path / "site"
    pipeline, _ = publish_all(project, cache, site)
    catalog, manifest = cache / "catalog.json", cache / "output" / "manifest.json"
    before = (catalog.read_bytes(), manifest.read_bytes())
    deal = project / "dealrooms" / "halden-health.yml"
    deal.write_text(deal.read_text().replace("Integration design review", "Integration design sign-off"))
    assert pipeline.update(site, context(), {deal}).published.rendered == ["halden-health"]
    assert (catalog.read_bytes(), manifest.read_bytes()) == before  # nothing rewritten during the edit

    pipeline.save()  # what a preview does on exit
    assert catalog.read_bytes() != before[0] and manifest.read_bytes() != before[1]
    _, next_start = publish_all(project, cache, site)
    assert next_start.rendered == [] and sorted(next_start.reused) == list(SLUGS)
