"""Read deal YAML files into validated :class:`~.model.Deal` objects.

YAML is composed with PyYAML's C loader when available (it keeps line marks
and is ~7x faster than the pure-Python one). A parallel tree of source
locations follows the data through template merging, so every problem names
the file and 1-based line where the rep has to look. All problems of a file
are collected and raised together as :class:`~.errors.InvalidDeal`.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import re
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ValidationError

from .errors import DealroomsError, InvalidDeal, Problem, display_path
from .logos import check_logo, escapes
from .model import IDENT, OWNER_SIDES, Deal
from .plan import dependency_cycle

BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TEMPLATES_DIR = "_templates"
MAX_EXTENDS_DEPTH = 10
RESERVED_SLUGS = frozenset({"assets", "search", "livereload"})
"""Slugs that would collide with what sits at the site root next to the deals.

``assets/`` (Material's and Dealrooms' shared files) and ``search/`` (the
search plugin's index) are written at the root of every build, and
``livereload/`` is the path ``mkdocs serve`` answers itself. The root's files
(``index.html``, ``404.html``, ``sitemap.xml``...) contain a dot, which a slug
cannot. The build's list of files it may write reuses this set.
"""


class _Loader(BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that leaves dates as text, so the model reports bad ones."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in BaseLoader.yaml_implicit_resolvers.items()
}

Loc = tuple[Path, int]


@dataclass
class Node:
    """Where a value came from: its own line, and for mappings each key's line."""

    here: Loc
    keys: dict[str, Loc] = field(default_factory=dict)
    children: dict[str, "Node"] | list["Node"] = field(default_factory=dict)
    # A list item's position in each file that defines it: a step merged by id sits at one index in
    # its template and another in the deal, and messages count the list of the file they point at.
    index: dict[Path, int] = field(default_factory=dict)

    def child(self, step: str | int) -> "Node | None":
        if isinstance(self.children, list):
            return self.children[step] if isinstance(step, int) and 0 <= step < len(self.children) else None
        return self.children.get(step) if isinstance(step, str) else None

    def locate(self, path: Iterable[str | int], *, at_key: bool = False) -> Loc:
        """The location of ``path``; for a missing step, the nearest existing parent."""
        node, loc = self, self.here
        steps = list(path)
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if isinstance(node.children, dict) and isinstance(step, str) and step in node.keys:
                key_loc = node.keys[step]
                if last and at_key:
                    return key_loc
                nxt = node.child(step)
                if nxt is None:
                    return key_loc
                # A block mapping starts on the line after its key: point at the key.
                loc = key_loc if isinstance(nxt.children, dict) and nxt.keys else nxt.here
                node = nxt
            else:
                nxt = node.child(step)
                if nxt is None:
                    return loc
                node, loc = nxt, nxt.here
        return loc


@dataclass(frozen=True)
class LoadedDeal:
    """A validated deal and what it was made from."""

    slug: str
    path: Path
    deal: Deal
    sources: tuple[Path, ...]
    digest: str
    # The buyer's checked logo, relative to the file that declares it (the deal
    # or a template), as written: links are not resolved, so the build
    # classifies it by where it sits in the project, never by its target.
    logo: Path | None = None


@dataclass
class LoadResult:
    """The valid deals of a folder, and the problems of the others, both by slug."""

    deals: dict[str, LoadedDeal]
    problems: dict[str, list[Problem]]


def discover_deals(deals_dir: Path, *, project_dir: Path | None = None) -> list[Path]:
    """Deal files in ``deals_dir``: ``*.yml``/``*.yaml``, not starting with ``_``.

    Links are listed as what they are named (a link that leads outside the
    project is then refused by :func:`load_deal`, with its file name), and the
    deals folder itself must lead to a folder inside ``project_dir`` (default:
    its parent).
    """
    if not deals_dir.is_dir():
        raise DealroomsError(f"{deals_dir}: deals folder not found (set deals_dir in mkdocs.yml)")
    outside = escapes(deals_dir, _project_of(deals_dir, project_dir))
    if outside:
        raise DealroomsError(f"{display_path(deals_dir)}: the deals folder leads outside the project (to {outside}); "
                             "move the deal files into the project instead of linking to them")
    with os.scandir(deals_dir) as found:  # no stat per file: this runs on every full refresh
        # A link is listed even when broken, so that it is reported instead of skipped.
        names = sorted(e.name for e in found if is_deal_name(e.name) and (e.is_file() or e.is_symlink()))
    return [deals_dir / name for name in names]


def _project_of(deals_dir: Path, project_dir: Path | None) -> Path:
    """The folder every input must stay in: ``project_dir``, or the deals folder's parent as written."""
    return Path(project_dir) if project_dir is not None else Path(os.path.abspath(deals_dir)).parent


def is_deal_name(name: str) -> bool:
    """Whether a file name in the deals folder names a deal (``*.yml``/``*.yaml``, no leading ``_`` or ``.``)."""
    return name.endswith((".yml", ".yaml")) and not name.startswith(("_", "."))


def slug_of(path: Path) -> str:
    return path.stem


def load_deals(deals_dir: Path, *, project_dir: Path | None = None) -> LoadResult:
    """Load and validate every deal in ``deals_dir``; problems are kept per deal."""
    result = LoadResult({}, {})
    for path in discover_deals(deals_dir, project_dir=project_dir):
        slug = slug_of(path)
        try:
            result.deals[slug] = load_deal(path, deals_dir=deals_dir, project_dir=project_dir)
        except InvalidDeal as exc:
            result.problems[slug] = exc.problems
    return result


def load_deal(path: Path, *, deals_dir: Path | None = None, project_dir: Path | None = None,
              content: bytes | None = None) -> LoadedDeal:
    """Load one deal file (following ``extends``) and validate it.

    Every file read (the deal, its templates, its logo) must lead to a place
    inside ``project_dir`` (default: the deals folder's parent) once links are
    followed; the paths kept in the result are the paths as written.
    ``content``: the deal file's bytes when they are not the file's (a past
    version from git); templates and the logo are the project's.
    """
    path = Path(path)
    deals_dir = Path(deals_dir) if deals_dir else path.parent
    project_dir = _project_of(deals_dir, project_dir)
    problems: list[Problem] = []
    slug = slug_of(path)
    if not SLUG.match(slug):
        problems.append(
            Problem(path, 1, "", f"bad file name {path.name!r}: the name becomes the deal's web address",
                    "use lowercase letters, digits and '-', e.g. kestrel-freight.yml")
        )
    elif slug in RESERVED_SLUGS:
        problems.append(
            Problem(path, 1, "", f"the name {slug!r} is reserved: the site keeps its shared {slug}/ folder at that address",
                    f"rename the file, e.g. to {slug}-deal.yml or after the buyer")
        )
    sources: list[Path] = []
    data, node = _load_with_templates(path, deals_dir, project_dir, problems, sources, depth=0, content=content)
    if data is None:
        raise InvalidDeal(problems)

    deal: Deal | None = None
    try:
        deal = Deal.model_validate(data)
    except ValidationError as exc:
        # A value the reader already reported (a number too long to read) is not reported twice.
        reported = {(p.file, p.line, p.path) for p in problems}
        problems.extend(p for p in _from_validation_error(exc, node, data) if (p.file, p.line, p.path) not in reported)
    problems.extend(_check_references(data, node))
    logo = _check_logo(data, node, project_dir, problems)
    if logo:
        sources.append(logo)
    if problems or deal is None:
        raise InvalidDeal(problems)
    digest = sources_digest([content if content is not None and i == 0 else p.read_bytes() for i, p in enumerate(sources)])
    return LoadedDeal(slug, path, deal, tuple(sources), digest, logo)


def problems_at(path: Path, found: Iterable[tuple[tuple[str | int, ...], str, str | None]], *,
                deals_dir: Path | None = None, project_dir: Path | None = None, warning: bool = False) -> list[Problem]:
    """``(field path, message, hint)`` findings about a valid deal, located in its files.

    Reads the deal (and its templates) again for the line marks, so checks
    that find nothing never parse YAML; a merged template step is named in
    its template (see :func:`problem_at`).
    """
    path = Path(path)
    deals_dir = Path(deals_dir) if deals_dir else path.parent
    data, node = _load_with_templates(path, deals_dir, _project_of(deals_dir, project_dir), [], [], depth=0)
    out = []
    for loc, message, hint in found:
        # A finding about a whole section (milestones:, agreed:) points at its key.
        problem = (problem_at(node, data, loc, message, hint, at_key=len(loc) == 1) if data is not None
                   else Problem(path, None, dotted(loc), message, hint))
        out.append(replace(problem, warning=warning) if warning else problem)
    return out


def sources_digest(contents: Iterable[bytes]) -> str:
    """The digest of a deal's input files, in order: what its render key is made from.

    Each file counts by its own hash, so moving bytes from one file to the
    next (a template and the deal) can never give the same digest.
    """
    digest = hashlib.sha256(b"dealrooms sources v1\0")
    for data in contents:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


# --- YAML with locations ---------------------------------------------------
#
# Deal files come from reps, CRMs and e-mail: they are untrusted input. PyYAML's
# C composer recurses once per nesting level (100,000 levels crash the process)
# and aliases let a few hundred bytes name billions of values, so every file is
# bounded before it is composed: its size, then one pass over libyaml's
# (iterative) event stream that stops at the first limit, then a budget on the
# values the composed tree may expand to. A 25-milestone deal needs about 5
# levels, no aliases and a few hundred values.

MAX_YAML_BYTES = 512 * 1024
"""Largest deal or template file, in bytes (a 1,000-milestone deal is ~200 KB)."""
MAX_YAML_DEPTH = 50
"""Deepest nesting of mappings and lists in a deal file (deals need about 5)."""
MAX_YAML_ALIASES = 500
"""Most aliases (``*name``) in one file."""
MAX_ALIAS_VALUES = 10_000
"""Most values that aliases and merge keys may add to a file beyond its own."""

_CORE = "tag:yaml.org,2002:"
# Tags a deal file may spell out; anything else (``!!python/object``,
# ``!!binary``, ``!!set``, local ``!tags``) has no meaning in a deal.
ALLOWED_TAGS = frozenset({None, "!"} | {_CORE + name for name in ("str", "int", "float", "bool", "null", "seq", "map")})
_MERGE = _CORE + "merge"


class _Limit(Exception):
    """A bound was crossed while expanding the composed tree."""

    def __init__(self, line: int, path: str):
        self.line, self.path = line, path


@dataclass
class _Budget:
    values_left: int
    trail: list[str | int] = field(default_factory=list)  # the field path being built, for messages


def read_yaml(path: Path, problems: list[Problem], *, content: bytes | None = None) -> tuple[Any, Node | None]:
    """Parse one YAML file into plain data and its location tree.

    ``content``: the file's bytes when they do not come from ``path`` (a
    past version from git), named ``path`` in problems.
    Every failure (too large, not UTF-8, a control character, a syntax error,
    a limit, an unsupported tag) becomes a :class:`Problem` with a line.
    """
    if content is not None:
        raw = content[:MAX_YAML_BYTES + 1]
    else:
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_YAML_BYTES + 1)  # never more than the cap, whatever the file is
        except OSError as exc:
            problems.append(Problem(path, None, "", f"cannot read the file ({exc.strerror})"))
            return None, None
    if len(raw) > MAX_YAML_BYTES:
        problems.append(Problem(path, raw[:MAX_YAML_BYTES].count(b"\n") + 1, "",
                                f"file is larger than {MAX_YAML_BYTES // 1024} KiB",
                                "a deal file holds one deal; split it, or check that it is the right file"))
        return None, None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark from Windows editors is harmless
    except UnicodeDecodeError as exc:
        problems.append(Problem(path, raw[:exc.start].count(b"\n") + 1, "", f"not UTF-8 text ({exc.reason})",
                                "save the file as UTF-8"))
        return None, None
    loader = _Loader(text)
    try:
        own_values = _precheck(text, path, problems)
        if own_values is None:
            return None, None
        root = loader.get_single_node()
        if root is None:
            problems.append(Problem(path, 1, "", "the file is empty; expected a deal (deal:, people:, milestones: ...)"))
            return None, None
        return _build(root, loader, path, problems, _Budget(own_values + MAX_ALIAS_VALUES))
    except _Limit as exc:
        problems.append(Problem(path, exc.line, exc.path,
                                f"aliases expand to more than {MAX_ALIAS_VALUES:,} values beyond the file's own",
                                "write the values out, or use fewer '*name' references"))
        return None, None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark and mark is not exc.context_mark and exc.context_mark.line != mark.line:
            what += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"  # e.g. an unclosed '['
        hint = "check indentation and quotes; text containing ': ' or starting with '{' or '[' needs quotes"
        if "\t" in what or "'\\t'" in what or (line and _line_has_tab(text, line)):
            hint = "YAML indents with spaces, never tabs: replace the tabs on this line"
        problems.append(Problem(path, line, "", f"YAML syntax error: {what}", hint))
        return None, None
    except yaml.reader.ReaderError as exc:
        # libyaml counts the position in UTF-8 bytes of the text it was given.
        line = text.encode("utf-8")[: exc.position].count(b"\n") + 1
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problems.append(Problem(path, line, "", f"control character U+{character:04X} is not allowed in YAML",
                                "delete it; it often comes from text copied out of a PDF, a spreadsheet or a terminal"))
        return None, None
    except yaml.YAMLError as exc:
        problems.append(Problem(path, 1, "", f"YAML error: {exc}"))
        return None, None
    finally:
        loader.dispose()


