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
