"""The one map builder: every map of the app is drawn here.

A map is, bottom to top: a grey context layer, one choropleth, a highlight layer
(e.g. the communes nobody serves), then site layers, each above a dark halo so that
its colours stay readable over any choropleth colour, and a note. Traces are
MapLibre's (``choroplethmap``, ``scattermap``), as plain dicts: building them
through ``plotly.graph_objects`` costs more server time than the queries behind
them. The trace positions are fixed (:data:`CONTEXT`, :data:`CHOROPLETH`,
:data:`HIGHLIGHT`, :func:`site_index`) so that callbacks can patch them.

The colours are :mod:`dashapp.palette`'s (imported here under the same names), the
one definition the printed maps of the briefs read too.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence

import numpy as np
from dash import html

from dashapp.i18n import t
from dashapp.palette import (  # noqa: F401
    CATEGORICAL,
    CENTER_COLOR,
    CONTEXT_COLOR,
    DIVERGING,
    HALO_COLOR,
    HALO_PX,
    LIGHT_TO_DARK,
    OPEN_STATES,
    PLAN_STATES,
    PROPOSED_COLOR,
    RESULT_STATES,
    SEQUENTIAL,
    SEQUENTIAL_DARK_TO_LIGHT,
    SITE_COLORS,
    SITE_SIZES,
    SITE_SYMBOL,
    UNSERVED_COLOR,
    UTIL_RANGE,
    UTIL_SCALE,
)
from geo.display import map_view, view_for_bounds

# plotly's built-in "white-bg" style has no tile source; its glyph URL is only
# fetched for text labels, which these maps never draw, so nothing leaves the
# machine. (An inline style dict would be re-applied with setStyle on every
# Patch and MapLibre then raises "Map error".)
OFFLINE_STYLE = "white-bg"

# -- trace positions --------------------------------------------------------------------
CONTEXT, CHOROPLETH, HIGHLIGHT = 0, 1, 2
EMPTY_GEOJSON = {"type": "FeatureCollection", "features": []}
NO_SHAPE = "-"  # the location of an empty highlight: no feature has this id


def site_index(k: int = 0) -> int:
    """Position of the ``k``-th site layer in a map's data (its halo is just below)."""
    return HIGHLIGHT + 2 + 2 * k


def halo_index(k: int = 0) -> int:
    """Position of the halo under the ``k``-th site layer."""
    return site_index(k) - 1


# -- ranges -----------------------------------------------------------------------------
def _finite(arrays: Iterable) -> np.ndarray:
    parts = [
        np.asarray([np.nan if v is None else v for v in a], dtype=float).ravel()
        for a in arrays
        if a is not None
    ]
    values = np.concatenate(parts) if parts else np.array([], dtype=float)
    return values[np.isfinite(values)]


def shared_range(*arrays, floor: float | None = None) -> tuple[float, float] | None:
    """One colour range for maps shown side by side (before/after, small maps).

    The smallest and largest finite value of all ``arrays`` (``floor`` lowers the
    bottom, e.g. 0 km); ``None`` when there is no finite value.

    Examples
    --------
    >>> shared_range([1.0, 4.0], [2.0, float("nan"), 9.0], floor=0.0)
    (0.0, 9.0)
    """
    values = _finite(arrays)
    if not len(values):
        return None
    lo, hi = float(values.min()), float(values.max())
    if floor is not None:
        lo = min(lo, floor)
    return lo, hi


def symmetric_range(*arrays) -> tuple[float, float]:
    """A range centred on 0 that holds every value (a change: shorter/longer).

    Examples
    --------
    >>> symmetric_range([-2.0, 5.0])
    (-5.0, 5.0)
    """
    values = _finite(arrays)
    span = max(1.0, float(np.abs(values).max()) if len(values) else 1.0)
    return -span, span


def _distinct_values(z) -> int:
    return len(np.unique(_finite([z])))


