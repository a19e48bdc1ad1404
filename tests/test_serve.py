"""kg serve: the SPARQL 1.1 Protocol endpoint (Oxigraph's server behind kg/serve.py's proxy).

Every server here listens on 127.0.0.1, and every wait is bounded (the machine running the
tests may be busy: the bounds are generous).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg import query as q
from kg import serve as sv
from kg.cli import app

runner = CliRunner()
LIMIT = 100  # the shared endpoint's result limit: above the named queries' rows, below the store's triples
#: a cross product that Oxigraph computes without sending anything (a COUNT): only a restart stops it
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
#: a cross product that Oxigraph streams: the limit cuts it
CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _prologue() -> str:
    from kg.vocab import PREFIXES

    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def _cli(store, *args) -> bytes:
    result = runner.invoke(app, ["query", *args, "--store", str(store)])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def call(url: str, query: str | None = None, *, accept: str | None = None, data: bytes | None = None,
         ctype: str | None = None, method: str | None = None, params: dict | None = None):
    """(status, headers, body) of one HTTP request; errors are answers too."""
    fields = dict(params or {})
    if query is not None:
        fields["query"] = query
    if fields:
        url += "?" + urllib.parse.urlencode(fields, doseq=True)
    headers = {k: v for k, v in (("Accept", accept), ("Content-Type", ctype)) if v}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def server(seed_store_path):
    """One read-only endpoint for the tests that do not restart it."""
    said: list[str] = []
    srv = sv.start(seed_store_path, "127.0.0.1", 0, timeout=60, limit=LIMIT, say=said.append)
    srv.said = said
    yield srv
    sv.stop(srv)




# ---- same answers as kg query ------------------------------------------------------------------------
def test_serve_answers_sparqlwrapper_like_kg_query(server, seed_store_path):
    SPARQLWrapper = pytest.importorskip("SPARQLWrapper")
    text = q.get_named("visits-timeline").text
    sw = SPARQLWrapper.SPARQLWrapper(server.url)
    sw.setQuery(_prologue() + text)
    sw.setReturnFormat(SPARQLWrapper.JSON)
    served = sw.queryAndConvert()
    local = json.loads(_cli(seed_store_path, "--name", "visits-timeline", "--format", "json"))
    assert served["head"]["vars"] == local["head"]["vars"]
    assert served["results"]["bindings"] == local["results"]["bindings"]
    assert len(served["results"]["bindings"]) > 5


@pytest.mark.parametrize("fmt, accept", [("json", "application/sparql-results+json"),
                                         ("xml", "application/sparql-results+xml"),
                                         ("csv", "text/csv"), ("tsv", "text/tab-separated-values")])
def test_serve_result_formats_are_kg_query_s_bytes(fmt, accept, server, seed_store_path):
    text = q.get_named("visits-timeline").text
    status, headers, body = call(server.url, _prologue() + text, accept=accept)
    assert status == 200 and headers["Content-Type"].startswith(accept)
    assert body == _cli(seed_store_path, "--name", "visits-timeline", "--format", fmt)
    assert "X-KG-Truncated" not in headers


def test_serve_construct_as_turtle_and_ntriples(server, seed_store_path):
    construct = ("CONSTRUCT { ?p kzo:visited ?place } WHERE { ?p kzo:visited ?place }")
    local = set(_cli(seed_store_path, construct, "--format", "ntriples").decode().splitlines())
    assert len(local) > 5
    status, headers, body = call(server.url, _prologue() + construct, accept="application/n-triples")
    assert status == 200 and headers["Content-Type"].startswith("application/n-triples")
    assert set(body.decode().splitlines()) == local
    status, headers, body = call(server.url, _prologue() + construct, accept="text/turtle")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    turtle = ox.serialize(ox.parse(body, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES)
    assert set(turtle.decode().splitlines()) == local


def test_serve_ask_and_post_forms(server):
    ask = _prologue() + "ASK { ?s kzo:visited kzr:city_moscow }"
    assert json.loads(call(server.url, ask)[2]) == {"head": {}, "boolean": True}
    form = urllib.parse.urlencode({"query": ask}).encode()
    status, _, body = call(server.url, data=form, ctype="application/x-www-form-urlencoded")
    assert status == 200 and json.loads(body)["boolean"] is True
    status, _, body = call(server.url, data=ask.encode(), ctype="application/sparql-query",
                           accept="application/sparql-results+xml")
    assert status == 200 and b"<boolean>true</boolean>" in body


def test_serve_dataset_parameters_are_passed_on(server):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = json.loads(call(server.url, count)[2])["results"]["bindings"][0]["n"]["value"]
    entities = json.loads(call(server.url, count, params={
        "default-graph-uri": "https://w3id.org/kzru-kg/resource/entities"})[2])["results"]["bindings"][0]["n"]["value"]
    assert 0 < int(entities) < int(union)


# ---- refusals -------------------------------------------------------------------------------------------
def test_serve_refuses_updates(server):
    SPARQLWrapper = pytest.importorskip("SPARQLWrapper")
    sw = SPARQLWrapper.SPARQLWrapper(server.url, updateEndpoint=server.update_url)
    sw.setMethod(SPARQLWrapper.POST)
    sw.setQuery("INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }")
    with pytest.raises(Exception) as info:
        sw.query()
    assert "403" in str(info.value) or "read-only" in str(info.value)
    update = "PREFIX ex: <urn:x:>\n# a comment\nINSERT DATA { ex:a ex:b ex:c }"
    for request in [dict(data=update.encode(), ctype="application/sparql-update"),  # to /query
                    dict(data=urllib.parse.urlencode({"update": update}).encode(),
                         ctype="application/x-www-form-urlencoded"),
                    dict(query=update)]:
        status, _, body = call(server.url, **request)
        assert status == 403 and b"read-only" in body, request
    status, _, body = call(server.update_url, data=update.encode(), ctype="application/sparql-update")
    assert status == 403 and body.count(b"\n") == 1
    ask = SPARQLWrapper.SPARQLWrapper(server.url)
    ask.setQuery("ASK { <urn:x:a> <urn:x:b> <urn:x:c> }")
    ask.setReturnFormat(SPARQLWrapper.JSON)
    assert ask.queryAndConvert()["boolean"] is False


SERVICE_FORMS = [
    "SELECT * WHERE { SERVICE <{url}/a> { ?s ?p ?o } }",
    "select * where { service <{url}/b> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <{url}/c> { ?s ?p ?o } }",
    "SELECT * WHERE {?s ?p ?o}SERVICE<{url}/d>{?s ?p ?o}",
    '# a comment with """ in it\nSELECT * WHERE { SERVICE <{url}/e> { ?s ?p ?o } } # """',
    "SELECT * WHERE { ?s ?p \"it's # not a comment\" . SERVICE <{url}/f#'> { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(<{url}/g> AS ?svc) SERVICE ?svc { ?s ?p ?o } }",
]


