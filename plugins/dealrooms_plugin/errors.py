"""One root error type, and problems a rep can act on.

A :class:`Problem` is one line of the form ``FILE:LINE: field.path: message``;
the message says what was expected and what was found, and ends with a hint
when there is one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class DealroomsError(Exception):
    """Root of every error Dealrooms reports to a user (never a traceback)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one deal file."""

    file: Path
    line: int | None
    path: str
    message: str
    hint: str | None = None
    # A plan warning (checks.py): the deal builds, but the plan needs the rep's attention.
    warning: bool = False

    def __str__(self) -> str:
        where = display_path(self.file)
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.warning:
            where += ": warning"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class InvalidDeal(DealroomsError):
    """A deal file (or a template it extends) has problems; all are listed."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line or 0, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path) -> str:
    """Path relative to the working directory when it lies below it, else as given."""
    here = Path.cwd()
    # abspath, not resolve(): a linked file is named where it is linked, as written.
    absolute = Path(os.path.abspath(path))
    return str(absolute.relative_to(here)) if absolute.is_relative_to(here) else str(path)