# -- layers -----------------------------------------------------------------------------
def context_layer(
    geojson: dict,
    codes: list[str],
    lang: str,
    customdata: list | None = None,
    hovertemplate: str | None = None,
) -> dict:
    """Grey shapes under the choropleth: the country around the units drawn."""
    layer = {
        "type": "choroplethmap",
        "geojson": geojson,
        "locations": codes,
        "z": [0] * len(codes),
        "featureidkey": "id",
        "colorscale": [[0, CONTEXT_COLOR], [1, CONTEXT_COLOR]],
        "showscale": False,
        "marker": {"line": {"width": 0.4, "color": "#ffffff"}},
        "hoverinfo": "skip",
        "name": t("map.outside", lang),
        "showlegend": False,
    }
    if customdata is not None:
        layer.update(customdata=customdata, hovertemplate=hovertemplate)
        layer.pop("hoverinfo")
    return layer


def choropleth_layer(
    geojson: dict,
    codes: list[str],
    z: Sequence,
    *,
    colorscale: list,
    customdata: list | None = None,
    hovertemplate: str | None = None,
    colorbar_title: str | None = None,
    zrange: tuple[float, float] | None = None,
    name: str = "",
    opacity: float = 0.85,
    line_width: float = 0.6,
) -> dict:
    """Units coloured by ``z`` (``None``: no value, the context shows through).

    The colour bar (under the map, at its left, titled ``colorbar_title``:
    :func:`scale_below`) is shown only when it says something: two or more
    distinct values, or a ``zrange`` shared with other maps. A single unit
    selected gets none.
    """
    layer = {
        "type": "choroplethmap",
        "geojson": geojson,
        "locations": codes,
        "featureidkey": "id",
        "z": list(z),
        "colorscale": colorscale,
        "marker": {
            "line": {"width": line_width, "color": "#ffffff"},
            "opacity": opacity,
        },
        "name": name,
        "showlegend": False,
    }
    if customdata is not None:
        layer["customdata"] = customdata
    if hovertemplate is not None:
        layer["hovertemplate"] = hovertemplate
    if zrange is not None:
        layer["zmin"], layer["zmax"] = zrange
    shared = zrange is not None and zrange[1] > zrange[0]
    layer["showscale"] = bool(colorbar_title) and (
        shared or _distinct_values(layer["z"]) > 1
    )
    layer["colorbar"] = scale_below("left", colorbar_title)
    return layer


def highlight_layer(
    geojson: dict | None = None,
    codes: list[str] | None = None,
    *,
    name: str = "",
    color: str = UNSERVED_COLOR,
    customdata: list | None = None,
    hovertemplate: str | None = None,
) -> dict:
    """Units drawn in one strong colour above the choropleth, with a legend entry
    that hides or shows them (empty: nothing to highlight, no legend entry).

    Never an empty trace, for the reason :func:`site_layer` gives.
    """
    codes = list(codes or [])
    layer = {
        "type": "choroplethmap",
        "geojson": geojson if codes and geojson else EMPTY_GEOJSON,
        # never empty (see site_layer): a code no shape has draws nothing
        "locations": codes or [NO_SHAPE],
        "featureidkey": "id",
        "z": [1] * max(len(codes), 1),
        "colorscale": [[0, color], [1, color]],
        "showscale": False,
        "marker": {"line": {"width": 0.8, "color": "#ffffff"}, "opacity": 0.85},
        "name": name,
        "showlegend": bool(codes),
        "hoverinfo": "skip",
    }
    if customdata is not None:
        layer.update(customdata=customdata, hovertemplate=hovertemplate)
        layer.pop("hoverinfo")
    return layer


