"""Who owns a milestone: one resolution for pages, status, reminders and calendars.

A milestone's ``owner`` is a person id or a whole side (``buyer``, ``seller``,
``partner``), or several of them for a step owned jointly. Every output that
names the owner resolves it here, so the deal page, ``dealrooms status``, the
reminders and ``calendar.ics`` show the same name: the person's name, or the
company on that side (for ``partner``, the company the deal's partner people
work for); a joint owner is its members' names joined ("Ilse V. & Dov K.").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, cast

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
    person: Person | None  # None when a whole side (or several owners) own the milestone
    # Each owner of a step owned jointly, in the order written; empty for a single owner.
    joint: tuple["Owner", ...] = ()

    @property
    def members(self) -> tuple["Owner", ...]:
        """The single owners behind this one: itself, or each joint owner."""
        return self.joint or (self,)

    @property
    def sides(self) -> tuple[Side, ...]:
        """Every side with a share in the step (a mutual step has two), in the order written."""
        return tuple(dict.fromkeys(member.side for member in self.members))

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
        person, ``Nordlicht Consulting (partner)`` for a whole side, both
        joined with ``" and "`` for a joint owner.
        """
        if self.joint:
            return " and ".join(member.description for member in self.joint)
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


def resolve_owner(deal: Deal, owner: str | Sequence[str]) -> Owner:
    """Resolve a milestone's owner: a person id, ``buyer``, ``seller`` or ``partner``, or several (joint owners).

    Raises :class:`DealroomsError` for an id that is neither; the loader
    reports those with file and line, so only a deal built in code gets here.
    """
    ids = (owner,) if isinstance(owner, str) else tuple(dict.fromkeys(owner))
    if not ids:
        raise DealroomsError("a milestone needs at least one owner")
    if len(ids) == 1:
        return _resolve_one(deal, ids[0])
    members = tuple(_resolve_one(deal, ident) for ident in ids)
    return Owner(
        id="+".join(ids),
        name=" & ".join(member.name for member in members),
        side=members[0].side,
        company=" & ".join(dict.fromkeys(member.company for member in members)),
        title=None,
        emails=tuple(dict.fromkeys(email for member in members for email in member.emails)),
        person=None,
        joint=members,
    )


def _resolve_one(deal: Deal, owner_id: str) -> Owner:
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
    """Resolve several owner ids each on its own, in the order given."""
    return tuple(_resolve_one(deal, ident) for ident in owner_ids)
