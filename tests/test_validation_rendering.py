"""pd14_pynn.validation.rendering: report blocks as Markdown and as self-contained HTML."""

import base64

import pytest

from pd14_pynn.validation import rendering

PNG = b"\x89PNG\r\n\x1a\n not a real image"


@pytest.fixture
def blocks(tmp_path):
    figure = tmp_path / "figures" / "rates.png"
    figure.parent.mkdir()
    figure.write_bytes(PNG)
    return [("h1", "Title"), ("h3", "a < b"), ("p", "Some text."),
            ("table", ["population", "verdict"], [["L4E", "FAIL"], ["L4I | x", "pass"]]),
            ("figures", [(str(figure), "rates & more")])]


def test_markdown_of_each_block(blocks, tmp_path):
    assert rendering.to_markdown(blocks, str(tmp_path)).split("\n") == [
        "# Title", "", "### a < b", "", "Some text.", "",
        "| population | verdict |", "|---|---|", "| L4E | FAIL |", "| L4I / x | pass |", "",
        "![rates & more](figures/rates.png)", ""]


def test_html_escapes_text_colours_verdicts_and_embeds_figures(blocks):
    page = rendering.to_html(blocks, title="T & T")
    assert "<title>T &amp; T</title>" in page
    assert "<h3>a &lt; b</h3>" in page and "<p>Some text.</p>" in page
    assert '<td class="fail">FAIL</td>' in page and '<td class="pass">pass</td>' in page
    assert "<td>L4I | x</td>" in page
    data = "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")
    assert f'<img src="{data}" alt="rates &amp; more">' in page
    assert page.endswith("</body>\n</html>\n")


@pytest.mark.parametrize("render", [lambda b: rendering.to_markdown(b, "."),
                                    rendering.to_html])
def test_unknown_block_is_refused(render):
    with pytest.raises(ValueError, match="unknown report block 'h4'"):
        render([("h4", "deep")])
