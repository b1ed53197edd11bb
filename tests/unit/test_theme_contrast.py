"""The theme's badge and alert colours meet WCAG AA contrast (4.5:1 for normal text).

The confidence badges and the red-flag / notice banners use these text-on-background pairs; the
check reads the real `.streamlit/config.toml`, so a colour change that breaks contrast fails here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ui.render import LEVEL_STYLE

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
AA_NORMAL_TEXT = 4.5


def luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of an opaque #RRGGBB colour."""
    value = hex_colour.lstrip("#")
    assert len(value) == 6, f"opaque #RRGGBB expected, got {hex_colour}"
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def theme() -> dict[str, str]:
    return tomllib.loads(CONFIG.read_text("utf-8"))["theme"]


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("colour", ["green", "blue", "orange", "yellow", "red", "gray", "violet"])
def test_palette_text_on_its_background_meets_aa(colour: str) -> None:
    values = theme()
    text, background = values[f"{colour}TextColor"], values[f"{colour}BackgroundColor"]
    assert contrast(text, background) >= AA_NORMAL_TEXT
    assert contrast(text, values["backgroundColor"]) >= AA_NORMAL_TEXT
    assert contrast(text, values["secondaryBackgroundColor"]) >= AA_NORMAL_TEXT


def test_every_confidence_badge_colour_is_themed() -> None:
    values = theme()
    for colour, _icon in LEVEL_STYLE.values():
        assert f"{colour}TextColor" in values and f"{colour}BackgroundColor" in values


def test_confidence_levels_differ_in_colour_and_icon() -> None:
    assert len({c for c, _ in LEVEL_STYLE.values()}) == len(LEVEL_STYLE)
    assert len({i for _, i in LEVEL_STYLE.values()}) == len(LEVEL_STYLE)


def test_body_text_and_primary_meet_aa() -> None:
    values = theme()
    assert contrast(values["textColor"], values["backgroundColor"]) >= AA_NORMAL_TEXT
    assert contrast(values["textColor"], values["secondaryBackgroundColor"]) >= AA_NORMAL_TEXT
    assert contrast("#FFFFFF", values["primaryColor"]) >= AA_NORMAL_TEXT
