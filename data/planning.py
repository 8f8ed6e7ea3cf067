"""What the scenario workspace reads from the store: demand, sites, areas.

Plain functions of a :class:`data.store.Store` and a dataset id, so a notebook,
the command line and the app read the same figures
(:class:`optimization.workspace.Workspace` is built from them).

Examples
--------
>>> from data.store import Store
>>> store = Store("sqlite://"); store.upgrade()
>>> site_count(store, 1), centers_without_capacity(store, 1)
(0, 0)
"""

from __future__ import annotations

import pandas as pd

from data.store import Store


def weekly_demand_by_doc(
    store: Store,
    dataset_id: int,
    communes: list[str],
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """Mean weekly requests per commune (rows, in ``communes`` order) and type.

    From the operations of the weeks between ``start`` and ``end`` (ISO dates; the
    last 52 weeks by default); for a dataset imported without operations, from
    the demand estimated from population at import.
    """
    weeks = store.read_frame(
        "SELECT DISTINCT week FROM operations WHERE dataset_id = :d ORDER BY week DESC",
        {"d": dataset_id},
    )["week"]
    if start or end:
        stamps = pd.to_datetime(weeks)
        inside = (stamps >= pd.Timestamp(start or "1900-01-01")) & (
            stamps <= pd.Timestamp(end or "2999-12-31")
        )
        weeks = weeks[inside.to_numpy()]
    n = min(52, len(weeks)) if not (start or end) else len(weeks)
    if n:
        frame = store.read_frame(
            "SELECT u.code AS commune, o.doc_type AS doc, SUM(o.requests) AS requests "
            "FROM operations o JOIN admin_units u ON u.id = o.commune_id "
            "WHERE o.dataset_id = :d AND o.week >= :first AND o.week <= :last "
            "GROUP BY u.code, o.doc_type",
            {"d": dataset_id, "first": weeks.iloc[n - 1], "last": weeks.iloc[0]},
        )
        frame["requests"] = frame["requests"].astype(float) / n
    else:
        frame = store.demand_estimates(dataset_id).rename(
            columns={
                "commune_code": "commune",
                "doc_type": "doc",
                "requests_week": "requests",
            }
        )
    if frame.empty:  # no request counted nor estimated: 0 of each document type
        docs = store.doc_types(dataset_id)["code"].tolist() or ["total"]
        return pd.DataFrame(0.0, index=communes, columns=docs)
    return (
        frame.pivot_table(
            index="commune", columns="doc", values="requests", aggfunc="sum"
        )
        .reindex(communes)
        .fillna(0.0)
    )


def site_count(store: Store, dataset_id: int) -> int:
    """Service centers and candidate sites of the dataset, all statuses."""
    return int(
        store.read_frame(
            "SELECT (SELECT COUNT(*) FROM service_centers WHERE dataset_id = :d) + "
            "(SELECT COUNT(*) FROM candidate_sites WHERE dataset_id = :d) AS n",
            {"d": int(dataset_id)},
        )["n"].iloc[0]
    )


def centers_without_capacity(store: Store, dataset_id: int) -> int:
    """Centers in service whose weekly capacity is unknown (0 or missing)."""
    return int(
        store.read_frame(
            "SELECT COUNT(*) AS n FROM service_centers WHERE dataset_id = :d AND "
            "NOT capacity_week > 0 AND status NOT IN ('closed', 'inactive')",
            {"d": int(dataset_id)},
        )["n"].iloc[0]
    )


def candidate_stamp(store: Store, dataset_id: int) -> tuple[int, int]:
    """Count and last id of the candidate sites: changes when sites are added."""
    row = store.read_frame(
        "SELECT COUNT(*) AS n, MAX(id) AS last FROM candidate_sites "
        "WHERE dataset_id = :d",
        {"d": int(dataset_id)},
    ).iloc[0]
    return tuple(row.fillna(0).astype(int))


def unit_codes(store: Store, dataset_id: int) -> dict[int, str]:
    """Code of every unit of the dataset, by its id in the store."""
    frame = store.read_frame(
        "SELECT id, code FROM admin_units WHERE dataset_id = :d", {"d": int(dataset_id)}
    )
    return dict(zip(frame["id"].astype(int), frame["code"].astype(str), strict=True))


def site_communes(store: Store, dataset_id: int) -> list[str]:
    """Code of the commune each site stands in: centers, then candidate sites."""
    code_of = unit_codes(store, dataset_id)
    return [
        code_of[int(i)]
        for frame in (store.centers(dataset_id), store.candidates(dataset_id))
        for i in frame["commune_id"]
    ]


def communes_under(store: Store, dataset_id: int, code: str) -> list[str] | None:
    """Codes of the communes inside unit ``code`` (itself for a commune).

    ``None`` when the dataset has no unit of that code.
    """
    frame = store.read_frame(
        "SELECT c.code AS commune, c.level AS level, "
        "(SELECT MAX(level) FROM admin_units WHERE dataset_id = :d) AS communes "
        "FROM admin_units a JOIN unit_closure k ON k.ancestor_id = a.id "
        "JOIN admin_units c ON c.id = k.descendant_id "
        "WHERE a.dataset_id = :d AND a.code = :code",
        {"d": int(dataset_id), "code": str(code)},
    )
    if frame.empty:
        return None
    return frame.loc[frame["level"] == frame["communes"], "commune"].tolist()
