"""``dealrooms new``: a new deal file from a template, ready to fill in.

The file it writes passes ``dealrooms check`` as it is (it is checked before
this returns), except for one thing a rep must write themselves: the
seller's name, unless ``--seller``, the template or the project's
``brand_name`` gives it. An example deal's seller is never copied: the file
says ``seller: {}`` with a TODO, and ``check`` (so also every build and
publish) refuses it until it is filled in, so no buyer ever reads "TODO".
Its comments show what to fill in: the people, which template steps to give
to whom, goals with baselines, the proposal.

Template steps whose date for the chosen target falls before today are
flagged, not moved: they are usually done already (mark them so) or say
that the target is too close, and moving them would hide exactly that. The
file says which, and the earliest target date for which the whole plan
still lies ahead.

A template describes itself in its first comment line (or paragraph):
``dealrooms new --help`` lists them with :func:`template_catalog`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DealroomsError, InvalidDeal, Problem, display_path
from .load import MAX_EXTENDS_DEPTH, RESERVED_SLUGS, SLUG, TEMPLATES_DIR, Node, load_deal, merge, read_yaml
from .model import parse_due
from .plan import resolve_due

DEFAULT_HORIZON_DAYS = 90
SELLER_TODO = "deal.seller.name"  # the one field a new deal may leave for the rep (check refuses it until set)
DESCRIPTION_MAX = 160  # characters of a template's description shown in --help

# Without a template: the smallest plan that still works backwards from the outcome.
BASIC_PLAN: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("discovery", "Discovery call — pains, goals and how the buyer buys", "seller", "target-12w", ()),
    ("success-criteria", "Success criteria and ROI goals agreed", "buyer", "target-10w", ("discovery",)),
    ("proposal", "Proposal sent, with a validity date", "seller", "target-6w", ("success-criteria",)),
    ("signature", "Contract signed", "buyer", "target-3w", ("proposal",)),
    ("go-live", "Go-live", "buyer", "target+0d", ("signature",)),
)


def template_names(deals_dir: Path) -> list[str]:
    """The templates in ``<deals_dir>/_templates``, by name."""
    folder = Path(deals_dir) / TEMPLATES_DIR
    return sorted(p.stem for p in folder.glob("*.y*ml") if p.suffix in (".yml", ".yaml")) if folder.is_dir() else []


def template_catalog(deals_dir: Path) -> list[tuple[str, str | None]]:
    """The templates in ``<deals_dir>/_templates`` and their one-line descriptions (None: the file has none)."""
    return [(name, template_description(_template_path(deals_dir, name))) for name in template_names(deals_dir)]


def template_description(path: Path) -> str | None:
    """A template's description: the first paragraph of the comment it starts with, on one line.

    Template files are the team's, but this text goes to a terminal: only
    printable characters, and at most :data:`DESCRIPTION_MAX` of them.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    words: list[str] = []
    for line in head.lstrip("\ufeff").splitlines():
        text = line.strip()
        if not text.startswith("#"):
            break
        text = text.lstrip("#").strip()
        if not text:
            if words:
                break
            continue
        words.append(text)
    description = "".join(c for c in " ".join(words) if c.isprintable())
    if len(description) > DESCRIPTION_MAX:
        description = description[:DESCRIPTION_MAX - 1].rstrip() + "…"
    return description or None


def template_data(deals_dir: Path, name: str) -> dict[str, Any]:
    """A template merged with the templates it extends, as plain data.

    Raises :class:`DealroomsError` for an unknown template and
    :class:`InvalidDeal` (with file and line) for YAML errors in one.
    """
    problems: list[Problem] = []
    chain: list[tuple[Any, Node]] = []
    seen: list[Path] = []
    current: str | None = name
    while current is not None:
        path = _template_path(deals_dir, current)
        if path in seen or len(seen) >= MAX_EXTENDS_DEPTH:
            raise DealroomsError(f"template {current!r} extends itself (directly or through other templates)")
        seen.append(path)
        data, node = read_yaml(path, problems)
        if problems or node is None:
            raise InvalidDeal(problems or [Problem(path, None, "", "the template is empty")])
        if not isinstance(data, dict):
            raise InvalidDeal([Problem(path, node.here[1], "", "expected a mapping with milestones: ...")])
        chain.append((data, node))
        parent = data.get("extends")
        current = parent if isinstance(parent, str) and parent else None
    data, node = chain.pop()
    while chain:
        over, over_node = chain.pop()
        data, node = merge(data, node, over, over_node)
    data.pop("extends", None)
    return data


