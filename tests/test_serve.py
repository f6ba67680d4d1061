"""Live preview under a real `mkdocs serve`."""

from __future__ import annotations

from pathlib import Path

import pytest

from serveutil import Serve

pytestmark = pytest.mark.serve


@pytest.fixture
def serve(project: Path):
    server = Serve(project)
    yield server
    server.stop()


def test_edit_invalid_edit_and_recovery(project: Path, serve: Serve) -> None:
    deal = project / "dealrooms" / "kestrel-freight.yml"
    original = deal.read_text()
    serve.wait_for("kestrel-freight/plan/", lambda t: "Security questionnaire returned" in t)

    deal.write_text(original.replace("Security questionnaire returned", "Security questionnaire signed off"))
    serve.wait_for("kestrel-freight/plan/", lambda t: "Security questionnaire signed off" in t)

    deal.write_text(original.replace("    owner: marta\n", "    owner: grimsby\n"))
    page = serve.wait_for("kestrel-freight/", lambda t: "This deal has problems" in t)
    assert "kestrel-freight.yml:44: milestones[2].owner: unknown person &#x27;grimsby&#x27;" in page
    assert "unknown person 'grimsby'" in serve.output()  # and in the terminal
    assert "Traceback" not in serve.output()
    serve.wait_for("halden-health/", lambda t: "Halden Health" in t)  # the other deals keep working

    deal.write_text("deal: [unclosed\n")
    page = serve.wait_for("kestrel-freight/plan/", lambda t: "YAML syntax error" in t)

    deal.write_text(original)
    serve.wait_for("kestrel-freight/", lambda t: "route planning rollout" in t and "has problems" not in t)
    assert serve.proc.poll() is None


def test_new_and_deleted_deals_without_restart(project: Path, serve: Serve) -> None:
    source = (project / "dealrooms" / "marlow-vine.yml").read_text()
    new = project / "dealrooms" / "ostara-labs.yml"
    new.write_text(source.replace("Marlow & Vine", "Ostara Labs"))
    serve.wait_for("ostara-labs/", lambda t: "Ostara Labs" in t)
    serve.wait_for("", lambda t: "ostara-labs/" in t)  # the rep's index lists it

    new.unlink()
    serve.wait_for("", lambda t: "ostara-labs/" not in t)
    status, _ = serve.get("ostara-labs/")
    assert status == 404


def test_rep_index_exists_only_under_serve(project: Path, serve: Serve) -> None:
    index = serve.wait_for("", lambda t: "Deal rooms" in t)
    for slug in ("kestrel-freight", "halden-health", "marlow-vine"):
        assert f"{slug}/" in index


def test_serve_starts_from_the_kept_output(project: Path) -> None:
    """A second `mkdocs serve` renders nothing: it places the output the first one kept on disk.

    On the same address: the served site's URL is part of every page (and so of the render key).
    """
    first = Serve(project)
    try:
        assert "rendered 3 deal(s), reused 0 unchanged" in first.output()
    finally:
        first.stop()
    second = Serve(project, port=first.port)
    try:
        assert "rendered 0 deal(s), reused 3 unchanged" in second.output()
        second.wait_for("kestrel-freight/plan/", lambda t: "Security questionnaire returned" in t)
        deal = project / "dealrooms" / "kestrel-freight.yml"
        deal.write_text(deal.read_text().replace("Security questionnaire returned", "Security questionnaire filed"))
        second.wait_for("kestrel-freight/plan/", lambda t: "Security questionnaire filed" in t)
    finally:
        second.stop()
