"""The page shell: navbar (synthetic-data label, help, language switch), the
help panel with the glossary, and each screen's first-use guide."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import t
from data.users import Principal

# the screens in the navigation bar: (path, i18n key, right needed to open it)
NAV_ITEMS = [
    ("/", "nav.map", "view"),
    ("/scenarios", "nav.scenarios", "view"),
    ("/segmentation", "nav.segmentation", "segmentation"),
    ("/prevision", "nav.forecast", "forecast"),
    ("/indicateurs", "nav.kpis", "view"),
    ("/import", "nav.import", "import"),
    ("/reseau-routier", "nav.roads", "roads.profile"),
    ("/admin", "nav.admin", "users.manage"),
]


# the screen whose first-use guide a path shows (guide.<screen>.1..3)
GUIDES = {
    "/": "overview",
    "/scenarios": "scenarios",
    "/segmentation": "segmentation",
    "/prevision": "forecast",
    "/indicateurs": "kpis",
    "/kpis": "kpis",
    "/import": "import",
    "/reseau-routier": "roads",
    "/admin": "admin",
}
GUIDE_STEPS = 3
HIDDEN = {"display": "none"}
# the glossary's terms, in the order a new official meets them (help.term/def.<key>)
GLOSSARY = (
    "demand",
    "capacity",
    "utilisation",
    "coverage",
    "mean_distance",
    "unserved",
    "today",
    "scenario",
    "candidate",
    "locked",
    "objective",
    "bound",
    "gap",
    "forecast",
    "segment",
    "nd",
)


def page_right(path: str) -> str:
    """The right a screen needs (``view`` for screens not in the bar)."""
    return next((right for p, _, right in NAV_ITEMS if p == path), "view")


def hide_ids(tree, hidden: tuple[str, ...]):
    """Hide the components whose id is in ``hidden`` (in place; returns ``tree``).

    Only a convenience for the eye: the callbacks behind them check rights
    on the server.
    """
    if isinstance(tree, (list, tuple)):
        for child in tree:
            hide_ids(child, hidden)
        return tree
    if not hasattr(tree, "to_plotly_json"):
        return tree
    if getattr(tree, "id", None) in hidden:
        tree.style = {**(getattr(tree, "style", None) or {}), "display": "none"}
    hide_ids(getattr(tree, "children", None), hidden)
    return tree


def glossary(lang: str) -> html.Dl:
    """The terms a new official meets, each with a short definition."""
    items = []
    for key in GLOSSARY:
        items += [
            html.Dt(t(f"help.term.{key}", lang), id=f"glossary-{key}"),
            html.Dd(t(f"help.def.{key}", lang), className="small mb-2"),
        ]
    return html.Dl(items, className="mb-2")


def help_panel(lang: str, root: str = "/") -> dbc.Offcanvas:
    """The help panel the navbar's button opens: this screen's guide again, then
    the glossary."""
    return dbc.Offcanvas(
        [
            dbc.Button(
                t("help.show_guide", lang),
                id=ids.HELP_AGAIN,
                size="sm",
                color="primary",
                outline=True,
                className="mb-3",
            ),
            html.H2(t("help.glossary", lang), className="h5"),
            glossary(lang),
            html.P(
                html.A(t("help.more", lang), href=f"{root}indicateurs"),
                className="small",
            ),
        ],
        id=ids.HELP_PANEL,
        title=t("help.title", lang),
        placement="end",
        is_open=False,
        scrollable=True,
    )


def guide_steps(screen: str, lang: str) -> list:
    """A screen's first-use guide: what to do first, in three steps."""
    return [html.Li(t(f"guide.{screen}.{n}", lang)) for n in range(1, GUIDE_STEPS + 1)]


def guide_frame(lang: str) -> html.Div:
    """The guide's box, hidden until a screen's steps fill it (its button is in
    the page from the start: Dash wants every input of a callback there)."""
    return html.Div(
        dbc.Alert(
            [
                html.Div(
                    [
                        html.Strong(t("help.guide", lang)),
                        dbc.Button(
                            t("help.dismiss", lang),
                            id=ids.GUIDE_DISMISS,
                            size="sm",
                            color="info",
                            outline=True,
                        ),
                    ],
                    className="d-flex justify-content-between align-items-center "
                    "gap-2 mb-1",
                ),
                html.Ol(id=ids.GUIDE_STEPS, className="mb-0 small"),
            ],
            color="info",
            className="py-2 mb-2",
        ),
        id=ids.GUIDE,
        style=HIDDEN,
    )


