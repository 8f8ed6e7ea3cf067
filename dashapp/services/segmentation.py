"""Memoised computations behind the segmentation screen and the ``clusters`` command.

The commune indicators are those of the main screen's default filters (last 52
weeks of data, every document type), so the numbers agree with its map.
"""

from __future__ import annotations

import pandas as pd

from dashapp.cache import memo
from dashapp.filters import default_period
from dashapp.parsing import BadInputError, parse_id, parse_number, shown_value
from dashapp.segmentation_tables import export_tables
from data import exports
from data import kpi as kpi_mod
from data.indicators import (
    DEFAULT_INDICATORS,
    INDICATORS,
    LOG_SCALE,
    POPULATION_INDICATORS,
    commune_indicators,
)
from data.views import DatasetContext, filter_levels, load_context
from geo import segmentation as seg_mod

DEFAULT_RADIUS_KM = 20.0


def default_filters(ctx: DatasetContext) -> kpi_mod.Filters:
    """Last 52 weeks, every document type (the main screen's defaults)."""
    start, end = default_period(ctx)
    return kpi_mod.Filters(
        ctx.info.id,
        start,
        end,
        tuple(ctx.doc_types["code"]),
        DEFAULT_RADIUS_KM,
        ctx.commune_level,
    )


def scope_codes(ctx: DatasetContext) -> set[str]:
    """Codes of the areas a segmentation can be limited to: the units of the first
    filter level (regions in the demo; none when no level splits the country)."""
    levels = filter_levels(ctx)
    return set(ctx.units_at(levels[0])["code"]) if levels else set()


def is_scope(ctx: DatasetContext, region) -> bool:
    """Whether ``region`` (from the browser or the command line) is such an area."""
    return isinstance(region, str) and region in scope_codes(ctx)


def scope_communes(ctx: DatasetContext, region: str | None):
    """Communes of an area (every commune for ``None``), in store order."""
    communes = ctx.communes()
    unit = ctx.unit(region) if region else None
    if unit is not None:
        communes = communes[communes[f"ancestor_{int(unit['level'])}"] == region]
    return communes


def indicator_frame(store, ctx: DatasetContext) -> pd.DataFrame:
    """Indicators of every commune of the dataset (not memoised: see the cached one)."""
    measures = kpi_mod.commune_measures(store, default_filters(ctx))
    return commune_indicators(ctx.communes(), measures)


def run(
    store,
    ctx: DatasetContext,
    region: str | None,
    features: tuple[str, ...],
    k: int | str,
    method: str,
    progress=None,
    frame: pd.DataFrame | None = None,
) -> tuple[seg_mod.Segmentation, pd.DataFrame]:
    """Segment the communes of ``region``; returns the result and their indicators.

    Communes of unknown population are left out when a chosen indicator needs it
    (``geo.segmentation.segment``'s ``population_features``), and the result says so.
    """
    communes = scope_communes(ctx, region)
    frame = indicator_frame(store, ctx) if frame is None else frame
    frame = frame.loc[communes["id"].to_numpy()]
    result = seg_mod.segment(
        frame,
        features,
        k=k,
        method=method,
        geometry=communes.geometry.to_numpy() if method == "contiguous" else None,
        progress=progress,
        log_features=[f for f in features if f in LOG_SCALE],
        population_features=POPULATION_INDICATORS,
    )
    return result, frame


# In process memory as they are, as every memo of dashapp.services (flask-caching's
# SimpleCache unpickled the frame at each read); in the shared cache too when there
# is one. A dataset version never changes once stored: they cannot go stale.
@memo(maxsize=4, shared=True, max_bytes=64 * 1024 * 1024)
def cached_indicators(url: str, dataset_id: int) -> pd.DataFrame:
    """Indicators of every commune, read once per dataset (shared: never changed)."""
    from dashapp import services

    return indicator_frame(services.get_store(url), services.context(url, dataset_id))


@memo(maxsize=64, shared=True)
def cached_sites(url: str, dataset_id: int, region: str | None, k: int) -> pd.DataFrame:
    """Proposed sites for ``k`` new centers in the region (population-weighted;
    ``attrs["population_unknown"]`` counts the communes left out; shared: never
    changed)."""
    from dashapp import services

    ctx = services.context(url, dataset_id)
    return seg_mod.cluster_sites(scope_communes(ctx, region), k)


