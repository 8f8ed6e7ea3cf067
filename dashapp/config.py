"""Application settings: one frozen dataclass.

Each setting is resolved in this order: explicit argument, environment variable,
default (as ``dash/_configs.py`` does). Paths come from :mod:`pathlib`, never from
the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("fr", "en")
LANG_COOKIE = "dashapp_lang"  # the visitor's choice of language


def _default_data_dir() -> Path:
    return PROJECT_ROOT / "var"


def _default_precompute() -> bool:
    # read here too (not only in from_env): the test suite turns it off for every
    # app it builds, and its apps' settings are built directly
    return os.environ.get("DASHAPP_PRECOMPUTE", "1").lower() not in FALSE_WORDS


FALSE_WORDS = ("0", "false", "no", "off")
#: CPU priorities of background jobs, least first (``Config.job_priority``).
JOB_PRIORITIES = ("idle", "low", "normal")


@dataclass(frozen=True)
class Config:
    """Settings of one app instance.

    Attributes
    ----------
    data_dir : Path
        Folder holding the default SQLite store and the caches
        (``DASHAPP_DATA_DIR``).
    database_url : str
        SQLAlchemy URL of the store (``DASHAPP_DATABASE_URL``); default is
        ``sqlite:///<data_dir>/dashapp.sqlite``.
    host, port : str, int
        Where ``serve`` listens (``HOST``, ``PORT``).
    lang : str
        Default UI language, ``fr`` or ``en`` (``DASHAPP_LANG``).
    basemap_style : str or None
        Optional MapLibre style URL for a tile basemap (``DASHAPP_BASEMAP``).
        Unset by default: the map then needs nothing from the internet.
    demo_seed, demo_communes : int
        Parameters of the synthetic demo country created on first run.
    secret_key : str
        Key signing sessions and share links (``DASHAPP_SECRET_KEY``); by default
        one is generated on first start into ``<data_dir>/secret_key``.
    admin_password : str
        One-time password of the first admin (``DASHAPP_ADMIN_PASSWORD``); by
        default a random one is printed once on the console.
    secure_cookies : bool
        Send the session cookie over HTTPS only (``DASHAPP_SECURE_COOKIES=1``);
        set it whenever the app is served behind TLS.
    max_request_mb : int
        Largest request body accepted (the import screen's uploads, base64-coded).
    proxy_hops : int
        Reverse proxies in front of the app whose ``X-Forwarded-*`` headers are
        trusted (``DASHAPP_PROXY_HOPS``); 0 (default) trusts none.
    oidc_issuer, oidc_client_id, oidc_client_secret : str
        Optional single sign-on with OpenID Connect: the provider's issuer URL,
        whose metadata is at ``<issuer>/.well-known/openid-configuration``
        (``DASHAPP_OIDC_ISSUER``), and this app's client at that provider
        (``DASHAPP_OIDC_CLIENT_ID``, ``DASHAPP_OIDC_CLIENT_SECRET``). Off unless
        the issuer and the client id are set.
    oidc_role_claim : str
        Claim holding a role name or a list of groups (``DASHAPP_OIDC_ROLE_CLAIM``,
        e.g. ``groups``): an account created at its first single sign-on gets the
        highest role it names; unset, or naming none, gives ``oidc_default_role``.
    oidc_default_role : str
        Role of such an account otherwise (``DASHAPP_OIDC_DEFAULT_ROLE``,
        ``viewer``).
    workers : int
        Worker processes of the production server (``DASHAPP_WORKERS``); 0
        (default) means one per CPU core available, at least 2.
    threads : int
        Threads per production worker (``DASHAPP_THREADS``, default 4): requests
        that wait (background-job polling, the database) do not hold a worker.
    redis_url : str
        Redis server of the background jobs (``DASHAPP_REDIS_URL``,
        ``redis://[:password@]host:6379/0``): when set, solves, imports, forecasts
        and the other long jobs run on Celery workers (``python -m dashapp
        worker``), with Redis as their broker and result store; unset (default),
        they run in processes forked beside the web server.
    shared_dir : Path or None
        Folder every web server and worker reads and writes: the import screen's
        uploads (``DASHAPP_SHARED_DIR``); ``data_dir`` when unset. With workers on
        other machines, a network share mounted at the same path everywhere.
    worker_concurrency : int
        Jobs one worker runs at once (``DASHAPP_WORKER_CONCURRENCY``); 0 (default)
        means one per CPU core available.
    job_priority : str
        CPU priority of background jobs, a worker's or those beside the web
        server (``DASHAPP_JOB_PRIORITY``): ``idle`` (default) runs them nice 10 in
        a session of their own and under Linux's ``SCHED_IDLE`` policy, so they
        take only the CPU the pages leave; ``low`` leaves out ``SCHED_IDLE`` (a job
        still gets a small share when other work keeps every core busy);
        ``normal`` keeps the process's own priority (a machine that runs nothing
        but workers).
    max_jobs : int
        Background jobs running or queued at once for this server's users
        (``DASHAPP_MAX_JOBS``); 0 (default) means four per CPU core, at least 8.
        A job asked beyond it does not start: the page says the server is busy.
    max_user_jobs : int
        The same for one user (``DASHAPP_MAX_USER_JOBS``, default 3; a page
        replaces its own job when it starts it again, so a user reaches it
        only with several screens or tabs computing at once).
    job_lease_s : int
        A running job's worker renews its lease in Redis every third of this
        (``DASHAPP_JOB_LEASE_S``, default 15 s); a lease left to expire means the
        worker died, and the user is told the job was lost.
    precompute : bool
        Compute every level's demand forecast of a dataset in a background process
        when the server starts and after an import (``DASHAPP_PRECOMPUTE``, default
        on), so that no screen waits for one.
    url_prefix : str
        Path the app is served under behind a reverse proxy
        (``DASHAPP_URL_PREFIX``, e.g. ``/plan/``); ``/`` (default) at the root.
        Every page, link, redirect, asset and API path starts with it.
    """

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8050
    lang: str = "fr"
    basemap_style: str | None = None
    demo_seed: int = 42
    demo_communes: int = 400
    debug: bool = False
    secret_key: str = field(default="", repr=False)
    admin_password: str = field(default="", repr=False)
    secure_cookies: bool = False
    max_request_mb: int = 90
    proxy_hops: int = 0
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_role_claim: str = ""
    oidc_default_role: str = "viewer"
    workers: int = 0
    threads: int = 4
    redis_url: str = field(default="", repr=False)
    shared_dir: Path | None = None
    worker_concurrency: int = 0
    job_priority: str = "idle"
    max_jobs: int = 0
    max_user_jobs: int = 3
    job_lease_s: int = 15
    url_prefix: str = "/"
    precompute: bool = field(default_factory=_default_precompute)

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(
                f"lang should be one of {LANGUAGES}, got {self.lang!r} "
                "(check DASHAPP_LANG or --lang)"
            )
        if not 0 < int(self.port) < 65536:
            raise ValueError(f"port should be in 1..65535, got {self.port!r}")
        if not 0 <= int(self.workers) <= 256:
            raise ValueError(f"workers should be in 0..256, got {self.workers!r}")
        if not 1 <= int(self.threads) <= 256:
            raise ValueError(f"threads should be in 1..256, got {self.threads!r}")
        if not 0 <= int(self.worker_concurrency) <= 256:
            raise ValueError(
                "worker_concurrency should be in 0..256, got "
                f"{self.worker_concurrency!r}"
            )
        if self.job_priority not in JOB_PRIORITIES:
            raise ValueError(
                f"DASHAPP_JOB_PRIORITY should be one of {', '.join(JOB_PRIORITIES)}, "
                f"got {self.job_priority!r}"
            )
        if not 0 <= int(self.max_jobs) <= 1024:
            raise ValueError(f"max_jobs should be in 0..1024, got {self.max_jobs!r}")
        if not 1 <= int(self.max_user_jobs) <= 1024:
            raise ValueError(
                f"max_user_jobs should be in 1..1024, got {self.max_user_jobs!r}"
            )
        if not 2 <= int(self.job_lease_s) <= 3600:
            raise ValueError(
                f"job_lease_s should be in 2..3600, got {self.job_lease_s!r}"
            )
        object.__setattr__(self, "url_prefix", normalize_prefix(self.url_prefix))
        if self.shared_dir is not None:
            object.__setattr__(self, "shared_dir", Path(self.shared_dir))
        if not self.database_url:
            url = f"sqlite:///{Path(self.data_dir) / 'dashapp.sqlite'}"
            object.__setattr__(self, "database_url", url)
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @property
    def cache_dir(self) -> Path:
        """Folder of the flask-caching file cache and background-job cache."""
        return self.data_dir / "cache"

    @property
    def job_limit(self) -> int:
        """Jobs at once for this server's users (:attr:`max_jobs`, resolved)."""
        if self.max_jobs:
            return int(self.max_jobs)
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        return max(8, 4 * cores)

    @property
    def shared_root(self) -> Path:
        """Folder shared by every web server and worker (``shared_dir`` or
        ``data_dir``)."""
        return self.shared_dir if self.shared_dir is not None else self.data_dir

    def url(self, path: str) -> str:
        """``path`` (absolute, from the app's root) under :attr:`url_prefix`.

        Examples
        --------
        >>> Config(url_prefix="/plan").url("/scenarios")
        '/plan/scenarios'
        >>> Config().url("/scenarios")
        '/scenarios'
        """
        return self.url_prefix + path.lstrip("/")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Config:
        """Build settings from explicit ``overrides``, then ``env``, then defaults.

        ``None`` overrides are ignored, so CLI options left unset fall through to
        the environment.
        """
        env = dict(os.environ if env is None else env)
        values: dict = {}
        mapping = {
            "data_dir": "DASHAPP_DATA_DIR",
            "database_url": "DASHAPP_DATABASE_URL",
            "host": "HOST",
            "port": "PORT",
            "lang": "DASHAPP_LANG",
            "basemap_style": "DASHAPP_BASEMAP",
            "secret_key": "DASHAPP_SECRET_KEY",
            "admin_password": "DASHAPP_ADMIN_PASSWORD",
            "secure_cookies": "DASHAPP_SECURE_COOKIES",
            "proxy_hops": "DASHAPP_PROXY_HOPS",
            "oidc_issuer": "DASHAPP_OIDC_ISSUER",
            "oidc_client_id": "DASHAPP_OIDC_CLIENT_ID",
            "oidc_client_secret": "DASHAPP_OIDC_CLIENT_SECRET",
            "oidc_role_claim": "DASHAPP_OIDC_ROLE_CLAIM",
            "oidc_default_role": "DASHAPP_OIDC_DEFAULT_ROLE",
            "workers": "DASHAPP_WORKERS",
            "threads": "DASHAPP_THREADS",
            "redis_url": "DASHAPP_REDIS_URL",
            "shared_dir": "DASHAPP_SHARED_DIR",
            "worker_concurrency": "DASHAPP_WORKER_CONCURRENCY",
            "job_lease_s": "DASHAPP_JOB_LEASE_S",
            "job_priority": "DASHAPP_JOB_PRIORITY",
            "max_jobs": "DASHAPP_MAX_JOBS",
            "max_user_jobs": "DASHAPP_MAX_USER_JOBS",
            "url_prefix": "DASHAPP_URL_PREFIX",
            "precompute": "DASHAPP_PRECOMPUTE",
        }
        for name, var in mapping.items():
            if env.get(var):
                values[name] = env[var]
        if "port" in values:
            try:
                values["port"] = int(values["port"])
            except ValueError as exc:
                raise ValueError(
                    f"PORT should be an integer, got {env['PORT']!r}"
                ) from exc
        for name in (
            "proxy_hops", "workers", "threads", "worker_concurrency", "job_lease_s",
            "max_jobs", "max_user_jobs",
        ):
            if name in values:
                try:
                    values[name] = int(values[name])
                except ValueError as exc:
                    var = mapping[name]
                    raise ValueError(
                        f"{var} should be a whole number, got {env[var]!r}"
                    ) from exc
        if "job_priority" in values:
            values["job_priority"] = values["job_priority"].strip().lower()
        if "precompute" in values:
            values["precompute"] = values["precompute"].lower() not in FALSE_WORDS
        if "secure_cookies" in values:
            values["secure_cookies"] = values["secure_cookies"].lower() in (
                "1", "true", "yes", "on"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Config:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)


_PREFIX_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/"
)


def normalize_prefix(prefix: str) -> str:
    """``prefix`` as ``/a/b/`` (one leading and one trailing slash), or ``/``.

    Raises
    ------
    ValueError
        A prefix with characters a URL path would need escaped, or with ``.``
        or ``..`` segments.

    Examples
    --------
    >>> normalize_prefix("plan"), normalize_prefix("/plan/"), normalize_prefix("")
    ('/plan/', '/plan/', '/')
    """
    text = str(prefix or "").strip()
    parts = [p for p in text.split("/") if p]
    if not set(text) <= _PREFIX_CHARS or any(p in (".", "..") for p in parts):
        raise ValueError(
            f"url_prefix should be a plain path such as /plan/, got {prefix!r} "
            "(check DASHAPP_URL_PREFIX)"
        )
    return "/" + "".join(f"{p}/" for p in parts)
