"""The one map builder: layer order, shared ranges, colour bars, palettes."""

import colorsys
import itertools

import numpy as np
import pandas as pd
import pytest

from dashapp.i18n import t
from geo.display import first_overlapping
from layouts import figures, maps
from layouts import importer as imp_layout
from layouts import scenarios as scn_layout
from layouts import segmentation as seg_layout
from optimization.workspace import MapView

GEOJSON = {"type": "FeatureCollection", "features": []}


def _types(fig):
    return [trace["type"] for trace in fig["data"]]


def _view(states, distance, before, unserved=None):
    n = len(states)
    return MapView(
        site_ids=[f"S{i}" for i in range(n)],
        lon=np.linspace(2.0, 3.0, n),
        lat=np.full(n, 45.0),
        names=[f"Site {i}" for i in range(n)],
        states=list(states),
        distance=np.asarray(distance, float),
        distance_before=np.asarray(before, float),
        unserved=np.zeros(len(distance)) if unserved is None else np.asarray(unserved),
    )


def _scenario_map(view, change=False, lang="fr", result=False):
    codes = [f"C{i}" for i in range(len(view.distance))]
    return scn_layout.scenario_map(
        GEOJSON, (codes, [f"Commune {c}" for c in codes]), view, change,
        {"center": {"lon": 2.5, "lat": 45.0}, "zoom": 6}, lang, None, "u",
        result=result,
    )  # fmt: skip


# -- ranges -----------------------------------------------------------------------------
def test_shared_range_spans_every_map_and_ignores_missing_values():
    assert maps.shared_range([1.0, 4.0], [None, 9.0, float("nan")]) == (1.0, 9.0)
    assert maps.shared_range([3.0], [5.0], floor=0.0) == (0.0, 5.0)
    assert maps.shared_range([None], [float("nan")]) is None
    assert maps.symmetric_range([-2.0, 5.0], [1.0]) == (-5.0, 5.0)
    assert maps.symmetric_range([]) == (-1.0, 1.0)


def test_plan_and_proposal_read_on_one_distance_scale():
    view = _view(["existing", "candidate"], [2.0, 30.0, np.nan], [5.0, 80.0, 12.0])
    chor = _scenario_map(view)["data"][maps.CHOROPLETH]
    # the proposal's colours run up to today's 80 km, not only its own 30 km
    assert (chor["zmin"], chor["zmax"]) == (0.0, 80.0)
    assert chor["z"] == [2.0, 30.0, None]
    change = _scenario_map(view, change=True)["data"][maps.CHOROPLETH]
    assert (change["zmin"], change["zmax"]) == (-50.0, 50.0)
    assert change["colorscale"] == maps.DIVERGING
    assert change["colorbar"]["title"]["text"] == "Δ km"


def test_small_maps_of_a_comparison_share_one_range_and_one_colour_bar():
    centers = pd.DataFrame(
        {"lon": [2.0], "lat": [45.0], "name": ["A"], "status": ["opened"]}
    )
    km = [[3.0, 10.0], [6.0, 40.0]]
    zrange = maps.shared_range(*km, floor=0.0)
    figs = [
        scn_layout.scenario_small_map(
            GEOJSON, ["R1", "R2"], (2, 44, 3, 46), centers, "fr", d, zrange, last
        )
        for d, last in zip(km, (False, True), strict=True)
    ]
    chors = [f["data"][maps.CHOROPLETH] for f in figs]
    assert {(c["zmin"], c["zmax"]) for c in chors} == {(0.0, 40.0)}
    assert [c["showscale"] for c in chors] == [False, True]
    sites = figs[0]["data"][maps.site_index()]
    assert sites["marker"]["color"] == [maps.SITE_COLORS["opened"]]
    assert sites["customdata"] == [["A", "centre ouvert"]]


# -- layers -----------------------------------------------------------------------------
def test_sites_are_drawn_above_the_choropleth_each_over_its_halo():
    view = _view(["existing", "candidate", "closed"], [1.0, 2.0], [1.0, 2.0], [0, 4])
    fig = _scenario_map(view)
    types = _types(fig)
    # MapLibre draws choropleths first in data order, then scatter layers in order
    last_choropleth = max(i for i, t in enumerate(types) if t == "choroplethmap")
    assert last_choropleth < maps.halo_index() < maps.site_index() == len(types) - 1
    assert types[maps.CONTEXT] == types[maps.CHOROPLETH] == "choroplethmap"
    halo, sites = fig["data"][maps.halo_index()], fig["data"][maps.site_index()]
    assert halo["hoverinfo"] == "skip" and halo["lon"] == sites["lon"]
    assert all(
        h == s + maps.HALO_PX
        for h, s in zip(halo["marker"]["size"], sites["marker"]["size"], strict=True)
    )
    assert sites["ids"] == ["S0", "S1", "S2"]


