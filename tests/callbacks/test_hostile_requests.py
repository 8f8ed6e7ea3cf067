"""Hostile requests through the real HTTP endpoints: each is refused, nothing changes.

Every case sends a forged request or file the way a browser or a script would, to
Dash's ``/_dash-update-component`` (bodies built by ``bench.bench_overview.callback_body``
from the app's own ``callback_map``: a callback renamed, rewired or dropped fails
here), ``/api/v1``, ``/login``, ``/logout``, ``/lang`` and ``/share``. Each case
asserts the refusal (status and JSON ``error``, or the alert in Dash's answer) and
that the tables of the store and the files around the data folder are as they were
(:class:`Snapshots`).

Two data folders, each shared by the module's cases (every case compares its own
before and after, so one that went wrong cannot hide another):

* ``demo``: a copy of the demo country, for callbacks, API, uploads and imports;
* ``accounts``: the tiny country, for sign-in, sessions, tokens, share links and
  exports. Those cases write sign-in rows and audit events by design, and after
  any write every table is hashed again: milliseconds on the tiny store, seconds
  on the demo's 187,000 operations.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import time
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import flask
import pytest
from dash import ALL, Input
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import inspect

from bench.bench_overview import callback_body
from callbacks import (
    admin,
    briefs,
    forecast,
    importer,
    overview,
    road_access,
    road_profile,
    scenario_compare,
    scenario_curve,
    scenario_library,
    scenario_plan,
    scenario_run,
    scenarios,
    segmentation,
    shell,
)
from dashapp import create_app, ids, services
from dashapp.auth import share_serializer, upload_serializer
from dashapp.config import PROJECT_ROOT, Config
from dashapp.i18n import t
from dashapp.parsing import BadIdError, BadInputError, UnknownIdError, parse_ids
from dashapp.share import share_url
from data import users
from data.scenarios import (
    delete_scenario,
    get_scenario,
    record_from_result,
    save_scenario,
)
from data.store import Store
from data.users import ROLES, Principal, allowed
from geo.access import nearest_center
from layouts.maps import site_index
from layouts.messages import bad_input_text
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario
from tests.auth_helpers import PASSWORD, csrf_of, ensure_user, sign_in
from tests.tiny import tiny_bundle

DISPATCH = "/_dash-update-component"
NOISE = ("-wal", "-shm", "-journal")  # SQLite's side files: any connection writes
LANG = f"{ids.LANG}.data"
DATASET = f"{ids.DATASET}.data"
RESULT = f"{ids.SCN_RESULT}.data"
SAVED = f"{ids.SCN_SAVED}.value"
PICK = f"{ids.SCN_COMPARE_PICK}.value"
UPLOADS = f"{ids.IMP_UPLOADS}.data"
CSV_CONTENT = "data:text/csv;base64," + base64.b64encode(b"code,name\nC1,Un\n").decode()
FORMULA = '=HYPERLINK("http://evil","x")'
XSS = "<script>alert(1)</script>"
EVIL = "http://evil.example"


def prop(component_id, name: str) -> str:
    """``"id.property"`` as Dash writes it, pattern-matching ids included."""
    return str(Input(component_id, name))


# -- snapshots --------------------------------------------------------------------------
def table_digests(engine, ignore_columns: dict | None = None, only=None) -> dict:
    """``{table: (rows, sha256 of the rows ordered by primary key)}`` of every table."""
    ignore_columns = ignore_columns or {}
    inspector = inspect(engine)
    digests = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in sorted(inspector.get_table_names()):
            if only is not None and table not in only:
                continue
            skip = ignore_columns.get(table, ())
            columns = [
                c["name"] for c in inspector.get_columns(table) if c["name"] not in skip
            ]
            order = inspector.get_pk_constraint(table)["constrained_columns"] or columns
            cursor.execute(
                f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table)} "
                f"ORDER BY {', '.join(map(_quoted, order))}"
            )
            digest, count = hashlib.sha256(), 0
            while rows := cursor.fetchmany(20_000):
                count += len(rows)
                digest.update(repr(rows).encode())
            digests[table] = (count, digest.hexdigest())
    finally:
        raw.close()
    return digests


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def files_under(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """``{relative path: (size, mtime_ns)}`` of the files under ``root``.

    Folders are ``("dir",)`` and SQLite stores ``("sqlite",)``: a checkpoint may
    rewrite a store after any commit, and its rows are compared table by table.
    SQLite's side files and the ``skip`` folders are left out.
    """
    found = {}
    for path in root.rglob("*"):
        if any(path == s or s in path.parents for s in skip) or path.name.endswith(
            NOISE
        ):
            continue
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            found[rel] = ("dir",)
        elif path.suffix == ".sqlite":
            found[rel] = ("sqlite",)
        else:
            info = path.stat()
            found[rel] = (info.st_size, info.st_mtime_ns)
    return found


@dataclass(frozen=True)
class Snapshot:
    tables: dict
    files: dict
    assets: dict


class Snapshots:
    """Row counts and row hashes of every table; the files around the data folder.

    The files are those under ``root`` (the data folder and the sentinels next to
    it) except the ``cache`` folder (results and background jobs change on any
    request), and those of the project's ``assets`` folder. ``PRAGMA data_version``
    changes whenever another connection, in any process, commits: while it stands
    still the last table hashes are still the store's and are reused.
    """

    def __init__(self, root: Path, data_dir: Path, engine) -> None:
        self.root, self.data_dir, self.engine = root, data_dir, engine
        self._probe = sqlite3.connect(data_dir / "dashapp.sqlite")
        self._version = None
        self._tables: dict = {}

    def take(self, ignore_columns: dict | None = None) -> Snapshot:
        version = self._probe.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._tables = table_digests(self.engine)
            self._version = version
        tables = dict(self._tables)
        if ignore_columns:
            tables.update(table_digests(self.engine, ignore_columns, ignore_columns))
        return Snapshot(
            tables,
            files_under(self.root, (self.data_dir / "cache",)),
            files_under(PROJECT_ROOT / "assets"),
        )

    def close(self) -> None:
        self._probe.close()


def assert_same(before: Snapshot, after: Snapshot, skip=(), new_files_in=None):
    """Nothing changed but the ``skip`` tables (which must still exist) and new files
    inside the ``new_files_in`` folder (relative to the snapshot root)."""
    assert set(after.tables) == set(before.tables), "tables created or dropped"
    changed = [
        name
        for name in before.tables
        if name not in skip and before.tables[name] != after.tables[name]
    ]
    assert not changed, f"tables changed: {changed}"
    allowed = set()
    if new_files_in:  # the folder, its files, and the uploads folder if new
        allowed = {
            rel
            for rel in after.files.keys() - before.files.keys()
            if rel in (new_files_in, str(Path(new_files_in).parent))
            or rel.startswith(new_files_in + "/")
        }
    files = {k: v for k, v in after.files.items() if k not in allowed}
    assert files == before.files, _file_changes(before.files, files)
    assert after.assets == before.assets, "the project's assets folder changed"


def _file_changes(before: dict, after: dict) -> str:
    return (
        f"files added: {sorted(after.keys() - before.keys())}; removed: "
        f"{sorted(before.keys() - after.keys())}; changed: "
        f"{sorted(k for k in before.keys() & after.keys() if before[k] != after[k])}"
    )


# -- the app under attack ---------------------------------------------------------------
@dataclass
class World:
    """An app on its own data folder, its users signed in, and what they own."""

    app: object
    root: Path
    data: Path
    store: Store
    snapshots: Snapshots
    people: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    scenario: int = 0  # the admin's, with results
    scenario_name: str = ""
    formula: int = 0  # the admin's, named like a spreadsheet formula
    other: int = 0  # a second one of the admin's, with results
    deleted: int = 0  # the admin's, soft-deleted
    dataset: int = 0

    @property
    def config(self) -> Config:
        return self.app.server.config["DASHAPP"]

    def client(self, who: str | None = None, address: str = "127.0.0.1"):
        """A signed-in client of ``who`` (a role or user name), or a new anonymous one."""
        if who is not None:
            return self.clients[who]
        client = self.app.server.test_client()
        client.set_cookie("dashapp_lang", "en")
        client.environ_base["REMOTE_ADDR"] = address
        return client

    def sign_in(self, user: Principal) -> object:
        client = self.client()
        response = sign_in(client, user.username)
        assert response.status_code == 302, response.data[:300]
        return client

    def snapshot(self, ignore_columns: dict | None = None) -> Snapshot:
        return self.snapshots.take(ignore_columns)


@contextlib.contextmanager
def unchanged(world: World, skip=(), ignore_columns=None, new_files_in=None):
    """Assert that the block leaves the store and the files as they were."""
    before = world.snapshot(ignore_columns)
    yield
    assert_same(before, world.snapshot(ignore_columns), skip, new_files_in)


SPEC_DEMO = {
    "model": "pmedian",
    "sites": {"use_candidates": True},
    "parameters": {"p": 30},
    "report_radius": 20.0,
}
SPEC_TINY = {
    "model": "pmedian",
    "sites": {"use_candidates": True},
    "parameters": {"p": 2},
    "report_radius": 10.0,
}


def _saved_run(store, spec, name: str, owner: Principal, **changes) -> int:
    """A scenario with the results of a real run; ``changes`` edit its fields."""
    result = run_scenario(load_spec(spec), network_from_store(store))
    fields = {**record_from_result(result), **changes}
    info = store.active_dataset()
    return save_scenario(store, info.id, name, spec, owner_id=owner.id, **fields).id


def _world(root: Path, data: Path) -> World:
    for name in ("x.py", "b", "passwd", "win.ini"):  # what a traversal would reach
        (root / name).write_text("sentinel\n")
    app = create_app(Config(data_dir=data, admin_password="first-admin-password"))
    store = services.get_store(app.server.config["DASHAPP"].database_url)
    world = World(app, root, data, store, Snapshots(root, data, store.engine))
    world.dataset = store.active_dataset().id
    for role in ROLES:
        world.people[role] = ensure_user(store, role)
    world.people["admin-2"] = ensure_user(store, "admin", "test-admin-2")
    for who, user in world.people.items():
        world.clients[who] = world.sign_in(user)
    return world


@pytest.fixture(scope="module")
def demo(demo_dir, tmp_path_factory):
    """The demo country on a private data folder; an admin's scenarios to attack."""
    root = tmp_path_factory.mktemp("hostile-demo")
    shutil.copytree(demo_dir, root / "data")
    world = _world(root, root / "data")
    boss = world.people["admin"]
    world.scenario_name = "Plan de l'administrateur"
    world.scenario = _saved_run(world.store, SPEC_DEMO, world.scenario_name, boss)
    world.other = _saved_run(world.store, SPEC_DEMO, "Second plan", boss)
    world.deleted = save_scenario(
        world.store, world.dataset, "Plan supprimé", SPEC_DEMO, owner_id=boss.id
    ).id
    delete_scenario(world.store, world.deleted)
    yield world
    world.snapshots.close()


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    """The tiny country: sign-in, sessions, tokens, share links, exports."""
    root = tmp_path_factory.mktemp("hostile-accounts")
    data = root / "data"
    data.mkdir()
    store = Store(f"sqlite:///{data / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    store.engine.dispose()
    world = _world(root, data)
    boss = world.people["admin"]
    world.scenario_name = "Plan minuscule"
    world.scenario = _saved_run(world.store, SPEC_TINY, world.scenario_name, boss)
    yield world
    world.snapshots.close()


# -- talking to Dash ----------------------------------------------------------------------
def key_of(app, fn) -> str:
    """The ``callback_map`` key of the callback that runs ``fn``."""

    def runs(entry) -> bool:
        f = entry.get("callback")
        while f is not None:
            if f is fn:
                return True
            f = getattr(f, "__wrapped__", None)
        return False

    keys = [k for k, entry in app.callback_map.items() if runs(entry)]
    assert len(keys) == 1, f"{fn.__qualname__} is registered {len(keys)} times"
    return keys[0]


def dash_body(world: World, fn, values: dict, trigger: str | None) -> dict:
    """The body the renderer sends when ``trigger`` fires ``fn``'s callback."""
    key = key_of(world.app, fn)
    entry = world.app.callback_map[key]
    names = {f"{d['id']}.{d['property']}" for d in [*entry["inputs"], *entry["state"]]}
    values = dict(values)
    if LANG in names:
        values.setdefault(LANG, "en")
    unknown = set(values) - names
    assert not unknown, f"{fn.__qualname__} has no input or state {sorted(unknown)}"
    inputs = {f"{d['id']}.{d['property']}" for d in entry["inputs"]}
    assert trigger is None or trigger.startswith("{") or trigger in inputs, trigger
    return callback_body(world.app, key, values, [trigger] if trigger else [])


def post(client, body: dict, timeout: float = 120.0):
    """POST a callback; for a background one, poll its job until it answers."""
    response = client.post(DISPATCH, json=body)
    job = response.get_json(silent=True) if response.status_code == 200 else None
    if not (isinstance(job, dict) and "cacheKey" in job):
        return response
    query = f"?cacheKey={quote(job['cacheKey'])}&job={quote(job['job'])}"
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        response = client.post(DISPATCH + query, json=body)
        answer = response.get_json(silent=True)
        if response.status_code == 204:
            # Dash reads the result, then asks whether the job still runs: a job
            # ending in between looks cancelled (204) while its result waits
            quiet += 1
            if quiet == 3:
                return response
        elif response.status_code != 200 or "response" in (answer or {}):
            return response
        time.sleep(0.1)
    raise AssertionError(f"no answer from {body['output']} within {timeout} s")


def call(world: World, who, fn, values: dict, trigger: str | None):
    """Fire ``fn``'s callback as ``who`` (a role, a client, or None: nobody)."""
    client = who if not isinstance(who, str | None) else world.client(who)
    return post(client, dash_body(world, fn, values, trigger))


def texts(response) -> str:
    """Every string of a JSON answer (outputs and side updates), one a line."""
    found = []

    def walk(node):
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json())
    return "\n".join(found)


