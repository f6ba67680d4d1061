"""Helpers for protected builds in tests: a project copy, passwords, secrets to look for,
and an independent decryption of sealed items (``cryptography`` only, from the stored
parameters; it does not use dealrooms_plugin.protect)."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import struct
import zlib
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from buildutil import build_site, set_plugin_options

ROOT = Path(__file__).resolve().parent.parent
BRAND_LOGO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 136 40" width="136" height="40">
<rect x="0" y="6" width="28" height="28" rx="8" fill="#1f3a93"/><circle cx="14" cy="20" r="6" fill="#fff"/>
<text x="38" y="28" font-family="system-ui, sans-serif" font-size="22" font-weight="700" fill="#1f3a93">Orbisoft</text>
</svg>
"""


def copy_project(dest: Path, *, protect: bool = True, brand: bool = True) -> Path:
    """The example project in ``dest`` (mkdocs.yml, dealrooms/, theme_overrides/)."""
    for name in ("dealrooms", "theme_overrides"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    options: dict[str, object] = {"protect": protect}
    if brand:
        (dest / "branding").mkdir()
        (dest / "branding" / "orbisoft.svg").write_text(BRAND_LOGO, encoding="utf-8")
        options.update(brand_name="Orbisoft", brand_logo="branding/orbisoft.svg", brand_color="#1f3a93")
    set_plugin_options(dest, **options)
    return dest


def slugs(project: Path) -> list[str]:
    return sorted(p.stem for p in (project / "dealrooms").glob("*.y*ml") if not p.name.startswith(("_", ".")))


def password_for(slug: str) -> str:
    return f"unlock-{slug}-7319-Zq"


def env_name(slug: str) -> str:
    return "DEALROOMS_PASSWORD_" + slug.upper().replace("-", "_")


def set_passwords(mp, project: Path, cache: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Passwords for every deal of the project through the environment; keys cached in ``cache``."""
    passwords = {slug: password_for(slug) for slug in slugs(project)}
    for slug, password in passwords.items():
        mp.setenv(env_name(slug), password)
    mp.setenv("DEALROOMS_CACHE_DIR", str(cache))
    return passwords


def build_protected_examples(mp, base: Path) -> tuple[Path, Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The examples copied to ``base/project`` and built protected on 2026-11-22, every
    password from the environment: (project, site, passwords). ``mp`` stays chdir'd there."""
    project = copy_project(base / "project")
    mp.setenv("DEALROOMS_TODAY", "2026-11-22")
    mp.chdir(project)
    passwords = set_passwords(mp, project, base / "cache")
    return project, build_site(project), passwords


def sensitive_strings(project: Path) -> dict[str, set[str]]:
    """Per deal: buyer name, deal title, people's names and e-mails, milestone titles,
    goal metrics and every price as the plain build formats it."""
    from dealrooms_plugin.load import load_deals
    from dealrooms_plugin.render import _money
    from dealrooms_plugin.today import today
    from dealrooms_plugin.view import proposal_view

    result = load_deals(project / "dealrooms")
    assert not result.problems, result.problems
    out: dict[str, set[str]] = {}
    for slug, loaded in result.deals.items():
        deal = loaded.deal
        found = {deal.deal.buyer.name, deal.deal.title}
        for person in deal.people:
            found.add(person.name)
            if person.email:
                found.add(person.email)
        found.update(m.title for m in deal.milestones)
        found.update(g.metric for g in deal.goals)
        proposal = proposal_view(deal, today())
        if proposal is not None:
            for line in proposal.lines:
                found.add(line.item.name)
                found.add(_money(line.item.unit_price, proposal.currency, deal.deal.locale))
                found.add(_money(line.total, proposal.currency, deal.deal.locale))
            found.add(_money(proposal.total, proposal.currency, deal.deal.locale))
        out[slug] = {s for s in found if s}
    return out


def every_byte(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by relative path; gzip files also unpacked."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            rel = path.relative_to(folder).as_posix()
            out[rel] = data
            if path.suffix == ".gz":
                out[rel + "!unpacked"] = gzip.decompress(data)
    return out


# --- independent decryption -----------------------------------------------------

LOCK = re.compile(rb'<script type="application/json" id="dr-lock-params">(.*?)</script>', re.S)


def lock_of(page: bytes) -> dict:
    match = LOCK.search(page)
    assert match, "no lock parameters in the page"
    return json.loads(match.group(1))


def derive(password: str, lock: dict) -> bytes:
    assert lock["kdf"] == "PBKDF2-HMAC-SHA256" and lock["cipher"] == "AES-256-GCM"
    kdf = PBKDF2HMAC(hashes.SHA256(), 32, base64.b64decode(lock["salt"]), lock["iterations"])
    return kdf.derive(password.strip().encode("utf-8"))


def open_item(key: bytes, path: str, blob: bytes, version: int = 1) -> bytes:
    """nonce | AES-GCM(flag | u32 length | body | padding), associated data 'dealrooms:v1:<path>'."""
    plain = AESGCM(key).decrypt(blob[:12], blob[12:], f"dealrooms:v{version}:{path}".encode())
    flag, length = struct.unpack(">BI", plain[:5])
    body = plain[5 : 5 + length]
    assert not any(plain[5 + length :]), "padding must be zeros"
    return zlib.decompress(body) if flag == 1 else body


def open_page(password: str, page: bytes) -> tuple[dict, dict]:
    """(lock parameters, decrypted payload {"html", "files"}) of a sealed page."""
    lock = lock_of(page)
    key = derive(password, lock)
    payload = json.loads(open_item(key, lock["path"], base64.b64decode(lock["data"]), lock["v"]))
    return lock, payload
