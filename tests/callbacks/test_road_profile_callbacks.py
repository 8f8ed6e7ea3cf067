"""Road network screen (``/reseau-routier``), callbacks called directly: the
speed profile shown, saved (cached travel times dropped, audit event), reset,
refused field by field, forged forms and datasets, and the roles allowed."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from callbacks import road_profile as cb
from dashapp import ids, services
from dashapp.auth import AccessDeniedError
from dashapp.services import road_profiles
from data import roads as road_store
from data import users
from data.schema import TravelTimeCache
from data.users import Principal
from geo.road_access import travel_access
from geo.roads import DEFAULT_PROFILE, MODES, ROAD_CLASSES, SEASONS, SURFACES

pytestmark = pytest.mark.writes_demo

PLANNER = Principal(5, "planif", "planner")
VIEWER = Principal(6, "lecteur", "viewer")
KEYS = road_profiles.field_keys()


def store_of(app):
    return services.get_store(app.server.config["DASHAPP"].database_url)


def form(app, **changes):
    """The screen's values (the stored profile) with ``changes`` (dotted keys
    written with ``__``)."""
    store = store_of(app)
    values = road_profiles.profile_values(store, store.active_dataset().id)["values"]
    values = dict(values) | {k.replace("__", "."): v for k, v in changes.items()}
    return [values[k] for k in KEYS], [ids.rp_field(k) for k in KEYS]


def save(call, app, values, field_ids, *, reset=False, dataset="active", user=None,
         lang="fr"):  # fmt: skip
    store = store_of(app)
    dataset = store.active_dataset().id if dataset == "active" else dataset
    button = ids.RP_RESET if reset else ids.RP_SAVE
    kwargs = {} if user is None else {"user": user}
    return call(cb.save_profile, 1 if not reset else None, 1 if reset else None,
                values, field_ids, dataset, lang, trigger=f"{button}.n_clicks",
                **kwargs)  # fmt: skip


def cached_rows(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(TravelTimeCache)).scalar()


def texts(tree) -> str:
    if isinstance(tree, str):
        return tree
    if isinstance(tree, list | tuple):
        return " ".join(texts(x) for x in tree)
    if hasattr(tree, "to_plotly_json"):
        return texts(getattr(tree, "children", None))
    return ""


def test_the_page_shows_every_speed_and_the_defaults(call, app):
    page = call(cb.render, "", "fr", None)
    shown = texts(page)
    assert "Vitesses du réseau routier" in shown and "Piste" in shown
    assert "Vitesses par défaut" in shown
    found = []

    def walk(node):
        if isinstance(node, list | tuple):
            for x in node:
                walk(x)
        elif hasattr(node, "to_plotly_json"):
            if isinstance(getattr(node, "id", None), dict):
                found.append((node.id["key"], node.value))
            walk(getattr(node, "children", None))

    walk(page)
    # one table per mode: a row per class, dry then rainy, paved then unpaved
    table_order = [f"road_kmh.{m}.{s}.{c}.{f}" for m in MODES for c in ROAD_CLASSES
                   for s in SEASONS for f in SURFACES]  # fmt: skip
    assert [k for k, _ in found] == table_order + [
        k for k in KEYS if not k.startswith("road_kmh")]  # fmt: skip
    assert dict(found)["road_kmh.motorised.rainy.path.unpaved"] == 0.0  # closed


def test_save_stores_drops_cached_times_and_is_audited(call, app):
    store = store_of(app)
    ds = store.active_dataset().id
    before = travel_access(store, ds, mode="motorised", season="rainy")
    assert cached_rows(store) > 0
    values, field_ids = form(app, road_kmh__motorised__rainy__track__unpaved=0,
                             offroad_cap_km=4)  # fmt: skip
    message, invalid, shown, status = save(call, app, values, field_ids)
    assert message.color == "success" and not any(invalid)
    assert status == "Vitesses modifiées pour ce jeu de données."
    profile = road_store.network_info(store, ds)["profile"]
    assert profile["road_kmh"]["motorised"]["rainy"]["track"]["unpaved"] == 0
    assert profile["offroad_cap_km"] == 4
    assert cached_rows(store) == 0  # the old profile's times are gone
    after = travel_access(store, ds, mode="motorised", season="rainy")
    assert after["kpis"]["unreachable"] > before["kpis"]["unreachable"]
    event = users.audit_events(store, 1).iloc[0]
    assert event["action"] == "roads.profile" and event["target"] == str(ds)
    # reset: the defaults again, shown in the fields
    message, invalid, shown, status = save(
        call, app, values, field_ids, reset=True, lang="en"
    )
    assert "Default speeds restored" in texts(message)
    assert status.startswith("Default speeds")
    assert road_store.network_info(store, ds)["profile"] is None
    assert shown[KEYS.index("offroad_cap_km")] == DEFAULT_PROFILE.offroad_cap_km
    assert users.audit_events(store, 1).iloc[0]["action"] == "roads.profile_reset"


@pytest.mark.parametrize(
    ("changes", "bad", "phrase"),
    [
        (
            {"road_kmh__walking__dry__trunk__paved": -5},
            "road_kmh.walking.dry.trunk.paved",
            "À pied, Saison sèche, Axe principal, revêtue : entre 0,0 et 200 km/h (0 = "
            "fermée), saisi : -5,0",
        ),
        ({"road_kmh__motorised__dry__trunk__paved": 500}, None, "saisi : 500,0"),
        (
            {"offroad_kmh__walking__rainy": 0},
            "offroad_kmh.walking.rainy",
            "Marche hors route, À pied, Saison des pluies : entre 0,5 et 200 km/h",
        ),
        ({"offroad_cap_km": None}, "offroad_cap_km", "saisi : rien"),
        ({"offroad_cap_km": "12"}, "offroad_cap_km", "saisi : '12'"),
        ({"offroad_cap_km": True}, "offroad_cap_km", "entre 0,0 et 100 km"),
        ({"offroad_cap_km": float("nan")}, "offroad_cap_km", "entre 0,0 et 100 km"),
    ],
)
def test_bad_values_are_marked_and_nothing_is_stored(call, app, changes, bad, phrase):
    store = store_of(app)
    ds = store.active_dataset().id
    before = road_store.network_info(store, ds)["profile"]
    values, field_ids = form(app, **changes)
    message, invalid, shown, _ = save(call, app, values, field_ids)
    assert message.color == "danger" and phrase in texts(message)
    assert sum(invalid) == 1
    if bad:
        assert invalid[KEYS.index(bad)]
    assert road_store.network_info(store, ds)["profile"] == before


def test_a_forged_form_is_refused_whole(call, app):
    store = store_of(app)
    ds = store.active_dataset().id
    values, field_ids = form(app)
    message, *_ = save(call, app, [*values, 9], [*field_ids, ids.rp_field("__class__")])
    assert message.color == "danger" and "champ inconnu" in texts(message)
    message, *_ = save(call, app, values[:-1], field_ids[:-1])  # a field missing
    assert message.color == "danger"
    message, *_ = save(call, app, values, [{"type": "rp-field"}] * len(values))
    assert message.color == "warning"
    message, *_ = save(call, app, "x", field_ids)
    assert message.color == "warning"
    assert road_store.network_info(store, ds)["profile"] is None


@pytest.mark.parametrize("dataset", [None, "abc", 999999, -3, "1 OR 1=1", [1]])
def test_a_forged_dataset_is_refused(call, app, dataset):
    store = store_of(app)
    values, field_ids = form(app, offroad_cap_km=3)
    message, invalid, shown, _ = save(call, app, values, field_ids, dataset=dataset)
    assert message.color == "warning"
    assert road_store.network_info(store, store.active_dataset().id)["profile"] is None


def test_planners_may_edit_viewers_may_not(call, app):
    values, field_ids = form(app, offroad_cap_km=6)
    message, *_ = save(call, app, values, field_ids, user=PLANNER)
    assert message.color == "success"
    with pytest.raises(AccessDeniedError):
        save(call, app, values, field_ids, user=VIEWER)
    with pytest.raises(AccessDeniedError):
        save(call, app, values, field_ids, reset=True, user=VIEWER)


def test_other_triggers_do_nothing(call, app):
    values, field_ids = form(app)
    with pytest.raises(PreventUpdate):
        call(cb.save_profile, None, None, values, field_ids, 1, "fr",
             trigger=f"{ids.LANG}.data")  # fmt: skip


def test_a_dataset_without_roads_says_so(call, app):
    store = store_of(app)
    ds = store.active_dataset().id
    from sqlalchemy import delete

    from data.schema import RoadNetwork, RoadSegment

    with store.engine.begin() as conn:
        for model in (TravelTimeCache, RoadSegment, RoadNetwork):
            conn.execute(delete(model).where(model.dataset_id == ds))
    assert "n'a pas de réseau routier" in texts(call(cb.render, "", "fr", None))
    values, field_ids = [1.0], [ids.rp_field("offroad_cap_km")]
    message, *_ = save(call, app, values, field_ids)
    assert "n'a pas de réseau routier" in texts(message)
