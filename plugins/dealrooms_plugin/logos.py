"""Checks for the buyer's logo: a file the build copies into a deal's site.

A logo is opened by the buyer's browser with the site's origin (directly, if
someone follows its URL), so it is treated as untrusted input: it must lie
inside the project (links are followed only to check that), stay under a size
cap, be the image type its name says (judged by content, not by the name), and
an SVG must be inert: no scripts, event handlers, ``<foreignObject>``, DTDs or
entities, and no reference to anything outside the file except embedded
PNG/JPEG/WebP images. Refusing is simpler to trust than rewriting, and a
designer can always export a clean file.

:func:`check_logo` returns what is wrong; ``load.py`` turns each item into a
:class:`~.errors.Problem` at the YAML line that names the logo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

MAX_LOGO_BYTES = 512 * 1024
"""Largest logo file; a crisp logo is a few KB (SVG) to ~100 KB (PNG)."""

LOGO_TYPES = {".svg": "SVG", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WebP"}
"""Accepted file name endings and the image type each must contain."""

# Elements that run code, embed other documents or pull in resources: none of
# them belongs in a logo. Compared by local name, so an XHTML-namespaced
# <html:script> inside the SVG is caught too.
FORBIDDEN_ELEMENTS = frozenset({
    "script", "foreignobject", "handler", "listener", "iframe", "embed", "object", "frame", "frameset",
    "base", "link", "meta", "audio", "video",
})
_ANIMATIONS = frozenset({"set", "animate", "animatemotion", "animatetransform", "discard"})
_REFERENCE_ATTRIBUTES = frozenset({"href", "src"})
# Embedded raster images are self-contained; an embedded SVG could carry all of the above.
_SAFE_DATA_URL = re.compile(r"data:image/(png|jpeg|webp)[;,]", re.IGNORECASE)
# CSS functions that load a resource; their argument must stay inside the file.
_CSS_LOADERS = re.compile(r"(?:url|image|image-set|-webkit-image-set|cross-fade|src)\(\s*", re.IGNORECASE)


@dataclass(frozen=True)
class LogoProblem:
    """One thing wrong with a logo file: a message and, when useful, a hint."""

    message: str
    hint: str | None = None


def check_logo(path: Path, *, project_dir: Path, shown: str | None = None,
               declared_in: Path | None = None) -> list[LogoProblem]:
    """Everything wrong with the logo at ``path`` (empty when it is fine to publish).

    ``path`` is the path as written (relative to the file that declares it);
    ``project_dir`` is the folder the logo must stay in once links are
    followed; ``shown`` is how to name the logo in messages (default: ``path``);
    ``declared_in`` is the file that names it, for the hint when it is missing.
    """
    name = shown or str(path)
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        return [LogoProblem(f"expected an SVG, PNG, JPEG or WebP file, found {name!r}")]
    outside = escapes(path, project_dir)
    if outside:
        return [LogoProblem(f"logo {name} leads outside the project (to {outside})",
                            "copy the logo into the project, e.g. next to the deal files in logos/")]
    if not path.is_file():
        where = f"{declared_in.name}'s folder" if declared_in else "the folder of the file that names the logo"
        return [LogoProblem(f"logo file not found: {name}", f"paths are relative to {where}")]
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LOGO_BYTES + 1)  # never more than the cap, whatever the file is
    except OSError as exc:
        return [LogoProblem(f"cannot read logo {name} ({exc.strerror})")]
    if len(data) > MAX_LOGO_BYTES:
        return [LogoProblem(f"logo {name} is larger than {MAX_LOGO_BYTES // 1024} KiB",
                            "export it smaller (an SVG, or a PNG of at most ~400 px wide)")]
    found = sniff(data)
    if found != kind:
        what = f"its content is {found}" if found else "its content is not an image Dealrooms accepts"
        return [LogoProblem(f"logo {name} is named as {kind} but {what}",
                            "rename the file to match its type, or export it again")]
    if kind == "SVG":
        return [LogoProblem(f"logo {name}{f', line {line}' if line else ''}: {message}", hint)
                for line, message, hint in svg_problems(data)]
    return []


def escapes(path: Path, project_dir: Path) -> Path | None:
    """Where ``path`` really leads, if that is outside ``project_dir`` (following every link); else None."""
    try:
        target = path.resolve()
        inside = target.is_relative_to(project_dir.resolve())
    except (OSError, RuntimeError):  # a link loop
        return path
    return None if inside else target


def sniff(data: bytes) -> str | None:
    """The image type by its first bytes: ``"PNG"``, ``"JPEG"``, ``"WebP"``, ``"SVG"`` or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in data[:64 * 1024].lower():
        return "SVG"
    return None


