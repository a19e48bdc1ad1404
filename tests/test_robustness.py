"""Robustness and safety (issue #11): bad input, hostile text, crashes, queries that would reach
the network, and properties of names, IRIs and exports over arbitrary text.

Every bad input gets one line naming the file and the problem, the build goes on with the
other files (unless --strict), the exit code says whether anything failed, and the articles
stored before are still there, quad for quad.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kg.cli import app
from kg.model import Article, Entity, Evidence, Fact, Mention
from kg.names import fold, normalize, skeleton, slug
from kg.query import QueryError
from kg.rdf import DERIVED_GRAPHS, STATUS_GRAPH, BuildInfo, article_iri, article_quads, entity_iri, safe_id
from kg.store import KGStore, StoreError
from kg.viz import render_html
from kg.vocab import KZO_IRI, KZR_IRI

KZO_OUT_OF_DATE = ox.NamedNode(KZO_IRI + "outOfDate")

from conftest import SEEDS

runner = CliRunner()
KG = [sys.executable, "-m", "kg.cli"]
SMALL_ARTICLE = ("Kazakh President Kassym-Jomart Tokayev visited Moscow on November 28, 2022, "
                 "where he met Russian President Vladimir Putin.\n")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
HOSTILE = ["<script>alert('x')</script>", "</script><script>window.pwned=1</script>",
           "<img src=x onerror=alert(1)>", "a & b &amp; c", "\"double\" 'single' `back`",
           "back\\slash \\u0041 \\n", "line\nbreak\r\nand\ttab", "🇰🇿 🤝 🇷🇺 😀",
           "\u202eRTL override\u202c", "الرئيس قاسم جومارت توكاييف", "zero\u200bwidth\u200d\ufeff",
           "Тоқаев", "Қазақстан", "Ұлттық Қауіпсіздік", "}} ] ) . ; # <> {{", '"""', "'''",
           "x\" . <http://evil.example/> <http://evil.example/p> \"y"]


# ---- helpers ---------------------------------------------------------------------------------------
def graphs(path) -> dict[str, set]:
    """Every named graph of the store at ``path``, as sets of quads."""
    with KGStore(path, read_only=True) as store:
        return {g.value: set(store.graph_quads(g)) for g in store.graph_names()}


def article_graphs(gs: dict[str, set]) -> dict[str, set]:
    return {g: q for g, q in gs.items() if g.startswith(KZR_IRI + "article/")}


@pytest.fixture
def seeded(seed_store, tmp_path) -> Path:
    """A closed, writable store directory holding exactly the seed build (bulk-loaded)."""
    dump = tmp_path / "seed.nq"
    with dump.open("wb") as fh:
        seed_store.ox.dump(fh, ox.RdfFormat.N_QUADS)
    path = tmp_path / "store"
    with KGStore(path) as store:
        store.ox.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        store.flush()
    return path


def build_cli(*args):
    return runner.invoke(app, ["build", *map(str, args), "--no-validate"])


def lines_naming(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if name in line]


# ---- 1. bad input, end to end through `kg build` --------------------------------------------------
def _bad_inputs(d: Path) -> dict[str, tuple[list[Path], str, str]]:
    """name -> (paths given to `kg build`, the file the message names, the problem it states)."""
    d.mkdir(parents=True, exist_ok=True)

    def put(name: str, data: bytes) -> Path:
        (d / name).write_bytes(data)
        return d / name

    mixed = d / "mixed"
    mixed.mkdir()
    for name, data in (("logo.png", PNG), ("notes.md", b"# notes"), (".hidden.txt", PNG),
                       ("disguised.txt", PNG)):
        (mixed / name).write_bytes(data)
    empty_dir = d / "nothing-here"
    empty_dir.mkdir()
    (empty_dir / "photo.png").write_bytes(PNG)
    same_a = put("copy-a.txt", b"Putin visited Astana on November 9, 2023.\n")
    same_b = put("copy-b.txt", b"Putin visited Astana on November 9, 2023.\n")
    return {
        "empty": ([put("empty.txt", b"")], "empty.txt", "empty article"),
        "whitespace": ([put("blank.txt", b" \n\t\r\n  \n")], "blank.txt", "empty article"),
        "png given by name": ([put("image.png", PNG)], "image.png", "unsupported file type"),
        "png named .txt": ([put("image.txt", PNG)], "image.txt", "not a text file (binary content)"),
        "invalid utf-8": ([put("garbage.txt", bytes(random.Random(1).randrange(128, 256)
                                                    for _ in range(4000)))],
                          "garbage.txt", "not a text file"),
        "binary in html": ([put("page.html", PNG * 50)], "page.html", "not a text file"),
        "mixed folder": ([mixed], "disguised.txt", "not a text file (binary content)"),
        "folder without articles": ([empty_dir], "nothing-here", "no article files in this folder"),
        "missing path": ([d / "no-such-file.txt"], "no-such-file.txt", "no such file or directory"),
        "same article twice": ([same_a, same_b], "copy-b.txt", "same text as article copy-a; skipped"),
        "bad json line": ([put("feed.jsonl", b'{"id": "j1", "text": "Putin visited Astana."}\n{oops\n')],
                          "feed.jsonl:2", "bad JSON line"),
        "lone surrogate": ([put("esc.jsonl", b'{"id": "s1", "text": "Tokayev \\ud800 visited Moscow."}\n')],
                           "esc.jsonl:1", "bad JSON line (an escape of half a surrogate pair)"),
    }


