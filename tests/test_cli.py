"""The dealrooms command, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dealrooms_plugin.cli import main

CASES = Path(__file__).parent / "cases"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_accepts_the_examples(project: Path) -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "0 problem(s) and " in result.stderr and "plan warning(s) in 3 deal file(s); the deals build" in result.stderr


def test_check_reports_every_problem_and_exits_1(project: Path) -> None:
    path = project / "dealrooms" / "kestrel-freight.yml"
    text = path.read_text().replace("owner: marta", "owner: grimsby").replace("valid_until: 2026-12-19", "valid_untill: 2026-12-19")
    path.write_text(text.replace("due: 2026-12-04", "due: 2026-13-45"))
    result = run("check")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "kestrel-freight.yml:" in line]
    assert any(":44: milestones[2].owner: unknown person 'grimsby'" in line for line in lines)
    assert any(":53: milestones[3].due: bad date '2026-13-45'" in line for line in lines)
    assert any(":93: proposal.valid_untill: unknown field; did you mean 'valid_until'?" in line for line in lines)
    assert "Traceback" not in result.output


def test_check_named_files(project: Path) -> None:
    result = run("check", str(CASES / "syntax-error.yml"), str(CASES / "duplicate-id.yml"))
    assert result.exit_code == 1
    assert "syntax-error.yml:8: YAML syntax error" in result.output
    assert "duplicate-id.yml:12: milestones[2].id: duplicate milestone id 'kickoff'" in result.output


def test_check_missing_config_is_one_line(tmp_path: Path, monkeypatch) -> None:
    import subprocess
    import sys

    monkeypatch.chdir(tmp_path)
    result = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", "check"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("error: mkdocs.yml: not found") and "Traceback" not in result.stderr


def test_schema_is_json_schema_from_the_model() -> None:
    result = run("schema")
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["required"]) == {"deal"}
    milestone = schema["$defs"]["Milestone"]
    assert milestone["additionalProperties"] is False
    assert set(milestone["required"]) == {"id", "title", "owner", "due"}


def test_schema_options_is_json_schema_of_the_plugin_options() -> None:
    result = run("schema", "--options")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["additionalProperties"] is False
    assert {"deals_dir", "protect", "brand_color", "health", "stages"} <= set(schema["properties"])
    assert schema["properties"]["kdf_iterations"]["minimum"] == 600_000
    assert schema["$defs"]["HealthOptions"]["properties"]["off_track_slip_days"]["default"] == 14
    assert {"type": "string", "minLength": 1} in schema["properties"]["stages"]["items"]["anyOf"]  # `- evaluation`
