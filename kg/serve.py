"""``kg serve``: a SPARQL 1.1 Protocol endpoint over the store.

Two processes, one endpoint:

- **Oxigraph's own server** (the ``oxigraph`` PyPI package) does the SPARQL:
  ``oxigraph serve-read-only --location STORE --bind 127.0.0.1:FREE_PORT --union-default-graph``
  (``oxigraph serve`` with ``--writable``), the same engine and default graph (the union of all
  articles) as ``kg query``. It always listens on 127.0.0.1, on a port nobody is told about.
- **A small filtering proxy** (this module, Python's ``http.server``) listens on the user's
  ``--host``/``--port`` and does what Oxigraph's server cannot be told to do:

  * ``SERVICE`` is refused (HTTP 400, one line of text) unless ``allow_service``: Oxigraph's
    server would send the request to whatever address the query names. The check is
    :func:`kg.query._refuse_service` (strings, IRIs and comments cannot hide or fake it).
    With ``writable``, ``LOAD`` (also an outbound request) is refused the same way.
  * updates are refused with HTTP 403 unless ``writable``: ``POST /update``, an ``update=``
    form field, a ``application/sparql-update`` body, or update text sent as a query.
  * the timeout is enforced here: when Oxigraph has not finished within ``timeout`` seconds
    the client gets HTTP 504 and the Oxigraph child is restarted, the only way to stop a
    runaway query in it (with 0.5.13, its own ``--timeout-s 2`` cancelled a 3-way cross
    product of all triples but answered 200 with a broken body, and did not stop a 5-way
    one; it is not passed). Queries running in the same child at that moment fail with HTTP 503
    ("retry"); the next query is answered by the new child.
  * the result limit: at most ``limit`` solutions (SELECT) or triples (CONSTRUCT/DESCRIBE)
    reach the client. A cut result has the header ``X-KG-Truncated: true`` (and
    ``X-KG-Limit: N``) and is logged. The proxy always asks Oxigraph for a line-based format
    (SPARQL TSV, N-Triples: one solution or triple per line), reads the first ``limit`` lines,
    closes the connection (which stops Oxigraph's streaming), and serialises those rows with
    pyoxigraph in the format the client negotiated (JSON, XML, CSV, TSV; Turtle, N-Triples,
    RDF/XML, N-Quads, TriG, JSON-LD, N3). The whole answer (at most ``limit`` rows; everything
    with ``limit`` 0) is held in memory before it is sent.

Prefixes are not predeclared as they are in ``kg query``: write PREFIX lines. Oxigraph says
reading a store while another process writes it is undefined behaviour: do not run
``kg build`` on the store being served (serve a copy, or stop the server).
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from kg.query import QueryError, _refuse_service, _strip_comments_and_strings, syntax_message

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 30.0
DEFAULT_LIMIT = 10_000
MAX_BODY = 8 * 1024 * 1024  # bytes of a POSTed query or update
#: what the proxy asks Oxigraph for: one solution (TSV) or one triple (N-Triples) per line
UPSTREAM_ACCEPT = "text/tab-separated-values, application/n-triples"
QUERY_PATHS = ("/query", "/sparql")
#: Oxigraph's query page (YASGUI, served by Oxigraph itself, no network needed)
UI_PATHS = ("/", "/yasgui.min.js", "/yasgui.min.css", "/logo.svg")
_UPDATE_START = re.compile(r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
_PROLOGUE = re.compile(r"\s*(?:(?:BASE\s*<>|PREFIX\s*[^\s:]*:\s*<>)\s*)*", re.I)
READ_ONLY = "updates are refused: the endpoint is read-only (kg serve --writable accepts them)"
_LOAD = re.compile(r"(?<![?$:\w-])LOAD(?![\w:-])", re.I)


class ServeError(Exception):
    """The endpoint cannot be started (or its Oxigraph server cannot be restarted)."""


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable installed beside this Python (the venv's bin/), or on PATH."""
    here = Path(sys.executable).parent / ("oxigraph.exe" if os.name == "nt" else "oxigraph")
    if here.is_file():
        return str(here)
    found = shutil.which("oxigraph")
    if not found:
        raise ServeError("the oxigraph server is not installed (pip install oxigraph)")
    return found


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Endpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/query"

    @property
    def update_url(self) -> str:
        return self.url[: -len("query")] + "update"


