"""Plan checks: what a valid deal file can still get wrong about the practice.

A deal that loads is well-formed; these checks ask whether its plan is one
the practice would sign off (see the README, "Plan checks"): short enough to
be followed, mutual, in an order that can happen, with a proposal that is
still valid when the buyer signs. They are **warnings** for the rep, shown by
``dealrooms check``, the build log and the preview, never to buyers;
``dealrooms check --strict`` and the ``strict`` plugin option make them
errors for CI.

:func:`plan_findings` is pure (a deal, its schedule, today); only when it
finds something does :func:`locate` read the deal's file again for
the lines, so checking 1,000 clean deals costs no YAML parsing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from .errors import Problem
from .load import LoadedDeal, problems_at
from .model import Deal
from .plan import SIGNATURE_IDS, Schedule, Thresholds, schedule, signature_step

# Published win-rate data on mutual action plans: plans of 11-15 steps do
# best, and plans over 30 steps do no better than no plan at all.
MAX_STEPS = 30
NOTE_STEPS = 20

@dataclass(frozen=True)
class Finding:
    """One plan warning before it is located in the file: where (a field path), what, and what to do."""

    loc: tuple[str | int, ...]
    message: str
    hint: str


def plan_findings(deal: Deal, schedule: Schedule, *, plan_changed_on: dt.date | None = None) -> list[Finding]:
    """Every plan warning for one deal as of ``schedule.today``.

    ``plan_changed_on``: the newest change after the buyer agreed the plan
    (``History.changed_after(agreed.on)``), or None.
    """
    today = schedule.today
    found: list[Finding] = []
    steps = len(deal.milestones)
    if steps > MAX_STEPS:
        found.append(Finding(("milestones",), f"{steps} steps; plans of more than {MAX_STEPS} steps do no better than no plan",
                             "keep 11-15 steps the buyer can follow: merge small ones, move detail into notes"))
    elif steps > NOTE_STEPS:
        found.append(Finding(("milestones",), f"{steps} steps; plans of 11-15 steps do best",
                             "merge small steps, or move detail into their notes"))

    index = {m.id: i for i, m in enumerate(deal.milestones)}
    planned = {p.id: p for p in schedule.milestones}
    for i, m in enumerate(deal.milestones):
        plan = planned[m.id]
        for dep in m.after:
            before = planned.get(dep)
            if before is not None and plan.planned < before.planned and m.status != "done":
                found.append(Finding(
                    ("milestones", i, "due"),
                    f"planned for {plan.planned.isoformat()}, before {dep!r} ({before.planned.isoformat()}) that it waits for",
                    f"move it after {before.planned.isoformat()}, or remove {dep!r} from after:",
                ))
        if m.status == "done" and m.done_on is None:
            found.append(Finding(("milestones", i, "status"), "done, but without done_on",
                                 f"add done_on: {today.isoformat()} (the day it was done), so lateness and history stay true"))

    open_steps = [p for p in schedule.milestones if p.is_open]
    if open_steps and not any("buyer" in _sides(deal, p.milestone.owner) for p in open_steps):
        found.append(Finding(("milestones",), "no open step is owned by the buyer's side; a mutual plan has work on both sides",
                             "give the buyer the steps only they can do (security review, sign-off), or own them jointly"))

    if deal.deal.target_date < today and open_steps:
        found.append(Finding(("deal", "target_date"), f"the target date {deal.deal.target_date.isoformat()} is in the past",
                             "agree a new target with the buyer and set it here"))

    # The proposal is judged by the same rule as the deal's health (plan.assess_health): one meaning of
    # "expired" and "expires before the signature" for the badge the buyer reads and the rep's warning.
    for reason in schedule.reasons:
        if reason.kind == "proposal_expired":
            found.append(Finding(("proposal", "valid_until"), f"the proposal expired on {reason.date.isoformat()}",
                                 "renew the offer and set a new valid_until"))
        elif reason.kind == "proposal_before_signature":
            signature = signature_step(schedule.milestones)
            found.append(Finding(
                ("proposal", "valid_until"),
                f"the proposal expires on {reason.date.isoformat()}, before {signature.milestone.title!r}"
                f" ({reason.deadline.isoformat()})",
                f"extend valid_until to {reason.deadline.isoformat()} or later, or plan the signature earlier",
            ))
        elif reason.kind == "proposal_before_target":
            found.append(Finding(
                ("proposal", "valid_until"),
                f"the proposal expires on {reason.date.isoformat()}, before the target date {reason.deadline.isoformat()}",
                f"extend valid_until, or add the signature as a step (id: {' or '.join(SIGNATURE_IDS)}) so its date counts",
            ))

    if deal.agreed is not None and plan_changed_on is not None:
        found.append(Finding(
            ("agreed",), f"the plan changed on {plan_changed_on.isoformat()}, after it was agreed on {deal.agreed.on.isoformat()}",
            "walk the buyer through the change; once they agree, set agreed.on to that day",
        ))
    return found


def _sides(deal: Deal, owner_ids: Iterable[str]) -> set[str]:
    sides = set()
    for ident in owner_ids:
        person = deal.person(ident)
        sides.add(person.side if person is not None else ident)
    return sides


def locate(loaded: LoadedDeal, findings: list[Finding], *, project_dir: Path | None = None) -> list[Problem]:
    """Findings as warnings with file and line: the deal (and its templates) are read again, so only when there are any."""
    if not findings:
        return []
    found = problems_at(loaded.path, [(f.loc, f.message, f.hint) for f in findings], project_dir=project_dir, warning=True)
    return sorted(found, key=lambda p: (p.file != loaded.path, str(p.file), p.line or 0))  # the deal's own lines first, in order


def deal_findings(loaded: LoadedDeal, today: dt.date, thresholds: Thresholds = Thresholds(), *,
                  project_dir: Path | None = None, deals_dir: Path | None = None) -> list[Finding]:
    """The plan findings of one deal as of ``today``, not yet located (cheap: one schedule).

    The plan's git history is read only for a deal whose plan was agreed
    (to tell whether it changed since).
    """
    plan = schedule(loaded.deal, today, thresholds)
    changed_on = None
    if loaded.deal.agreed is not None:
        from .history import deal_history  # git is asked only here

        history = deal_history(loaded.path, today=today, deals_dir=deals_dir, project_dir=project_dir)
        changed_on = history.changed_after(loaded.deal.agreed.on)
    return plan_findings(loaded.deal, plan, plan_changed_on=changed_on)


def deal_warnings(loaded: LoadedDeal, today: dt.date, thresholds: Thresholds = Thresholds(), *,
                  project_dir: Path | None = None, deals_dir: Path | None = None) -> list[Problem]:
    """The plan warnings of one deal as of ``today``, with lines: what ``dealrooms check`` prints."""
    findings = deal_findings(loaded, today, thresholds, project_dir=project_dir, deals_dir=deals_dir)
    return locate(loaded, findings, project_dir=project_dir)


@dataclass(frozen=True)
class BuildWarnings:
    """What a build reports: located warnings for the first deals, and how many more deals have some."""

    shown: tuple[Problem, ...]
    more_deals: int = 0  # deals with warnings not shown (run `dealrooms check`)
    more_warnings: int = 0


def build_warnings(deals: Mapping[str, LoadedDeal], slugs: Iterable[str], today: dt.date,
                   thresholds: Thresholds = Thresholds(), *, project_dir: Path | None = None,
                   most: int | None = None) -> BuildWarnings:
    """The plan warnings of the named deals, in slug order: what a build reports (the deals it rendered, or all).

    Finding is cheap, locating reads the file again: with ``most``, only the
    first ``most`` deals with warnings are located (a first build of a
    thousand deals lists a few and counts the rest; ``dealrooms check`` gives
    every line).
    """
    shown: list[Problem] = []
    located = more_deals = more_warnings = 0
    for slug in sorted(set(slugs)):
        loaded = deals.get(slug)
        if loaded is None:
            continue
        findings = deal_findings(loaded, today, thresholds, project_dir=project_dir, deals_dir=loaded.path.parent)
        if not findings:
            continue
        if most is None or located < most:
            shown.extend(locate(loaded, findings, project_dir=project_dir))
            located += 1
        else:
            more_deals += 1
            more_warnings += len(findings)
    return BuildWarnings(tuple(shown), more_deals, more_warnings)
