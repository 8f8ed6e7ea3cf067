"""Delay-risk drivers: center-week table, outcomes, time split, classifiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import risk


def synthetic_center_weeks(n_centers=40, n_weeks=60, seed=0):
    """Outcome driven by utilisation only; every other feature is noise."""
    rng = np.random.default_rng(seed)
    n = n_centers * n_weeks
    frame = pd.DataFrame({k: rng.random(n) for k in risk.FEATURES})
    frame["week"] = np.repeat(
        pd.date_range("2024-01-01", periods=n_weeks, freq="7D"), n_centers
    )
    frame["utilisation"] = rng.uniform(0.3, 1.4, n)
    frame["on_time_share"] = np.clip(
        1.6 - frame["utilisation"] + rng.normal(0, 0.1, n), 0, 1
    )
    frame["rejection_rate"] = 0.02 + 0.1 * (frame["utilisation"] > 1.1)
    return frame


def test_outcomes_follow_the_thresholds():
    frame = pd.DataFrame(
        {
            "on_time_share": [0.95, 0.8, 0.79, None],
            "rejection_rate": [0.0, 0.06, 0.07, 0.5],
        }
    )
    assert risk.outcome(frame, "late").tolist()[:3] == [0.0, 0.0, 1.0]
    assert np.isnan(risk.outcome(frame, "late").iloc[3])
    assert risk.outcome(frame, "rejections").tolist() == [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(risk.RiskError, match="unknown target 'delay'"):
        risk.outcome(frame, "delay")


def test_time_split_keeps_the_last_weeks_for_testing():
    frame = pd.DataFrame(
        {"week": np.repeat(pd.date_range("2024-01-01", periods=10, freq="7D"), 2)}
    )
    train, test, first = risk.time_split(frame, 3)
    assert first == pd.Timestamp("2024-02-19")
    assert len(train) == 14 and len(test) == 6
    assert train["week"].max() < test["week"].min()
    with pytest.raises(risk.RiskError, match="needs at least 12 weeks"):
        risk.time_split(frame, 6)


def test_both_models_find_the_driver_and_not_the_noise():
    report = risk.fit_risk(synthetic_center_weeks(), "late", test_weeks=15, n_repeats=3)
    assert report.n_train == 40 * 45 and report.n_test == 40 * 15
    assert report.split_week == pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=45)
    assert set(report.models) == set(risk.RISK_MODELS)
    for model in report.models.values():
        assert model.auc > 0.9
        assert model.importance.index[0] == "utilisation"
        assert model.importance["mean"].iloc[0] > 0.2
        # no noise feature matters much
        assert model.importance["mean"].iloc[1:].max() < 0.03
        assert model.confusion.sum() == report.n_test
        assert model.fpr[0] == 0.0 and model.tpr[-1] == 1.0


def test_one_class_outcome_is_refused_with_a_reason():
    frame = synthetic_center_weeks()
    frame["rejection_rate"] = 0.0
    with pytest.raises(risk.RiskError, match="only one outcome class"):
        risk.fit_risk(frame, "rejections", test_weeks=15)
    with pytest.raises(risk.RiskError, match="missing columns: staff"):
        risk.fit_risk(frame.drop(columns="staff"), "late")


def test_center_weeks_from_the_tiny_store(tiny_store):
    ds = tiny_store.active_dataset().id
    frame = risk.center_weeks(tiny_store, ds)
    centers = tiny_store.centers(ds).set_index("code")["id"]
    s1 = frame[frame["center_id"] == centers["S1"]].set_index("week")
    w1, w2 = s1.index.sort_values()
    assert s1.loc[w1, "requests"] == 40
    assert s1.loc[w1, "utilisation"] == pytest.approx(0.40)
    assert s1.loc[w1, "on_time_share"] == pytest.approx(33 / 35)
    assert s1.loc[w1, "rejection_rate"] == pytest.approx(0.1)
    assert np.isnan(s1.loc[w1, "backlog_prev"])
    assert s1.loc[w2, "backlog_prev"] == pytest.approx(1 / 100)
    assert s1.loc[w2, "utilisation"] == pytest.approx(0.22)
    assert s1.loc[w2, "staff"] == 4 and s1.loc[w2, "capacity_per_staff"] == 25
    assert s1.loc[w2, "share_pass"] == 0.0
    s2 = frame[frame["center_id"] == centers["S2"]].iloc[0]
    assert s2["on_time_share"] == pytest.approx(25 / 50)
    assert list(frame.columns[5:]) == list(risk.FEATURES)
