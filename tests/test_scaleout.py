"""Scale-out: `kg build --workers N`, the dask engine, a remote SPARQL store, and their failures.

Every server here listens on 127.0.0.1 only; every wait is bounded.
"""
from __future__ import annotations

import functools
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.engines import ProcessEngine, process_article
from kg.model import Article
from kg.rdf import article_iri
from kg.store import KGStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
#: three of the smaller seed articles: enough for every path, quick to process
SMALL = [SEEDS / f"{name}.txt" for name in
         ("000_90fc43503a82d13d", "001_a574f8d1869c4b01", "004_430bc06525a7448f")]
SMALL_IDS = [p.stem for p in SMALL]
runner = CliRunner()


def quads_of(store) -> set:
    return set(store.ox)


@pytest.fixture(scope="module")
def small_local(tmp_path_factory):
    """The three small seed articles built locally (one process): all quads, and each article's graph."""
    from kg.pipeline import build

    path = tmp_path_factory.mktemp("small-local") / "store"
    report = build(SMALL, path)
    assert report.ok, report.failures
    with KGStore(path, read_only=True) as store:
        graphs = {i: set(store.graph_quads(article_iri(i))) for i in SMALL_IDS}
        return {"path": path, "quads": quads_of(store), "graphs": graphs}


def in_process(articles: list[Article]) -> dict[str, set]:
    """Each article's quads, processed in this process (what `--workers 1` writes)."""
    from kg.pipeline import process

    return {r.article.id: set(r.quads) for r in process(articles)}


def seed_articles(paths=SMALL) -> list[Article]:
    from kg.pipeline import read_articles, reread

    failures: list[str] = []
    articles = list(reread(list(read_articles(paths, failures)), failures))
    assert not failures
    return articles


# ---- a task that misbehaves on purpose (run in worker processes) ----------------------------------
def faulty_task(article: Article, marker_dir: str) -> tuple[str, str]:
    """process_article, except: ids starting 'once-' kill their worker the first time,
    'poison-' kill it every time, 'broken-' raise."""
    if article.id.startswith("once-"):
        marker = Path(marker_dir) / article.id
        if not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    if article.id.startswith("poison-"):
        os.kill(os.getpid(), signal.SIGKILL)
    if article.id.startswith("broken-"):
        raise ValueError("this article cannot be parsed")
    return process_article(article)


# ---- --workers N --------------------------------------------------------------------------------
def test_scaleout_workers_build_the_same_quads_as_one_worker(seed_store, tmp_path):
    store = tmp_path / "w2"
    result = runner.invoke(app, ["build", str(SEEDS), "--store", str(store), "--workers", "2"])
    assert result.exit_code == 0, result.output
    with KGStore(store, read_only=True) as built:
        assert quads_of(built) == quads_of(seed_store)


def test_scaleout_workers_rerun_a_killed_workers_article_and_report_a_poison_one(tmp_path):
    text = seed_articles(SMALL[:1])[0]
    articles = [Article(id=f"{kind}-{text.id}", text=text.text, title=text.title, date=text.date,
                        sha256=text.sha256) for kind in ("once", "poison", "broken", "fine")]
    engine = ProcessEngine(2, retries=1, task=functools.partial(faulty_task, marker_dir=str(tmp_path)))
    outcomes = list(engine.run(articles))
    assert [o.article.id for o in outcomes] == [a.id for a in articles]  # input order
    once, poison, broken, fine = outcomes
    assert (tmp_path / once.article.id).exists()  # its worker really was killed once
    assert engine.restarts >= 2
    expected = in_process([articles[0], articles[3]])
    assert once.ok and set(once.quads) == expected[once.article.id]
    assert fine.ok and set(fine.quads) == expected[fine.article.id]
    assert not poison.ok and "died 2 times" in poison.error
    assert not broken.ok and "ValueError: this article cannot be parsed" in broken.error


def test_scaleout_workers_option_is_checked():
    result = runner.invoke(app, ["build", str(SMALL[0]), "--workers", "0", "--store", "unused"])
    assert result.exit_code != 0
    result = runner.invoke(app, ["build", str(SMALL[0]), "--engine", "dask", "--store", "unused"])
    assert result.exit_code == 1 and "--scheduler" in result.output


# ---- dask ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import logging

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       silence_logs=logging.ERROR)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_scaleout_dask_build_the_same_quads_as_a_local_build(dask_client, small_local, tmp_path):
    store = tmp_path / "dask"
    address = dask_client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    result = runner.invoke(app, ["build", *map(str, SMALL), "--store", str(store),
                                 "--engine", "dask", "--scheduler", address])
    assert result.exit_code == 0, result.output
    with KGStore(store, read_only=True) as built:
        assert quads_of(built) == small_local["quads"]


