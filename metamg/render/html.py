"""The reports as self-contained HTML: the Markdown metamg writes, rendered by markdown-it-py
(CommonMark with GFM tables, raw HTML off, so user text that reached the Markdown escaped stays
text), figures embedded as data URIs, links between reports pointed at their HTML, and one
stylesheet for the screen and for print, where "At a glance" fills page 1 (the handout) and the
details follow after a page break. No script and nothing fetched from the network."""

from __future__ import annotations

import base64
import html
import mimetypes
import os
from urllib.parse import unquote, urlsplit

from metamg.io.atomic import write_atomic

CSS = """
:root { color-scheme: light; }
body { font-family: "Source Sans 3", "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif;
  font-size: 15px; line-height: 1.45; color: #1b1b1b; margin: 0; background: #fff; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: 0 0 0.75rem; }
h2 { font-size: 1.25rem; margin: 1.8rem 0 0.6rem; padding-bottom: 0.2rem; border-bottom: 1px solid #d6d6d6; }
h3 { font-size: 1.05rem; margin: 1.3rem 0 0.4rem; }
p, li { overflow-wrap: break-word; }
table { border-collapse: collapse; width: 100%; margin: 0.6rem 0 1rem; font-size: 0.82rem; }
th, td { border: 1px solid #c9c9c9; padding: 0.3rem 0.45rem; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
th { background: #eef2f6; }
tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; display: block; margin: 0.6rem auto; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.9em; }
.glance { background: #f6f9fc; border: 1px solid #d5e1ec; border-radius: 6px; padding: 0.9rem 1.1rem; }
.glance h2 { margin-top: 0; border: none; }
.glance img { max-height: 26rem; }
nav.formats { font-size: 0.85rem; color: #555; margin-bottom: 0.5rem; }
@page { size: A4; margin: 12mm 12mm 14mm; }
@media print {
  body { font-size: 9.5pt; line-height: 1.3; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 15pt; margin-bottom: 2mm; }
  h2 { font-size: 12pt; margin: 5mm 0 2mm; break-after: avoid; }
  .glance { border: none; background: none; padding: 0; break-after: page; }
  .glance p, .glance li { margin: 1mm 0; }
  .glance table { font-size: 7pt; }
  .glance img { max-height: 105mm; max-width: 100%; }
  table { font-size: 7.5pt; break-inside: auto; }
  tr, img { break-inside: avoid; }
  nav.formats { display: none; }
}
"""


def markdown_html(markdown: str, base_dir: str) -> str:
    """The HTML of a Markdown fragment: images under ``base_dir`` embedded as data URIs (one
    that is missing keeps its alt text), links to local .md files pointed at their .html."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(markdown)
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                uri = _data_uri(str(child.attrGet("src") or ""), base_dir)
                if uri:
                    child.attrSet("src", uri)
                else:  # never a broken image: say which figure is missing
                    child.type, child.tag, child.attrs = "text", "", {}
                    child.content = f"[figure not found: {child.content}]"
                    child.children = None
            elif child.type == "link_open":
                child.attrSet("href", _html_link(str(child.attrGet("href") or "")))
    return md.renderer.render(tokens, md.options, {})


def html_page(title: str, glance_md: str, details_md: str, base_dir: str) -> str:
    """One self-contained page: "At a glance" (the handout) and then the details."""
    glance = markdown_html(glance_md, base_dir)
    details = markdown_html(details_md, base_dir)
    body = f'<section class="glance">\n{glance}</section>\n' if glance_md.strip() else ""
    body += f'<section class="details">\n{details}</section>\n' if details_md.strip() else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


def write_html(path: str, title: str, glance_md: str, details_md: str, base_dir: str) -> str:
    write_atomic(path, html_page(title, glance_md, details_md, base_dir))
    return path


def _data_uri(src: str, base_dir: str) -> str:
    if urlsplit(src).scheme:  # metamg writes only local figures; anything else is not fetched
        return ""
    path = os.path.join(base_dir, unquote(src))
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return ""
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _html_link(href: str) -> str:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
        return href
    return href[: len(parts.path) - 3] + ".html" + href[len(parts.path) :]