def test_serve_refuses_service_and_the_canary_hears_nothing(server, canary):
    url, hits = canary
    for form in SERVICE_FORMS:
        status, _, body = call(server.url, form.replace("{url}", url))
        assert status == 400, form
        assert body == b"SERVICE (outbound requests) is disabled; pass --allow-service to enable\n"
        status, _, _ = call(server.url, data=form.replace("{url}", url).encode(), ctype="application/sparql-query")
        assert status == 400, form
    assert hits == []
    for harmless in ["ASK { ?s ?p \"public SERVICE\" }", "# SERVICE <http://example.org/>\nASK {}",
                     "ASK { <http://example.org/SERVICE> ?p ?o }", "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1"]:
        assert call(server.url, harmless)[0] == 200, harmless


def test_serve_allow_service_lets_it_through(seed_store_path, canary):
    url, hits = canary
    srv = sv.start(seed_store_path, "127.0.0.1", 0, timeout=60, allow_service=True)
    try:
        status, _, body = call(srv.url, f"SELECT * WHERE {{ SERVICE <{url}/allowed> {{ ?s ?p ?o }} }}")
    finally:
        sv.stop(srv)
    assert status == 200, body
    assert [h.split("?")[0] for h in hits] == ["/allowed"]


def test_serve_other_requests_get_a_clear_status(server):
    root = server.url[: -len("/query")]
    assert call(root + "/store")[0] == 404
    assert call(server.url)[0] == 400  # no query
    assert call(server.url, data=b"ASK {}", ctype="text/plain")[0] == 415
    status, _, body = call(server.url, "ASK {}", accept="image/png")
    assert status == 406 and body.count(b"\n") == 1
    status, _, body = call(server.url, "SELECT * WHERE { ?s ?p ?o }", accept="text/turtle")
    assert status == 406 and b"results format" in body


def test_serve_malformed_query_is_400_with_the_parser_s_message(server):
    status, headers, body = call(server.url, "SELECT ?x WHERE { ?x ?p }")
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    assert body.startswith(b"syntax error at line 1, column") and body.count(b"\n") == 1


# ---- the result limit ---------------------------------------------------------------------------------------
def test_serve_limit_cuts_a_big_select_and_says_so(server):
    status, headers, body = call(server.url, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200 and headers["X-KG-Truncated"] == "true" and headers["X-KG-Limit"] == str(LIMIT)
    assert len(json.loads(body)["results"]["bindings"]) == LIMIT
    # the log line is written after the answer is sent: give the server's thread a moment
    deadline = time.monotonic() + 10
    while not any(f"cut at the limit (--limit {LIMIT})" in line for line in server.said):
        assert time.monotonic() < deadline, server.said
        time.sleep(0.05)
    status, headers, body = call(server.url, "SELECT * WHERE { ?s ?p ?o }", accept="text/csv")
    assert headers["X-KG-Truncated"] == "true" and body.count(b"\r\n") == LIMIT + 1
    # a streamed cross product (billions of rows) is cut just the same, at once
    started = time.monotonic()
    status, headers, body = call(server.url, CROSS, accept="text/tab-separated-values")
    assert status == 200 and headers["X-KG-Truncated"] == "true"
    assert body.count(b"\n") == LIMIT + 1 and time.monotonic() - started < 30
    # a result at the limit exactly is whole
    status, headers, body = call(server.url, f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {LIMIT}")
    assert "X-KG-Truncated" not in headers and len(json.loads(body)["results"]["bindings"]) == LIMIT


def test_serve_limit_cuts_a_construct(server):
    status, headers, body = call(server.url, "CONSTRUCT WHERE { ?s ?p ?o }", accept="application/n-triples")
    assert status == 200 and headers["X-KG-Truncated"] == "true"
    assert len(list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))) == LIMIT


