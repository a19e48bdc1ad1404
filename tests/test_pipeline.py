"""End to end: the seeds become a store a user can query, export and look at."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kg.export import export, iter_facts
from kg.pipeline import build
from kg.store import KGStore

from conftest import SEEDS


def _facts(store, predicate):
    return [f for f in iter_facts(store) if f["predicate"] == predicate]


def _seed_source(tmp_path, n):
    """A source folder holding the first n seed files, and the list of all seed files."""
    import shutil

    files = sorted(SEEDS.glob("*.txt"))
    src = tmp_path / "src"
    src.mkdir()
    for f in files[:n]:
        shutil.copy(f, src)
    return src, files


def _three_built_two_to_add(tmp_path):
    """A store built from three seed articles, and their source folder now holding all five."""
    import shutil

    src, files = _seed_source(tmp_path, 3)
    store = KGStore(tmp_path / "s")
    build([src], store, validate=False)
    for f in files[3:]:
        shutil.copy(f, src)
    return src, store


def _assert_derived_as_recomputed(store):
    """The derived graphs equal what a store-wide recompute makes of the article graphs."""
    from kg.pipeline import refresh_derived
    from kg.rdf import DERIVED_GRAPHS

    derived = {q for g in DERIVED_GRAPHS for q in store.graph_quads(g)}
    refresh_derived(store)
    assert derived == {q for g in DERIVED_GRAPHS for q in store.graph_quads(g)}


def test_pipeline_tokayev_visited_moscow_with_evidence(seed_store):
    visits = [f for f in _facts(seed_store, "visited")
              if f["subject"] == "Kassym-Jomart Tokayev" and f["object"] == "Moscow"]
    by_article = {f["article"]: f for f in visits}
    assert {"000_90fc43503a82d13d", "001_a574f8d1869c4b01", "002_c8ae2f43715b0230"} <= set(by_article)
    fact = by_article["001_a574f8d1869c4b01"]
    assert fact["sentence"] == "Tokaev’s visit to Moscow took place on April 3."
    assert fact["date"] == "2019-04-03"
    assert fact["modality"] == "occurred"
    text = (SEEDS / "001_a574f8d1869c4b01.txt").read_text(encoding="utf-8")
    from kg.corpus import read_file

    cleaned = read_file(SEEDS / "001_a574f8d1869c4b01.txt")[0].text
    assert cleaned[fact["start"]:fact["end"]] == fact["sentence"]
    assert fact["sentence"] in text


def test_pipeline_facts_export_has_design_fields(seed_store, tmp_path):
    out = tmp_path / "facts.jsonl"
    n = export(seed_store, "facts", out)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert n == len(lines) > 50
    keys = {"article", "predicate", "subject", "subject_id", "subject_wikidata", "object",
            "object_id", "object_wikidata", "claim", "date", "modality", "role", "sentence",
            "start", "end", "extractor", "confidence"}
    assert all(keys <= set(line) for line in lines)
    said = [line for line in lines if line["predicate"] == "said"]
    assert said and all(line["claim"] and line["object"] is None for line in said)
    putin = [line for line in lines if line["subject"] == "Vladimir Putin"]
    assert putin and all(line["subject_wikidata"] == "Q7747" for line in putin)


def test_pipeline_second_build_leaves_store_unchanged(tmp_path):
    store = KGStore(tmp_path / "s")
    first = build([SEEDS], store)
    before = set(store.ox)
    second = build([SEEDS], store)
    assert second.articles == 0 and second.skipped == 5
    assert set(store.ox) == before
    forced = build([SEEDS], store, force=True)
    assert forced.articles == 5
    assert set(store.ox) == before
    articles = sum(1 for q in before if "/article/" in q.graph_name.value)
    assert first.quads == forced.quads == articles and second.quads == 0
    assert first.facts == forced.facts and sum(first.facts.values()) > 100 and not second.facts


def test_pipeline_exports_parse_back(seed_store, tmp_path):
    quads = set(seed_store.ox)
    triples = {q.triple for q in quads}
    for fmt, kind in (("turtle", ox.RdfFormat.TURTLE), ("trig", ox.RdfFormat.TRIG),
                      ("nquads", ox.RdfFormat.N_QUADS), ("jsonld", ox.RdfFormat.JSON_LD)):
        path = tmp_path / f"out.{fmt}"
        export(seed_store, fmt, path)
        parsed = list(ox.parse(path=str(path), format=kind))
        if fmt == "turtle":
            assert {q.triple for q in parsed} == triples, fmt
        else:
            assert set(parsed) == quads, fmt


def test_pipeline_html_view_holds_the_graph(seed_store, tmp_path):
    from kg.network import to_networkx
    from kg.viz import render_html

    g = to_networkx(seed_store)
    page = render_html(g, tmp_path / "graph.html").read_text(encoding="utf-8")
    for label in ("Kassym-Jomart Tokayev", "Vladimir Putin", "Moscow",
                  "Collective Security Treaty Organization"):
        assert label in page
    assert "http://" not in page and "https://" not in page.replace("https:\\/\\/", "")


def test_pipeline_incremental_builds_give_the_store_of_one_build(seed_store, tmp_path):
    """Adding, changing and removing articles one build at a time brings the derived graphs
    (entity labels, corroboration) up to date for just what changed; the store is then
    exactly the one a single build of the same articles gives."""
    import shutil

    from kg.pipeline import remove
    from kg.rdf import STATUS_GRAPH

    src, files = _seed_source(tmp_path, 3)
    store = KGStore(tmp_path / "inc")
    assert build([src], store, validate=False).articles == 3
    for f in files[3:]:
        shutil.copy(f, src)
    added = build([src], store)
    assert (added.articles, added.skipped, added.violations) == (2, 3, [])
    assert set(store.ox) == set(seed_store.ox)
    assert store.derived_up_to_date() and not store.ox.contains_named_graph(STATUS_GRAPH)

    # a changed article: a new trip, said by a new spelling of a known name
    changed = src / files[1].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nKasym-Zhomart Tokaev visited Astana "
                       "on 3 March 2024 to meet Vladimir Putin.\n", encoding="utf-8")
    assert build([src], store, validate=False).articles == 1
    remove([files[0].stem], store)
    once = KGStore(tmp_path / "once")
    build([*(src / f.name for f in files[2:]), changed], once, validate=False)
    assert set(store.ox) == set(once.ox)


def test_pipeline_an_update_applies_what_changed_as_it_goes(seed_store, tmp_path, monkeypatch):
    """A build updating the derived graphs by what changed applies what it has collected
    every ``FLUSH_CHANGES`` changed facts and entities, not all at the end (so it holds
    little however many articles come): here after every article. The store is the one a
    single build makes, and its derived graphs equal a store-wide recompute."""
    import kg.pipeline as pipeline

    src, store = _three_built_two_to_add(tmp_path)
    flushes = []
    real = pipeline.refresh_derived
    monkeypatch.setattr(pipeline, "FLUSH_CHANGES", 1)
    monkeypatch.setattr(pipeline, "refresh_derived", lambda kg, changed=None: (
        flushes.append(changed is not None), real(kg, changed)))
    store.write_batch_quads = 1
    assert build([src], store, validate=False).articles == 2
    assert flushes == [True] * 3  # after each article, then at the end: nothing store-wide
    assert set(store.ox) == set(seed_store.ox)
    _assert_derived_as_recomputed(store)


def test_pipeline_derived_update_stopped_half_way_is_flagged_and_redone(seed_store, tmp_path, monkeypatch):
    """An update of the derived graphs that stops after deleting the old entries (the disk
    fills up): they stay flagged out of date, and the next build, with nothing to extract,
    recomputes them; the store is then the one a single build makes."""
    from kg.store import StoreError

    src, store = _three_built_two_to_add(tmp_path)

    def disk_full(quads):
        raise StoreError(f"{store.path}: cannot write (no space left on device)")

    monkeypatch.setattr(store, "_add", disk_full)
    with pytest.raises(StoreError, match="no space left"):
        build([src], store, validate=False)
    assert not store.derived_up_to_date()
    monkeypatch.undo()
    again = build([src], store, validate=False)
    assert (again.articles, again.skipped) == (0, 5)
    assert store.derived_up_to_date() and set(store.ox) == set(seed_store.ox)


def test_pipeline_an_update_whose_flush_fails_writes_all_and_recomputes(seed_store, tmp_path, monkeypatch):
    """When applying the collected changes fails once mid-build, the articles written stay
    written (none reported), and the derived graphs are recomputed store-wide at the end."""
    import kg.pipeline as pipeline
    from kg.store import StoreError

    src, store = _three_built_two_to_add(tmp_path)
    real, calls = store._add, []

    def fail_once(quads):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError(f"{store.path}: cannot write (no space left on device)")
        real(quads)

    monkeypatch.setattr(pipeline, "FLUSH_CHANGES", 1)
    monkeypatch.setattr(store, "_add", fail_once)
    store.write_batch_quads = 1
    report = build([src], store, validate=False)
    assert report.ok and report.articles == 2
    assert store.derived_up_to_date() and set(store.ox) == set(seed_store.ox)


def test_pipeline_write_failing_part_way_leaves_derived_graphs_right(tmp_path, monkeypatch):
    """A batch the store fails after dropping the graph it replaces: the build reports that
    article, and the derived graphs (entity labels and counts, corroboration) equal a
    store-wide recompute of what was written (the per-article counts cannot be trusted, so
    the build does not update them incrementally)."""
    import shutil

    from kg.store import StoreError

    src, files = _seed_source(tmp_path, 3)
    store = KGStore(tmp_path / "s")
    build([src], store, validate=False)
    changed = src / files[0].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nVladimir Putin visited Astana "
                       "on 3 March 2024.\n", encoding="utf-8")
    for f in files[3:]:
        shutil.copy(f, src)
    real, calls = store.write_graphs, []

    def fail_first(graphs):
        calls.append(graphs)
        if len(calls) == 1:  # part-way: the old graph is gone, the new one never comes
            for g, _ in graphs:
                store._update(f"DROP SILENT GRAPH {g}")
            raise StoreError(f"{store.path}: cannot write (no space left on device)")
        real(graphs)

    monkeypatch.setattr(store, "write_graphs", fail_first)
    monkeypatch.setattr(store, "write_batch_quads", 1)  # one article a batch
    report = build([src], store, validate=False)
    assert report.articles == 2 and len(report.failures) == 1 and "no space left" in report.failures[0]
    assert store.derived_up_to_date()
    _assert_derived_as_recomputed(store)


def test_pipeline_odd_confidences_count_alike_incrementally_and_store_wide(tmp_path, monkeypatch):
    """Confidences that are not number literals (a string "0.9", one holding two numbers, a
    word) are skipped the same way by the incremental update and the store-wide recompute."""
    import kg.pipeline as pipeline

    real = pipeline.article_quads
    odd = iter(["0.9", "0.5 0.7", "high"])

    def with_odd_confidences(*args):
        quads = real(*args)
        conf = [q for q in quads if q.predicate.value.endswith("#confidence")]
        extra = [ox.Quad(q.subject, q.predicate, ox.Literal(v), q.graph_name) for q, v in zip(conf, odd)]
        return quads + extra

    files = sorted(SEEDS.glob("*.txt"))
    store = KGStore(tmp_path / "s")
    build(files[:2], store, validate=False)
    monkeypatch.setattr(pipeline, "article_quads", with_odd_confidences)
    build(files[2:4], store, validate=False)  # incremental: two articles into two
    _assert_derived_as_recomputed(store)


def _small_corpus(folder, n):
    """n short articles, each its own text, in one folder."""
    cities = ["Moscow", "Astana", "Almaty", "Kazan", "Omsk", "Samara"]
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:03d}.txt").write_text(
            f"President Kassym-Jomart Tokayev visited {cities[i % len(cities)]} on {i % 28 + 1} "
            f"March {2000 + i}. He met Vladimir Putin there.\n", encoding="utf-8")
    return folder


def test_pipeline_rebuild_cleans_only_what_changed(tmp_path, monkeypatch):
    """Rerunning a build over a folder reads bytes: an article stored as it is, .txt or a
    .jsonl line, is neither decoded nor cleaned again; a changed one is (read twice)."""
    import json

    import kg.corpus

    src = _small_corpus(tmp_path / "src", 4)
    (src / "feed.jsonl").write_text("\n".join(json.dumps({"id": f"n{i}", "text": f"Vladimir Putin visited "
                                                          f"Astana on {i + 1} May 2021."}) for i in range(3)),
                                    encoding="utf-8")
    store = KGStore(tmp_path / "s")
    assert build([src], store, validate=False).articles == 7
    cleaned = []
    real = kg.corpus.clean_text
    monkeypatch.setattr(kg.corpus, "clean_text", lambda text: cleaned.append(text) or real(text))
    again = build([src], store, validate=False)
    assert (again.articles, again.skipped, cleaned) == (0, 7, [])
    (src / "a002.txt").write_text("Vladimir Putin visited Omsk on 9 May 2023.\n", encoding="utf-8")
    third = build([src], store, validate=False)
    assert (third.articles, third.skipped) == (1, 6)
    assert len(cleaned) == 2 and all("Omsk" in text for text in cleaned)


@pytest.mark.parametrize("workers", [1, 2])
def test_pipeline_build_holds_a_few_articles_not_the_corpus(tmp_path, workers):
    """Memory does not grow with the corpus: while a build runs, the articles it holds are
    the few being processed, not every article it will build (texts are read again when
    their turn comes, and written in batches of ``write_batch_quads``, here one article)."""
    import gc

    from kg.model import Article

    src = _small_corpus(tmp_path / "src", 30)
    store = KGStore(tmp_path / "s")
    store.write_batch_quads = 1
    held = []

    def count(done, total, _id):
        held.append(sum(isinstance(o, Article) for o in gc.get_objects()))

    report = build([src], store, validate=False, workers=workers, progress=count)
    assert report.ok and report.articles == 30 and len(held) == 30
    assert max(held) <= (3 if workers == 1 else 12), held


def test_pipeline_file_changed_while_the_build_runs_is_reported_not_built(tmp_path):
    """A file rewritten after the build decided to build it but before its turn: reported
    (one line naming it), not built from a text the build never checked; the rest built."""
    src = _small_corpus(tmp_path / "src", 4)
    store = KGStore(tmp_path / "s")

    def rewrite_the_last(done, total, _id):
        if done == 1:
            (src / "a003.txt").write_text("Vladimir Putin visited Astana in 2024.\n", encoding="utf-8")

    report = build([src], store, validate=False, progress=rewrite_the_last)
    assert report.articles == 3
    assert len(report.failures) == 1
    assert report.failures[0].startswith(f"{src / 'a003.txt'}: not built: the file changed")
    assert store.article_sha("a003") is None
    again = build([src], store, validate=False)  # the next build takes the new text
    assert again.ok and again.articles == 1 and again.skipped == 3


def test_pipeline_one_id_with_two_texts_builds_the_first_and_reports_the_second(tmp_path):
    """Two articles with one id and different texts (a .jsonl id given twice, two folders'
    x.txt): the first is built, the second reported by name; none is lost without a word."""
    import json

    text = "President Kassym-Jomart Tokayev visited {} on 1 May 2021."
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": "n1", "text": text.format(c)}) for c in ("Moscow", "Kazan")),
                    encoding="utf-8")
    for folder, city in (("a", "Omsk"), ("b", "Sochi")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text(text.format(city), encoding="utf-8")
    store = KGStore(tmp_path / "s")
    report = build([feed, tmp_path / "a", tmp_path / "b"], store, validate=False)
    assert report.articles == 2 and sorted(store.article_ids()) == ["n1", "x"]
    assert report.failures == [
        f"{feed}: article n1: id 'n1' is also the id of {feed}: article n1, with another text; skipped",
        f"{tmp_path / 'b' / 'x.txt'}: id 'x' is also the id of {tmp_path / 'a' / 'x.txt'}, with another text; skipped"]
    assert {f["object"] for f in _facts(store, "visited")} == {"Moscow", "Omsk"}


@pytest.mark.parametrize("workers", [1, 2])
def test_pipeline_stopped_writing_reports_each_article_once(tmp_path, workers):
    """When the store keeps failing, every article not written is reported once, also one
    the second read already reported (workers read ahead of what is written)."""
    from kg.store import StoreError

    src = _small_corpus(tmp_path / "src", 8)
    store = KGStore(tmp_path / "s")
    store.write_batch_quads = 1

    def full(graphs):
        (src / "a005.txt").write_text("Vladimir Putin visited Astana in 2024.\n", encoding="utf-8")
        raise StoreError("disk full")

    store.write_graphs = full
    report = build([src], store, validate=False, workers=workers)
    assert len(report.failures) == 8, report.failures
    assert sorted(f.split(":")[0] for f in report.failures) == sorted(str(p) for p in src.glob("*.txt"))


def test_pipeline_metadata_turned_bad_between_the_reads_is_reported(tmp_path):
    """A .jsonl line whose text stays but whose title turns bad before its turn is reported
    as changed, not built with metadata nobody checked, and the build goes on."""
    import json

    text = "President Kassym-Jomart Tokayev visited Kazan on 2 May 2021."
    src = _small_corpus(tmp_path / "src", 1)
    feed = src / "b.jsonl"
    feed.write_text(json.dumps({"id": "n1", "title": "Fine", "text": text}) + "\n", encoding="utf-8")

    def spoil(done, total, _id):
        if done == 1:
            feed.write_text('{"id": "n1", "title": "Bad \\ud800", "text": %s}\n' % json.dumps(text), encoding="utf-8")

    report = build([src], KGStore(tmp_path / "s"), validate=False, progress=spoil)
    assert report.articles == 1
    assert report.failures == [f"{feed}: article n1: not built: the file changed while the build ran "
                               "(its content changed)"]


def test_pipeline_jsonl_corrected_metadata_is_rebuilt_and_a_copy_under_another_id_skipped(tmp_path):
    """A .jsonl line whose title or date is corrected is built again (not skipped as
    unchanged); the same record under a second id is the same article, reported as such."""
    import json

    text = "President Kassym-Jomart Tokayev visited Moscow on 2 May 2021."
    feed = tmp_path / "feed.jsonl"
    store = KGStore(tmp_path / "s")
    feed.write_text(json.dumps({"id": "n1", "title": "Old", "date": "2021-05-02", "text": text}) + "\n",
                    encoding="utf-8")
    assert build([feed], store, validate=False).articles == 1
    record = {"title": "New", "date": "2022-06-03", "text": text}
    feed.write_text(json.dumps({"id": "n1", **record}) + "\n" + json.dumps({"id": "copy", **record}) + "\n",
                    encoding="utf-8")
    report = build([feed], store, validate=False)
    assert report.articles == 1 and report.skipped == 0
    assert report.failures == [f"{feed}: article copy: same text as article n1; skipped"]
    headlines = {str(r[0].value) for r in store.query(
        "SELECT ?h WHERE { GRAPH ?g { ?a <https://schema.org/headline> ?h } }")}
    assert headlines == {"New"}
    assert build([feed], store, validate=False).skipped == 1  # and once built, it is unchanged


def test_pipeline_first_read_keeps_ids_and_hashes_of_a_feed_not_its_texts(tmp_path):
    """Deciding what to build reads a large .jsonl feed an article at a time and keeps only
    ids and hashes: its peak memory is a small part of the feed."""
    import gc
    import json
    import tracemalloc

    from kg.pipeline import read_articles

    body = "President Kassym-Jomart Tokayev visited Moscow and met Vladimir Putin. " * 200
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": f"n{i}", "text": f"{i} {body}"}) for i in range(500)),
                    encoding="utf-8")
    failures: list[str] = []
    warm = tmp_path / "warm.jsonl"  # what a first read sets up once (caches, compiled patterns)
    warm.write_text(json.dumps({"id": "w", "text": "Putin visited Astana on 2 May 2021."}), encoding="utf-8")
    list(read_articles([warm], failures))
    gc.collect()
    tracemalloc.start()
    try:
        refs = list(read_articles([feed], failures))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not failures and len(refs) == 500 and not hasattr(refs[0], "text")
    assert peak < feed.stat().st_size / 5, (peak, feed.stat().st_size)


def test_pipeline_an_article_refused_does_not_take_its_id(tmp_path):
    """A line refused as the copy of another keeps no claim on its id: a later line with that
    id and its own text is built."""
    import json

    text = "President Kassym-Jomart Tokayev visited {} on 1 May 2021."
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": i, "text": text.format(c)})
                              for i, c in (("j1", "Moscow"), ("j2", "Moscow"), ("j2", "Kazan"))), encoding="utf-8")
    store = KGStore(tmp_path / "s")
    report = build([feed], store, validate=False)
    assert report.failures == [f"{feed}: article j2: same text as article j1; skipped"]
    assert sorted(store.article_ids()) == ["j1", "j2"]


def test_pipeline_files_renamed_in_a_chain_leave_one_copy_of_each_text(tmp_path):
    """a and b built; then b renamed c and a renamed b. The new b is the stored a's text (left
    out: `kg remove a` first), so the stored b keeps its text, and c, the same text, is left
    out too: no text is stored twice (it would count its facts' sources twice)."""
    src = tmp_path / "src"
    src.mkdir()
    texts = {"a": "President Kassym-Jomart Tokayev visited Moscow on 1 May 2021.",
             "b": "Vladimir Putin visited Astana on 2 June 2022."}
    for name, text in texts.items():
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    store = KGStore(tmp_path / "s")
    assert build([src], store, validate=False).articles == 2
    (src / "b.txt").rename(src / "c.txt")
    (src / "a.txt").rename(src / "b.txt")
    report = build([src], store, validate=False)
    assert report.articles == 0
    assert report.failures == [f"{src / 'b.txt'}: same text as article a, already in the store; skipped",
                               f"{src / 'c.txt'}: same text as article b, already in the store; skipped"]
    assert sorted(store.article_ids()) == ["a", "b"]
    assert len(set(store.article_sha(i) for i in ("a", "b"))) == 2


def test_pipeline_of_two_clashing_articles_the_stored_one_is_taken(tmp_path):
    """Two input articles that clash (one text, or one graph) are decided by the store, not by
    the order read: a stored file copied over another is the copy left out, with one message;
    a stored article edited is rebuilt though a new id naming its graph comes first."""
    import json

    texts = ["President Kassym-Jomart Tokayev visited Moscow on 1 May 2021.",
             "Vladimir Putin visited Astana on 2 June 2022."]
    src = tmp_path / "src"
    src.mkdir()
    for name, text in zip("ab", texts):
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    store = KGStore(tmp_path / "s")
    assert build([src], store, validate=False).articles == 2
    (src / "a.txt").write_text(texts[1], encoding="utf-8")  # b copied over a
    report = build([src], store, validate=False)
    assert (report.articles, report.skipped) == (0, 1)
    assert report.failures == [f"{src / 'a.txt'}: same text as article b; skipped"]

    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "x y", "text": texts[0]}) + "\n", encoding="utf-8")
    assert build([feed], store, validate=False).articles == 1
    feed.write_text(json.dumps({"id": "x-y", "text": texts[1] + " Again."}) + "\n"
                    + json.dumps({"id": "x y", "text": texts[0] + " Sergey Lavrov visited Omsk."}) + "\n",
                    encoding="utf-8")
    report = build([feed], store, validate=False)
    assert report.articles == 1
    assert report.failures == [f"{feed}: article x-y: id 'x-y' names the same graph as article 'x y'; skipped"]
    assert "Omsk" in {f["object"] for f in _facts(store, "visited")}


