"""The ``dealrooms`` command: each command is a small function calling the engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import DealroomsError, InvalidDeal, display_path
from .load import discover_deals, load_deal
from .model import json_schema
from .settings import read_settings

CONFIG_OPTION = click.option(
    "-f", "--config-file", type=click.Path(path_type=Path), default=Path("mkdocs.yml"), show_default=True,
    help="The MkDocs config with the dealrooms plugin.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealrooms")
def main() -> None:
    """Deal rooms from YAML: check, plan and publish mutual action plans."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@CONFIG_OPTION
def check(paths: tuple[Path, ...], config_file: Path) -> None:
    """Validate deal files (default: every deal in deals_dir). Exit 1 on any problem."""
    files = _deal_files(paths, config_file)
    problems = 0
    for path in files:
        try:
            load_deal(path, deals_dir=_deals_dir_for(path, config_file))
        except InvalidDeal as exc:
            problems += len(exc.problems)
            for problem in exc.problems:
                click.echo(str(problem), err=False)
    if problems:
        click.secho(f"{problems} problem(s) in {len(files)} deal file(s)", fg="red", err=True)
        sys.exit(1)
    click.secho(f"{len(files)} deal file(s) OK", fg="green", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the deal file format (for editors)."""
    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def _deal_files(paths: tuple[Path, ...], config_file: Path) -> list[Path]:
    if not paths:
        return discover_deals(read_settings(config_file).deals_dir)
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(discover_deals(path))
        elif path.is_file():
            files.append(path)
        else:
            raise DealroomsError(f"{display_path(path)}: no such file or folder")
    return files


def _deals_dir_for(path: Path, config_file: Path) -> Path:
    """Templates live in the deals folder; a file elsewhere uses its own folder."""
    try:
        deals_dir = read_settings(config_file).deals_dir
    except DealroomsError:
        return path.parent
    return deals_dir if path.resolve().parent == deals_dir.resolve() else path.parent


def run() -> None:
    """Entry point that turns user errors into one line and exit code 1."""
    try:
        main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    except DealroomsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
