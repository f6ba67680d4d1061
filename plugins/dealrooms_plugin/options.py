"""The ``dealrooms`` plugin options: one typed model for every adapter and the CLI.

```yaml
plugins:
  - dealrooms:
      deals_dir: dealrooms        # one <slug>.yml per deal; _files and _folders are not deals
      protect: true               # encrypt every deal's microsite with its own password
      secrets_file: .dealrooms-secrets.yml   # passwords (git-ignored); see `dealrooms password`
      brand_name: Orbisoft        # the seller on the unlock page
      brand_logo: branding/orbisoft.svg
      brand_color: "#1f3a93"
      health: {at_risk_slip_days: 1, off_track_slip_days: 14, at_risk_overdue: 1, off_track_overdue: 3}
      stages:
        - {name: evaluation, exit_criteria: [security-review], probability: 40}
        - {name: negotiation, exit_criteria: [msa-agreed], probability: 70}
```

The options are validated once, by :func:`validate_options`, whoever reads
them: the MkDocs plugin (through its config class) and every ``dealrooms``
command (through MkDocs' own YAML loader, so ``!ENV`` and ``INHERIT`` work the
same). A problem is one line like a deal file's: file, line, the option's
path, what was expected and what was found, and a hint. MkDocs' loader keeps
no line marks, so lines come from a second, mark-keeping read of the config
file (and the files it inherits from) that only looks the option up.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterable, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .catalog import parse_shard
from .errors import DealroomsError, Problem
from .keys import DEFAULT_ITERATIONS, MIN_ITERATIONS
from .load import _close, _found, dotted  # the deal files' wording: options read like deal problems
from .logos import check_logo
from .passwords import DEFAULT_SECRETS_FILE
from .plan import Stage, Thresholds
from .protect import COLOR

PLUGIN = "dealrooms"
WHERE = ("plugins", PLUGIN)  # the options' place in mkdocs.yml, for messages


@dataclass(frozen=True)
class Expect:
    """What a field holds, in a rep's words, for messages (``expected <what>, found ...``)."""

    what: str
    hint: str | None = None
    item: str | None = None  # for a list: what one of its items is


class _Strict(BaseModel):
    # Strict: YAML's `yes` is not a number of days, and "3" is not 3; unknown keys are typos.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Days = Annotated[int, Field(ge=0), Expect("a whole number of days (0 or more)", "e.g. 14")]
Count = Annotated[int, Field(ge=0), Expect("a whole number of milestones (0 or more)", "e.g. 3")]
Flag = Annotated[bool, Expect("true or false")]
RelativePath = Annotated[str, Field(min_length=1), Expect("a path relative to mkdocs.yml", "e.g. dealrooms")]


class HealthOptions(_Strict):
    """When a deal stops being on track: at risk, then off track, by days of slip or overdue milestones."""

    # The defaults are the planner's (plan.Thresholds), written once.
    at_risk_slip_days: Days = Field(Thresholds.at_risk_slip_days, description="Days of slip from which a deal is at risk.")
    off_track_slip_days: Days = Field(Thresholds.off_track_slip_days, description="Days of slip from which a deal is off track.")
    at_risk_overdue: Count = Field(Thresholds.at_risk_overdue, description="Overdue milestones from which a deal is at risk.")
    off_track_overdue: Count = Field(Thresholds.off_track_overdue, description="Overdue milestones from which a deal is off track.")

    @model_validator(mode="after")
    def _at_risk_before_off_track(self) -> "HealthOptions":
        for what in ("slip_days", "overdue"):
            at_risk, off_track = getattr(self, f"at_risk_{what}"), getattr(self, f"off_track_{what}")
            if at_risk > off_track:
                raise PydanticCustomError(
                    "health_order",
                    "at_risk_{what} ({at_risk}) is greater than off_track_{what} ({off_track}); "
                    "a deal must be at risk before it is off track",
                    {"what": what, "at_risk": at_risk, "off_track": off_track},
                )
        return self


def _or_text(schema: dict[str, Any]) -> None:
    """In the JSON Schema, also allow the shorthand text (``- evaluation``, ``exit_criteria: security``)."""
    form = {key: schema.pop(key) for key in ("type", "items", "$ref") if key in schema}
    schema["anyOf"] = [{"type": "string", "minLength": 1}, form]


