"""Static files compressed once per process (dashapp.compression), on a small Flask
app with flask-compress as Dash sets it up."""

from __future__ import annotations

import gzip
import threading

import brotli
import flask
import pytest
from flask_compress import Compress

from dashapp.compression import choose_encoding, init_static_compression

SCRIPT = ("var plotly = " + "'abcdefghij' + " * 20_000 + "1;\n").encode()


@pytest.fixture
def server():
    app = flask.Flask(__name__)
    app.config["COMPRESS_ALGORITHM"] = ["br", "gzip", "deflate"]
    Compress(app)
    init_static_compression(app)

    @app.route("/_dash-component-suites/plotly/plotly.min.js")
    def script():
        return flask.Response(SCRIPT, mimetype="application/javascript")

    @app.route("/_dash-update-component", methods=["GET", "POST"])
    def dynamic():
        return flask.jsonify({"n": flask.request.args.get("n", "0"), "pad": "x" * 2000})

    return app


def compressor(app):
    return app.extensions["dashapp_static_compression"]


def test_a_script_is_compressed_once_and_served_the_same_each_time(server):
    client = server.test_client()
    answers = [
        client.get(
            "/_dash-component-suites/plotly/plotly.min.js?v=1",
            headers={"Accept-Encoding": "gzip, deflate, br"},
        )  # fmt: skip
        for _ in range(3)
    ]
    assert {a.headers["Content-Encoding"] for a in answers} == {"br"}
    assert all(brotli.decompress(a.data) == SCRIPT for a in answers)
    assert int(answers[0].headers["Content-Length"]) == len(answers[0].data)
    assert "Accept-Encoding" in answers[0].headers["Vary"]
    assert compressor(server).compressions == 1
    # another encoding is compressed once more; none asked, the bytes as they are
    zipped = client.get("/_dash-component-suites/plotly/plotly.min.js",
                        headers={"Accept-Encoding": "gzip"})  # fmt: skip
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == SCRIPT
    plain = client.get("/_dash-component-suites/plotly/plotly.min.js",
                       headers={"Accept-Encoding": "identity"})  # fmt: skip
    assert "Content-Encoding" not in plain.headers and plain.data == SCRIPT
    assert compressor(server).compressions == 2


def test_requests_at_once_wait_for_one_compression(server):
    results = []

    def fetch():
        client = server.test_client()
        answer = client.get("/_dash-component-suites/plotly/plotly.min.js",
                            headers={"Accept-Encoding": "br"})  # fmt: skip
        results.append(brotli.decompress(answer.data) == SCRIPT)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 6
    assert compressor(server).compressions == 1


def test_callback_answers_stay_with_flask_compress(server):
    client = server.test_client()
    first = client.post(
        "/_dash-update-component?n=1", headers={"Accept-Encoding": "br"}
    )
    second = client.post(
        "/_dash-update-component?n=2", headers={"Accept-Encoding": "br"}
    )
    assert first.headers["Content-Encoding"] == "br"  # compressed, by flask-compress
    assert b'"n":"1"' in brotli.decompress(first.data)
    assert b'"n":"2"' in brotli.decompress(second.data)
    assert compressor(server).entries == {}
    missing = client.get("/_dash-component-suites/nothing.js",
                         headers={"Accept-Encoding": "br"})  # fmt: skip
    assert missing.status_code == 404 and compressor(server).entries == {}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("BR", "br"),
        ("*", "br"),
        ("deflate", None),
        ("", None),
        ("br;q=nonsense, gzip;q=0.5", "gzip"),
    ],
)
def test_choose_encoding(accept, expected):
    assert choose_encoding(accept) == expected


def test_a_browser_holding_the_script_gets_304_not_the_bytes_again(server):
    """Dash tags an unversioned file (plotly.js) with an ETag of its bytes and
    compares the browser's If-None-Match with it; the tag the browser holds is
    the compressed one, so the comparison is made here too."""

    @server.route("/_dash-component-suites/plotly/package_data/plotly.min.js")
    def tagged():
        response = flask.Response(SCRIPT, mimetype="application/javascript")
        response.add_etag()  # as dash's serve_component_suites does
        return response

    client = server.test_client()
    url = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    first = client.get(url, headers={"Accept-Encoding": "br"})
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.endswith(':br"')
    again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert "Accept-Encoding" in again.headers["Vary"]
    # a tag of other bytes, or of another encoding, gets the bytes
    for stale, encoding in (('"other:br"', "br"), (etag, "gzip")):
        answer = client.get(url, headers={"Accept-Encoding": encoding,
                                          "If-None-Match": stale})  # fmt: skip
        assert answer.status_code == 200, (stale, encoding)
        assert answer.headers["Content-Encoding"] == encoding
    assert compressor(server).compressions == 2  # br once, gzip once
