"""Wrap a deal's page bodies in Material's page shell, one sealed microsite per deal.

Each deal gets its own tiny MkDocs navigation (its five pages only), its own
sitemap, and a ``base_url`` pointing at the deal's folder, so Material's
instant loading and local storage never reach beyond the deal. Rendering a
deal costs the same whatever the number of deals: no page renders a
navigation of other deals.

A deal has no search index: its header has no search box (see
``templates/shell/partials/header.html``), so Material never asks for one.

Every page starts its ``<head>`` with the Content-Security-Policy of
:mod:`..csp`. The hashes of its inline scripts are taken from the shell
rendered around a placeholder body, then the body goes in: a script that
came from deal text is never hashed, so it could not run even if it got
past the Markdown sanitiser.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import jinja2
import material
from markupsafe import escape
from mkdocs.commands.build import get_context
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from .. import csp
from ..build import Chrome
from ..i18n import template_callables
from ..render import Dedent, RenderedPage

SHELL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "shell"
MATERIAL_TEMPLATES = Path(material.__file__).resolve().parent / "templates"
SHELL = "dealroom.html"
# Stands for the page body while the shell's inline scripts are hashed. A
# comment: deal text cannot produce one (the sanitiser strips comments,
# plain text is escaped), and it is replaced before anything is written.
_BODY = "<!--dealrooms:page-body-->"
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.I)


__all__ = ["Chrome", "MaterialShell", "install_shell", "render_root_page", "render_shell", "with_policy"]


class MaterialShell:
    """The engine's page shell (:class:`..build.PageShell`) for MkDocs with Material.

    ``signature`` names what shapes the shell besides the templates: the
    site's settings in ``mkdocs.yml`` and whether pages are previews. It goes
    into every deal's render key, so changing the palette or ``site_url``
    renders the deals again.
    """

    def __init__(self, env: jinja2.Environment, config: MkDocsConfig, *, preview: bool = False):
        self.env = env
        self.config = config
        self.preview = preview
        settings = {
            "site_url": config.site_url, "use_directory_urls": config.use_directory_urls,
            "theme": dict(config.theme.items()), "extra": config.extra, "copyright": config.copyright,
            "extra_css": config.extra_css, "extra_javascript": [str(s) for s in config.extra_javascript],
            "repo_url": config.repo_url, "repo_name": config.repo_name, "preview": preview,
        }
        self.signature = json.dumps(settings, sort_keys=True, default=str)

        # Rendered shells around stand-in texts, by everything else that shapes them (see _shape);
        # None: this shape did not survive the check and renders in full.
        self._frames: dict[tuple[object, ...], _Frames | None] = {}

    def __call__(self, chrome: Chrome, bodies: list[RenderedPage]) -> dict[str, bytes]:
        """The deal's pages: from a frame of its shape when one is known good, else rendered in full.

        Material renders the same shell for every deal of one language but
        for the deal's texts (buyer, seller, slug, dates), which it only
        prints: rendering it once around stand-ins and putting each deal's
        escaped texts in their place saves about 6 ms of a deal's 27. A
        shape's frame is trusted only after it gave, for the first deal of
        that shape, exactly the bytes of a full render (a theme that
        transformed a text, say shortened the buyer's name, keeps rendering
        in full).
        """
        shape = _shape(chrome, bodies, self.preview)
        if shape not in self._frames:
            full = render_shell(self.env, self.config, chrome, bodies, preview=self.preview)
            frames = _Frames.render(self.env, self.config, chrome, bodies)
            self._frames[shape] = frames if frames.fill(chrome, bodies, self.preview) == full else None
            return full
        frames = self._frames[shape]
        if frames is None:
            return render_shell(self.env, self.config, chrome, bodies, preview=self.preview)
        return frames.fill(chrome, bodies, self.preview)


# Stand-ins for a deal's texts in a frame: letters only, so URLs, escaping and the
# translated footer keep them as they are; never produced by a real deal's shell.
_STAND_INS = {
    "slug": "drxqslugqxrd",
    "site_name": "DRXQBUYERQXRD",
    "seller": "DRXQSELLERQXRD",
    "generated_on": "DRXQBUILTQXRD",
    "generated_on_text": "DRXQBUILTTEXTQXRD",
    "plan_last_changed": "DRXQCHANGEDQXRD",
    "plan_last_changed_text": "DRXQCHANGEDTEXTQXRD",
}
_STAND_IN = re.compile("|".join(_STAND_INS.values()))


def _shape(chrome: Chrome, bodies: list[RenderedPage], preview: bool) -> tuple[object, ...]:
    """What shapes a deal's shell besides its stand-in texts: one frame per shape."""
    texts = tuple(bool(getattr(chrome, name)) for name in _STAND_INS)  # `x or y` and `if x` in templates
    return (chrome.locale, chrome.logo_file, texts, tuple((b.spec, b.title) for b in bodies), preview)


