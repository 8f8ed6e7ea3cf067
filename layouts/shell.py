"""The page shell: navbar with the synthetic-data label and language switch."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import t

# the screens in the navigation bar: (path, i18n key); one line a screen
NAV_ITEMS = [
    ("/", "nav.map"),
    ("/scenarios", "nav.scenarios"),
    ("/segmentation", "nav.segmentation"),
    ("/prevision", "nav.forecast"),
    ("/indicateurs", "nav.kpis"),
    ("/import", "nav.import"),
]


def navbar(lang: str, dataset_name: str | None, synthetic: bool) -> dbc.Navbar:
    """Top bar: title, dataset, navigation and the FR/EN switch."""
    badge = (
        dbc.Badge(
            t("app.synthetic", lang),
            color="warning",
            text_color="dark",
            className="ms-2",
            id="synthetic-badge",
            title=t("app.synthetic_help", lang),
        )
        if synthetic
        else None
    )
    switch = html.Div(
        [
            html.Span(
                t("nav.language", lang) + " :", className="me-2 text-white-50 small"
            ),
            dbc.ButtonGroup(
                [
                    dbc.Button(
                        "FR",
                        href="/lang/fr",
                        external_link=True,
                        size="sm",
                        color="light",
                        outline=lang != "fr",
                        id="lang-fr",
                    ),
                    dbc.Button(
                        "EN",
                        href="/lang/en",
                        external_link=True,
                        size="sm",
                        color="light",
                        outline=lang != "en",
                        id="lang-en",
                    ),
                ]
            ),
        ],
        className="d-flex align-items-center",
    )
    return dbc.Navbar(
        dbc.Container(
            [
                html.Div(
                    [
                        html.Span(
                            t("app.title", lang), className="navbar-brand mb-0 h1"
                        ),
                        # the dataset's name only where there is room for it
                        html.Span(
                            dataset_name or "",
                            className="text-white-50 small d-none d-xxl-inline me-2",
                        ),
                        badge,
                    ],
                    className="d-flex align-items-center",
                ),
                dbc.Nav(
                    [
                        dbc.NavLink(
                            t(key, lang),
                            href=path,
                            active="exact",
                            className="text-nowrap",
                        )
                        for path, key in NAV_ITEMS
                    ],
                    navbar=True,
                    className="me-auto ms-3 flex-wrap",
                ),
                switch,
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-2",
    )


def shell(
    lang: str, dataset_id: int | None, dataset_name: str | None, synthetic: bool
) -> html.Div:
    """Root layout: shared stores, navbar, and the page container."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Store(id=ids.LANG, data=lang),
            dcc.Store(id=ids.DATASET, data=dataset_id),
            navbar(lang, dataset_name, synthetic),
            dbc.Container(html.Div(id=ids.PAGE), fluid=True),
        ]
    )
