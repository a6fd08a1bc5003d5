"""The HTML and PDF reports: self-contained, escaped, deterministic, and printed as a real
browser prints them (headless Chromium: the handout is page 1, every figure loaded, the
summary-of-findings row is in the PDF's text), and by WeasyPrint (metamg report --format pdf)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from metamg.render.html import html_page, markdown_html
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
MI = ROOT / "studies" / "iv_magnesium_mi_mortality.csv"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("METAMG_NO_BROWSER"):
            pytest.skip("METAMG_NO_BROWSER is set")
        pytest.fail(
            "headless Chromium is needed for the browser tests: apt-get install chromium (.ci/run does)"
        )
    return found


def print_pdf(html_file: Path, pdf_file: Path) -> None:
    profile = html_file.parent / "chromium-profile"
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_file}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True)
    return text.stdout.split("\f")


def pdf_image_count(pdf: Path) -> int:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    return len(out.splitlines()) - 2  # two header lines


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    code, _, err = run_cli(
        "report", MI, ROOT / "studies" / "magnesium_migraine.csv", "-o", out, "--format", "html"
    )
    assert code == 0, err
    return out


def test_user_text_is_escaped_and_nothing_is_fetched():
    md = "# A \\<b>bold\\</b> title\n\nText with \\<script>alert(1)\\</script> and [a link](other.md).\n"
    page = html_page("<title> & co", md, "![missing](nope.png)\n", ".")
    assert "<b>" not in page and "<script" not in page and "&lt;script&gt;" in page
    assert "<title>&lt;title&gt; &amp; co</title>" in page
    assert 'href="other.html"' in page  # links between reports point at their HTML
    assert "<img" not in page and "[figure not found: missing]" in page  # never a broken image
    assert (
        not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        and "@import" not in page
        and "url(" not in page
    )


def test_the_report_is_self_contained_and_deterministic(written, tmp_path):
    page = (written / "iv_magnesium_mi_mortality.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert len(srcs) == len(
        re.findall(r"!\[", (written / "iv_magnesium_mi_mortality.md").read_text(encoding="utf-8"))
    )
    glance, details = page.split('<section class="details">')
    assert '<section class="glance">' in glance and "<h2>At a glance</h2>" in glance
    assert "Forest plot of" in glance and "<h2>What the evidence says</h2>" in details
    index = (written / "index.html").read_text(encoding="utf-8")
    assert 'href="iv_magnesium_mi_mortality.html"' in index and '.md"' not in index
    runs = []
    for _ in range(2):  # the same folder (its path is in the report's "Re-create" line)
        shutil.rmtree(tmp_path / "x", ignore_errors=True)
        code, _, err = run_cli("report", MI, "-o", tmp_path / "x", "--format", "html")
        assert code == 0, err
        runs.append((tmp_path / "x" / "iv_magnesium_mi_mortality.html").read_bytes())
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_chromium_prints_the_handout_on_page_one(written, tmp_path):
    pdf = tmp_path / "mi.pdf"
    print_pdf(written / "iv_magnesium_mi_mortality.html", pdf)
    pages = pdf_pages(pdf)
    first, second = one_line(pages[0]), one_line(pages[1])
    md = (written / "iv_magnesium_mi_mortality.md").read_text(encoding="utf-8")
    statement = re.search(r"^\*\*Answer\.\*\* (.*)$", md, re.M).group(1)
    assert "At a glance" in first and statement in first  # the GRADE sentence of the SoF row
    assert "68,820" in first  # the row's participants
    assert "At a glance" not in second and not second.startswith("Question")
    assert second.startswith("About this study set") or second.startswith("What the evidence says")
    page = (written / "iv_magnesium_mi_mortality.html").read_text(encoding="utf-8")
    assert pdf_image_count(pdf) == page.count("<img ")  # every figure loaded
    index_pdf = tmp_path / "index.pdf"
    print_pdf(written / "index.html", index_pdf)
    index_first = one_line(pdf_pages(index_pdf)[0])
    assert "At a glance" in index_first and "Intravenous magnesium and mortality" in index_first
    assert "The study sets" not in index_first  # the index's details start on page 2


@pytest.mark.slow
def test_weasyprint_writes_the_same_handout(tmp_path):
    code, out, err = run_cli("report", MI, "-o", tmp_path, "--format", "pdf")
    assert code == 0, err
    pdf = tmp_path / "iv_magnesium_mi_mortality.pdf"
    assert (tmp_path / "iv_magnesium_mi_mortality.md").exists()  # md is always written
    assert not (tmp_path / "iv_magnesium_mi_mortality.html").exists()
    pages = pdf_pages(pdf)
    assert "At a glance" in pages[0] and "68,820" in one_line(pages[0])
    assert "At a glance" not in pages[1]
    first = pdf.read_bytes()
    pdf.unlink()
    code, _, err = run_cli("report", MI, "-o", tmp_path, "--format", "pdf")
    assert code == 0, err
    assert pdf.read_bytes() == first


def test_an_unknown_format_is_one_line_and_exit_2(tmp_path):
    code, out, err = run_cli("report", MI, "-o", tmp_path, "--format", "md,rtf")
    assert code == 2 and "unknown format 'rtf'" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_markdown_tables_and_emphasis_render():
    html = markdown_html("| a | b |\n|---|---|\n| **x** | 1 |\n", ".")
    assert "<table>" in html and "<strong>x</strong>" in html
