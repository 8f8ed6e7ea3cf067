"""Access of communes to service centers (nearest open center, distance)."""

from __future__ import annotations

import pandas as pd

from geo.distance import nearest_km


def nearest_center(communes: pd.DataFrame, centers: pd.DataFrame) -> pd.DataFrame:
    """Nearest open center of each commune, by great-circle distance.

    Parameters
    ----------
    communes : DataFrame
        Columns ``id``, ``rep_lon``, ``rep_lat`` (representative point, degrees).
    centers : DataFrame
        Columns ``id``, ``lon``, ``lat``, ``status``; only ``status == 'open'`` count.

    Returns
    -------
    DataFrame
        ``commune_id``, ``nearest_center_id`` (NA when no center is open) and
        ``distance_km``.

    Examples
    --------
    >>> communes = pd.DataFrame({"id": [1], "rep_lon": [0.0], "rep_lat": [0.0]})
    >>> centers = pd.DataFrame({"id": [7], "lon": [0.0], "lat": [1.0],
    ...                         "status": ["open"]})
    >>> nearest_center(communes, centers)["nearest_center_id"].tolist()
    [7]
    """
    open_ = centers[centers["status"] == "open"]
    idx, dist = nearest_km(
        communes["rep_lon"], communes["rep_lat"], open_["lon"], open_["lat"]
    )
    ids = open_["id"].to_numpy()
    nearest = pd.array([ids[i] if i >= 0 else pd.NA for i in idx], dtype="Int64")
    return pd.DataFrame(
        {
            "commune_id": communes["id"].to_numpy(),
            "nearest_center_id": nearest,
            "distance_km": dist,
        }
    )


def refresh_access(store, dataset_id: int) -> pd.DataFrame:
    """Recompute and store the nearest-center distances of a dataset's communes."""
    levels = store.levels(dataset_id)
    commune_level = int(levels["level"].max())
    communes = store.units(dataset_id, commune_level)
    access = nearest_center(communes, store.centers(dataset_id))
    store.write_access(dataset_id, access)
    return access
