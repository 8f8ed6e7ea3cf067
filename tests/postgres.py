"""A real PostgreSQL server for the tests, started in a temporary folder on loopback.

Debian's ``postgresql`` package provides the binaries (``scripts/test.sh`` installs
it when missing); nothing is downloaded. The cluster lives in a fresh folder, listens
on 127.0.0.1 on a free port and on a Unix socket in that folder, needs a password
over TCP (the URLs the tests use carry it, as a deployment's would) and is built for
speed, not durability (no fsync). As root, every binary runs as the ``postgres`` user:
the server refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
USER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb``.

    ``DASHAPP_TEST_PG_BIN`` names another folder.
    """
    chosen = os.environ.get("DASHAPP_TEST_PG_BIN")
    found = [chosen] if chosen else glob.glob(PG_BIN_GLOB)
    found = [Path(p) for p in found if (Path(p) / "initdb").is_file()]
    if not found:
        raise PostgresUnavailableError(
            f"no PostgreSQL binaries in {chosen or PG_BIN_GLOB}: install Debian's "
            "'postgresql' package (scripts/test.sh does) or set DASHAPP_TEST_PG_BIN"
        )
    return max(
        found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throw-away cluster; :meth:`start`, :meth:`create_database`, :meth:`stop`.

    Examples
    --------
    >>> server = PostgresServer().start()  # doctest: +SKIP
    >>> url = server.create_database()  # doctest: +SKIP
    >>> server.stop()  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.password = secrets.token_hex(16)
        self.port = 0
        self.root: Path | None = None
        self._as_user: list[str] = []

    # -- life ------------------------------------------------------------------
    def start(self, attempts: int = 3) -> PostgresServer:
        # not under pytest's tmp folder: that one is private to root (mode 700)
        self.root = Path(tempfile.mkdtemp(prefix="dashapp-pg-"))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(USER)
            except KeyError:
                raise PostgresUnavailableError(
                    f"running as root and there is no '{USER}' user to run the "
                    "server as (Debian's postgresql package creates it)"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", USER, "--"]
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_user:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        for attempt in range(attempts):
            self.port = free_port()
            options = " ".join(
                f"-c {k}={v}"
                for k, v in {
                    "listen_addresses": "127.0.0.1",
                    "port": self.port,
                    "unix_socket_directories": self.root,
                    "fsync": "off",
                    "synchronous_commit": "off",
                    "full_page_writes": "off",
                    # nothing may connect to a template while it is copied
                    "autovacuum": "off",
                    "max_connections": 300,
                    "shared_buffers": "64MB",
                }.items()
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
                    "-t", "60", "-o", options, "start",
                )  # fmt: skip
                return self
            except PostgresUnavailableError:
                if attempt == attempts - 1:  # the port was taken meanwhile, or worse
                    raise
        return self

    def stop(self) -> None:
        """Stop the server (fast: open sessions are ended) and delete its folder."""
        if self.root is None:
            return
        with contextlib.suppress(PostgresUnavailableError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    # -- databases ---------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return (
            f"postgresql+psycopg://{USER}:{self.password}@127.0.0.1:{self.port}/"
            f"{database}"
        )

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f" TEMPLATE {template}" if template else ""
        self.psql(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def freeze_template(self, url: str) -> str:
        """Make the database of ``url`` a template no session can open; its name.

        ``CREATE DATABASE ... TEMPLATE`` fails while any session is connected to
        the template.
        """
        name = url.rsplit("/", 1)[1]
        self.psql(
            f"ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
        )
        return name

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url``, ending its open sessions."""
        name = url.rsplit("/", 1)[1]
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def psql(self, sql: str) -> str:
        """Run one statement as the superuser over the Unix socket; its output."""
        return self._run(
            "psql", "-h", str(self.root), "-p", str(self.port), "-U", USER,
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-Atc", sql,
        )  # fmt: skip

    def _run(self, tool: str, *args: str) -> str:
        try:
            done = subprocess.run(
                [*self._as_user, str(self.bin / tool), *args],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=self.root,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailableError(f"{tool}: {exc}") from exc
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise PostgresUnavailableError(
                f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
                + (f"\nserver log:\n{log}" if log else "")
            )
        return done.stdout