def check_sites(sites, most: int) -> list[dict]:
    """Proposed sites as the browser sends them back, checked row by row.

    At most ``most`` rows, each with a text ``code`` and ``name`` (at most 200
    characters), a ``commune_id`` that is an id, and finite ``lon``/``lat`` in
    degrees; :meth:`data.store.Store.add_candidate_sites` then checks that the
    commune exists and holds the point. Raises :class:`dashapp.parsing.BadInputError`.
    """
    if not isinstance(sites, list) or not 1 <= len(sites) <= most:
        raise BadInputError(
            f"proposed sites should be a list of 1 to {most} rows, got "
            f"{shown_value(sites)}",
            "sites",
            reason=f"1..{most}",
        )
    rows = []
    for i, site in enumerate(sites, start=1):
        try:
            if not isinstance(site, dict):
                raise BadInputError(f"row {i} is not an object", "sites")
            for key in ("code", "name"):
                if not isinstance(site.get(key), str) or not 0 < len(site[key]) <= 200:
                    raise BadInputError(f"row {i}: '{key}' should be text", "sites")
            rows.append(
                {
                    "code": site["code"],
                    "name": site["name"],
                    "commune_id": parse_id(site.get("commune_id"), "commune_id"),
                    "lon": parse_number(site.get("lon"), "lon", minimum=-180,
                                        maximum=180),
                    "lat": parse_number(site.get("lat"), "lat", minimum=-90,
                                        maximum=90),
                }
            )  # fmt: skip
        except BadInputError as exc:
            raise BadInputError(
                f"proposed site {i}: {exc}", "sites", reason=f"{i}: {exc}"
            ) from None
    return rows


def sites_for_store(sites: list[dict], codes: list[str]) -> pd.DataFrame:
    """Proposed sites as rows for ``Store.add_candidate_sites``, with new codes."""
    frame = pd.DataFrame(sites)
    old = frame["code"].tolist()
    frame["name"] = [
        name.replace(f"({a})", f"({b})")
        for name, a, b in zip(frame["name"], old, codes, strict=True)
    ]
    frame["code"] = codes
    return frame[["code", "name", "commune_id", "lon", "lat"]]


def write_excel(target, communes: pd.DataFrame, profile: pd.DataFrame) -> None:
    """Two sheets: ``communes`` (labels) and ``profiles`` (cluster profiles)."""
    with exports.excel_writer(target) as writer:
        communes.to_excel(writer, sheet_name="communes", index=False)
        profile.to_excel(writer, sheet_name="profiles", index=False)


def write_clusters(
    store,
    out: str,
    *,
    k: int | str = "auto",
    method: str = "kmeans",
    features: tuple[str, ...] = DEFAULT_INDICATORS,
    region: str | None = None,
    lang: str = "fr",
    profiles: str | None = None,
) -> str:
    """Segment the active dataset, write the labels (and profiles); one-line report.

    ``out`` ends with ``.csv`` (labels) or ``.xlsx`` (labels and profiles sheets);
    ``k`` is a number of clusters or ``"auto"``. Raises ``ValueError`` with a
    readable message on a bad argument.
    """
    ctx = load_context(store)
    if ctx is None:
        raise ValueError("the store holds no dataset (run: python -m dashapp demo)")
    unknown = [f for f in features if f not in INDICATORS]
    if unknown:
        raise ValueError(
            f"unknown indicators {', '.join(unknown)}; choose from {', '.join(INDICATORS)}"
        )
    if region and not is_scope(ctx, region):
        raise ValueError(f"unknown region {region!r}")
    out = str(out)
    if not out.endswith((".csv", ".xlsx")):
        raise ValueError("--out should end with .csv or .xlsx")
    result, frame = run(store, ctx, region, tuple(features), k, method)
    summary = result.to_dict(frame["code"].tolist())
    communes, profile = export_tables(summary, frame, {}, lang)
    if out.endswith(".xlsx"):
        write_excel(out, communes, profile)
    else:
        exports.write_csv(communes, out)
    if profiles:
        exports.write_csv(profile, profiles)
    left_out = (
        f"; {len(result.left_out)} communes without a known population left out "
        f"({', '.join(result.population_features)} need it), no cluster in the file"
        if result.left_out
        else ""
    )
    return (
        f"{len(result.labels)} communes in {result.k} clusters ({result.method}, "
        f"silhouette {result.silhouette:.3f}) written to {out}{left_out}"
    )
