"""The deal file format: a pydantic model, frozen once validated.

Field names are the ones reps write in YAML. ``extra="forbid"`` everywhere,
so a typo is an error with a suggestion instead of a silently ignored key.
The JSON Schema (``dealrooms schema``) is generated from these classes, so
every ``description`` here is also what a rep sees in the editor.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from . import i18n

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OFFSET = re.compile(r"^target\s*([+-])\s*(\d+)\s*(d|w|bd)$")
IDENT = r"^[a-z0-9][a-z0-9_-]*$"
OWNER_SIDES = ("buyer", "seller", "partner")


def parse_date(value: Any) -> dt.date:
    """Accept ``YYYY-MM-DD`` (a string, as the loader keeps dates unparsed)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError(
        "bad_date",
        "bad date {found}; expected a date as YYYY-MM-DD, e.g. 2027-02-15",
        {"found": _found(value)},
    )


@dataclass(frozen=True)
class TargetOffset:
    """A date given relative to the deal's ``target_date`` (``target-6w``)."""

    sign: int
    amount: int
    unit: Literal["d", "w", "bd"]

    def __str__(self) -> str:
        return f"target{'+' if self.sign > 0 else '-'}{self.amount}{self.unit}"


def parse_due(value: Any) -> dt.date | TargetOffset:
    """A due date: ``YYYY-MM-DD`` or an offset from the target date."""
    if isinstance(value, str):
        match = OFFSET.match(value.strip())
        if match:
            sign, amount, unit = match.groups()
            return TargetOffset(1 if sign == "+" else -1, int(amount), unit)  # type: ignore[arg-type]
        if value.strip().startswith("target"):
            raise PydanticCustomError(
                "bad_offset",
                "bad offset {found}; expected target-30d, target-6w, target+2w or target-10bd "
                "(d = days, w = weeks, bd = business days)",
                {"found": _found(value)},
            )
    try:
        return parse_date(value)
    except PydanticCustomError:
        raise PydanticCustomError(
            "bad_due",
            "bad date {found}; expected YYYY-MM-DD or an offset such as target-30d",
            {"found": _found(value)},
        ) from None


def _found(value: Any) -> str:
    if value is None:
        return "nothing (empty value)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


Date = Annotated[
    dt.date,
    BeforeValidator(parse_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE.pattern}),
]
Due = Annotated[
    Union[dt.date, TargetOffset],
    BeforeValidator(parse_due),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(\d{4}-\d{2}-\d{2}|target\s*[+-]\s*\d+\s*(d|w|bd))$",
            "description": "YYYY-MM-DD, or an offset from target_date: target-30d, target-6w, target-10bd",
        }
    ),
]


def parse_deal_locale(value: Any) -> str:
    """A deal's ``locale`` that Dealrooms can write in, normalised (``en-gb`` -> ``en_GB``)."""
    if not isinstance(value, str):
        raise PydanticCustomError("bad_locale", "expected a language code like de or en_GB, found {found}",
                                  {"found": _found(value), "hint": "write the code as text, e.g. locale: de"})
    try:
        return str(i18n.parse_locale(value))
    except i18n.UnsupportedLocale as exc:
        raise PydanticCustomError("bad_locale", "{message}", {"message": exc.message, "hint": exc.hint}) from None


