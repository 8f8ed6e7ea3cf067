"""The help panel, the first-use guides and the page's language, called directly."""

from __future__ import annotations

import pytest
from dash import no_update

from callbacks import shell
from dashapp import ids
from data.users import Principal
from layouts.shell import GUIDES

URL = ids.URL + ".pathname"


def _guide(call, path, seen=None, lang="fr", trigger=URL, n=None, user=None):
    kwargs = (
        {"trigger": trigger} if user is None else {"trigger": trigger, "user": user}
    )
    return call(shell.help_and_guide, path, n, n, n, seen, lang, **kwargs)


def test_each_screen_shows_its_guide_until_dismissed(call):
    children, seen, panel = _guide(call, "/scenarios")
    assert children.id == "guide-scenarios" and seen == [] and panel is no_update
    assert "Choisissez un objectif" in str(children)
    children, seen, _ = _guide(call, "/scenarios", lang="en")
    assert "Choose an objective" in str(children)
    # dismissed: gone, and remembered for that screen only
    children, seen, _ = _guide(call, "/scenarios", [], trigger=ids.GUIDE_DISMISS
                               + ".n_clicks", n=1)  # fmt: skip
    assert children == [] and seen == ["scenarios"]
    assert _guide(call, "/scenarios", seen)[0] == []
    assert _guide(call, "/", seen)[0].id == "guide-overview"
    # shown again from the help panel, which closes
    children, seen, panel = _guide(call, "/scenarios", seen,
                                   trigger=ids.HELP_AGAIN + ".n_clicks", n=1)  # fmt: skip
    assert children.id == "guide-scenarios" and seen == [] and panel is False


def test_help_button_opens_the_panel(call):
    children, seen, panel = _guide(call, "/", trigger=ids.HELP_OPEN + ".n_clicks", n=1)
    assert (children, seen, panel) == (no_update, no_update, True)


def test_a_dismiss_button_appearing_changes_nothing(call):
    """Dash fires the callback when the guide's button is drawn (n_clicks None)."""
    out = _guide(call, "/", [], trigger=ids.GUIDE_DISMISS + ".n_clicks", n=None)
    assert out == (no_update, no_update, no_update)


@pytest.mark.parametrize(
    "seen", [None, "x", {"a": 1}, [1, None, "overview", "../admin", "overview" * 999]]
)
def test_the_browser_store_is_not_trusted(call, seen):
    children, kept, _ = _guide(call, "/", seen)
    assert kept in ([], ["overview"])
    assert (children == []) == (kept == ["overview"])


@pytest.mark.parametrize("path", [None, 3, "/nowhere", "/compte", "//", "/" * 5000])
def test_paths_without_a_guide_show_none(call, path):
    children, _, _ = _guide(call, path, [])
    assert children == []


def test_no_guide_of_a_screen_the_user_may_not_open(call):
    viewer = Principal(7, "viewer", "viewer")
    assert not viewer.can("import")
    children, _, _ = _guide(call, "/import", [], user=viewer)
    assert children == []
    again = _guide(call, "/import", [], trigger=ids.HELP_AGAIN + ".n_clicks", n=1,
                   user=viewer)  # fmt: skip
    assert again[0] == [] and again[2] is False
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