def outputs(response) -> dict:
    """The outputs a Dash answer updates (``{}`` when it updates none)."""
    return (response.get_json() or {}).get("response") or {}


def denied(role: str, right: str) -> str:
    return t(
        "auth.denied",
        "en",
        role=t(f"role.{role}", "en"),
        right=t(f"right.{right}", "en"),
    )


def assert_denied(response, role: str, right: str) -> None:
    assert response.status_code == 200, response.data[:300]
    assert denied(role, right) in texts(response)
    assert outputs(response) == {}, "a refused callback updated its outputs"


def assert_json_error(response, status: int, message: str) -> None:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json", response.data[:300]
    assert message in response.get_json()["error"]


def bad_id_text(name: str, value) -> str:
    return bad_input_text(BadIdError(name, value), "en")


# -- every callback -------------------------------------------------------------------------
TRIGGERS = {
    shell.render_page: prop(ids.URL, "pathname"),
    shell.help_and_guide: prop(ids.HELP_OPEN, "n_clicks"),
    overview.sync_selection: prop(ids.RESET, "n_clicks"),
    overview.update_map: prop(ids.LEVEL, "value"),
    overview.update_kpis: prop(ids.LEVEL, "value"),
    overview.update_capacity: prop(ids.CAPACITY_MODE, "value"),
    overview.update_timeseries: prop(ids.LEVEL, "value"),
    road_access.update_road_access: prop(ids.ROAD_MEASURE, "value"),
    scenarios.toggle_site: prop(ids.SCN_SITES_RESET, "n_clicks"),
    scenarios.measure_labels: prop(ids.SCN_MEASURE, "value"),
    scenario_plan.evaluate_plan: prop(ids.SCN_NEW, "value"),
    scenario_plan.draw_map: prop(ids.SCN_VIEW, "value"),
    scenario_run.run_optimisation: prop(ids.SCN_RUN, "n_clicks"),
    scenario_run.show_result: prop(ids.SCN_RESULT, "data"),
    scenario_run.mark_invalid: prop(ids.SCN_RADIUS, "value"),
    scenario_library.manage: prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks"),
    scenario_library.refresh_lists: prop(ids.SCN_RESULT, "data"),
    scenario_library.whatif_values: prop(ids.SCN_NEW, "value"),
    scenario_library.revoke_share_links: prop(ids.SCN_SHARE_REVOKE, "n_clicks"),
    scenario_library.share_link: prop(ids.SCN_RESULT, "data"),
    scenario_library.export: prop(ids.SCN_EXPORT_CSV, "n_clicks"),
    scenario_compare.compare: prop(ids.SCN_COMPARE, "n_clicks"),
    scenario_compare.export_comparison: prop(ids.SCN_COMPARE_EXPORT, "n_clicks"),
    scenario_curve.coverage_curve: prop(ids.SCN_CURVE_RUN, "n_clicks"),
    segmentation.run_segmentation: prop(ids.SEG_RUN, "n_clicks"),
    segmentation.show_results: prop(ids.SEG_RESULT, "data"),
    segmentation.update_map: prop(ids.SEG_SITES, "data"),
    segmentation.propose_sites: prop(ids.SEG_SITES_RUN, "n_clicks"),
    segmentation.add_sites: prop(ids.SEG_SITES_ADD, "n_clicks"),
    segmentation.export: prop(ids.SEG_EXPORT_CSV, "n_clicks"),
    forecast.update_series_options: prop(ids.FC_LEVEL, "value"),
    forecast.run_level_forecast: prop(ids.FC_LEVEL, "value"),
    forecast.update_forecast: prop(ids.FC_HORIZON, "value"),
    forecast.run_risk: prop(ids.RISK_TARGET, "value"),
    importer.receive_uploads: prop(ids.IMP_UPLOAD, "contents"),
    importer.run_import_job: prop(ids.IMP_COMMIT, "n_clicks"),
    importer.activate_dataset: prop(ids.IMP_ACTIVATE, "n_clicks"),
    importer.redraw_mapping: prop(ids.imp_role(0), "value"),
    importer.show_road_values: prop(ids.imp_column(0, "road_class"), "value"),
    road_profile.save_profile: prop(ids.RP_SAVE, "n_clicks"),
    admin.add_user: prop(ids.ADM_ADD, "n_clicks"),
    admin.change_user: prop(ids.adm_reset(1), "n_clicks"),
    admin.show_audit: prop(ids.ADM_AUDIT_REFRESH, "n_clicks"),
    admin.export_audit: prop(ids.ADM_AUDIT_EXPORT, "n_clicks"),
    admin.create_api_token: prop(ids.ACC_TOKEN_CREATE, "n_clicks"),
    admin.revoke_api_token: prop(ids.acc_revoke(1), "n_clicks"),
    briefs.area_brief: prop(ids.brief("area", "button"), "n_clicks"),
    briefs.scenario_brief: prop(ids.brief("scenario", "button"), "n_clicks"),
    briefs.comparison_brief: prop(ids.brief("comparison", "button"), "n_clicks"),
}


def test_every_callback_declares_a_right_and_is_attacked_here(demo):
    """The app's callbacks (Dash adds its cancel ones at the first request) all carry
    ``required_right``, and each one is forged without a session below. (A
    clientside callback has no server code: it runs in the browser only.)"""
    ours = {
        k: e
        for k, e in demo.app.callback_map.items()
        if not k.endswith(".id") and "callback" in e
    }
    assert all(getattr(e["callback"], "required_right", None) for e in ours.values())
    assert set(ours) == {key_of(demo.app, fn) for fn in TRIGGERS}


@pytest.mark.parametrize(
    "fn", list(TRIGGERS), ids=[f"{fn.__module__[10:]}.{fn.__name__}" for fn in TRIGGERS]
)
def test_no_session_no_callback(demo, fn):
    trigger = TRIGGERS[fn]
    values = {trigger: 1} if not trigger.startswith("{") else {}
    with unchanged(demo):
        response = call(demo, None, fn, values, trigger)
    assert_json_error(response, 401, "sign in first")
    assert response.get_json()["login"] == "/login"


# -- rights --------------------------------------------------------------------------------
def _site(world) -> dict:
    commune = services.context(world.config.database_url).communes().iloc[0]
    point = commune.geometry.representative_point()
    return {"code": "SEG1", "name": "Site", "commune_id": int(commune["id"]),
            "lon": point.x, "lat": point.y}  # fmt: skip


