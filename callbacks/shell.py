"""Routing between screens."""

from __future__ import annotations

from urllib.parse import parse_qs

from dash import Input, Output, State, ctx, html, no_update

from callbacks import admin, forecast, importer, road_profile, scenarios, segmentation
from dashapp import ids, services
from dashapp.auth import current_user, requires
from dashapp.context import current_config
from dashapp.filters import areas_from_query, resolve
from dashapp.i18n import t
from dashapp.parsing import BadInputError
from dashapp.paths import app_path
from data.users import ROLES, allowed
from layouts.catalogue import catalogue
from layouts.messages import bad_input_alert
from layouts.overview import overview
from layouts.shell import GUIDES, HIDDEN, guide_steps, page_right

QUERY_KEYS = ("level", "indicator", "doc_types", "start", "end", "radius")


def query_filters(search: str | None, ctx=None) -> dict:
    """Filter values given in the URL query (``?region=R01&doc_types=CNI,PASS``).

    Area filters are keyed by the dataset's level codes (read when ``ctx``, the
    dataset's context, is given; see :func:`dashapp.filters.areas_from_query`).
    """
    parsed = parse_qs((search or "").lstrip("?"))
    values = {k: parsed[k][-1] for k in QUERY_KEYS if k in parsed}
    if "doc_types" in values:
        values["doc_types"] = [d for d in values["doc_types"].split(",") if d]
    if ctx is not None:
        last = {k: v[-1] for k, v in parsed.items()}
        values["areas"] = areas_from_query(ctx, last)
    return values


def _overview_page(search: str | None, lang: str, dataset_id):
    ctx = services.context(current_config().database_url, dataset_id)
    return overview(ctx, resolve(ctx, lang, **query_filters(search, ctx)), lang)


def _catalogue_page(search: str | None, lang: str, dataset_id):
    return catalogue(lang)


# path -> function(search, lang, dataset_id) returning the screen; one line a screen
PAGES = {
    "/": _overview_page,
    "/indicateurs": _catalogue_page,
    "/kpis": _catalogue_page,
    "/scenarios": scenarios.render,
    "/segmentation": segmentation.render,
    "/prevision": forecast.render,
    "/import": importer.render,
    road_profile.PAGE: road_profile.render,
    **admin.PAGES,
}


@requires("view")
def render_page(pathname: str | None, search: str | None, lang: str, dataset_id):
    """Render the screen for the URL."""
    pathname = app_path(pathname)  # the browser's, with the proxy's prefix
    page = PAGES.get(pathname)
    if page is None:
        return html.Div(
            t("page.not_found", lang), className="alert alert-secondary mt-3"
        )
    user = current_user()
    right = page_right(pathname)
    if not user.can(right):
        roles = [r for r in ROLES if allowed(r, right)]
        return html.Div(
            t(
                "auth.page_denied",
                lang,
                roles=", ".join(t(f"role.{r}", lang) for r in roles),
                role=t(f"role.{user.role}", lang),
            ),
            className="alert alert-warning mt-3",
            id="page-denied",
        )
    if dataset_id is not None:  # the browser's copy: parsed, and must exist
        try:
            dctx = services.context(current_config().database_url, dataset_id)
        except BadInputError as exc:
            return bad_input_alert(exc, lang, className="mt-3", id="bad-dataset")
        dataset_id = dctx.info.id
    return page(search, lang, dataset_id)


def seen_screens(seen) -> list[str]:
    """The browser's list of dismissed guides, kept to known screens (it is
    untrusted: any JSON may come)."""
    if not isinstance(seen, list):
        return []
    known = set(GUIDES.values())
    return sorted({s for s in seen if isinstance(s, str) and s in known})


@requires("view")
def help_and_guide(pathname, n_help, n_dismiss, n_again, seen, lang):
    """The screen's first-use guide (unless dismissed in this browser), its
    dismissal, and the help panel opened from the navbar.

    Returns the guide box's style, its steps, the dismissed screens and whether
    the help panel opens.
    """
    path = app_path(pathname) if isinstance(pathname, str) else ""
    screen = GUIDES.get(path)
    seen = seen_screens(seen)
    trigger = ctx.triggered_id
    if trigger == ids.HELP_OPEN:
        return no_update, no_update, no_update, bool(n_help) or no_update
    user = current_user()
    allowed_here = (
        screen is not None and user is not None and user.can(page_right(path))
    )
    hidden = (HIDDEN, [])
    if trigger == ids.GUIDE_DISMISS:
        if not n_dismiss or not allowed_here:
            return no_update, no_update, no_update, no_update
        return *hidden, sorted({*seen, screen}), no_update
    if trigger == ids.HELP_AGAIN:
        if not n_again:
            return no_update, no_update, no_update, no_update
        if not allowed_here:
            return *hidden, seen, False
        return {}, guide_steps(screen, lang), [s for s in seen if s != screen], False
    if not allowed_here or screen in seen:
        return *hidden, seen, no_update
    return {}, guide_steps(screen, lang), seen, no_update


def register(app) -> None:
    app.callback(
        Output(ids.PAGE, "children"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        State(ids.LANG, "data"),
        State(ids.DATASET, "data"),
    )(render_page)
    app.callback(
        Output(ids.GUIDE, "style"),
        Output(ids.GUIDE_STEPS, "children"),
        Output(ids.GUIDE_SEEN, "data"),
        Output(ids.HELP_PANEL, "is_open"),
        Input(ids.URL, "pathname"),
        Input(ids.HELP_OPEN, "n_clicks"),
        Input(ids.GUIDE_DISMISS, "n_clicks"),
        Input(ids.HELP_AGAIN, "n_clicks"),
        State(ids.GUIDE_SEEN, "data"),
        State(ids.LANG, "data"),
    )(help_and_guide)
