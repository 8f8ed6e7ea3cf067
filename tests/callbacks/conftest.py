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
def demo_app(demo_dir):
    return create_app(Config(data_dir=demo_dir))


def run_callback(app, fn, *args, trigger: str | None = None, user=ADMIN):
    """Run callback ``fn`` of ``app`` as Dash would, inside a request.

    ``trigger`` is the ``"component-id.prop"`` that fired it; the callback runs
    for a signed-in admin unless ``user`` (a Principal, or ``None`` for nobody)
    says otherwise.
    """
    triggered = [{"prop_id": trigger, "value": None}] if trigger else []

    def inner():
        context_value.set(AttributeDict(triggered_inputs=triggered))
        with app.server.test_request_context("/"):
            if user is not None:
                flask.g.user = user
            return fn(*args)

    return copy_context().run(inner)


@pytest.fixture
def call(demo_app):
    """``call(fn, *args, trigger=..., user=...)``: :func:`run_callback` on the demo."""
    return functools.partial(run_callback, demo_app)