def test_segmentation_proposed_sites_are_the_top_layer():
    centers = pd.DataFrame(
        {"lon": [2.0], "lat": [45.0], "name": ["C"], "status": ["open"]}
    )
    sites = [{"code": "SEG01", "lon": 2.1, "lat": 45.1, "commune_name": "X",
              "population_served": 1200.0, "mean_distance_km": 3.5}]  # fmt: skip
    result = {"labels": {"A": 0, "B": 1}, "k": 2}
    fig = seg_layout.cluster_map(
        GEOJSON, ["A", "B"], ["a", "b"], result, centers, sites,
        {"center": {"lon": 2, "lat": 45}, "zoom": 6}, "fr",
    )  # fmt: skip
    top = fig["data"][-1]
    assert fig["data"].index(top) == maps.site_index(1)
    assert top["ids"] == ["SEG01"] and top["marker"]["color"] == maps.PROPOSED_COLOR
    assert fig["data"][maps.halo_index(1)]["lon"] == [2.1]
    assert "annotations" not in fig["layout"]
    before = seg_layout.cluster_map(
        GEOJSON, ["A"], ["a"], None, centers, None,
        {"center": {"lon": 2, "lat": 45}, "zoom": 6}, "en",
    )  # fmt: skip
    # the note before a run is a line above the map, never drawn over it
    assert "annotations" not in before["layout"]
    assert "Run the segmentation" in str(seg_layout.map_note(None, "en"))
    assert seg_layout.map_note(result, "en") is None


def test_a_single_unit_gets_no_colour_bar():
    one = maps.choropleth_layer(
        GEOJSON, ["A"], [12.0], colorscale=maps.SEQUENTIAL, colorbar_title="km"
    )
    same = maps.choropleth_layer(
        GEOJSON, ["A", "B"], [3.0, 3.0], colorscale=maps.SEQUENTIAL, colorbar_title="km"
    )
    two = maps.choropleth_layer(
        GEOJSON, ["A", "B"], [3.0, None], colorscale=maps.SEQUENTIAL,
        colorbar_title="km", zrange=(0.0, 9.0),
    )  # fmt: skip
    assert one["showscale"] is False and same["showscale"] is False
    assert two["showscale"] is True  # a range shared with another map says something


def _bars(fig):
    """Each shown colour bar of a map: (trace index, its colour bar)."""
    out = []
    for i, trace in enumerate(fig["data"]):
        if trace.get("showscale") and trace.get("colorbar"):
            out.append((i, trace["colorbar"]))
        marker = trace.get("marker") or {}
        if marker.get("showscale") and marker.get("colorbar"):
            out.append((i, marker["colorbar"]))
    return out


def _map_with_scales(title="‰/an", **kwargs):
    chor = maps.choropleth_layer(
        GEOJSON, ["A", "B"], [1.0, 5.0], colorscale=maps.SEQUENTIAL,
        colorbar_title=title,
    )  # fmt: skip
    centers = figures.center_layer(
        pd.DataFrame({
            "code": ["S1", "S2"], "name": ["Un", "Deux"], "lon": [2.0, 3.0],
            "lat": [45.0, 45.5], "capacity_week": [100.0, 300.0],
            "demand_week": [80.0, 360.0], "utilisation": [80.0, 120.0],
            "staff": [2, 5],
        }),
        "fr",
    )  # fmt: skip
    fig = maps.map_figure(
        {"center": {"lon": 2.5, "lat": 45.0}, "zoom": 6},
        context=maps.context_layer(GEOJSON, ["A", "B"], "fr"),
        choropleth=chor, sites=[centers], **kwargs,
    )  # fmt: skip
    return fig, chor, centers


