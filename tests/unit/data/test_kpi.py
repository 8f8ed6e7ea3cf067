import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data import kpi
from data.views import load_context, selection_kpis, unit_kpis
from geo.distance import haversine_km
from tests.tiny import W1, W2


def _filters(store, docs=("A", "B"), start=W1, end=W2, radius=5.0):
    return kpi.Filters(store.active_dataset().id, start, end, docs, radius, 2)


def test_country_kpis_match_hand_computed_values(tiny_store):
    ctx = load_context(tiny_store)
    measures = kpi.commune_measures(tiny_store, _filters(tiny_store))
    values = selection_kpis(ctx, measures)
    assert values["requests"] == 122
    assert values["population"] == 10000
    assert values["requests_per_1000"] == pytest.approx(122 * 1000 / 10000 * 52 / 2)
    assert values["mean_delay"] == pytest.approx(792 / 105)
    assert values["p90_delay"] == pytest.approx(1297 / 105)
    assert values["on_time_share"] == pytest.approx(100 * 74 / 105)
    assert values["rejection_rate"] == pytest.approx(100 * 11 / 122)
    assert values["utilisation"] == pytest.approx(100 * 122 / 300)
    assert values["centers_per_100k"] == pytest.approx(20.0)
    d_c2 = haversine_km(0.15, 0.05, 0.05, 0.05)
    d_c3 = haversine_km(0.05, 0.15, 0.05, 0.05)
    d_c4 = haversine_km(0.15, 0.15, 0.16, 0.16)
    expected = (3000 * d_c2 + 2000 * d_c3 + 4000 * d_c4) / 10000
    assert values["mean_distance"] == pytest.approx(expected)
    # radius 5 km: C1 (0 km) and C4 (1.6 km) are within, C2 and C3 (11.1 km) are not
    assert values["pop_within"] == pytest.approx(50.0)


def test_department_values_and_filters(tiny_store):
    ctx = load_context(tiny_store)
    only_a = kpi.commune_measures(tiny_store, _filters(tiny_store, docs=("A",)))
    by_dept = unit_kpis(ctx, only_a, 1)
    assert by_dept.loc["D1", "requests"] == 10 + 30 + 12
    assert by_dept.loc["D2", "utilisation"] == pytest.approx(100 * 60 / 100)
    week1 = kpi.commune_measures(tiny_store, _filters(tiny_store, end=W1, radius=20))
    assert week1.attrs["n_weeks"] == 1
    values = selection_kpis(ctx, week1, "D1")
    assert values["requests"] == 40
    assert values["pop_within"] == pytest.approx(100.0)
    assert values["utilisation"] == pytest.approx(100 * 40 / 100)


def test_units_outside_the_selection_have_no_value(tiny_store):
    ctx = load_context(tiny_store)
    measures = kpi.commune_measures(tiny_store, _filters(tiny_store))
    values = unit_kpis(ctx, measures, 2, selection="D2")
    assert values.loc[["C1", "C2"], "requests"].isna().all()
    assert values.loc["C4", "requests"] == 40


@pytest.mark.parametrize("kpi_id", list(kpi.KPIS))
@pytest.mark.parametrize("scope", [None, "D1", "D2"])
def test_catalogue_sql_gives_the_app_numbers(tiny_store, kpi_id, scope):
    ctx = load_context(tiny_store)
    filters = _filters(tiny_store, radius=12.0)
    app_value = selection_kpis(ctx, kpi.commune_measures(tiny_store, filters), scope)
    ids = (
        [int(ctx.unit(scope)["id"])]
        if scope
        else ctx.units_at(0)["id"].astype(int).tolist()
    )
    sql_value = kpi.run_kpi_sql(tiny_store, kpi_id, filters, ids)
    np.testing.assert_allclose(sql_value, app_value[kpi_id], rtol=1e-9)