class StageOption(_Strict):
    """One sales stage: leaving it takes its exit criteria done."""

    name: Annotated[str, Field(min_length=1), Expect("the stage name", "e.g. evaluation")] = Field(
        description="The stage as deals write it in `deal.stage` (case, spaces and '-' do not matter).")
    exit_criteria: Annotated[
        tuple[Annotated[str, Strict(), Field(min_length=1)], ...], Field(strict=False),  # YAML lists, not only tuples
        Expect("a list of milestone ids", "e.g. [security-review]", item="a milestone id"),
    ] = Field((), description="Milestone ids that must be done before a deal may be past this stage.",
              json_schema_extra=lambda schema: _or_text(schema))
    probability: Annotated[
        float | None, Field(ge=0, le=100), Expect("a percentage from 0 to 100", "e.g. 40")
    ] = Field(None, description="Forecast probability of deals in this stage, in percent.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `- evaluation` is a stage without criteria; `exit_criteria: security` a list of one.
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, Mapping) and isinstance(value.get("exit_criteria"), str):
            return {**value, "exit_criteria": [value["exit_criteria"]]}
        return value

    @field_validator("name")
    @classmethod
    def _stripped(cls, name: str) -> str:
        if not name.strip():
            raise PydanticCustomError("blank", "expected the stage name, found an empty value")
        return name.strip()

    @property
    def key(self) -> str:
        """The name as compared with ``deal.stage``."""
        return self.name.lower().replace(" ", "_").replace("-", "_")


