"""Report blocks rendered as Markdown and as one self-contained HTML file.

A report is a list of blocks: ``("h1"|"h2"|"h3"|"p", text)``,
``("table", header, rows)`` and ``("figures", [(png path, caption), ...])``
(:func:`pd14_pynn.validation.report.report_blocks` builds them).

* :func:`to_markdown` -- Markdown; figures are linked as PNG files beside it.
* :func:`to_html` -- one HTML file with the figures embedded as base64 PNG, and
  the verdict cells (``pass``, ``FAIL``) coloured.
"""

import base64
import html
import os

from .distances import PASS


def to_markdown(blocks, out_dir):
    """Markdown text of ``blocks``; figures are linked relative to ``out_dir``."""
    lines = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + block[1], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |"
                      for row in rows]
            lines.append("")
        elif kind == "figures":
            for path, caption in block[1]:
                lines += [f"![{caption}]({os.path.relpath(path, out_dir)})", ""]
        else:
            raise ValueError(f"unknown report block {kind!r}")
    return "\n".join(lines)


_STYLE = """
body { font-family: sans-serif; max-width: 1300px; margin: 2em auto; padding: 0 1em;
       line-height: 1.4; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
td.fail { background: #f8d0d0; font-weight: bold; }
td.pass { background: #d8efd8; }
figure { display: inline-block; margin: 0.3em; vertical-align: top; }
img { max-width: 100%; }
figcaption { font-size: 0.8em; color: #555; }
"""


def _png_data_uri(path):
    with open(path, "rb") as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")


def to_html(blocks, title="PD14 cross-simulator validation"):
    """One HTML document of ``blocks``, figures embedded (base64 PNG), no external files."""
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>"]
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            parts.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(block[1])}</p>")
        elif kind == "table":
            header, rows = block[1], block[2]
            cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
            body = []
            for row in rows:
                tds = []
                for cell in row:
                    text = str(cell)
                    # colour verdict cells so failures stand out
                    css = {"FAIL": "fail", PASS: "pass"}.get(text)
                    tds.append(f"<td class=\"{css}\">{html.escape(text)}</td>" if css
                               else f"<td>{html.escape(text)}</td>")
                body.append("<tr>" + "".join(tds) + "</tr>")
            parts.append(f"<table>\n<tr>{cells}</tr>\n" + "\n".join(body) + "\n</table>")
        elif kind == "figures":
            for path, caption in block[1]:
                parts.append(f"<figure><img src=\"{_png_data_uri(path)}\" "
                             f"alt=\"{html.escape(caption)}\"><figcaption>"
                             f"{html.escape(caption)}</figcaption></figure>")
        else:
            raise ValueError(f"unknown report block {kind!r}")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)
