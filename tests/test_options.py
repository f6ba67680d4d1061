"""The plugin options: one typed model, read the same way by `mkdocs build` and every `dealrooms` command.

``!ENV`` and ``INHERIT`` work because MkDocs' own loader reads mkdocs.yml for
both; a bad option is one line naming the file, the line, the option's path,
what was expected and what was found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from buildutil import build_site
from dealrooms_plugin.cli import main
from dealrooms_plugin.mkdocs_adapter.config import DealroomsConfig, plugin_settings
from dealrooms_plugin.mkdocs_adapter.settings import read_settings
from dealrooms_plugin.options import InvalidOptions, Options, validate_options
from dealrooms_plugin.plan import Stage, Thresholds

SLUGS = ["halden-health", "kestrel-freight", "marlow-vine"]  # the example project's deals


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def move_deals(project: Path, mkdocs_yml: str, *, base_yml: str | None = None) -> None:
    """The example project with its deals in rooms/ and the given config (the default folder no longer exists)."""
    (project / "dealrooms").rename(project / "rooms")
    (project / "mkdocs.yml").write_text(mkdocs_yml, encoding="utf-8")
    if base_yml is not None:
        (project / "base.yml").write_text(base_yml, encoding="utf-8")


ENV_CONFIG = """\
site_name: Deal rooms
docs_dir: rooms
theme: {name: material, custom_dir: theme_overrides, font: false}
plugins:
  - dealrooms:
      deals_dir: !ENV [DR_DIR, dealrooms]
      protect: !ENV [DR_PROTECT, true]
      health:
        at_risk_slip_days: !ENV [DR_AT_RISK, 1]
"""

INHERIT_CHILD = """\
INHERIT: base.yml
site_name: Deal rooms
"""

INHERIT_BASE = """\
docs_dir: rooms
theme: {name: material, custom_dir: theme_overrides, font: false}
plugins:
  - dealrooms:
      deals_dir: rooms
      protect: false
      health: {at_risk_slip_days: 2}
"""


@pytest.fixture(params=["env", "inherit"])
def moved(request: pytest.FixtureRequest, project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The deals in rooms/, named through `!ENV` or through an inherited config file."""
    if request.param == "env":
        move_deals(project, ENV_CONFIG)
        monkeypatch.setenv("DR_DIR", "rooms")
        monkeypatch.setenv("DR_PROTECT", "false")
        monkeypatch.setenv("DR_AT_RISK", "2")
    else:
        move_deals(project, INHERIT_CHILD, base_yml=INHERIT_BASE)
    return project


# --- every dealrooms command and mkdocs build read the same options -------------------


def test_settings_follow_env_and_inherit(moved: Path) -> None:
    settings = read_settings(moved / "mkdocs.yml")
    assert settings.deals_dir == moved / "rooms"
    assert settings.options.protect is False
    assert settings.options.thresholds == Thresholds(at_risk_slip_days=2)


def test_check_follows_env_and_inherit(moved: Path) -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "0 problem(s) and " in result.stderr and "plan warning(s) in 3 deal file(s); the deals build" in result.stderr


def test_status_follows_env_and_inherit(moved: Path) -> None:
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    assert sorted(row["slug"] for row in json.loads(result.stdout)) == SLUGS
    assert run("status", "--due-within", "2w").exit_code == 0


def test_password_follows_env_and_inherit(moved: Path) -> None:
    result = run("password", "kestrel-freight")
    assert result.exit_code == 0, result.output
    assert "kestrel-freight:" in (moved / ".dealrooms-secrets.yml").read_text(encoding="utf-8")


def test_new_follows_env_and_inherit(moved: Path) -> None:
    result = run("new", "acme", "--target", "2027-03-01")
    assert result.exit_code == 0, result.output
    assert (moved / "rooms" / "acme.yml").is_file() and not (moved / "dealrooms").exists()


def test_publish_follows_env_and_inherit(moved: Path) -> None:
    result = run("publish")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert all((moved / "site" / slug / "index.html").is_file() for slug in SLUGS)


def test_mkdocs_build_follows_env_and_inherit(moved: Path, tmp_path: Path) -> None:
    site = build_site(moved, site_dir=str(tmp_path / "site"))
    assert all((site / slug / "index.html").is_file() for slug in SLUGS)
    config = load_config(str(moved / "mkdocs.yml"))
    settings = plugin_settings(config.plugins["dealrooms"].config)
    assert settings.deals_dir == moved / "rooms" and settings.options.thresholds.at_risk_slip_days == 2


# --- one clear line per bad option -------------------------------------------------------