def test_pipeline_no_article_is_left_out_for_a_rival_that_is_not_taken(tmp_path):
    """Clashes are decided once all is read: a new feed_1.txt loses its id to the stored
    s2/feed_1.txt, so a-b.txt, with feed_1.txt's text, is the one that stores that text (it
    was refused as feed_1.txt's copy, and the text stored nowhere). A loser is named after a
    rival taken (same text first), the same on a rerun."""
    text = "President Kassym-Jomart Tokayev visited {} on 3 May 2021."
    src = tmp_path / "in"
    (src / "s2").mkdir(parents=True)
    (src / "s2" / "feed_1.txt").write_text(text.format("Baku"), encoding="utf-8")
    store = KGStore(tmp_path / "s")
    assert build([src], store, validate=False).articles == 1
    (src / "feed_1.txt").write_text(text.format("Tashkent"), encoding="utf-8")
    (src / "s2" / "a-b.txt").write_text(text.format("Tashkent"), encoding="utf-8")
    report = build([src], store, validate=False)
    assert (report.articles, report.skipped) == (1, 1)
    assert report.failures == [f"{src / 'feed_1.txt'}: same text as article a-b; skipped"]
    assert {f["object"] for f in _facts(store, "visited")} == {"Baku", "Tashkent"}
    assert build([src], store, validate=False).failures == report.failures  # and again the same


def test_pipeline_jsonl_articles_are_read_again_and_a_repeated_one_built_once(tmp_path):
    """Articles of a .jsonl file are built from their lines (each cleaned when its turn
    comes); a line repeated word for word, or the file given twice, builds the article once
    and is no failure."""
    import json

    lines = [json.dumps({"id": f"n{i}", "text": f"President Kassym-Jomart Tokayev visited "
                         f"{city} on {i + 1} May 2021."})
             for i, city in enumerate(["Moscow", "Kazan", "Omsk"])]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    store = KGStore(tmp_path / "s")
    report = build([feed, feed], store, validate=False)
    assert report.ok, report.failures
    assert report.articles == 3 and sorted(store.article_ids()) == ["n0", "n1", "n2"]
    assert {f["object"] for f in _facts(store, "visited")} >= {"Moscow", "Kazan", "Omsk"}