def test_scaleout_dask_reschedules_the_article_of_a_killed_worker(dask_client, tmp_path):
    import cloudpickle

    from kg.daskengine import DaskEngine

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import tests/
    try:
        base = seed_articles(SMALL[:1])[0]
        articles = [Article(id=f"once-{base.id}", text=base.text, title=base.title, date=base.date,
                            sha256=base.sha256), base]
        engine = DaskEngine(dask_client, task=functools.partial(faulty_task, marker_dir=str(tmp_path)))
        outcomes = list(engine.run(articles))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert (tmp_path / articles[0].id).exists()  # a worker really died under it
    expected = in_process(articles)
    assert [o.error for o in outcomes] == [None, None]
    assert {o.article.id: set(o.quads) for o in outcomes} == expected


# ---- a remote store: Oxigraph's server, and a proxy in front of it that fails on purpose ----------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Oxigraph:
    """`oxigraph serve --location DIR --bind 127.0.0.1:PORT`, started and stopped by the test."""

    def __init__(self, location: Path):
        self.location = location
        self.proc = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/store"

    def start(self) -> "Oxigraph":
        from kg.serve import Endpoint, oxigraph_binary, wait_ready

        self.port = free_port()
        self.proc = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(self.location),
                                      "--bind", f"127.0.0.1:{self.port}"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_ready(Endpoint("127.0.0.1", self.port), self.proc, within=30)  # polls, bounded
        return self

    def stop(self) -> None:
        from kg.serve import stop

        if self.proc is not None:
            stop(self.proc)
            self.proc = None


