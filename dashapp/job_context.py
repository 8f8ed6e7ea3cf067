"""What a background job keeps of the request that started it, and the request
context it runs in: one definition for the jobs beside the server
(:mod:`dashapp.jobs`) and those on Celery workers (:mod:`dashapp.workers`)."""

from __future__ import annotations

import contextlib

import flask

from dashapp.config import LANG_COOKIE

#: what of the browser's request a job keeps: no cookie but the language, no
#: credential; the user travels in custom_data, computed by the server
KEPT_HEADERS = ("accept-language", "user-agent", "x-request-id")


def job_context(context) -> dict:
    """The context Dash sends with a job, without the request's credentials."""
    from dashapp.logs import request_id

    kept = dict(context)
    headers = {
        k: v
        for k, v in (context.get("headers") or {}).items()
        if k.lower() in KEPT_HEADERS and k.lower() != "x-request-id"
    }
    rid = request_id()
    if rid:
        headers["X-Request-ID"] = rid
    kept["headers"] = headers
    cookies = context.get("cookies") or {}
    kept["cookies"] = {k: v for k, v in cookies.items() if k == LANG_COOKIE}
    return kept




@contextlib.contextmanager
def job_request_context(server: flask.Flask, context):
    """A request context of ``server`` like the one that started the job.

    The client's address, language and request id, from Dash's job ``context``
    (:func:`job_context`): what the job's checks, messages and log lines use.
    """
    context = context or {}
    lang = (context.get("cookies") or {}).get(LANG_COOKIE)
    headers = {k: v for k, v in (context.get("headers") or {}).items() if v}
    if lang:
        headers["Cookie"] = f"{LANG_COOKIE}={lang}"
    with server.test_request_context(
        "/_dash-update-component",
        method="POST",
        headers=headers,
        environ_base={"REMOTE_ADDR": context.get("remote") or ""},
    ):
        rid = headers.get("X-Request-ID")
        if rid:
            flask.g.request_id = rid
        yield


# -- how many jobs at once ----------------------------------------------------------
#: prefix of a refused job's answer (read by ``dashapp.auth.on_callback_error``)
JOBS_BUSY = "JobsBusyError"
#: job id handed to Dash for a job refused before it started: never running
REFUSED_JOB = "refused"


def job_owner(context) -> str:
    """Whose job this is, from Dash's job ``context``: the signed-in user's id
    (their name without one), else the client's address."""
    context = context or {}
    auth = (context.get("custom_data") or {}).get("auth")
    if isinstance(auth, dict):
        who = auth.get("id") if auth.get("id") is not None else auth.get("username")
        if who not in (None, ""):
            return f"user:{who}"
    return f"addr:{context.get('remote') or '-'}"


def admit_job(
    live: dict[str, str],
    owner: str,
    running,
    max_jobs: int,
    max_user_jobs: int,
) -> tuple[dict[str, str], str | None]:
    """The jobs of ``live`` (job id -> owner) still ``running``, and why a new
    job of ``owner`` may not start now: ``"user"`` (they run ``max_user_jobs``
    already), ``"server"`` (``max_jobs`` run) or None (it may).

    Examples
    --------
    >>> live = {"1": "user:1", "2": "user:1", "3": "user:2"}
    >>> admit_job(live, "user:1", lambda job: True, 8, 2)[1]
    'user'
    >>> admit_job(live, "user:1", lambda job: job != "2", 8, 2)
    ({'1': 'user:1', '3': 'user:2'}, None)
    >>> admit_job(live, "user:3", lambda job: True, 3, 2)[1]
    'server'
    """
    kept = {job: who for job, who in live.items() if running(job)}
    if sum(who == owner for who in kept.values()) >= max_user_jobs:
        return kept, "user"
    if len(kept) >= max_jobs:
        return kept, "server"
    return kept, None


def busy_answer(reason: str) -> dict:
    """The result a refused job leaves for Dash: an error the page words."""
    return {"background_callback_error": {"msg": f"{JOBS_BUSY}: {reason}", "tb": ""}}
