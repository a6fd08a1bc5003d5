"""Problems with user input, collected so that one run reports all of them.

Every layer raises :class:`InputError`; the CLI prints one line per problem and exits 2.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.column:
            parts.append(self.column)
        text = f"{': '.join(parts)}: {self.message}"
        if self.value is not None:
            text += f" ({self.value})"
        return text


class InputError(Exception):
    """Raised with every problem found, so the user can fix them all in one go."""

    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
