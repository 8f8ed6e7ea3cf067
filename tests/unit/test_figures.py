from layouts import maps
from layouts.figures import colorscale_for, fmt


def test_colorscales_are_explicit_with_the_worse_end_dark():
    # figures go to plotly.js as dicts: no named scales, whose direction differs
    lower_better = colorscale_for("mean_delay")
    higher_better = colorscale_for("on_time_share")
    assert lower_better[-1][1] == higher_better[0][1] == maps.SEQUENTIAL[-1][1]
    neutral = colorscale_for("population")
    assert isinstance(neutral, list) and neutral[0][1] == "#f7fbff"


def test_numbers_are_written_the_way_each_language_writes_them():
    assert fmt(12345.67, 1, "fr") == "12\u202f345,7"
    assert fmt(12345.67, 1, "en") == "12,345.7"
    assert fmt(float("nan"), 1, "fr") == "n.d."
