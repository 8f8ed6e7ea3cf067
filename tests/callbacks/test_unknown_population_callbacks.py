"""The scenario screen on communes of unknown population: left out of the demand
and said so on the page, in the result and in its tables; no demand at all is a
visible refusal saying what to import."""

from __future__ import annotations

import numpy as np
import pytest

from callbacks import scenario_curve as curve_cb
from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import create_app, services
from dashapp.config import Config
from data.scenarios import get_scenario
from data.store import Store
from geo.access import nearest_center
from tests.callbacks.test_new_country_callbacks import _find, _panel
from tests.tiny import new_country_bundle

ALL = ("C1", "C2", "C3", "C4")


def _app(path, unknown):
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    bundle = new_country_bundle(unknown=unknown)
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    store.engine.dispose()
    return create_app(Config(data_dir=path))


@pytest.fixture
def app(tmp_path):
    """No center, no operations; C4's population unknown (a partial join)."""
    return _app(tmp_path, ("C4",))


@pytest.fixture
def dataset_id(call):
    return call(lambda: services.context(scn.current_config().database_url).info.id)


def test_the_page_says_which_share_of_communes_is_left_out(call, app, dataset_id):
    page = call(scn.render, "", "fr", dataset_id)
    notice = _find(page, "scn-unknown-population")
    assert notice is not None
    assert "1 commune(s) sur 4 sans population connue" in str(notice.children)
    assert _find(page, "scn-no-demand") is None
    url = app.server.config["DASHAPP"].database_url
    base = services.workspace(url, dataset_id)
    assert base.demand_unknown.tolist() == [False, False, False, True]


def test_a_run_leaves_them_out_and_the_result_says_so(call, app, dataset_id):
    config = app.server.config["DASHAPP"]
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1,
        _panel(new_centers=1, added=["C2", "C4"]), dataset_id, "fr",
    )  # fmt: skip
    assert result is not None, status
    record = get_scenario(services.get_store(config.database_url), result["id"])
    communes = record.communes.set_index("commune_id")
    assert np.isnan(communes.loc["C4", "demand"])  # n.d., never 0
    assert communes.loc["C1", "demand"] == pytest.approx(1000 * 0.6 / 52, abs=0.01)
    assert record.summary["demand"]["unknown_communes"] == 1
    deltas, _, grid = call(run_cb.show_result, result, None, "fr", dataset_id)
    alert = _find(deltas, "scn-demand-left-out")
    assert alert is not None
    assert "1 commune(s) sur 4 laissée(s) hors de la demande" in str(alert.children)
    columns = {c["field"]: c for c in grid[1].columnDefs}
    assert "'n.d.'" in columns["demand"]["valueFormatter"]["function"]
    # no center today: no distance, shown n.d. rather than 0.0
    assert "'n.d.'" in columns["distance_before"]["valueFormatter"]["function"]
    assert np.isnan(grid[1].rowData[0]["distance_before"])
    assert grid[1].rowData[3]["commune_id"] == "C4"
    assert np.isnan(grid[1].rowData[3]["demand"])


def test_no_population_at_all_is_a_visible_refusal(call, tmp_path):
    (tmp_path / "none").mkdir()
    app = _app(tmp_path / "none", ALL)
    config = app.server.config["DASHAPP"]
    dataset_id = services.context(config.database_url).info.id

    def run(fn, *args):
        from tests.callbacks.conftest import run_callback

        return run_callback(app, fn, *args)

    page = run(scn.render, "", "fr", dataset_id)
    notice = _find(page, "scn-no-demand")
    assert notice is not None and notice.color == "warning"
    assert "Aucune demande à planifier" in str(notice.children)
    assert "Importez une table de population" in str(notice.children)
    assert _find(page, "scn-estimated-demand") is None
    # the instant evaluation still draws (nothing to count), without an error
    table, _, messages = run(
        plan_cb.evaluate_plan, _panel(added=["C1"]), None, dataset_id, "fr"
    )
    assert messages == [] and "scn-kpi-row" in str(table)
    result, status = run(
        run_cb.run_optimisation, config, lambda _: None, 1,
        _panel(new_centers=1, added=["C1", "C3"]), dataset_id, "fr",
    )  # fmt: skip
    assert result is None
    assert status.id == "scn-no-demand-run"
    assert "aucune des 4 communes n'a de population connue" in str(status.children)
    shown = []
    curve = run(
        curve_cb.coverage_curve, config, shown.append, 1, 2,
        _panel(added=["C1", "C3"]), dataset_id, "fr",
    )  # fmt: skip
    assert curve is scn.no_update
    assert "Aucune demande à planifier" in str(shown[-1].children)