def site_layer(
    lon: Sequence[float],
    lat: Sequence[float],
    *,
    colors: Sequence | str,
    sizes: Sequence[float] | float,
    customdata: list | None = None,
    hovertemplate: str | None = None,
    ids: list[str] | None = None,
    name: str = "",
    colorscale: list | None = None,
    crange: tuple[float, float] | None = None,
    colorbar_title: str | None = None,
) -> dict:
    """Sites as circles; ``colors`` are colours, or values on ``colorscale``
    (then a colour bar under the map, at its right, titled ``colorbar_title``:
    :func:`scale_below`).

    A layer without sites holds one point without coordinates (drawn nowhere):
    plotly.js leaves an empty trace out of its redraws, and its layer then stays
    under the choropleth when sites arrive later (e.g. segmentation's proposal).
    """
    if not len(lon):
        lon, lat = [None], [None]
        sizes = sizes if np.isscalar(sizes) else [0]
        colors = colors if isinstance(colors, str) else [None]
        customdata = None if customdata is None else [[""] * 6]
    marker = {
        "size": list(sizes) if not np.isscalar(sizes) else sizes,
        "color": list(colors) if not isinstance(colors, str) else colors,
        "opacity": 1.0,
        "symbol": SITE_SYMBOL,
    }
    if colorscale is not None:
        marker.update(colorscale=colorscale, showscale=bool(colorbar_title))
        if crange is not None:
            marker["cmin"], marker["cmax"] = crange
        if colorbar_title:
            marker["colorbar"] = scale_below("right", colorbar_title)
    layer = {
        "type": "scattermap",
        "lon": list(lon),
        "lat": list(lat),
        "mode": "markers",
        "marker": marker,
        "name": name,
        "showlegend": False,
    }
    if ids is not None:
        layer["ids"] = list(ids)
    if customdata is not None:
        layer["customdata"] = customdata
    if hovertemplate is not None:
        layer["hovertemplate"] = hovertemplate
    return layer


def halo_of(layer: dict) -> dict:
    """A dark ring under a site layer: its sites stand out on any choropleth."""
    size = layer["marker"]["size"]
    bigger = [s + HALO_PX for s in size] if isinstance(size, list) else size + HALO_PX
    return {
        "type": "scattermap",
        "lon": layer["lon"],
        "lat": layer["lat"],
        "mode": "markers",
        "marker": {"size": bigger, "color": HALO_COLOR, "opacity": 0.9},
        "hoverinfo": "skip",
        "showlegend": False,
        "name": "",
    }


def map_note(note: str | None) -> list[dict]:
    """The map's annotations: ``note`` in a box at the bottom (none for ``None``)."""
    if not note:
        return []
    return [
        {
            "text": note,
            "showarrow": False,
            "x": 0.5,
            "y": 0.01,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "align": "center",
            "bgcolor": "rgba(255,255,255,0.92)",
            "bordercolor": "#6c8ebf",
            "borderwidth": 1,
            "borderpad": 6,
            "font": {"size": 13, "color": "#1f3b5a"},
        }
    ]


# -- road network and catchments (the main map's overlays) ------------------------------
#: Road classes, most important first, as drawn: dark and wide to light and thin,
#: told apart by width as much as by colour (colour-blind safe). Same order as
#: ``geo.roads.ROAD_CLASSES`` (a test checks it).
ROAD_STYLES = {
    "trunk": ("#3b2a20", 3.4),
    "primary": ("#5a4334", 2.8),
    "secondary": ("#76604f", 2.2),
    "tertiary": ("#8c7866", 1.7),
    "local": ("#a3917f", 1.3),
    "track": ("#b49c82", 1.0),
    "path": ("#c4b4a2", 0.7),
}
CATCHMENT_COLOR = "#1f1f1f"
#: uid of the first site layer's halo: overlays are listed after the sites (so
#: the fixed positions above hold) but drawn below them, under this halo.
HALO_UID = "site-halo-0"
OVERLAY_BELOW = f"plotly-trace-layer-{HALO_UID}-fill"
#: overlay slots: one per road class, then the catchment outlines
N_OVERLAYS = len(ROAD_STYLES) + 1


def overlay_index(k: int, n_sites: int = 1) -> int:
    """Position of the ``k``-th overlay (road classes, then catchments) in a map
    drawn with ``n_sites`` site layers."""
    return site_index(n_sites - 1) + 1 + k


def _lines(lon, lat, *, color: str, width: float, name: str, group: str) -> dict:
    shown = bool(lon)
    return {
        "type": "scattermap",
        # never empty (see site_layer), never hidden: plotly re-creates a trace whose
        # visibility flips, and MapLibre then stacks it anywhere
        "lon": list(lon) if shown else [None],
        "lat": list(lat) if shown else [None],
        "mode": "lines",
        "line": {"color": color, "width": width},
        "hoverinfo": "skip",
        "name": name,
        "legendgroup": group,
        "showlegend": shown,
        "below": OVERLAY_BELOW,
    }