def _template_path(deals_dir: Path, name: str) -> Path:
    folder = Path(deals_dir) / TEMPLATES_DIR
    for candidate in (folder / f"{name}.yml", folder / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    known = template_names(deals_dir)
    hint = f"templates are: {', '.join(known)}" if known else f"put templates in {display_path(folder)}/NAME.yml"
    raise DealroomsError(f"unknown template {name!r} ({hint})")


def render_new_deal(
    slug: str,
    *,
    deals_dir: Path,
    target: dt.date,
    template: str | None = None,
    stage: str | None = None,
    today: dt.date | None = None,
    seller: str | None = None,
    brand: str | None = None,
) -> str:
    """The text of a new deal file (see :func:`create_deal`)."""
    base = template_data(deals_dir, template) if template else {}
    base_deal = base.get("deal") if isinstance(base.get("deal"), dict) else {}
    buyer = " ".join(word.capitalize() for word in slug.split("-") if word) or slug
    template_seller = _name_of(base_deal.get("seller"))
    # The template's seller is inherited through extends; the project's brand is written only without one.
    seller = (seller or "").strip() or (None if template_seller else (brand or "").strip() or None)
    known_seller = seller or template_seller
    created = f", created {today.isoformat()}" if today else ""

    out = [f"# Deal room for {buyer}{created}."]
    if template:
        out.append(f"# The plan comes from the template {template!r} ({display_path(_template_path(deals_dir, template))}).")
    out += [
        "# Fill in the lines marked TODO, then run `dealrooms check` and preview with `mkdocs serve`.",
        "",
    ]
    if template:
        out += [f"extends: {template}", ""]
    # Without the seller's name the title is the buyer's alone: whatever is left unchanged may be published.
    title = f"{buyer} × {known_seller}" if known_seller else buyer
    out += [
        "deal:",
        f"  title: {_q(title)}  # TODO: what the deal is, e.g. '{title} — rollout'",
        f"  buyer: {{name: {_q(buyer)}}}  # TODO: check the name; add logo: logos/{slug}.svg (relative to this file)",
    ]
    if seller:
        out.append(f"  seller: {{name: {_q(seller)}}}")
    elif not template_seller:
        out.append("  seller: {}  # TODO: your company's name, e.g. seller: {name: Orbisoft} "
                   "(`dealrooms check` refuses the deal until it is set)")
    if stage:
        out.append(f"  stage: {stage}  # your sales stage (see stages: in mkdocs.yml)")
    else:
        out.append("  # stage: evaluation  # TODO: your sales stage")
    out += [
        f"  target_date: {target.isoformat()}  # TODO: the buyer's go-live or signature date; plan dates count back from it",
        "  summary: |  # TODO: the outcome the buyer wants and why, in the buyer's words",
        f"    {buyer} wants to reach its outcome by {target.isoformat()}.",
        "",
        "# TODO: who is involved on both sides (6-10 people on the buyer's side is normal).",
        "# A milestone's owner is a person id below, or buyer / seller / partner for a whole side.",
        "# people:",
        "#   - {id: ilse, name: Ilse Verhoeven, side: buyer, title: VP Operations, role: champion, email: ilse@example.com}",
        "#   - {id: dov, name: Dov Abramson, side: buyer, title: CFO, role: economic_buyer, email: dov@example.com}",
        "#   - {id: amara, name: Amara Okafor, side: seller, title: Account Executive, email: amara@example.com}",
        "",
    ]
    out += _milestone_lines(base, target, today) if template else _basic_plan_lines()
    out += [
        "",
        "# TODO: the buyer's goals, each with a baseline (where they are today).",
        "# goals:",
        "#   - {id: hours, metric: Manual planning hours per month, baseline: 1180, target: 350, unit: hours, by: "
        f"{(target + dt.timedelta(days=120)).isoformat()}}}",
        "",
        "# proposal:",
        f"#   valid_until: {(target - dt.timedelta(days=42)).isoformat()}  # a proposal always states its expiry date",
        "#   currency: EUR",
        "#   items:",
        "#     - {name: Licence, quantity: 40, unit: user/year, unit_price: 1200}",
        "",
        "# meetings:",
        "#   - {date: YYYY-MM-DD, time: '15:00', title: Weekly plan review, location: Video call}",
    ]
    return "\n".join(out) + "\n"


def _template_steps(base: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in base.get("milestones") or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]


def _step_date(step: dict[str, Any], target: dt.date) -> dt.date | None:
    """A template step's planned date for ``target`` (None when its due is not valid: `check` reports that)."""
    try:
        return resolve_due(parse_due(step.get("due")), target)
    except Exception:  # noqa: BLE001 - any bad due is reported by `check` with its line; here it only shows as '?'
        return None


def steps_before(base: dict[str, Any], target: dt.date, today: dt.date) -> list[str]:
    """The ids of a template's steps that fall before ``today`` for ``target``, in plan order."""
    return [m["id"] for m in _template_steps(base) if (when := _step_date(m, target)) is not None and when < today]


def earliest_fitting_target(base: dict[str, Any], target: dt.date, today: dt.date) -> dt.date | None:
    """The first target on or after ``target`` for which no template step falls before ``today``.

    Business-day offsets make this a search rather than a sum; a plan reaches
    at most a few years back, so a bounded walk is enough (None beyond it).
    """
    for days in range(0, 3 * 366):
        candidate = target + dt.timedelta(days=days)
        if not steps_before(base, candidate, today):
            return candidate
    return None


def _milestone_lines(base: dict[str, Any], target: dt.date, today: dt.date | None) -> list[str]:
    steps = _template_steps(base)
    lines = [
        f"# The template's {len(steps)} steps, with their dates for this target. To change a step,",
        "# repeat its id with what differs (owner, due, status, done_on, notes); to add one, give a",
        "# new id with title, owner and due. Uncomment `milestones:` and the lines you change:",
        "# milestones:",
    ]
    for m in steps:
        due = m.get("due")
        resolved = _step_date(m, target)
        fields = f"id: {m['id']}, owner: {m.get('owner', 'seller')}"
        when = resolved.isoformat() if resolved else "?"
        line = f"#   - {{{fields}}}  # {when} ({due}) {m.get('title', '')}".rstrip()
        if resolved and today and resolved < today:
            line += "  <- TODO: before today: done already, or move target_date"
        lines.append(line)
    lines.append("#   (when a step is done, add to its line: status: done, done_on: YYYY-MM-DD)")
    past = steps_before(base, target, today) if today else []
    if past:
        # Otherwise the new deal starts out overdue (and off track) without the rep noticing why.
        fits = earliest_fitting_target(base, target, today) if today else None
        move = f"move target_date to {fits.isoformat()} or later" if fits else "move target_date"
        lines += [
            f"# TODO: {len(past)} step(s) fall before today for this target date ({', '.join(past)}):",
            f"# mark them done (status: done, done_on: ...) or {move} (the whole plan then lies ahead).",
        ]
    return lines


def _basic_plan_lines() -> list[str]:
    lines = [
        "# The plan: what must happen, when and who is responsible. `due` is a date or an offset",
        "# from target_date (target-30d, target-6w, target-10bd for business days); `after` says",
        "# which steps must be done first, so a late step shows how it moves the target date.",
        "milestones:",
    ]
    for ident, title, owner, due, after in BASIC_PLAN:
        lines += [f"  - id: {ident}", f"    title: {_q(title)}", f"    owner: {owner}", f"    due: {due}"]
        if after:
            lines.append(f"    after: [{', '.join(after)}]")
    return lines


def _q(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: safe for ':', '#', '×' and quotes.
    return json.dumps(text, ensure_ascii=False)


def _name_of(party: Any) -> str | None:
    name = party.get("name") if isinstance(party, dict) else None
    return name if isinstance(name, str) and name.strip() else None


@dataclass(frozen=True)
class NewDeal:
    """What :func:`create_deal` wrote, and what the rep still has to do."""

    path: Path
    todo: tuple[Problem, ...]  # what `check` refuses until the rep fills it in (the seller's name)
    past_steps: tuple[str, ...]  # template steps dated before today for this target
    fitting_target: dt.date | None  # the earliest target for which none is (None: no steps before today)


def create_deal(
    deals_dir: Path,
    slug: str,
    *,
    template: str | None = None,
    target: dt.date | None = None,
    today: dt.date,
    stage: str | None = None,
    seller: str | None = None,
    brand: str | None = None,
) -> NewDeal:
    """Write ``<deals_dir>/<slug>.yml``; say what is left to fill in.

    ``target`` defaults to ``today`` + 90 days. The seller is ``seller``
    (the rep's company), else the template's, else ``brand`` (the project's
    ``brand_name``), else ``seller: {}`` for the rep to fill in.
    Refuses a bad slug and an existing file; the written file is validated
    like ``dealrooms check`` and removed again if anything but the missing
    seller is wrong (e.g. the template has an error), with the problems in
    the raised error.
    """
    deals_dir = Path(deals_dir)
    if not SLUG.match(slug):
        raise DealroomsError(
            f"bad deal name {slug!r}: it becomes the deal's web address; "
            "use lowercase letters, digits and '-', e.g. kestrel-freight"
        )
    if slug in RESERVED_SLUGS:
        raise DealroomsError(
            f"the name {slug!r} is reserved: the site keeps its shared {slug}/ folder at that address; "
            f"choose another, e.g. {slug}-deal or the buyer's name"
        )
    if not deals_dir.is_dir():
        raise DealroomsError(f"{display_path(deals_dir)}: deals folder not found (set deals_dir in mkdocs.yml)")
    path = deals_dir / f"{slug}.yml"
    existing = next((p for p in (path, deals_dir / f"{slug}.yaml") if p.exists()), None)
    if existing:
        raise DealroomsError(f"{display_path(existing)} already exists; edit it, or choose another name")
    target = target or today + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
    text = render_new_deal(slug, deals_dir=deals_dir, target=target, template=template, stage=stage, today=today,
                           seller=seller, brand=brand)
    with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
        handle.write(text)
    todo: tuple[Problem, ...] = ()
    try:
        load_deal(path, deals_dir=deals_dir)
    except InvalidDeal as exc:
        todo = tuple(p for p in exc.problems if p.file == path and p.path == SELLER_TODO)
        others = [p for p in exc.problems if p not in todo]
        if others:
            path.unlink()
            raise DealroomsError("the new deal would not pass `dealrooms check`, so it was not written:\n"
                                 + "\n".join(str(p) for p in others)) from None
    base = template_data(deals_dir, template) if template else {}
    past = tuple(steps_before(base, target, today))
    return NewDeal(path, todo, past, earliest_fitting_target(base, target, today) if past else None)
