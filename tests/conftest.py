"""Shared fixtures: one spaCy pipeline and one store built from the seeds per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_EVAL = ROOT.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def nlp():
    from kg.nlp import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def gaz():
    from kg.gazetteer import load_gazetteer

    return load_gazetteer()


@pytest.fixture(scope="session")
def seed_store_path(tmp_path_factory):
    """The seeds built once into a store directory (closed after the build)."""
    from kg.pipeline import build

    path = tmp_path_factory.mktemp("seed-store") / "store"
    report = build([SEEDS], path)
    assert report.ok, report.failures
    return path


@pytest.fixture(scope="session")
def seed_store(seed_store_path):
    """The seed store opened read-only: tests cannot change it."""
    from kg.store import KGStore

    store = KGStore(seed_store_path, read_only=True)
    yield store
    store.close()


@pytest.fixture
def extract(nlp, gaz):
    """Facts from one text, as (predicate, subject, object-or-claim) tuples plus the facts."""
    from kg.extract import extract_facts
    from kg.model import Article

    def run(text: str, date: str | None = "2023-11-08"):
        article = Article(id="t", text=text, date=date)
        facts, _ = extract_facts(article, nlp(text), gaz)
        return facts

    return run


@pytest.fixture
def canary():
    """A local HTTP server that records every request it gets (it answers as a SPARQL
    endpoint): the tests that refuse SERVICE and LOAD check that it saw nothing."""
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()