def _line_has_tab(text: str, line: int) -> bool:
    lines = text.splitlines()
    return 0 < line <= len(lines) and "\t" in lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]


_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _precheck(text: str, path: Path, problems: list[Problem]) -> int | None:
    """Walk libyaml's event stream once; the number of values, or None at the first limit crossed.

    The event parser keeps its state on the heap, so this is safe at any depth;
    it stops at the first event over a limit, before anything is composed.
    """
    depth = aliases = values = 0
    for event in yaml.parse(text, Loader=BaseLoader):
        kind = type(event)
        if kind is yaml.ScalarEvent or kind in _OPEN:
            values += 1
            if event.tag not in ALLOWED_TAGS:
                tag = "!!" + event.tag.removeprefix(_CORE) if event.tag.startswith(_CORE) else event.tag
                problems.append(Problem(path, event.start_mark.line + 1, "", f"YAML tag {tag!r} is not allowed in a deal file",
                                        "deal files hold text, numbers, yes/no, lists and mappings; remove the tag"))
                return None
            if kind is not yaml.ScalarEvent:
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    problems.append(Problem(path, event.start_mark.line + 1, "",
                                            f"nested more than {MAX_YAML_DEPTH} levels deep",
                                            "a deal needs about 5 levels; look for a long run of '[', '{' or '- '"))
                    return None
        elif kind in _CLOSE:
            depth -= 1
        elif kind is yaml.AliasEvent:
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                problems.append(Problem(path, event.start_mark.line + 1, "", f"more than {MAX_YAML_ALIASES} aliases (*name)",
                                        "write the values out instead of referring to them"))
                return None
    return values