def road_layers(drawn: dict | None, lang: str) -> list[dict]:
    """One line layer per road class (without a line when not drawn), each
    with its legend entry; ``drawn`` is ``{class: (lon, lat)}`` or None (off)."""
    drawn = drawn or {}
    return [
        _lines(*drawn.get(c, ((), ())), color=color, width=width,
               name=t(f"roads.class.{c}", lang), group="roads")
        for c, (color, width) in ROAD_STYLES.items()
    ]  # fmt: skip


def catchment_layer(lines: tuple | None, lang: str) -> dict:
    """Outlines of the centers' catchments by travel time (None: no line)."""
    lon, lat = lines or ((), ())
    return _lines(lon, lat, color=CATCHMENT_COLOR, width=1.6,
                  name=t("map.catchments", lang), group="catchments")  # fmt: skip


def under_overlays(layer: dict) -> dict:
    """A context, choropleth or highlight layer of a map with overlays, stacked in
    MapLibre in the order of the data (``below=""``) instead of plotly's default
    for choropleths (under the first trace layer found, which may be an overlay);
    a patch replacing such a layer passes it through here too."""
    layer["below"] = ""
    return layer


def patch_overlays(patch, overlays: Sequence[dict], n_sites: int = 1) -> None:
    """Write new overlays (:func:`road_layers` then :func:`catchment_layer`)
    into a ``dash.Patch`` of a map drawn with them."""
    for k, layer in enumerate(overlays):
        patch["data"][overlay_index(k, n_sites)] = layer


# -- colour bars below the map ----------------------------------------------------------
#: height of the band under a map that holds its colour bars lying down (title,
#: bar and tick labels), in px: plotly keeps it as the bottom margin, so the bars
#: are drawn outside the map and hide none of it
SCALE_BAND_PX = 66
#: share of the map's width each of the two bars takes (choropleth's at the left,
#: the sites' at the right), room between them left free
SCALE_LEN = 0.44


def scale_below(side: str, title: str | None = None) -> dict:
    """A colour bar lying in the band below the map, at its ``side`` ("left":
    the choropleth's, "right": a site layer's), titled ``title`` above it.

    Every map's bars are placed by this one rule; :func:`map_figure` keeps the
    band (:data:`SCALE_BAND_PX`) under a map that has a titled bar.
    """
    if side not in ("left", "right"):
        raise ValueError(f"side should be 'left' or 'right', got {side!r}")
    return {
        "title": {"text": title or "", "side": "top"},
        "orientation": "h",
        "x": 0.0 if side == "left" else 1.0,
        "xref": "paper",
        "xanchor": side,
        "xpad": 12,
        "y": 0.0,
        "yref": "container",
        "yanchor": "bottom",
        "ypad": 8,
        "len": SCALE_LEN,
        "lenmode": "fraction",
        "thickness": 10,
    }


def _bars(data: Sequence[dict]) -> list[dict]:
    return [
        bar
        for layer in data
        for bar in (layer.get("colorbar"), (layer.get("marker") or {}).get("colorbar"))
        if bar
    ]


def has_scale(data: Sequence[dict]) -> bool:
    """Whether any layer has a titled colour bar (shown now, or by a later patch):
    the map then keeps the band of bars below it."""
    return any((bar.get("title") or {}).get("text") for bar in _bars(data))


# -- the view ---------------------------------------------------------------------------
#: margin left around a fitted area by the browser's fit (assets/mapfit.js), px
FIT_PADDING_PX = 12


def fit_view(
    minx: float,
    miny: float,
    maxx: float,
    maxy: float,
    width_px: int = 700,
    height_px: int = 560,
) -> dict:
    """The view of a map showing the lon/lat box, for :func:`map_figure`.

    Its ``center`` and ``zoom`` fit the box in a map of ``width_px`` by
    ``height_px`` (the map's area, without the band of colour bars): the view
    drawn first. ``fit`` keeps the box: in the browser, ``assets/mapfit.js``
    then fits it to the map's real size (MapLibre's ``cameraForBounds``), so the
    whole area shows whatever the window's width.

    Examples
    --------
    >>> view = fit_view(-5, 10, 1, 15)
    >>> view["center"], view["fit"]
    ({'lon': -2.0, 'lat': 12.5}, [-5.0, 10.0, 1.0, 15.0])
    """
    view = view_for_bounds(minx, miny, maxx, maxy, width_px, height_px)
    view["fit"] = [round(float(v), 5) for v in (minx, miny, maxx, maxy)]
    return view


