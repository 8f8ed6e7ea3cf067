"""A dataset's speed profile as the road-network screen edits it.

The profile is :class:`geo.roads.SpeedProfile` (its defaults defined there once),
stored per dataset by :func:`data.roads.save_profile`, which also drops the
travel times cached from the previous profile. The screen sends one value per
field, each named by its dotted key (``road_kmh.motorised.rainy.track.unpaved``,
``offroad_kmh.walking.dry``, ``offroad_cap_km``); :func:`check_fields` checks
every one against the model's bounds and says which are wrong, so the screen
can mark them all at once rather than the first only.

Examples
--------
>>> keys = field_keys()
>>> len(keys), keys[0], keys[-1]
(61, 'road_kmh.walking.dry.trunk.paved', 'offroad_cap_km')
>>> data, problems = check_fields(dict.fromkeys(keys, 5.0) | {"offroad_cap_km": -1})
>>> data is None, [(p["key"], p["low"], p["high"]) for p in problems]
(True, [('offroad_cap_km', 0.0, 100.0)])
"""

from __future__ import annotations

import math
from typing import Any

from data import roads as road_store
from data.store import Store, StoreError
from geo.roads import (
    DEFAULT_PROFILE,
    MODES,
    ROAD_CLASSES,
    SEASONS,
    SURFACES,
    SpeedProfile,
    profile_bounds,
)

__all__ = ["check_fields", "field_keys", "profile_values", "save_fields"]


def field_keys() -> list[str]:
    """Every editable value's dotted key, in the screen's order."""
    keys = [
        f"road_kmh.{m}.{s}.{c}.{f}"
        for m in MODES
        for s in SEASONS
        for c in ROAD_CLASSES
        for f in SURFACES
    ]
    keys += [f"offroad_kmh.{m}.{s}" for m in MODES for s in SEASONS]
    return keys + ["offroad_cap_km"]


def _get(data: dict, key: str) -> Any:
    for part in key.split("."):
        data = data[part]
    return data


def _set(data: dict, key: str, value: float) -> None:
    *path, last = key.split(".")
    for part in path:
        data = data.setdefault(part, {})
    data[last] = value


def profile_values(store: Store, dataset_id: int) -> dict[str, Any] | None:
    """The dataset's profile as ``{"values": {key: km/h}, "defaults": {...},
    "edited": bool}``; None when the dataset has no road network."""
    info = road_store.network_info(store, dataset_id)
    if info is None:
        return None
    profile = SpeedProfile.from_dict(info["profile"]).to_dict()
    defaults = DEFAULT_PROFILE.to_dict()
    return {
        "values": {k: _get(profile, k) for k in field_keys()},
        "defaults": {k: _get(defaults, k) for k in field_keys()},
        "edited": info["profile"] is not None,
    }


def check_fields(fields: dict[str, Any]) -> tuple[dict | None, list[dict]]:
    """The profile data of the screen's values, or None and every problem.

    ``fields`` maps known keys to numbers (keys not in :func:`field_keys` and
    missing keys are problems too: a forged form is refused whole). Each
    problem is ``{"key", "value", "low", "high", "unit"}``.
    """
    problems: list[dict] = []
    data: dict = {}
    known = set(field_keys())
    for key in fields:
        if key not in known:
            problems.append({"key": str(key)[:80], "value": None, "low": None,
                             "high": None, "unit": None})  # fmt: skip
    for key in field_keys():
        value = fields.get(key)
        low, high = profile_bounds(key)
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and low <= value <= high
        )
        if not ok:
            problems.append({"key": key, "value": value, "low": low, "high": high,
                             "unit": "km" if key == "offroad_cap_km" else "km/h"})  # fmt: skip
            continue
        _set(data, key, float(value))
    if problems:
        return None, problems
    SpeedProfile.from_dict(data)  # the model's own check: one rule
    return data, []


def save_fields(
    store: Store, dataset_id: int, fields: dict[str, Any] | None
) -> tuple[SpeedProfile | None, list[dict]]:
    """Store the screen's values as the dataset's profile (None: back to the
    defaults); the cached travel times go with the old profile.

    Returns the stored profile (None with problems, when nothing is stored) and
    the problems.

    Raises
    ------
    StoreError
        The dataset has no road network.
    """
    if road_store.network_info(store, dataset_id) is None:
        raise StoreError(f"dataset {dataset_id} has no road network")
    if fields is None:
        road_store.save_profile(store, dataset_id, None)
        return DEFAULT_PROFILE, []
    data, problems = check_fields(fields)
    if data is None:
        return None, problems
    profile = SpeedProfile.from_dict(data)
    road_store.save_profile(store, dataset_id, profile.to_dict())
    return profile, []
