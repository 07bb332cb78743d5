"""Metadata and user text shown through Streamlit's Markdown stays plain text."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.components import plain

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def rendered_text(source: str) -> tuple[str, list[str]]:
    out = MD.render(source)
    tags = re.findall(r"<\s*([a-zA-Z0-9]+)", out)
    text = html.unescape(re.sub(r"<[^>]+>", "", out)).strip()
    return text, tags


def collapsed(text: str) -> str:
    """Text as a browser shows it: HTML draws a run of spaces as one space."""
    return re.sub(r"\s+", " ", text).strip()


def test_links_emphasis_html_and_directives_stay_text():
    hostile = ("[click here](http://evil.example) **bold** _it_ <b>x</b> `code` "
               ":red[alarm] $x^2$ ![img](http://e/x.png) | a | b |")
    text, tags = rendered_text(plain(hostile))
    assert text == hostile
    assert set(tags) <= {"p"}
    out = plain("Visit www.evil.example or http://evil.example, mail a@b.example")
    assert rendered_text(plain("&amp; &lt;b&gt;"))[0] == "&amp; &lt;b&gt;"
    assert "www\\.evil" in out and "http\\://" in out and "a\\@b" in out


def test_numbers_and_periods_read_as_written():
    assert plain("GP funding 2022-23: £155.05 (−9.2%), 1,234 practices") == (
        "GP funding 2022-23\\: £155.05 (−9.2%), 1,234 practices")
    assert plain("# heading") == "\\# heading" and plain("1. item") == "1\\. item"
    assert plain("2022-23 data") == "2022-23 data"
    assert plain("line one\r\nline two") == "line one line two"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=60))
def test_any_ascii_text_renders_as_one_plain_paragraph(text):
    source = plain(text)
    rendered, tags = rendered_text(source)
    assert set(tags) <= {"p"}, (text, source, tags)
    assert collapsed(rendered) == collapsed(text) or not text.strip(), (text, source)