def _upload_state(world, who: str = "admin", name: str = "communes.csv") -> dict:
    """A real upload of ``who``: its store value ``{"token", "files"}``."""
    response = call(
        world, who, importer.receive_uploads,
        {prop(ids.IMP_UPLOAD, "contents"): [CSV_CONTENT],
         prop(ids.IMP_UPLOAD, "filename"): [name], UPLOADS: None},
        prop(ids.IMP_UPLOAD, "contents"),
    )  # fmt: skip
    return outputs(response)[ids.IMP_UPLOADS]["data"]


# (name, callback, right, values(world), trigger); each is sent by a viewer, by a
# planner and by the most senior role that still lacks the right
FORGED = [
    ("run", scenario_run.run_optimisation, "scenario.run",
     lambda w: {prop(ids.SCN_RUN, "n_clicks"): 1, DATASET: w.dataset},
     prop(ids.SCN_RUN, "n_clicks")),
    ("curve", scenario_curve.coverage_curve, "scenario.run",
     lambda w: {prop(ids.SCN_CURVE_RUN, "n_clicks"): 1,
                prop(ids.SCN_CURVE_MAX, "value"): 3, DATASET: w.dataset},
     prop(ids.SCN_CURVE_RUN, "n_clicks")),
    ("save-new", scenario_library.manage, "scenario.save",
     lambda w: {prop(ids.SCN_SAVE, "n_clicks"): 1, prop(ids.SCN_NAME, "value"): "x"},
     prop(ids.SCN_SAVE, "n_clicks")),
    ("rename", scenario_library.manage, "scenario.save",
     lambda w: {prop(ids.SCN_SAVE, "n_clicks"): 1, prop(ids.SCN_NAME, "value"): "x",
                RESULT: {"id": w.scenario}},
     prop(ids.SCN_SAVE, "n_clicks")),
    ("duplicate", scenario_library.manage, "scenario.save",
     lambda w: {prop(ids.SCN_DUPLICATE, "n_clicks"): 1, SAVED: w.scenario},
     prop(ids.SCN_DUPLICATE, "n_clicks")),
    ("delete", scenario_library.manage, "scenario.save",
     lambda w: {prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks"): 1, SAVED: w.scenario},
     prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks")),
    ("undo-delete", scenario_library.manage, "scenario.save",
     lambda w: {prop(ids.SCN_UNDO, "n_clicks"): 1,
                prop(ids.SCN_DELETED, "data"): w.deleted},
     prop(ids.SCN_UNDO, "n_clicks")),
    ("revoke-share", scenario_library.revoke_share_links, "scenario.share",
     lambda w: {prop(ids.SCN_SHARE_REVOKE, "n_clicks"): 1, RESULT: {"id": w.scenario}},
     prop(ids.SCN_SHARE_REVOKE, "n_clicks")),
    ("export", scenario_library.export, "scenario.export",
     lambda w: {prop(ids.SCN_EXPORT_CSV, "n_clicks"): 1, RESULT: {"id": w.scenario}},
     prop(ids.SCN_EXPORT_CSV, "n_clicks")),
    ("export-comparison", scenario_compare.export_comparison, "export.any",
     lambda w: {prop(ids.SCN_COMPARE_EXPORT, "n_clicks"): 1,
                PICK: [w.scenario, w.other]},
     prop(ids.SCN_COMPARE_EXPORT, "n_clicks")),
    ("segment", segmentation.run_segmentation, "segmentation",
     lambda w: {prop(ids.SEG_RUN, "n_clicks"): 1,
                prop(ids.SEG_FEATURES, "value"): ["mean_delay", "distance_km"],
                prop(ids.SEG_METHOD, "value"): "kmeans",
                prop(ids.SEG_K, "value"): 3, DATASET: w.dataset},
     prop(ids.SEG_RUN, "n_clicks")),
    ("propose-sites", segmentation.propose_sites, "segmentation",
     lambda w: {prop(ids.SEG_SITES_RUN, "n_clicks"): 1,
                prop(ids.SEG_N_SITES, "value"): 3, DATASET: w.dataset},
     prop(ids.SEG_SITES_RUN, "n_clicks")),
    ("add-sites", segmentation.add_sites, "segmentation",
     lambda w: {prop(ids.SEG_SITES_ADD, "n_clicks"): 1,
                prop(ids.SEG_SITES, "data"): [_site(w)], DATASET: w.dataset},
     prop(ids.SEG_SITES_ADD, "n_clicks")),
    ("forecast", forecast.run_level_forecast, "forecast",
     lambda w: {prop(ids.FC_LEVEL, "value"): 1, DATASET: w.dataset},
     prop(ids.FC_LEVEL, "value")),
    ("risk", forecast.run_risk, "forecast",
     lambda w: {prop(ids.FC_TABS, "active_tab"): "risk",
                prop(ids.RISK_TARGET, "value"): "late", DATASET: w.dataset},
     prop(ids.RISK_TARGET, "value")),
    ("upload", importer.receive_uploads, "import",
     lambda w: {prop(ids.IMP_UPLOAD, "contents"): [CSV_CONTENT],
                prop(ids.IMP_UPLOAD, "filename"): ["communes.csv"]},
     prop(ids.IMP_UPLOAD, "contents")),
    ("import-check", importer.run_import_job, "import",
     lambda w: {prop(ids.IMP_CHECK, "n_clicks"): 1, UPLOADS: _upload_state(w)},
     prop(ids.IMP_CHECK, "n_clicks")),
    ("import-commit", importer.run_import_job, "import",
     lambda w: {prop(ids.IMP_COMMIT, "n_clicks"): 1, UPLOADS: _upload_state(w),
                prop(ids.IMP_ACTIVATE_AFTER, "value"): True},
     prop(ids.IMP_COMMIT, "n_clicks")),
    ("road-speeds", road_profile.save_profile, "roads.profile",
     lambda w: {prop(ids.RP_SAVE, "n_clicks"): 1, DATASET: w.dataset,
                prop(ids.rp_field(ALL), "value"): [0],
                prop(ids.rp_field(ALL), "id"): [ids.rp_field("offroad_cap_km")]},
     prop(ids.RP_SAVE, "n_clicks")),
    ("road-speeds-reset", road_profile.save_profile, "roads.profile",
     lambda w: {prop(ids.RP_RESET, "n_clicks"): 1, DATASET: w.dataset},
     prop(ids.RP_RESET, "n_clicks")),
    ("activate-dataset", importer.activate_dataset, "dataset.activate",
     lambda w: {prop(ids.IMP_ACTIVATE, "n_clicks"): 1,
                prop(ids.IMP_DATASET, "value"): w.dataset},
     prop(ids.IMP_ACTIVATE, "n_clicks")),
    ("add-user", admin.add_user, "users.manage",
     lambda w: {prop(ids.ADM_ADD, "n_clicks"): 1,
                prop(ids.ADM_NEW_USERNAME, "value"): "intruder",
                prop(ids.ADM_NEW_ROLE, "value"): "admin"},
     prop(ids.ADM_ADD, "n_clicks")),
    ("promote-self", admin.change_user, "users.manage",
     lambda w: {prop(ids.adm_set_role(ALL), "n_clicks"): [1],
                prop(ids.adm_role(ALL), "value"): ["admin"],
                prop(ids.adm_role(ALL), "id"): [ids.adm_role(w.people["viewer"].id)]},
     None),  # the trigger names the viewer's row: set in the test
    ("reset-admin-password", admin.change_user, "users.manage",
     lambda w: {prop(ids.adm_reset(ALL), "n_clicks"): [1]},
     "reset"),
    ("disable-admin", admin.change_user, "users.manage",
     lambda w: {prop(ids.adm_toggle(ALL, ALL), "n_clicks"): [1]},
     "disable"),
    ("read-audit", admin.show_audit, "audit.read",
     lambda w: {prop(ids.ADM_AUDIT_REFRESH, "n_clicks"): 1},
     prop(ids.ADM_AUDIT_REFRESH, "n_clicks")),
    ("export-audit", admin.export_audit, "audit.read",
     lambda w: {prop(ids.ADM_AUDIT_EXPORT, "n_clicks"): 1},
     prop(ids.ADM_AUDIT_EXPORT, "n_clicks")),
]  # fmt: skip


def _most_senior_lacking(right: str) -> str:
    return [r for r in ROLES if not allowed(r, right)][-1]


REFUSALS = [
    pytest.param(role, *case, id=f"{case[0]}-as-{role}")
    for case in FORGED
    for role in dict.fromkeys(["viewer", "planner", _most_senior_lacking(case[2])])
    if not allowed(role, case[2])
]


def _trigger(world, trigger, role):
    if trigger is None:
        return prop(ids.adm_set_role(world.people[role].id), "n_clicks")
    if trigger == "reset":
        return prop(ids.adm_reset(world.people["admin"].id), "n_clicks")
    if trigger == "disable":
        return prop(ids.adm_toggle(world.people["admin"].id, "disable"), "n_clicks")
    return trigger


@pytest.mark.parametrize(("role", "name", "fn", "right", "values", "trigger"), REFUSALS)
def test_a_role_without_the_right_is_refused(demo, role, name, fn, right, values,
                                             trigger):  # fmt: skip
    sent = values(demo)  # uploads made for the case happen before the snapshot
    with unchanged(demo):
        response = call(demo, role, fn, sent, _trigger(demo, trigger, role))
    assert_denied(response, role, right)


# the owner's rules: a planner (or analyst) may not touch the admin's scenarios
NOT_YOURS = [
    ("delete", lambda w: {prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks"): 1,
                          SAVED: w.scenario},
     prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks")),
    ("rename", lambda w: {prop(ids.SCN_SAVE, "n_clicks"): 1,
                          prop(ids.SCN_NAME, "value"): "Renommé",
                          prop(ids.SCN_AUTHOR, "value"): "moi",
                          RESULT: {"id": w.scenario}},
     prop(ids.SCN_SAVE, "n_clicks")),
    ("restore", lambda w: {prop(ids.SCN_UNDO, "n_clicks"): 1,
                           prop(ids.SCN_DELETED, "data"): w.deleted},
     prop(ids.SCN_UNDO, "n_clicks")),
]  # fmt: skip


@pytest.mark.parametrize("role", ["planner", "analyst"])
@pytest.mark.parametrize(("action", "values", "trigger"), NOT_YOURS,
                         ids=[c[0] for c in NOT_YOURS])  # fmt: skip
def test_only_the_owner_changes_a_scenario(demo, role, action, values, trigger):
    with unchanged(demo):
        response = call(demo, role, scenario_library.manage, values(demo), trigger)
    assert response.status_code == 200
    name = "Plan supprimé" if action == "restore" else demo.scenario_name
    assert t("scn.not_yours", "en", name=name) in texts(response)
    assert ids.SCN_RESULT not in outputs(response)


@pytest.mark.parametrize("button", [ids.SCN_EXPORT_CSV, ids.SCN_EXPORT_XLSX,
                                    ids.SCN_EXPORT_GEOJSON])  # fmt: skip
def test_a_planner_exports_only_their_own_scenarios(demo, button):
    with unchanged(demo):
        response = call(
            demo, "planner", scenario_library.export,
            {prop(button, "n_clicks"): 1, RESULT: {"id": demo.scenario}},
            prop(button, "n_clicks"),
        )  # fmt: skip
    assert t("scn.not_yours", "en", name=demo.scenario_name) in texts(response)
    assert ids.SCN_DOWNLOAD not in outputs(response)


def test_a_planner_cannot_revoke_the_share_links_of_another(demo):
    with unchanged(demo):
        response = call(
            demo, "planner", scenario_library.revoke_share_links,
            {prop(ids.SCN_SHARE_REVOKE, "n_clicks"): 1, RESULT: {"id": demo.scenario}},
            prop(ids.SCN_SHARE_REVOKE, "n_clicks"),
        )  # fmt: skip
    text = texts(response)
    assert t("share.revoked", "en") not in text and "/share/" not in text
    assert t("scn.not_yours", "en", name=demo.scenario_name) in text


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_no_one_revokes_another_users_api_token(demo, role):
    token_id, secret = users.create_token(demo.store, demo.people["admin"], "script")
    with unchanged(demo):
        response = call(
            demo, role, admin.revoke_api_token,
            {prop(ids.acc_revoke(ALL), "n_clicks"): [1]},
            prop(ids.acc_revoke(token_id), "n_clicks"),
        )  # fmt: skip
    assert t("user.error.unknown_token", "en") in texts(response)
    assert ids.ACC_TOKENS not in outputs(response)
    assert users.token_user(demo.store, secret).username == "test-admin"


# -- path traversal ------------------------------------------------------------------------
def _folder(world, token: str) -> str:
    folder = upload_serializer(_key(world)).loads(token)["id"]
    return (Path("data") / "uploads" / folder).as_posix()


def _upload(world, names, state=None, who="admin"):
    return call(
        world, who, importer.receive_uploads,
        {prop(ids.IMP_UPLOAD, "contents"): [CSV_CONTENT] * len(names),
         prop(ids.IMP_UPLOAD, "filename"): names, UPLOADS: state},
        prop(ids.IMP_UPLOAD, "contents"),
    )  # fmt: skip


KEPT_AS = [
    ("../../x.py", "x.py"),
    ("/etc/passwd", "passwd"),
    ("..\\..\\x", "x"),
    ("a/../../b", "b"),
    ("C:\\Windows\\win.ini", "win.ini"),
    ("../../../../../../tmp/x.py", "x.py"),
]


@pytest.mark.parametrize(("name", "kept"), KEPT_AS, ids=[k[0] for k in KEPT_AS])
def test_an_upload_name_with_a_path_is_kept_as_its_base_name_inside(demo, name, kept):
    before = demo.snapshot()
    response = _upload(demo, [name])
    assert response.status_code == 200, response.data[:300]
    data = outputs(response)[ids.IMP_UPLOADS]["data"]
    folder = _folder(demo, data["token"])
    assert [f["name"] for f in data["files"]] == [kept]
    assert (demo.root / folder / kept).read_text() == "code,name\nC1,Un\n"
    assert_same(before, demo.snapshot(), new_files_in=folder)
    assert all((demo.root / s).read_text() == "sentinel\n"
               for s in ("x.py", "b", "passwd", "win.ini"))  # fmt: skip


REFUSED_NAMES = ["x\x00.csv", "", ".", "..", "a/..", "....", "../", "x" * 300,
                 "bad\r\nname.csv", None, 42, ["a.csv"]]  # fmt: skip


@pytest.mark.parametrize("name", REFUSED_NAMES, ids=lambda n: repr(n)[:20])
def test_an_upload_name_that_is_no_file_name_is_refused(demo, name):
    with unchanged(demo):
        response = _upload(demo, [name])
    assert response.status_code == 200, response.data[:300]
    assert outputs(response)[ids.IMP_UPLOADS]["data"]["files"] == []
    assert "File name refused" in texts(response)


# kind -> forged(world, this admin's upload, another admin's upload)
FORGED_TOKENS = {
    "dot-dot": lambda w, mine, others: "..",
    "tmp": lambda w, mine, others: "/tmp",
    "absolute": lambda w, mine, others: str(w.root),  # where the sentinels are
    "others": lambda w, mine, others: others["token"],  # valid, another user's
    "tampered": lambda w, mine, others: _tampered(mine["token"]),
    "signed-dot-dot": lambda w, mine, others: upload_serializer(_key(w)).dumps(
        {"u": w.people["admin"].id, "id": "../.."}  # as if the key had leaked
    ),
    "number": lambda w, mine, others: 12,
    "list": lambda w, mine, others: ["x"],
}


def _key(world) -> str:
    return (world.data / "secret_key").read_text().strip()


def _tampered(token: str) -> str:
    """``token`` with the end of its signature changed."""
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def _forged_token(world, kind, mine: dict, others: dict):
    return FORGED_TOKENS[kind](world, mine, others)


@pytest.mark.parametrize("kind", list(FORGED_TOKENS))
def test_a_forged_upload_token_never_names_a_folder(demo, kind):
    """Files dropped with a forged token go to a new folder of the user's own."""
    mine, others = _upload_state(demo), _upload_state(demo, "admin-2", "theirs.csv")
    forged = _forged_token(demo, kind, mine, others)
    before = demo.snapshot()
    response = _upload(demo, ["extra.csv"], {"token": forged, "files": others["files"]})
    data = outputs(response)[ids.IMP_UPLOADS]["data"]
    assert data["token"] not in (forged, others["token"], mine["token"])
    assert [f["name"] for f in data["files"]] == ["extra.csv"]
    assert_same(before, demo.snapshot(), new_files_in=_folder(demo, data["token"]))


@pytest.mark.parametrize("kind", list(FORGED_TOKENS))
def test_clearing_with_a_forged_upload_token_deletes_nothing(demo, kind):
    mine, others = _upload_state(demo), _upload_state(demo, "admin-2", "theirs.csv")
    forged = _forged_token(demo, kind, mine, others)
    with unchanged(demo):
        response = call(
            demo, "admin", importer.receive_uploads,
            {prop(ids.IMP_CLEAR, "n_clicks"): 1,
             UPLOADS: {"token": forged, "files": others["files"]}},
            prop(ids.IMP_CLEAR, "n_clicks"),
        )  # fmt: skip
    assert outputs(response)[ids.IMP_UPLOADS]["data"] == {"token": None, "files": []}
    assert (demo.root / _folder(demo, others["token"]) / "theirs.csv").is_file()


FILE_LISTS = {
    "database": [{"name": "../../dashapp.sqlite", "role": "boundaries"}],
    "secret-key": [{"name": "../../secret_key", "role": "boundaries"}],
    "etc-passwd": [{"name": "/etc/passwd", "role": "boundaries"}],
    "never-uploaded": [{"name": "never-uploaded.csv", "role": "boundaries"}],
    "others-file": "OTHERS",  # "../<their folder>/theirs.csv"
    "dot-dot": [{"name": "..", "role": "boundaries"}],
    "bad-role": [{"name": "communes.csv", "role": "../../x"}],
    "bad-mapping": [{"name": "communes.csv", "role": "boundaries", "mapping": "x"}],
    "not-a-list": {"name": "communes.csv"},
    "too-many": [{"name": "communes.csv", "role": "boundaries"}] * 51,
}


@pytest.mark.parametrize("kind", list(FILE_LISTS))
def test_an_import_check_reads_only_files_the_user_uploaded(demo, kind):
    mine, others = _upload_state(demo), _upload_state(demo, "admin-2", "theirs.csv")
    files = FILE_LISTS[kind]
    if files == "OTHERS":
        folder = _folder(demo, others["token"]).rsplit("/", 1)[1]
        files = [{"name": f"../{folder}/theirs.csv", "role": "boundaries"}]
    with unchanged(demo):
        response = call(
            demo, "admin", importer.run_import_job,
            {prop(ids.IMP_CHECK, "n_clicks"): 1,
             UPLOADS: {"token": mine["token"], "files": files}},
            prop(ids.IMP_CHECK, "n_clicks"),
        )  # fmt: skip
    assert response.status_code == 200, response.data[:300]
    assert t("imp.upload_again", "en") in texts(response)
    assert set(outputs(response)) == {ids.IMP_REPORT}


@pytest.mark.parametrize("kind", ["others", "tampered", "signed-dot-dot", "absolute"])
def test_an_import_with_a_forged_token_is_refused(demo, kind):
    mine, others = _upload_state(demo), _upload_state(demo, "admin-2", "theirs.csv")
    forged = _forged_token(demo, kind, mine, others)
    with unchanged(demo):
        response = call(
            demo, "admin", importer.run_import_job,
            {prop(ids.IMP_COMMIT, "n_clicks"): 1,
             UPLOADS: {"token": forged, "files": others["files"]},
             prop(ids.IMP_ACTIVATE_AFTER, "value"): True},
            prop(ids.IMP_COMMIT, "n_clicks"),
        )  # fmt: skip
    assert t("imp.upload_again", "en") in texts(response)


def test_an_upload_larger_than_the_callback_cap_is_accepted(demo):
    """The one callback exempt from the 2 MB cap: the import screen's upload."""
    big = b"code,name\n" + b"C1,Un\n" * 500_000  # 3 MB, 4 MB once base64-coded
    content = "data:text/csv;base64," + base64.b64encode(big).decode()
    response = call(
        demo, "admin", importer.receive_uploads,
        {prop(ids.IMP_UPLOAD, "contents"): [content],
         prop(ids.IMP_UPLOAD, "filename"): ["big.csv"]},
        prop(ids.IMP_UPLOAD, "contents"),
    )  # fmt: skip
    assert response.status_code == 200, response.data[:300]
    data = outputs(response)[ids.IMP_UPLOADS]["data"]
    assert (demo.root / _folder(demo, data["token"]) / "big.csv").stat().st_size == len(
        big
    )


# -- SQL metacharacters ----------------------------------------------------------------
SQL = ["'; DROP TABLE scenarios; --", '" OR 1=1 --', "1; DELETE FROM users"]


@pytest.mark.parametrize("text", SQL)
def test_sql_in_a_scenario_name_is_stored_as_text(accounts, text):
    store = accounts.store
    before = accounts.snapshot()
    response = call(
        accounts, "planner", scenario_library.manage,
        {prop(ids.SCN_SAVE, "n_clicks"): 1, prop(ids.SCN_NAME, "value"): text,
         prop(ids.SCN_AUTHOR, "value"): text},
        prop(ids.SCN_SAVE, "n_clicks"),
    )  # fmt: skip
    new_id = outputs(response)[ids.SCN_RESULT]["data"]["id"]
    record = get_scenario(store, new_id)
    assert (record.name, record.author) == (text, text)
    after = accounts.snapshot()
    assert_same(before, after, skip=("scenarios", "audit_events"))
    assert after.tables["scenarios"][0] == before.tables["scenarios"][0] + 1


@pytest.mark.parametrize("name", ["' OR 1=1 --", "test-admin'--", '" OR ""="',
                                  "test-admin' /*"])  # fmt: skip
def test_sql_in_a_user_name_at_sign_in_is_a_wrong_name(accounts, name):
    client = accounts.client(address=f"10.3.{len(name)}.{ord(name[-1])}")
    page = client.get("/login")
    with unchanged(accounts, skip=("login_attempts",)):
        response = client.post(
            "/login",
            data={
                "username": name,
                "password": "x' OR '1'='1",
                "csrf": csrf_of(page.data),
            },
        )
    assert response.status_code == 401
    assert t("auth.bad_credentials", "en") in response.get_data(as_text=True)
    assert client.get("/api/v1/datasets").status_code == 401


API_SQL = [
    ("/api/v1/scenarios?dataset=1;DROP TABLE scenarios", 400, "'dataset' should be"),
    ("/api/v1/scenarios?dataset=1 OR 1=1", 400, "'dataset' should be"),
    ("/api/v1/kpis?level=' OR 1=1 --", 400, "invalid value"),
    ("/api/v1/kpis?doc_types=CNI',DROP", 400, "invalid value"),
    ("/api/v1/kpis?start=2024-01-01' OR '1'='1", 400, "invalid date"),
    ("/api/v1/kpis?radius=1;DROP TABLE users", 400, "invalid value"),
    ("/api/v1/scenarios/1 OR 1=1", 404, "'id' should be"),
    ("/api/v1/scenarios/1;DROP TABLE scenarios/centers", 404, "'id' should be"),
]


@pytest.mark.parametrize(("url", "status", "message"), API_SQL,
                         ids=[u for u, *_ in API_SQL])  # fmt: skip
def test_sql_in_api_parameters_is_a_bad_parameter(demo, url, status, message):
    with unchanged(demo):
        response = demo.client("viewer").get(url)
    assert_json_error(response, status, message)


def test_sql_in_the_dataset_store_is_a_bad_id(demo):
    value = "1; DROP TABLE datasets"
    with unchanged(demo):
        response = call(
            demo, "viewer", shell.render_page,
            {prop(ids.URL, "pathname"): "/", DATASET: value},
            prop(ids.URL, "pathname"),
        )  # fmt: skip
    assert bad_id_text("dataset", value) in texts(response)


def test_sql_in_the_dataset_to_activate_is_a_bad_id(demo):
    value = "1 OR 1=1"
    with unchanged(demo):
        response = call(
            demo, "admin", importer.activate_dataset,
            {prop(ids.IMP_ACTIVATE, "n_clicks"): 1,
             prop(ids.IMP_DATASET, "value"): value},
            prop(ids.IMP_ACTIVATE, "n_clicks"),
        )  # fmt: skip
    assert bad_id_text("dataset", value) in texts(response)
    assert ids.IMP_REDIRECT not in outputs(response)


def test_sql_in_a_new_user_name_is_refused(demo):
    with unchanged(demo):
        response = call(
            demo, "admin", admin.add_user,
            {prop(ids.ADM_ADD, "n_clicks"): 1,
             prop(ids.ADM_NEW_USERNAME, "value"): "x'; DROP TABLE users;--",
             prop(ids.ADM_NEW_ROLE, "value"): "viewer"},
            prop(ids.ADM_ADD, "n_clicks"),
        )  # fmt: skip
    assert t("user.error.bad_username", "en") in texts(response)
    assert ids.ADM_USERS not in outputs(response)


# -- bad types and sizes ---------------------------------------------------------------
BAD_IDS = [99999999999999999999999, "abc", [1], {"a": 1}, 1e30, True, -1, None]
UNKNOWN = 424242


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _expect_bad_id(name: str, value):
    return bad_id_text(name, value)


# place -> (send(world, value) -> response, expected text for a value or None to skip)
def _open(w, v):
    return call(w, "viewer", scenario_library.manage,
                {prop(ids.SCN_OPEN, "n_clicks"): 1, SAVED: v},
                prop(ids.SCN_OPEN, "n_clicks"))  # fmt: skip


def _delete(w, v):
    return call(w, "admin", scenario_library.manage,
                {prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks"): 1, SAVED: v},
                prop(ids.SCN_DELETE_CONFIRM, "submit_n_clicks"))  # fmt: skip


def _show(w, v):
    return call(w, "viewer", scenario_run.show_result, {RESULT: {"id": v}},
                prop(ids.SCN_RESULT, "data"))  # fmt: skip


def _rename(w, v):
    return call(w, "admin", scenario_library.manage,
                {prop(ids.SCN_SAVE, "n_clicks"): 1, prop(ids.SCN_NAME, "value"): "x",
                 RESULT: {"id": v}},
                prop(ids.SCN_SAVE, "n_clicks"))  # fmt: skip


def _export(w, v):
    return call(w, "admin", scenario_library.export,
                {prop(ids.SCN_EXPORT_CSV, "n_clicks"): 1, RESULT: {"id": v}},
                prop(ids.SCN_EXPORT_CSV, "n_clicks"))  # fmt: skip


def _compare(w, v):
    return call(w, "viewer", scenario_compare.compare,
                {prop(ids.SCN_COMPARE, "n_clicks"): 1, PICK: [w.scenario, v]},
                prop(ids.SCN_COMPARE, "n_clicks"))  # fmt: skip


def _compare_export(w, v):
    return call(w, "analyst", scenario_compare.export_comparison,
                {prop(ids.SCN_COMPARE_EXPORT, "n_clicks"): 1, PICK: [w.scenario, v]},
                prop(ids.SCN_COMPARE_EXPORT, "n_clicks"))  # fmt: skip


def _dataset(w, v):
    return call(w, "viewer", shell.render_page,
                {prop(ids.URL, "pathname"): "/indicateurs", DATASET: v},
                prop(ids.URL, "pathname"))  # fmt: skip


def _overview(w, v):
    return call(w, "viewer", overview.update_kpis,
                {prop(ids.LEVEL, "value"): "commune", DATASET: v},
                prop(ids.LEVEL, "value"))  # fmt: skip


def _propose(w, v):
    return call(w, "analyst", segmentation.propose_sites,
                {prop(ids.SEG_SITES_RUN, "n_clicks"): 1,
                 prop(ids.SEG_N_SITES, "value"): 3, DATASET: v},
                prop(ids.SEG_SITES_RUN, "n_clicks"))  # fmt: skip


def _series(w, v):
    return call(w, "analyst", forecast.update_series_options,
                {prop(ids.FC_LEVEL, "value"): 1, DATASET: v},
                prop(ids.FC_LEVEL, "value"))  # fmt: skip


def _reopen(w, v):
    return call(w, "viewer", shell.render_page,
                {prop(ids.URL, "pathname"): "/scenarios",
                 prop(ids.URL, "search"): "?scenario=" + quote(_as_text(v)),
                 DATASET: w.dataset},
                prop(ids.URL, "pathname"))  # fmt: skip


def _ids_text(v):
    try:
        parse_ids([1, v], "scenarios")
    except BadInputError as exc:
        return bad_input_text(exc, "en")
    raise AssertionError(f"{v!r} was taken for an id")


def _unknown_scenario(_v):
    return t("scn.err.unknown_id", "en", id=UNKNOWN)


PLACES = {
    "open-saved": (_open, lambda v: t("scn.pick_first", "en") if v is None
                   else None if v == UNKNOWN else _expect_bad_id("scenario", v)),
    "delete-saved": (_delete, lambda v: t("scn.pick_first", "en") if v is None
                     else _unknown_scenario(v) if v == UNKNOWN
                     else _expect_bad_id("scenario", v)),
    "result-store": (_show, lambda v: t("scn.no_result", "en") if v is None
                     else t("scn.not_found", "en", id=UNKNOWN) if v == UNKNOWN
                     else _expect_bad_id("scenario", v)),
    "rename-result": (_rename, lambda v: None if v is None
                      else _unknown_scenario(v) if v == UNKNOWN
                      else _expect_bad_id("scenario", v)),
    "export-result": (_export, lambda v: t("scn.nothing_to_export", "en") if v is None
                      else _unknown_scenario(v) if v == UNKNOWN
                      else _expect_bad_id("scenario", v)),
    "compare-picks": (_compare, lambda v: _unknown_scenario(v) if v == UNKNOWN
                      else _ids_text(v)),
    "compare-export": (_compare_export, lambda v: _unknown_scenario(v)
                       if v == UNKNOWN else _ids_text(v)),
    "dataset-store": (_dataset, lambda v: _dataset_text(v)),
    "dataset-overview": (_overview, lambda v: _dataset_text(v)),
    "dataset-sites": (_propose, lambda v: _dataset_text(v)),
    "dataset-series": (_series, lambda v: _dataset_text(v)),
    "scenario-url": (_reopen, lambda v: t("scn.not_found", "en", id=UNKNOWN)
                     if v == UNKNOWN else _expect_bad_id("scenario", _as_text(v))),
}  # fmt: skip


def _dataset_text(value):
    """The refusal of a dataset id (None: the active dataset, no refusal)."""
    if value is None:
        return None
    if value == UNKNOWN:
        return bad_input_text(UnknownIdError("dataset", UNKNOWN), "en")
    return _expect_bad_id("dataset", value)


BAD_ID_CASES = [
    pytest.param(place, value, id=f"{place}-{_as_text(value)[:12]}")
    for place, (_, expect) in PLACES.items()
    for value in [*BAD_IDS, UNKNOWN]
    if expect(value) is not None
]


@pytest.mark.parametrize(("place", "value"), BAD_ID_CASES)
def test_a_bad_id_in_a_callback_is_refused_by_name(demo, place, value):
    send, expect = PLACES[place]
    with unchanged(demo):
        response = send(demo, value)
    assert response.status_code in (200, 204), response.data[:300]
    assert response.status_code == 200, "refused without a word"
    assert expect(value) in texts(response)
    assert not {ids.URL, ids.SCN_DOWNLOAD, ids.SCN_DELETED} & set(outputs(response))


API_BAD_IDS = [
    pytest.param(url, value, id=f"{url.split('?')[0][8:]}-{_as_text(value)[:12]}")
    for url in ("/api/v1/kpis?dataset=", "/api/v1/scenarios?dataset=",
                "/api/v1/scenarios/", "/api/v1/scenarios/{}/centers")
    for value in [*BAD_IDS, UNKNOWN]
    if not (url.endswith("dataset=") and value == UNKNOWN and "kpis" not in url)
]  # fmt: skip


@pytest.mark.parametrize(("url", "value"), API_BAD_IDS)
def test_a_bad_id_in_the_api_is_a_json_error(demo, url, value):
    text = _as_text(value)
    full = url.format(quote(text)) if "{}" in url else url + quote(text)
    with unchanged(demo):
        response = demo.client("viewer").get(full)
    if value == UNKNOWN:
        name = "dataset" if "dataset" in url else "scenario"
        assert_json_error(response, 404, f"no {name} with id {UNKNOWN}")
    elif "dataset=" in url:
        assert_json_error(response, 400, "'dataset' should be a whole number")
        assert response.get_json()["parameter"] == "dataset"
    else:
        assert_json_error(response, 404, "'id' should be a whole number")


def test_a_30_mb_callback_body_is_refused(demo):
    body = dash_body(
        demo, scenario_library.manage,
        {prop(ids.SCN_SAVE, "n_clicks"): 1,
         prop(ids.SCN_NAME, "value"): "x" * (30 * 1024**2)},
        prop(ids.SCN_SAVE, "n_clicks"),
    )  # fmt: skip
    with unchanged(demo):
        response = demo.client("admin").post(DISPATCH, json=body)
    assert_json_error(response, 413, "request too large")


def test_a_body_beyond_the_request_limit_is_refused(demo):
    limit = demo.config.max_request_mb * 1024**2
    with unchanged(demo):
        response = demo.client("admin").post(
            DISPATCH, data=b"x" * (limit + 1), content_type="application/json"
        )
    assert_json_error(response, 413, "refused")


NOT_CALLBACKS = {
    "not-json": ("not json", "application/json"),
    "text-plain": ("not json", "text/plain"),
    "json-list": ("[1, 2]", "application/json"),
    "json-string": ('"app-page.children"', "application/json"),
    "empty-object": ("{}", "application/json"),
    "unknown-output": (json.dumps({"output": "nope.children", "inputs": [],
                                   "state": [], "changedPropIds": []}),
                       "application/json"),
    "inputs-not-a-list": ("RENDER:inputs=x", "application/json"),
    "inputs-missing-one": ("RENDER:inputs-1", "application/json"),
    "input-without-id": ("RENDER:input-no-id", "application/json"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(NOT_CALLBACKS))
def test_a_body_that_is_no_callback_request_is_a_json_400(demo, kind):
    data, mimetype = NOT_CALLBACKS[kind]
    if data.startswith("RENDER:"):
        body = dash_body(demo, shell.render_page, {prop(ids.URL, "pathname"): "/"},
                         prop(ids.URL, "pathname"))  # fmt: skip
        if data.endswith("inputs=x"):
            body["inputs"] = "x"
        elif data.endswith("inputs-1"):
            body["inputs"] = body["inputs"][:1]
        else:
            body["inputs"][0] = {"value": "/"}
        data = json.dumps(body)
    with unchanged(demo):
        response = demo.client("viewer").post(
            DISPATCH, data=data, content_type=mimetype
        )
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == "application/json", response.data[:300]
    assert response.get_json()["error"]


WRONG_METHODS = [
    ("post", "/api/v1/datasets"),
    ("put", "/api/v1/kpis"),
    ("delete", "/api/v1/scenarios/1"),
    ("patch", "/api/v1/scenarios"),
    ("post", "/api/v1/scenarios/1/centers"),
]


@pytest.mark.parametrize(("method", "url"), WRONG_METHODS,
                         ids=[f"{m}-{u}" for m, u in WRONG_METHODS])  # fmt: skip
def test_a_wrong_method_on_the_api_is_a_json_405(demo, method, url):
    with unchanged(demo):
        response = getattr(demo.client("admin"), method)(url)
    assert_json_error(response, 405, "not allowed")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nope",
        "/api/v1/scenarios/1/nope",
        "/api/v1/datasets/1",
        "/api/v2/datasets",
        "/api/",
    ],
)
def test_an_unknown_api_path_is_a_json_404(demo, url):
    with unchanged(demo):
        response = demo.client("viewer").get(url)
    assert_json_error(response, 404, "no such endpoint")


# -- open redirects --------------------------------------------------------------------------
NEXT = [
    "/%09/evil.example/",
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "http:/evil.example",
]


def assert_same_site(response, expected: str = "/") -> None:
    assert response.status_code == 302, response.data[:300]
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and not re.search(r"[\x00-\x20\x7f]", location)
    assert location == expected


@pytest.mark.parametrize("target", NEXT)
def test_the_language_switch_goes_back_only_to_this_site(accounts, target):
    with unchanged(accounts):
        response = accounts.client().get(f"/lang/en?next={target}")
    assert_same_site(response)


@pytest.mark.parametrize(
    "referrer",
    [f"{EVIL}/x", "http://localhost//evil.example/", "http://localhost/\\evil.example"],
)
def test_the_language_switch_ignores_a_foreign_referrer(accounts, referrer):
    with unchanged(accounts):
        response = accounts.client().get("/lang/fr", headers={"Referer": referrer})
    assert_same_site(response)


@pytest.mark.parametrize("target", NEXT)
def test_sign_in_goes_back_only_to_this_site(accounts, target):
    user = ensure_user(accounts.store, "viewer", "redirect-me")
    client = accounts.client()
    page = client.get(f"/login?next={target}")
    with unchanged(accounts, skip=("login_attempts", "audit_events"),
                   ignore_columns={"users": {"last_login_at"}}):  # fmt: skip
        response = client.post(
            f"/login?next={target}",
            data={"username": user.username, "password": PASSWORD,
                  "csrf": csrf_of(page.data)},
        )  # fmt: skip
    assert_same_site(response)


def test_the_sign_in_redirect_keeps_the_whole_address(accounts):
    with unchanged(accounts):
        response = accounts.client().get("/?region=R1&level=department")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and not location.netloc
    assert parse_qs(location.query) == {"next": ["/?region=R1&level=department"]}


# -- sessions, forms and tokens -----------------------------------------------------------
def _render_body(world) -> dict:
    return dash_body(world, shell.render_page, {prop(ids.URL, "pathname"): "/"},
                     prop(ids.URL, "pathname"))  # fmt: skip


def assert_signed_out(world, client) -> None:
    """Neither the API nor a callback answers this client."""
    assert_json_error(client.get("/api/v1/datasets"), 401, "sign in first")
    assert_json_error(client.post(DISPATCH, json=_render_body(world)), 401, "sign in")


def _session_cookie(key: str, uid: int, epoch: int) -> str:
    other = flask.Flask("elsewhere")
    other.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(other)
    return serializer.dumps({"uid": uid, "epoch": epoch})


def test_a_session_signed_with_another_key_is_refused(accounts):
    boss = accounts.people["admin"]
    client = accounts.client()
    epoch = users.session_epoch(accounts.store, boss.id)
    client.set_cookie("dashapp_session", _session_cookie("another key" * 4, boss.id,
                                                         epoch))  # fmt: skip
    with unchanged(accounts):
        assert_signed_out(accounts, client)


def test_a_session_with_a_changed_signature_is_refused(accounts):
    client = accounts.sign_in(ensure_user(accounts.store, "admin", "cookie-admin"))
    cookie = client.get_cookie("dashapp_session").value
    client.set_cookie("dashapp_session", cookie[:-3] + ("AAA" if cookie[-3:] != "AAA"
                                                        else "BBB"))  # fmt: skip
    with unchanged(accounts):
        assert_signed_out(accounts, client)


@pytest.mark.parametrize("change", ["disable", "password", "role"])
def test_a_session_ends_when_its_user_is_disabled_or_changed(accounts, change):
    name = f"session-{change}"
    user = ensure_user(accounts.store, "planner", name)
    client = accounts.sign_in(user)
    assert client.get("/api/v1/datasets").status_code == 200
    if change == "disable":
        users.set_active(accounts.store, name, False)
    elif change == "password":
        users.set_password(accounts.store, name, "a-brand-new-password")
    else:
        users.set_role(accounts.store, name, "viewer")
    with unchanged(accounts):
        assert_signed_out(accounts, client)


def test_a_user_with_a_one_time_password_must_change_it_first(accounts):
    name = "one-time"
    ensure_user(accounts.store, "admin", name)
    users.set_password(accounts.store, name, PASSWORD, must_change=True)
    client = accounts.client()
    sign_in(client, name)
    with unchanged(accounts):
        assert_json_error(client.get("/api/v1/datasets"), 403, "new password first")
        response = client.post(DISPATCH, json=dash_body(
            accounts, admin.add_user,
            {prop(ids.ADM_ADD, "n_clicks"): 1,
             prop(ids.ADM_NEW_USERNAME, "value"): "helper",
             prop(ids.ADM_NEW_ROLE, "value"): "admin"},
            prop(ids.ADM_ADD, "n_clicks")))  # fmt: skip
    assert_json_error(response, 403, "new password first")


@pytest.mark.parametrize("csrf", ["missing", "empty", "another-session", "made-up"])
def test_sign_in_needs_the_forms_own_csrf_token(accounts, csrf):
    user = ensure_user(accounts.store, "viewer", "csrf-user")
    client, other = accounts.client(), accounts.client()
    client.get("/login")
    data = {"username": user.username, "password": PASSWORD}
    if csrf != "missing":
        data["csrf"] = {
            "empty": "",
            "made-up": "x" * 32,
            "another-session": csrf_of(other.get("/login").data),
        }[csrf]
    with unchanged(accounts):
        response = client.post("/login", data=data)
    assert response.status_code == 400
    assert t("auth.expired_form", "en") in response.get_data(as_text=True)
    assert_signed_out(accounts, client)


CROSS_ORIGIN = ["http://evil.example", "null", "http://localhost.evil.example",
                "https://evil.example:443", "file://"]  # fmt: skip


@pytest.mark.parametrize("origin", CROSS_ORIGIN)
def test_a_cross_origin_callback_is_refused(accounts, origin):
    body = dash_body(
        accounts, admin.add_user,
        {prop(ids.ADM_ADD, "n_clicks"): 1,
         prop(ids.ADM_NEW_USERNAME, "value"): "planted",
         prop(ids.ADM_NEW_ROLE, "value"): "admin"},
        prop(ids.ADM_ADD, "n_clicks"),
    )  # fmt: skip
    with unchanged(accounts):
        response = accounts.client("admin").post(
            DISPATCH, json=body, headers={"Origin": origin}
        )
    assert_json_error(response, 403, "cross-origin request refused")


def test_a_cross_origin_sign_in_is_refused(accounts):
    user = ensure_user(accounts.store, "viewer", "origin-user")
    client = accounts.client()
    page = client.get("/login")
    with unchanged(accounts):
        response = client.post(
            "/login",
            data={"username": user.username, "password": PASSWORD,
                  "csrf": csrf_of(page.data)},
            headers={"Origin": EVIL},
        )  # fmt: skip
    assert_json_error(response, 403, "cross-origin request refused")
    assert_signed_out(accounts, client)


@pytest.mark.parametrize("how", ["cross-origin", "no-csrf"])
def test_sign_out_needs_this_site_and_the_csrf_token(accounts, how):
    client = accounts.sign_in(ensure_user(accounts.store, "viewer", f"logout-{how}"))
    csrf = csrf_of(client.get("/logout").data)
    with unchanged(accounts):
        if how == "cross-origin":
            response = client.post("/logout", data={"csrf": csrf},
                                   headers={"Origin": EVIL})  # fmt: skip
            assert_json_error(response, 403, "cross-origin request refused")
        else:
            response = client.post("/logout", data={})
            assert response.status_code == 200
            assert 'name="csrf"' in response.get_data(as_text=True)
    assert client.get("/api/v1/datasets").status_code == 200  # still signed in


def test_the_sixth_sign_in_is_refused_even_with_the_right_password(accounts):
    user = ensure_user(accounts.store, "viewer", "throttled")
    client = accounts.client(address="10.9.9.9")
    for _ in range(users.MAX_FAILURES):
        page = client.get("/login")
        response = client.post("/login", data={
            "username": user.username, "password": "wrong password!",
            "csrf": csrf_of(page.data)})  # fmt: skip
        assert response.status_code == 401
    page = client.get("/login")
    with unchanged(accounts, skip=("login_attempts",)):
        response = client.post("/login", data={
            "username": user.username, "password": PASSWORD,
            "csrf": csrf_of(page.data)})  # fmt: skip
    assert response.status_code == 429
    assert t("auth.locked", "en") in response.get_data(as_text=True)
    assert_signed_out(accounts, client)


def _bearer(client, token: str):
    return client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("case", ["revoked", "disabled-user"])
def test_an_api_token_of_the_past_is_refused(accounts, case):
    name = f"token-{case}"
    user = ensure_user(accounts.store, "viewer", name)
    token_id, secret = users.create_token(accounts.store, user, "script")
    assert _bearer(accounts.client(), secret).status_code == 200
    if case == "revoked":
        users.revoke_token(accounts.store, user, token_id)
    else:
        users.set_active(accounts.store, name, False)
    with unchanged(accounts):
        assert_json_error(_bearer(accounts.client(), secret), 401, "sign in first")


MALFORMED_BEARERS = ["", "rcs_", "x" * 500, "rcs_' OR 1=1 --", "VALID+x", "VALID "
                     "VALID", "Bearer VALID"]  # fmt: skip


@pytest.mark.parametrize("token", MALFORMED_BEARERS)
def test_a_malformed_bearer_token_is_refused(accounts, token):
    user = ensure_user(accounts.store, "viewer", "bearer-owner")
    _, secret = users.create_token(accounts.store, user, "script")
    token = token.replace("VALID", secret)
    with unchanged(accounts):
        assert_json_error(_bearer(accounts.client(), token), 401, "sign in first")
        response = accounts.client().get(
            "/api/v1/datasets", headers={"Authorization": f"Basic {secret}"}
        )
        assert_json_error(response, 401, "sign in first")


def test_an_api_token_opens_only_the_api(accounts):
    _, secret = users.create_token(accounts.store, accounts.people["admin"], "script")
    client = accounts.client()
    header = {"Authorization": f"Bearer {secret}"}
    with unchanged(accounts, skip=("api_tokens",)):  # last_used_at of the good call
        assert client.get("/api/v1/datasets", headers=header).status_code == 200
        response = client.post(DISPATCH, json=_render_body(accounts), headers=header)
        assert_json_error(response, 401, "sign in first")
        page = client.get("/admin", headers=header)
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")


# -- share links ---------------------------------------------------------------------------
def _share(world, scenario_id: int, *, renew: bool = False) -> str:
    return share_url(world.config, world.store, scenario_id, renew=renew)


FORGED_SHARES = {
    "made-up": lambda w: "abc",
    "tampered": lambda w: _share(w, w.scenario).rsplit("/", 1)[1][:-2] + "xx",
    "another-key": lambda w: share_serializer("another key" * 4).dumps(
        [w.scenario, "nonce"]),
    "wrong-nonce": lambda w: share_serializer(_key(w)).dumps([w.scenario, "x" * 32]),
    "huge-id": lambda w: share_serializer(_key(w)).dumps([10**30, "x"]),
    "sql-id": lambda w: share_serializer(_key(w)).dumps(["1 OR 1=1", "x"]),
    "dict-id": lambda w: share_serializer(_key(w)).dumps([{"a": 1}, "x"]),
    "not-a-pair": lambda w: share_serializer(_key(w)).dumps("x"),
    "traversal": lambda w: "..%2F..%2Fsecret_key",
}  # fmt: skip


def assert_share_refused(response) -> None:
    assert response.status_code == 404, response.data[:300]
    assert t("share.invalid", "en") in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", list(FORGED_SHARES))
def test_a_forged_share_link_is_a_404(accounts, kind):
    token = FORGED_SHARES[kind](accounts)
    with unchanged(accounts):
        assert_share_refused(accounts.client().get(f"/share/{token}"))


def test_a_share_link_dies_when_renewed(accounts):
    old = _share(accounts, accounts.scenario)
    assert accounts.client().get(old).status_code == 200
    new = _share(accounts, accounts.scenario, renew=True)
    with unchanged(accounts):
        assert_share_refused(accounts.client().get(old))
        assert accounts.client().get(new).status_code == 200


def test_a_share_link_dies_with_its_scenario(accounts):
    boss = accounts.people["admin"]
    doomed = _saved_run(accounts.store, SPEC_TINY, "Éphémère", boss)
    link = _share(accounts, doomed)
    assert accounts.client().get(link).status_code == 200
    delete_scenario(accounts.store, doomed)
    with unchanged(accounts):
        assert_share_refused(accounts.client().get(link))


class _Tags(HTMLParser):
    """The elements of a page, as ``(tag, attributes, text)``."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[list] = []

    def handle_starttag(self, tag, attrs):
        self.found.append([tag, dict(attrs), ""])

    def handle_data(self, data):
        if self.found:
            self.found[-1][2] += data


def test_a_share_page_is_read_only_and_escapes_names(accounts):
    boss = accounts.people["admin"]
    result = run_scenario(load_spec(SPEC_TINY), network_from_store(accounts.store))
    fields = record_from_result(result)
    centers = fields["centers"].copy()
    names = [f"</script><script>alert({i})</script>" for i in range(len(centers))]
    centers["name"] = names
    centers["status"] = "opened"  # every site on the map and in the changes table
    scenario_id = save_scenario(
        accounts.store, accounts.dataset, XSS, SPEC_TINY, owner_id=boss.id,
        author='"><img src=x onerror=alert(1)>', **{**fields, "centers": centers},
    ).id  # fmt: skip
    link = _share(accounts, scenario_id)
    client = accounts.client()
    with unchanged(accounts):
        response = client.get(link)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert response.headers["X-Frame-Options"] == "DENY"
        assert_signed_out(accounts, client)  # the link opens no session
    parser = _Tags()
    parser.feed(html)
    scripts = [(attrs, text) for tag, attrs, text in parser.found if tag == "script"]
    assert [a.get("src") or a.get("type") or "inline" for a, _ in scripts] == [
        "/vendor/plotly.min.js", "/assets/mapfit.js", "application/json", "inline"
    ]  # fmt: skip
    assert "</" not in scripts[2][1]  # the figure cannot close its block
    figure = json.loads(scripts[2][1])
    sites = figure["data"][site_index()]
    assert {c[0] for c in sites["customdata"]} == set(names)  # kept, as text
    assert not [tag for tag, *_ in parser.found if tag in ("img", "form", "iframe")]
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # title, heading
    assert "&lt;/script&gt;&lt;script&gt;alert(0)&lt;/script&gt;" in html  # changes
    for marker in ("_dash-config", "_dash-update-component", "dash_renderer"):
        assert marker not in html  # no Dash app behind the page: nothing to call


# -- formula injection ---------------------------------------------------------------------
def _formula_scenario(world) -> int:
    if not world.formula:
        world.formula = _save_formula_scenario(world)
    return world.formula


def _save_formula_scenario(world) -> int:
    boss = world.people["admin"]
    result = run_scenario(load_spec(SPEC_TINY), network_from_store(world.store))
    fields = record_from_result(result)
    centers, communes = fields["centers"].copy(), fields["communes"].copy()
    centers["name"] = [FORMULA, "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"][
        : len(centers)] + ["ok"] * max(0, len(centers) - 4)  # fmt: skip
    communes["name"] = FORMULA
    return save_scenario(
        world.store, world.dataset, FORMULA, SPEC_TINY, owner_id=boss.id,
        author="=1+1", **{**fields, "centers": centers, "communes": communes},
    ).id  # fmt: skip


def assert_no_formula(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows:
        for cell in row:
            if cell and cell[0] in "=+-@\t\r":
                float(cell)  # only a number may start with a sign
    return rows


@pytest.mark.parametrize("table", ["centers", "communes"])
def test_api_csv_neutralises_formulas(accounts, table):
    scenario_id = _formula_scenario(accounts)
    with unchanged(accounts, skip=("audit_events",)):  # a CSV is an audited export
        response = accounts.client("admin").get(
            f"/api/v1/scenarios/{scenario_id}/{table}?format=csv"
        )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = assert_no_formula(response.get_data(as_text=True))
    assert "'" + FORMULA in [cell for row in rows for cell in row]


def test_the_scenario_export_neutralises_a_formula_name(accounts):
    scenario_id = _formula_scenario(accounts)
    with unchanged(accounts, skip=("audit_events",)):
        response = call(
            accounts, "admin", scenario_library.export,
            {prop(ids.SCN_EXPORT_CSV, "n_clicks"): 1, RESULT: {"id": scenario_id}},
            prop(ids.SCN_EXPORT_CSV, "n_clicks"),
        )  # fmt: skip
    sent = outputs(response)[ids.SCN_DOWNLOAD]["data"]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(sent["content"])))
    for name in archive.namelist():
        rows = assert_no_formula(archive.read(name).decode("utf-8-sig"))
        if name == "parameters.csv":
            assert ["scenario.name", "'" + FORMULA] in rows
            assert ["scenario.author", "'=1+1"] in rows


# -- a flood of jobs ----------------------------------------------------------------------
def test_a_flood_of_solves_starts_no_more_jobs_than_the_users_limit(demo):
    """A planner's forged loop of solve requests forked a process per request
    until the machine ran out of memory (120 at once, 23 GB): beyond the user's
    limit of jobs at once a request starts nothing and the page says why, and
    other users' jobs still start."""
    from dashapp.job_context import REFUSED_JOB
    from tests.unit.dashapp.test_jobs import _wait_for_file, wait_for

    manager = demo.app._background_manager
    planner = {"custom_data": {"auth": demo.people["planner"].to_dict()}}
    go = demo.root / "go-flood"
    fn = manager.make_job_fn(_wait_for_file, False)
    limit = demo.config.max_user_jobs
    assert limit < demo.config.job_limit
    held = [manager.call_job_fn(f"flood-{i}", fn, [str(go)], planner) for i in range(limit)]
    run = {prop(ids.SCN_RUN, "n_clicks"): 1, DATASET: demo.dataset}
    trigger = prop(ids.SCN_RUN, "n_clicks")
    try:
        assert REFUSED_JOB not in held and all(map(manager.job_running, held))
        for _ in range(3):
            answer = call(demo, "planner", scenario_run.run_optimisation, run, trigger)
            assert t("jobs.busy_user", "en") in texts(answer)
        assert sum(map(manager.job_running, held)) == limit  # nothing else started
        answer = call(demo, "admin", scenario_run.run_optimisation, run, trigger)
        assert t("jobs.busy_user", "en") not in texts(answer)
        assert t("jobs.busy_server", "en") not in texts(answer)
    finally:
        go.touch()
        for i, job in enumerate(held):
            wait_for(lambda i=i: manager.result_ready(f"flood-{i}"), 60, "held job")
            manager.get_result(f"flood-{i}", job)


# -- the API's CSV downloads are exports (appended by the API helper) ---------------------
@pytest.mark.parametrize(
    ("who", "right"), [("viewer", "scenario.export"), ("planner", "export.any")]
)
@pytest.mark.parametrize("table", ["centers", "communes", "unserved"])
def test_api_csv_of_anothers_scenario_needs_the_screens_export_rights(
    accounts, who, right, table
):
    """A viewer, and a planner who does not own the scenario, downloaded its tables
    as CSV from the API where the screen refuses them the export, and no audit event
    said so: a JSON 403 naming the right, and nothing written."""
    path = f"/api/v1/scenarios/{accounts.scenario}/{table}"
    with unchanged(accounts):
        assert accounts.client(who).get(path).status_code == 200  # JSON: a read
        response = accounts.client(who).get(path + "?format=csv")
    assert response.status_code == 403 and response.is_json
    assert response.get_json()["right"] == right
    assert "Content-Disposition" not in response.headers


# -- signing out ends the session --------------------------------------------------------
def test_signing_out_ends_the_session_on_the_server(accounts):
    """A copy of the session cookie kept working for up to 12 h after sign-out:
    only the browser's cookie was cleared. Signing out now ends every session of
    the user (copies and other browsers); signing in again works."""
    user = ensure_user(accounts.store, "planner", "sign-out-copy")
    client, elsewhere = accounts.sign_in(user), accounts.sign_in(user)
    copy = accounts.client()
    copy.set_cookie("dashapp_session", client.get_cookie("dashapp_session").value)
    assert copy.get("/api/v1/datasets").status_code == 200
    answer = client.post("/logout", data={"csrf": csrf_of(client.get("/logout").data)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    for signed_out in (client, copy, elsewhere):
        assert_signed_out(accounts, signed_out)
        page = signed_out.get("/scenarios")
        assert page.status_code == 302
        assert page.headers["Location"].startswith("/login?next=")
    events = users.audit_events(accounts.store, limit=5)
    assert ("sign-out-copy", "user.sign_out") in set(
        zip(events["username"], events["action"], strict=True)
    )
    assert accounts.sign_in(user).get("/api/v1/datasets").status_code == 200


# -- a chunked callback body ------------------------------------------------------------
@contextlib.contextmanager
def _served(app):
    """``app`` served by Werkzeug's HTTP server on a free loopback port."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(10)


def _post_chunked(port: int, cookie: str, body: bytes):
    """POST ``body`` to Dash's callback route with ``Transfer-Encoding: chunked``
    (no Content-Length); (status, JSON answer)."""
    import http.client

    def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", DISPATCH, body=chunks(), encode_chunked=True, headers={
            "Content-Type": "application/json",
            "Cookie": f"dashapp_session={cookie}"})  # fmt: skip
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def test_a_chunked_callback_body_beyond_the_cap_is_refused(accounts):
    """The 2 MB cap read Content-Length only: the same 5.2 MB callback body that
    got 413 with it was run (200) when sent chunked. Over a real socket."""
    viewer = accounts.client("viewer").get_cookie("dashapp_session").value
    small = _render_body(accounts)
    huge = dash_body(accounts, shell.render_page,
                     {prop(ids.URL, "pathname"): "/" + "x" * int(5.2 * 1024**2)},
                     prop(ids.URL, "pathname"))  # fmt: skip
    with _served(accounts.app) as port, unchanged(accounts):
        status, answer = _post_chunked(port, viewer, json.dumps(huge).encode())
        assert (status, answer) == (413, {"error": "request too large"})
        status, answer = _post_chunked(port, viewer, json.dumps(small).encode())
        assert status == 200 and ids.PAGE in answer["response"], answer
    assert_json_error(accounts.client("viewer").post(DISPATCH, json=huge), 413,
                      "request too large")  # fmt: skip


# -- a deleted scenario's name (appended by the API helper) -------------------------------
@pytest.mark.parametrize("restorer", ["owner", "admin"])
def test_another_planners_save_of_the_name_leaves_the_undo_working(accounts, restorer):
    """uplanner deleted their scenario and planner2 saved a draft of the same name
    (auto-names are guessable timestamps): the save purged the deleted scenario for
    good, and the owner's undo, or an admin's, said it no longer existed. Now the
    save succeeds and the undo restores it, renamed as its name is taken."""
    owner = accounts.sign_in(ensure_user(accounts.store, "planner", "uplanner"))
    other = accounts.sign_in(ensure_user(accounts.store, "planner", "planner2"))
    name = f"Brouillon du 30/11/2026 18:2{'05'[restorer == 'admin']}"

    def manage(client, trigger: str, values: dict):
        fire = prop(trigger, "submit_n_clicks" if trigger == ids.SCN_DELETE_CONFIRM
                    else "n_clicks")  # fmt: skip
        return call(accounts, client, scenario_library.manage, {fire: 1, **values},
                    fire)  # fmt: skip

    saved = manage(owner, ids.SCN_SAVE, {prop(ids.SCN_NAME, "value"): name})
    mine = outputs(saved)[ids.SCN_RESULT]["data"]["id"]
    gone = manage(owner, ids.SCN_DELETE_CONFIRM, {SAVED: mine})
    assert outputs(gone)[ids.SCN_DELETED]["data"] == mine
    theirs = manage(other, ids.SCN_SAVE, {prop(ids.SCN_NAME, "value"): name})
    assert t("scn.saved_ok", "en", name=name) in texts(theirs)
    theirs_id = outputs(theirs)[ids.SCN_RESULT]["data"]["id"]

    undo = manage(owner if restorer == "owner" else "admin", ids.SCN_UNDO,
                  {prop(ids.SCN_DELETED, "data"): mine})  # fmt: skip
    assert t("scn.restored", "en", name=f"{name} (restauré)") in texts(undo)
    back = get_scenario(accounts.store, mine)
    assert (back.name, back.owner_id) == (
        f"{name} (restauré)", users.get_user(accounts.store, "uplanner").id
    )  # fmt: skip
    assert get_scenario(accounts.store, theirs_id).name == name
