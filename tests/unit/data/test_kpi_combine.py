"""Commune measures combined from every source's rows (data.kpi.combine) are what
the pandas groupby and joins they replace gave: same communes in the same order,
same columns and dtypes, same sums (to 1e-12, the order of additions aside; whole
counts exactly), missing values and rows of unknown communes handled alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import kpi


def _joined(frames: dict[str, pd.DataFrame], weeks: int) -> pd.DataFrame:
    """The implementation before numpy (pandas), kept as the reference."""
    parts = {}
    for source, frame in frames.items():
        names = [m.name for m in kpi.MEASURES.values() if m.source == source]
        parts[source] = frame.groupby("commune_id")[names].sum()
    base = parts.pop("communes")
    for part in parts.values():
        base = base.join(part, how="left")
    base = base.astype(float).fillna(0.0)[list(kpi.MEASURES)]
    base.attrs["n_weeks"] = int(weeks)
    return base


def _frames(seed: int, communes: int = 40) -> dict[str, pd.DataFrame]:
    """Source rows as source_frame/slice_weekly give them: communes in random
    order, several centers per commune, communes without operations, rows of a
    commune the communes source does not list, a center without commune, NaN
    values (a SUM of NULLs), fractional sums."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(100, 100 + communes))
    frames = {}
    for source in kpi.SOURCES:
        names = [m.name for m in kpi.MEASURES.values() if m.source == source]
        if source == "communes":
            keys = ids
        elif source == "ops":
            keys = rng.choice(ids, size=communes * 2 // 3, replace=False)
            keys = np.append(keys, 9999)  # a commune of another level
        else:
            keys = rng.choice(np.append(ids, 9999), size=communes)
        frame = pd.DataFrame({"commune_id": keys})
        if source == "center_ops":
            frame.insert(0, "row_id", np.arange(len(frame)))
        for name in names:
            frame[name] = rng.integers(0, 500, len(frame)).astype(float)
            if name in ("delay_days", "p90_days", "pop_distance"):
                frame[name] = rng.random(len(frame)) * 1e4 / 3
            frame.loc[rng.random(len(frame)) < 0.1, name] = np.nan
        if source == "centers":
            frame["commune_id"] = frame["commune_id"].astype(float)
            frame.loc[frame.index[::9], "commune_id"] = np.nan
        frames[source] = frame
    return frames


FRACTIONAL = ("delay_days", "p90_days", "pop_distance")


@pytest.mark.parametrize("seed", range(6))
def test_combined_measures_are_what_the_joins_gave(seed):
    frames = _frames(seed)
    got, want = kpi.combine(frames, 7), _joined(frames, 7)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=0)
    whole = [c for c in want.columns if c not in FRACTIONAL]
    pd.testing.assert_frame_equal(got[whole], want[whole], check_exact=True)
    assert got.attrs["n_weeks"] == 7
    assert 9999 not in got.index and got.index.is_monotonic_increasing


def test_sources_without_rows_give_zeros():
    frames = _frames(1)
    for source in ("ops", "centers", "center_ops"):
        frames[source] = frames[source].iloc[:0]
    got, want = kpi.combine(frames, 0), _joined(frames, 0)
    pd.testing.assert_frame_equal(got, want)
    assert (got[["requests", "centers", "center_requests"]] == 0).all().all()


def test_no_commune_gives_an_empty_frame_with_every_measure():
    frames = {s: f.iloc[:0] for s, f in _frames(2).items()}
    got = kpi.combine(frames, 3)
    assert got.empty and list(got.columns) == list(kpi.MEASURES)
    assert got.index.name == "commune_id"


def test_the_source_rows_are_left_as_they_were():
    frames = _frames(3)
    before = {s: f.copy() for s, f in frames.items()}
    kpi.combine(frames, 5)
    for source, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[source])