def test_catalogue_sql_agrees_on_the_demo_country(demo_dir):
    from data.store import Store

    store = Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}")
    ctx = load_context(store)
    filters = kpi.Filters(
        ctx.info.id,
        ctx.weeks[-30],
        ctx.weeks[-1],
        ("CNI", "ACTE"),
        25.0,
        ctx.commune_level,
    )
    measures = kpi.commune_measures(store, filters)
    region = ctx.units_at(0)["code"].iloc[1]
    app = selection_kpis(ctx, measures, region)
    for kpi_id in kpi.KPIS:
        sql = kpi.run_kpi_sql(store, kpi_id, filters, [int(ctx.unit(region)["id"])])
        np.testing.assert_allclose(sql, app[kpi_id], rtol=1e-9, err_msg=kpi_id)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_catalogue_gives_the_same_numbers_on_sqlite_and_postgresql(
    demo_dir, postgres
):
    from dashapp.bootstrap import create_demo
    from data.store import Store

    lite = Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}")
    pg = Store(postgres.create_database())
    pg.upgrade()
    create_demo(pg, seed=42, n_communes=400)  # the demo folder's own country
    contexts = {"sqlite": load_context(lite), "postgresql": load_context(pg)}
    ctx = contexts["sqlite"]
    for filters in (
        kpi.Filters(1, ctx.weeks[-52], ctx.weeks[-1], ("CNI", "PASS", "ACTE"), 20.0, 2),
        kpi.Filters(1, ctx.weeks[-30], ctx.weeks[-5], ("CNI", "ACTE"), 7.5, 2),
    ):
        per_commune, per_unit, by_sql = {}, {}, {}
        for name, store in (("sqlite", lite), ("postgresql", pg)):
            c = contexts[name]
            code = c.units.set_index("id")["code"]
            filters = dataclasses.replace(filters, dataset_id=c.info.id)
            measures = kpi.commune_measures(store, filters)
            per_commune[name] = measures.rename(index=code).sort_index()
            per_unit[name] = unit_kpis(c, measures, 1).sort_index()
            scopes = [c.units_at(0)["id"].astype(int).tolist()] + [
                [int(i)] for i in c.units_at(0)["id"]
            ]
            by_sql[name] = np.array(
                [
                    [kpi.run_kpi_sql(store, k, filters, scope) for k in kpi.KPIS]
                    for scope in scopes
                ]
            )
        assert per_commune["sqlite"].attrs == per_commune["postgresql"].attrs
        pd.testing.assert_frame_equal(
            per_commune["sqlite"], per_commune["postgresql"], rtol=1e-12
        )
        pd.testing.assert_frame_equal(
            per_unit["sqlite"], per_unit["postgresql"], rtol=1e-12
        )
        assert np.isfinite(by_sql["sqlite"]).all()
        np.testing.assert_allclose(by_sql["sqlite"], by_sql["postgresql"], rtol=1e-12)


def test_empty_denominators_give_nan_not_errors():
    sums = pd.DataFrame({m: [0.0] for m in kpi.MEASURES})
    sums.attrs["n_weeks"] = 0
    values = kpi.kpi_values(sums)
    assert np.isnan(values["mean_delay"].iloc[0])
    assert np.isnan(values["requests_per_1000"].iloc[0])
    assert np.isnan(values["requests"].iloc[0])  # no week of data: n/a, not 0
    assert values["population"].iloc[0] == 0


def test_catalogue_lists_every_kpi_in_both_languages():
    for lang in ("fr", "en"):
        frame = kpi.catalogue_frame(lang)
        assert frame["id"].tolist() == list(kpi.KPIS)
        assert frame[["name", "rule", "sql"]].map(bool).all().all()
    assert (
        kpi.KPIS["pop_within"]
        .name("fr", 15.0)
        .startswith("Population à moins de 15 km")
    )
    assert "X km" in kpi.KPIS["pop_within"].name("en")


def test_period_without_weeks_gives_zero_weeks(tiny_store):
    filters = _filters(tiny_store, start=dt.date(2030, 1, 1), end=dt.date(2030, 2, 1))
    measures = kpi.commune_measures(tiny_store, filters)
    assert measures.attrs["n_weeks"] == 0
    assert measures["requests"].sum() == 0