# What PyYAML's constructors raise on a value its tag cannot read: `!!int +`
# and `!!int ''` end in an IndexError inside construct_yaml_int.
_UNREADABLE = (ValueError, OverflowError, KeyError, IndexError)


def _build(node: yaml.Node, loader: Any, path: Path, problems: list[Problem], budget: _Budget) -> tuple[Any, Node]:
    # An alias is the same node object reached again: every visit is counted,
    # so shared subtrees cannot multiply past the budget.
    budget.values_left -= 1
    if budget.values_left < 0:
        raise _Limit(node.start_mark.line + 1, dotted(budget.trail))
    here = (path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, loader, path, problems, budget)
    if isinstance(node, yaml.SequenceNode):
        items, children = [], []
        trail = budget.trail
        for i, item in enumerate(node.value):
            trail.append(i)
            value, child = _build(item, loader, path, problems, budget)
            trail.pop()
            child.index = {path: i}
            items.append(value)
            children.append(child)
        return items, Node(here, {}, children)
    try:
        value = _scalar(node, loader)
    except _UNREADABLE:
        problems.append(_unreadable_scalar(node, path, budget.trail))
        return node.value, Node(here)
    if type(value) is int and value.bit_length() > _MAX_INT_BITS:
        # Hex, octal and 1:2:3 forms slip past Python's 4,300-digit guard, but
        # str() of the result then fails later, in a message or on a page.
        problems.append(_unreadable_scalar(node, path, budget.trail))
        return node.value, Node(here)
    return value, Node(here)


