"""Main screen: access by road for the selection, by travel mode and season."""

from __future__ import annotations

from dash import Input, Output

from callbacks.overview import AREAS, CONTEXT
from dashapp import ids, services
from dashapp.auth import requires
from dashapp.context import current_config
from dashapp.filters import resolve
from layouts.road_access import parse_measure, road_access_body


@requires("view")
def update_road_access(areas, measure, dataset_id, lang):
    """The access KPIs of the selected area for the chosen mode and season."""
    url = current_config().database_url
    dctx = services.context(url, dataset_id)
    selection = resolve(dctx, lang, areas=areas).selection
    mode, season = parse_measure(measure)
    kpis = services.road_access(url, dctx.info.id, selection, mode, season)
    return road_access_body(kpis, lang)


def register(app) -> None:
    """Attach the road-access callback to ``app``."""
    app.callback(
        output=Output(ids.ROAD_ACCESS, "children"),
        inputs={"areas": AREAS, "measure": Input(ids.ROAD_MEASURE, "value"),
                **CONTEXT},
    )(update_road_access)  # fmt: skip
