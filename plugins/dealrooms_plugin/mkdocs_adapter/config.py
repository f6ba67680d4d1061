"""Options of the ``dealrooms`` plugin in ``mkdocs.yml``, as MkDocs sees them.

The options' types, defaults, checks and documentation live in one typed
model, :class:`dealrooms_plugin.options.Options` (an example is in its module
docstring); the ``dealrooms`` command reads the same model. This class gives
MkDocs each option's name and default (so MkDocs still warns about unknown
names) and validates them all at once through the model when MkDocs loads the
config: a bad value stops ``mkdocs build`` and ``mkdocs serve`` before anything
runs, with the deal files' kind of message::

    mkdocs.yml:23: plugins.dealrooms.health.at_risk_slip_days: expected a whole number of days (0 or more), found 'ten' (hint: e.g. 14)

The plugin reads the result with :func:`plugin_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Generic, TypeVar

from mkdocs.config.base import BaseConfigOption, Config, ValidationError

from ..options import HealthOptions, InvalidOptions, Options
from ..settings import Settings, settings_from_config

T = TypeVar("T")


class ModelOption(BaseConfigOption[T], Generic[T]):
    """One option of :class:`~dealrooms_plugin.options.Options`: its default from the model, its checks in
    :meth:`DealroomsConfig.validate` (all options together, so each problem is reported with its line)."""

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        default = Options.model_fields[name].get_default(call_default_factory=True)
        self.default = default.model_dump() if isinstance(default, HealthOptions) else (
            list(default) if isinstance(default, tuple) else default)

    def run_validation(self, value: object) -> T:
        return value  # type: ignore[return-value]  # checked by the model in DealroomsConfig.validate


class DealroomsConfig(Config):
    """The plugin's options; see :class:`~dealrooms_plugin.options.Options` for what each one means."""

    enabled = ModelOption[bool]()
    deals_dir = ModelOption[str]()
    protect = ModelOption[bool]()
    secrets_file = ModelOption[str]()
    allow_password_reuse = ModelOption[bool]()
    strict = ModelOption[bool]()
    kdf_iterations = ModelOption[int]()
    brand_name = ModelOption["str | None"]()
    brand_logo = ModelOption["str | None"]()
    brand_color = ModelOption["str | None"]()
    cache_dir = ModelOption[str]()
    shard = ModelOption["str | None"]()
    health = ModelOption[dict[str, Any]]()
    stages = ModelOption[list[Any]]()

    settings: Settings | None = None

    def validate(self) -> tuple[list[tuple[str, Exception]], list[tuple[str, str]]]:
        failed, warnings = super().validate()
        if failed or self.get("enabled") is False:
            return failed, warnings  # a turned-off plugin's options are not checked, as MkDocs does for others
        # Unknown names get MkDocs' warning (above) and the model's error with a "did you mean":
        # a misspelt `protect` or `allow_password_reuse` must not be ignored, and the CLI refuses them too.
        try:
            self.settings = _settings(self)
        except InvalidOptions as exc:
            # MkDocs prefixes "Plugin 'dealrooms' option '<name>': "; the problem still names its file and line.
            failed.extend((p.path.removeprefix("plugins.dealrooms.").split(".")[0].split("[")[0], ValidationError(str(p)))
                          for p in exc.problems)
        return failed, warnings


def plugin_settings(config: DealroomsConfig) -> Settings:
    """The validated options of the plugin's config, and the paths they name (relative to ``mkdocs.yml``).

    Validated once, when MkDocs loaded the config; a config that MkDocs did not
    validate (made by hand) is validated here, raising InvalidOptions.
    """
    return config.settings if config.settings is not None else _settings(config)


def _settings(config: DealroomsConfig) -> Settings:
    return settings_from_config(Path(config.config_file_path or "mkdocs.yml"), {"plugins": [{"dealrooms": dict(config)}]})