def _build_mapping(node: yaml.MappingNode, loader: Any, path: Path, problems: list[Problem], budget: _Budget) -> tuple[Any, Node]:
    data: dict[str, Any] = {}
    located = Node((path, node.start_mark.line + 1), {}, {})
    trail = budget.trail
    merged: list[tuple[dict[str, Any], Node]] = []
    explicit: set[str] = set()
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
            problems.append(Problem(path, key_line, dotted(trail), f"expected a key of plain text, found {kind}",
                                    "remove the '?' or the brackets before ':'"))
            continue
        if key_node.tag == _MERGE:
            merged.extend(_merge_sources(value_node, loader, path, problems, budget))
            continue
        try:
            _scalar(key_node, loader)  # a tagged key that cannot be read is a problem (`!!int +:`)
        except _UNREADABLE:
            problems.append(_unreadable_scalar(key_node, path, trail))
        # A key is a field name: the text as written. YAML 1.1 would read `on:`,
        # `yes:` or `no:` as booleans (agreed: {by: ilse, on: 2026-11-10}).
        key = key_node.value
        if key in explicit:
            first = located.keys[key][1]
            problems.append(Problem(path, key_line, dotted([*trail, key]),
                                    f"key {key!r} appears twice in one mapping (first on line {first})",
                                    "remove or rename one of them"))
            continue
        explicit.add(key)
        trail.append(key)
        data[key], child = _build(value_node, loader, path, problems, budget)
        trail.pop()
        located.keys[key] = (path, key_line)
        located.children[key] = child  # type: ignore[index]
    if merged:
        # YAML merge keys (`<<: *defaults`): the mapping's own keys win, then
        # the merged mappings in the order given.
        for source, source_node in merged:
            for key, value in source.items():
                if key not in data:
                    data[key] = value
                    located.keys[key] = source_node.keys.get(key, source_node.here)
                    located.children[key] = source_node.child(key) or Node(source_node.here)  # type: ignore[index]
    return data, located


