"""Why a run or a coverage curve has no result, worded for the planner.

A walk-through found an unhandled ``InfeasibleError`` that left the coverage
curve's job at "Calcul : 0 / 4" for ever, and a run refused with the engine's
English ("invalid scenario input: sites [33] are both locked and forbidden")
inside a French sentence. Each message here is the catalogue's, in French and
English, never the engine's text.
"""

import re
from pathlib import Path

import pytest

from callbacks import scenario_curve as curve_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import services
from dashapp.i18n import STRINGS
from data.scenarios import list_scenarios
from layouts.scenario_results import refusal_alert, refusal_text
from optimization.errors import InfeasibleError, Reason
from optimization.scenario import ScenarioError, ScenarioRefusedError
from optimization.workspace import Workspace
from tests.callbacks.test_scenario_callbacks import _panel

pytestmark = pytest.mark.writes_demo  # a run that succeeds would save a scenario

ENGINE_WORDS = ("invalid scenario input", "locked and forbidden", "The plan is")


@pytest.fixture
def dataset_id(call):
    return call(lambda: services.context(scn.current_config().database_url).info.id)


@pytest.fixture
def config(demo_app):
    return demo_app.server.config["DASHAPP"]


def _names(config, dataset_id) -> dict:
    return services.workspace(config.database_url, dataset_id).names()


def _text(component) -> str:
    return str(getattr(component, "children", component))


# -- the coverage curve ------------------------------------------------------------------
LOCKED_AND_CLOSED = {"sites": {"CS002": "locked", "SC034": "closed"}, "added": []}


@pytest.mark.parametrize(
    ("lang", "said", "reason"),
    [
        ("fr", "Pas de courbe : le scénario tel que réglé n'a pas de solution",
         "communes ne peuvent être"),
        ("en", "No curve: the scenario as set has no solution",
         "communes may only be served by new sites"),
    ],
)  # fmt: skip
def test_a_curve_without_a_solution_ends_with_why(
    call, config, dataset_id, lang, said, reason
):
    # the walk-through's scenario: a site locked open, a center to close, travel
    # time in the rainy season, up to 4 added centers. The locked site no longer
    # makes every plan infeasible (it was counted among the added ones); in the
    # rainy season some communes reach no open site by road: no plan at k = 0
    progress = []
    panel = _panel(
        map_choices=LOCKED_AND_CLOSED, allow_closures=True, measure="motorised|rainy"
    )
    figure = call(
        curve_cb.coverage_curve, config, progress.append, 1, 4, panel, dataset_id, lang
    )
    # the job ends with a figure (the answer that carries the last progress line)
    assert figure["data"] == []
    chart = figure["layout"]["annotations"][0]["text"]
    assert chart.startswith("Pas de courbe" if lang == "fr" else "No curve")
    last = progress[-1]
    assert last.id == "scn-curve-failed"
    assert said in _text(last) and reason in _text(last)
    assert not any(w in _text(last) for w in ENGINE_WORDS)


def test_a_curve_stopped_part_way_says_how_far_it_got(
    call, config, dataset_id, monkeypatch
):
    # the plan with 0 added centers solved, the one with 1 has no solution
    def stops_at_one(self, whatif, n_max, forecast=None, progress=None):
        progress(0, n_max)
        progress(1, n_max)
        raise InfeasibleError(
            [Reason("p_above_allowed", "51 > 50", {"p": 51, "allowed": 50})]
        )

    monkeypatch.setattr(Workspace, "coverage_curve", stops_at_one)
    progress = []
    figure = call(
        curve_cb.coverage_curve, config, progress.append, 1, 3, _panel(), dataset_id,
        "fr",
    )  # fmt: skip
    assert figure["data"] == []
    text = _text(progress[-1])
    assert text.startswith(
        "Courbe interrompue à 1 centre(s) ajouté(s) : 51 centres sont demandés mais "
        "seuls 50 sites peuvent ouvrir. Ramenez « Centres ajoutés, jusqu'à » à 0"
    )


def test_an_unexpected_curve_error_ends_the_job_and_goes_to_the_log(
    call, config, dataset_id, monkeypatch, caplog
):
    def broken(self, whatif, n_max, forecast=None, progress=None):
        progress(0, n_max)
        raise RuntimeError("index 12 is out of bounds")

    monkeypatch.setattr(Workspace, "coverage_curve", broken)
    progress = []
    figure = call(
        curve_cb.coverage_curve, config, progress.append, 1, 2, _panel(), dataset_id,
        "en",
    )  # fmt: skip
    assert figure["data"] == [] and "No curve" in str(figure["layout"])
    assert "an unexpected error occurred" in _text(progress[-1])
    assert "out of bounds" not in _text(progress[-1])
    assert "out of bounds" in caplog.text


