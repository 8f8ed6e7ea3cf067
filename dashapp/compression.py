"""Static files compressed once per process, not once per download.

flask-compress (Dash's ``compress=True``) compresses every response as it leaves,
which suits callback answers, each different. The page's scripts and styles are
the same bytes for every visitor, and the largest are costly to compress well:
plotly.js (4.6 MB) takes about a second of CPU at brotli level 9, the AG Grid
bundle a third of that. Under load, fifty planners opening the app with an empty
cache would spend a worker's core on compressing the same files again and again
(each first page load took over 20 s in ``bench/bench_load.py`` before this).

:func:`init_static_compression` compresses a static response (Dash's component
suites, ``/assets/``, the vendored Bootstrap) the first time it is asked for in
an encoding, keeps the bytes for the life of the process, and serves them after;
a file asked for by several requests at once is compressed by one of them. The
cache is bounded by the files the app serves: its key is the path (the query
string, a cache-busting version, does not change the bytes) and only answers
200 to a GET are kept. Every other response is left to flask-compress.

The compressed bytes get their own ETag (Dash's, with the encoding), and a browser
sending that tag back gets ``304 Not Modified``: Dash compares the tag with its
own and could never match it, so plotly.js (served without a version in its
address) was sent again in full at every page load.
"""

from __future__ import annotations

import gzip
import threading

import flask

STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/vendor/")
# paid once per file and process: plotly.js 16% smaller than gzip (1.23 MB)
STATIC_BR_QUALITY = 9
_ENCODINGS = ("br", "gzip")


class StaticCompressor:
    """The compressed bytes of static responses, by (path, encoding)."""

    def __init__(self, server: flask.Flask) -> None:
        self.server = server
        self.entries: dict[tuple[str, str], bytes] = {}
        self.compressions = 0  # how many times bytes were compressed (for tests)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def after_request(self, response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            request.method != "GET"
            or response.status_code != 200
            or not request.path.startswith(STATIC_PREFIXES)
            or "Content-Encoding" in response.headers
            or response.mimetype not in self.server.config.get("COMPRESS_MIMETYPES", ())
        ):
            return response
        encoding = choose_encoding(request.headers.get("Accept-Encoding", ""))
        if encoding is None:
            return response
        etag, weak = response.get_etag()
        tagged = f"{etag}:{encoding}" if etag and not weak else None
        if tagged and request.if_none_match.contains(tagged):
            # the browser holds these bytes already (the tag it sends back is
            # ours, never the one Dash compared): no need to send them again
            return self._not_modified(response, tagged)
        key = (request.path, encoding)
        body = self.entries.get(key)
        if body is None:
            with self._guard:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:  # one request compresses, the others wait for its bytes
                body = self.entries.get(key)
                if body is None:
                    response.direct_passthrough = False
                    body = self._compress(response.get_data(), encoding)
                    self.entries[key] = body
        response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = encoding
        response.headers["Content-Length"] = str(len(body))
        _vary_on_encoding(response)
        if tagged:
            response.set_etag(tagged)
        return response

    @staticmethod
    def _not_modified(response: flask.Response, tagged: str) -> flask.Response:
        answer = flask.Response(status=304)
        answer.set_etag(tagged)
        for header in ("Cache-Control", "Expires", "Vary"):
            if header in response.headers:
                answer.headers[header] = response.headers[header]
        _vary_on_encoding(answer)
        return answer

    def _compress(self, data: bytes, encoding: str) -> bytes:
        self.compressions += 1
        config = self.server.config
        if encoding == "br":
            import brotli

            return brotli.compress(data, quality=STATIC_BR_QUALITY)
        return gzip.compress(data, compresslevel=config.get("COMPRESS_LEVEL", 6),
                             mtime=0)  # fmt: skip


def _vary_on_encoding(response: flask.Response) -> None:
    vary = response.headers.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


def choose_encoding(accept: str, preferred=_ENCODINGS) -> str | None:
    """The first of ``preferred`` (brotli, then gzip) that ``accept`` allows.

    Brotli first: it makes plotly.js about 16% smaller than gzip, and its cost is
    paid once here. (Dash resets flask-compress's ``COMPRESS_ALGORITHM`` setting
    to gzip after the app chose brotli, so the setting is not read here.)

    Examples
    --------
    >>> choose_encoding("gzip, deflate, br")
    'br'
    >>> choose_encoding("br;q=0, gzip"), choose_encoding("")
    ('gzip', None)
    """
    allowed = set()
    for part in accept.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        allowed.add(name.strip())
    for encoding in preferred:
        if encoding in _ENCODINGS and (encoding in allowed or "*" in allowed):
            return encoding
    return None


def init_static_compression(server: flask.Flask) -> StaticCompressor:
    """Serve ``server``'s static files compressed once; call it after flask-compress
    is set up (Flask runs the later ``after_request`` hook first)."""
    compressor = StaticCompressor(server)
    server.after_request(compressor.after_request)
    server.extensions["dashapp_static_compression"] = compressor
    return compressor
