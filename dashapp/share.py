"""Read-only share links: a scenario shown to someone without an account.

A link is ``/share/<token>``, the token signing ``[scenario id, nonce]`` with the
app's secret key. The nonce is stored with the scenario: drawing a new one (or
deleting the scenario) revokes every link given before. The page is rendered on
the server from the saved scenario only; it runs no callback and changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import flask
import plotly
from itsdangerous import BadSignature

from dashapp.auth import request_language, secret_key, share_serializer
from dashapp.config import Config
from dashapp.i18n import t
from data.scenarios import ScenarioStoreError, share_nonce, shared_scenario

PLOTLY_JS = "/vendor/plotly.min.js"
#: the app's own asset (Dash serves assets/), which fits every map to its width
MAPFIT_JS = "/assets/mapfit.js"

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ name }}</title><link rel="stylesheet" href="{{ css }}">
<script src="{{ plotly_js }}"></script>
<script src="{{ mapfit_js }}"></script></head><body>
<nav class="navbar navbar-dark bg-dark mb-3"><div class="container-fluid">
<span class="navbar-brand">{{ app_title }}</span>
<span class="badge text-bg-light" id="share-read-only">{{ read_only }}</span>
</div></nav>
<main class="container">
<h1 class="h4" id="share-name">{{ name }}</h1>
<p class="text-muted">{{ meta }}</p>
<div class="row"><div class="col-lg-5"><div id="share-map" style="height:360px">
</div></div><div class="col-lg-7">
<table class="table table-sm" id="share-kpis"><thead><tr><th>{{ h_kpi }}</th>
<th class="text-end">{{ h_before }}</th><th class="text-end">{{ h_after }}</th></tr>
</thead><tbody>{% for row in kpis %}<tr><td>{{ row[0] }}</td>
<td class="text-end">{{ row[1] }}</td><td class="text-end">{{ row[2] }}</td></tr>
{% endfor %}</tbody></table></div></div>
<h2 class="h6 mt-3">{{ h_changes }}</h2>
<table class="table table-sm" id="share-changes"><thead><tr><th>{{ h_site }}</th>
<th>{{ h_status }}</th></tr></thead><tbody>{% for row in changes %}<tr>
<td>{{ row[0] }}</td><td>{{ row[1] }}</td></tr>{% endfor %}</tbody></table>
</main>
<script type="application/json" id="share-figure">{{ figure|safe }}</script>
<script>
var fig = JSON.parse(document.getElementById("share-figure").textContent);
Plotly.newPlot("share-map", fig.data, fig.layout,
  {displayModeBar: false, responsive: true});
</script></body></html>"""


def share_url(config: Config, store, scenario_id: int, *, renew: bool = False) -> str:
    """The read-only link of a scenario (a new one, revoking older, if ``renew``)."""
    nonce = share_nonce(store, scenario_id, renew=renew)
    token = share_serializer(secret_key(config)).dumps([int(scenario_id), nonce])
    return config.url(f"/share/{token}")


def _kpi_rows(record, lang: str) -> list[tuple[str, str, str]]:
    """The scenario screen's KPI rows (same labels, scales and decimals)."""
    from layouts.figures import fmt
    from layouts.scenario_results import KPI_ROWS

    kpis = (record.summary or {}).get("kpis") or {}
    before, after = kpis.get("before") or {}, kpis.get("after") or {}
    units = (record.summary or {}).get("units")
    rows = []
    for kpi in KPI_ROWS:
        b, a = before.get(kpi.id), after.get(kpi.id)
        if b is None and a is None:
            continue
        rows.append(
            (
                kpi.label(lang, units),
                fmt(None if b is None else b * kpi.scale, kpi.decimals, lang),
                fmt(None if a is None else a * kpi.scale, kpi.decimals, lang),
            )
        )
    return rows


def share_view(token: str):
    """The page behind a share link, or 404 for a forged or revoked one."""
    from dashapp import services
    from layouts.scenarios import scenario_small_map

    config: Config = flask.current_app.config["DASHAPP"]
    lang = request_language()
    store = services.get_store(config.database_url)
    try:
        scenario_id, nonce = share_serializer(secret_key(config)).loads(token)
        record = shared_scenario(store, int(scenario_id), str(nonce))
    except (BadSignature, ScenarioStoreError, TypeError, ValueError):
        return flask.render_template_string(
            "<!doctype html><title>404</title><p>{{ text }}</p>",
            text=t("share.invalid", lang),
        ), 404
    rows = _kpi_rows(record, lang)
    changes = []
    if record.centers is not None and "status" in record.centers:
        moved = record.centers[record.centers["status"].isin(["opened", "closed"])]
        changes = [
            (str(n), t(f"scn.site_status.{s}", lang))
            for n, s in moved[["name", "status"]].itertuples(index=False)
        ]
    figure = (
        scenario_small_map(
            *services.outline(config.database_url, record.dataset_id),
            record.centers,
            lang,
        )
        if record.centers is not None
        else {}
    )
    html = flask.render_template_string(
        PAGE,
        lang=lang,
        name=record.name,
        app_title=t("app.title", lang),
        read_only=t("share.read_only", lang),
        meta=t(
            "share.meta",
            lang,
            status=t(f"scn.status.{record.status}", lang),
            author=record.author or "-",
            when=f"{record.updated_at:%Y-%m-%d %H:%M}",
        ),
        plotly_js=config.url(PLOTLY_JS),
        # the map fitted to its real width, as on the app's screens
        mapfit_js=config.url(MAPFIT_JS),
        css=config.url("/vendor/bootstrap.min.css"),
        kpis=rows,
        changes=changes,
        h_kpi=t("share.kpi", lang),
        h_before=t("scn.today_nearest", lang),
        h_after=t("scn.proposal", lang),
        h_changes=t("share.changes", lang),
        h_site=t("share.site", lang),
        h_status=t("share.status", lang),
        # JSON inside a <script> block: "</" must not close it early
        figure=json.dumps(figure, default=str).replace("</", "<\\/"),
    )
    return html


def _plotly_js():
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return flask.send_file(path, mimetype="text/javascript", max_age=86400)


def init_share(server: flask.Flask) -> None:
    # any path under /share/ is a link or a 404, never one of the app's pages
    server.add_url_rule("/share/<path:token>", "share", share_view)
    server.add_url_rule(PLOTLY_JS, "plotly_js", _plotly_js)
