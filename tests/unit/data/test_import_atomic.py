"""An import is one transaction: rows, access rows and activation, or nothing.

The fast tests call the store; the slow one runs ``python -m dashapp import`` on a
few thousand communes and SIGKILLs it at several moments, before and inside its
write transaction, then checks the store is exactly as it was.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from dashapp.bootstrap import ensure_store
from data.demo import generate_demo
from data.store import AuditNote, Store, StoreError
from data.users import audit_events
from geo.access import nearest_center, refresh_access
from tests.tiny import tiny_bundle

ROOT = Path(__file__).resolve().parents[3]


def snapshot(url: str) -> dict:
    """Row count of every table, the active dataset(s) and a digest of ``datasets``."""
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            counts = {
                t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in tables
            }
            rows = conn.execute(text("SELECT * FROM datasets ORDER BY id")).all()
            active = [r.id for r in rows if r.is_active]
    finally:
        store.engine.dispose()
    digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return {"counts": counts, "active": active, "datasets_sha256": digest}


# -- the store's rules ------------------------------------------------------------------


def test_access_rows_activation_and_audit_event_come_with_the_dataset(tiny_store):
    before = tiny_store.active_dataset().id
    event = AuditNote("ada", "dataset.import", {"files": ["a.geojson"]}, "10.0.0.7")
    info = tiny_store.add_dataset(tiny_bundle(), access=nearest_center, audit=event)
    assert info.is_active and info.id != before
    logged = audit_events(tiny_store)
    assert logged[["username", "action", "target", "address"]].values.tolist() == [
        ["ada", "dataset.import", str(info.id), "10.0.0.7"]
    ]
    assert '"a.geojson"' in logged["detail"].iloc[0]
    assert not tiny_store.lacks_access(info.id)
    access = tiny_store.read_frame(
        "SELECT commune_id, distance_km FROM commune_access WHERE dataset_id = :d",
        {"d": info.id},
    )
    assert len(access) == 4 and access["distance_km"].notna().all()


def test_a_failing_access_step_leaves_the_store_unchanged(tiny_store):
    before = snapshot(tiny_store.url)

    def broken(communes, centers):
        assert len(communes) == 4 and len(centers) == 2  # the rows just written
        raise RuntimeError("killed while computing distances")

    with pytest.raises(RuntimeError, match="killed while computing"):
        tiny_store.add_dataset(
            tiny_bundle(), access=broken, audit=AuditNote("ada", "dataset.import")
        )
    assert snapshot(tiny_store.url) == before  # no dataset, and no audit event


def test_activating_without_access_rows_is_refused_and_nothing_stored(tiny_store):
    before = snapshot(tiny_store.url)
    with pytest.raises(StoreError, match="4 of its 4 communes have no nearest-center"):
        tiny_store.add_dataset(tiny_bundle())
    assert snapshot(tiny_store.url) == before


def test_set_active_refuses_a_dataset_without_access_rows(tiny_store):
    shown = tiny_store.active_dataset().id
    bare = tiny_store.add_dataset(tiny_bundle(), activate=False).id
    assert tiny_store.lacks_access(bare)
    with pytest.raises(StoreError, match=f"dataset {bare} cannot be shown"):
        tiny_store.set_active(bare)
    assert tiny_store.active_dataset().id == shown
    refresh_access(tiny_store, bare)
    tiny_store.set_active(bare)
    assert tiny_store.active_dataset().id == bare


def test_start_up_repairs_a_dataset_left_without_access_rows(tiny_store):
    ds = tiny_store.active_dataset().id
    with tiny_store.engine.begin() as conn:  # what a killed two-step import left
        conn.execute(
            text("DELETE FROM commune_access WHERE dataset_id = :d"), {"d": ds}
        )
    assert tiny_store.lacks_access(ds)
    assert ensure_store(tiny_store).id == ds
    assert not tiny_store.lacks_access(ds)


# -- a real import process, killed ------------------------------------------------------

N_COMMUNES, WEEKS = 3000, 8


def write_files(folder: Path) -> list[str]:
    """Boundaries, population, centers, sites and operations of a synthetic country.

    The layer and population come from ``bench/bench_import.py``; the tables are the
    same country's (same seed), the operations cut to the last ``WEEKS`` weeks.
    """
    spec = importlib.util.spec_from_file_location(
        "bench_import", ROOT / "bench" / "bench_import.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    inputs = bench.write_inputs(folder, N_COMMUNES, seed=7)
    country = generate_demo(seed=7, n_communes=N_COMMUNES)
    ops = country.operations
    ops = ops[ops["week"].isin(sorted(ops["week"].unique())[-WEEKS:])]
    country.centers.to_csv(folder / "centres.csv", index=False)
    country.candidates.to_csv(folder / "sites.csv", index=False)
    ops.to_csv(folder / "operations.csv", index=False)
    return [
        "--boundaries", str(inputs["boundaries"]),
        "--population", str(inputs["population"]),
        "--centers", str(folder / "centres.csv"),
        "--candidates", str(folder / "sites.csv"),
        "--operations", str(folder / "operations.csv"),
        "--name", "Import tué",
    ]  # fmt: skip


def wal_state(wal: Path) -> tuple[int, bool]:
    """Size of SQLite's write-ahead log and whether it holds a commit frame.

    A frame header (24 bytes, after the 32-byte log header) carries the database
    size in pages for a commit frame and 0 otherwise, and the log's salts.
    """
    if not wal.exists():
        return -1, False
    data = wal.read_bytes()
    if len(data) < 32:
        return len(data), False
    frame = 24 + int.from_bytes(data[8:12], "big")
    salts = data[16:24]
    committed = any(
        data[at + 8 : at + 16] == salts and int.from_bytes(data[at + 4 : at + 8], "big")
        for at in range(32, len(data) - frame + 1, frame)
    )
    return len(data), committed


class ImportRun:
    """``python -m dashapp import`` on a copy of the store, with a clock on its log."""

    def __init__(self, template: Path, folder: Path, args: list[str]) -> None:
        shutil.copytree(template, folder)
        self.url = f"sqlite:///{folder / 'dashapp.sqlite'}"
        self.wal = folder / "dashapp.sqlite-wal"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashapp", "import", *args],
            cwd=ROOT,
            env={**os.environ, "DASHAPP_DATA_DIR": str(folder)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def log_size(self) -> int:
        try:
            return self.wal.stat().st_size
        except FileNotFoundError:
            return -1

    def wait_for_log(self, size: int = 1, deadline: float = 180.0) -> float | None:
        """Seconds until the log holds ``size`` bytes (None: the import exited)."""
        while self.proc.poll() is None:
            if self.log_size() >= size:
                return self.elapsed()
            if self.elapsed() > deadline:
                raise AssertionError(f"the log never reached {size} bytes")
            time.sleep(0.002)
        return None

    def sleep_until(self, seconds: float) -> None:
        while self.elapsed() < seconds and self.proc.poll() is None:
            time.sleep(0.002)

    def kill(self) -> tuple[bool, int, bool]:
        """SIGKILL; whether it was still running, then the log's size and commit."""
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=60)
        size, committed = wal_state(self.wal)
        return alive, size, committed