def _check_below(bar, side, band):
    """``bar`` lies down in the band under the map at ``side``, titled above."""
    # from the bottom of the whole figure up, no higher than the band: the map
    # (above the bottom margin) holds no part of it
    assert bar["orientation"] == "h" and bar["title"]["side"] == "top"
    assert (bar["yref"], bar["y"], bar["yanchor"]) == ("container", 0.0, "bottom")
    assert 2 * bar["ypad"] + bar["thickness"] + 2 * 12 <= band
    assert bar["xref"] == "paper" and bar["lenmode"] == "fraction"
    assert (bar["x"], bar["xanchor"]) == ((0.0, "left") if side == "left" else
                                          (1.0, "right"))  # fmt: skip


def test_colour_bars_lie_under_the_map_outside_it_side_by_side():
    """Every map's colour bars (choropleth's, sites') lie in the band under the
    map that the bottom margin keeps, never over the map."""
    fig, chor, centers = _map_with_scales()
    bars = dict(_bars(fig))
    assert set(bars) == {maps.CHOROPLETH, maps.site_index()}
    band = fig["layout"]["margin"]["b"]
    assert band == maps.SCALE_BAND_PX >= 50  # title, bar and tick labels
    left, right = bars[maps.CHOROPLETH], bars[maps.site_index()]
    _check_below(left, "left", band)
    _check_below(right, "right", band)
    assert left["x"] + left["len"] < right["x"] - right["len"]  # apart
    assert left["title"]["text"] == "‰/an"
    assert right["title"]["text"] == "Utilisation (%)"
    # the layers are born with their bars there: a patch replacing one keeps it
    assert chor["colorbar"] == left and centers["marker"]["colorbar"] == right
    with pytest.raises(ValueError, match="side"):
        maps.scale_below("top")


def test_a_map_without_a_titled_colour_bar_keeps_no_band():
    # a choropleth without a title (clusters) and sites in plain colours
    chor = maps.choropleth_layer(GEOJSON, ["A", "B"], [0, 1],
                                 colorscale=maps.SEQUENTIAL)  # fmt: skip
    chor["showscale"] = False
    sites = maps.site_layer([2.0], [45.0], colors=maps.CENTER_COLOR, sizes=7)
    fig = maps.map_figure(
        {"center": {"lon": 2.5, "lat": 45.0}, "zoom": 6},
        context=maps.context_layer(GEOJSON, ["A", "B"], "fr"),
        choropleth=chor, sites=[sites],
    )  # fmt: skip
    assert fig["layout"]["margin"]["b"] == 0 and not _bars(fig)
    # a single unit hides the indicator's bar, the centers' keeps the band
    one, _, _ = _map_with_scales()
    one["data"][maps.CHOROPLETH]["showscale"] = False
    assert maps.has_scale(one["data"])


def test_every_screen_map_draws_its_colour_bars_under_it():
    """Scenario map, the comparison's small map with the bar, the import
    preview: bars below, band kept; nothing else placed by another rule."""
    view = _view(["existing", "candidate"], [2.0, 30.0], [5.0, 80.0])
    centers = pd.DataFrame(
        {"lon": [2.0], "lat": [45.0], "name": ["A"], "status": ["opened"]}
    )
    small = [
        scn_layout.scenario_small_map(
            GEOJSON, ["R1", "R2"], (2, 44, 3, 46), centers, "fr", [3.0, 10.0],
            (0.0, 40.0), last,
        )
        for last in (False, True)
    ]  # fmt: skip
    preview = imp_layout.preview_figure(
        {"type": "FeatureCollection", "features": [], "bbox": [2, 44, 3, 46]},
        ["A", "B"], [10.0, 2000.0], ["a", "b"], "fr",
    )  # fmt: skip
    for fig in (_scenario_map(view), _scenario_map(view, change=True), small[1],
                preview):  # fmt: skip
        bars = _bars(fig)
        assert [i for i, _ in bars] == [maps.CHOROPLETH]
        band = fig["layout"]["margin"]["b"]
        assert band == maps.SCALE_BAND_PX
        _check_below(bars[0][1], "left", band)
    # the small map with the bar is taller by its band: both maps keep one size
    assert small[0]["layout"]["margin"]["b"] == 0 and not _bars(small[0])
    assert "height" not in small[0]["layout"]
    assert small[1]["layout"]["height"] == scn_layout.SMALL_MAP_PX + maps.SCALE_BAND_PX
    assert preview["layout"]["height"] == 420


