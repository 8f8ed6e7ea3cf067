"""Server CPU of one user action, in-process: a whole filter change and an API read.

The load benchmark (``bench/bench_load.py``) measures what 50 users wait for on a
shared machine; this one measures what the server spends for each of them, which
is what decides how many users two cores hold. One app is built in this process
on the demo country (as a gunicorn worker builds it), a planner signs in with
Flask's test client, and the same simulated user as the load benchmark
(:class:`bench.bench_load.User`: its mix of filters and API reads, its choices
among what the page shows) acts against it through
:class:`bench.load_client.Page`, which makes the renderer's requests for each
action (every callback a filter change triggers, from ``/_dash-dependencies``),
one after another in this thread. Each action's **CPU time** of this process
(``time.process_time``: the server's work, compression included, plus the
client's small share of building bodies and reading answers) and wall time are
recorded, after a warm-up of the same actions.

``--profile FILE`` writes a cProfile of the measured actions (open it with
``python -m pstats FILE`` or snakeviz), ``--top N`` prints the N costliest
functions by cumulative time.

Run: ``.venv/bin/python bench/bench_request_cpu.py [--changes 200] [--api 100]``;
writes ``bench/results/request_cpu.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gzip
import json
import os
import pstats
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import brotli
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_load import (  # noqa: E402
    FILTERS,
    PASSWORD,
    SMALL_PLAN,
    Clock,
    User,
    run_plan,
)
from bench.load_client import LoadError, Page, Record, Recorder  # noqa: E402
from dashapp import ids  # noqa: E402

JOB_SECRET = "request-cpu-bench-" + "s" * 40


class InlineExecutor(Executor):
    """Runs each submitted call at once in the caller's thread (one profile)."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            future.set_exception(exc)
        return future


class Answer:
    """The part of ``requests.Response`` that :mod:`bench.load_client` reads."""

    def __init__(self, response) -> None:
        self.status_code = response.status_code
        body = response.get_data()
        encoding = response.headers.get("Content-Encoding")
        if encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        self.content = body

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self):
        return json.loads(self.content)


class TestHttp:
    """:class:`bench.load_client.Http` over a Flask test client (same calls)."""

    def __init__(self, client, recorder: Recorder) -> None:
        self.client = client
        self.recorder = recorder
        self.cpu: dict[str, list[float]] = {}  # server CPU by request name

    def request(self, method: str, path: str, name: str | None = None,
                ok=(200, 204), **kwargs) -> Answer:  # fmt: skip
        kwargs.pop("timeout", None)
        follow = kwargs.pop("allow_redirects", True)
        started, cpu = time.monotonic(), time.process_time()
        response = self.client.open(
            "/" + path.lstrip("/"),
            method=method,
            headers={"Accept-Encoding": "br, gzip, deflate"},
            follow_redirects=follow,
            **kwargs,
        )
        self.cpu.setdefault(name or path.split("?")[0], []).append(
            time.process_time() - cpu
        )
        answer = Answer(response)
        good = answer.status_code in ok
        self.recorder.add(Record("request", name or path.split("?")[0],
                                 time.monotonic() - started, good, started))  # fmt: skip
        if not good:
            raise LoadError(f"{method} {path}: HTTP {answer.status_code}")
        return answer


def build_app(data_dir: Path, redis_url: str = ""):
    from dashapp import create_app
    from dashapp.config import Config
    from dashapp.services.warmup import warm

    config = Config(data_dir=data_dir, redis_url=redis_url,
                    shared_dir=data_dir / "shared" if redis_url else None,
                    secret_key=JOB_SECRET if redis_url else "")  # fmt: skip
    app = create_app(config)
    warm(app.server, config)
    return app, config


class JobWorker:
    """``python -m dashapp worker`` (Celery) for the app's jobs, in its own session.

    Its data folder is its own: it shares the database, Redis and the shared
    folder with the app in this process, as on a deployment.
    """

    def __init__(self, config, root: Path) -> None:
        from bench.bench_load import clean_env

        (root / "worker-data").mkdir(parents=True, exist_ok=True)
        self.log = root / "worker.log"
        env = clean_env(
            DASHAPP_DATA_DIR=str(root / "worker-data"),
            DASHAPP_DATABASE_URL=config.database_url,
            DASHAPP_SHARED_DIR=str(config.shared_dir),
            DASHAPP_REDIS_URL=config.redis_url,
            DASHAPP_SECRET_KEY=JOB_SECRET,
        )
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dashapp", "worker", "--concurrency", "1"],
                env=env, cwd=ROOT, stdout=log, stderr=log,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def wait(self, manager, seconds: float = 300.0) -> None:
        deadline = time.monotonic() + seconds
        while not manager.workers_alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    "the job worker did not start:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)


def make_user(app, recorder: Recorder, seed: int) -> User:
    from data import users
    from data.store import Store

    config = app.server.config["DASHAPP"]
    store = Store(config.database_url)
    with contextlib.suppress(users.UserError):  # already there from an earlier run
        users.create_user(store, "cpu-bench", PASSWORD, "planner",
                          must_change_password=False)  # fmt: skip
    store.engine.dispose()
    clock = Clock(["quiet"], 1e9)
    user = User("cpu-bench", "http://localhost/", recorder, clock, InlineExecutor(),
                random.Random(seed), (0.0, 0.0))  # fmt: skip
    user.http = TestHttp(app.server.test_client(), recorder)
    from tests.auth_helpers import csrf_of

    form = user.http.request("GET", "login")
    user.http.request("POST", "login", ok=(302,), allow_redirects=False,
                      data={"username": "cpu-bench", "password": PASSWORD,
                            "csrf": csrf_of(form.text)})  # fmt: skip
    user.page, _ = Page.load(user.http, "/", user.pool, cold=False)
    return user


