"""Segmentation screen: controls, cluster map, k curves, PCA, profiles, proposed sites.

Figures are plain dicts, as on the overview screen. The result of a run arrives as
the JSON summary of :meth:`geo.segmentation.Segmentation.to_dict`.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import dropdown_labels, t
from dashapp.segmentation_tables import default_recommendations, describe
from data.indicators import DEFAULT_INDICATORS, INDICATORS, LOG_SCALE
from data.views import DatasetContext, filter_levels
from layouts import maps
from layouts.figures import chart_layout, fmt
from layouts.locale import graph_config

# the clusters' colours: the maps' categorical palette (Okabe-Ito first)
PALETTE = maps.CATEGORICAL
K_CHOICES = list(range(2, 11))
SITES_MAX = 30


def color(cluster: int) -> str:
    """Colour of a cluster (cycled past ten)."""
    return PALETTE[int(cluster) % len(PALETTE)]


def feature_label(feature: str, lang: str) -> str:
    """Name and unit of an indicator."""
    return f"{t(f'seg.feature.{feature}', lang)} ({t(f'seg.unit.{feature}', lang)})"


def controls(ctx: DatasetContext, lang: str) -> dbc.Card:
    """Left panel: area, indicators, method, k, run/cancel, sites."""
    levels = filter_levels(ctx)  # areas: the first level that splits the country
    regions = ctx.units_at(levels[0] if levels else -1).sort_values("name")
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("seg.title", lang), className="card-title"),
                html.Small(t("seg.intro", lang), className="text-muted d-block mb-2"),
                dbc.Label(t("seg.scope", lang), html_for=ids.SEG_REGION),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.SEG_REGION,
                    placeholder=t("filters.all", lang),
                    options=[
                        {"label": n, "value": c}
                        for c, n in zip(regions["code"], regions["name"], strict=True)
                    ],
                    className="mb-2",
                ),
                dbc.Label(t("seg.features", lang), html_for=ids.SEG_FEATURES),
                dbc.Checklist(
                    id=ids.SEG_FEATURES,
                    value=list(DEFAULT_INDICATORS),
                    options=[
                        {"label": t(f"seg.feature.{f}", lang), "value": f}
                        for f in INDICATORS
                    ],
                    className="mb-2 small",
                ),
                dbc.Label(t("seg.method", lang), html_for=ids.SEG_METHOD),
                dbc.RadioItems(
                    id=ids.SEG_METHOD,
                    value="kmeans",
                    options=[
                        {"label": t(f"seg.method.{m}", lang), "value": m}
                        for m in ("kmeans", "contiguous")
                    ],
                    className="mb-2 small",
                ),
                dbc.Label(t("seg.k", lang), html_for=ids.SEG_K),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.SEG_K,
                    value="auto",
                    clearable=False,
                    options=[{"label": t("seg.k_auto", lang), "value": "auto"}]
                    + [{"label": str(k), "value": k} for k in K_CHOICES],
                    className="mb-3",
                ),
                html.Div(
                    [
                        dbc.Button(t("seg.run", lang), id=ids.SEG_RUN, color="primary"),
                        dbc.Button(
                            t("seg.cancel", lang),
                            id=ids.SEG_CANCEL,
                            color="secondary",
                            outline=True,
                            disabled=True,
                        ),
                    ],
                    className="d-flex gap-2",
                ),
                dbc.Progress(
                    id=ids.SEG_PROGRESS,
                    value=0,
                    className="mt-2",
                    style={"height": "14px"},
                ),
                html.Hr(),
                html.H6(t("seg.sites.title", lang)),
                html.Small(t("seg.sites.help", lang), className="text-muted d-block"),
                dbc.Label(
                    t("seg.sites.k", lang), html_for=ids.SEG_N_SITES, className="mt-2"
                ),
                dbc.Input(
                    id=ids.SEG_N_SITES,
                    type="number",
                    min=1,
                    max=SITES_MAX,
                    step=1,
                    value=5,
                    size="sm",
                ),
                html.Div(
                    [
                        dbc.Button(
                            t("seg.sites.run", lang),
                            id=ids.SEG_SITES_RUN,
                            color="primary",
                            outline=True,
                            size="sm",
                        ),
                        dbc.Button(
                            t("seg.sites.add", lang),
                            id=ids.SEG_SITES_ADD,
                            color="success",
                            outline=True,
                            size="sm",
                        ),
                    ],
                    className="d-flex gap-2 mt-2 flex-wrap",
                ),
                html.Div(id=ids.SEG_SITES_MESSAGE, className="mt-2"),
                html.Div(id=ids.SEG_SITES_TABLE, className="mt-2"),
            ]
        ),
        className="mb-3",
    )


def segmentation_page(ctx: DatasetContext, lang: str) -> html.Div:
    """The whole screen; results are filled in by callbacks."""
    config = graph_config(lang)
    exports = html.Div(
        [
            dbc.Button(
                t("seg.export.csv", lang),
                id=ids.SEG_EXPORT_CSV,
                size="sm",
                color="secondary",
                outline=True,
            ),
            dbc.Button(
                t("seg.export.xlsx", lang),
                id=ids.SEG_EXPORT_XLSX,
                size="sm",
                color="secondary",
                outline=True,
            ),
            dcc.Download(id=ids.SEG_DOWNLOAD),
        ],
        className="d-flex gap-2",
    )
    main = [
        html.Div(id=ids.SEG_MESSAGES),
        html.Div(
            t("seg.msg.empty", lang), id=ids.SEG_SUMMARY, className="fw-semibold mb-2"
        ),
        dbc.Row(
            [
                dbc.Col(
                    dbc.Card(
                        [
                            dbc.CardHeader(t("seg.map.title", lang)),
                            html.Div(map_note(None, lang), id=ids.SEG_MAP_NOTE),
                            dcc.Graph(
                                id=ids.SEG_MAP,
                                style={"height": "520px"},
                                config={**config, "scrollZoom": True},
                            ),
                            dbc.CardFooter(
                                [
                                    maps.site_legend(
                                        (),
                                        lang,
                                        extra=[
                                            (
                                                maps.CENTER_COLOR,
                                                t("map.site.existing", lang),
                                            ),
                                            (
                                                maps.PROPOSED_COLOR,
                                                t("map.site.proposed", lang),
                                            ),
                                        ],
                                    ),
                                    html.Small(
                                        t("seg.map.legend", lang),
                                        className="text-muted",
                                    ),
                                ]
                            ),
                        ]
                    ),
                    lg=7,
                ),
                dbc.Col(
                    [
                        dbc.Card(
                            [
                                dbc.CardHeader(t("seg.scores.title", lang)),
                                dcc.Graph(id=ids.SEG_SCORES, config=config),
                            ],
                            className="mb-2",
                        ),
                        dbc.Card(
                            [
                                dbc.CardHeader(t("seg.pca.title", lang)),
                                dcc.Graph(id=ids.SEG_PCA, config=config),
                            ]
                        ),
                    ],
                    lg=5,
                ),
            ],
            className="g-2",
        ),
        dbc.Card(
            [
                dbc.CardHeader(
                    html.Div(
                        [html.Span(t("seg.profile.title", lang)), exports],
                        className="d-flex justify-content-between flex-wrap",
                    )
                ),
                dbc.CardBody(
                    [
                        html.Small(t("seg.profile.help", lang), className="text-muted"),
                        html.Div(id=ids.SEG_PROFILE, className="mt-2"),
                    ]
                ),
            ],
            className="mt-2 mb-4",
        ),
    ]
    return html.Div(
        [
            dcc.Store(id=ids.SEG_RESULT),
            dcc.Store(id=ids.SEG_SITES),
            dbc.Row(
                [
                    dbc.Col(controls(ctx, lang), md=3, xl=3),
                    dbc.Col(main, md=9, xl=9),
                ]
            ),
        ]
    )


# -- figures ----------------------------------------------------------------------------
def cluster_colorscale(k: int) -> list:
    """Stepwise colorscale mapping integers 0..k-1 to the palette."""
    if k <= 1:
        return [[0.0, color(0)], [1.0, color(0)]]
    scale = []
    for c in range(k):
        scale += [[c / k, color(c)], [(c + 1) / k, color(c)]]
    return scale


def cluster_map(
    geojson: dict,
    codes: list[str],
    names: list[str],
    result: dict | None,
    centers: pd.DataFrame,
    sites: list[dict] | None,
    view: dict,
    lang: str,
    basemap_style: str | None = None,
) -> dict:
    """Communes coloured by cluster, existing centers and proposed sites above
    them (the proposed sites on top); before a run, :func:`map_note` above the
    map says what to do."""
    labels = (result or {}).get("labels", {})
    left_out = set((result or {}).get("left_out", []))
    k = int((result or {}).get("k", 1))
    z = [labels.get(c) for c in codes]
    group = [
        t("seg.cluster", lang, n=v + 1)
        if v is not None
        else t("seg.left_out_hover", lang)
        if c in left_out
        else t("map.outside", lang)
        for c, v in zip(codes, z, strict=True)
    ]
    custom = [[n, g] for n, g in zip(names, group, strict=True)]
    hover = "<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>"
    chor = maps.choropleth_layer(
        geojson,
        codes,
        z,
        colorscale=cluster_colorscale(k),
        customdata=custom,
        hovertemplate=hover,
        zrange=(-0.5, k - 0.5),
        line_width=0.5,
    )
    chor["showscale"] = False  # the clusters' colours are explained beside the map
    open_centers = centers[centers["status"] == "open"]
    existing = maps.site_layer(
        open_centers["lon"].tolist(),
        open_centers["lat"].tolist(),
        colors=maps.CENTER_COLOR,
        sizes=7,
        customdata=[[n] for n in open_centers["name"]],
        hovertemplate=f"{t('hover.center', lang)} : %{{customdata[0]}}<extra></extra>",
        name=t("map.site.existing", lang),
    )
    return maps.map_figure(
        view,
        context=maps.context_layer(geojson, codes, lang, custom, hover),
        choropleth=chor,
        sites=[existing, site_trace(sites, lang)],
        style=basemap_style,
        uirevision="segmentation",
    )


def map_note(result: dict | None, lang: str):
    """What to do, above the cluster map until a run colours it (None after):
    a line of the page, which wraps on a phone and hides no part of the map,
    where a note drawn in the map covered the country's south tip."""
    if result:
        return None
    return html.Small(
        t("seg.map.before_run", lang), className="d-block text-muted px-3 pt-2"
    )


