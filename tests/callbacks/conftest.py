"""Call callback functions directly, inside a request of a real app."""

from __future__ import annotations

import functools
from contextvars import copy_context

import flask
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from dashapp import create_app
from dashapp.config import Config
from data.users import Principal

ADMIN = Principal(1, "test-admin", "admin")


@pytest.fixture
def demo_app(request):
    """The app on the shared demo store, or, for a test marked ``writes_demo``
    (it saves scenarios, imports or changes users), on a private copy of it."""
    writes = request.node.get_closest_marker("writes_demo") is not None
    return create_app(Config(data_dir=request.getfixturevalue(
        "demo_copy" if writes else "demo_dir"
    )))  # fmt: skip


def run_callback(app, fn, *args, trigger: str | list[str] | None = None, user=ADMIN):
    """Run callback ``fn`` of ``app`` as Dash would, inside a request.

    ``trigger`` is the ``"component-id.prop"`` that fired it (a list when several
    inputs changed in one call, in the order Dash lists them); the callback runs
    for a signed-in admin unless ``user`` (a Principal, or ``None`` for nobody)
    says otherwise.
    """
    fired = [trigger] if isinstance(trigger, str) else list(trigger or [])
    triggered = [{"prop_id": prop, "value": None} for prop in fired]

    def inner():
        context_value.set(AttributeDict(triggered_inputs=triggered))
        with app.server.test_request_context("/"):
            if user is not None:
                flask.g.user = user
            return fn(*args)

    return copy_context().run(inner)


@pytest.fixture
def app(demo_app):
    """The app ``call`` runs callbacks in: the demo, unless a module overrides this
    fixture with an app on a store of its own."""
    return demo_app


@pytest.fixture
def call(app):
    """``call(fn, *args, trigger=..., user=...)``: :func:`run_callback` on ``app``."""
    return functools.partial(run_callback, app)
