"""The import screen: dataset picker, uploads with roles and column mapping,
validation report, preview map and table."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import dropdown_labels, t
from data.importers import DEFAULT_RATES
from layouts import maps
from layouts.figures import fmt
from layouts.locale import graph_config, grid_locale_text

#: The road speed editor's page (layouts.road_profile).
ROAD_PAGE = "reseau-routier"  # from the app's root
SEVERITY_COLORS = {"error": "danger", "warning": "warning", "info": "secondary"}
MAPPED_ROLES = ("boundaries", "population")


def dataset_options(datasets, lang: str) -> list[dict]:
    """One option per stored dataset version, newest first, the shown one marked."""
    return [
        {
            "label": f"{d.name} · {t('imp.kind.' + d.kind, lang)} · "
            f"{d.created_at:%Y-%m-%d %H:%M}"
            + (t("imp.active_mark", lang) if d.is_active else ""),
            "value": d.id,
        }
        for d in datasets
    ]


def dataset_picker(datasets, lang: str) -> dbc.Card:
    active = next((d.id for d in datasets if d.is_active), None)
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("imp.datasets", lang), className="card-title"),
                html.Small(t("imp.datasets_hint", lang), className="text-muted"),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.IMP_DATASET,
                    options=dataset_options(datasets, lang),
                    value=active,
                    clearable=False,
                    className="my-2",
                ),
                dbc.Button(t("imp.activate", lang), id=ids.IMP_ACTIVATE, size="sm"),
                dcc.Location(id=ids.IMP_REDIRECT, refresh=True),
            ]
        ),
        className="mb-3",
    )


def _select(id_, options: list[str], value, lang: str) -> dcc.Dropdown:
    return dcc.Dropdown(
        labels=dropdown_labels(lang),
        id=id_,
        options=[{"label": t("imp.field.none", lang), "value": ""}]
        + [{"label": c, "value": c} for c in options],
        value=value or "",
        clearable=False,
        className="mb-1",
    )


def mapping_controls(index: int, info: dict, lang: str) -> list:
    """The column mapping of one file for its role: every choice the command line
    offers (each preset to the guess, "(none)" to say there is no such column)."""
    cols, mapping = info.get("columns") or [], info.get("mapping") or {}
    layers = [_layer_control(index, info, lang)] if info.get("layers") else []
    csv = _csv_controls(index, mapping, lang) if _is_table(info) else []
    if info["role"] == "roads":
        return layers + road_controls(index, info, lang)
    if info["role"] in ("centers", "candidates"):
        fields = [("code", mapping.get("code")), ("name", mapping.get("name")),
                  ("capacity_week", mapping.get("capacity_week"))]  # fmt: skip
        if info["role"] == "candidates":
            fields.append(("opening_cost", mapping.get("opening_cost")))
        return (
            layers
            + [
                _field_row(index, f, t(f"imp.field.site_{f}", lang), cols, v, lang)
                for f, v in fields
            ]
            + csv
        )
    if info["role"] == "boundaries":
        parents = list(mapping.get("parents") or [])
        fields = [("code", mapping.get("code")), ("name", mapping.get("name"))]
        for k in range(2):
            pair = list(parents[k]) + [None] if k < len(parents) else [None, None]
            fields += [(f"parent{k}", pair[0]), (f"parent{k}_name", pair[1])]
        fields.append(("population", mapping.get("population")))
        head = [
            html.Small(
                t("imp.convention", lang, name=mapping.get("convention", "?")),
                className="text-muted d-block",
            )
        ]
    elif info["role"] == "population":
        fields = [
            ("join", mapping.get("join")),
            ("join_parent", mapping.get("join_parent")),
            ("population", mapping.get("population")),
        ]
        head = []
    else:
        return layers + csv
    rows = [
        *layers,
        *head,
        *(_field_row(index, f, _label(info["role"], f, lang), cols, v, lang)
          for f, v in fields),
    ]  # fmt: skip
    if info["role"] == "population":
        rows.insert(
            len(layers) + 1,
            _radio_row(
                index,
                "join_by",
                mapping.get("join_by") or "",
                ("", "code", "name"),
                lang,
            ),
        )
        rows.append(join_mode_radio(index, mapping.get("join_mode"), lang))
    return rows + csv


def road_controls(index: int, info: dict, lang: str) -> list:
    """A road file's class and surface columns and the table mapping each class
    value to a road class (OSM's values pre-filled)."""
    from data.importers.roads import is_pbf

    cols, mapping = info.get("columns") or [], info.get("mapping") or {}
    if is_pbf(info.get("name", "")):  # OpenStreetMap: highway=* and surface=*
        rows = [html.Small(t("imp.road.osm_class", lang), className="d-block mb-1")]
    else:
        rows = [
            _field_row(index, "road_class", t("imp.field.road_class", lang), cols,
                       mapping.get("road_class"), lang),
            _field_row(index, "road_surface", t("imp.field.road_surface", lang), cols,
                       mapping.get("road_surface"), lang),
        ]  # fmt: skip
    column = "highway" if is_pbf(info.get("name", "")) else mapping.get("road_class")
    table = road_values_table(index, info.get("name", ""), column,
                              info.get("class_values") or {}, lang)  # fmt: skip
    return [*rows, html.Div(table, id=ids.imp_road_values(index))]


def road_values_table(index: int, file: str, column, found: dict, lang: str) -> list:
    """One row per distinct value of the class column: the value, its lines and
    the road class chosen for it (or "not a road"); unknown values left to
    choose."""
    from dashapp.services.importing import NOT_A_ROAD
    from data.importers.roads import ROAD_CLASSES

    if not column:
        return [html.Small(t("imp.road.choose_column", lang), className="text-muted")]
    if found.get("error"):
        return [
            html.Small(
                t("imp.road.unreadable", lang, file=file, column=column),
                className="text-danger",
            )
        ]
    values = found.get("values") or []
    if not values:
        return [html.Small(t("imp.road.no_values", lang, column=column),
                           className="text-danger")]  # fmt: skip
    options = [{"label": t(f"roads.class.{c}", lang), "value": c} for c in ROAD_CLASSES]
    options.append({"label": t("imp.road.not_road", lang), "value": NOT_A_ROAD})
    rows = []
    for v in values:
        chosen = v.get("road_class") or (NOT_A_ROAD if v.get("not_road") else None)
        rows.append(
            dbc.Row(
                [
                    dbc.Col(html.Code(v["value"]), width=4, className="text-break"),
                    dbc.Col(
                        html.Small(
                            t("imp.road.lines", lang, n=fmt(v["count"], 0, lang))
                        ),  # fmt: skip
                        width=3,
                    ),
                    dbc.Col(
                        dcc.Dropdown(
                            labels=dropdown_labels(lang),
                            id=ids.imp_road_value(index, v["value"]),
                            options=options,
                            value=chosen,
                            placeholder=t("imp.road.unmapped", lang),
                            clearable=False,
                            className="mb-1",
                        ),
                        width=5,
                    ),
                ],
                className="align-items-center",
            )
        )
    more = (
        [
            html.Small(
                t("imp.road.more", lang, n=found["more"]),
                className="text-muted d-block",
            )
        ]  # fmt: skip
        if found.get("more")
        else []
    )
    return [
        html.H6(t("imp.road.values", lang, column=column), className="mt-2 mb-1"),
        html.Small(t("imp.road.values_hint", lang), className="text-muted d-block"),
        *rows,
        *more,
    ]


def road_report(network: dict, lang: str) -> html.Div:
    """What the road import made of the file: length by class, lines kept, line
    ends joined by snapping, connected parts and what lies outside the main one."""
    from data.importers.roads import ROAD_CLASSES

    lengths = network.get("length_km_by_class") or {}
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(t("imp.road.class_col", lang)),
                        html.Th(t("imp.road.length_col", lang)),
                    ]
                )
            ),  # fmt: skip
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(t(f"roads.class.{c}", lang)),
                            html.Td(fmt(lengths[c], 1, lang)),
                        ]
                    )  # fmt: skip
                    for c in ROAD_CLASSES
                    if c in lengths
                ]
            ),
        ],
        size="sm",
        striped=True,
        className="mb-2",
    )
    share = fmt(100.0 * float(network.get("main_share", 0.0)), 1, lang)
    lines = [
        t("imp.road.lines_read", lang, lines=fmt(network["lines"], 0, lang),
          kept=fmt(network.get("lines_kept", network["lines"]), 0, lang),
          edges=fmt(network["edges"], 0, lang), nodes=fmt(network["nodes"], 0, lang)),
        t("imp.road.snapped", lang, tol=fmt(network["tolerance_m"], 0, lang),
          n=fmt(network["joined_ends"], 0, lang),
          m=fmt(network["joined_length_m"], 0, lang),
          gap=fmt(network["max_gap_m"], 0, lang)),
        t("imp.road.components", lang, n=fmt(network["components"], 0, lang),
          share=share, km=fmt(network["unconnected_km"], 1, lang)),
    ]  # fmt: skip
    parts = [
        html.Li(
            t(
                "imp.road.part",
                lang,
                edges=fmt(p["edges"], 0, lang),
                km=fmt(p["length_km"], 1, lang),
                lon=fmt(p["lon"], 4, lang),
                lat=fmt(p["lat"], 4, lang),
            )  # fmt: skip
        )
        for p in (network.get("unconnected_parts") or [])[:5]
    ]
    return html.Div(
        [
            html.H6(
                t("imp.road.report", lang, file=network.get("file", "")),
                className="mt-3",
            )  # fmt: skip
        ]
        + [table]
        + [html.P(x, className="small mb-1") for x in lines]
        + ([html.Ul(parts, className="small")] if parts else []),
        id=ids.IMP_ROAD_REPORT,
    )


