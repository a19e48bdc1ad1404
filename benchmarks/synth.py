"""Large stores without NLP: real article graphs replicated at the quad level.

A few dozen generated articles (corpus.py) go through the real pipeline once
(``kg.pipeline.process``: spaCy, resolution, extractors, quads); their named graphs are cached
as N-Quads under ``--cache`` (keyed by the software/extractor/gazetteer version). Copies of
them are then renamed and bulk-loaded until a store holds the wanted number of quads:

* copy k of article graph ``kzr:article/ID`` becomes ``kzr:article/ID-cK`` (its ``#char=``
  fragments follow); assertion, visit, claim and position nodes get the same suffix, and
  each assertion's ``kzo:states`` is recomputed from its renamed subject, predicate and object;
* entity IRIs (``kzr:person_...``, ``kzr:city_...``, ...) are renamed per copy to one of 40
  variants (a quarter stay the original entity), so the entity universe grows with the store
  while real entities recur across articles; countries and the build / software / gazetteer
  nodes stay shared;
* literals (sentences, claims, dates) are kept as they are.

Then the derived graphs are computed as a build would (``kg.pipeline.refresh_derived``).
"""
from __future__ import annotations

import hashlib
import re
import time
import zlib
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path("/tmp/kzbench/cache")

#: bumped when the way stores are made changes (2: partial copies end at a graph boundary;
#: 3: kzo:states points at the fact of the renamed subject and object, as a build's would)
SYNTH_VERSION = 3
RESOURCE = "https://w3id.org/kzru-kg/resource/"
_IRI = re.compile(r"<https://w3id\.org/kzru-kg/resource/([a-z]+)([/_])([^>#]*)(#[^>]*)?>")
#: node kinds minted per article (renamed per copy)
PER_ARTICLE = {"article", "assertion", "visit", "claim", "position"}
#: entity kinds renamed to variants (countries stay)
ENTITY_KINDS = {"person", "city", "region", "organization", "other", "agreement", "event"}
VARIANTS = 40


def version_key() -> str:
    from kg.pipeline import version_tag

    return hashlib.sha1(version_tag().encode()).hexdigest()[:12]


