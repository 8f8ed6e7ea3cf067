"""Forecasting: baselines, learned model, rolling-origin backtest, intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import forecast as fc


def simulate(n_series, n_weeks, *, seed=0, trend=0.06, noise=0.08):
    """Trend x yearly seasonality x lognormal noise, different levels per series."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_weeks)
    base = rng.uniform(80, 400, n_series)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)[:, None]
    season = 1 + 0.35 * np.sin(2 * np.pi * t / fc.WEEKS_PER_YEAR + phase)
    growth = (1 + trend) ** (t / fc.WEEKS_PER_YEAR)
    sd = rng.uniform(0.5, 1.5, n_series)[:, None] * noise
    return base * season * growth * rng.lognormal(0, sd, (n_series, n_weeks))


def panel_of(Y, start="2023-01-02"):
    keys = pd.DataFrame(
        {
            "series": [f"S{i}" for i in range(len(Y))],
            "name": [f"Série {i}" for i in range(len(Y))],
            "doc_type": "CNI",
        }
    )
    return fc.Panel(pd.date_range(start, periods=Y.shape[1], freq="7D"), keys, Y)


# ------------------------------------------------------------------ baselines


def test_seasonal_naive_takes_the_value_52_weeks_before():
    Y = np.arange(110, dtype=float)[None, :]
    assert fc.seasonal_naive(Y, 4).tolist() == [[58.0, 59.0, 60.0, 61.0]]


def test_moving_average_is_flat_mean_of_last_weeks():
    Y = np.array([[0, 0, 1, 2, 3, 4, 5, 6, 7, 8.0]])
    assert fc.moving_average(Y, 3).tolist() == [[4.5, 4.5, 4.5]]


@pytest.mark.parametrize(
    ("Y", "horizon", "match"),
    [
        (np.ones(60), 4, "should be 2-D"),
        (np.ones((1, 60)), 0, "horizon should be in 1..52"),
        (np.ones((1, 30)), 4, "needs at least 52 weeks"),
        (np.r_[np.ones(59), np.nan][None, :], 4, "missing or infinite"),
    ],
)
def test_bad_panels_are_refused_with_a_reason(Y, horizon, match):
    with pytest.raises(fc.ForecastError, match=match):
        fc.seasonal_naive(Y, horizon)


def test_learned_model_must_be_fitted_and_cannot_reach_further():
    model = fc.GradientBoostingForecaster(horizon=4)
    with pytest.raises(fc.ForecastError, match="not fitted"):
        model.predict(np.ones((1, 100)))
    model.fit(simulate(3, 100))
    with pytest.raises(fc.ForecastError, match="longer than the fitted"):
        model.predict(np.ones((1, 100)), horizon=8)


# ------------------------------------------------------------------ backtest


def test_learned_model_beats_seasonal_naive_on_trend_and_seasonality():
    Y = simulate(20, 160, seed=1)
    bt = fc.backtest(Y, horizon=8, n_eval=12)
    acc = fc.accuracy(bt, 4)
    assert (
        acc.loc["gradient_boosting", "wape"] < 0.85 * acc.loc["seasonal_naive", "wape"]
    )
    assert acc.loc["gradient_boosting", "skill"] > 15
    # the seasonal moving average misses the seasonality
    assert acc.loc["moving_average", "skill"] < 0
    assert acc.loc["selected", "wape"] < acc.loc["seasonal_naive", "wape"]


def test_backtest_uses_no_information_from_the_future():
    Y = simulate(6, 150, seed=2)
    bt = fc.backtest(Y, horizon=6, n_eval=8, refit_every=3)
    cut = int(bt.origins[5])
    changed = Y.copy()
    changed[:, cut:] *= 3.0  # the future after origin 5 is very different
    bt2 = fc.backtest(changed, horizon=6, n_eval=8, refit_every=3)
    before = bt.origins <= cut
    assert before.sum() == 6
    np.testing.assert_array_equal(
        bt.forecasts[:, :, before], bt2.forecasts[:, :, before]
    )
    np.testing.assert_array_equal(bt.selection()[:, before], bt2.selection()[:, before])
    # and the change does show after the cut
    assert not np.allclose(bt.forecasts[:, :, ~before], bt2.forecasts[:, :, ~before])