def _label(role: str, field: str, lang: str) -> str:
    if role == "boundaries" and field == "population":  # a column of this layer
        return t("imp.field.boundary_population", lang)
    return t(f"imp.field.{field}", lang)


def _is_table(info: dict) -> bool:
    from dashapp.services.importing import TABLE_SUFFIXES

    return str(info.get("name", "")).lower().endswith(TABLE_SUFFIXES)


def _csv_controls(index: int, mapping: dict, lang: str) -> list:
    """Separator and encoding of a CSV table, detected unless chosen."""
    from dashapp.services.importing import DELIMITERS, ENCODINGS

    auto = {"label": t("imp.detect", lang), "value": ""}
    named = {"tab": t("imp.tab", lang)}
    rows = []
    for field, options in (
        ("delimiter", [auto] + [{"label": named.get(d, d), "value": d}
                                for d in DELIMITERS if d]),
        ("encoding", [auto] + [{"label": e, "value": e} for e in ENCODINGS]),
    ):  # fmt: skip
        rows.append(
            dbc.Row(
                [
                    dbc.Col(html.Small(t(f"imp.field.{field}", lang)), width=5),
                    dbc.Col(
                        dcc.Dropdown(
                            labels=dropdown_labels(lang),
                            id=ids.imp_column(index, field),
                            options=options,
                            value=mapping.get(field) or "",
                            clearable=False,
                            className="mb-1",
                        ),
                        width=7,
                    ),
                ],
                className="align-items-center",
            )
        )
    return rows


