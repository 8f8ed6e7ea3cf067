"""Background jobs that die with their server and never hold its socket.

Dash's ``DiskcacheManager`` forks one process per background callback. The fork
inherits every descriptor of the server, its listening socket included, and nothing
ties it to the server's life: a solve outliving a killed server keeps the port (a
restart fails with "address already in use") and may still save its scenario
minutes later. Jobs started by :class:`ServerBoundManager` first give up every
inherited listening socket, then watch their parent and leave as soon as it is gone.

``PR_SET_PDEATHSIG`` is not used: it fires when the *thread* that forked exits, which
in a threaded server is the request thread, right after the job has started.
"""

from __future__ import annotations

import json
import os
from functools import partial, update_wrapper

import diskcache
from dash import DiskcacheManager

from dashapp.config import Config
from dashapp.process import bind_to_server, unique_job_key


class ServerBoundManager(DiskcacheManager):
    """``DiskcacheManager`` whose job processes are bound to the server process.

    Progress, cancel and results go through Dash's own machinery unchanged; only
    the job's start is wrapped (:func:`bind_to_server`).
    """

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        return unique_job_key(
            super().build_cache_key(fn, args, cache_args_to_ignore, triggered)
        )

    def call_job_fn(self, key, job_fn, args, context):
        server_pid = os.getpid()
        return super().call_job_fn(
            key, partial(_bound_job, server_pid, job_fn), args, context
        )


def make_background_manager(config: Config):
    """The app's background callback manager.

    With ``config.redis_url``, a :class:`dashapp.workers.WorkerManager` sending the
    jobs to Celery workers; otherwise a :class:`ServerBoundManager` forking them
    beside the server, their results under ``cache_dir/jobs``.

    Examples
    --------
    >>> from dashapp.config import Config
    >>> make_background_manager(Config(data_dir=tmp))  # doctest: +SKIP
    """
    if config.redis_url:
        from dashapp.workers import make_worker_manager

        return make_worker_manager(config)
    return ServerBoundManager(diskcache.Cache(str(config.cache_dir / "jobs")))


#: How a job's forecast error travels to the web process: Dash hands the error
#: handler only the job's text, so the error's code and values go in it as JSON.
JOB_FORECAST_ERROR = "ForecastError "


class JobForecastError(RuntimeError):
    """A :class:`data.forecast.ForecastError` raised in a background job, its
    ``to_dict()`` in the message (read back by ``dashapp.auth.on_callback_error``)."""

    def __init__(self, error) -> None:
        super().__init__(JOB_FORECAST_ERROR + json.dumps(error.to_dict(), default=str))


def with_config(fn, config: Config):
    """Background callback ``fn`` with the app's settings bound as first argument.

    A job runs in another process, where no request tells it the app's config.
    A forecast error leaving the job (a scenario run or coverage curve on
    forecast demand) keeps its code and values, so the page words it.
    """
    bound = partial(fn, config)

    def job(*args, **kwargs):
        from data.forecast import ForecastError

        try:
            return bound(*args, **kwargs)
        except ForecastError as exc:
            raise JobForecastError(exc) from exc

    return update_wrapper(job, fn)


def _bound_job(server_pid: int, job_fn, *args):
    bind_to_server(server_pid)
    return job_fn(*args)