def fit_meta(view: dict) -> dict:
    """The figure's ``layout.meta`` that tells the browser to fit the area of
    ``view`` (from :func:`fit_view`) over the view drawn first."""
    return {
        "mapfit": {
            "bounds": view["fit"],
            "view": {"center": view["center"], "zoom": view["zoom"]},
            "padding": FIT_PADDING_PX,
        }
    }


def patch_view(patch, view: dict, uirevision: str) -> None:
    """Move a map drawn by :func:`map_figure` to ``view`` (:func:`fit_view`)
    through a ``dash.Patch``: the view drawn first and the area fitted after."""
    patch["layout"]["map"]["center"] = view["center"]
    patch["layout"]["map"]["zoom"] = view["zoom"]
    patch["layout"]["uirevision"] = uirevision
    if "fit" in view:
        patch["layout"]["meta"] = fit_meta(view)


def _fit_reported(relayout, view: dict) -> float | None:
    """The zoom of assets/mapfit.js's fit of ``view``'s area, when ``relayout``
    is its report (``map.center`` and ``map.zoom`` alone, the centre inside the
    area: not a fit of an area shown before), else None."""
    if not isinstance(relayout, dict) or set(relayout) != {"map.center", "map.zoom"}:
        return None
    center, zoom = relayout["map.center"], relayout["map.zoom"]
    try:
        zoom = float(zoom)
        lon, lat = float(center["lon"]), float(center["lat"])
    except (TypeError, ValueError, KeyError):
        return None
    if not all(math.isfinite(v) for v in (zoom, lon, lat)) or not 0 <= zoom <= 24:
        return None
    west, south, east, north = view.get("fit") or (-180.0, -90.0, 180.0, 90.0)
    return zoom if west <= lon <= east and south <= lat <= north else None


def shown_zoom(relayout, view: dict) -> float:
    """The zoom a map drawn at ``view`` (:func:`fit_view`) shows, by the rule of
    ``assets/mapfit.js``: the view the user moved to (``relayoutData`` at the
    end of a pan or zoom: :func:`geo.display.map_view`), else the browser's fit
    of the area to the map's real width (mapfit.js's report), else the view
    drawn first (for the nominal size). After a resize mapfit.js tells the view
    shown again in one of the first two shapes (the user's with the resized
    map's corners). Anything else in ``relayout`` (a forged value, plotly's bare
    ``{"autosize": true}``) reads as no report.

    Examples
    --------
    >>> view = fit_view(-5, 10, 1, 15)
    >>> shown_zoom(None, view) == view["zoom"]
    True
    >>> shown_zoom({"map.center": {"lon": -2, "lat": 12}, "map.zoom": 5.5}, view)
    5.5
    """
    seen = map_view(relayout)
    if seen is not None:
        return seen.zoom
    fitted = _fit_reported(relayout, view)
    return float(view["zoom"]) if fitted is None else fitted


def shows_legend(data: Sequence[dict]) -> bool:
    """Whether any layer has a legend entry to show."""
    return any(layer.get("showlegend") for layer in data)