# -- a center to close while closures are not allowed -------------------------------------
@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("fr", "{name} est marqué « à fermer », mais les fermetures ne sont pas "
               "autorisées : cochez « Fermetures autorisées »"),
        ("en", "{name} is marked “to close”, but closures are not allowed: tick "
               "“Closures allowed”"),
    ],
)  # fmt: skip
def test_closing_a_center_without_closures_allowed_names_it(
    call, config, dataset_id, lang, said
):
    store = services.get_store(config.database_url)
    before = len(list_scenarios(store))
    panel = _panel(map_choices={"sites": {"SC034": "closed"}, "added": []})
    assert panel["allow_closures"] is False
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1, panel, dataset_id, lang
    )
    text = _text(status)
    assert result is None
    assert said.format(name=_names(config, dataset_id)["SC034"]) in text
    assert not any(w in text for w in ENGINE_WORDS)
    assert len(list_scenarios(store)) == before


def test_several_centers_to_close_are_counted_and_named(call, config, dataset_id):
    panel = _panel(
        map_choices={"sites": {"SC034": "closed", "SC035": "closed"}, "added": []}
    )
    _, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1, panel, dataset_id, "fr"
    )
    names = _names(config, dataset_id)
    assert (
        f"2 centres sont marqués « à fermer » ({names['SC034']}, {names['SC035']})"
        in _text(status)
    )


def test_closing_with_closures_allowed_runs(call, config, dataset_id):
    panel = _panel(
        map_choices={"sites": {"SC034": "closed"}, "added": []}, allow_closures=True
    )
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1, panel, dataset_id, "fr"
    )
    assert result is not None and "optimal" in _text(status)


# -- every refusal the engine words -------------------------------------------------------
# each code a ScenarioRefusedError carries, with the figures it quotes
REFUSALS = {
    "closure_not_allowed": {"names": "Centre A", "n": 1},
    "closures_not_allowed": {"names": "Centre A, Centre B", "n": 2},
    "locked_and_forbidden": {"names": "Centre A", "n": 1},
    "no_sites": {},
    "no_commune_reaches_a_site": {"mode": "walking", "season": "rainy"},
    "no_solution_in_time": {"status": "time_limit", "seconds": 5.0},
    "capacities_missing": {"n": 2, "names": "Centre A, Centre B"},
    "reallocation_capacities_missing": {"n": 1, "names": "Centre A"},
    "reallocation_without_centers": {},
    "no_doc_type_demand": {"types": "'XYZ'"},
}
ENGINE = Path(__file__).parents[2] / "optimization"


def test_every_refusal_code_of_the_engine_is_listed_here():
    raised = set()
    for name in ("scenario.py", "whatif.py"):
        source = (ENGINE / name).read_text()
        raised |= set(re.findall(r'ScenarioRefusedError\(\s*"(\w+)"', source))
        raised |= set(re.findall(r'"(\w+_not_allowed)"', source))
        raised |= set(re.findall(r'"(\w*capacities_missing)"', source))
    assert raised and raised <= set(REFUSALS)


@pytest.mark.parametrize("code", list(REFUSALS))
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_refusal_is_worded_by_the_catalogue(code, lang):
    assert set(STRINGS[f"reason.{code}"]) >= {"fr", "en"}
    exc = ScenarioRefusedError(code, "ENGLISH ENGINE TEXT", **REFUSALS[code])
    text = refusal_text(exc, lang)
    assert "ENGLISH ENGINE TEXT" not in text and "{" not in text
    alert = refusal_alert(exc, lang)
    start = "Le scénario ne peut pas être résolu" if lang == "fr" else "The scenario"
    assert _text(alert).startswith(start)


def test_the_time_limit_refusal_says_what_to_raise():
    exc = ScenarioRefusedError("no_solution_in_time", "x", status="t", seconds=5.0)
    assert "dans le temps max. de 5 s : augmentez « Temps max. (s) »" in refusal_text(
        exc, "fr"
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_refusal_without_a_code_keeps_the_engine_text_off_the_screen(lang):
    exc = ScenarioError("invalid scenario input: 'x' should be 3, got 4")
    text = _text(refusal_alert(exc, lang))
    assert "should be 3" not in text
    assert ("journal du serveur" if lang == "fr" else "server log") in text


def test_a_curve_of_an_unusable_panel_names_the_field_and_ends_with_a_figure(
    call, config, dataset_id
):
    # a job that returns no_update is answered 204, which drops its last progress:
    # the page showed nothing at all (seen in headless Chromium)
    progress = []
    figure = call(
        curve_cb.coverage_curve, config, progress.append, 1, 4,
        _panel(new_centers=-4), dataset_id, "fr",
    )  # fmt: skip
    assert figure["data"] == [] and "Pas de courbe" in str(figure["layout"])
    assert "Nouveaux centres : -4 n'est pas entre 0 et 500" in str(progress[-1])
