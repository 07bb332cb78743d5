"""The inline blank map style must survive being read as a URL.

A ``data:`` URL ends at the first ``#`` (the fragment), so ``"background-color":"#ffffff"``
cut the style's JSON after 96 characters and every map logged "Unterminated string in JSON
at position 96". Needs ``dashboard/components.py`` to percent-encode the style (or to use a
colour name).
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urldefrag

from dashboard.components import BLANK_MAP_STYLE


def test_blank_map_style_is_complete_json_once_read_as_a_url():
    url, fragment = urldefrag(BLANK_MAP_STYLE)
    assert fragment == ""
    scheme, _, payload = url.partition(",")
    assert scheme == "data:application/json"
    style = json.loads(unquote(payload))
    assert style["version"] == 8
    assert style["layers"][0]["type"] == "background"