_MAX_INT_BITS = 14_000  # about 4,200 decimal digits: below Python's int/str conversion limit


def _unreadable_scalar(node: yaml.ScalarNode, path: Path, trail: list[str | int]) -> Problem:
    line, where = node.start_mark.line + 1, dotted(trail)
    if node.tag == _CORE + "int" and (node.value.lstrip("+-").isdigit() or len(node.value) > 1000):
        # Python refuses int("...") past 4,300 digits (its own denial-of-service guard).
        unit = "digits" if node.value.lstrip("+-").isdigit() else "characters"
        return Problem(path, line, where, f"number too long ({len(node.value):,} {unit})",
                       "put quotes around it if it is text; amounts and counts need far fewer digits")
    kind = node.tag.removeprefix(_CORE)
    return Problem(path, line, where, f"expected a value of type {kind} (as its !!{kind} tag says), found {_found(node.value)}",
                   f"remove the !!{kind} tag, or fix the value")


def _merge_sources(value_node: yaml.Node, loader: Any, path: Path, problems: list[Problem],
                   budget: _Budget) -> list[tuple[dict[str, Any], Node]]:
    nodes = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    sources = []
    for item in nodes:
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem(path, item.start_mark.line + 1, dotted(budget.trail),
                                    "'<<' merges mappings: expected *name of a mapping (or a list of them)"))
            continue
        data, node = _build_mapping(item, loader, path, problems, budget)
        budget.values_left -= 1
        sources.append((data, node))
    return sources


_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}


def _scalar(node: yaml.Node, loader: Any) -> Any:
    """Construct a scalar from its already-resolved tag.

    The composer has resolved every tag; constructing the common ones here
    skips PyYAML's generic (pure-Python) constructor dispatch, which was
    half of the time spent loading a deal.
    """
    tag, value = node.tag, node.value
    if tag == "tag:yaml.org,2002:str":
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS[value.lower()]
    # Plain ASCII digits without a leading zero are a decimal int in YAML 1.1
    # too. Anything else goes to PyYAML: `010` is octal 8 there, `09` an
    # error, and str.isdigit() is also true for '٣' and '²'.
    if tag == "tag:yaml.org,2002:int" and value.isascii() and value.isdigit() and value[0] != "0":
        return int(value)
    return loader.construct_object(node, deep=True)


# --- templates --------------------------------------------------------------


def _load_with_templates(
    path: Path, deals_dir: Path, project_dir: Path, problems: list[Problem], sources: list[Path], depth: int,
    content: bytes | None = None,
) -> tuple[dict[str, Any] | None, Node]:
    sources.append(path)
    # Given bytes did not come through `path`; templates are always read from the project.
    outside = escapes(path, project_dir) if content is None else None
    if outside:
        # Classified by its path as written, a linked file would count as a deal
        # (or template) while its content lives elsewhere: a CRM export, /etc.
        problems.append(Problem(path, 1, "", f"this file leads outside the project (to {outside})",
                                "copy the file into the project instead of linking to it"))
        return None, Node((path, 1))
    data, node = read_yaml(path, problems, content=content)
    if node is None:
        return None, Node((path, 1))
    if not isinstance(data, dict):
        problems.append(Problem(path, node.here[1], "", f"expected a mapping with deal:, people:, milestones: ...; found {type(data).__name__}"))
        return None, node
    name = data.get("extends")
    if name is None:
        return data, node
    if not isinstance(name, str) or not name:
        problems.append(Problem(path, node.locate(["extends"])[1], "extends", "expected a template name"))
        return data, node
    templates = deals_dir / TEMPLATES_DIR
    candidates = [templates / f"{name}.yml", templates / f"{name}.yaml"]
    template_path = next((c for c in candidates if c.is_file()), None)
    line = node.locate(["extends"])[1]
    if template_path is None:
        known = sorted(p.stem for p in templates.glob("*.y*ml")) if templates.is_dir() else []
        hint = f"templates are: {', '.join(known)}" if known else f"put templates in {templates}/NAME.yml"
        problems.append(Problem(path, line, "extends", f"unknown template {name!r}", hint))
        return data, node
    if template_path in sources or depth >= MAX_EXTENDS_DEPTH:
        problems.append(Problem(path, line, "extends", f"template {name!r} extends itself (directly or through other templates)"))
        return data, node
    base, base_node = _load_with_templates(template_path, deals_dir, project_dir, problems, sources, depth + 1)
    if base is None:
        return data, node
    base.pop("extends", None)
    data = dict(data)
    data.pop("extends")
    merged, merged_node = merge(base, base_node, data, node)
    merged["extends"] = name
    merged_node.keys["extends"] = node.keys["extends"]
    return merged, merged_node