def user_menu(
    lang: str, user: Principal | None, csrf: str, root: str = "/"
) -> html.Div | None:
    """Who is signed in (a link to their account) and a sign-out button."""
    if user is None:
        return None
    return html.Div(
        [
            html.A(
                [
                    user.username,
                    dbc.Badge(
                        t(f"role.{user.role}", lang),
                        color="light",
                        text_color="dark",
                        className="ms-1",
                    ),
                ],
                href=f"{root}compte",
                title=t(
                    "auth.signed_in_as", lang, name=user.full_name or user.username
                ),
                className="text-white-50 small me-2 text-nowrap text-decoration-none",
                id="user-menu",
            ),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=csrf),
                    html.Button(
                        t("auth.sign_out", lang),
                        type="submit",
                        className="btn btn-sm btn-outline-light me-3 text-nowrap",
                        id="sign-out",
                    ),
                ],
                action=f"{root}logout",
                method="POST",
                className="m-0",
            ),
        ],
        className="d-flex align-items-center",
    )


def navbar(
    lang: str,
    dataset_name: str | None,
    synthetic: bool,
    user: Principal | None = None,
    csrf: str = "",
    root: str = "/",
) -> dbc.Navbar:
    """Top bar: title, dataset, the screens this user may open, account, FR/EN."""
    badge = (
        dbc.Badge(
            t("app.synthetic", lang),
            color="warning",
            text_color="dark",
            # wraps rather than pushing a phone's page sideways (390 px)
            className="text-wrap text-start",
            id="synthetic-badge",
            title=t("app.synthetic_help", lang),
        )
        if synthetic
        else None
    )
    help_button = dbc.Button(
        t("help.button", lang),
        id=ids.HELP_OPEN,
        size="sm",
        color="light",
        outline=True,
        className="me-2",
        title=t("help.glossary", lang),
    )
    switch = html.Div(
        [
            dbc.ButtonGroup(
                [
                    dbc.Button(
                        "FR",
                        href=f"{root}lang/fr",
                        external_link=True,
                        size="sm",
                        color="light",
                        outline=lang != "fr",
                        id="lang-fr",
                    ),
                    dbc.Button(
                        "EN",
                        href=f"{root}lang/en",
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
        title=t("nav.language", lang),
    )
    return dbc.Navbar(
        dbc.Container(
            [
                html.Div(
                    [
                        html.Span(
                            t("app.title", lang), className="navbar-brand mb-0 h1"
                        ),
                        html.Span(
                            dataset_name or "",
                            title=dataset_name or "",
                            className="text-white-50 small d-none d-lg-inline "
                            "text-truncate text-nowrap",
                            style={"maxWidth": "16rem"},
                        ),
                        badge,
                    ],
                    # the badge goes under the title when both do not fit
                    className="d-flex flex-wrap align-items-center column-gap-2 "
                    "me-auto",
                ),
                user_menu(lang, user, csrf, root),
                help_button if user is not None else None,
                switch,
                # the screens on a row of their own, under the title and account
                dbc.Nav(
                    [
                        dbc.NavLink(
                            t(key, lang),
                            href=root + path.lstrip("/"),
                            active="exact",
                            className="text-nowrap py-1",
                        )
                        for path, key, right in NAV_ITEMS
                        if user is not None and user.can(right)
                    ],
                    navbar=True,
                    className="w-100 flex-row flex-wrap column-gap-3",
                ),
            ],
            fluid=True,
            className="flex-wrap",
        ),
        color="dark",
        dark=True,
        className="mb-2",
    )


def shell(
    lang: str,
    dataset_id: int | None,
    dataset_name: str | None,
    synthetic: bool,
    user: Principal | None = None,
    csrf: str = "",
    root: str = "/",
) -> html.Div:
    """Root layout: shared stores, navbar, alerts and the page container.

    ``root`` is the app's URL prefix (``/plan/`` behind a proxy), every link's start.
    """
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Store(id=ids.LANG, data=lang),
            dcc.Store(id=ids.DATASET, data=dataset_id),
            dcc.Store(id=ids.GUIDE_SEEN, storage_type="local"),
            navbar(lang, dataset_name, synthetic, user, csrf, root),
            help_panel(lang, root),
            dbc.Container(
                [
                    html.Div(id=ids.ALERTS),
                    guide_frame(lang),
                    html.Div(id=ids.PAGE),
                ],
                fluid=True,
            ),
        ]
    )