def save_copies(config, n: int) -> None:
    """``n`` more saved scenarios, copies of the last run (results included)."""
    from data.scenarios import duplicate_scenario, list_scenarios
    from data.store import Store

    store = Store(config.database_url)
    last = list_scenarios(store).iloc[0]
    for i in range(n):
        duplicate_scenario(store, int(last["id"]), f"{last['name']} #{i + 1}")
    store.engine.dispose()


def measure(user: User, recorder: Recorder, action: str, n: int,
            profiler: cProfile.Profile | None = None) -> list[dict]:  # fmt: skip
    """Run ``n`` actions of ``action`` ("filter" or "api"); CPU and wall of each."""
    out = []
    for _ in range(n):
        before = len(recorder.records)
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        if action == "filter":
            user._filter_change()
        elif action == "scenario":
            user._act(
                "scenario", "small", lambda: run_plan(user.page, SMALL_PLAN, user)
            )
        else:
            user._api_read()
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        acts = [r for r in recorder.records[before:] if r.kind == action]
        requests = [r for r in recorder.records[before:] if r.kind == "request"]
        out.append({"name": acts[-1].name if acts else "?", "cpu_s": cpu,
                    "wall_s": wall, "requests": len(requests),
                    "ok": all(r.ok for r in recorder.records[before:])})  # fmt: skip
    return out


def summary(rows: list[dict], by: str = "name") -> dict | None:
    if not rows:
        return None
    cpu = np.array([r["cpu_s"] for r in rows]) * 1000
    wall = np.array([r["wall_s"] for r in rows]) * 1000
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(r[by], []).append(r["cpu_s"] * 1000)
    return {
        "n": len(rows),
        "failed": sum(not r["ok"] for r in rows),
        "requests_mean": round(float(np.mean([r["requests"] for r in rows])), 2),
        "cpu_ms_mean": round(float(cpu.mean()), 1),
        "cpu_ms_p50": round(float(np.percentile(cpu, 50)), 1),
        "cpu_ms_p95": round(float(np.percentile(cpu, 95)), 1),
        "wall_ms_p50": round(float(np.percentile(wall, 50)), 1),
        "wall_ms_p95": round(float(np.percentile(wall, 95)), 1),
        "cpu_ms_mean_by_kind": {
            k: round(float(np.mean(v)), 1) for k, v in sorted(groups.items())
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--api", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--profile", type=Path, help="write a cProfile here")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument(
        "--scenarios",
        type=int,
        default=0,
        help="small scenarios run (Redis and a Celery worker started)",
    )
    parser.add_argument(
        "--saved",
        type=int,
        default=0,
        help="with --scenarios: this many saved scenarios (copies of a run) before "
        "measuring, as the load benchmark's many_solves phase saves about 320",
    )
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "bench/results/request_cpu.json")  # fmt: skip
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    load_before = os.getloadavg()
    redis = worker = None
    try:
        if args.scenarios:
            from tests.redis_server import RedisServer

            redis = RedisServer().start()
        app, config = build_app(data_dir, redis.url(0) if redis else "")
        if redis is not None:
            worker = JobWorker(config, data_dir)
            worker.wait(app._background_manager)
        recorder = Recorder()
        user = make_user(app, recorder, args.seed)
        measure(user, recorder, "filter", args.warmup)
        measure(user, recorder, "api", max(10, args.warmup // 3))
        if args.scenarios:
            user.page.open("/scenarios")
            measure(user, recorder, "scenario", 2)
            if args.saved:
                save_copies(config, args.saved)
        user.http.cpu.clear()
        profiler = cProfile.Profile() if (args.profile or args.top) else None
        filters = measure(user, recorder, "filter", args.changes, profiler)
        api = measure(user, recorder, "api", args.api, profiler)
        scenarios = measure(user, recorder, "scenario", args.scenarios, profiler)
    finally:
        if worker is not None:
            worker.stop()
        if redis is not None:
            redis.stop()
    result = {
        "label": args.label,
        "what": "CPU of this process per action (server work + the client's small "
        "share), Flask test client, demo country, after warm-up"
        + (
            "; Redis cache and jobs on a Celery worker (its CPU not counted)"
            if args.scenarios
            else ""
        ),  # fmt: skip
        "filter_change": summary(filters),
        "api_read": summary(api),
        "filter_kinds": list(FILTERS),
        # the server's part alone (the client's reading of answers left out)
        "server_cpu_ms_by_request": {
            name: [len(v), round(1000 * float(np.mean(v)), 1)]
            for name, v in sorted(user.http.cpu.items(), key=lambda kv: -sum(kv[1]))
        },
        "saved_scenarios": args.saved,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    if scenarios:
        polls = user.http.cpu.get(f"poll {ids.SCN_RESULT}.data", [])
        result["small_scenario"] = summary(scenarios) | {
            "polls_per_run": round(len(polls) / len(scenarios), 2),
            "poll_cpu_ms_mean": round(1000 * float(np.mean(polls)), 2)
            if polls
            else None,
        }
    if profiler is not None:
        if args.profile:
            profiler.dump_stats(str(args.profile))
        if args.top:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