class Options(_Strict):
    """Every option of the ``dealrooms`` plugin, validated (see the module docstring for an example)."""

    enabled: Flag = Field(True, description="Turn the plugin off without removing it.")
    deals_dir: RelativePath = Field("dealrooms", description="Folder of deal YAML files, relative to mkdocs.yml.")
    protect: Flag = Field(True, description="Encrypt each deal's microsite with its own password (off for local preview only).")
    secrets_file: RelativePath = Field(
        DEFAULT_SECRETS_FILE,
        description="Passwords as `slug: password` lines, relative to mkdocs.yml (or ~/...); keep it out of git.")
    allow_password_reuse: Flag = Field(
        False,
        description="Let several deals share one password. Off by default: whoever holds one deal's password could "
                    "open the others, so the build and `dealrooms password --set` refuse it and name the deals that "
                    "share one. Turn on only when the same people must open all of them, e.g. two deals with one buyer.")
    kdf_iterations: Annotated[
        int, Field(ge=MIN_ITERATIONS),
        Expect(f"a whole number of at least {MIN_ITERATIONS:,}", f"e.g. {DEFAULT_ITERATIONS}; raising it re-keys every deal"),
    ] = Field(DEFAULT_ITERATIONS, description="PBKDF2-HMAC-SHA256 iterations for deal keys; raising it re-keys every deal.")
    brand_name: Annotated[str | None, Expect("the seller's name as text")] = Field(
        None, description="The seller's name on the unlock page of protected deals (same for every deal).")
    brand_logo: Annotated[str | None, Field(min_length=1), Expect("a logo file relative to mkdocs.yml", "e.g. branding/logo.svg")] = Field(
        None, description="The seller's logo (SVG, PNG, WebP or JPEG, relative to mkdocs.yml) on the unlock page.")
    brand_color: Annotated[str | None, Field(pattern=COLOR), Expect("a CSS colour", "e.g. '#1f3a93' (quoted: '#' starts a YAML comment)")] = Field(
        None, description="Accent colour of the unlock page, e.g. '#1f3a93' (default: the theme's primary colour).")
    cache_dir: RelativePath = Field(
        ".cache/dealrooms",
        description="Where builds keep validated deals and finished output between runs (relative to mkdocs.yml; keep it out of git).")
    shard: Annotated[str | None, Expect("K/N, e.g. 1/3")] = Field(
        None, description="`K/N`: build only the K-th of N deterministic subsets of deals (CI matrices); DEALROOMS_SHARD overrides.")
    strict: Flag = Field(
        False, description="Plan warnings (dealrooms check) fail the build and `dealrooms check`, as errors do: for CI.")
    health: HealthOptions = Field(
        default_factory=HealthOptions,
        description="When a deal is at risk or off track: its slip in days, or its number of overdue milestones.")
    stages: Annotated[
        tuple[StageOption, ...], Field(strict=False), Expect("a list of stages", "e.g. [{name: evaluation, exit_criteria: [security-review], probability: 40}]")
    ] = Field((), description="Sales stages in order; a deal's `stage` is checked against the exit criteria it has done.",
              json_schema_extra=lambda schema: _or_text(schema["items"]))

    @field_validator("shard")
    @classmethod
    def _shard(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                parse_shard(text)
            except DealroomsError as exc:
                raise PydanticCustomError("shard", str(exc).removeprefix("shard: ")) from None
        return text

    @field_validator("stages")
    @classmethod
    def _distinct(cls, stages: tuple[StageOption, ...]) -> tuple[StageOption, ...]:
        seen: dict[str, int] = {}
        for i, stage in enumerate(stages):
            if stage.key in seen:
                raise PydanticCustomError(
                    "stage_twice", "stage '{name}' is listed twice (entries {first} and {second}, counting from 0)",
                    {"name": stage.name, "first": seen[stage.key], "second": i},
                )
            seen[stage.key] = i
        return stages

    @field_validator("brand_logo")
    @classmethod
    def _logo(cls, logo: str | None, info: ValidationInfo) -> str | None:
        # The unlock page's logo is served to every visitor: checked like a deal's logo
        # (type, content, no scripts, never a link out of the project) when the project is known.
        config_file = (info.context or {}).get("config_file")
        if logo is not None and config_file is not None:
            root = Path(config_file).parent
            problems = check_logo(root / logo, project_dir=root, shown=logo, declared_in=Path(config_file))
            if problems:
                raise PydanticCustomError("logo", "{message}", {"message": problems[0].message, "hint": problems[0].hint})
        return logo

    @property
    def thresholds(self) -> Thresholds:
        """The ``health`` option as the planner's thresholds."""
        return Thresholds(**self.health.model_dump())

    @property
    def sales_stages(self) -> tuple[Stage, ...]:
        """The ``stages`` option as the planner's stages."""
        return tuple(Stage(s.name, s.exit_criteria, s.probability) for s in self.stages)


def options_schema() -> dict[str, Any]:
    """The JSON Schema of the plugin options (the ``dealrooms:`` entry of mkdocs.yml), for editors."""
    schema = Options.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


class InvalidOptions(DealroomsError):
    """The plugin options have problems; every one is listed, one line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line or 0, p.path))  # in the file's order
        super().__init__("\n".join(str(p) for p in self.problems))


def validate_options(data: Mapping[str, Any] | None, *, config_file: Path) -> Options:
    """The plugin options from the ``dealrooms`` entry of ``config_file`` as loaded (``!ENV`` resolved).

    ``brand_logo`` is checked relative to the config file's folder. Raises
    :class:`InvalidOptions` naming, for each problem, the file and line the
    option is written on (following ``INHERIT``) and its path under
    ``plugins.dealrooms``.
    """
    config_file = Path(config_file)
    if data is not None and not isinstance(data, Mapping):
        raise InvalidOptions([Problem(config_file, _line(config_file, ()), dotted(WHERE),
                                      f"expected the options as a mapping (indented 'key: value' lines), found {_found(data)}")])
    try:
        return Options.model_validate(dict(data or {}), context={"config_file": config_file.absolute()})
    except ValidationError as exc:
        problems = []
        for loc, message, hint, at_key in _messages(exc, Options):
            file, line = _locate(config_file, loc, at_key=at_key)
            problems.append(Problem(file, line, dotted((*WHERE, *loc)), message, hint))
        raise InvalidOptions(problems) from None


# --- messages -----------------------------------------------------------------


def _messages(exc: ValidationError, model: type[BaseModel]) -> list[tuple[tuple[str | int, ...], str, str | None, bool]]:
    """``(loc, message, hint, at_key)`` for each error, in the deal files' words."""
    out = []
    for error in exc.errors(include_url=False):
        kind, value = error["type"], error.get("input")
        *steps, last = error["loc"] or ("",)
        # pydantic adds steps such as 'function-after[...]' to locations; only fields (and the unknown key) are paths.
        loc = tuple(s for s in steps if isinstance(s, int) or s in _field_names())
        if isinstance(last, int) or last in _field_names() or kind == "extra_forbidden":
            loc += (last,)
        owner, field, item = _field_at(model, loc)
        if kind == "extra_forbidden":
            allowed = sorted(owner.model_fields) if owner else []
            close = _close(str(loc[-1]), allowed)
            message = f"unknown option; did you mean {close[0]!r}?" if close else "unknown option"
            out.append((loc, message, None if close else f"allowed here: {', '.join(allowed)}", True))
            continue
        if kind == "missing":
            expect = _expect(field)
            hint = f"add '{loc[-1]}:' here" + (f", {expect.hint}" if expect and expect.hint else "")
            out.append((loc, "required option missing", hint, False))
            continue
        if kind in _OWN_ERRORS:
            hint = (error.get("ctx") or {}).get("hint")
            out.append((loc, error["msg"], hint, False))
            continue
        expect = _expect(field)
        if kind in ("model_type", "dict_type", "model_attributes_type"):
            out.append((loc, f"expected a mapping (indented 'key: value' lines), found {_found(value)}", None, False))
        elif expect is not None:
            what = expect.item if item and expect.item else expect.what
            out.append((loc, f"expected {what}, found {_found(value)}", expect.hint, False))
        else:
            out.append((loc, f"{error['msg'].rstrip('.')}; found {_found(value)}", None, False))
    return out


_OWN_ERRORS = ("health_order", "shard", "stage_twice", "logo", "blank")


@functools.cache
def _field_names() -> frozenset[str]:
    return frozenset(name for m in (Options, HealthOptions, StageOption) for name in m.model_fields)


def _field_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[type[BaseModel], Any, bool]:
    """For 'did you mean' and wording: the model that holds ``loc``'s last key, the field at ``loc``
    (or None) and whether ``loc`` is an item of that field's list."""
    owner: type[BaseModel] = model
    field = None
    for step in loc:
        if isinstance(step, int):
            continue  # an item of a list: the list's item model (if any) was taken with the list
        if step not in owner.model_fields:
            return owner, None, False
        field = owner.model_fields[step]
        owner = _model_of(field.annotation) or owner
    return owner, field, bool(loc) and isinstance(loc[-1], int)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _expect(field: Any) -> Expect | None:
    return next((m for m in getattr(field, "metadata", ()) if isinstance(m, Expect)), None)


# --- where an option is written ------------------------------------------------------


def _locate(config_file: Path, loc: Iterable[str | int], *, at_key: bool = False) -> tuple[Path, int | None]:
    """The file and line of ``plugins.dealrooms.<loc>``; the nearest enclosing entry when it is not written out."""
    loc = tuple(loc)
    nearest: tuple[Path, int | None] | None = None
    for file, root in _chain(config_file):
        plugins = _child(root, "plugins")
        if plugins is None:
            continue  # not set here: MkDocs takes the inherited file's list
        entry = _entry(plugins[1])
        line, complete = _walk(entry, loc, at_key=at_key) if entry else (plugins[0], False)
        if complete:
            return file, line
        nearest = nearest or (file, line)
        if not isinstance(plugins[1], yaml.MappingNode):
            break  # MkDocs' INHERIT replaces a list whole; only mappings are merged with the parent's
    return nearest or (config_file, None)


def _line(config_file: Path, loc: tuple[str | int, ...]) -> int | None:
    return _locate(config_file, loc)[1]


def _chain(config_file: Path, depth: int = 0) -> Iterable[tuple[Path, yaml.Node]]:
    """The config file's node tree, then those of the files it inherits from (``INHERIT``)."""
    try:
        # Composing keeps marks and constructs nothing, so tags such as !ENV or !!python/name need no support here.
        root = yaml.compose(config_file.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return
    if not isinstance(root, yaml.MappingNode):
        return
    yield config_file, root
    parent = _child(root, "INHERIT")
    if parent is not None and isinstance(parent[1], yaml.ScalarNode) and depth < 10:
        yield from _chain(config_file.parent / parent[1].value, depth + 1)


def _child(node: yaml.Node, key: str) -> tuple[int, yaml.Node] | None:
    """(line of the key, value node) of ``key`` in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node.start_mark.line + 1, value
    return None


def _entry(plugins: yaml.Node) -> tuple[int, yaml.Node] | None:
    """The ``dealrooms`` entry of ``plugins:``, a list (``- dealrooms: ...``) or a mapping."""
    if isinstance(plugins, yaml.MappingNode):
        return _child(plugins, PLUGIN)
    if isinstance(plugins, yaml.SequenceNode):
        for item in plugins.value:
            if isinstance(item, yaml.ScalarNode) and item.value == PLUGIN:
                return item.start_mark.line + 1, item
            found = _child(item, PLUGIN)
            if found is not None:
                return found
    return None


def _walk(entry: tuple[int, yaml.Node], loc: tuple[str | int, ...], *, at_key: bool) -> tuple[int, bool]:
    """The line of ``loc`` below the plugin's entry, and whether it is written out (else: the nearest parent's line)."""
    line, node = entry
    for i, step in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(step, str):
            found = _child(node, step)
            if found is None:
                return line, False
            key_line, node = found
            # A block value starts on the line after its key: the key is where to look.
            line = key_line if (at_key and last) or not isinstance(node, yaml.ScalarNode) else node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line, False
    return line, True
