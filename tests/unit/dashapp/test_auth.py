"""The pure parts of dashapp.auth: redirects, rights, request checks.

The same rules are attacked through the real endpoints in
``tests/callbacks/test_hostile_requests.py``.
"""

from __future__ import annotations

import json

import flask
import pytest
from dash import Dash, Input, Output, html

from dashapp import auth, ids
from dashapp.auth import (
    AccessDeniedError,
    check_every_callback_guarded,
    requires,
    safe_next,
)
from data.users import Principal

VIEWER = Principal(3, "awa", "viewer")
PLANNER = Principal(4, "kofi", "planner")


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/scenarios?scenario=3",
        "/?region=R01&level=department",
        "/share/abc.def",
        "/a/../b",  # the browser resolves it on this site
    ],
)
def test_safe_next_keeps_a_path_of_this_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        42,
        ["/"],
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
        "/\r\nSet-Cookie: x=1",
        "/\x00",
        "/\x7f",
        "/ /evil.example",
        "/" + "a" * 2000,
    ],
)
def test_safe_next_turns_anything_else_into_the_home_page(target):
    assert safe_next(target) == "/"


def test_safe_next_drops_an_empty_query():
    assert safe_next("/scenarios?") == "/scenarios"


def test_requires_names_a_known_right_and_keeps_it_on_the_function():
    with pytest.raises(ValueError, match="unknown right 'scenario.destroy'"):
        requires("scenario.destroy")

    @requires("scenario.run")
    def run(x):
        """Run."""
        return x * 2

    assert run.required_right == "scenario.run"
    assert run.__name__ == "run" and run.__doc__ == "Run."


@pytest.mark.parametrize(
    ("user", "allowed"), [(None, False), (VIEWER, False), (PLANNER, True)]
)
def test_requires_checks_the_user_of_the_request(user, allowed):
    @requires("scenario.run")
    def run():
        return "ran"

    server = flask.Flask(__name__)
    with server.test_request_context("/"):
        if user is not None:
            flask.g.user = user
        if allowed:
            assert run() == "ran"
        else:
            with pytest.raises(
                AccessDeniedError, match="lacks the right 'scenario.run'"
            ):
                run()


def test_access_denied_names_the_user_the_role_and_the_right():
    err = AccessDeniedError("import", VIEWER)
    assert str(err) == "awa (viewer) lacks the right 'import'"
    assert (err.right, err.user) == ("import", VIEWER)
    assert (
        str(AccessDeniedError("view", None)) == "anonymous (-) lacks the right 'view'"
    )


@pytest.mark.parametrize(
    "forged",
    [
        {"id": 1, "username": "x", "role": "root"},
        {"id": 1, "username": "x", "role": ["admin"]},
        {"id": 1, "username": "x"},
        "admin",
        None,
    ],
)
def test_a_role_that_is_not_one_of_the_roles_is_no_user(forged):
    assert Principal.from_dict(forged) is None


def _tiny_app() -> Dash:
    app = Dash(__name__)
    app.layout = html.Div([html.Div(id="a"), html.Div(id="b")])
    app.callback(Output("a", "children"), Input("a", "id"))(
        requires("view")(lambda _: "guarded")
    )
    return app


def test_check_every_callback_guarded_accepts_an_app_whose_callbacks_declare_a_right():
    app = _tiny_app()
    app.clientside_callback("function(x) { return x; }", Output("b", "title"),
                            Input("b", "id"))  # fmt: skip
    check_every_callback_guarded(app)  # the clientside one runs in the browser


def test_check_every_callback_guarded_refuses_an_unguarded_callback():
    app = _tiny_app()
    app.callback(Output("b", "children"), Input("b", "id"))(lambda _: "open")
    with pytest.raises(RuntimeError, match=r"declared right .*: b\.children$"):
        check_every_callback_guarded(app)


# -- request checks (inside a request of a bare Flask app) -------------------------------
@pytest.mark.parametrize(
    ("origin", "method", "same"),
    [
        (None, "POST", True),  # no Origin: not a browser's cross-site request
        ("http://host.example", "POST", True),
        ("https://host.example", "POST", True),
        ("http://evil.example", "POST", False),
        ("http://host.example.evil.example", "POST", False),
        ("http://host.example:8050", "POST", False),
        ("null", "POST", False),
        ("null", "GET", True),
        ("file://", "POST", False),
        ("ftp://host.example", "POST", False),
    ],
)
def test_same_origin(origin, method, same):
    headers = {"Origin": origin} if origin else {}
    server = flask.Flask(__name__)
    with server.test_request_context(
        "/x", method=method, headers=headers, base_url="http://host.example"
    ):
        assert auth._same_origin() is same


UPLOAD_KEY = f"..{ids.IMP_UPLOADS}.data...{ids.IMP_FILES}.children.."


