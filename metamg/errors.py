"""Problems with user input, collected so that one run reports all of them.

Every layer raises :class:`InputError`; the CLI prints one line per problem and exits 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Characters that would break "one line per problem" or drive the terminal: C0 and C1 controls
# and the Unicode line and paragraph separators (str.splitlines splits on all of them).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def visible(text: str) -> str:
    """``text`` on one line, with unprintable characters shown as escapes (\\n, \\x0c)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        """``FILE:LINE: column: message (value)``, always one line (a label or cell holding a
        line break or control character is shown with escapes)."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.column:
            parts.append(self.column)
        text = f"{': '.join(parts)}: {self.message}"
        if self.value is not None:
            text += f" ({self.value})"
        return visible(text)


class InputError(Exception):
    """Raised with every problem found, so the user can fix them all in one go."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
