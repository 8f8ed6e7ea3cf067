"""scripts/screenshot.py end to end: the demo country served, a throw-away
administrator signed in, the README's page drawn and saved (here at a phone's
width, the quicker shot); the script re-makes docs/screenshot.png this way."""

from __future__ import annotations

import struct

import pytest

from scripts import screenshot

pytestmark = pytest.mark.browser


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_shot001_screenshot_script_saves_the_readme_page(tmp_path, capsys):
    out = tmp_path / "shot" / "phone.png"
    code = screenshot.main(["--width", "390", "--height", "700", "--out", str(out)])
    assert code == 0
    assert _png_size(out) == (390, 700)  # the page exactly this size
    said = capsys.readouterr().out
    assert f"{out}: {screenshot.README_PATH} at 390x700, 1 map(s) drawn" in said