def _radio_row(index: int, field: str, value: str, choices, lang: str) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(html.Small(t(f"imp.field.{field}", lang)), width=5),
            dbc.Col(
                dbc.RadioItems(
                    id=ids.imp_column(index, field),
                    options=[
                        {"label": t(f"imp.{field}.{c or 'auto'}", lang), "value": c}
                        for c in choices
                    ],
                    value=value if value in choices else choices[0],
                    inline=True,
                    className="small",
                ),
                width=7,
            ),
        ],
        className="align-items-center",
    )


def _field_row(index: int, field: str, label: str, cols, value, lang: str) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(html.Small(label), width=5),
            dbc.Col(_select(ids.imp_column(index, field), cols, value, lang), width=7),
        ],
        className="align-items-center",
    )


def _layer_control(index: int, info: dict, lang: str) -> dbc.Row:
    """The layer to read, when the file holds several of its kind (GeoPackage...)."""
    return dbc.Row(
        [
            dbc.Col(html.Small(t("imp.field.layer", lang)), width=5),
            dbc.Col(
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.imp_column(index, "layer"),
                    options=[{"label": x, "value": x} for x in info["layers"]],
                    value=(info.get("mapping") or {}).get("layer"),
                    clearable=False,
                    className="mb-1",
                ),
                width=7,
            ),
        ],
        className="align-items-center",
    )