Locale = Annotated[
    str,
    BeforeValidator(parse_deal_locale),
    WithJsonSchema({"type": "string", "pattern": r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$", "examples": ["en", "en_GB", "de", "vi"]}),
]
Ident = Annotated[str, Field(pattern=IDENT, min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1)]


def owner_list(value: Any) -> Any:
    """``ilse`` -> ``("ilse",)``; a list stays a list (each id checked like one owner, repeats dropped)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        if not value:
            raise PydanticCustomError("no_owner", "expected at least one owner, found an empty list")
        return tuple(dict.fromkeys(value)) if all(isinstance(v, str) for v in value) else value
    return value


OwnerIds = Annotated[
    tuple[Ident, ...],
    BeforeValidator(owner_list),
    WithJsonSchema({
        "anyOf": [{"type": "string", "pattern": IDENT},
                  {"type": "array", "items": {"type": "string", "pattern": IDENT}, "minItems": 1}],
    }),
]
# A link shown to buyers: web addresses only (never javascript:, data: or file:).
WebLink = Annotated[str, Field(pattern=r"^https?://[^\s<>\"']+$", max_length=2000)]
Side = Literal["buyer", "seller", "partner"]
Status = Literal["not_started", "in_progress", "done", "blocked"]


class Model(BaseModel):
    # allow_inf_nan: `.inf`, `.nan` and 1.0e+999 are YAML floats but no amount or goal a rep means.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


class Party(Model):
    """A company on one side of the deal."""

    name: Text = Field(description="Company name, shown in the deal room's header.")
    logo: str | None = Field(None, description="Logo file (SVG or PNG), relative to the deal YAML.")


class DealInfo(Model):
    title: Text = Field(description="What the deal is, e.g. 'Kestrel Freight × Orbisoft — route planning rollout'.")
    buyer: Party
    seller: Party
    stage: str | None = Field(None, description="Sales stage, free text in snake_case (e.g. evaluation).")
    target_date: Date = Field(description="The buyer's desired outcome date (go-live, signature).")
    summary: str = Field("", description="Markdown: the outcome and why, in the buyer's words.")
    locale: Locale = Field(
        "en", description="Language of the deal room and its formats of dates, money and numbers, e.g. en, en_GB, de, fr, es, vi, th, ro.",
    )


class Person(Model):
    id: Ident = Field(description="Short id used as a milestone owner, e.g. ilse.")
    name: Text
    side: Side = Field(description="buyer, seller or partner (implementation partner, reseller).")
    title: str | None = Field(None, description="Job title, e.g. VP Operations.")
    company: str | None = Field(None, description="Company, for partners (defaults to the buyer's or seller's name).")
    role: str | None = Field(None, description="Role in the deal, snake_case: champion, economic_buyer, ...")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None


class Deliverable(Model):
    """What a step produces: a document, a decision, a signed form."""

    text: Text = Field(description="What is delivered, e.g. 'Signed DPA' or 'Security questionnaire (completed)'.")
    link: WebLink | None = Field(None, description="Where to find it (https://...), optional.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


DELIVERABLE_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}, "link": {"type": "string"}},
         "required": ["text"], "additionalProperties": False},
    ],
    "description": "What the step produces: text, or {text: ..., link: https://...}.",
}


class Milestone(Model):
    id: Ident
    title: Text
    owner: OwnerIds = Field(
        description="Who is responsible: a person id or a side (buyer, seller, partner), or a list of them for a "
        "step owned jointly, e.g. [ilse, dov].",
    )
    due: Due
    status: Status = "not_started"
    done_on: Date | None = Field(None, description="When a done milestone was completed.")
    notes: str = Field("", description="Markdown.")
    after: tuple[Ident, ...] = Field((), description="Milestone ids that must be done before this one starts.")
    goals: tuple[Ident, ...] = Field((), description="Goal ids this milestone leads to.")
    deliverable: Annotated[Deliverable | None, WithJsonSchema(DELIVERABLE_SCHEMA)] = Field(
        None, description="What the step produces (text, or {text, link}); shown on the plan and the next steps.",
    )


class Goal(Model):
    id: Ident
    metric: Text = Field(description="What is measured, e.g. Manual planning hours per month.")
    baseline: float | None = Field(None, description="Where the buyer is today.")
    target: float = Field(description="Where the buyer wants to be.")
    unit: str | None = Field(None, description="Unit of the numbers: hours, %, days, or a currency code (EUR) for money.")
    by: Date | None = Field(None, description="When the target should be reached.")
    current: float | None = Field(None, description="Where the buyer is now (updated as the project goes), optional.")
    measured_on: Date | None = Field(None, description="When `current` was measured.")
    value_per_year: Decimal | None = Field(
        None, ge=0, description="Money per year reaching the target is worth to the buyer, in the proposal's currency (optional).",
    )


class LineItem(Model):
    name: Text
    quantity: Decimal = Field(Decimal(1), ge=0)
    unit_price: Decimal = Field(ge=0)
    unit: str | None = Field(None, description="e.g. seat, user/year, day.")
    description: str | None = None
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100)


class Proposal(Model):
    valid_until: Date | None = Field(None, description="Last day the offer's conditions are guaranteed.")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field("EUR", description="ISO 4217 code.")
    items: tuple[LineItem, ...] = ()
    terms: str = Field("", description="Markdown.")


class Meeting(Model):
    date: Date
    time: str | None = Field(None, pattern=r"^\d{1,2}:\d{2}$", description="HH:MM, local time.")
    title: Text
    location: str | None = Field(None, description="Room, address or video-call link.")
    agenda: str = Field("", description="Markdown.")
    expected_outcome: str = Field("", description="Markdown: what the meeting is for, the decision it should reach.")
    prepare: str = Field("", description="Markdown: what to do or send before the meeting.")
    decisions: str = Field("", description="Markdown, after the meeting: what was decided.")
    notes: str = Field("", description="Markdown, after the meeting: anything else worth keeping.")


class Agreement(Model):
    """The buyer's agreement to the plan: who agreed, and when."""

    by: Ident = Field(description="A buyer-side person id.")
    on: Date = Field(description="The day the plan was agreed.")


class Access(Model):
    """Who can open the deal room: ``public``, or the password's environment variable."""

    public: bool = Field(False, description="true: publish without a password (same as access: public).")
    password_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding this deal's password (after DEALROOMS_PASSWORD_<SLUG> and the secrets file).",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip() == "public":
                return {"public": True}
            raise PydanticCustomError("bad_access", "expected 'public', or a mapping with password_env: NAME")
        return value


ACCESS_SCHEMA = {
    "anyOf": [
        {"const": "public"},
        {
            "type": "object",
            "properties": {
                "password_env": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                "public": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        {"type": "null"},
    ],
    "description": "Omit for a password-protected deal room (the default). 'public' publishes it without a "
    "password; {password_env: NAME} reads its password from that environment variable.",
}


class Deal(Model):
    """One deal file."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"title": "Dealrooms deal file"},
    )

    extends: str | None = Field(None, description="Template name in <deals_dir>/_templates/.")
    deal: DealInfo
    people: tuple[Person, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    goals: tuple[Goal, ...] = ()
    proposal: Proposal | None = None
    meetings: tuple[Meeting, ...] = ()
    agreed: Agreement | None = Field(None, description="Who on the buyer's side agreed the plan, and when: {by: ilse, on: 2026-11-10}.")
    access: Annotated[Access | None, WithJsonSchema(ACCESS_SCHEMA)] = Field(
        None, description="Omit to protect the deal room with its own password; 'public' to publish it openly.",
    )

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a deal file, for editors (YAML language server)."""
    schema = Deal.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