def crafted_backtest():
    """One series, 3 origins, 2 steps, two models; numbers chosen by hand."""
    actual = np.array([[[10.0, 20.0], [20.0, 40.0], [40.0, np.nan]]])
    naive = np.array([[[12.0, 10.0], [10.0, 30.0], [30.0, 30.0]]])
    other = np.array([[[10.0, 25.0], [20.0, 40.0], [44.0, 50.0]]])
    return fc.Backtest(
        origins=np.array([8, 9, 10]),
        actual=actual,
        forecasts=np.stack([naive, other]),
        models=("seasonal_naive", "gradient_boosting"),
        n_weeks=11,
        n_eval=2,
    )


def test_accuracy_values_worked_out_by_hand():
    bt = crafted_backtest()
    # step 1 targets weeks 9 (origin 9) and 10 (origin 10): actual 20, 40
    acc = fc.accuracy(bt, 1)
    assert acc.loc["seasonal_naive", "wape"] == pytest.approx(100 * 20 / 60)
    assert acc.loc["seasonal_naive", "mape"] == pytest.approx(100 * (0.5 + 0.25) / 2)
    assert acc.loc["gradient_boosting", "wape"] == pytest.approx(100 * 4 / 60)
    assert acc.loc["gradient_boosting", "skill"] == pytest.approx(80.0)
    assert acc.loc["seasonal_naive", "skill"] == 0.0
    # step 2 targets week 9 (origin 8) and 10 (origin 9): actual 20, 40
    acc2 = fc.accuracy(bt, 2)
    assert acc2.loc["seasonal_naive", "wape"] == pytest.approx(100 * 20 / 60)
    assert list(acc2["n"]) == [2, 2, 2]
    with pytest.raises(fc.ForecastError, match="step should be in 1..2"):
        fc.accuracy(bt, 3)


def test_nested_selection_only_uses_errors_already_observed():
    bt = crafted_backtest()
    choice = bt.selection()
    # origin 8: nothing realised -> the baseline; origin 9 sees origin 8 step 1
    # (naive err 2, other 0); origin 10 sees 8:1, 8:2, 9:1 (naive 2+10+10, other 0+5+0)
    assert choice.tolist() == [[0, 1, 1]]
    # the selected backtest forecast at origin 9 is the other model's
    assert bt.selected_forecasts()[0, 1].tolist() == [20.0, 40.0]
    assert bt.final_selection().tolist() == [1]


def disagreeing_backtest():
    """One series, 6 origins, 1 step, three models; the last 2 weeks are scored.

    Before the window (weeks 6-9, actual 100) the seasonal naive is exact and the
    others miss by 30 and 40. In the window (weeks 10, 11; actual 10, 100) the
    naive misses by 10 and 0, the moving average by 0 and 6, the learned model
    by 2 and 0: by WAPE the learned model is best (2 / 110), by MAPE the moving
    average (3% against 10%), over every week the naive.
    """
    actual = np.array([[100.0, 100, 100, 100, 10, 100]])[:, :, None]
    naive = np.array([[100.0, 100, 100, 100, 20, 100]])[:, :, None]
    average = np.array([[130.0, 130, 130, 130, 10, 94]])[:, :, None]
    learned = np.array([[140.0, 140, 140, 140, 12, 100]])[:, :, None]
    return fc.Backtest(
        origins=np.arange(6, 12),
        actual=actual,
        forecasts=np.stack([naive, average, learned]),
        models=fc.MODELS,
        n_weeks=12,
        n_eval=2,
    )


def test_chosen_model_has_the_smallest_shown_wape_on_the_last_weeks():
    bt = disagreeing_backtest()
    acc = fc.accuracy(bt, 1)  # the table the screen shows at 1 week
    assert acc.loc["moving_average", "mape"] < acc.loc["gradient_boosting", "mape"]
    assert acc.loc["gradient_boosting", "wape"] < acc.loc["moving_average", "wape"]
    # chosen by WAPE on the last n_eval weeks, not by every realised error
    # (that was the seasonal naive: 10 / 6 against 125 / 6 and 162 / 6)
    assert fc.MODELS[bt.final_selection(1)[0]] == "gradient_boosting"
    scores = fc.selection_scores(bt, 1, 0)
    assert scores["wape"].tolist() == pytest.approx(
        [100 * 10 / 110, 100 * 6 / 110, 100 * 2 / 110]
    )
    assert scores["n"].tolist() == [2, 2, 2]
    assert scores.index[scores["chosen"]].tolist() == ["gradient_boosting"]
    assert scores["wape"].idxmin() == "gradient_boosting"
    # at one step the selection score is the WAPE column shown
    assert scores["wape"].tolist() == pytest.approx(acc["wape"].iloc[:3].tolist())
    with pytest.raises(fc.ForecastError, match=r"series should be in 0..0, got 1"):
        fc.selection_scores(bt, 1, 1)