def join_mode_radio(index: int, value: str | None, lang: str) -> dbc.Row:
    """Strict (all or nothing) or partial join of the population table."""
    return dbc.Row(
        [
            dbc.Col(html.Small(t("imp.field.join_mode", lang)), width=5),
            dbc.Col(
                dbc.RadioItems(
                    id=ids.imp_column(index, "join_mode"),
                    options=[
                        {"label": t(f"imp.join_mode.{m}", lang), "value": m}
                        for m in ("strict", "partial")
                    ],
                    value=value if value in ("strict", "partial") else "strict",
                    className="small",
                ),
                width=7,
            ),
        ],
        className="align-items-center mt-1",
    )


def file_list(files: list[dict], lang: str) -> list:
    """One card per uploaded file: size, role, and the mapping of its columns."""
    if not files:
        return [html.Small(t("imp.no_files", lang), className="text-muted")]
    cards = []
    for i, info in enumerate(files):
        if info.get("error"):
            continue
        role = dcc.Dropdown(
            labels=dropdown_labels(lang),
            id=ids.imp_role(i),
            options=[
                {"label": t(f"imp.role.{r}", lang), "value": r}
                for r in (
                    "boundaries",
                    "population",
                    "centers",
                    "candidates",
                    "operations",
                    "roads",
                    "ignore",
                )
            ],  # fmt: skip
            value=info["role"],
            clearable=False,
        )
        body = [
            dbc.Row(
                [
                    dbc.Col(html.Strong(info["name"]), width=5),
                    dbc.Col(
                        html.Small(
                            t("imp.size", lang, size=fmt(info["size"] / 1024, 0, lang))
                        ),
                        width=2,
                    ),
                    dbc.Col(role, width=5),
                ],
                className="align-items-center",
            ),
            html.Div(mapping_controls(i, info, lang), id=ids.imp_mapping(i)),
        ]
        cards.append(dbc.Card(dbc.CardBody(body, className="p-2"), className="mb-2"))
    return cards


def report_view(
    records: list[dict],
    texts: list[str],
    summary: str | None,
    lang: str,
    offer_partial: bool = False,
):
    """The validation report: verdict, then one line per issue, errors first.

    ``offer_partial``: every error is the population join's, so the verdict offers
    to import anyway with a partial join (the issues stay listed in full below).
    """
    n_errors = sum(r["severity"] == "error" for r in records)
    refused = [t("imp.report_errors", lang, n=n_errors)]
    if offer_partial:
        refused += [
            html.Br(),
            t("imp.partial_offer", lang),
            " ",
            dbc.Button(
                t("imp.partial_import", lang),
                id=ids.imp_partial(),
                size="sm",
                color="warning",
            ),
        ]
    verdict = (
        dbc.Alert(refused, color="danger", className="py-2")
        if n_errors
        else dbc.Alert(
            [t("imp.report_ok", lang, n=len(records)), html.Br(), summary or ""],
            color="success",
            className="py-2",
        )
    )
    order = {"error": 0, "warning": 1, "info": 2}
    rows = sorted(
        zip(records, texts, strict=True), key=lambda rt: order[rt[0]["severity"]]
    )
    table = issue_grid(
        [
            {
                "severity": t(f"imp.severity.{r['severity']}", lang),
                "level": r["severity"],
                "message": text,
            }
            for r, text in rows
        ],
        lang,
    )
    return [verdict, table] if records else [verdict]


