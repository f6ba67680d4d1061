"""Who owns a milestone: one resolution for pages, status, reminders and calendars.

A milestone's ``owner`` is a person id or a whole side (``buyer``, ``seller``,
``partner``). Every output that names the owner resolves it here, so the deal
page, ``dealrooms status``, the reminders and ``calendar.ics`` show the same
name: the person's name, or the company on that side (for ``partner``, the
company the deal's partner people work for).

:func:`resolve_owner` takes one id and :func:`resolve_owners` many, so a
milestone with several owners needs no second resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, cast

from .errors import DealroomsError
from .model import OWNER_SIDES, Deal, Person, Side

# The partner side's name when no partner person names a company.
PARTNERS = "Partners"


@dataclass(frozen=True)
class Owner:
    """A resolved milestone owner, with what a page, a table or a follow-up e-mail needs."""

    id: str  # as written in the deal file: a person id, or buyer, seller or partner
    name: str  # the person's name, or the company for a whole side
    side: Side
    company: str  # the person's company (default: their side's), or the side's company
    title: str | None  # the person's job title; None for a whole side
    emails: tuple[str, ...]  # the person's e-mail; for a side, everyone on that side with one
    person: Person | None  # None when the whole side owns the milestone

    @property
    def label(self) -> str:
        """The owner in one line among other facts (a page row, a table cell): the name."""
        return self.name

    @property
    def side_label(self) -> str:
        """The company, under the name the page templates use."""
        return self.company

    @property
    def description(self) -> str:
        """The owner standing on its own, for reminders and calendar events.

        ``Marta Kowalczyk (Head of IT Security, Kestrel Freight; buyer)`` for a
        person, ``Nordlicht Consulting (partner)`` for a whole side.
        """
        if self.person is None:
            return f"{self.name} ({self.side})"
        detail = ", ".join(x for x in (self.title, self.company) if x)
        return f"{self.name} ({detail}; {self.side})"


def side_company(deal: Deal, side: str) -> str:
    """The company on one side of the deal.

    The partner side has no company of its own in the deal file: it is the
    companies its people name (``A & B`` for two), else :data:`PARTNERS`.
    """
    if side == "buyer":
        return deal.deal.buyer.name
    if side == "seller":
        return deal.deal.seller.name
    partners = sorted({p.company for p in deal.people if p.side == "partner" and p.company})
    return " & ".join(partners) or PARTNERS


def resolve_owner(deal: Deal, owner_id: str) -> Owner:
    """Resolve one owner id: a person id, or ``buyer``, ``seller`` or ``partner``.

    Raises :class:`DealroomsError` for an id that is neither; the loader
    reports those with file and line, so only a deal built in code gets here.
    """
    person = deal.person(owner_id)
    if person is not None:
        return Owner(
            id=owner_id,
            name=person.name,
            side=person.side,
            company=person.company or side_company(deal, person.side),
            title=person.title,
            emails=(person.email,) if person.email else (),
            person=person,
        )
    if owner_id not in OWNER_SIDES:
        raise DealroomsError(f"unknown owner {owner_id!r}; expected a person id or one of {', '.join(OWNER_SIDES)}")
    company = side_company(deal, owner_id)
    # A step owned by a whole side: the follow-up goes to everyone on that side we can write to.
    emails = tuple(p.email for p in deal.people if p.side == owner_id and p.email)
    return Owner(owner_id, company, cast(Side, owner_id), company, None, emails, None)


def resolve_owners(deal: Deal, owner_ids: Iterable[str]) -> tuple[Owner, ...]:
    """Resolve several owner ids, in the order given (for milestones with more than one owner)."""
    return tuple(resolve_owner(deal, ident) for ident in owner_ids)