def test_selection_pools_steps_1_to_h_on_the_last_weeks():
    bt = crafted_backtest()
    # targets in weeks 9-10: origin 8 step 2, origin 9 steps 1-2, origin 10 step 1
    # (actual 20 + 20 + 40 + 40); naive errors 10 + 10 + 10 + 10, other 5 + 0 + 0 + 4
    scores = fc.selection_scores(bt, 2, 0)
    assert scores["wape"].tolist() == pytest.approx([100 * 40 / 120, 100 * 9 / 120])
    assert scores["n"].tolist() == [4, 4]
    assert bt.selection_mask(2).tolist() == [[False, True], [True, True], [True, False]]
    assert bt.selection_mask(1).sum() == 2
    with pytest.raises(fc.ForecastError, match=r"horizon should be in 1..2, got 3"):
        bt.selection_mask(3)


def test_conformal_halfwidth_rank():
    errors = np.array([0.05, -0.1, 0.2, -0.3, np.nan])
    assert fc.conformal_halfwidth(errors, 0.5) == 0.2  # ceil(5 * 0.5) = 3rd of 4
    assert fc.conformal_halfwidth(errors, 0.95) == 0.3  # rank beyond m -> largest
    with pytest.raises(fc.ForecastError, match=r"level should be in \(0, 1\)"):
        fc.conformal_halfwidth(errors, 95)


def test_interval_coverage_is_close_to_nominal_on_simulated_data():
    n_hist, horizon = 156, 8
    Y = simulate(120, n_hist + horizon, seed=3, noise=0.1)
    lf = fc.forecast_panel(panel_of(Y[:, :n_hist]), "sim", horizon=horizon)
    table = lf.table(horizon)
    future = Y[:, n_hist:].ravel()  # rows of table: series-major, then step
    inside80 = (future >= table["lo80"]) & (future <= table["hi80"])
    inside95 = (future >= table["lo95"]) & (future <= table["hi95"])
    assert 0.73 <= inside80.mean() <= 0.88, inside80.mean()
    assert 0.90 <= inside95.mean() <= 0.985, inside95.mean()
    assert (table["lo95"] <= table["lo80"]).all()
    assert (table["hi80"] <= table["hi95"]).all()


def test_level_table_has_a_chosen_model_and_future_weeks():
    Y = simulate(4, 140, seed=4)
    lf = fc.forecast_panel(panel_of(Y), "sim", horizon=6, n_eval=6)
    table = lf.table(4)
    assert len(table) == 4 * 4
    assert set(table["model"]) <= set(fc.MODELS)
    assert table["week"].iloc[0] == lf.panel.weeks[-1] + pd.Timedelta(weeks=1)
    assert table["step"].tolist()[:4] == [1, 2, 3, 4]
    assert lf.series_index("S2", "CNI") == 2
    with pytest.raises(fc.ForecastError, match="no series 'S9'"):
        lf.series_index("S9", "CNI")
    with pytest.raises(fc.ForecastError, match=r"integer in 1..6 weeks, got 7"):
        lf.table(7)


def test_backtest_needs_enough_history():
    with pytest.raises(fc.ForecastError, match="needs at least 129 weeks"):
        fc.backtest(simulate(2, 110), horizon=26, n_eval=12)


@pytest.mark.parametrize("bad", [0, 27, 4.5, "12", None])
def test_horizon_outside_1_to_26_is_refused(bad):
    with pytest.raises(fc.ForecastError, match="horizon should be an integer in 1..26"):
        fc.check_horizon(bad)


# ------------------------------------------------------------------ from the store


