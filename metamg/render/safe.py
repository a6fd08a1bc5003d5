"""User text in plain-text outputs: the terminal and CSV files.

A label is data: in the terminal it cannot move the cursor or recolour the screen (control
characters, including ANSI escape sequences, are shown as U+FFFD) and stays on its row; in a
CSV file it cannot become a spreadsheet formula (OWASP, "CSV Injection": a cell starting with
=, +, -, @, tab or carriage return is prefixed with a single quote). Numbers are written as
numbers and never altered.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[\t\n\r\v\f ]+")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def one_line(text) -> str:
    """Text for one terminal row: whitespace runs become one space, control characters U+FFFD."""
    return _CONTROL.sub("\ufffd", _SPACES.sub(" ", str(text)).strip())


def csv_text_cell(text) -> str:
    """A text cell that a spreadsheet program will not evaluate as a formula."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_START) else text