MERGE_BY_ID = {"milestones"}


def merge(
    base: Any, base_node: Node, over: Any, over_node: Node, key: str | None = None, *, in_item: bool = False
) -> tuple[Any, Node]:
    """Deal over template: mappings merge, ``milestones`` merge by id, other lists concatenate.

    Inside a milestone merged by id, lists (``after``, ``goals``) are replaced:
    the deal says what the step waits for, so it can also drop a dependency.
    """
    if isinstance(base, dict) and isinstance(over, dict):
        out, node = dict(base), Node(over_node.here, dict(base_node.keys), dict(base_node.children),  # type: ignore[arg-type]
                                     {**base_node.index, **over_node.index})
        for k, v in over.items():
            child = over_node.child(k) or Node(over_node.here)
            if k in out:
                out[k], node.children[k] = merge(out[k], base_node.child(k) or base_node, v, child, k, in_item=in_item)  # type: ignore[index]
            else:
                out[k], node.children[k] = v, child  # type: ignore[index]
            node.keys[k] = over_node.keys.get(k, over_node.here)
        return out, node
    if isinstance(base, list) and isinstance(over, list) and not in_item:
        base_children = list(base_node.children) if isinstance(base_node.children, list) else []
        over_children = list(over_node.children) if isinstance(over_node.children, list) else []
        items, children = list(base), base_children
        if key in MERGE_BY_ID:
            index = {item.get("id"): i for i, item in enumerate(items) if isinstance(item, dict)}
            for item, child in zip(over, over_children):
                i = index.get(item.get("id")) if isinstance(item, dict) else None
                if i is None:
                    items.append(item)
                    children.append(child)
                else:
                    items[i], children[i] = merge(items[i], children[i], item, child, in_item=True)
        else:
            items += over
            children += over_children
        return items, Node(over_node.here, {}, children, dict(over_node.index))
    return over, over_node


# --- messages ---------------------------------------------------------------