@pytest.mark.slow
def test_an_import_killed_at_any_moment_leaves_the_store_as_it_was(tmp_path):
    template = tmp_path / "template"
    store = Store(f"sqlite:///{template / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    store.engine.dispose()
    before = snapshot(store.url)
    (tmp_path / "files").mkdir()
    args = write_files(tmp_path / "files")

    # One run to the end: it completes, is active and has its access rows. Its log
    # grows while the transaction spills pages, up to the commit (then stays).
    full = ImportRun(template, tmp_path / "full", args)
    writes_at = full.wait_for_log()
    growth = [(writes_at, full.log_size())]
    while full.proc.poll() is None:
        if full.log_size() > growth[-1][1]:
            growth.append((full.elapsed(), full.log_size()))
        time.sleep(0.002)
    total = full.elapsed()
    log_bytes, committed_at = growth[-1][1], growth[-1][0]
    out, err = full.proc.communicate()
    assert full.proc.returncode == 0, err
    assert f"{N_COMMUNES} commune" in out and "(active)" in out
    after = snapshot(full.url)
    new_id = max(after["active"])
    assert after["active"] == [new_id] and new_id not in before["active"]
    assert after["counts"]["commune_access"] == (
        before["counts"]["commune_access"] + N_COMMUNES
    )
    late_at = next(t for t, n in growth if n >= 0.8 * log_bytes)

    # Kills: one while reading the files (60% of the time before the first write);
    # four as the log reaches fractions of its final size (the same pages spill in
    # the same order on every run, whatever the machine's load); two after 80% of
    # it, at fractions of the time the full run then took to commit (the last
    # inserts, the distances, the activation).
    points = [("reading", 0.6)]
    points += [("log", q) for q in (0.02, 0.3, 0.55, 0.8)]
    points += [("late", f) for f in (0.3, 0.7)]
    measured, inside = [], 0
    for i, (phase, fraction) in enumerate(points):
        run = ImportRun(template, tmp_path / f"kill{i}", args)
        if phase == "reading":
            run.sleep_until(fraction * writes_at)
        elif phase == "log":
            run.wait_for_log(int(fraction * log_bytes))
        else:
            reached = run.wait_for_log(int(0.8 * log_bytes))
            run.sleep_until((reached or 0) + fraction * (committed_at - late_at))
        at = run.elapsed()
        alive, wal_size, committed = run.kill()
        state = snapshot(run.url)
        measured.append((phase, fraction, round(at, 2), wal_size, committed))
        if committed:  # killed after its commit: the whole new dataset, never a part
            assert state == before or (
                state["counts"] == after["counts"] and state["active"] == [new_id]
            ), (phase, fraction, state)
            continue
        assert alive, f"the import ended before the kill at {phase} {fraction}"
        assert state == before, (phase, fraction, at, wal_size)
        inside += wal_size > 32  # frames of the unfinished transaction were on disk
    print(
        f"full run {total:.1f} s, first write at {writes_at:.1f} s, commit at "
        f"{committed_at:.1f} s, log {log_bytes} bytes; kills (phase, fraction, s, "
        f"log bytes, committed): {measured}"
    )
    assert inside >= 4, measured
