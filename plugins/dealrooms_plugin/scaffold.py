"""``dealrooms new``: a new deal file from a template, ready to fill in.

The file it writes passes ``dealrooms check`` as it is (it is checked before
this returns), and its comments show what to fill in: the people, which
template steps to give to whom, goals with baselines, the proposal.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from .errors import DealroomsError, InvalidDeal, Problem, display_path
from .load import MAX_EXTENDS_DEPTH, RESERVED_SLUGS, SLUG, TEMPLATES_DIR, Node, discover_deals, load_deal, merge, read_yaml
from .model import parse_due
from .plan import resolve_due

DEFAULT_HORIZON_DAYS = 90

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
) -> str:
    """The text of a new deal file (see :func:`create_deal`)."""
    base = template_data(deals_dir, template) if template else {}
    base_deal = base.get("deal") if isinstance(base.get("deal"), dict) else {}
    buyer = " ".join(word.capitalize() for word in slug.split("-") if word) or slug
    template_seller = _name_of(base_deal.get("seller"))
    seller = template_seller or _seller_from_deals(deals_dir) or "Your company"
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
    out += [
        "deal:",
        f"  title: {_q(f'{buyer} × {seller}')}  # TODO: what the deal is, e.g. '{buyer} × {seller} — rollout'",
        f"  buyer: {{name: {_q(buyer)}}}  # TODO: check the name; add logo: logos/{slug}.svg (relative to this file)",
    ]
    if not template_seller:
        todo = "" if seller != "Your company" else "  # TODO: your company's name"
        out.append(f"  seller: {{name: {_q(seller)}}}{todo}")
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


def _milestone_lines(base: dict[str, Any], target: dt.date, today: dt.date | None) -> list[str]:
    steps = [m for m in base.get("milestones") or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    lines = [
        f"# The template's {len(steps)} steps, with their dates for this target. To change a step,",
        "# repeat its id with what differs (owner, due, status, done_on, notes); to add one, give a",
        "# new id with title, owner and due. Uncomment `milestones:` and the lines you change:",
        "# milestones:",
    ]
    past = []
    for m in steps:
        due = m.get("due")
        try:
            resolved: dt.date | None = resolve_due(parse_due(due), target)
        except Exception:  # noqa: BLE001 - a bad due is reported by `check` with its line; here it is only a comment
            resolved = None
        if resolved and today and resolved < today:
            past.append(m["id"])
        fields = f"id: {m['id']}, owner: {m.get('owner', 'seller')}"
        when = resolved.isoformat() if resolved else "?"
        lines.append(f"#   - {{{fields}}}  # {when} ({due}) {m.get('title', '')}".rstrip())
    lines.append("#   (when a step is done, add to its line: status: done, done_on: YYYY-MM-DD)")
    if past:
        # Otherwise the new deal starts out overdue (and off track) without the rep noticing why.
        lines += [
            f"# TODO: {len(past)} step(s) fall before today for this target date ({', '.join(past)}):",
            "# mark them done (status: done, done_on: ...) or move target_date.",
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


def _seller_from_deals(deals_dir: Path) -> str | None:
    """The seller of the existing deals: it is the rep's own company, the same in every deal."""
    try:
        paths = discover_deals(Path(deals_dir))
    except DealroomsError:
        return None
    for path in paths:
        data, _ = read_yaml(path, [])
        deal = data.get("deal") if isinstance(data, dict) else None
        name = _name_of(deal.get("seller")) if isinstance(deal, dict) else None
        if name:
            return name
    return None


def create_deal(
    deals_dir: Path,
    slug: str,
    *,
    template: str | None = None,
    target: dt.date | None = None,
    today: dt.date,
    stage: str | None = None,
) -> Path:
    """Write ``<deals_dir>/<slug>.yml`` and return its path.

    ``target`` defaults to ``today`` + 90 days. Refuses a bad slug and an
    existing file; the written file is validated like ``dealrooms check`` and
    removed again if it does not pass (e.g. the template has an error), with
    the problems in the raised error.
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
    text = render_new_deal(
        slug, deals_dir=deals_dir, target=target or today + dt.timedelta(days=DEFAULT_HORIZON_DAYS),
        template=template, stage=stage, today=today,
    )
    with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
        handle.write(text)
    try:
        load_deal(path, deals_dir=deals_dir)
    except InvalidDeal as exc:
        path.unlink()
        raise DealroomsError(f"the new deal would not pass `dealrooms check`, so it was not written:\n{exc}") from None
    return path
