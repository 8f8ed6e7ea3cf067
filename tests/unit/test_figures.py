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


def test_weekly_requests_without_any_say_so_instead_of_empty_axes():
    """A country imported without operations drew axes from -1 to 6 and 0 to 4
    with nothing on them: the chart now says there are no requests."""
    import pandas as pd

    from dashapp.i18n import t
    from layouts.figures import timeseries_chart
    from tests.visible_text import figure_strings

    empty = pd.DataFrame({"week": pd.to_datetime([]), "doc_type": [], "requests": []})
    for frame in (
        empty,
        pd.DataFrame(
            {"week": pd.to_datetime(["2026-01-05"]), "doc_type": ["CNI"], "requests": [0]}
        ),
    ):
        for lang in ("fr", "en"):
            fig = timeseries_chart(frame, {"CNI": "Carte"}, lang)
            assert fig["data"] == []
            assert t("chart.no_requests", lang) in " ".join(figure_strings(fig))
    some = pd.DataFrame(
        {"week": pd.to_datetime(["2026-01-05"]), "doc_type": ["CNI"], "requests": [3]}
    )
    assert timeseries_chart(some, {"CNI": "Carte"}, "fr")["data"][0]["y"] == [3]
