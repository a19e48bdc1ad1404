"""Store write throughput: the build's write path against pyoxigraph's bulk paths.

    python benchmarks/bench_store.py [--quads 300000]

Realistic article quads (real pipeline output for generated articles, replicated with renamed
IRIs, see synth.py) are written into fresh on-disk stores by:

* ``KGStore.write_graphs`` in batches (what ``kg build`` does: the replaced graphs dropped in
  one transaction, then one bulk load a batch), into an empty store and again over the same
  graphs (a rebuild: every graph is dropped and rewritten);
* ``KGStore.replace_graph`` once per article graph (one SPARQL update each: the first
  release's write path), likewise;
* ``Store.extend`` per article graph (one transaction each, no SPARQL text);
* ``Store.bulk_extend`` of all quads (the reference; issue #9 target >= 200k quads/s), also
  into an in-memory ``Store()`` (and ``extend`` per graph there) to separate the disk's share;
* ``Store.bulk_load`` of the N-Quads bytes;
* oxrdflib ``Dataset.add`` per quad on a sample (the per-triple path DESIGN.md warns about).

Quad objects are built before the clock starts, as the pipeline hands them over.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine_summary, peak_rss_mb  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quads", type=int, default=300_000, help="article quads to write")
    ap.add_argument("--reps", type=int, default=3, help="runs of the build's path into an empty store")
    ap.add_argument("--base-articles", type=int, default=40, help="real article graphs to replicate")
    ap.add_argument("--rdflib-sample", type=int, default=20_000, help="quads for the oxrdflib per-quad path")
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args(argv)

    import pyoxigraph as ox

    import synth
    from kg.store import KGStore

    print(machine_summary())
    base, base_n = synth.article_graphs(args.base_articles, cache=args.cache or synth.DEFAULT_CACHE)
    text = "".join(synth.copies(base, base_n, args.quads))
    quads = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    graphs: dict = {}
    for q in quads:
        graphs.setdefault(q.graph_name, []).append(q)
    n = len(quads)
    print(f"data: {n:,} quads in {len(graphs):,} article graphs "
          f"({n / len(graphs):.0f} quads per graph), from {args.base_articles} real article graphs")

    work = Path(tempfile.mkdtemp(prefix="kzbench-store-"))
    rows = []

    def record(name: str, seconds: float, count: int = n, note: str = "") -> None:
        rows.append((name, count, seconds, count / seconds, note))
        print(f"  {name:44s} {count:>9,} quads {seconds:8.2f} s {count / seconds:>12,.0f} quads/s {note}")

    try:
        # the build's path: KGStore.write_graphs in batches of write_batch_quads, as kg build
        # calls it; into an empty store --reps times (a new store each), then over the same graphs
        items = list(graphs.items())

        def write_all(kg) -> float:
            t = time.perf_counter()
            batch, size = [], 0
            for g, qs in items:
                batch.append((g, qs))
                size += len(qs)
                if size >= kg.write_batch_quads:
                    kg.write_graphs(batch)
                    batch, size = [], 0
            if batch:
                kg.write_graphs(batch)
            kg.flush()
            return time.perf_counter() - t

        runs = []
        for i in range(args.reps):
            kg = KGStore(work / f"batches{i}")
            runs.append(write_all(kg))
            if i < args.reps - 1:
                kg.close()
                shutil.rmtree(work / f"batches{i}")
        note = f"batches of >= {kg.write_batch_quads:,} quads"
        record("KGStore.write_graphs, the build's path (empty store)", sorted(runs)[len(runs) // 2],
               note=f"{note}; median of {len(runs)} (" + ", ".join(f"{n / r:,.0f}" for r in runs) + ")")
        record("KGStore.write_graphs, the build's path (rewrite same graphs)", write_all(kg), note=note)
        assert len(kg) == n, (len(kg), n)
        kg.close()

        # the first release's path: one SPARQL update per article graph
        kg = KGStore(work / "replace")
        t = time.perf_counter()
        for g, qs in graphs.items():
            kg.replace_graph(g, qs)
        kg.flush()
        record("KGStore.replace_graph (empty store)", time.perf_counter() - t)
        t = time.perf_counter()
        for g, qs in graphs.items():
            kg.replace_graph(g, qs)
        kg.flush()
        record("KGStore.replace_graph (rewrite same graphs)", time.perf_counter() - t)
        assert len(kg) == n, (len(kg), n)
        # where replace_graph's time goes: building the update text vs Oxigraph parsing+writing it
        t = time.perf_counter()
        texts = []
        for g, qs in graphs.items():
            body = " .\n".join(f"{q.subject} {q.predicate} {q.object}" for q in qs)
            texts.append(f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{body} }} }}")
        text_s = time.perf_counter() - t
        print(f"    of which building the SPARQL text in Python: {text_s:.2f} s "
              f"({n / text_s:,.0f} quads/s)")
        kg.close()

        # transactional extend per graph (drop + extend would be the non-SPARQL replace)
        store = ox.Store(str(work / "extend"))
        t = time.perf_counter()
        for g, qs in graphs.items():
            store.remove_graph(g) if store.contains_named_graph(g) else None
            store.extend(qs)
        store.flush()
        record("Store.remove_graph + extend per graph", time.perf_counter() - t)
        del store

        store = ox.Store(str(work / "bulk"))
        t = time.perf_counter()
        store.bulk_extend(quads)
        store.flush()
        record("Store.bulk_extend (all quads, reference)", time.perf_counter() - t)
        del store

        store = ox.Store()  # in memory: the same call without the disk
        t = time.perf_counter()
        store.bulk_extend(quads)
        record("Store.bulk_extend, in-memory store", time.perf_counter() - t)
        del store

        store = ox.Store()
        t = time.perf_counter()
        for g, qs in graphs.items():
            store.extend(qs)
        record("Store.extend per graph, in-memory store", time.perf_counter() - t)
        del store

        store = ox.Store(str(work / "bulkload"))
        data = text.encode("utf-8")
        t = time.perf_counter()
        store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        store.flush()
        record("Store.bulk_load (N-Quads bytes)", time.perf_counter() - t)
        del store

        store = ox.Store(str(work / "load"))
        t = time.perf_counter()
        store.load(data, format=ox.RdfFormat.N_QUADS)
        store.flush()
        record("Store.load (N-Quads bytes, one transaction)", time.perf_counter() - t)
        del store

        if args.rdflib_sample:
            from oxrdflib import OxigraphStore
            from rdflib import Dataset, Literal, URIRef

            sample = quads[:args.rdflib_sample]

            def term(t):
                if isinstance(t, ox.NamedNode):
                    return URIRef(t.value)
                return Literal(t.value, datatype=URIRef(t.datatype.value) if t.datatype else None,
                               lang=t.language)

            triples = [(term(q.subject), term(q.predicate), term(q.object), URIRef(q.graph_name.value))
                       for q in sample]
            ds = Dataset(store=OxigraphStore(store=ox.Store(str(work / "rdflib"))))
            t = time.perf_counter()
            for s, p, o, g in triples:
                ds.graph(g).add((s, p, o))
            record("oxrdflib Dataset.graph(g).add per quad", time.perf_counter() - t, len(sample),
                   "(sample)")
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
        print("target: write stage >= 200,000 quads/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