def issue_grid(rows: list[dict], lang: str) -> dag.AgGrid:
    """Every issue of a report, errors first: filterable and paginated, so a
    report of 35,000 unmatched rows stays readable (each one is listed)."""
    short = len(rows) <= 12
    return dag.AgGrid(
        id=ids.IMP_ISSUES,
        rowData=rows,
        columnDefs=[
            {
                "field": "severity",
                "headerName": t("imp.col.severity", lang),
                "width": 130,
                "filter": True,
            },
            {
                "field": "message",
                "headerName": t("imp.col.message", lang),
                "flex": 1,
                "filter": "agTextColumnFilter",
                "wrapText": True,
                "autoHeight": True,
            },
        ],  # fmt: skip
        defaultColDef={"sortable": True, "resizable": True},
        rowClassRules={
            f"imp-{k}": f"params.data.level == '{k}'" for k in SEVERITY_COLORS
        },
        dashGridOptions={
            "pagination": not short,
            "paginationPageSize": 100,
            "localeText": grid_locale_text(lang),
            **({"domLayout": "autoHeight"} if short else {}),
        },  # fmt: skip
        style={} if short else {"height": "480px"},
        className="imp-issues",
    )


def preview_table(units, lang: str) -> dbc.Table:
    """The first communes with their parent and population."""
    head = units.head(12)
    return dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [html.Th(c) for c in ("code", "nom/name", "parent", "population")]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(r.unit_code),
                            html.Td(r.name),
                            html.Td(r.parent_code or ""),
                            html.Td(fmt(r.population, 0, lang)),
                        ]
                    )
                    for r in head.itertuples()
                ]
            ),
        ],
        size="sm",
        striped=True,
    )


def preview_figure(geojson: dict, codes: list[str], population: list[float], names,
                   lang: str) -> dict:  # fmt: skip
    """Choropleth of population over the imported units (no basemap): the more
    people, the darker; unknown populations left grey."""
    bounds = geojson.get("bbox") or [-20, 0, 20, 25]
    z = [None if v is None or not np.isfinite(v) else float(v) for v in population]
    fig = maps.map_figure(
        maps.fit_view(*bounds, height_px=420 - maps.SCALE_BAND_PX),
        context=maps.context_layer(geojson, codes, lang),
        choropleth=maps.choropleth_layer(
            geojson,
            codes,
            z,
            colorscale=maps.LIGHT_TO_DARK,
            customdata=[
                [n, fmt(v, 0, lang) if v is not None else t("kpi.no_data", lang)]
                for n, v in zip(names, z, strict=True)
            ],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            colorbar_title=t("imp.field.population", lang),
        ),
    )
    fig["layout"]["height"] = 420
    return fig