def site_trace(sites: list[dict] | None, lang: str) -> dict:
    """Proposed sites as large ringed markers, with their catchment on hover."""
    sites = sites or []
    return maps.site_layer(
        [s["lon"] for s in sites],
        [s["lat"] for s in sites],
        colors=maps.PROPOSED_COLOR,
        sizes=15,
        ids=[s["code"] for s in sites],
        customdata=[
            [
                s["code"],
                s["commune_name"],
                fmt(s["population_served"], 0, lang),
                fmt(s["mean_distance_km"], 1, lang),
            ]
            for s in sites
        ],
        hovertemplate=(
            "<b>%{customdata[0]}</b> — %{customdata[1]}<br>"
            f"{t('seg.sites.population', lang)} : %{{customdata[2]}}<br>"
            f"{t('seg.sites.distance', lang)} : %{{customdata[3]}}<extra></extra>"
        ),
        name=t("map.site.proposed", lang),
    )


def scores_chart(result: dict | None, lang: str) -> dict:
    """Elbow (inertia) and silhouette against k, the chosen k marked."""
    if not result:
        return maps.message_figure(t("seg.chart.before_run", lang), 260)
    layout = chart_layout(260, "k", t("seg.scores.inertia", lang))
    scores = result["scores"]
    layout["yaxis2"] = {
        "title": {"text": t("seg.scores.silhouette", lang)},
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
    }
    layout["xaxis"]["dtick"] = 1
    layout["legend"] = {"orientation": "h", "y": -0.3, "yanchor": "top"}
    layout["margin"] = {**layout["margin"], "t": 24, "b": 10}
    layout["shapes"] = [
        {
            "type": "line",
            "x0": result["k"],
            "x1": result["k"],
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": {"dash": "dot", "color": maps.HALO_COLOR},
        }
    ]
    layout["annotations"] = [
        {
            "x": result["k"],
            "y": 1,
            "yref": "paper",
            "text": t("seg.scores.chosen", lang),
            "showarrow": False,
            "yanchor": "bottom",
            "font": {"color": maps.HALO_COLOR},
        }
    ]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": scores["ks"],
            "y": scores["inertia"],
            "name": t("seg.scores.inertia", lang),
            "line": {"color": maps.CATEGORICAL[0]},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": scores["ks"],
            "y": scores["silhouette"],
            "name": t("seg.scores.silhouette", lang),
            "yaxis": "y2",
            "line": {"color": maps.CATEGORICAL[1]},
        },
    ]
    return {"data": data, "layout": layout}


