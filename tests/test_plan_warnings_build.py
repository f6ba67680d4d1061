"""Plan warnings in the build log and on the preview's index; the strict option fails the build."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort

from buildutil import build_site, set_plugin_options

EXPIRED = "dealrooms/marlow-vine.yml:"


def test_the_build_log_lists_plan_warnings_of_the_deals_it_renders(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    set_plugin_options(project, protect=False)
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.dealrooms"):
        build_site(project)
    lines = [r.getMessage() for r in caplog.records if ": warning: " in r.getMessage()]
    assert any(EXPIRED in line and "proposal.valid_until: the proposal expired on" in line for line in lines), lines
    assert all(r.levelno == logging.INFO for r in caplog.records if ": warning: " in r.getMessage())  # --strict is the site's


def test_the_strict_option_fails_the_build_on_plan_warnings(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    set_plugin_options(project, protect=False, strict=True)
    with pytest.raises(Abort):
        build_site(project)
    assert "plan warning(s) and the option strict is on" in caplog.text


def test_the_preview_index_lists_a_deals_plan_warnings(project: Path) -> None:
    from dealrooms_plugin.build import Pipeline
    from dealrooms_plugin.mkdocs_adapter.pages import rep_index
    from dealrooms_plugin.plan import Thresholds
    from dealrooms_plugin.render import make_env
    import datetime as dt

    pipeline = Pipeline(project / "dealrooms", project_dir=project)
    pipeline.refresh()
    html = rep_index(make_env(), pipeline, dt.date(2026, 11, 23), Thresholds(), ())
    marlow = html[html.index("marlow-vine/"):]
    marlow = marlow[:marlow.index("</tr>")]
    assert "plan warning" in marlow and "proposal.valid_until: the proposal expired on 2026-11-13" in marlow


def test_a_build_with_many_warned_deals_lists_a_few_and_counts_the_rest(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dealrooms_plugin.mkdocs_adapter.plugin import PLAN_WARNINGS_SHOWN

    source = (project / "dealrooms" / "marlow-vine.yml").read_text(encoding="utf-8")
    for i in range(PLAN_WARNINGS_SHOWN + 2):
        (project / "dealrooms" / f"copy-{i:02d}.yml").write_text(source, encoding="utf-8")
    set_plugin_options(project, protect=False)
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.dealrooms"):
        build_site(project)
    messages = [r.getMessage() for r in caplog.records]
    located = {m.split(":")[1].strip() for m in messages if ": warning: " in m}
    assert len(located) == PLAN_WARNINGS_SHOWN  # files whose lines are listed
    assert any(m.endswith("more deal(s): `dealrooms check` lists them") for m in messages), messages
