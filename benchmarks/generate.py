"""Seeded synthetic deals: 25 milestones in `after` chains, 10 people on three
sides, 5 goals and a 6-item proposal each, like a large real deal."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import yaml

INDUSTRIES = ["Freight", "Health", "Foods", "Energy", "Retail", "Logistics", "Pharma", "Insurance", "Media", "Telecom"]
WORDS = ["Aster", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper", "Kite", "Lumen",
         "Maple", "Nimbus", "Onyx", "Pine", "Quartz", "Raven", "Sable", "Tidal", "Umber", "Vale", "Willow", "Zephyr"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jae", "Kira", "Luca", "Mei", "Nils", "Omar"]
LAST = ["Berg", "Costa", "Dahl", "Engel", "Fox", "Gray", "Holm", "Ito", "Jain", "Kerr", "Lund", "Moreau", "Novak"]
STEPS = ["Discovery workshop", "Success criteria", "Security review", "Pilot scope", "Pilot kickoff", "Data export",
         "Integration design", "DPIA approved", "Pilot results", "Business case", "Budget approval", "Legal review",
         "Procurement onboarding", "Contract signed", "Kick-off", "Training plan", "Admin training", "Data migration",
         "UAT", "Go/no-go", "Cut-over", "Hypercare", "First QBR", "Rollout wave 2", "Go-live"]


def deal_document(index: int, seed: int = 7, today: dt.date = dt.date(2026, 11, 22)) -> dict:
    rng = random.Random(seed * 100_003 + index)
    buyer = f"{rng.choice(WORDS)} {rng.choice(INDUSTRIES)} {index}"
    seller = f"{rng.choice(WORDS)}soft"
    target = today + dt.timedelta(days=rng.randint(60, 240))
    sides = ["buyer"] * 5 + ["seller"] * 3 + ["partner"] * 2
    people = []
    for i, side in enumerate(sides):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        person = {"id": f"p{i}", "name": name, "side": side, "title": rng.choice(["VP Operations", "CFO", "Account Executive", "Architect", "Delivery Manager"]),
                  "role": rng.choice(["champion", "economic_buyer", "technical_evaluator", "implementation_partner"]),
                  "email": f"{name.split()[0].lower()}.{i}@{side}{index}.example"}
        if side == "partner":
            person["company"] = f"{rng.choice(WORDS)} Consulting"
        people.append(person)
    milestones = []
    start = today - dt.timedelta(days=rng.randint(30, 90))
    span = (target - start).days
    for i, title in enumerate(STEPS):
        due = start + dt.timedelta(days=round(span * (i + 1) / len(STEPS)))
        m = {"id": f"m{i}", "title": f"{title} ({buyer})", "owner": rng.choice([p["id"] for p in people] + ["buyer", "seller"]),
             "due": due.isoformat()}
        if i:
            m["after"] = [f"m{i - 1}"] + ([f"m{i - 2}"] if i > 1 and rng.random() < 0.3 else [])
        if due < today - dt.timedelta(days=7):
            m["status"] = "done"
            m["done_on"] = (due + dt.timedelta(days=rng.randint(-2, 6))).isoformat()
        elif due < today:
            m["status"] = rng.choice(["in_progress", "blocked", "done"])
            if m["status"] == "done":
                m["done_on"] = due.isoformat()
        milestones.append(m)
    goals = [{"id": f"g{i}", "metric": f"Metric {i} of {buyer}", "baseline": rng.randint(50, 500), "target": rng.randint(10, 900),
              "unit": "hours", "by": (target + dt.timedelta(days=90)).isoformat()} for i in range(5)]
    proposal = {"valid_until": (today + dt.timedelta(days=rng.randint(-20, 60))).isoformat(), "currency": "EUR",
                "items": [{"name": f"Item {i} for {buyer}", "quantity": rng.randint(1, 50), "unit_price": rng.randint(100, 20000)} for i in range(6)]}
    return {"deal": {"title": f"{buyer} × {seller} — rollout", "buyer": {"name": buyer}, "seller": {"name": seller},
                     "stage": rng.choice(["evaluation", "proposal", "negotiation"]), "target_date": target.isoformat(),
                     "summary": f"Why {buyer} is doing this."},
            "people": people, "milestones": milestones, "goals": goals, "proposal": proposal}


def slug(index: int) -> str:
    return f"deal-{index:04d}"


def deal_yaml(document: dict, nonce: str = "") -> str:
    """The deal file's text; ``nonce`` adds a comment line (same content, new input digest)."""
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return f"# run {nonce}\n{text}" if nonce else text


def write_deals(folder: Path, count: int, seed: int = 7, nonce: str = "") -> list[Path]:
    """Write ``count`` deals as deal-0000.yml ... into ``folder``.

    A ``nonce`` comment changes every file's bytes (so any render cache keyed
    by input digest misses) without changing what is rendered.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{slug(i)}.yml"
        path.write_text(deal_yaml(deal_document(i, seed), nonce), encoding="utf-8")
        paths.append(path)
    return paths


def password(index: int, seed: int = 7) -> str:
    """A seeded, strong-enough benchmark password for deal ``index`` (never a real secret)."""
    rng = random.Random(f"password:{seed}:{index}")
    words = [w.lower() for w in rng.sample(WORDS, 4)]
    return "-".join(words + [str(rng.randint(100, 999))])


def password_env(count: int, seed: int = 7) -> dict[str, str]:
    """``DEALROOMS_PASSWORD_<SLUG>`` for every generated deal."""
    return {f"DEALROOMS_PASSWORD_{slug(i).upper().replace('-', '_')}": password(i, seed) for i in range(count)}