def test_unserved_communes_are_highlighted_with_a_legend_entry():
    view = _view(["existing"], [1.0, np.nan, np.nan], [1.0, 2.0, 3.0], [0, 7.5, 0])
    fig = _scenario_map(view, lang="en", result=True)
    layer = fig["data"][maps.HIGHLIGHT]
    assert layer["locations"] == ["C1"] and layer["showlegend"] is True
    assert layer["name"] == "Communes not served"
    assert layer["customdata"] == [["Commune C1", "7.5"]]
    assert fig["layout"]["showlegend"] is True
    served = _scenario_map(_view(["existing"], [1.0], [1.0]))
    nothing = served["data"][maps.HIGHLIGHT]
    assert nothing["locations"] == [maps.NO_SHAPE] and not nothing["showlegend"]
    assert nothing["geojson"]["features"] == []
    assert served["layout"]["showlegend"] is False


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", ["centre existant", "site candidat", "centre verrouillé ouvert",
                "site interdit", "centre à fermer"]),
        ("en", ["existing center", "candidate site", "center locked open",
                "forbidden site", "center to close"]),
    ],
)  # fmt: skip
def test_site_hover_labels_come_from_the_catalogue(lang, expected):
    states = ["existing", "candidate", "locked", "forbidden", "closed"]
    fig = _scenario_map(_view(states, [1.0], [1.0]), lang=lang)
    assert [c[1] for c in fig["data"][maps.site_index()]["customdata"]] == expected
    result = _scenario_map(
        _view(["closed", "opened"], [1.0], [1.0]), lang=lang, result=True
    )
    labels = [c[1] for c in result["data"][maps.site_index()]["customdata"]]
    assert labels == (
        ["centre fermé", "centre ouvert"]
        if lang == "fr"
        else ["center closed", "center opened"]
    )


def test_import_preview_is_darker_where_more_people_live():
    fig = imp_layout.preview_figure(
        GEOJSON, ["A", "B"], [100.0, float("nan")], ["a", "b"], "fr"
    )
    chor = fig["data"][maps.CHOROPLETH]
    assert not chor.get("reversescale")
    assert chor["colorscale"] == maps.LIGHT_TO_DARK
    assert chor["z"] == [100.0, None] and chor["customdata"][1] == ["b", "n.d."]
    assert chor["showscale"] is False  # a single known value: no scale


def test_charts_before_a_run_say_so_instead_of_empty_axes():
    for fig in (
        seg_layout.scores_chart(None, "fr"),
        seg_layout.pca_chart(None, {}, "fr"),
    ):
        assert fig["data"] == [] and not fig["layout"]["xaxis"]["visible"]
        assert "lancez-la" in fig["layout"]["annotations"][0]["text"]


def test_an_empty_charts_message_is_broken_into_lines_a_narrow_chart_shows():
    """Plotly does not wrap: the segmentation's 62-character message overflowed
    both sides of its chart in a 1280 px window."""
    for lang in ("fr", "en"):
        text = t("seg.chart.before_run", lang)
        shown = maps.message_figure(text, 260)["layout"]["annotations"][0]["text"]
        lines = shown.split("<br>")
        assert len(lines) > 1 and max(map(len, lines)) <= maps.MESSAGE_LINE_CHARS
        assert " ".join(lines) == text  # every word kept, in order
    long_word = "x" * 60  # never cut inside a word
    assert maps.message_figure(long_word)["layout"]["annotations"][0]["text"] == long_word


# -- colours ----------------------------------------------------------------------------
def _hue(color: str) -> tuple[float, float]:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, _, s = colorsys.rgb_to_hls(r, g, b)
    return h * 360, s


def _is_red(color):
    h, s = _hue(color)
    return s > 0.35 and (h < 20 or h > 340)


def _is_green(color):
    h, s = _hue(color)
    return s > 0.35 and 90 <= h <= 150


SCALES = {
    "sequential": maps.SEQUENTIAL,
    "diverging": maps.DIVERGING,
    "light_to_dark": maps.LIGHT_TO_DARK,
    "utilisation": maps.UTIL_SCALE,
    **{k: figures.colorscale_for(k) for k in ("mean_delay", "on_time_share")},
}
PALETTES = {
    "sites": [*maps.SITE_COLORS.values(), maps.PROPOSED_COLOR, maps.UNSERVED_COLOR],
    "clusters": maps.CATEGORICAL,
    "documents": list(figures.DOC_COLORS.values()),
    **{name: [c for _, c in scale] for name, scale in SCALES.items()},
}


