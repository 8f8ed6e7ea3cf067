"""A real Redis server for the tests, started in a temporary folder on loopback.

Debian's ``redis-server`` package provides the binary (``scripts/test.sh`` installs
it when missing); nothing is downloaded. The server listens on 127.0.0.1 on a free
port, asks for a password (the URLs the tests use carry it, as a deployment's
would), keeps nothing on disk (``--save ''``, no append-only file) and is stopped
at the end, its folder deleted.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.postgres import free_port


class RedisUnavailableError(RuntimeError):
    """No Redis server could be started here; the message says why."""


class RedisServer:
    """One throw-away server; :meth:`start`, :meth:`url`, :meth:`stop`.

    Examples
    --------
    >>> server = RedisServer().start()  # doctest: +SKIP
    >>> server.url(1)  # doctest: +SKIP
    'redis://:...@127.0.0.1:40123/1'
    >>> server.stop()  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.password = secrets.token_hex(16)
        self.port = 0
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None

    def start(self, attempts: int = 3) -> RedisServer:
        if not self.binary:
            raise RedisUnavailableError(
                "no redis-server on PATH: install Debian's 'redis-server' package "
                "(scripts/test.sh does)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="dashapp-redis-"))
        for attempt in range(attempts):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [
                    self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.root), "--save", "", "--appendonly", "no",
                    "--requirepass", self.password, "--daemonize", "no",
                    "--logfile", str(self.root / "redis.log"),
                ],  # fmt: skip
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready(20):
                return self
            self._kill()
            if attempt == attempts - 1:
                log = self.root / "redis.log"
                raise RedisUnavailableError(
                    "redis-server did not answer: "
                    + (log.read_text()[-2000:] if log.exists() else "no log")
                )
        return self

    def _wait_ready(self, seconds: float) -> bool:
        import redis

        client = redis.Redis(port=self.port, password=self.password)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return True
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0):
        import redis

        return redis.Redis.from_url(self.url(db))

    def flush(self) -> None:
        """Empty every database (between tests that must not see each other's keys)."""
        with contextlib.closing(self.client()) as client:
            client.flushall()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        self._kill()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