@dataclasses.dataclass(frozen=True)
class _Frames:
    """A deal's pages and sitemap rendered around stand-ins, without page bodies or policy."""

    pages: tuple[tuple[str, str], ...]  # (path inside the deal, shell with _BODY)
    sitemap: str

    @classmethod
    def render(cls, env: jinja2.Environment, config: MkDocsConfig, chrome: Chrome, bodies: list[RenderedPage]) -> _Frames:
        stand_in = dataclasses.replace(chrome, **{
            name: _STAND_INS[name] if getattr(chrome, name) else getattr(chrome, name) for name in _STAND_INS
        })
        deal_config, pages = _deal_pages(config, stand_in, bodies)
        shells = _render_shells(env, deal_config, stand_in, pages, f"{stand_in.slug}/")
        return cls(tuple((_inside(page.file.dest_uri, stand_in.slug), shell) for page, shell in zip(pages, shells)),
                   _sitemap(config, pages))

    def fill(self, chrome: Chrome, bodies: list[RenderedPage], preview: bool) -> dict[str, bytes]:
        """The deal's files: its escaped texts in place of the stand-ins, then policy and body."""
        escaped = escaped_chrome(chrome)
        values = {_STAND_INS[name]: str(getattr(escaped, name)) for name in _STAND_INS}

        def put(text: str) -> str:
            return _STAND_IN.sub(lambda m: values[m.group(0)], text)

        out = {path: _finish(put(shell), body.html, preview) for (path, shell), body in zip(self.pages, bodies)}
        out["sitemap.xml"] = put(self.sitemap).encode("utf-8")
        return out


def material_language(locale: str) -> str:
    """Material's interface language for a deal's locale: ``pt_BR`` -> ``pt-BR``, ``de_AT`` -> ``de``, else ``en``."""
    parts = str(locale).replace("-", "_").split("_")
    for candidate in (f"{parts[0]}-{parts[-1]}", parts[0]):
        if (MATERIAL_TEMPLATES / "partials" / "languages" / f"{candidate}.html").is_file():
            return candidate
    return "en"


def deal_theme(config: MkDocsConfig, locale: str) -> object:
    """The site's theme settings with Material's language set to the deal's.

    Each deal is its own small site, so Material's own words ("Skip to
    content", the header's buttons) and ``<html lang>`` follow the deal's
    locale. Templates read ``config.theme.language`` and the theme's other
    keys by name, so a mapping with the one key replaced serves them; the
    shared Theme object is never changed.
    """
    language = material_language(locale)
    if "language" not in config.theme or config.theme["language"] == language:
        return config.theme  # a theme without Material's languages: nothing to set
    return {**dict(config.theme.items()), "language": language}


def install_shell(env: jinja2.Environment, config: MkDocsConfig) -> None:
    """Let the theme environment find the shell templates, after ``custom_dir``, and compile them dedented.

    ``theme_overrides/dealroom.html`` or ``theme_overrides/partials/logo.html``
    therefore still win over the packaged ones.
    """
    loader = env.loader
    if isinstance(loader, jinja2.FileSystemLoader) and str(SHELL_TEMPLATES) not in loader.searchpath:
        position = 1 if config.theme.custom_dir else 0
        loader.searchpath.insert(position, str(SHELL_TEMPLATES))
    env.add_extension(Dedent)  # Material's indentation was 2.7 kB of every page


def render_shell(
    env: jinja2.Environment,
    config: MkDocsConfig,
    chrome: Chrome,
    bodies: list[RenderedPage],
    *,
    preview: bool = False,
) -> dict[str, bytes]:
    """The deal's pages and sitemap, as ``{path inside the deal: bytes}``.

    ``preview``: pages served by ``mkdocs serve``, whose live-reload script
    MkDocs injects inline (see :func:`_with_policy`).
    """
    deal_config, pages = _deal_pages(config, chrome, bodies)
    shells = _render_shells(env, deal_config, chrome, pages, f"{chrome.slug}/")
    out = {
        _inside(page.file.dest_uri, chrome.slug): _finish(shell, body.html, preview)
        for page, body, shell in zip(pages, bodies, shells)
    }
    out["sitemap.xml"] = _sitemap(config, pages).encode("utf-8")
    return out


