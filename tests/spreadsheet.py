"""Write one table the ways spreadsheets save it (delimiter, decimal mark, encoding, line ends),
for tests that every variant reads as the same table."""

import csv
import io

# name -> (delimiter, decimal mark, encoding, line end)
VARIANTS = {
    "comma": (",", ".", "utf-8", "\n"),
    "semicolon": (";", ".", "utf-8", "\n"),
    "tab": ("\t", ".", "utf-8", "\n"),
    "semicolon, decimal commas": (";", ",", "utf-8", "\r\n"),
    "tab, decimal commas": ("\t", ",", "utf-8", "\n"),
    "utf-8 with BOM": (",", ".", "utf-8-sig", "\r\n"),
    "utf-16": (",", ".", "utf-16", "\n"),  # BOM, little-endian
    "utf-16 tab, decimal commas": ("\t", ",", "utf-16", "\r\n"),  # Excel's "Unicode text"
    "utf-16be semicolon": (";", ".", "utf-16be-bom", "\n"),
    "utf-32": (",", ".", "utf-32", "\n"),
}


def number_text(value) -> str:
    """How a spreadsheet writes a number: whole numbers without a decimal part."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


def table_bytes(header, rows, variant="comma") -> bytes:
    """``header`` and ``rows`` (numbers as int/float, text as str) saved as ``variant``."""
    delimiter, decimal, encoding, end = VARIANTS[variant]

    def line(cells):
        # written with a \r\n terminator, so that a cell holding \r or \n is always quoted
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
        return out.getvalue()[:-2]

    text = "".join(
        line(cells) + end
        for cells in [header]
        + [[c if isinstance(c, str) else number_text(c).replace(".", decimal) for c in row] for row in rows]
    )
    if encoding == "utf-16be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)