def test_series_from_the_tiny_store(tiny_store):
    ds = tiny_store.active_dataset().id
    # one region: its series is the national one, not offered twice
    assert fc.level_codes(tiny_store, ds) == ["national", "department", "center"]
    dept = fc.load_series(tiny_store, ds, "department")
    got = dept.groupby(["series", "doc_type"])["requests"].sum().to_dict()
    assert got == {("D1", "A"): 52.0, ("D1", "B"): 10.0, ("D2", "A"): 60.0}
    centers = fc.load_series(tiny_store, ds, "center", doc_types=["B"])
    assert centers[["series", "requests"]].values.tolist() == [["S1", 10.0]]
    national = fc.to_panel(fc.load_series(tiny_store, ds, "national"))
    assert national.values.tolist() == [[100.0, 12.0], [0.0, 10.0]]
    with pytest.raises(fc.ForecastError, match="unknown level 'commune'"):
        fc.load_series(tiny_store, ds, "commune")
    with pytest.raises(fc.ForecastError, match="unknown level 'region'"):
        fc.load_series(tiny_store, ds, "region")  # the national series already
    with pytest.raises(fc.ForecastError, match="unknown document types: PASS"):
        fc.load_series(tiny_store, ds, "department", doc_types=["PASS"])
    with pytest.raises(fc.ForecastError, match="needs at least"):
        fc.forecast_level(tiny_store, ds, "department")


def test_commune_shares_on_the_tiny_store(tiny_store):
    ds = tiny_store.active_dataset().id
    shares = fc.commune_shares(tiny_store, ds, "department")
    ids = dict(zip(*tiny_store.units(ds)[["code", "id"]].T.values, strict=True))
    got = {(r.commune_id, r.doc_type): round(r.share, 4) for r in shares.itertuples()}
    assert got[(ids["C1"], "A")] == round(22 / 52, 4)
    assert got[(ids["C2"], "A")] == round(30 / 52, 4)
    assert got[(ids["C1"], "B")] == 1.0
    assert got[(ids["C4"], "A")] == round(40 / 60, 4)
    with pytest.raises(fc.ForecastError, match="administrative level"):
        fc.commune_shares(tiny_store, ds, "center")


@pytest.fixture(scope="module")
def demo_department_forecast(demo_dir):
    from data.store import Store

    store = Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}")
    ds = store.active_dataset().id
    return store, ds, fc.forecast_level(store, ds, "department")


def test_commune_demand_adds_up_to_the_department_forecast(demo_department_forecast):
    store, ds, lf = demo_department_forecast
    demand = fc.forecast_demand_by_commune(store, ds, 8, forecast=lf)
    communes = store.units(ds, 2)
    assert demand.name == "requests_week"
    assert sorted(demand.index) == sorted(communes["id"])
    assert (demand >= 0).all()
    table = lf.table(8)
    expected = table.loc[table["step"] == 8, "forecast"].sum()
    assert demand.sum() == pytest.approx(expected, rel=1e-9)
    # one department: its communes share exactly its forecast
    depts = store.units(ds, 1)
    code_of = dict(zip(depts["id"], depts["code"], strict=True))
    parent = communes["parent_id"].map(code_of)
    first = depts["code"].iloc[0]
    mine = communes.loc[parent == first, "id"]
    assert demand.loc[mine].sum() == pytest.approx(
        table.loc[(table["step"] == 8) & (table["series"] == first), "forecast"].sum()
    )
    assert demand.attrs["horizon_weeks"] == 8
    assert demand.attrs["week"] == "2026-12-21"
    only_pass = fc.forecast_demand_by_commune(store, ds, 8, ["PASS"], forecast=lf)
    assert 0 < only_pass.sum() < demand.sum()
    with pytest.raises(fc.ForecastError, match="unknown document types: XX"):
        fc.forecast_demand_by_commune(store, ds, 8, ["XX"], forecast=lf)
    with pytest.raises(fc.ForecastError, match="horizon should be an integer"):
        fc.forecast_demand_by_commune(store, ds, 30, forecast=lf)


def test_demo_backtest_learned_model_beats_seasonal_naive(demo_department_forecast):
    _, _, lf = demo_department_forecast
    acc = lf.accuracy(4)
    assert acc.loc["gradient_boosting", "skill"] > 0
    assert acc.loc["selected", "skill"] > 0


def test_demo_chosen_model_is_the_smallest_selection_wape(demo_department_forecast):
    _, _, lf = demo_department_forecast
    for horizon in (4, 12, 26):
        wape = lf.backtest.selection_wape(horizon)
        chosen = lf.chosen(horizon)
        table = lf.table(horizon)
        for row in range(len(lf.panel.keys)):
            best = np.nanmin(wape[:, row])
            assert wape[chosen[row], row] == best
            assert table["model"].iloc[row * horizon] == fc.MODELS[chosen[row]]
        scores = lf.selection_scores(horizon, 0)
        assert scores["n"].iloc[0] == fc.N_EVAL * horizon