BAD_CASES = ["empty", "whitespace", "png given by name", "png named .txt", "invalid utf-8",
             "binary in html", "mixed folder", "folder without articles", "missing path",
             "same article twice", "bad json line", "lone surrogate"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_robustness_bad_input_one_line_build_goes_on(case, seeded, tmp_path):
    paths, name, problem = _bad_inputs(tmp_path / "in")[case]
    good = tmp_path / "good" / "fresh_article.txt"
    good.parent.mkdir()
    good.write_text(SMALL_ARTICLE, encoding="utf-8")
    before = article_graphs(graphs(seeded))
    result = build_cli(*paths, good, "--store", seeded)
    assert result.exit_code == 1, result.output
    named = lines_naming(result.output, name)
    assert len(named) == 1 and problem in named[0], result.output  # one line: file and problem
    assert "Traceback" not in result.output
    assert not re.search(r"logo\.png|notes\.md|\.hidden|photo\.png", result.output)  # ignored quietly
    after = article_graphs(graphs(seeded))
    assert {g: after[g] for g in before} == before  # every article stored before, intact
    assert article_iri("fresh_article").value in after  # the good file was built
    for g in DERIVED_GRAPHS:
        assert g.value in graphs(seeded)


@pytest.mark.parametrize("case", ["png named .txt", "missing path", "same article twice"])
def test_robustness_strict_writes_nothing(case, seeded, tmp_path):
    paths, name, problem = _bad_inputs(tmp_path / "in")[case]
    good = tmp_path / "fresh_article.txt"
    good.write_text(SMALL_ARTICLE, encoding="utf-8")
    before = graphs(seeded)
    result = build_cli(*paths, good, "--store", seeded, "--strict")
    assert result.exit_code == 1
    assert problem in lines_naming(result.output, name)[0]
    assert graphs(seeded) == before


def test_robustness_lone_surrogate_names_the_jsonl_line(tmp_path):
    from kg.corpus import CorpusError, read_file

    feed = tmp_path / "esc.jsonl"
    feed.write_bytes(b'{"text": "fine"}\n{"id": "s1", "text": "Tokayev \\ud800 visited Moscow."}\n')
    with pytest.raises(CorpusError, match=re.escape(f"{feed}:2: bad JSON line")):
        read_file(feed)


def test_robustness_text_encodings_and_html_are_read(seeded, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    body = "\nKazakh President Kassym-Jomart Tokayev met Russian President Vladimir Putin in Moscow.\n"
    (d / "latin1.txt").write_bytes(("Café talks in Almaty" + body).encode("latin-1"))
    (d / "utf16.txt").write_bytes(("Тоқаев және Қазақстан" + body).encode("utf-16"))
    (d / "stray.txt").write_bytes(b"Talks \x93yesterday\x94 \xff" + body.encode())
    (d / "page.html").write_text(
        "<html><head><title>Tokayev in Moscow</title><style>p { color: red }</style>"
        "<script>window.pwned = 'script'</script></head><body><p>Kazakh President Kassym-Jomart "
        "Tokayev met Russian President Vladimir Putin in Moscow.</p>"
        "<script>alert('body')</script><noscript>enable JS</noscript></body></html>", encoding="utf-8")
    result = build_cli(d, "--store", seeded)
    assert result.exit_code == 0, result.output
    with KGStore(seeded, read_only=True) as store:
        headlines = {r["id"].value: r["h"].value for r in store.query(
            "SELECT ?id ?h WHERE { ?g schema:identifier ?id ; schema:headline ?h }")}
        texts = {r["t"].value for r in store.query(
            "SELECT ?t WHERE { { ?a kzo:evidenceText ?t } UNION { ?a kzo:anchorText ?t } }")}
    assert headlines["latin1"] == "Café talks in Almaty"
    assert headlines["utf16"] == "Тоқаев және Қазақстан"
    assert headlines["stray"] == "Talks “yesterday” ÿ"
    assert headlines["page"] == "Tokayev in Moscow"
    assert not re.search(r"pwned|alert|color: red|enable JS", "\n".join(texts))


def test_robustness_50mb_text_is_refused_at_once(seeded, tmp_path):
    big = tmp_path / "big.txt"
    line = b"Tokayev met Putin in Moscow to discuss trade and energy cooperation again.\n"
    with big.open("wb") as fh:
        fh.write(line * (50 * 1024 * 1024 // len(line)))
        fh.write(b"x" * (50 * 1024 * 1024 - fh.tell()))
    assert big.stat().st_size == 52_428_800
    before = graphs(seeded)
    result = build_cli(big, "--store", seeded)
    assert result.exit_code == 1
    (msg,) = lines_naming(result.output, "big.txt")
    assert "too long (52,428,800 bytes: more than 1,000,000 characters" in msg and "--max-chars" in msg
    assert graphs(seeded) == before


def _rounds(n: int) -> str:
    """n distinct lines of 50 characters (repeated lines would be cleaned away)."""
    return "".join(f"Tokayev met Putin in Moscow for talks, round {i:03d}.\n" for i in range(n))


def test_robustness_max_chars_both_sides(seeded, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "fits.txt").write_text(_rounds(40), encoding="utf-8")  # 1,999 characters of text
    (d / "long.txt").write_text(_rounds(41), encoding="utf-8")  # 2,049: one line too many
    (d / "huge.txt").write_text(_rounds(200), encoding="utf-8")  # 10,000 bytes > 4 x 2,000
    (d / "feed.jsonl").write_text(json.dumps({"id": "long-record", "text": _rounds(60)}) + "\n")
    result = build_cli(d, "--store", seeded, "--max-chars", "2000")
    assert result.exit_code == 1
    assert "long.txt: too long (2,049 characters > 2,000; raise --max-chars)" in result.output
    assert "huge.txt: too long (10,000 bytes: more than 2,000 characters in any encoding" in result.output
    assert "feed.jsonl: article long-record: too long (2,999 characters > 2,000" in result.output
    ids = KGStore(seeded, read_only=True).article_ids()
    assert "fits" in ids and not {"long", "huge", "long-record"} & set(ids)
    result = build_cli(d, "--store", seeded, "--max-chars", "20000")  # raised: all are built
    assert result.exit_code == 0, result.output
    assert {"long", "huge", "long-record"} <= set(KGStore(seeded, read_only=True).article_ids())


def test_robustness_renamed_copy_of_a_stored_article_is_skipped(seeded, tmp_path):
    copy = tmp_path / "renamed.txt"
    shutil.copy(SEEDS / "003_666e8444a82a88ab.txt", copy)
    before = graphs(seeded)
    result = build_cli(copy, "--store", seeded)
    assert result.exit_code == 1
    assert "same text as article 003_666e8444a82a88ab, already in the store" in \
        lines_naming(result.output, "renamed.txt")[0]
    assert graphs(seeded) == before


def test_robustness_ids_naming_one_graph_are_not_merged(seeded, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in [
        ("Tokayev visit", "Tokayev visited Moscow."), ("Tokayev/visit", "Putin visited Astana.")]))
    result = build_cli(feed, "--store", seeded)
    assert result.exit_code == 1
    assert "id 'Tokayev/visit' names the same graph as article 'Tokayev visit'" in result.output
    with KGStore(seeded, read_only=True) as store:
        assert store.article_sha("Tokayev visit") is not None
        assert "Tokayev visit" in store.article_ids() and "Tokayev/visit" not in store.article_ids()


def test_robustness_an_article_that_crashes_extraction_is_reported(seeded, tmp_path, monkeypatch):
    import kg.pipeline as pipeline

    real = pipeline.extract_facts

    def flaky(article, doc, gaz):
        if "boom" in article.id:
            raise RuntimeError("the parser met\nsomething odd")
        return real(article, doc, gaz)

    monkeypatch.setattr(pipeline, "extract_facts", flaky)
    (tmp_path / "boom.txt").write_text(SMALL_ARTICLE, encoding="utf-8")
    (tmp_path / "fine.txt").write_text(SMALL_ARTICLE.replace("Moscow", "Sochi"), encoding="utf-8")
    result = build_cli(tmp_path / "boom.txt", tmp_path / "fine.txt", "--store", seeded)
    assert result.exit_code == 1
    (line,) = lines_naming(result.output, "boom.txt")
    assert "extraction failed (RuntimeError: the parser met something odd)" in line
    assert "fine" in KGStore(seeded, read_only=True).article_ids()


# ---- 2. hostile text: IRIs, exports, the HTML view ---------------------------------------------
HOSTILE_RECORD = {
    "id": "<evil id> \"quoted\" & Тоқаев/../..",
    "title": "<b>Тоқаев</b> & \"Қазақстан\" 🇰🇿 \u202eRTL\u202c zero\u200bwidth",
    "outlet": "<script>alert('outlet')</script> & Co",
    "url": "javascript:alert(1)",
    "date": "2023-11-09",
    "text": ("<b>Тоқаев</b> & \"Қазақстан\" 🇰🇿 \u202eRTL\u202c zero\u200bwidth\n"
             "Kazakh President Kassym-Jomart Tokayev said: \"<script>alert('x')</script> & \\ back "
             "'quoted' 🇰🇿 Қазақстан \u202eRTL\u202c\"\n"
             "Тоқаев visited Moscow on November 28, 2022. \"Relations <b>&amp;</b> 'trust' 🤝 are "
             "strong,\" Tokayev said.\n"
             "Russian President Vladimir Putin said that \"Қазақстан & <Russia> share a border.\"\n"),
}


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    (d / "hostile.jsonl").write_text(json.dumps(HOSTILE_RECORD, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["build", str(d / "hostile.jsonl"), "--store", str(d / "store")])
    assert result.exit_code == 0, result.output
    assert "SHACL violations" in result.output and "violation:" not in result.output
    return d / "store"


def test_robustness_hostile_text_iris_are_valid(hostile_store):
    with KGStore(hostile_store, read_only=True) as store:
        quads = list(store.ox)
        (aid,) = store.article_ids()
        claims = {r["t"].value for r in store.query("SELECT ?t WHERE { ?c a kzo:Claim ; kzo:text ?t }")}
        labels = {r["l"].value for r in store.query("SELECT ?l WHERE { ?e skos:altLabel ?l }")}
    assert aid == HOSTILE_RECORD["id"]
    assert article_iri(aid).value == KZR_IRI + "article/evil-id-quoted-..-.."
    iris = {t.value for q in quads for t in (q.subject, q.predicate, q.object, q.graph_name)
            if isinstance(t, ox.NamedNode)}
    for iri in iris:
        assert re.fullmatch(r"[\x21-\x7e]+", iri) and not re.search(r'[<>"{}|\\^`]', iri), iri
    assert any("<script>alert('x')</script>" in c for c in claims)
    assert "Тоқаев" in labels


@pytest.mark.parametrize("fmt, kind", [("turtle", ox.RdfFormat.TURTLE), ("trig", ox.RdfFormat.TRIG),
                                       ("nquads", ox.RdfFormat.N_QUADS), ("jsonld", ox.RdfFormat.JSON_LD)])
def test_robustness_hostile_text_exports_parse_back(hostile_store, tmp_path, fmt, kind):
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["export", "--format", fmt, "-o", str(out), "--store", str(hostile_store)])
    assert result.exit_code == 0, result.output
    with KGStore(hostile_store, read_only=True) as store:
        quads = set(store.ox)
    parsed = set(ox.parse(path=str(out), format=kind))
    if fmt == "turtle":
        assert {q.triple for q in parsed} == {q.triple for q in quads}
    else:
        assert parsed == quads


def test_robustness_hostile_text_facts_export_and_view(hostile_store, tmp_path):
    out = tmp_path / "facts.jsonl"
    result = runner.invoke(app, ["export", "--format", "facts", "-o", str(out), "--store", str(hostile_store)])
    assert result.exit_code == 0, result.output
    facts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {f["article"] for f in facts} == {HOSTILE_RECORD["id"]}
    claims = {f["claim"] for f in facts if f["predicate"] == "said"}
    assert any("<script>alert('x')</script> & \\ back" in c for c in claims)
    text = read_text_of(HOSTILE_RECORD)
    for f in facts:
        assert text[f["start"]:f["end"]] == f["sentence"]
    html = tmp_path / "view.html"
    result = runner.invoke(app, ["viz", "-o", str(html), "--store", str(hostile_store)])
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8").lower()
    plain = render_html(nx.MultiDiGraph(), tmp_path / "plain.html").read_text(encoding="utf-8").lower()
    for tag in ("<script", "</script", "<img", "<svg", "<iframe", "onerror", "onload", "javascript:"):
        assert page.count(tag) == plain.count(tag), tag  # only the template's own
    page = html.read_text(encoding="utf-8")
    for raw in ("<script>alert", "<b>Тоқаев</b>", "<img", "</script><script>"):
        assert raw not in page


def read_text_of(record: dict) -> str:
    from kg.corpus import article_from_text

    return article_from_text(record["text"], id="x").text


# ---- 3. crashes: SIGKILL mid-build, an interrupted refresh, two builds at once ---------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The seeds and a changed copy of each: ten articles."""
    d = tmp_path_factory.mktemp("corpus")
    for f in sorted(SEEDS.glob("*.txt")):
        shutil.copy(f, d / f.name)
        (d / f"{f.stem}-v2.txt").write_text(f.read_text(encoding="utf-8") + "\nPutin visited Astana.\n",
                                            encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory) -> dict:
    """A clean `kg build` of the corpus in a subprocess: its graphs and how long it took."""
    path = tmp_path_factory.mktemp("clean") / "store"
    t0 = time.monotonic()
    proc = subprocess.run([*KG, "build", str(corpus), "--store", str(path), "--no-validate"],
                          capture_output=True, text=True, timeout=600)
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    return {"path": path, "graphs": graphs(path), "seconds": took}


def _derived_from(article_quads_: dict[str, set], where: Path) -> dict[str, set]:
    """The derived graphs a store holding exactly these article graphs should have."""
    from kg.pipeline import refresh_derived

    with KGStore(where) as store:
        store.ox.extend([q for qs in article_quads_.values() for q in qs])
        refresh_derived(store)
        return {g.value: set(store.graph_quads(g)) for g in DERIVED_GRAPHS}


def test_robustness_sigkill_mid_build_leaves_whole_articles(corpus, clean, tmp_path):
    """Kill `kg build` at random moments, again and again on one store (after the first run
    with --force, so graphs that exist are replaced): each time the store opens, every article graph
    in it is exactly the clean build's, the derived graphs are missing, flagged out of date in
    kzr:status, or agree with the articles present, and a last run completes to the clean store."""
    rng = random.Random(int(os.environ.get("KG_CRASH_SEED", 11)))
    store = tmp_path / "store"
    expected = clean["graphs"]
    seen = []
    for i in range(int(os.environ.get("KG_CRASH_RUNS", 4))):
        args = [*KG, "build", str(corpus), "--store", str(store), "--no-validate"] + (["--force"] if i else [])
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = rng.uniform(0.3, 1.0) * clean["seconds"]
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        if not (store / "CURRENT").exists():
            continue  # killed before the store was created
        now = graphs(store)
        arts = article_graphs(now)
        for g, qs in arts.items():
            assert qs == expected[g], f"run {i}: {g} differs from a clean build"
        derived = {g.value for g in DERIVED_GRAPHS} & now.keys()
        if derived and STATUS_GRAPH.value not in now:
            want = _derived_from(arts, tmp_path / f"check{i}")
            for g in derived:
                assert now[g] == want[g], f"run {i}: stale {g}"
        seen.append((proc.returncode, len(arts), len(derived), STATUS_GRAPH.value in now))
    print("kills (exit code, article graphs, derived graphs, flagged):", seen)
    proc = subprocess.run([*KG, "build", str(corpus), "--store", str(store), "--no-validate"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert graphs(store) == expected


REWRITER = """
import sys, pyoxigraph as ox
from kg.store import KGStore
g = ox.NamedNode("https://w3id.org/kzru-kg/resource/article/big")
with KGStore(sys.argv[1]) as store:
    for v in range(1, 10_000):
        store.replace_graph(g, [ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:version"),
                                        ox.Literal(f"{sys.argv[2]}.{v}"), g) for i in range(10_000)])
        print(v, flush=True)
"""


def test_robustness_sigkill_mid_update_keeps_graph_whole(tmp_path):
    """The claim under the build's atomicity, tested where it is weakest: a process that does
    nothing but replace one 10,000-quad graph (half a second each, almost all of it inside
    Oxigraph's update) is killed at random moments; the graph is always one whole version:
    the one before, the last one reported done, or the next."""
    rng = random.Random(3)
    store = tmp_path / "store"
    g = ox.NamedNode("https://w3id.org/kzru-kg/resource/article/big")
    before: set = set()
    for run in range(3):
        proc = subprocess.Popen([sys.executable, "-c", REWRITER, str(store), str(run)],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.8, 2.5))
        proc.send_signal(signal.SIGKILL)
        done = [int(x) for x in proc.communicate()[0].split()]
        with KGStore(store) as s:
            quads = list(s.ox.quads_for_pattern(None, None, None, g))
        versions = {q.object.value for q in quads}
        allowed = {f"{run}.{done[-1]}", f"{run}.{done[-1] + 1}"} if done else before | {f"{run}.1"}
        assert len(quads) == (10_000 if versions else 0) and len(versions) <= 1, (len(quads), versions)
        assert versions <= allowed and (versions or not before), (versions, allowed)
        before = versions


def test_robustness_interrupted_build_refreshes_derived_next_time(seeded, tmp_path, monkeypatch):
    import kg.pipeline as pipeline

    src = tmp_path / "seeds"
    shutil.copytree(SEEDS, src)
    changed = src / "003_666e8444a82a88ab.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nVladimir Putin visited Almaty on "
                       "5 May 2023.\n", encoding="utf-8")

    def stop(kg, changed=None):
        raise KeyboardInterrupt  # Ctrl-C (or a kill) between the articles and the refresh

    monkeypatch.setattr(pipeline, "refresh_derived", stop)
    with pytest.raises(KeyboardInterrupt):
        pipeline.build([src], seeded, validate=False)
    now = graphs(seeded)
    assert now[STATUS_GRAPH.value] == {ox.Quad(g, KZO_OUT_OF_DATE, ox.Literal(True), STATUS_GRAPH)
                                       for g in DERIVED_GRAPHS}  # flagged, not silently stale
    with KGStore(seeded) as store:
        assert not store.derived_up_to_date()
    monkeypatch.undo()
    report = pipeline.build([src], seeded, validate=False)
    assert (report.articles, report.skipped) == (0, 5)  # nothing to extract, yet ...
    fresh = tmp_path / "fresh"
    pipeline.build([src], fresh, validate=False)
    assert graphs(seeded) == graphs(fresh)  # ... the derived graphs are recomputed


def test_robustness_interrupted_remove_flags_labels_until_the_next_build(seeded, monkeypatch):
    import kg.pipeline as pipeline

    monkeypatch.setattr(pipeline, "refresh_derived",
                        lambda kg, changed=None: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        pipeline.remove(["004_430bc06525a7448f"], seeded)
    now = graphs(seeded)
    assert article_iri("004_430bc06525a7448f").value not in now
    assert STATUS_GRAPH.value in now  # the labels it gave are flagged out of date
    monkeypatch.undo()
    pipeline.build([SEEDS], seeded, validate=False)  # writes 004 again and recomputes
    with KGStore(seeded) as store:
        assert store.derived_up_to_date()


def test_robustness_two_builds_at_once(corpus, clean, tmp_path):
    store = tmp_path / "store"
    first = subprocess.Popen([*KG, "build", str(corpus), "--store", str(store), "--no-validate"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (store / "LOCK").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        second = subprocess.run([*KG, "build", str(corpus), "--store", str(store)],
                                capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first build ended before the second started"
    finally:
        _, err = first.communicate(timeout=600)
    assert second.returncode == 1
    (line,) = second.stderr.strip().splitlines()
    assert line == f"error: {store}: the store is in use by another process (another build?)"
    assert first.returncode == 0, err
    assert graphs(store) == clean["graphs"]  # never corrupted


def test_robustness_store_errors_are_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a store")
    result = build_cli(SEEDS / "000_90fc43503a82d13d.txt", "--store", blocker)
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith(f"error: {blocker}:")
    with pytest.raises(StoreError, match="in use by another process"):
        with KGStore(tmp_path / "s"):
            KGStore(tmp_path / "s")


# ---- 4. queries never reach the network unless asked ------------------------------------------------


SERVICE_FORMS = [
    "SELECT * WHERE { SERVICE <{url}/a> { ?s ?p ?o } }",
    "select * where { service <{url}/b> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <{url}/c> { ?s ?p ?o } }",
    "SELECT * WHERE {?s ?p ?o}SERVICE<{url}/d>{?s ?p ?o}",
    "SELECT * WHERE { ?s ?p '#' . SeRvIcE <{url}/e> { ?s ?p ?o } }",
    '# a comment with """ in it\nSELECT * WHERE { SERVICE <{url}/f> { ?s ?p ?o } } # """',
    "# it's\nSELECT * WHERE { SERVICE <{url}/g> { ?s ?p ?o } } # '",
    "SELECT * WHERE { ?s ?p \"it's # not a comment\" . SERVICE <{url}/h#'> { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(<{url}/i> AS ?svc) SERVICE ?svc { ?s ?p ?o } }",
]


@pytest.mark.parametrize("form", SERVICE_FORMS)
def test_robustness_service_refused_in_kg_query(form, canary, seed_store_path):
    url, hits = canary
    result = runner.invoke(app, ["query", form.replace("{url}", url), "--store", str(seed_store_path)])
    assert result.exit_code == 1
    assert "SERVICE (outbound requests) is disabled; pass --allow-service" in result.output
    assert hits == []


def test_robustness_service_text_that_is_not_the_keyword_runs(seed_store_path):
    for q in ["SELECT ?service WHERE { ?service a kzo:Person } LIMIT 1",
              "ASK { ?s ?p \"public SERVICE\" }", "# SERVICE <http://example.org/>\nASK {}",
              "ASK { <http://example.org/SERVICE> ?p ?o }"]:
        result = runner.invoke(app, ["query", q, "--store", str(seed_store_path)])
        assert result.exit_code == 0, (q, result.output)


def test_robustness_service_runs_only_when_allowed(canary, seed_store_path):
    url, hits = canary
    q = f"SELECT * WHERE {{ SERVICE <{url}/allowed> {{ ?s ?p ?o }} }}"
    result = runner.invoke(app, ["query", q, "--store", str(seed_store_path), "--allow-service"])
    assert result.exit_code == 0, result.output
    assert [h.split("?")[0] for h in hits] == ["/allowed"]  # the canary hears a SERVICE call


def test_robustness_library_and_rdflib_paths_do_not_fetch(canary, seed_store):
    url, hits = canary
    with pytest.raises(QueryError, match="SERVICE"):
        seed_store.query(f"SELECT * WHERE {{ SERVICE <{url}/lib> {{ ?s ?p ?o }} }}")
    ds = seed_store.dataset()
    with pytest.raises(QueryError, match="SERVICE"):
        ds.query(f"SELECT * WHERE {{ SERVICE <{url}/rdflib> {{ ?s ?p ?o }} }}")
    from rdflib.plugins.sparql import prepareQuery

    with pytest.raises(QueryError, match="only SPARQL text"):
        ds.query(prepareQuery(f"SELECT * WHERE {{ SERVICE <{url}/prepared> {{ ?s ?p ?o }} }}"))
    list(ds.query(f"ASK FROM <{url}/from> WHERE {{ ?s ?p ?o }}"))  # Oxigraph never fetches FROM
    assert len(list(ds.query("SELECT ?p WHERE { kzr:person_vladimir-putin kzo:visited ?p }"))) > 0
    assert hits == []


def test_robustness_rdflib_updates_do_not_fetch(canary, seeded):
    url, hits = canary
    with KGStore(seeded) as store:
        ds = store.dataset()
        for update in (f"LOAD <{url}/load.ttl>", f"load silent <{url}/load2.ttl> INTO GRAPH <urn:x>",
                       f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}/upd> {{ ?s ?p ?o }} }}"):
            with pytest.raises(QueryError, match="disabled"):
                ds.update(update)
        n = len(store)
        ds.update(f"INSERT {{ GRAPH <urn:copy> {{ ?s ?p ?o }} }} USING <{url}/using> WHERE {{ ?s ?p ?o }}")
        ds.update("INSERT DATA { GRAPH <urn:t> { <urn:a> <urn:b> \"c\" } }")
        assert len(store) == n + 1
    assert hits == []


def test_robustness_endpoint_refuses_service(canary, seed_store_path):
    from kg import serve as sv

    url, hits = canary
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = sv.start(seed_store_path, port=port)
    try:
        q = urllib.parse.quote(f"SELECT * WHERE {{ SERVICE <{url}/endpoint> {{ ?s ?p ?o }} }}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/query?query={q}", timeout=10).read()
        except OSError:
            pass
    finally:
        sv.stop(proc)
    assert hits == []


# ---- 5. properties over arbitrary text ---------------------------------------------------------
TEXT = st.one_of(st.text(max_size=60), st.sampled_from(HOSTILE),
                 st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=4).map("".join))
SETTINGS = settings(max_examples=int(__import__("os").environ.get("HYP_N", 50)), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLUG_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@SETTINGS
@given(TEXT)
def test_robustness_names_normalisation_properties(text):
    assert fold(text).isascii() and fold(fold(text)) == fold(text)
    n = normalize(text)
    assert n.isascii() and normalize(n) == n and re.fullmatch(r"([a-z0-9]+( [a-z0-9]+)*)?", n)
    s = slug(text)
    assert SLUG_RE.fullmatch(s) and len(s) <= 80 and slug(s) == s
    k = skeleton(text)  # a one-pass matching key: ASCII, the same for any spelling normalize merges
    assert k.isascii() and skeleton(n) == k and skeleton(fold(text).upper()) == k
    assert skeleton(text.replace("\u200b", "")) == k


@SETTINGS
@given(TEXT, st.sampled_from(["Person", "Country", "City", "Organization", "Other"]))
def test_robustness_iris_from_any_text(text, kind):
    sid = safe_id(text)
    assert re.fullmatch(r"[A-Za-z0-9._~-]+", sid) and sid.strip(".")
    ent = Entity(key=f"{kind.lower()}/{slug(text)}", name=text, type=kind)
    for node in (article_iri(text), entity_iri(ent), ox.NamedNode(f"{article_iri(text).value}#char=0,5")):
        line = f"<{node.value}> <{node.value}> <{node.value}> .\n".encode()
        (q,) = ox.parse(line, format=ox.RdfFormat.N_TRIPLES)
        assert q.subject == node and re.fullmatch(r"[A-Za-z0-9:/._~#,=-]+", node.value)


@st.composite
def hostile_article(draw):
    text = draw(TEXT)
    names = draw(st.lists(TEXT, min_size=2, max_size=4))
    kinds = ["Person", "Country", "Organization", "City"]
    ents = [Entity(key=f"{kinds[i % 4].lower()}/{slug(n)}-{i}", name=n, type=kinds[i % 4],
                   wikidata=draw(st.sampled_from([None, "Q159", "Q232"]))) for i, n in enumerate(names)]
    article = Article(id=draw(TEXT), text=text, title=draw(st.none() | TEXT), outlet=draw(st.none() | TEXT),
                      url=draw(st.sampled_from([None, "https://example.org/a?b=c&d=<e>", "javascript:x"])),
                      date=draw(st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(str)),
                      sha256="0" * 64)
    facts = []
    for j in range(draw(st.integers(1, 4))):
        pred = draw(st.sampled_from(["visited", "said", "memberOf", "metWith", "holdsPosition"]))
        s, o = draw(st.sampled_from(ents)), draw(st.sampled_from(ents))
        start = draw(st.integers(0, 500))
        facts.append(Fact(
            predicate=pred, subject=s, object=None if pred == "said" else o,
            evidence=Evidence(article.id, draw(TEXT), start, start + draw(st.integers(0, 300))),
            extractor=draw(st.sampled_from(["visits", "said", HOSTILE[0]])),
            confidence=draw(st.floats(0, 1)), claim=draw(TEXT) if pred == "said" else None,
            date=draw(st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(str))
            if pred == "visited" else None,
            modality="planned" if pred == "visited" else None,
            role=draw(st.none() | TEXT) if pred == "holdsPosition" else None,
            mentions=(o,) if pred == "said" else ()))
    variants = {e.key: set(draw(st.lists(TEXT, max_size=2))) for e in ents}
    mentions = [Mention(i, i + 3, draw(TEXT), e) for i, e in enumerate(ents)]
    return article, facts, variants, {e.key: e for e in ents}, mentions


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    with KGStore(tmp_path_factory.mktemp("scratch") / "store") as store:
        yield store


@SETTINGS
@given(hostile_article())
def test_robustness_export_round_trip_of_hostile_text(scratch, tmp_path_factory, data):
    from kg.export import export, iter_facts
    from kg.pipeline import refresh_derived

    article, facts, variants, entities, mentions = data
    info = BuildInfo(software="0.1.0", extractors="x<y>&\"z\"", gazetteer="f" * 64)
    quads = article_quads(article, facts, variants, entities, info, mentions)
    scratch.ox.clear()
    scratch.replace_graph(article_iri(article.id), quads)
    refresh_derived(scratch)
    stored = set(scratch.ox)
    decimal = ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")  # Oxigraph stores 0.8000 as 0.8
    assert {q for q in quads if getattr(q.object, "datatype", None) != decimal} <= stored
    out = tmp_path_factory.mktemp("rt")
    for fmt, kind in (("turtle", ox.RdfFormat.TURTLE), ("trig", ox.RdfFormat.TRIG),
                      ("nquads", ox.RdfFormat.N_QUADS), ("jsonld", ox.RdfFormat.JSON_LD)):
        export(scratch, fmt, out / fmt)
        parsed = set(ox.parse(path=str(out / fmt), format=kind))
        if fmt == "turtle":
            assert {q.triple for q in parsed} == {q.triple for q in stored}, fmt
        else:
            assert parsed == stored, fmt
    export(scratch, "facts", out / "facts")
    rows = [json.loads(line) for line in (out / "facts").read_text(encoding="utf-8").splitlines()]
    assert {r["sentence"] for r in rows} == {f.evidence.sentence for f in facts}
    assert {r["claim"] for r in rows if r["predicate"] == "said"} == \
        {f.claim for f in facts if f.predicate == "said"}
    assert {r["article"] for r in rows} == {article.id}
    assert rows == list(iter_facts(scratch))


def test_robustness_a_pipe_named_like_an_article_is_reported_not_waited_on(tmp_path):
    """A FIFO (or device) with an article's suffix would block the build forever: it is
    reported as not a regular file, and the other files are built."""
    import os

    from kg.pipeline import read_articles

    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "p.txt")
    os.mkfifo(src / "q.jsonl")
    (src / "r.txt").write_text("President Kassym-Jomart Tokayev visited Moscow.", encoding="utf-8")
    failures: list[str] = []
    refs = list(read_articles([src], failures))
    assert [r.id for r in refs] == ["r"]
    assert failures == [f"{src / 'p.txt'}: not a regular file", f"{src / 'q.jsonl'}: not a regular file"]


def test_robustness_jsonl_record_with_a_raw_carriage_return_is_one_line(tmp_path):
    """JSON Lines end at \\n (\\r\\n too): a raw CR between a record's tokens is JSON
    whitespace, not a line break."""
    from kg.corpus import read_file

    feed = tmp_path / "f.jsonl"
    feed.write_bytes(b'{"id": "r1",\r "text": "Tokayev visited Moscow."}\r\n{"id": "r2", "text": "Putin visited Astana."}\n')
    assert [a.id for a in read_file(feed)] == ["r1", "r2"]