def store_path(store: str | Path) -> Path:
    if str(store).lower().startswith(("http://", "https://")):
        raise ServeError(f"{store} is a SPARQL endpoint already: query it (kg query --store {store}) "
                         "or serve a store directory")
    path = Path(store)
    if not (path / "CURRENT").exists():
        raise ServeError(f"{path}: no store here (run `kg build` first)")
    return path


def command(store: str | Path, port: int, writable: bool = False) -> list[str]:
    """The Oxigraph server behind the proxy: always on 127.0.0.1."""
    return [oxigraph_binary(), "serve" if writable else "serve-read-only", "--location",
            str(store_path(store)), "--bind", f"127.0.0.1:{port}", "--union-default-graph"]


def wait_ready(endpoint: Endpoint, proc: subprocess.Popen, within: float) -> None:
    """Return once the server at ``endpoint`` answers ``ASK {}``; ServeError if it stops or
    does not answer within ``within`` seconds."""
    deadline = time.monotonic() + within
    probe = endpoint.url + "?query=ASK%7B%7D"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = ""
            if getattr(proc, "log", None):
                proc.log.seek(0)
                output = proc.log.read().decode("utf-8", "replace").strip()
            raise ServeError("the oxigraph server stopped: " + (output.splitlines()[-1] if output else
                                                                 f"exit code {proc.returncode}"))
        try:
            with urllib.request.urlopen(probe, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise ServeError(f"the oxigraph server did not answer at {endpoint.url} within {within:g} s")


def stop(handle: "Server | subprocess.Popen") -> None:
    """Stop what :func:`start` returned (or a bare Oxigraph process)."""
    if isinstance(handle, Server):
        handle.close()
        return
    if handle.poll() is None:
        handle.terminate()
        try:
            handle.wait(5)
        except subprocess.TimeoutExpired:
            handle.kill()
            handle.wait()
    if getattr(handle, "log", None):
        handle.log.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the Oxigraph child ---------------------------------------------------------------------------
class Upstream:
    """The Oxigraph server process, restartable. ``generation`` counts restarts: a request
    remembers the generation it was sent to, so that of several requests timing out at once
    only the first restarts the server, and the others know why their connection broke."""

    def __init__(self, store: Path, writable: bool, ready_within: float):
        self.store, self.writable, self.ready_within = store, writable, ready_within
        self._lock = threading.Lock()
        self.generation = 0
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.error: str | None = None  # set when a restart failed: the endpoint cannot go on
        self.closed = False

    def start(self) -> None:
        with self._lock:
            self._spawn()

    def _spawn(self) -> None:
        for attempt in range(3):  # a free port can be taken before Oxigraph binds it: try another
            port = _free_port()
            log = tempfile.TemporaryFile()  # a file, not a pipe: an unread pipe would fill and block it
            proc = subprocess.Popen(command(self.store, port, self.writable), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
            proc.log = log
            try:
                wait_ready(Endpoint("127.0.0.1", port), proc, self.ready_within)
            except BaseException:
                exited = proc.poll() is not None
                stop(proc)
                if exited and attempt < 2:
                    continue
                raise
            self.proc, self.port = proc, port
            return

    def current(self) -> tuple[int, int | None]:
        """(generation, port) of the running server; waits while a restart is under way."""
        with self._lock:
            return self.generation, self.port

    def restart(self, generation: int) -> bool:
        """Restart the server if it is still ``generation`` (False: someone else already did)."""
        with self._lock:
            if generation != self.generation or self.closed:
                return False
            if self.proc is not None:
                stop(self.proc)
            self.proc, self.port = None, None
            self.generation += 1
            try:
                self._spawn()
            except ServeError as exc:
                self.error = f"the oxigraph server could not be restarted: {exc}"
                raise ServeError(self.error) from exc
            return True

    def exit_code(self) -> int | None:
        proc = self.proc
        return proc.poll() if proc is not None else None

    def close(self) -> None:
        with self._lock:
            self.closed = True
            if self.proc is not None:
                stop(self.proc)
                self.proc = None


# ---- one request ---------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""  # for the log line

    @classmethod
    def text(cls, status: int, message: str, note: str = "") -> "Reply":
        return cls(status, (message.rstrip("\n") + "\n").encode("utf-8"), note=note or message)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class _Timeout(Exception):
    pass


@dataclass
class Operation:
    kind: str  # "query" | "update"
    text: str
    params: list[tuple[str, str]]  # default-graph-uri, named-graph-uri, using-graph-uri, ...


_GRAPH_PARAMS = {"query": ("default-graph-uri", "named-graph-uri"),
                 "update": ("using-graph-uri", "using-named-graph-uri")}


def parse_operation(method: str, path: str, content_type: str | None, body: bytes) -> Operation:
    """A SPARQL 1.1 Protocol request (query via GET, POST form or POST sparql-query; update
    via POST form or POST sparql-update) as an Operation, or Refused."""
    url = urllib.parse.urlsplit(path)
    kind = "update" if url.path == "/update" else "query"
    fields = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    media = (content_type or "").split(";")[0].strip().lower()
    text = None
    if method == "POST":
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "the request body is not UTF-8") from None
        if media == "application/x-www-form-urlencoded":
            fields += urllib.parse.parse_qsl(decoded, keep_blank_values=True)
        elif media == "application/sparql-query":
            text = decoded
        elif media == "application/sparql-update":
            kind, text = "update", decoded
        else:
            raise Refused(415, f"unsupported Content-Type {media or '(none)'!r}: send application/"
                               "x-www-form-urlencoded, application/sparql-query or application/sparql-update")
    elif kind == "update":
        raise Refused(405, "an update is sent with POST")
    names = [k for k, _ in fields]
    if text is None:
        if "update" in names:
            kind = "update"
        key = "update" if kind == "update" else "query"
        values = [v for k, v in fields if k == key]
        if len(values) != 1:
            raise Refused(400, f"expected one {key!r} parameter, got {len(values)}"
                               + (" (send ?query=SPARQL)" if not values and kind == "query" else ""))
        text = values[0]
    params = [(k, v) for k, v in fields if k in _GRAPH_PARAMS[kind]]
    return Operation(kind, text, params)


def looks_like_update(text: str) -> bool:
    """Whether SPARQL text starts (after its PREFIX/BASE lines) with an update keyword."""
    stripped = _strip_comments_and_strings(text)
    return bool(_UPDATE_START.match(stripped, _PROLOGUE.match(stripped).end()))


def check(op: Operation, writable: bool, allow_service: bool) -> None:
    """Refused unless the operation may run here: updates need ``writable``, SERVICE (and LOAD)
    need ``allow_service``."""
    if op.kind == "query" and looks_like_update(op.text):
        if writable:
            raise Refused(400, "this is an update: send it to /update")
        op.kind = "update"
    if op.kind == "update" and not writable:
        raise Refused(403, READ_ONLY)
    try:
        _refuse_service(op.text, allow_service)
    except QueryError as exc:
        raise Refused(400, str(exc)) from None
    if op.kind == "update" and not allow_service and _LOAD.search(_strip_comments_and_strings(op.text)):
        raise Refused(400, "LOAD (outbound requests) is disabled; pass --allow-service to enable")


RESULTS_DEFAULT = ox.QueryResultsFormat.JSON
GRAPH_DEFAULT = ox.RdfFormat.N_TRIPLES


def negotiate(accept: str | None) -> tuple[ox.QueryResultsFormat | None, ox.RdfFormat | None]:
    """The client's preferred SPARQL results format and RDF format (for CONSTRUCT/DESCRIBE)
    from its Accept header: highest q first, then first listed; a wildcard (or no header)
    gets JSON and N-Triples. None where nothing acceptable is supported."""
    ranges = []
    for i, part in enumerate((accept or "*/*").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranges.append((-q, i, media.lower()))
    results = graph = None
    for _, _, media in sorted(ranges):
        if media.endswith("/*"):
            results, graph = results or RESULTS_DEFAULT, graph or GRAPH_DEFAULT
        results = results or ox.QueryResultsFormat.from_media_type(media)
        graph = graph or ox.RdfFormat.from_media_type(media)
    return results, graph


class Proxy:
    """What each request goes through: parse, refuse, forward to Oxigraph within the timeout,
    cut to the limit, serialise for the client."""

    def __init__(self, upstream: Upstream, timeout: float = DEFAULT_TIMEOUT, limit: int = DEFAULT_LIMIT,
                 writable: bool = False, allow_service: bool = False,
                 say: Callable[[str], None] = print):
        self.upstream, self.timeout, self.limit = upstream, timeout, limit
        self.writable, self.allow_service, self.say = writable, allow_service, say

    def handle(self, method: str, path: str, headers, body: bytes) -> Reply:
        url_path = urllib.parse.urlsplit(path).path
        if method == "GET" and url_path in UI_PATHS:
            return self._forward_page(url_path)
        if url_path not in (*QUERY_PATHS, "/update"):
            return Reply.text(404, f"no such endpoint {url_path}: queries go to /query, updates to /update")
        if url_path == "/update" and not self.writable:
            return Reply.text(403, READ_ONLY)
        if method not in ("GET", "POST"):
            return Reply.text(405, f"{method} is not a SPARQL protocol method (GET or POST)")
        try:
            op = parse_operation(method, path, headers.get("Content-Type"), body)
            check(op, self.writable, self.allow_service)
        except Refused as exc:
            return Reply.text(exc.status, str(exc))
        if op.kind == "update":
            return self._run(op, None, None)
        results, graph = negotiate(headers.get("Accept"))
        if results is None and graph is None:
            return Reply.text(406, f"the Accept header ({headers.get('Accept')}) names no format this "
                                   "endpoint writes (e.g. application/sparql-results+json, text/turtle)")
        return self._run(op, results, graph)

    # -- forwarding ----------------------------------------------------------------------------------
    def _run(self, op: Operation, results, graph) -> Reply:
        deadline = time.monotonic() + self.timeout if self.timeout and self.timeout > 0 else None
        for attempt in (1, 2):
            generation, port = self.upstream.current()
            if port is None:
                return Reply.text(503, self.upstream.error or "the oxigraph server is not running")
            try:
                return self._exchange(op, port, deadline, results, graph)
            except _Timeout:
                self.say(f"a query ran past the {self.timeout:g} s timeout: restarting the oxigraph server")
                try:
                    self.upstream.restart(generation)
                except ServeError as exc:
                    self.say(str(exc))
                return Reply.text(504, f"the query was stopped after the {self.timeout:g} s timeout "
                                       "(kg serve --timeout)", note="timeout")
            except ConnectionRefusedError:
                if attempt == 1 and self.upstream.current()[0] != generation:
                    continue  # nothing was sent: the server was being restarted, try the new one
                return self._broken(generation)
            except (OSError, http.client.HTTPException):
                return self._broken(generation)
        raise AssertionError("unreachable")

    def _broken(self, generation: int) -> Reply:
        """The connection to Oxigraph broke: restarted under us, or it died."""
        if self.upstream.current()[0] != generation:
            return Reply.text(503, "the query was stopped: the oxigraph server was restarted "
                                   "(another query ran past the timeout); try again")
        code = self.upstream.exit_code()
        if code is None:
            return Reply.text(502, "the oxigraph server broke the connection")
        self.say(f"the oxigraph server stopped (exit code {code}): restarting it")
        try:
            self.upstream.restart(generation)
        except ServeError as exc:
            return Reply.text(503, str(exc))
        return Reply.text(502, f"the oxigraph server stopped (exit code {code}) and was restarted; try again")

    def _exchange(self, op: Operation, port: int, deadline: float | None, results, graph) -> Reply:
        def arm():  # the socket waits no longer than the time left
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Timeout
                sock.settimeout(left)

        conn = http.client.HTTPConnection("127.0.0.1", port,
                                          timeout=None if deadline is None else max(deadline - time.monotonic(), 0.01))
        try:
            try:
                conn.connect()
                sock = conn.sock
                body = urllib.parse.urlencode([(op.kind, op.text), *op.params]).encode("utf-8")
                conn.request("POST", "/" + op.kind, body=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Accept": UPSTREAM_ACCEPT})
                arm()
                resp = conn.getresponse()
                ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
                if resp.status != 200 or op.kind == "update":
                    arm()
                    return self._passed_on(op, resp.status, resp.read(64 * 1024), resp.getheader("Content-Type"))
                keep = self.limit + (1 if ctype == "text/tab-separated-values" else 0) if self.limit else None
                lines: list[bytes] = []
                while keep is None or len(lines) <= keep:
                    arm()
                    line = resp.readline()
                    if not line:
                        break
                    lines.append(line)
            except TimeoutError:
                raise _Timeout from None
        finally:
            conn.close()  # mid-stream (the limit was reached): Oxigraph stops at its next write
        truncated = keep is not None and len(lines) > keep
        data = b"".join(lines[:keep])
        try:
            return self._convert(ctype, data, results, graph, truncated)
        except (SyntaxError, ValueError) as exc:  # Oxigraph writes an error into a stream it cannot finish
            return Reply.text(502, "the oxigraph server sent a broken answer: " + " ".join(str(exc).split()))

    def _passed_on(self, op: Operation, status: int, body: bytes, ctype: str | None) -> Reply:
        if 200 <= status < 300:  # an update's answer (Oxigraph: 204 No Content)
            return Reply(status, b"" if status == 204 else body, ctype or "text/plain", note=op.kind)
        text = body.decode("utf-8", "replace").strip()
        if status == 400 and re.match(r"error at \d+:\d+", text):
            text = syntax_message(SyntaxError(text), op.text)
        return Reply.text(status, text or f"HTTP {status}")

    def _convert(self, ctype: str, data: bytes, results, graph, truncated: bool) -> Reply:
        if ctype == "text/tab-separated-values":
            parsed = ox.parse_query_results(data, ox.QueryResultsFormat.TSV)
            boolean = isinstance(parsed, ox.QueryBoolean)
            rows = None if boolean else max(data.count(b"\n") - 1, 0)
            if results is None:
                return Reply.text(406, "the Accept header names no SPARQL results format "
                                       "(e.g. application/sparql-results+json, text/csv)")
            out, media = parsed.serialize(format=results) or b"", results.media_type
        elif ctype == "application/n-triples":
            rows = data.count(b"\n")
            if graph is None:
                return Reply.text(406, "a CONSTRUCT or DESCRIBE query returns RDF: the Accept header names "
                                       "no RDF format (e.g. text/turtle, application/n-triples)")
            out = ox.serialize(ox.parse(data, format=ox.RdfFormat.N_TRIPLES), format=graph) or b""
            media = graph.media_type
        else:
            return Reply.text(502, f"the oxigraph server answered {ctype or 'without a Content-Type'}")
        headers, note = {}, ("true/false" if rows is None else f"{rows} rows")
        if truncated:
            headers = {"X-KG-Truncated": "true", "X-KG-Limit": str(self.limit)}
            note = f"{rows} rows, cut at the limit (--limit {self.limit})"
        if media.startswith("text/") and "charset" not in media:
            media += "; charset=utf-8"
        return Reply(200, out, media, headers, note)

    def _forward_page(self, path: str) -> Reply:
        _, port = self.upstream.current()
        if port is None:
            return Reply.text(503, self.upstream.error or "the oxigraph server is not running")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
                return Reply(resp.status, resp.read(), resp.headers.get("Content-Type", "text/plain"))
        except urllib.error.HTTPError as exc:
            return Reply.text(exc.code, exc.reason or "")
        except OSError as exc:
            return Reply.text(502, f"the oxigraph server did not answer: {exc}")


# ---- the HTTP server --------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server_version = "kg-serve"
    server: "_HTTPServer"

    def _dispatch(self) -> None:
        started = time.monotonic()
        proxy = self.server.proxy
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            reply = Reply.text(413 if length > MAX_BODY else 400,
                               f"the request body must be 0 to {MAX_BODY} bytes (Content-Length)")
        else:
            body = self.rfile.read(length) if length else b""
            try:
                reply = proxy.handle(self.command, self.path, self.headers, body)
            except Exception as exc:  # one request never takes the endpoint down
                reply = Reply.text(500, f"internal error: {type(exc).__name__}: {exc}")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.status != 204:
                self.send_header("Content-Length", str(len(reply.body)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            pass  # the client went away
        path = urllib.parse.urlsplit(self.path).path
        proxy.say(f"{self.client_address[0]} {self.command} {path} {reply.status} "
                  f"{reply.note}{' ' if reply.note else ''}({time.monotonic() - started:.2f} s)")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format, *args):  # requests are logged by _dispatch, through `say`
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: Proxy


class Server:
    """A running endpoint (what :func:`start` returns): the proxy, serving in a background
    thread, and its Oxigraph child. ``close()`` (or :func:`stop`) stops both."""

    def __init__(self, httpd: _HTTPServer, upstream: Upstream, host: str):
        self.httpd, self.upstream = httpd, upstream
        self.endpoint = Endpoint(host, httpd.server_address[1])
        self.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="kg-serve", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def update_url(self) -> str:
        return self.endpoint.update_url

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.upstream.close()
        self.thread.join(5)


def start(store: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          timeout: float = DEFAULT_TIMEOUT, writable: bool = False, limit: int = DEFAULT_LIMIT,
          allow_service: bool = False, say: Callable[[str], None] = lambda line: None,
          ready_within: float = 15.0) -> Server:
    """Start the endpoint (port 0: any free port, see ``Server.endpoint``) and return once it
    answers; ServeError says why it cannot."""
    path = store_path(store)
    if not 0 <= port < 65536:
        raise ServeError(f"port {port} is not a TCP port")
    if limit < 0:
        raise ServeError("the result limit is a number of rows, 0 for none")

    class HTTPServer(_HTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        httpd = HTTPServer((host, port), _Handler)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    upstream = Upstream(path, writable, ready_within)
    try:
        upstream.start()
    except BaseException:
        httpd.server_close()
        raise
    httpd.proxy = Proxy(upstream, timeout, limit, writable, allow_service, say)
    return Server(httpd, upstream, host)


def serve(store: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          timeout: float = DEFAULT_TIMEOUT, writable: bool = False, limit: int = DEFAULT_LIMIT,
          allow_service: bool = False, say: Callable[[str], None] = print,
          stop_event: threading.Event | None = None) -> None:
    """Run the endpoint in the foreground until interrupted (Ctrl-C, SIGTERM) or ``stop_event``
    is set; each request is logged through ``say``."""
    def _terminate(signum, frame):  # SIGTERM stops the server too, never leaves Oxigraph orphaned
        raise KeyboardInterrupt

    stop_event = stop_event or threading.Event()
    server = start(store, host, port, timeout, writable, limit, allow_service, say)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    say(f"SPARQL endpoint at {server.url} ({'read-write' if writable else 'read-only'}, "
        f"timeout {f'{timeout:g} s' if timeout else 'none'}, limit {f'{limit} rows' if limit else 'none'}, "
        f"SERVICE {'allowed' if allow_service else 'refused'}); Ctrl-C stops it")
    try:
        while not stop_event.wait(0.5):
            if server.upstream.error:
                raise ServeError(server.upstream.error)
    except KeyboardInterrupt:
        say("stopped")
    finally:
        server.close()
        if main:
            signal.signal(signal.SIGTERM, previous)