@pytest.mark.parametrize(
    ("output", "size", "too_large"),
    [
        ("app-page.children", 1000, False),
        ("app-page.children", auth.MAX_CALLBACK_BYTES + 1, True),
        (UPLOAD_KEY, auth.MAX_CALLBACK_BYTES + 1, False),  # the import's upload
        (f"{ids.IMP_UPLOADS}.data", auth.MAX_CALLBACK_BYTES + 1, False),
        (f"..{ids.IMP_UPLOADS}.data-x...a.b..", auth.MAX_CALLBACK_BYTES + 1, True),
        (None, auth.MAX_CALLBACK_BYTES + 1, True),
    ],
)
def test_only_the_upload_callback_may_exceed_the_callback_cap(output, size, too_large):
    body = json.dumps({"output": output, "pad": "x" * size})
    server = flask.Flask(__name__)
    with server.test_request_context(
        "/_dash-update-component", method="POST", data=body,
        content_type="application/json",
    ):  # fmt: skip
        assert auth._body_too_large() is too_large


CALLBACKS = {
    "app-page.children": {
        "inputs": [{"id": "app-url", "property": "pathname"}],
        "state": [{"id": "app-lang", "property": "data"}],
    },
    "x.children": {
        "inputs": [{"id": '{"index":["ALL"],"type":"t"}', "property": "n_clicks"}],
        "state": [],
    },
}
GOOD = {
    "output": "app-page.children",
    "outputs": {"id": "app-page", "property": "children"},
    "inputs": [{"id": "app-url", "property": "pathname", "value": "/"}],
    "state": [{"id": "app-lang", "property": "data", "value": "fr"}],
    "changedPropIds": ["app-url.pathname"],
}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (GOOD, None),
        ({**GOOD, "output": "x.children", "inputs": [[{"id": {}, "property": "n"}]],
          "state": []}, None),  # a pattern-matching input: a list of components
        ({**GOOD, "output": "x.children", "inputs": [[]], "state": []}, None),
        ([GOOD], "names none of this app's callbacks"),
        ("app-page.children", "names none"),
        ({**GOOD, "output": "nope.children"}, "names none"),
        ({**GOOD, "output": ["app-page.children"]}, "names none"),
        ({**GOOD, "inputs": "x"}, "'inputs' are not the callback's"),
        ({**GOOD, "inputs": []}, "'inputs' are not the callback's"),
        ({**GOOD, "inputs": [{"value": "/"}]}, "'inputs' are not the callback's"),
        ({**GOOD, "state": [1]}, "'state' are not the callback's"),
        ({**GOOD, "outputs": "x"}, "'outputs' or 'changedPropIds'"),
        ({**GOOD, "changedPropIds": "app-url.pathname"}, "'changedPropIds'"),
    ],
)  # fmt: skip
def test_a_callback_request_must_be_one_the_renderer_sends(body, problem):
    server = flask.Flask(__name__)
    server.extensions["dash_callbacks"] = CALLBACKS
    with server.test_request_context(
        "/_dash-update-component", method="POST", json=body
    ):
        found = auth._callback_problem()
    assert found is None if problem is None else problem in found


def test_a_callback_request_that_is_not_json_is_refused():
    server = flask.Flask(__name__)
    server.extensions["dash_callbacks"] = CALLBACKS
    with server.test_request_context(
        "/_dash-update-component", method="POST", data="{not json",
        content_type="application/json",
    ):  # fmt: skip
        assert "names none" in auth._callback_problem()


def _chunked_request(server: flask.Flask, body: bytes):
    """A callback request whose body comes chunked: no Content-Length, the server
    ends the stream (``wsgi.input_terminated``), as Werkzeug's and gunicorn do."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path="/_dash-update-component", method="POST", data=body,
        content_type="application/json", headers={"Transfer-Encoding": "chunked"},
    ).get_environ()  # fmt: skip
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    return server.request_context(environ)


@pytest.mark.parametrize(
    ("output", "size", "too_large"),
    [
        ("app-page.children", 1000, False),
        ("app-page.children", auth.MAX_CALLBACK_BYTES, False),
        ("app-page.children", auth.MAX_CALLBACK_BYTES + 1, True),
        ("app-page.children", 5 * auth.MAX_CALLBACK_BYTES, True),
        # a browser always sends the length: no exception for a chunked upload
        (UPLOAD_KEY, auth.MAX_CALLBACK_BYTES + 1, True),
    ],
)
def test_a_chunked_body_is_held_to_the_callback_cap(output, size, too_large):
    """Without Content-Length the cap was skipped: a 5.2 MB chunked body passed.
    ``size`` is the whole body's."""
    envelope = json.dumps({"output": output, "pad": ""}).encode()
    body = json.dumps({"output": output, "pad": "x" * (size - len(envelope))}).encode()
    assert len(body) == size
    server = flask.Flask(__name__)
    server.config["MAX_CONTENT_LENGTH"] = 90 * 1024**2
    with _chunked_request(server, body):
        assert flask.request.content_length is None
        assert auth._body_too_large() is too_large
        if not too_large:  # the body read is kept for Dash
            assert flask.request.get_json()["output"] == output


def test_the_sign_out_event_is_named_on_the_admin_screen():
    from layouts.admin import audit_action

    assert audit_action("user.sign_out", "fr") == "déconnexion"
    assert audit_action("user.sign_out", "en") == "sign-out"
