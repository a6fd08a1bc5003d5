"""The PDF report: the HTML report printed by WeasyPrint (no browser needed), so page 1 is the
"At a glance" handout. WeasyPrint is the optional extra ``metamg[pdf]`` (it needs the Pango
system library); without it, asking for a PDF is one clear error."""

from __future__ import annotations

from metamg.errors import InputError, Problem
from metamg.io.atomic import write_atomic


def weasyprint_missing() -> str | None:
    """Why PDF output cannot be written here, or None when it can."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint present, Pango missing
        return (
            "PDF output needs WeasyPrint and the Pango library: pip install 'metamg[pdf]' (on "
            f"Debian/Ubuntu also apt-get install libpango-1.0-0 libpangoft2-1.0-0); {exc}"
        )
    return None


def write_pdf(page: str, base_dir: str, path: str) -> str:
    """Print the HTML ``page`` (figures already embedded) to ``path``, atomically."""
    why = weasyprint_missing()
    if why is not None:
        raise InputError([Problem(path, why)])
    from weasyprint import HTML

    # WeasyPrint writes no creation date by default: identical input, identical bytes
    write_atomic(path, HTML(string=page, base_url=base_dir).write_pdf())
    return path
