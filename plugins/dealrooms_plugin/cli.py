"""The ``dealrooms`` command: each command is a small function calling the engine."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .errors import DealroomsError, InvalidDeal, display_path
from .load import discover_deals, load_deal
from .model import json_schema

if TYPE_CHECKING:
    from .settings import Settings

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
@click.option("--strict", is_flag=True, help="Plan warnings count as problems (exit 1): for CI. Also the plugin option strict: true.")
@CONFIG_OPTION
def check(paths: tuple[Path, ...], strict: bool, config_file: Path) -> None:
    """Validate deal files (default: every deal in deals_dir) and check their plans. Exit 1 on any problem.

    Plan warnings (a plan too long to follow, a step before the step it
    waits for, an expired proposal, no step on the buyer's side, ...) are
    listed after the problems; with --strict they fail the check too.
    """
    from .checks import deal_warnings
    from .plan import Thresholds
    from .today import today

    # Named files can be checked outside a project; the plugin options are checked whenever there is one.
    settings = read_settings(config_file) if not paths or config_file.is_file() else None
    strict = strict or bool(settings and settings.options.strict)
    thresholds = settings.options.thresholds if settings else Thresholds()
    day = today()
    files = _deal_files(paths, settings)
    problems = warnings = 0
    for path in files:
        folders = _folders_for(path, settings)
        try:
            loaded = load_deal(path, **folders)
        except InvalidDeal as exc:
            problems += len(exc.problems)
            for problem in exc.problems:
                click.echo(str(problem), err=False)
            continue
        for warning in deal_warnings(loaded, day, thresholds, **folders):
            warnings += 1
            click.echo(str(warning), err=False)
    summary = f"{problems} problem(s) and {warnings} plan warning(s) in {len(files)} deal file(s)"
    if problems or (strict and warnings):
        click.secho(summary + (" (--strict: warnings fail the check)" if strict and warnings else ""), fg="red", err=True)
        sys.exit(1)
    if warnings:
        click.secho(summary + "; the deals build (use --strict to fail on warnings)", fg="yellow", err=True)
        return
    click.secho(f"{len(files)} deal file(s) OK", fg="green", err=True)


@main.command()
@click.option("--options", "of_options", is_flag=True, help="The plugin options (the dealrooms: entry of mkdocs.yml) instead.")
def schema(of_options: bool) -> None:
    """Print the JSON Schema of the deal file format, or with --options of the plugin options (for editors)."""
    from .options import options_schema

    click.echo(json.dumps(options_schema() if of_options else json_schema(), indent=2, ensure_ascii=False))


@main.command()
@click.argument("slug")
@click.option("--rotate", is_flag=True, help="Replace the deal's password with a new one.")
@click.option("--set", "set_password", is_flag=True, help="Type a password instead of generating one.")
@CONFIG_OPTION
def password(slug: str, rotate: bool, set_password: bool, config_file: Path) -> None:
    """Give a deal a password: a generated passphrase, stored in the secrets file."""
    from . import passwords
    from .keys import KeyCache

    settings = read_settings(config_file)
    known = {p.stem for p in discover_deals(settings.deals_dir, project_dir=settings.root)}
    if slug not in known:
        raise DealroomsError(f"unknown deal {slug!r} (deals are: {', '.join(sorted(known)) or 'none'})")
    path = settings.secrets_file
    secrets_map = passwords.read_secrets(path)
    current = secrets_map.get(slug)
    allow_reuse = settings.options.allow_password_reuse
    exposed = passwords.exposed(path)
    if current and not (rotate or set_password):
        click.echo(current)  # showing the stored password is what this command is for
        click.secho(f"{slug} already has a password in {display_path(path)}; --rotate replaces it", err=True)
        problem = passwords.refusal(slug, current, settings.deals_dir, secrets_map, path, allow_reuse=allow_reuse)
        if problem:
            click.secho(f"warning: the build will refuse this password:\n{problem}", fg="yellow", err=True)
        if exposed:
            click.secho(f"warning: {exposed}", fg="yellow", err=True)
        return
    if set_password:
        new = click.prompt("Password", hide_input=True, confirmation_prompt=True).strip()
        problem = passwords.refusal(slug, new, settings.deals_dir, secrets_map, path, allow_reuse=allow_reuse)
        if problem:
            raise DealroomsError(problem)
    else:
        new = passwords.generate_passphrase()
    passwords.write_secret(path, slug, new)  # always written 0600, whatever the old file's mode was
    if not set_password:
        click.echo(new)  # the one place a password is shown: the rep needs it to hand it over
    KeyCache().forget(slug)  # the old password's key must not outlive it on this machine
    click.secho(f"{'replaced' if current else 'stored'} the password of {slug} in {display_path(path)}"
                f"{' (now readable by you only)' if exposed else ''}; "
                "send it to the buyer through another channel than the link", err=True)
    if os.environ.get(passwords.env_name(slug)):
        click.secho(f"note: {passwords.env_name(slug)} is set and wins over the secrets file", fg="yellow", err=True)
    if passwords.tracked_by_git(path):
        click.secho(f"warning: {display_path(path)} is not git-ignored; add it to .gitignore", fg="red", err=True)


@main.command()
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@click.option("--zip", "make_zips", is_flag=True, help="Also write one <slug>.zip per deal (deal + shared assets).")
@click.option("--zip-dir", type=click.Path(path_type=Path), help="Where the zips go (default: dist/ beside mkdocs.yml).")
@click.option("--shard", metavar="K/N", callback=lambda ctx, param, value: _check_shard(value),
              help="Build only the K-th of N deterministic subsets of deals (spread thousands over CI runners); "
                   "not with SLUGs.")
@CONFIG_OPTION
def publish(slugs: tuple[str, ...], make_zips: bool, zip_dir: Path | None, shard: str | None, config_file: Path) -> None:
    """Build every deal into a fresh folder and swap it into site_dir atomically.

    With SLUGs, publish only those deals: each one's folder (and zip) is
    replaced whole, and the other deals in site_dir are left exactly as they
    are. Every deal is still checked, as for a full publish.
    """
    from .mkdocs_adapter.publish import format_report, publish as run_publish

    if slugs and shard:
        raise click.UsageError("--shard and deal names do not go together: a shard publishes its share of every "
                               "deal, deal names publish just those; use one or the other")
    report = run_publish(config_file, make_zips=make_zips, zip_dir=zip_dir, shard=shard, only=slugs)
    for warning in report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(format_report(report))


@main.command()
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--due-within", metavar="PERIOD",
              help="List milestones due within PERIOD (e.g. 7d, 2w) or overdue, with owners, and the meetings in that period.")
@click.option("--since", metavar="YYYY-MM-DD", callback=lambda ctx, param, value: _since_date(value),
              help="What changed in each deal's plan since that day (from the deal files' git history).")
def status(config_file: Path, as_json: bool, due_within: str | None, since: dt.date | None) -> None:
    """Every deal at a glance (the ones that need attention first), reminders with --due-within, changes with --since."""
    from .history import deal_history
    from .load import load_deals
    from .status import (
        changes_since, format_changes, format_reminders, format_table, meeting_reminders, parse_window, reminders,
        reminders_json, status_rows,
    )
    from .today import today

    if since is not None and due_within is not None:
        raise click.UsageError("--since and --due-within are two different lists; use one at a time")
    settings = read_settings(config_file)
    thresholds, stages = settings.options.thresholds, settings.options.sales_stages
    result = load_deals(settings.deals_dir, project_dir=settings.root)
    day = today()
    if due_within is not None:
        days = parse_window(due_within)
        items, meetings = reminders(result.deals, day, days, thresholds), meeting_reminders(result.deals, day, days)
        click.echo(json.dumps(reminders_json(items, meetings), indent=2, ensure_ascii=False) if as_json
                   else format_reminders(items, days, meetings))
        return
    if since is not None:
        histories = {
            slug: deal_history(loaded.path, today=day, deals_dir=settings.deals_dir, project_dir=settings.root)
            for slug, loaded in result.deals.items()
        }
        found = changes_since(result.deals, histories, since)
        click.echo(json.dumps([d.to_json() for d in found], indent=2, ensure_ascii=False) if as_json
                   else format_changes(found, since))
    else:
        rows = status_rows(result.deals, day, thresholds, stages, problems=result.problems)
        if as_json:
            click.echo(json.dumps([row.to_json() for row in rows], indent=2, ensure_ascii=False))
        else:
            click.echo(format_table(rows) if rows else f"No deals in {display_path(settings.deals_dir)}.")
    if result.problems:
        click.secho(f"{len(result.problems)} invalid deal(s): run `dealrooms check` for the details", fg="red", err=True)


def _since_date(value: str | None) -> dt.date | None:
    """``--since``: a date as YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-11-01", param_hint="--since") from None


class _NewCommand(click.Command):
    """``new``, whose help ends with the project's templates and what each is for (read when it is shown)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        # -f is read before --help when it comes first (both are eager); else the default mkdocs.yml.
        config_file = ctx.params.get("config_file") or Path("mkdocs.yml")
        try:
            settings = read_settings(config_file)
        except DealroomsError:
            formatter.write_paragraph()
            formatter.write_text(f"Templates: none found, no project here ({display_path(config_file)} not found or "
                                 "not usable). Run this in the folder with mkdocs.yml, or give -f PATH before --help.")
            return
        from .load import TEMPLATES_DIR
        from .scaffold import template_catalog

        folder = display_path(settings.deals_dir / TEMPLATES_DIR)
        catalog = template_catalog(settings.deals_dir)
        if not catalog:
            formatter.write_paragraph()
            formatter.write_text(f"Templates: none in {folder}/. A template is a deal file's plan (milestones: ...) "
                                 "whose first comment line says what it is for; without one, `new` writes a basic plan.")
            return
        with formatter.section(f"Templates (in {folder}/)"):
            formatter.write_dl([(name, text or "(no description: start the file with a # comment line)")
                                for name, text in catalog])


@main.command(cls=_NewCommand)
@click.argument("slug")
@click.option("-t", "--template", metavar="NAME", help="Template in <deals_dir>/_templates/ (default: a basic plan); see below.")
@click.option("--target", metavar="YYYY-MM-DD", help="The buyer's go-live or signature date (default: 90 days from today).")
@click.option("--seller", metavar="NAME", help="Your company, as the buyer should read it (default: the template's, "
                                               "else brand_name in mkdocs.yml, else a TODO that check refuses).")
@click.option("-f", "--config-file", type=click.Path(path_type=Path), default=Path("mkdocs.yml"), show_default=True,
              is_eager=True, help="The MkDocs config with the dealrooms plugin (before --help: its templates are listed).")
def new(slug: str, template: str | None, target: str | None, seller: str | None, config_file: Path) -> None:
    """Create <deals_dir>/SLUG.yml from a template, ready to fill in.

    Template steps that would fall before today for this target are flagged
    in the file (with the earliest target that fits the whole plan), not moved.
    """
    from .scaffold import create_deal
    from .today import today

    try:
        target_date = dt.date.fromisoformat(target) if target is not None else None
    except ValueError:
        raise click.BadParameter(f"{target!r} is not a date; expected YYYY-MM-DD, e.g. 2027-03-01",
                                 param_hint="--target") from None
    settings = read_settings(config_file)
    stages = settings.options.sales_stages
    created = create_deal(
        settings.deals_dir, slug, template=template, today=today(), target=target_date,
        stage=stages[0].name if stages else None, seller=seller, brand=settings.options.brand_name,
    )
    click.echo(f"created {display_path(created.path)}; fill in the TODO lines, then run `dealrooms check`")
    for problem in created.todo:
        click.secho(f"to do: {display_path(created.path)}:{problem.line}: your company's name (seller); "
                    "`dealrooms check` and every build refuse the deal until it is set (or use --seller next time)",
                    fg="yellow", err=True)
    if created.past_steps:
        fits = f"; {created.fitting_target.isoformat()} or later fits the whole plan" if created.fitting_target else ""
        click.secho(f"note: {len(created.past_steps)} template step(s) fall before today for this target "
                    f"({', '.join(created.past_steps)}): mark them done, or move target_date{fits}",
                    fg="yellow", err=True)


def read_settings(config_file: Path) -> Settings:
    """The project's settings, read with MkDocs' own YAML loader (``!ENV``, ``INHERIT``).

    Imported here, not at the top: the engine never imports MkDocs (this
    module included), and ``dealrooms schema`` never needs it.
    """
    from .mkdocs_adapter.settings import read_settings as read

    return read(config_file)


def _check_shard(value: str | None) -> str | None:
    from .catalog import parse_shard

    if value is not None:
        try:
            parse_shard(value)
        except DealroomsError as exc:
            raise click.BadParameter(str(exc).removeprefix("shard: ")) from None
    return value


def _deal_files(paths: tuple[Path, ...], settings: Settings | None) -> list[Path]:
    if not paths:
        assert settings is not None  # read (or refused) by the caller when no file is named
        return discover_deals(settings.deals_dir, project_dir=settings.root)
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(discover_deals(path))
        elif path.is_file():
            files.append(path)
        else:
            raise DealroomsError(f"{display_path(path)}: no such file or folder")
    return files


def _folders_for(path: Path, settings: Settings | None) -> dict[str, Path]:
    """Templates live in the deals folder, inside the project; a file elsewhere uses its own folder."""
    # The folder the file is listed in, not where a link leads: a linked deal file is still checked as a deal.
    if settings and os.path.realpath(os.path.dirname(os.path.abspath(path))) == os.path.realpath(settings.deals_dir):
        return {"deals_dir": settings.deals_dir, "project_dir": settings.root}
    return {"deals_dir": path.parent}


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