class _SvgAudit:
    """Parser target that records what makes an SVG unsafe, with line numbers."""

    def __init__(self) -> None:
        self.problems: list[tuple[int | None, str, str | None]] = []
        self.line = lambda: 0  # set once the parser exists
        self.root: str | None = None
        self._style_depth = 0
        self._style_text: list[str] = []
        self._style_line = 0

    def _refuse(self, what: str, hint: str | None) -> None:
        self.problems.append((self.line(), what, hint))

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = _local(tag)
        if self.root is None:
            self.root = name
        if name in FORBIDDEN_ELEMENTS:
            self._refuse(f"<{_local(tag, keep_case=True)}> is not allowed in a logo", "export the logo again as a plain drawing (no scripts or embedded content)")
        for key, value in attrs.items():
            attribute = _local(key)
            if attribute.startswith("on"):
                self._refuse(f"event handler {attribute}= is not allowed in a logo", "remove the attribute; a logo never needs code")
            elif attribute in _REFERENCE_ATTRIBUTES and not _internal(value):
                self._refuse(f"{attribute}={_short(value)} refers to something outside the logo",
                             "embed images as data:image/png, data:image/jpeg or data:image/webp, or refer to #ids in the file")
            elif attribute == "attributename" and name in _ANIMATIONS:
                target = value.strip().lower().rpartition(":")[2]
                if target in _REFERENCE_ATTRIBUTES or target.startswith("on"):
                    self._refuse(f"<{name}> may not change {value.strip()}", "remove the animation of links and handlers")
            self._check_css(value, f"attribute {attribute}=")
        if name == "style":
            if self._style_depth == 0:
                self._style_line = self.line()
            self._style_depth += 1

    def end(self, tag: str) -> None:
        if _local(tag) == "style" and self._style_depth:
            self._style_depth -= 1
            if self._style_depth == 0:
                line, self.line = self.line, lambda: self._style_line
                self._check_css("".join(self._style_text), "<style>")
                self.line = line
                self._style_text.clear()

    def data(self, text: str) -> None:
        if self._style_depth:
            self._style_text.append(text)

    def pi(self, target: str, text: str | None = None) -> None:
        # <?xml-stylesheet?> loads CSS or XSLT (which can run script).
        self._refuse(f"processing instruction <?{target}?> is not allowed in a logo", "delete the <?...?> line")

    def close(self) -> None:
        return None

    def _check_css(self, css: str, where: str) -> None:
        lowered = css.lower()
        if "\\" in css and ("(" in css or "@" in css or where == "<style>"):
            # CSS escapes can spell url( or @import in ways a simple check would miss.
            self._refuse(f"{where} uses CSS escapes ('\\')", "write the CSS without backslash escapes")
        if "@import" in lowered:
            self._refuse(f"{where} uses @import", "put the styles into the logo itself")
        for match in _CSS_LOADERS.finditer(css):
            argument = css[match.end():].lstrip("'\"")
            if not _internal(argument):
                target = _short(argument.split(")")[0].rstrip(" '\""))
                self._refuse(f"{where} loads {target} from outside the logo",
                             "refer only to #ids in the file or embedded data:image/png|jpeg|webp images")


def svg_problems(data: bytes) -> list[tuple[int | None, str, str | None]]:
    """What makes the SVG document ``data`` unsafe to publish, as ``(line, message, hint)``."""
    audit = _SvgAudit()
    parser = DefusedXMLParser(target=audit, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat: Any = parser.parser
    audit.line = lambda: expat.CurrentLineNumber
    try:
        parser.feed(data)
        parser.close()
    except DefusedXmlException as exc:
        kind = type(exc).__name__.removesuffix("Forbidden")
        what = {"DTD": "a <!DOCTYPE> (DTD)", "Entities": "an <!ENTITY> definition", "ExternalReference": "an external reference"}
        return [(audit.line() or None, f"{what.get(kind, kind)} is not allowed in a logo",
                 "delete the <!DOCTYPE ...> line and any entities; browsers do not need them")]
    except ParseError as exc:
        line, _ = getattr(exc, "position", (None, None))
        reason = str(exc).split(":")[0]  # expat's text without its own "line X, column Y"
        return [(line, f"not a well-formed SVG file ({reason})", "export the logo again")]
    if audit.root != "svg":
        return [(None, f"expected an <svg> document, found <{audit.root}>", None)]
    return audit.problems


def _local(name: str, *, keep_case: bool = False) -> str:
    """``{namespace}Name`` or ``prefix:Name`` -> ``name`` (``Name`` with ``keep_case``)."""
    local = name.rpartition("}")[2].rpartition(":")[2]
    return local if keep_case else local.lower()


def _internal(reference: str) -> bool:
    value = reference.strip()
    return value.startswith("#") or bool(_SAFE_DATA_URL.match(value))


def _short(value: str) -> str:
    value = value.strip()
    return repr(value if len(value) <= 60 else value[:57] + "...")