BAD = """\
site_name: Deal rooms
plugins:
  - search
  - dealrooms:
      deals_dir: dealrooms
      health:
        at_risk_slip_days: ten
      stages:
        - evaluation
        - {name: negotiation, probability: 130, exit_criteria: [1]}
      brand_color: red
      kdf_iterations: 1000
      shard: 4/3
      protect: maybe
      alow_password_reuse: true
"""


@pytest.mark.parametrize(
    "line",
    [
        "mkdocs.yml:7: plugins.dealrooms.health.at_risk_slip_days: expected a whole number of days (0 or more), found 'ten' (hint: e.g. 14)",
        "mkdocs.yml:10: plugins.dealrooms.stages[1].probability: expected a percentage from 0 to 100, found 130 (hint: e.g. 40)",
        "mkdocs.yml:10: plugins.dealrooms.stages[1].exit_criteria[0]: expected a milestone id, found 1 (hint: e.g. [security-review])",
        "mkdocs.yml:11: plugins.dealrooms.brand_color: expected a CSS colour, found 'red' (hint: e.g. '#1f3a93' (quoted: '#' starts a YAML comment))",
        "mkdocs.yml:12: plugins.dealrooms.kdf_iterations: expected a whole number of at least 600,000, found 1000 (hint: e.g. 600000; raising it re-keys every deal)",
        "mkdocs.yml:13: plugins.dealrooms.shard: K must be between 1 and N, found '4/3'",
        "mkdocs.yml:14: plugins.dealrooms.protect: expected true or false, found 'maybe'",
        "mkdocs.yml:15: plugins.dealrooms.alow_password_reuse: unknown option; did you mean 'allow_password_reuse'?",
    ],
)
def test_each_bad_option_is_one_line_with_file_line_path_expected_found(project: Path, line: str) -> None:
    (project / "mkdocs.yml").write_text(BAD, encoding="utf-8")
    with pytest.raises(InvalidOptions) as info:
        read_settings(project / "mkdocs.yml")
    assert line in str(info.value).splitlines()
    assert len(str(info.value).splitlines()) == 8  # every problem at once, one line each


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ("health: {at_risk_slip_days: 20}", "mkdocs.yml:5: plugins.dealrooms.health: at_risk_slip_days (20) is greater "
                                            "than off_track_slip_days (14); a deal must be at risk before it is off track"),
        ("health: [1]", "mkdocs.yml:5: plugins.dealrooms.health: expected a mapping (indented 'key: value' lines), found a list"),
        ("stages: [a, A]", "mkdocs.yml:5: plugins.dealrooms.stages: stage 'A' is listed twice (entries 0 and 1, counting from 0)"),
        ("stages: [3]", "mkdocs.yml:5: plugins.dealrooms.stages[0]: expected a mapping (indented 'key: value' lines), found 3"),
        ("stages: [{name: a, exit_critera: [x]}]",
         "mkdocs.yml:5: plugins.dealrooms.stages[0].exit_critera: unknown option; did you mean 'exit_criteria'?"),
        ("stages: {name: a}", "mkdocs.yml:5: plugins.dealrooms.stages: expected a list of stages, found a mapping "
                              "(hint: e.g. [{name: evaluation, exit_criteria: [security-review], probability: 40}])"),
        ("brand_logo: branding/none.svg", "mkdocs.yml:5: plugins.dealrooms.brand_logo: logo file not found: "
                                          "branding/none.svg (hint: paths are relative to mkdocs.yml's folder)"),
        ("deals_dir: ''", "mkdocs.yml:5: plugins.dealrooms.deals_dir: expected a path relative to mkdocs.yml, "
                          "found an empty value (hint: e.g. dealrooms)"),
        ("stages: [{exit_criteria: []}]", "mkdocs.yml:5: plugins.dealrooms.stages[0].name: required option missing "
                                          "(hint: add 'name:' here, e.g. evaluation)"),
        ("health: {at_risk_slip_days: '3'}", "mkdocs.yml:5: plugins.dealrooms.health.at_risk_slip_days: expected a whole "
                                             "number of days (0 or more), found '3' (hint: e.g. 14)"),
        ("health: {colour: 2}", "mkdocs.yml:5: plugins.dealrooms.health.colour: unknown option (hint: allowed here: "
                                "at_risk_overdue, at_risk_slip_days, off_track_overdue, off_track_slip_days)"),
        ("health: {off_track_overdue: true}", "mkdocs.yml:5: plugins.dealrooms.health.off_track_overdue: expected a whole "
                                              "number of milestones (0 or more), found true (a yes/no value) (hint: e.g. 3)"),
    ],
)
def test_more_bad_options(tmp_path: Path, options: str, line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mkdocs.yml").write_text(f"site_name: x\nplugins:\n  - search\n  - dealrooms:\n      {options}\n", encoding="utf-8")
    with pytest.raises(InvalidOptions) as info:
        read_settings(Path("mkdocs.yml"))
    assert str(info.value) == line


def test_a_bad_option_in_an_inherited_file_names_that_file(project: Path) -> None:
    move_deals(project, INHERIT_CHILD, base_yml=INHERIT_BASE.replace("{at_risk_slip_days: 2}", "{at_risk_slip_days: -2}"))
    result = run("status")
    assert result.exit_code != 0
    assert str(result.exception) == ("base.yml:7: plugins.dealrooms.health.at_risk_slip_days: "
                                     "expected a whole number of days (0 or more), found -2 (hint: e.g. 14)")


def test_a_bad_option_read_through_env_names_the_line_that_reads_it(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    move_deals(project, ENV_CONFIG)
    monkeypatch.setenv("DR_DIR", "rooms")
    monkeypatch.setenv("DR_AT_RISK", "soon")
    result = run("check")
    assert str(result.exception) == ("mkdocs.yml:9: plugins.dealrooms.health.at_risk_slip_days: "
                                     "expected a whole number of days (0 or more), found 'soon' (hint: e.g. 14)")


def test_the_cli_prints_bad_options_without_a_traceback(project: Path) -> None:
    (project / "mkdocs.yml").write_text(BAD, encoding="utf-8")
    for command in (["check"], ["status"], ["new", "acme"], ["password", "kestrel-freight"]):
        result = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", *command],
                                capture_output=True, text=True, cwd=project)
        assert result.returncode == 1, command
        assert result.stderr.startswith("error: mkdocs.yml:7: plugins.dealrooms.health.at_risk_slip_days: "), result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 8
    assert not (project / "dealrooms" / "acme.yml").exists()


def test_mkdocs_build_stops_on_a_bad_option_with_the_same_line(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = (project / "mkdocs.yml").read_text(encoding="utf-8")
    (project / "mkdocs.yml").write_text(text.replace("      protect: true", "      health: {at_risk_overdue: ten}\n      protect: true"))
    with pytest.raises(Abort):
        load_config(str(project / "mkdocs.yml"))
    line = next(n for n, text in enumerate((project / "mkdocs.yml").read_text().splitlines(), 1) if "at_risk_overdue" in text)
    assert (f"Plugin 'dealrooms' option 'health': mkdocs.yml:{line}: plugins.dealrooms.health.at_risk_overdue: "
            "expected a whole number of milestones (0 or more), found 'ten' (hint: e.g. 3)") in caplog.text


def test_mkdocs_build_command_prints_no_traceback(project: Path) -> None:
    text = (project / "mkdocs.yml").read_text(encoding="utf-8")
    (project / "mkdocs.yml").write_text(text.replace("      protect: true", "      protect: maybe"))
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-d", str(project / "out")],
                            capture_output=True, text=True, cwd=project, env=env)
    assert result.returncode == 1
    assert "plugins.dealrooms.protect: expected true or false, found 'maybe'" in result.stderr
    assert "Traceback" not in result.stderr


# --- one model ----------------------------------------------------------------------------


def test_mkdocs_config_class_declares_exactly_the_models_options_and_defaults() -> None:
    config = DealroomsConfig(config_file_path="mkdocs.yml")
    assert set(config) == set(Options.model_fields)
    assert validate_options(dict(config), config_file=Path("mkdocs.yml")) == Options()


def test_defaults_and_conversions() -> None:
    options = validate_options({"stages": ["evaluation", {"name": " Negotiation ", "exit_criteria": "msa", "probability": 70}]},
                               config_file=Path("mkdocs.yml"))
    assert options.thresholds == Thresholds()
    assert options.sales_stages == (Stage("evaluation"), Stage("Negotiation", ("msa",), 70.0))
    assert options.enabled and options.protect and not options.allow_password_reuse
    assert validate_options(None, config_file=Path("mkdocs.yml")) == Options()  # `- dealrooms` without options
    with pytest.raises(Exception):
        options.protect = False  # type: ignore[misc]  # frozen: read once, never changed behind the reader's back


def test_every_option_is_documented() -> None:
    schema = Options.model_json_schema()
    assert all(field.get("description") for field in schema["properties"].values())


def test_an_option_merged_from_an_inherited_mapping_names_the_file_it_is_written_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yml").write_text("plugins:\n  dealrooms:\n    health:\n      at_risk_overdue: many\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\nsite_name: x\nplugins:\n  dealrooms:\n    protect: false\n", encoding="utf-8")
    with pytest.raises(InvalidOptions) as info:
        read_settings(Path("mkdocs.yml"))
    assert str(info.value).startswith("base.yml:4: plugins.dealrooms.health.at_risk_overdue: expected a whole number")