def article_graphs(n: int = 40, seed: int = 0, cache: Path = DEFAULT_CACHE,
                   verbose: bool = True) -> tuple[str, int]:
    """N-Quads of ``n`` real article graphs (generated corpus -> the real pipeline), cached.
    Returns (text, number of quads)."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"articles-n{n}-s{seed}-{version_key()}.nq"
    if not path.exists():
        import tempfile

        import pyoxigraph as ox

        import corpus as gen
        from kg.pipeline import process, read_articles, reread

        t = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="kzbench-synth-") as tmp:
            gen.generate(n, Path(tmp), seed)
            failures: list[str] = []
            articles = list(reread(list(read_articles([tmp], failures)), failures))
            quads = [q for r in process(articles) for q in r.quads]
        data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        tmp_path = path.with_suffix(".tmp")
        tmp_path.write_bytes(data)
        tmp_path.rename(path)
        if verbose:
            print(f"synth: ran the pipeline over {n} generated articles -> {len(quads)} quads "
                  f"in {time.perf_counter() - t:.1f} s (cached in {path})")
    text = path.read_text(encoding="utf-8")
    return text, text.count("\n")


def _variant(slug: str, copy: int) -> int:
    return (copy * 7 + zlib.crc32(slug.encode())) % VARIANTS


def rename(text: str, copy: int) -> str:
    """One renamed copy of N-Quads text (copy 0 is the original)."""
    if copy == 0:
        return text

    def sub(m: re.Match) -> str:
        kind, sep, rest, frag = m.group(1), m.group(2), m.group(3), m.group(4) or ""
        if kind in PER_ARTICLE:
            return f"<{RESOURCE}{kind}{sep}{rest}-c{copy}{frag}>"
        if kind in ENTITY_KINDS and sep == "_":
            v = _variant(rest, copy)
            if v >= VARIANTS // 4:
                return f"<{RESOURCE}{kind}_{rest}-v{v}{frag}>"
        return m.group(0)

    return _restate(_IRI.sub(sub, text))


_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_SPO = {f"<{_RDF}subject>": 0, f"<{_RDF}predicate>": 1, f"<{_RDF}object>": 2}
_STATES = "<https://w3id.org/kzru-kg/ontology#states>"
_MET = "<https://w3id.org/kzru-kg/ontology#metWith>"


def _restate(text: str) -> str:
    """``kzo:states`` lines rewritten to the fact IRIs of each assertion's (renamed) subject,
    predicate and object, as ``kg.rdf`` mints them (a metWith assertion states both ways)."""
    import pyoxigraph as ox

    from kg.rdf import fact_iri

    lines = text.splitlines(keepends=True)
    spo: dict[str, list] = {}
    for line in lines:
        s, p, rest = line.split(" ", 2)
        if p in _SPO:
            spo.setdefault(s, [None, None, None])[_SPO[p]] = rest.rsplit(" ", 2)[0]
    out, done = [], set()
    for line in lines:
        s, p, rest = line.split(" ", 2)
        if p != _STATES:
            out.append(line)
        elif s not in done:
            done.add(s)
            graph = rest.rsplit(" ", 2)[-2]
            a, pred, b = (ox.NamedNode(t[1:-1]) for t in spo[s])
            for x, y in ((a, b), (b, a)) if spo[s][1] == _MET else ((a, b),):
                out.append(f"{s} {_STATES} {fact_iri(x, pred, y)} {graph} .\n")
    return "".join(out)


def graph_runs(text: str) -> list[str]:
    """N-Quads text split into its article graphs (each graph's lines are contiguous)."""
    runs: list[list[str]] = []
    last = None
    for line in text.splitlines(keepends=True):
        graph = line.rstrip().rsplit(" ", 2)[-2]
        if graph != last:
            runs.append([])
            last = graph
        runs[-1].append(line)
    return ["".join(r) for r in runs]


def copies(text: str, quads_per_copy: int, target: int, start: int = 0) -> Iterator[str]:
    """Renamed copies until about ``target`` quads: whole copies, then the first article graphs
    of one more copy until the target is reached (whole graphs only: a graph cut in the middle
    would hold assertions without their provenance, which no build writes)."""
    graphs = None
    made, k = 0, start
    while made < target:
        if target - made >= quads_per_copy:
            yield rename(text, k)
            made += quads_per_copy
        else:
            if graphs is None:
                graphs = graph_runs(text)
            part = []
            for g in graphs:
                if made >= target:
                    break
                part.append(g)
                made += g.count("\n")
            yield rename("".join(part), k)
        k += 1


def cached_store(root: Path | str, target_quads: int, base: str, base_quads: int,
                 verbose: bool = True) -> tuple[Path, dict]:
    """The store for ``target_quads`` under ``root``, built once per size, pipeline version and
    synth version (a marker file ``kzbench.json`` says it is complete) and reused after."""
    import json
    import shutil

    path = Path(root) / f"store-{target_quads}-{version_key()}-s{SYNTH_VERSION}"
    marker = path / "kzbench.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if verbose:
            print(f"synth store {path}: reused ({info['quads']:,} quads, {info['articles']:,} article "
                  f"graphs, {info['assertions']:,} fact mentions)")
        return path, info
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = build_store(path, target_quads, base, base_quads, verbose=verbose)
    marker.write_text(json.dumps(info))
    return path, info


def build_store(path: Path | str, target_quads: int, base: str, base_quads: int,
                derived: bool = True, verbose: bool = True) -> dict:
    """A store at ``path`` with about ``target_quads`` article quads (plus derived graphs)."""
    import pyoxigraph as ox

    from kg.store import KGStore

    t = time.perf_counter()
    store = ox.Store(str(path))
    for chunk in copies(base, base_quads, target_quads):
        store.bulk_load(chunk.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
    store.flush()
    load_s = time.perf_counter() - t
    article_quads = len(store)
    del store
    info = {"article_quads": article_quads, "load_s": load_s}
    kg = KGStore(path)
    try:
        if derived:
            from kg.pipeline import refresh_derived

            t = time.perf_counter()
            refresh_derived(kg)
            kg.flush()
            info["derived_s"] = time.perf_counter() - t
        info["quads"] = len(kg)
        rows = kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?a a kzo:Assertion }")
        info["assertions"] = int(next(iter(rows))["n"].value)
        rows = kg.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?g a schema:NewsArticle } }")
        info["articles"] = int(next(iter(rows))["n"].value)
    finally:
        kg.close()
    if verbose:
        print(f"synth store {path}: {info['quads']:,} quads ({info['articles']:,} article graphs, "
              f"{info['assertions']:,} fact mentions); bulk load {load_s:.1f} s"
              + (f", derived graphs {info['derived_s']:.1f} s" if derived else ""))
    return info


def dataset_nquads(path: Path | str) -> bytes:
    """All quads of a store as N-Quads (to load the same data into rdflib)."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(path))
    return store.dump(format=ox.RdfFormat.N_QUADS)
