"""Weekly rows summed for a period and document types (data.kpi.slice_weekly) give
what the pandas groupby they replace gave, for every filter combination: the same
keys in the same order, the same dtypes, the same sums (to 1e-12, the order of
additions aside; integer counts exactly)."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from data import kpi

DOCS = ("ACTE", "CNI", "PASS")
WEEK0 = dt.date(2024, 1, 1)  # a Monday


def _groupby_sum(weekly: pd.DataFrame, source: str, filters: kpi.Filters):
    """The implementation before WeeklyRows (pandas), kept as the reference."""
    week = weekly["week"].to_numpy()
    keep = (
        (week >= np.datetime64(filters.start, "D"))
        & (week <= np.datetime64(filters.end, "D"))
        & weekly["doc_type"].isin(filters.doc_types).to_numpy()
    )
    names = [m.name for m in kpi.MEASURES.values() if m.source == source]
    keys = ["row_id", "commune_id"] if kpi.SOURCES[source].row_key else ["commune_id"]
    rows = weekly.loc[keep].groupby(keys, as_index=False, sort=True, dropna=False)
    return rows[names].sum()


def _weekly(source: str, seed: int, weeks: int = 12, missing_key: bool = False):
    """A weekly source frame as weekly_source_frame makes it: sparse (not every
    week, type and key has a row), rows in no particular order, fractional sums."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(weeks):
        for doc in DOCS:
            for commune in (11, 3, 7, 25):
                if rng.random() < 0.3:
                    continue
                row = {"week": WEEK0 + dt.timedelta(weeks=w), "doc_type": doc,
                       "commune_id": commune}  # fmt: skip
                if source == "center_ops":
                    row["row_id"] = 100 + commune % 4
                rows.append(row)
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed, ignore_index=True)
    names = [m.name for m in kpi.MEASURES.values() if m.source == source]
    for name in names:
        frame[name] = rng.integers(0, 50, len(frame)).astype(float)
    if "delay_days" in frame:  # SUM(mean delay x delivered): not whole numbers
        frame["delay_days"] = rng.random(len(frame)) * 97.3
        frame["p90_days"] = rng.random(len(frame)) * 1e6 / 3
    if missing_key:  # a center without a commune: NaN key, grouped last
        frame.loc[frame.index[::7], "commune_id"] = np.nan
    order = ["week", "doc_type", *(["row_id"] if source == "center_ops" else []),
             "commune_id", *names]  # fmt: skip
    frame = frame[order]
    frame["week"] = pd.to_datetime(frame["week"]).to_numpy().astype("datetime64[D]")
    frame["doc_type"] = frame["doc_type"].astype("category")
    return frame


def _dates():
    """Starts and ends before, on, inside, between and after the weeks."""
    return [WEEK0 - dt.timedelta(days=30), WEEK0, WEEK0 + dt.timedelta(days=3),
            WEEK0 + dt.timedelta(weeks=4), WEEK0 + dt.timedelta(weeks=4, days=6),
            WEEK0 + dt.timedelta(weeks=11), WEEK0 + dt.timedelta(weeks=20)]  # fmt: skip


def _doc_sets():
    subsets = [c for n in range(len(DOCS) + 1) for c in itertools.combinations(DOCS, n)]
    return [*subsets, ("CNI", "UNKNOWN"), ("PASS", "ACTE")]  # unknown type, any order


@pytest.mark.parametrize("source,missing_key", [("ops", False),
                                                ("center_ops", False),
                                                ("center_ops", True)])  # fmt: skip
def test_every_period_and_document_types_sum_as_the_groupby_did(source, missing_key):
    weekly = _weekly(source, 1 + missing_key, missing_key=missing_key)
    rows = kpi.WeeklyRows.from_frame(weekly, source)
    names = [m.name for m in kpi.MEASURES.values() if m.source == source]
    compared = 0
    for start, end in itertools.product(_dates(), repeat=2):  # reversed ones too
        for docs in _doc_sets():
            filters = kpi.Filters(1, start, end, docs, 10.0, 2)
            want = _groupby_sum(weekly, source, filters)
            got = kpi.slice_weekly(rows, filters)
            assert list(got.columns) == list(want.columns)
            keys = [c for c in want.columns if c not in names]
            pd.testing.assert_frame_equal(got[keys], want[keys])  # same keys, order
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12,
                                          atol=0)  # fmt: skip
            whole = [n for n in names if n not in ("delay_days", "p90_days")]
            pd.testing.assert_frame_equal(got[whole], want[whole], check_exact=True)
            compared += len(want)
    assert compared > 500  # the cases are not all empty


def test_the_rows_are_laid_out_once_and_left_as_they_are():
    weekly = _weekly("ops", 3)
    before = weekly.copy()
    rows = kpi.WeeklyRows.from_frame(weekly, "ops")
    pd.testing.assert_frame_equal(weekly, before)
    assert np.all(np.diff(rows.week.astype("int64")) >= 0)  # a period is one range
    assert rows.values.shape == (len(rows.names), len(weekly))
    assert all(rows.values[i].flags["C_CONTIGUOUS"] for i in range(len(rows.names)))
    filters = kpi.Filters(1, WEEK0, WEEK0 + dt.timedelta(weeks=30), DOCS, 1.0, 2)
    total = kpi.slice_weekly(rows, filters)
    assert total["requests"].sum() == weekly["requests"].sum()


def test_a_source_without_weekly_rows_is_refused():
    with pytest.raises(ValueError, match="'communes' is not one of"):
        kpi.WeeklyRows.from_frame(_weekly("ops", 1), "communes")


def test_no_row_in_the_filters_gives_an_empty_frame_with_the_columns():
    weekly = _weekly("center_ops", 4)
    rows = kpi.WeeklyRows.from_frame(weekly, "center_ops")
    for filters in (kpi.Filters(1, WEEK0, WEEK0 + dt.timedelta(weeks=5), (), 1.0, 2),
                    kpi.Filters(1, dt.date(2030, 1, 1), dt.date(2031, 1, 1), DOCS,
                                1.0, 2)):  # fmt: skip
        got = kpi.slice_weekly(rows, filters)
        assert got.empty
        assert list(got.columns) == ["row_id", "commune_id", "center_requests"]