@pytest.fixture
def oxigraph(tmp_path):
    servers = []

    def start(location: Path | None = None) -> Oxigraph:
        servers.append(Oxigraph(location or tmp_path / "oxigraph").start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


class FlakyProxy(ThreadingHTTPServer):
    """Relays requests to the endpoint, except the PUTs that ``policy(n)`` (n = 1, 2, ... per PUT)
    says to fail: 'drop' closes the connection unanswered, an int answers with that status."""

    daemon_threads = True

    def __init__(self, upstream_port: int, policy):
        super().__init__(("127.0.0.1", 0), _Relay)
        self.upstream_port = upstream_port
        self.policy = policy
        self.puts = 0
        self.failed: list[object] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/store"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=10)


class _Relay(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server: FlakyProxy = self.server
        action = None
        if self.command == "PUT":
            with server.lock:
                server.puts += 1
                action = server.policy(server.puts)
                if action is not None:
                    server.failed.append(action)
        if action == "drop":
            self.close_connection = True
            return
        if isinstance(action, int):
            self.send_response(action)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        conn = http.client.HTTPConnection("127.0.0.1", server.upstream_port, timeout=60)
        try:
            headers = {k: self.headers[k] for k in ("Content-Type", "Accept") if self.headers[k]}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        self.send_response(resp.status)
        if resp.getheader("Content-Type"):
            self.send_header("Content-Type", resp.getheader("Content-Type"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _relay


def remote(url: str, **options):
    from kg.remote import RemoteStore

    return RemoteStore(url, **options)


@pytest.mark.parametrize("given, query, update, store", [
    ("http://127.0.0.1:7878/store", "http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update",
     "http://127.0.0.1:7878/store"),
    ("http://127.0.0.1:7878", "http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update",
     "http://127.0.0.1:7878/store"),
    ("http://127.0.0.1:7878/query", "http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update",
     "http://127.0.0.1:7878/store"),
    ("http://127.0.0.1:3030/kg/data", "http://127.0.0.1:3030/kg/query", "http://127.0.0.1:3030/kg/update",
     "http://127.0.0.1:3030/kg/data"),
])
def test_scaleout_remote_endpoint_urls(given, query, update, store):
    from kg.remote import Endpoints

    assert Endpoints.from_url(given) == Endpoints(query=query, update=update, store=store)


def test_scaleout_remote_store_builds_queries_exports_and_reruns_idempotently(small_local, oxigraph, tmp_path):
    server = oxigraph()
    url = server.url
    result = runner.invoke(app, ["build", *map(str, SMALL), "--store", url])
    assert result.exit_code == 0, result.output
    store = remote(url)
    assert quads_of(store) == small_local["quads"]

    # queries: the same answers as over the local store, prefixes and entity parameters included
    sparql = "SELECT ?place WHERE { kzr:person_kassym-jomart-tokayev kzo:visited ?place }"
    answers = [runner.invoke(app, ["query", sparql, "--store", where, "--format", "csv"])
               for where in (url, str(small_local["path"]))]
    assert answers[0].exit_code == 0, answers[0].output
    assert "city_moscow" in answers[0].stdout and answers[0].stdout == answers[1].stdout
    named = [runner.invoke(app, ["query", "--name", "visits-timeline", "--param", "visitor=Tokayev",
                                 "--store", where, "--format", "json"])
             for where in (url, str(small_local["path"]))]
    assert named[0].exit_code == 0, named[0].output
    assert named[0].stdout == named[1].stdout and '"Kassym-Jomart Tokayev"' in named[0].stdout
    bad = runner.invoke(app, ["query", "SELECT ?x WHERE { ?x ", "--store", url])
    assert bad.exit_code == 1 and "syntax error" in bad.output

    # exports read the endpoint
    for fmt in ("nquads", "facts"):
        out_remote, out_local = tmp_path / f"remote.{fmt}", tmp_path / f"local.{fmt}"
        assert runner.invoke(app, ["export", "-f", fmt, "-o", str(out_remote), "--store", url]).exit_code == 0
        assert runner.invoke(app, ["export", "-f", fmt, "-o", str(out_local),
                                   "--store", str(small_local["path"])]).exit_code == 0
        if fmt == "nquads":
            assert set(ox.parse(path=str(out_remote), format=ox.RdfFormat.N_QUADS)) == small_local["quads"]
        else:
            assert out_remote.read_text() == out_local.read_text()

    # re-runs: unchanged articles are skipped; forced, every graph is PUT again and nothing else changes
    again = runner.invoke(app, ["build", *map(str, SMALL), "--store", url])
    assert again.exit_code == 0, again.output
    assert "articles unchanged" in again.output and " 3 " in again.output.split("articles unchanged")[1][:40]
    forced = runner.invoke(app, ["build", *map(str, SMALL), "--store", url, "--force"])
    assert forced.exit_code == 0, forced.output
    assert quads_of(remote(url)) == small_local["quads"]


def test_scaleout_remote_store_retries_a_put_that_failed(small_local, oxigraph):
    from kg.pipeline import build

    server = oxigraph()
    # the first PUT is dropped unanswered, the second answered 503; all later ones go through
    policy = {1: "drop", 2: 503}.get
    with FlakyProxy(server.port, policy) as proxy:
        report = build(SMALL, remote(proxy.url, backoff=0.05))
    assert report.ok, report.failures
    assert proxy.failed == ["drop", 503]
    assert quads_of(remote(server.url)) == small_local["quads"]


def test_scaleout_remote_endpoint_down_for_good_lists_failures_and_keeps_earlier_graphs(small_local, oxigraph, tmp_path):
    from kg.pipeline import build

    location = tmp_path / "down"
    server = oxigraph(location)
    written = []

    def progress(done, total, article_id):
        written.append(article_id)
        if done == 1:
            server.stop()  # the endpoint goes away after the first article is written

    report = build(SMALL, remote(server.url, retries=1, backoff=0.05), progress=progress)
    assert not report.ok
    first, *rest = SMALL_IDS
    assert written == SMALL_IDS  # every article went by; the first alone reached the store
    assert [i for i in SMALL_IDS if any(i in line for line in report.failures)] == rest

    again = oxigraph(location)  # back up: what was written before the outage is whole
    store = remote(again.url)
    assert set(store.graph_quads(article_iri(first))) == small_local["graphs"][first]
    assert not any(store.ox.contains_named_graph(article_iri(i)) for i in rest)


def test_scaleout_remote_cli_exits_1_and_lists_the_articles_not_written(small_local, oxigraph):
    server = oxigraph()
    # the first PUT goes through; every later one is answered 503
    with FlakyProxy(server.port, lambda n: None if n == 1 else 503) as proxy:
        result = runner.invoke(app, ["build", *map(str, SMALL), "--store", proxy.url, "--retries", "1"])
    assert result.exit_code == 1, result.output
    first, *rest = SMALL_IDS
    assert all(i in result.output for i in rest)
    store = remote(server.url)
    assert set(store.graph_quads(article_iri(first))) == small_local["graphs"][first]


def test_scaleout_remote_store_unreachable_is_one_clear_line():
    url = f"http://127.0.0.1:{free_port()}/store"  # nothing listens there
    result = runner.invoke(app, ["query", "ASK {}", "--store", url])
    assert result.exit_code == 1 and url.rsplit("/", 1)[0] in result.output