def page(datasets, lang: str, today: str, root: str = "/") -> html.Div:
    """The whole import screen."""
    rates = [
        dbc.InputGroup(
            [
                dbc.InputGroupText(doc, style={"width": "5.5rem"}),
                dbc.Input(
                    id=ids.imp_rate(doc), type="number", min=0, step=0.001, value=rate
                ),
            ],
            size="sm",
            className="mb-1",
        )
        for doc, rate in DEFAULT_RATES.items()
    ]
    from dashapp.services.importing import MAX_UPLOAD_MB, UPLOAD_SUFFIXES

    upload = dcc.Upload(
        id=ids.IMP_UPLOAD,
        multiple=True,
        accept=",".join(UPLOAD_SUFFIXES),
        children=html.Div(t("imp.upload", lang)),
        className="imp-upload",
        style={
            "border": "2px dashed #adb5bd",
            "borderRadius": "6px",
            "padding": "1.5rem",
            "textAlign": "center",
            "cursor": "pointer",
        },
    )
    left = [
        dataset_picker(datasets, lang),
        dbc.Card(
            dbc.CardBody(
                [
                    html.H5(t("imp.title", lang), className="card-title"),
                    html.P(t("imp.intro", lang), className="small"),
                    html.P(
                        [
                            t("imp.road.intro", lang),
                            " ",
                            dcc.Link(t("rp.link", lang), href=root + ROAD_PAGE),
                        ],
                        className="small",
                    ),
                    upload,
                    html.Small(
                        t("imp.upload_limit", lang, limit=MAX_UPLOAD_MB),
                        className="text-muted",
                    ),
                    html.Div(id=ids.IMP_UPLOAD_MESSAGES, className="mt-2"),
                    html.H6(t("imp.files", lang), className="mt-3"),
                    html.Small(
                        t("imp.mapping_hint", lang), className="text-muted d-block mb-1"
                    ),
                    html.Div(file_list([], lang), id=ids.IMP_FILES),
                    dbc.Button(
                        t("imp.clear", lang),
                        id=ids.IMP_CLEAR,
                        size="sm",
                        color="secondary",
                        outline=True,
                    ),  # fmt: skip
                    dcc.Store(id=ids.IMP_UPLOADS, data={"token": None, "files": []}),
                    html.Hr(),
                    dbc.Label(t("imp.name", lang), html_for=ids.IMP_NAME),
                    dbc.Input(
                        id=ids.IMP_NAME,
                        value=t("imp.name_default", lang, date=today),
                        size="sm",
                    ),
                    dbc.Label(
                        t("imp.levels", lang),
                        html_for=ids.IMP_LEVELS,
                        className="mt-2 small",
                    ),
                    dbc.Input(
                        id=ids.IMP_LEVELS,
                        placeholder="region,department,commune",
                        size="sm",
                        maxLength=400,
                    ),
                    html.Small(t("imp.levels_hint", lang), className="text-muted"),
                    dbc.Label(t("imp.rates", lang), className="mt-2 small"),
                    *rates,
                    dbc.Checklist(
                        id=ids.IMP_ACTIVATE_AFTER,
                        options=[
                            {"label": t("imp.activate_after", lang), "value": "on"}
                        ],
                        value=["on"],
                        className="mt-2",
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                t("imp.check", lang),
                                id=ids.IMP_CHECK,
                                color="secondary",
                                className="me-2",
                            ),  # fmt: skip
                            dbc.Button(
                                t("imp.commit", lang),
                                id=ids.IMP_COMMIT,
                                color="primary",
                            ),
                        ],
                        className="mt-3",
                    ),
                    html.Div(
                        [
                            html.Small(
                                t("imp.working", lang),
                                className="text-muted d-block mt-3",
                            ),
                            dbc.Progress(
                                id=ids.IMP_PROGRESS,
                                value=0,
                                striped=True,
                                animated=True,
                            ),
                            dbc.Button(
                                t("imp.cancel", lang),
                                id=ids.IMP_CANCEL,
                                size="sm",
                                color="secondary",
                                outline=True,
                                className="mt-2",
                            ),  # fmt: skip
                        ],
                        id=ids.IMP_PROGRESS_BOX,
                        style={"display": "none"},
                    ),
                ]
            ),
            className="mb-3",
        ),
    ]
    right = [
        dbc.Card(
            [dbc.CardHeader(t("imp.report", lang)), dbc.CardBody(id=ids.IMP_REPORT)],
            className="mb-3",
        ),
        dbc.Card(
            [
                dbc.CardHeader(t("imp.preview", lang)),
                dcc.Graph(
                    id=ids.IMP_PREVIEW_MAP,
                    style={"height": "420px"},
                    config=graph_config(lang, scrollZoom=True),
                ),  # fmt: skip
                dbc.CardBody(
                    [
                        html.H6(t("imp.preview_table", lang)),
                        html.Div(id=ids.IMP_PREVIEW_TABLE),
                    ]
                ),
            ]
        ),
    ]
    return dbc.Row([dbc.Col(left, lg=5), dbc.Col(right, lg=7)], className="mt-2")
