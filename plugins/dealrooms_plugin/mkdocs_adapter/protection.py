"""Glue between the MkDocs plugin and :mod:`dealrooms_plugin.protect`.

One :class:`Protection` per protected build (never under ``mkdocs serve``),
the engine's sealer (:class:`..build.Sealer`): every deal's password is
resolved and checked before anything is written, keys are derived once (in
parallel, cached outside the repo), and :meth:`Protection.seal` turns a
deal's plain output into its sealed one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File

from .. import passwords
from ..catalog import Catalog
from ..errors import DealroomsError, display_path
from ..keys import DealKey, KeyCache, deal_keys
from ..protect import DEFAULT_COLOR, Brand, UnlockPage, seal_deal

log = get_plugin_logger("dealrooms")
ASSETS = Path(__file__).resolve().parent.parent / "assets"
PROTECT_ASSETS = ("unlock.js", "unlock.css")

# Material's primary colours, so the unlock page matches the theme by default.
MATERIAL_PRIMARY = {
    "red": "#ef5552", "pink": "#e92063", "purple": "#ab47bd", "deep-purple": "#7e56c2", "indigo": "#4051b5",
    "blue": "#2094f3", "light-blue": "#02a6f2", "cyan": "#00bdd6", "teal": "#009485", "green": "#4cae4f",
    "light-green": "#8bc34b", "lime": "#cbdc38", "yellow": "#ffec3d", "amber": "#ffc105", "orange": "#ffa724",
    "deep-orange": "#ff6e42", "brown": "#795649", "grey": "#757575", "blue-grey": "#546d78", "black": "#000000",
}


@dataclass(frozen=True)
class Protection:
    access: dict[str, passwords.Access]  # every valid deal, protected or public
    keys: dict[str, DealKey]  # protected deals only
    unlock: UnlockPage
    brand_file: tuple[str, Path] | None  # (site path, source) of the seller's logo
    signature: str  # brand and template settings, for render cache keys

    @classmethod
    def prepare(cls, options: Any, config: MkDocsConfig, catalog: Catalog) -> "Protection":
        """Resolve and check every deal's password, derive keys; PluginError when any is missing or weak."""
        root = Path(config.config_file_path).parent
        secrets_file = passwords.secrets_path(root, options.secrets_file)
        try:
            secrets_map = passwords.read_secrets(secrets_file)
            access = {slug: passwords.resolve(slug, loaded.deal, secrets_map, secrets_file)
                      for slug, loaded in catalog.deals.items()}
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        exposed = passwords.exposed(secrets_file)
        if exposed:
            log.warning(exposed)
        missing = [(slug, catalog.deals[slug].deal) for slug, a in access.items() if a.protected and a.password is None]
        if missing:
            raise PluginError(passwords.missing_message(missing, secrets_file))
        iterations = int(options.kdf_iterations)
        cache = KeyCache()
        weak, passed = [], []
        for slug, a in access.items():
            if not a.password:
                continue
            words = passwords.deal_words(slug, catalog.deals[slug].deal)
            stamp = passwords.rules(words)
            # zxcvbn costs milliseconds per deal: a password already judged by the same rules is not judged again.
            if cache.passed(slug, a.password, iterations, stamp):
                continue
            why = passwords.weakness(a.password, words)
            if why:
                weak.append((slug, a, why))
            else:
                passed.append((slug, a.password, stamp))
        if weak:
            # The reasons describe a password and never quote it: this goes to the build log and CI output.
            lines = [f"  {slug}: the password from {a.source} is {why}" for slug, a, why in weak]
            raise PluginError(
                f"{len(weak)} deal password(s) refused; nothing was built:\n" + "\n".join(lines)
                + "\nGenerate a strong passphrase with `dealrooms password SLUG --rotate` (stored in the secrets file;"
                " an environment variable set for the deal wins over it, so change or remove that one instead)."
            )
        shared = passwords.shared(access)
        if shared and not options.allow_password_reuse:
            raise PluginError(passwords.reuse_message(shared) + "\nNothing was built.")

        brand_file = None
        logo = None
        if options.brand_logo:
            # As written: the options model checked it like a deal logo (type, content, no link leaving the project).
            source = root / options.brand_logo
            logo = f"assets/dealrooms/brand{source.suffix.lower()}"
            brand_file = (logo, source)
        try:
            brand = Brand(options.brand_name, logo, options.brand_color or _theme_color(config))
            overrides = [Path(config.theme.custom_dir) / "dealrooms"] if config.theme.custom_dir else []
            unlock = UnlockPage(brand, overrides)
            protected = {slug: a.password for slug, a in access.items() if a.password}
            keys = deal_keys(protected, iterations=iterations, cache=cache)  # type: ignore[arg-type]
            for slug, password, stamp in passed:
                cache.mark_passed(slug, password, iterations, stamp)
        except DealroomsError as exc:
            raise PluginError(str(exc)) from None
        logo_stamp = hashlib.sha256(brand_file[1].read_bytes()).hexdigest() if brand_file else ""
        signature = hashlib.sha256(repr((brand, logo_stamp)).encode()).hexdigest()
        return cls(access, keys, unlock, brand_file, signature)

    def seals(self, slug: str) -> bool:
        """Whether the deal is sealed (it has a password), or public (``protect: false`` in its file)."""
        return slug in self.keys

    def fingerprint(self, slug: str) -> str:
        """Part of a deal's render cache key: changes with its key (never the password itself)."""
        key = self.keys.get(slug)
        return f"sealed:{key.fingerprint}:{self.signature}" if key else "public"

    def seal(self, slug: str, files: dict[str, bytes], locale: str) -> dict[str, bytes]:
        """The deal's files sealed with its key (unlock pages in the deal's ``locale``), or as they are when public."""
        key = self.keys.get(slug)
        return seal_deal(files, key, self.unlock, locale=locale) if key else files

    def files(self, config: MkDocsConfig) -> list[File]:
        """Shared assets of every protected deal, once at the site root."""
        out = [File.generated(config, f"assets/dealrooms/{name}", content=(ASSETS / name).read_bytes())
               for name in PROTECT_ASSETS]
        if self.brand_file:
            out.append(File.generated(config, self.brand_file[0], content=self.brand_file[1].read_bytes()))
        return out


def _theme_color(config: MkDocsConfig) -> str:
    palette = config.theme.get("palette") or {}
    if isinstance(palette, list):
        palette = palette[0] if palette else {}
    name = str(palette.get("primary", "indigo")).lower().replace(" ", "-") if isinstance(palette, dict) else "indigo"
    return MATERIAL_PRIMARY.get(name, DEFAULT_COLOR)