def _deal_pages(config: MkDocsConfig, chrome: Chrome, bodies: list[RenderedPage]) -> tuple[MkDocsConfig, list[Page]]:
    """The deal's own config (site name, theme language) and its pages, one small site."""
    deal_config = copy.copy(config)  # shallow: only the site name and the theme's language differ per deal
    # Markup: printed raw by most of Material's templates, and not escaped again where one adds `| e`.
    deal_config["site_name"] = escape(chrome.site_name)
    deal_config["theme"] = deal_theme(config, chrome.locale)
    pages: list[Page] = []
    for body in bodies:
        src = f"{chrome.slug}/{'index' if not body.spec.path else body.spec.name}.md"
        page = Page(body.title, File.generated(deal_config, src, content=""), deal_config)
        page.markdown = ""
        page.meta = {"hide": ["toc"]} if len(bodies) > 1 else {"hide": ["toc", "navigation"]}
        pages.append(page)
    return deal_config, pages


def render_root_page(env: jinja2.Environment, config: MkDocsConfig, title: str, body: str) -> bytes:
    """One page at the site root in the same shell (the rep's index under serve)."""
    chrome = Chrome(slug="", site_name=config.site_name, seller="Dealrooms", logo_file=None, generated_on="preview")
    page = Page(title, File.generated(config, "index.md", content=""), config)
    page.markdown, page.meta = "", {"hide": ["toc", "navigation"]}
    return _finish(_render_shells(env, config, chrome, [page], "")[0], body, preview=True)


def _render_shells(env: jinja2.Environment, config: MkDocsConfig, chrome: Chrome, pages: list[Page], root: str) -> list[str]:
    """The shells of pages that form one small site of their own rooted at ``root``, each around :data:`_BODY`."""
    template = env.get_template(SHELL)
    escaped = escaped_chrome(chrome)
    for previous, following in zip(pages, pages[1:]):
        previous.next_page, following.previous_page = following, previous
    nav = Navigation(pages, pages)  # type: ignore[arg-type]
    nav.homepage = pages[0]
    files = Files([page.file for page in pages])
    out = []
    for page in pages:
        page.active = True
        page.content = _BODY
        context = get_context(nav, files, config, page)
        base = get_relative_url(root or ".", page.url) if root else get_relative_url(".", page.url)
        context["base_url"] = base  # type: ignore[typeddict-unknown-key]
        context["dealroom"] = escaped  # type: ignore[typeddict-unknown-key]
        context["dealroom_root"] = base if base.endswith("/") else base + "/"  # type: ignore[typeddict-unknown-key]
        context.update(template_callables(chrome.locale))  # type: ignore[typeddict-item]  # `_()` in the shell
        out.append(template.render(context))
        page.active = False
    return out


def _finish(shell: str, body: str, preview: bool) -> bytes:
    """A finished page: the policy from the shell's own scripts, then the body in place of :data:`_BODY`."""
    return with_policy(shell, preview=preview).replace(_BODY, body or "").encode("utf-8")


def escaped_chrome(chrome: Chrome) -> Chrome:
    """``chrome`` with every text escaped once, as markup: deal text is safe in any shell template.

    MkDocs' theme environment does not autoescape (Material's templates print
    page HTML as it is), and the shell's inline scripts are hashed from the
    rendered shell: an unescaped name there would be markup, and a script in
    it would even be allowed. Escaped values print as text with or without
    autoescaping (``Markup`` is never escaped twice).
    """
    return dataclasses.replace(chrome, **{
        f.name: escape(value) for f in dataclasses.fields(chrome)
        if isinstance(value := getattr(chrome, f.name), str)
    })


def with_policy(shell: str, *, preview: bool = False) -> str:
    """A page with its CSP first in ``<head>``, allowing exactly the page's own inline scripts.

    Only for HTML that holds no deal text (a shell around a placeholder body,
    the site's public root pages): every inline script in it gets hashed.

    Under ``mkdocs serve`` (``preview``), MkDocs appends an inline live-reload
    script whose text changes with every request, so it cannot be hashed: the
    preview policy allows inline scripts instead (a hash would switch that
    off). Only the rep's own browser on localhost sees preview pages; built
    sites always get the hashed policy.
    """
    match = _HEAD.search(shell)
    if not match:
        raise PluginError(
            f"the page shell {SHELL} renders no <head>; Dealrooms puts the page's Content-Security-Policy "
            "first in <head>. Check theme_overrides/dealroom.html (it must extend main.html)."
        )
    meta = csp.preview_meta() if preview else csp.meta(csp.inline_script_hashes(shell))
    return f"{shell[:match.end()]}{meta}{shell[match.end():]}"


def _inside(uri: str, slug: str) -> str:
    """``kestrel-freight/plan/`` -> ``plan/``: a path inside the deal."""
    prefix = f"{slug}/"
    return uri[len(prefix):] if uri.startswith(prefix) else uri


def _sitemap(config: MkDocsConfig, pages: list[Page]) -> str:
    base = (config.site_url or "").rstrip("/") + "/" if config.site_url else "/"
    urls = "".join(f"<url><loc>{xml_escape(base + page.url)}</loc></url>" for page in pages)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'