def pca_chart(result: dict | None, names: dict[str, str], lang: str) -> dict:
    """Communes on the first two principal components, coloured by cluster."""
    if not result:
        return maps.message_figure(t("seg.chart.before_run", lang), 300)
    share = result.get("explained") or [0.0, 0.0]
    layout = chart_layout(
        300,
        t("seg.pca.axis", lang, n=1, share=fmt(100 * (share[0] or 0), 0, lang)),
        t("seg.pca.axis", lang, n=2, share=fmt(100 * (share[1] or 0), 0, lang)),
    )
    codes = list(result["labels"])
    labels = list(result["labels"].values())
    data = []
    for c in range(int(result["k"])):
        rows = [i for i, v in enumerate(labels) if v == c]
        data.append(
            {
                "type": "scattergl",
                "mode": "markers",
                "x": [result["pc1"][i] for i in rows],
                "y": [result["pc2"][i] for i in rows],
                "text": [names.get(codes[i], codes[i]) for i in rows],
                "name": t("seg.cluster", lang, n=c + 1),
                "marker": {"color": color(c), "size": 6, "opacity": 0.8},
                "hovertemplate": "%{text}<extra>%{fullData.name}</extra>",
            }
        )
    return {"data": data, "layout": layout}


# -- tables -------------------------------------------------------------------------------
def profile_table(result: dict | None, lang: str) -> html.Div | dbc.Table:
    """One row per cluster: size, population, feature means (difference), words."""
    if not result:
        return html.Div()
    features = result["features"]
    recos = default_recommendations(result, lang)
    head = [
        t("seg.profile.cluster", lang),
        t("seg.profile.communes", lang),
        t("seg.profile.population", lang),
        *[feature_label(f, lang) for f in features],
        t("seg.profile.description", lang),
        t("seg.profile.recommendation", lang),
    ]
    rows = []
    for row in result["profile"]:
        c = int(row["cluster"])
        swatch = html.Span(
            className="d-inline-block me-1 rounded",
            style={"width": "12px", "height": "12px", "background": color(c)},
        )
        cells = [
            html.Td([swatch, t("seg.cluster", lang, n=c + 1)], className="text-nowrap"),
            html.Td(fmt(row["n_communes"], 0, lang)),
            html.Td(_population_cell(row, lang)),
        ]
        for f in features:
            dec = INDICATORS[f].decimals
            diff = row[f"{f}_diff"]
            sign = "+" if diff is not None and diff > 0 else ""
            cells.append(
                html.Td(
                    [
                        fmt(row[f"{f}_mean"], dec, lang),
                        html.Small(
                            f" ({sign}{fmt(diff, dec, lang)})", className="text-muted"
                        ),
                    ],
                    className="text-nowrap",
                )
            )
        cells.append(html.Td(describe(result["traits"].get(str(c), []), lang)))
        cells.append(
            html.Td(
                dbc.Input(
                    id=ids.seg_recommendation(c),
                    value=recos[c],
                    size="sm",
                    debounce=True,
                    style={"minWidth": "16rem"},
                )
            )
        )
        rows.append(html.Tr(cells))
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h, className="small") for h in head])),
            html.Tbody(rows),
        ],
        bordered=False,
        hover=True,
        size="sm",
        responsive=True,
        className="small",
    )


