"""The PDF report: the HTML report printed by WeasyPrint (no browser needed), so page 1 is the
"At a glance" handout. WeasyPrint is the optional extra ``metamg[pdf]`` (it needs the Pango
system library); without it, asking for a PDF is one clear error."""

from __future__ import annotations

from metamg.errors import InputError, Problem
from metamg.io.atomic import write_atomic


def write_pdf(page: str, base_dir: str, path: str) -> str:
    """Print the HTML ``page`` (figures already embedded) to ``path``, atomically."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint present, Pango missing
        raise InputError(
            [
                Problem(
                    path,
                    "PDF output needs WeasyPrint and the Pango library: pip install 'metamg[pdf]' "
                    f"(and on Debian/Ubuntu apt-get install libpango-1.0-0 libpangoft2-1.0-0); {exc}",
                )
            ]
        ) from None
    # WeasyPrint writes no creation date by default: identical input, identical bytes
    write_atomic(path, HTML(string=page, base_url=base_dir).write_pdf())
    return path
