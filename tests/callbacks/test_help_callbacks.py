"""The help panel, the first-use guides and the page's language, called directly."""

from __future__ import annotations

import pytest
from dash import no_update

from callbacks import shell
from dashapp import ids
from data.users import Principal
from layouts.shell import GUIDE_STEPS, GUIDES, HIDDEN

URL = ids.URL + ".pathname"
DISMISS = ids.GUIDE_DISMISS + ".n_clicks"
AGAIN = ids.HELP_AGAIN + ".n_clicks"


def _guide(call, path, seen=None, lang="fr", trigger=URL, n=None, user=None):
    kwargs = (
        {"trigger": trigger} if user is None else {"trigger": trigger, "user": user}
    )
    return call(shell.help_and_guide, path, n, n, n, seen, lang, **kwargs)


def _steps(out) -> str:
    style, steps, _, _ = out
    return "" if style == HIDDEN else " ".join(li.children for li in steps)


def test_each_screen_shows_its_guide_until_dismissed(call):
    out = _guide(call, "/scenarios")
    assert out[0] == {} and len(out[1]) == GUIDE_STEPS and out[2:] == ([], no_update)
    assert "Choisissez un objectif" in _steps(out)
    assert "Choose an objective" in _steps(_guide(call, "/scenarios", lang="en"))
    # dismissed: gone, and remembered for that screen only
    out = _guide(call, "/scenarios", [], trigger=DISMISS, n=1)
    assert out[:3] == (HIDDEN, [], ["scenarios"])
    assert _steps(_guide(call, "/scenarios", ["scenarios"])) == ""
    assert "indicateur" in _steps(_guide(call, "/", ["scenarios"]))
    # shown again from the help panel, which closes
    out = _guide(call, "/scenarios", ["scenarios"], trigger=AGAIN, n=1)
    assert _steps(out) and out[2:] == ([], False)


def test_help_button_opens_the_panel(call):
    out = _guide(call, "/", trigger=ids.HELP_OPEN + ".n_clicks", n=1)
    assert out == (no_update, no_update, no_update, True)


def test_a_click_that_did_not_happen_changes_nothing(call):
    out = _guide(call, "/", [], trigger=DISMISS, n=None)
    assert out == (no_update,) * 4


@pytest.mark.parametrize(
    "seen", [None, "x", {"a": 1}, [1, None, "overview", "../admin", "overview" * 999]]
)
def test_the_browser_store_is_not_trusted(call, seen):
    out = _guide(call, "/", seen)
    assert out[2] in ([], ["overview"])
    assert (out[0] == HIDDEN) == (out[2] == ["overview"])


@pytest.mark.parametrize("path", [None, 3, "/nowhere", "/compte", "//", "/" * 5000])
def test_paths_without_a_guide_show_none(call, path):
    assert _guide(call, path, [])[:2] == (HIDDEN, [])


def test_no_guide_of_a_screen_the_user_may_not_open(call):
    viewer = Principal(7, "viewer", "viewer")
    assert not viewer.can("import")
    assert _guide(call, "/import", [], user=viewer)[:2] == (HIDDEN, [])
    again = _guide(call, "/import", [], trigger=AGAIN, n=1, user=viewer)
    assert again[:2] == (HIDDEN, []) and again[3] is False
    assert set(GUIDES) >= {"/", "/scenarios", "/import", "/admin"}


def test_signed_out_callers_are_refused(call):
    from dashapp.auth import AccessDeniedError

    with pytest.raises(AccessDeniedError):
        call(shell.help_and_guide, "/", None, None, None, [], "fr", trigger=URL,
             user=None)  # fmt: skip


def test_index_page_names_its_language(demo_app):
    with demo_app.server.test_request_context(
        "/", headers={"Cookie": "dashapp_lang=en"}
    ):
        html = demo_app.index()
    assert '<html lang="en">' in html
    assert "<title>Service center network</title>" in html
    assert 'id="dashapp-locale"' in html and '"January"' in html
    assert "Loading…" in html and "Loading..." not in html
    with demo_app.server.test_request_context("/"):
        html = demo_app.index()
    assert '<html lang="fr">' in html and '"janvier"' in html and "Chargement…" in html