def _population_cell(row: dict, lang: str) -> str:
    """A cluster's known population and share, and how many communes are n.d."""
    if row.get("population") is None:  # no commune of the cluster has one
        text = t("kpi.no_data", lang)
    else:
        text = (
            f"{fmt(row['population'], 0, lang)} "
            f"({fmt(row['population_share'], 0, lang)} %)"
        )
    unknown = row.get("population_unknown") or 0
    if unknown:
        text += " " + t("seg.profile.population_unknown", lang, n=unknown)
    return text


def messages(result: dict, lang: str) -> list[str]:
    """What the run did to the data: communes of unknown population, imputation,
    log scale, bridged islands."""
    out = []
    left_out = result.get("left_out") or []
    if left_out:
        needs = ", ".join(
            t(f"seg.feature.{f}", lang).lower()
            for f in result.get("population_features", [])
        )
        out.append(t("seg.msg.left_out", lang, n=len(left_out), features=needs))
    if result.get("population_unknown"):
        out.append(
            t("seg.msg.population_unknown", lang, n=result["population_unknown"])
        )
    missing = {f: n for f, n in result["imputed"].items() if n}
    if missing:
        details = ", ".join(
            f"{t(f'seg.feature.{f}', lang)} {n} ({fmt(result['fill_values'][f], 1, lang)})"
            for f, n in missing.items()
        )
        out.append(
            t("seg.msg.imputed", lang, details=details, n=result["n_imputed_rows"])
        )
    else:
        out.append(t("seg.msg.no_missing", lang))
    if any(f in LOG_SCALE for f in result["features"]):
        out.append(t("seg.msg.log_scale", lang))
    if result["bridges"]:
        out.append(t("seg.msg.bridges", lang, n=len(result["bridges"])))
    return out


def summary(result: dict, lang: str) -> str:
    """One line: k, method, silhouette, communes."""
    k = result["k"]
    sil = result["scores"]["silhouette"][result["scores"]["ks"].index(k)]
    return t(
        "seg.summary",
        lang,
        k=k,
        method=t(f"seg.method.{result['method']}", lang).split(" (")[0].lower(),
        silhouette=fmt(sil, 2, lang),
        communes=len(result["labels"]),
    )


def sites_table(sites: list[dict], lang: str) -> dbc.Table:
    """The proposed sites with their catchment."""
    head = [
        "seg.sites.site",
        "seg.sites.commune",
        "seg.sites.population",
        "seg.sites.distance",
    ]
    rows = [
        html.Tr(
            [
                html.Td(s["code"]),
                html.Td(s["commune_name"]),
                html.Td(fmt(s["population_served"], 0, lang)),
                html.Td(fmt(s["mean_distance_km"], 1, lang)),
            ]
        )
        for s in sites
    ]
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(h, lang)) for h in head])), html.Tbody(rows)],
        size="sm",
        className="small",
    )