def dotted(loc: Iterable[str | int]) -> str:
    """``('milestones', 3, 'owner')`` -> ``milestones[3].owner``."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _found(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        if len(value) > 80:  # a pasted page of text helps nobody in a one-line message
            return f"{value[:60]!r}... ({len(value):,} characters)"
        return repr(value) if value else "an empty value"
    try:
        text = repr(value)
    except ValueError:  # an int too long to print (Python's digit limit)
        return "a number too long to show"
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"


PATTERN_HINTS = {
    "id": ("an id of lowercase letters, digits, '-' or '_'", "e.g. security-review"),
    "owner": ("a person id or one of buyer, seller, partner",
              "use an id from people: (e.g. ilse), not a name; several owners go in a list: owner: [ilse, dov]"),
    "link": ("a web address starting with https://", "e.g. https://example.com/dpa.pdf"),
    "by": ("a person id", "e.g. ilse"),
    "after": ("milestone ids", None),
    "goals": ("goal ids", None),
    "email": ("an e-mail address", "e.g. ilse@example.com"),
    "currency": ("a 3-letter ISO 4217 currency code", "e.g. EUR, USD, GBP"),
    "time": ("a time as HH:MM", "e.g. 14:30"),
}


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` (for 'did you mean')."""
    model: Any = Deal
    for step in loc:
        if isinstance(step, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or step not in model.model_fields:
            return None
        model = _unwrap(model.model_fields[step].annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    for arg in typing.get_args(annotation) or ():
        found = _unwrap(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return annotation


def problem_at(root: Node, data: Any, loc: tuple[str | int, ...], message: str, hint: str | None = None, *,
               at_key: bool = False) -> Problem:
    """A problem at ``loc`` of a (merged) deal, named as the rep finds it in the file it points at.

    ``root`` and ``data`` are the deal after ``extends`` was merged. A list
    index counts the items of the file the line is in (the deal's own
    ``milestones``, or the template's), not the merged plan; a problem in a
    template says which template and item it is, and which deal it was
    merged into, since the same template line serves many deals.
    """
    file, line = root.locate(loc, at_key=at_key)
    written: list[str | int] = []
    node: Node | None = root
    for step in loc:
        child = node.child(step) if node is not None else None
        # An item the file does not define itself (cannot be the case for a located line) keeps the merged index.
        written.append(child.index.get(file, step) if isinstance(step, int) and child is not None else step)
        node = child
    deal_file = root.here[0]
    if file != deal_file:
        item = _item_name(data, loc)
        origin = f"{item} of template {file.stem!r}" if item else f"from template {file.stem!r}"
        message += f"; {origin}, merged into {display_path(deal_file)}"
    return Problem(file, line, dotted(written), message, hint)


_ITEM_NOUNS = {"milestones": "step", "people": "person", "goals": "goal"}


def _item_name(data: Any, loc: tuple[str | int, ...]) -> str | None:
    """``step 'legal-review'`` for a location inside an item with an id, else None."""
    if len(loc) < 2 or not isinstance(loc[1], int) or not isinstance(data, dict):
        return None
    items = data.get(loc[0])
    item = items[loc[1]] if isinstance(items, list) and 0 <= loc[1] < len(items) else None
    ident = item.get("id") if isinstance(item, dict) else None
    return f"{_ITEM_NOUNS.get(str(loc[0]), 'item')} {ident!r}" if isinstance(ident, str) else None


def _from_validation_error(exc: ValidationError, root: Node, data: Any = None) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(step for step in error["loc"] if not (isinstance(step, str) and ("[" in step or step in ("function-after", "date", "TargetOffset"))))
        kind = error["type"]
        value = error.get("input")
        last = loc[-1] if loc else ""
        hint = None
        if kind == "extra_forbidden":
            model = _model_at(loc[:-1])
            allowed = sorted(model.model_fields) if model else []
            close = _close(str(last), allowed)
            message = f"unknown field; did you mean {close[0]!r}?" if close else "unknown field"
            if not close and allowed:
                hint = f"allowed here: {', '.join(allowed)}"
        elif kind == "missing":
            message = "required field missing"
            hint = f"add '{last}:' here"
        else:
            # A list item's message is about its field: milestones[2].owner[1] is an owner.
            field_name = next((str(step) for step in reversed(loc) if isinstance(step, str)), "")
            message, hint = _describe(kind, error, value, field_name)
        problems.append(problem_at(root, data, loc, message, hint, at_key=kind == "extra_forbidden"))
    return problems


def _describe(kind: str, error: Any, value: Any, field_name: str) -> tuple[str, str | None]:
    found = _found(value)
    ctx = error.get("ctx") or {}
    if kind in ("bad_date", "bad_due", "bad_offset", "bad_locale", "no_owner"):
        return error["msg"], ctx.get("hint")
    if kind == "literal_error":
        expected = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        close = _close(value, expected.split(", ")) if isinstance(value, str) else []
        return f"expected one of {expected}; found {found}", (f"did you mean {close[0]!r}?" if close else None)
    if kind in ("string_type",):
        return f"expected text, found {found}", "put quotes around text that YAML might read as a number or date"
    if kind in ("string_too_short",):
        return f"expected text, found {found}", None
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type", "int_parsing", "int_type", "finite_number"):
        return f"expected a number, found {found}", "write plain digits, e.g. 1380 or 12.5 (no currency sign)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        words = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most", "less_than": "less than"}
        return f"expected a number of {words[kind]} {bound}, found {found}", None
    if kind == "string_pattern_mismatch":
        expected, hint = PATTERN_HINTS.get(field_name, ("text of the right form", None))
        return f"expected {expected}, found {found}", hint
    if kind in ("model_type", "dict_type", "model_attributes_type", "dataclass_type"):
        return f"expected a mapping (indented 'key: value' lines), found {found}", None
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return f"expected a list ('- item' lines or [a, b]), found {found}", None
    return f"{error['msg'].rstrip('.')}; found {found}", None


# --- cross-references -------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _close_cached(word: str, candidates: tuple[str, ...]) -> list[str]:
    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)


def _close(word: str, candidates: Iterable[str]) -> list[str]:
    """'Did you mean' for ids and field names, bounded for hostile input.

    difflib compares every pair; a file repeating one wrong owner a thousand
    times, or ids of 10,000 characters, would otherwise cost seconds.
    """
    choices = tuple(c for c in candidates if len(c) <= 64)
    if len(word) > 64 or len(choices) > 100:
        return []
    return _close_cached(word, choices)


def _listing(names: Iterable[str], most: int = 12) -> str:
    """``a, b, c`` for a message, cut short (with a count) when there are many."""
    names = list(names)
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _items(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _check_references(data: dict[str, Any], node: Node) -> list[Problem]:
    problems: list[Problem] = []

    def problem(loc: tuple[str | int, ...], message: str, hint: str | None = None, at_key: bool = False) -> None:
        problems.append(problem_at(node, data, loc, message, hint, at_key=at_key))

    def ids(key: str, noun: str) -> dict[str, tuple[str | int, ...]]:
        seen: dict[str, tuple[str | int, ...]] = {}
        for i, item in _items(data, key):
            ident = item.get("id")
            if not isinstance(ident, str):
                continue
            loc = (key, i, "id")
            if ident in seen:
                first_file, first_line = node.locate(seen[ident])
                problem(loc, f"duplicate {noun} id {ident!r}; also defined at {display_path(first_file)}:{first_line}",
                        "ids must be unique within a deal")
            else:
                seen[ident] = loc
        return seen

    people = ids("people", "person")
    milestones = ids("milestones", "milestone")
    goals = ids("goals", "goal")

    for ident, loc in people.items():
        if ident in OWNER_SIDES:
            problem(loc, f"person id {ident!r} is reserved for the whole {ident} side", "choose another id, e.g. the person's first name")

    for i, item in _items(data, "milestones"):
        owner = item.get("owner")
        owners = [((), owner)] if isinstance(owner, str) else list(enumerate(owner)) if isinstance(owner, list) else []
        for j, one in owners:
            # An owner that is not even id-shaped was reported by the model check already.
            if isinstance(one, str) and re.match(IDENT, one) and one not in people and one not in OWNER_SIDES:
                known = _listing(people) or "none yet"
                close = _close(one, list(people) + list(OWNER_SIDES))
                problem(("milestones", i, "owner", *((j,) if j != () else ())), f"unknown person {one!r} (people are: {known})",
                        f"did you mean {close[0]!r}?" if close else "use a person id from people:, or buyer, seller or partner")
        after = item.get("after")
        for j, dep in enumerate(after if isinstance(after, list) else []):
            if not isinstance(dep, str):
                continue
            if dep == item.get("id"):
                problem(("milestones", i, "after", j), f"milestone {dep!r} cannot come after itself")
            elif dep not in milestones:
                close = _close(dep, list(milestones))
                problem(("milestones", i, "after", j), f"unknown milestone {dep!r}",
                        f"did you mean {close[0]!r}?" if close else f"milestones are: {_listing(milestones)}")
        linked = item.get("goals")
        for j, goal in enumerate(linked if isinstance(linked, list) else []):
            if isinstance(goal, str) and goal not in goals:
                problem(("milestones", i, "goals", j), f"unknown goal {goal!r}",
                        f"goals are: {_listing(goals)}" if goals else "add the goal under goals: first")
        status, done_on = item.get("status"), item.get("done_on")
        if done_on is not None and status != "done":
            problem(("milestones", i, "done_on"), f"done_on is set but status is {status or 'not_started'!r}",
                    "set status: done, or remove done_on")

    agreed = data.get("agreed")
    by = agreed.get("by") if isinstance(agreed, dict) else None
    if isinstance(by, str):
        person = next((item for _, item in _items(data, "people") if item.get("id") == by), None)
        buyers = [item["id"] for _, item in _items(data, "people") if item.get("side") == "buyer" and isinstance(item.get("id"), str)]
        if person is None:
            close = _close(by, buyers)
            problem(("agreed", "by"), f"unknown person {by!r} (buyer-side people are: {_listing(buyers) or 'none yet'})",
                    f"did you mean {close[0]!r}?" if close else "the plan is agreed by someone on the buyer's side: add them under people:")
        elif person.get("side") != "buyer":
            problem(("agreed", "by"), f"{by!r} is on the {person.get('side')} side; expected a buyer-side person",
                    "the buyer agrees the plan: name the buyer's champion or sponsor")

    cycle = dependency_cycle(_milestone_dependencies(data))
    if cycle:
        index = {item.get("id"): i for i, item in _items(data, "milestones")}
        problem(("milestones", index[cycle[0]], "after"), "dependency cycle " + " → ".join(cycle),
                "a milestone cannot (indirectly) wait for itself; remove one of these after: entries")
    return problems


def _milestone_dependencies(data: dict[str, Any]) -> dict[str, list[str]]:
    """Each milestone id (file order) -> the ids in its ``after`` list, for :func:`.plan.dependency_cycle`."""
    return {
        item["id"]: [d for d in (item.get("after") if isinstance(item.get("after"), list) else []) if isinstance(d, str)]
        for _, item in _items(data, "milestones")
        if isinstance(item.get("id"), str)
    }


def _check_logo(data: dict[str, Any], node: Node, project_dir: Path, problems: list[Problem]) -> Path | None:
    """The deal's logo as written, relative to the file that names it (a template or the deal); None if unset or bad."""
    deal = data.get("deal")
    buyer = deal.get("buyer") if isinstance(deal, dict) else None
    logo = buyer.get("logo") if isinstance(buyer, dict) else None
    if not isinstance(logo, str) or not logo:
        return None
    loc = ("deal", "buyer", "logo")
    file, line = node.locate(loc)
    logo_path = file.parent / logo
    found = check_logo(logo_path, project_dir=project_dir, shown=logo, declared_in=file)
    for problem in found:
        problems.append(Problem(file, line, dotted(loc), problem.message, problem.hint))
    return None if found else logo_path