def map_figure(
    view: dict,
    *,
    context: dict,
    choropleth: dict,
    sites: Sequence[dict] = (),
    highlight: dict | None = None,
    overlays: Sequence[dict] = (),
    style: str | None = None,
    uirevision: str = "",
    note: str | None = None,
) -> dict:
    """The whole map, layers in their fixed order: context, choropleth,
    highlight, then each site layer above its halo, then ``overlays`` (listed
    last, drawn just below the first halo); ``note`` at the bottom.

    ``view`` is the map's ``center`` and ``zoom``, and the area the browser
    fits when it is a :func:`fit_view`; ``style`` a basemap style (the offline
    blank style by default). The colour bars lie in a band of
    :data:`SCALE_BAND_PX` under the map, outside it (:func:`scale_below`), on a
    map that has one.
    """
    view = dict(view)
    fit = view.pop("fit", None)
    data = [context, choropleth, highlight or highlight_layer()]
    for layer in sites:
        data += [halo_of(layer), layer]
    if overlays:
        for layer in data[: HIGHLIGHT + 1]:
            under_overlays(layer)
        data[halo_index(0)]["uid"] = HALO_UID
        data += list(overlays)
    layout = {
        "map": {"style": style or OFFLINE_STYLE, **view},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "showlegend": bool(highlight and highlight.get("showlegend"))
        or shows_legend(overlays),
        "legend": {
            "x": 0.01,
            "y": 0.99,
            "xanchor": "left",
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.9)",
        },
        "uirevision": uirevision,
        "clickmode": "event",
    }
    if overlays:
        # many entries (road classes...): rows above the map, outside it (plotly
        # then makes room at the top), so that their background hides no part of
        # the map, nor the colour bars on its sides
        layout["legend"].update(
            orientation="h", x=0.0, y=1.0, yanchor="bottom", itemclick="toggle"
        )
    if has_scale(data):
        layout["margin"]["b"] = SCALE_BAND_PX
    if fit is not None:
        layout["meta"] = fit_meta({**view, "fit": fit})
    if note:
        layout["annotations"] = map_note(note)
    return {"data": data, "layout": layout}


def patch_sites(patch, layer: dict, k: int = 0) -> None:
    """Write a new ``site_layer`` (positions, colours, sizes, hover) and its halo
    into a ``dash.Patch`` of a map drawn by :func:`map_figure`."""
    halo = halo_of(layer)
    for key in ("lon", "lat", "customdata", "ids", "hovertemplate"):
        if key in layer:
            patch["data"][site_index(k)][key] = layer[key]
    patch["data"][site_index(k)]["marker"]["size"] = layer["marker"]["size"]
    patch["data"][site_index(k)]["marker"]["color"] = layer["marker"]["color"]
    patch["data"][halo_index(k)]["lon"] = halo["lon"]
    patch["data"][halo_index(k)]["lat"] = halo["lat"]
    patch["data"][halo_index(k)]["marker"]["size"] = halo["marker"]["size"]


#: characters per line of an empty chart's message: plotly does not wrap text, and a
#: chart in a third of a 1280 px window shows about 50 (the segmentation's cut theirs)
MESSAGE_LINE_CHARS = 40
#: the ``name`` of that message's annotation: one text, whatever its lines
MESSAGE_NAME = "message"


def message_figure(text: str, height: int | None = None) -> dict:
    """An empty chart or map that says why it is empty (no axes, no blank map).

    The message is broken into lines of at most :data:`MESSAGE_LINE_CHARS`
    characters (at spaces), so that a narrow chart shows all of it.
    """
    lines = textwrap.wrap(text, MESSAGE_LINE_CHARS, break_long_words=False) or [text]
    layout = {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "annotations": [
            {
                "name": MESSAGE_NAME,
                "text": "<br>".join(lines),
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "font": {"size": 14, "color": "#5a6773"},
            }
        ],
    }
    if height:
        layout["height"] = height
    return {"data": [], "layout": layout}


# -- legends ----------------------------------------------------------------------------
def site_hover_label(state: str, lang: str) -> str:
    """A site's state or status in words (hover, legend)."""
    return t(f"map.site.{state}", lang)


def site_legend(states: Iterable[str], lang: str, extra: Sequence = ()) -> html.Div:
    """Coloured dots and their meaning, in the colours the map draws.

    ``extra`` adds (colour, label) pairs (e.g. proposed sites, unserved communes).
    """
    items = [(SITE_COLORS[s], site_hover_label(s, lang)) for s in states]
    items += list(extra)
    return html.Div(
        [
            html.Span(
                [
                    html.Span(
                        className="map-legend-dot",
                        style={
                            "display": "inline-block",
                            "width": "11px",
                            "height": "11px",
                            "borderRadius": "50%",
                            "background": color,
                            "border": f"2px solid {HALO_COLOR}",
                            "marginRight": "4px",
                            "verticalAlign": "-1px",
                        },
                    ),
                    label,
                ],
                className="me-3 text-nowrap",
            )
            for color, label in items
        ],
        className="small map-legend",
    )