def test_the_old_red_green_pair_is_caught():
    assert _is_red("#d73027") and _is_green("#1a9850")


@pytest.mark.parametrize("name", list(PALETTES))
def test_no_palette_or_scale_pairs_red_with_green(name):
    colors = PALETTES[name]
    assert not (any(map(_is_red, colors)) and any(map(_is_green, colors)))


# Viénot, Brettel & Mollon (1999): dichromat vision in linear RGB
DICHROMAT = {
    "protan": np.array([[0.11238, 0.88762, 0], [0.11238, 0.88762, 0],
                        [0.00401, -0.00401, 1]]),
    "deutan": np.array([[0.29275, 0.70725, 0], [0.29275, 0.70725, 0],
                        [-0.02234, 0.02234, 1]]),
}  # fmt: skip


def _lab(color: str, kind: str) -> np.ndarray:
    c = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lin = np.clip(DICHROMAT[kind] @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin  # fmt: skip
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("kind", list(DICHROMAT))
@pytest.mark.parametrize("name", ["sites", "clusters"])
def test_site_and_cluster_colours_stay_apart_for_colour_blind_readers(kind, name):
    colors = sorted(set(PALETTES[name][:8]))
    for a, b in itertools.combinations(colors, 2):
        assert np.linalg.norm(_lab(a, kind) - _lab(b, kind)) > 15, (a, b)


def test_worse_end_is_the_dark_end_of_kpi_scales():
    def lightness(color):
        return colorsys.rgb_to_hls(
            *(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        )[1]

    lower_better = figures.colorscale_for("mean_delay")
    higher_better = figures.colorscale_for("on_time_share")
    assert lightness(lower_better[-1][1]) < lightness(lower_better[0][1])
    assert lightness(higher_better[0][1]) < lightness(higher_better[-1][1])


# -- clicks on overlapping markers --------------------------------------------------------
def test_a_click_on_overlapping_markers_means_the_preferred_one():
    lon, lat = [2.0, 2.0002, 2.5], [45.0, 45.0, 45.0]
    size, existing = [17, 13, 17], [True, False, True]
    assert first_overlapping(lon, lat, size, 1, 8.0, existing) == 0
    assert first_overlapping(lon, lat, size, 1, 19.0, existing) == 1  # zoomed in
    assert first_overlapping(lon, lat, size, 0, 8.0, existing) == 0
    bad = [np.nan, 2.0002, 2.5]  # a site without coordinates is never chosen
    assert first_overlapping(bad, lat, size, 1, 8.0, existing) == 1


def test_empty_layers_are_never_empty_traces():
    # plotly.js leaves empty traces out of its redraws: their layers would stay
    # under the choropleth once sites arrive
    layer = maps.site_layer([], [], colors=[], sizes=[], customdata=[], ids=[])
    assert layer["lon"] == [None] and layer["lat"] == [None]
    assert layer["marker"]["size"] == [0] and layer["marker"]["color"] == [None]
    assert maps.halo_of(layer)["lon"] == [None]
    proposed = seg_layout.site_trace(None, "fr")
    assert proposed["lon"] == [None] and proposed["ids"] == []


def test_printed_maps_of_the_briefs_use_the_screen_colours():
    from matplotlib.colors import to_hex

    from dashapp.services import brief_maps

    assert {
        s: maps.SITE_COLORS[s] for s in ("kept", "opened", "closed")
    } == brief_maps.STATUS_COLORS
    assert to_hex(brief_maps.DISTANCE_CMAP(1.0)) == maps.SEQUENTIAL[-1][1].lower()
    assert to_hex(brief_maps.UTIL_CMAP(0.0)) == maps.UTIL_SCALE[0][1].lower()
    worse_high = brief_maps.kpi_cmap("mean_delay")
    assert to_hex(worse_high(1.0)) == maps.SEQUENTIAL[-1][1].lower()


# -- the view ---------------------------------------------------------------------------
def test_a_fitted_view_gives_the_browser_the_area_to_fit():
    """The view drawn first fits the box at the nominal size; the box goes to
    ``layout.meta`` for assets/mapfit.js, never into ``layout.map`` (where
    ``bounds`` would limit panning)."""
    view = maps.fit_view(2.0, 44.0, 3.0, 46.0, 300, 200)
    assert view["fit"] == [2.0, 44.0, 3.0, 46.0]
    fig, _, _ = _map_with_scales()
    assert "meta" not in fig["layout"]  # a plain view: nothing to fit
    fig = maps.map_figure(view, context=maps.context_layer(GEOJSON, ["A"], "fr"),
                          choropleth=maps.choropleth_layer(
                              GEOJSON, [], [], colorscale=maps.SEQUENTIAL))  # fmt: skip
    shown = fig["layout"]["map"]
    assert set(shown) == {"style", "center", "zoom"}
    assert (shown["center"], shown["zoom"]) == (view["center"], view["zoom"])
    assert fig["layout"]["meta"] == {"mapfit": {
        "bounds": [2.0, 44.0, 3.0, 46.0],
        "view": {"center": view["center"], "zoom": view["zoom"]},
        "padding": maps.FIT_PADDING_PX,
    }}  # fmt: skip
    assert "fit" in view  # the caller's view is left as given
    # a narrower map shows the same box at a lower zoom
    assert maps.fit_view(2.0, 44.0, 3.0, 46.0, 50, 200)["zoom"] < view["zoom"]


def test_the_zoom_a_map_shows_follows_the_browsers_fit_rule():
    """The user's view when they moved the map, else the browser's fit of the
    area (assets/mapfit.js's report), else the view drawn first; a fit of
    another area, a resize or a forged report reads as no report."""
    view = maps.fit_view(2.0, 44.0, 3.0, 46.0)
    first = view["zoom"]

    def fit(zoom, lon=2.5, lat=45.0):
        return {"map.center": {"lon": lon, "lat": lat}, "map.zoom": zoom}

    corners = [[2.4, 45.1], [2.6, 45.1], [2.6, 44.9], [2.4, 44.9]]
    moved = {"map.zoom": 11.0, "map._derived": {"coordinates": corners}}
    assert maps.shown_zoom(None, view) == first
    assert maps.shown_zoom(fit(first - 1.3), view) == first - 1.3  # a phone
    assert maps.shown_zoom(fit(first + 0.8), view) == first + 0.8  # a wide screen
    assert maps.shown_zoom(moved, view) == 11.0
    for no_report in (
        {"autosize": True},
        fit(6.0, lon=10.0),  # the fit of an area shown before (another zone)
        fit("x"),
        fit(float("nan")),
        fit(40.0),
        {"map.center": "2,45", "map.zoom": 6.0},
        {"map.center": {"lon": 2.5}, "map.zoom": 6.0},
        {**fit(6.0), "map.pitch": 0},
        [fit(6.0)],
        "map.zoom",
    ):
        assert maps.shown_zoom(no_report, view) == first, no_report
    # a plain view (no area): any centre is its own
    assert maps.shown_zoom(fit(3.0, lon=100.0), {"center": {}, "zoom": 5.0}) == 3.0


def test_the_view_told_after_a_resize_reads_as_the_view_shown():
    """assets/mapfit.js tells a resized map's view in plotly's own report of a
    pan (centre, zoom, bearing, pitch, the corners): the user's zoom, whatever
    the corners of the resized map; a fit it tells reads as the fit."""
    view = maps.fit_view(2.0, 44.0, 3.0, 46.0)

    def panned(zoom, corners):
        return {
            "map.center": {"lon": 2.5, "lat": 45.0},
            "map.zoom": zoom,
            "map.bearing": 0,
            "map.pitch": 0,
            "map._derived": {"coordinates": corners},
        }

    wide = [[2.3, 45.1], [2.7, 45.1], [2.7, 44.9], [2.3, 44.9]]
    narrow = [[2.45, 45.1], [2.55, 45.1], [2.55, 44.9], [2.45, 44.9]]
    assert maps.shown_zoom(panned(9.25, wide), view) == 9.25
    assert maps.shown_zoom(panned(9.25, narrow), view) == 9.25
    # the user's view off the area drawn (panned away): still theirs
    away = [[10.0, 1.0], [11.0, 1.0], [11.0, 0.0], [10.0, 0.0]]
    assert maps.shown_zoom(panned(4.5, away), view) == 4.5
    fit = {"map.center": {"lon": 2.5, "lat": 45.0}, "map.zoom": view["zoom"] - 0.4}
    assert maps.shown_zoom(fit, view) == view["zoom"] - 0.4