# ---- the timeout --------------------------------------------------------------------------------------------
def test_serve_timeout_stops_a_runaway_query_and_serves_on(seed_store_path):
    said: list[str] = []
    srv = sv.start(seed_store_path, "127.0.0.1", 0, timeout=1.5, say=said.append)
    try:
        first = srv.upstream.proc.pid
        started = time.monotonic()
        status, _, body = call(srv.url, RUNAWAY)
        assert status == 504 and b"1.5 s timeout" in body
        assert time.monotonic() - started < 30
        assert any("restarting" in line for line in said)
        status, _, body = call(srv.url, "ASK { ?s ?p ?o }")  # the next query is answered
        assert status == 200 and json.loads(body)["boolean"] is True
        assert srv.upstream.proc.pid != first and srv.upstream.generation == 1
        with pytest.raises(ProcessLookupError):  # the runaway's process is gone
            os.kill(first, 0)
    finally:
        sv.stop(srv)


def test_serve_timeout_concurrent_runaways_restart_once(seed_store_path):
    srv = sv.start(seed_store_path, "127.0.0.1", 0, timeout=2)
    answers: list[int] = []
    together = threading.Barrier(3)

    def runaway():
        together.wait(30)
        answers.append(call(srv.url, RUNAWAY)[0])

    try:
        threads = [threading.Thread(target=runaway) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(answers) in ([503, 503, 504], [503, 504, 504], [504, 504, 504])
        assert 504 in answers and srv.upstream.generation == 1  # one restart for the three
        assert call(srv.url, "ASK {}")[0] == 200
    finally:
        sv.stop(srv)


# ---- read-write -------------------------------------------------------------------------------------------
def test_serve_writable_accepts_updates_but_not_load(seed_store_path, tmp_path, canary):
    url, hits = canary
    store = tmp_path / "store"
    shutil.copytree(seed_store_path, store)
    srv = sv.start(store, "127.0.0.1", 0, timeout=60, writable=True)
    try:
        status, _, _ = call(srv.update_url, data=b"INSERT DATA { GRAPH <urn:x:g> { <urn:x:a> <urn:x:b> <urn:x:c> } }",
                            ctype="application/sparql-update")
        assert status == 204
        assert json.loads(call(srv.url, "ASK { <urn:x:a> <urn:x:b> <urn:x:c> }")[2])["boolean"] is True
        status, _, body = call(srv.update_url, data=f"LOAD <{url}/load>".encode(), ctype="application/sparql-update")
        assert status == 400 and b"LOAD" in body
        status, _, body = call(srv.update_url, data=urllib.parse.urlencode(
            {"update": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}/svc> {{ ?s ?p ?o }} }}"}).encode(),
            ctype="application/x-www-form-urlencoded")
        assert status == 400 and b"SERVICE" in body
        assert call(srv.url, "DELETE DATA { <urn:x:a> <urn:x:b> <urn:x:c> }")[0] == 400  # updates go to /update
    finally:
        sv.stop(srv)
    assert hits == []


# ---- the command ----------------------------------------------------------------------------------------
def test_serve_missing_store_is_one_line(tmp_path):
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no store here" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_serve_port_in_use_is_one_line(seed_store_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--store", str(seed_store_path)])
    assert result.exit_code == 1 and "cannot listen on 127.0.0.1" in result.output


def _children_serving(store: Path) -> list[int]:
    """Pids of oxigraph processes serving ``store`` (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(c.endswith(b"oxigraph") for c in cmd[:1]) and str(store).encode() in cmd:
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_serve_command_logs_requests_and_stops_on_sigterm(seed_store_path, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(seed_store_path, store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", "--port", str(port), "--limit", "3",
                                 "--store", str(store)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while b"SPARQL endpoint at" not in log.read_bytes():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "kg serve did not start"
            time.sleep(0.2)
        assert b"read-only, timeout 30 s, limit 3 rows, SERVICE refused" in log.read_bytes()
        status, headers, _ = call(f"http://127.0.0.1:{port}/query", "SELECT * WHERE { ?s ?p ?o }")
        assert status == 200 and headers["X-KG-Truncated"] == "true"
        assert _children_serving(store)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    text = log.read_text()
    assert "GET /query 200 3 rows, cut at the limit (--limit 3)" in text and "stopped" in text
    assert _children_serving(store) == []  # Oxigraph stopped with it
