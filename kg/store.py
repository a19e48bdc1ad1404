"""The embedded store: Oxigraph on disk, rdflib's Dataset API on top.

Each article is one named graph. A build writes article graphs in batches: the graphs it
replaces are dropped in one transaction, then the batch goes through Oxigraph's bulk loader,
whose files RocksDB ingests in one atomic step, so a crash never leaves half an article (at
worst a replaced article is missing, and the next build writes it again).

Two derived graphs are computed from the article graphs: canonical entity labels
(``kzr:entities``) and per-fact corroboration (``kzr:corroboration``). Before the first
article graph of a build or removal changes, ``kzr:status`` flags them as out of date; after
the writes they are brought up to date for just the entities and facts those articles bear
on (or recomputed store-wide when much changed), and the flag is removed in that same
transaction. A build that finds the flag (an interrupted build) recomputes them store-wide.

Nothing here reaches the network: ``SERVICE`` (and, in updates, ``LOAD``) is refused unless
asked for, in :meth:`KGStore.query` and in the rdflib ``Dataset`` of :meth:`KGStore.dataset`.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import pyoxigraph as ox

from kg.model import Entity
from kg.query import QueryError, _refuse_service, _strip_comments_and_strings
from kg.rdf import (ALT, CORROBORATION_GRAPH, DERIVED_GRAPHS, ENTITY_GRAPH, ENTITY_TYPES, LABEL, STATUS_GRAPH,
                    article_iri, corroboration_quads, derived_keys, entity_key, entity_quads, fact_iri,
                    parse_profile, support_profile)
from kg.vocab import KZO_IRI, PREFIXES, SCHEMA_IRI

DEFAULT_STORE = "kg-store"
#: quads deleted a transaction (Oxigraph holds a transaction's deletions in memory)
DELETE_CHUNK = 20_000
#: derived-graph quads added in one transaction rather than through the bulk loader
SMALL_WRITE = 20_000


_SUPPORT_QUERY = f"""
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX kzo: <{KZO_IRI}>
SELECT ?s ?p ?o (GROUP_CONCAT(STR(?c)) AS ?cs) WHERE {{
  {{ SELECT ?s ?p ?o ?g (MAX(?conf) AS ?c) WHERE {{
      GRAPH ?g {{
        ?a a kzo:Assertion ; rdf:predicate ?p ; kzo:confidence ?conf . FILTER(isNumeric(?conf))
        {{ ?a rdf:subject ?s ; rdf:object ?o }}
        UNION {{ ?a rdf:predicate kzo:metWith ; rdf:subject ?o ; rdf:object ?s }}
      }}
    }} GROUP BY ?s ?p ?o ?g }}
}} GROUP BY ?s ?p ?o
"""

# Per entity: its spellings in the article graphs (how often each), the entity types the
# articles give it, and the fact mentions it takes part in (as subject, as object, or as the
# body of an office that is the object) with the articles they are in. ?e is bound to one
# entity when the derived graphs are updated for some entities only.
_SPELLINGS_QUERY = f"""
SELECT ?e ?l (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?e {ALT} ?l }} FILTER(?g != {ENTITY_GRAPH}) }}
GROUP BY ?e ?l
"""
_TYPES_QUERY = f"""
SELECT DISTINCT ?e ?t WHERE {{
  VALUES ?t {{ {' '.join(str(t) for t in ENTITY_TYPES)} }}
  GRAPH ?g {{ ?e a ?t }} FILTER(?g != {ENTITY_GRAPH}) }}
"""
_MENTIONS_QUERY = f"""
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX kzo: <{KZO_IRI}>
SELECT ?e (COUNT(DISTINCT ?a) AS ?m) (COUNT(DISTINCT ?g) AS ?n) WHERE {{
  GRAPH ?g {{ {{ ?a rdf:subject ?e }} UNION {{ ?a rdf:object ?e }}
             UNION {{ ?a rdf:object ?x . ?x kzo:positionIn ?e }} }}
  FILTER(?g != {CORROBORATION_GRAPH})
}} GROUP BY ?e
"""


_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_NEWS_ARTICLE = ox.NamedNode(SCHEMA_IRI + "NewsArticle")
_RDF_PREDICATE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate")
_SHA256 = ox.NamedNode(KZO_IRI + "sha256")
_IDENTIFIER = ox.NamedNode(SCHEMA_IRI + "identifier")
_OUT_OF_DATE = f"<{KZO_IRI}outOfDate>"
_COUNTS = {ox.NamedNode(KZO_IRI + "mentionCount"): 0, ox.NamedNode(KZO_IRI + "articleCount"): 1}
_PROFILE = ox.NamedNode(KZO_IRI + "sourceProfile")


class _Entities:
    """What the entity graph says of each entity, gathered from query rows: the commonest
    spelling (ties: the longest), types, and fact-mention and article counts. For one
    entity (``one``), its counts are given: the stored ones plus what changed."""

    def __init__(self, store: ox.Store, one: ox.NamedNode | None = None,
                 counts: tuple[int, int] = (0, 0)):
        def rows(query: str):
            if one is None:
                return store.query(query)
            return store.query(query, substitutions={ox.Variable("e"): one})

        self.best: dict[ox.NamedNode, tuple[int, int, str]] = {}
        for row in rows(_SPELLINGS_QUERY):
            e = one or row["e"]
            cand = (int(row["n"].value), len(row["l"].value), row["l"].value)
            if cand > self.best.get(e, (0, 0, "")):
                self.best[e] = cand
        self.types: dict[ox.NamedNode, list] = {}
        for row in rows(_TYPES_QUERY):
            self.types.setdefault(one or row["e"], []).append(row["t"])
        if one is None:
            self.counts = {row["e"]: (int(row["m"].value), int(row["n"].value))
                           for row in store.query(_MENTIONS_QUERY)}
        else:
            self.counts = {one: counts}

    def quads(self, known: dict[str, Entity]) -> Iterable[ox.Quad]:
        """The entity graph's quads for these entities; the canonical label is the
        gazetteer's name where known, else the commonest spelling."""
        for e, (_, _, spelling) in self.best.items():
            ent = known.get(entity_key(e.value))
            yield from entity_quads(e, ent.name if ent else spelling, self.types.get(e, ()),
                                    self.counts.get(e))


def _known_entity_quads(store: ox.Store, e: ox.NamedNode, ent: Entity,
                        counts: tuple[int, int]) -> list[ox.Quad]:
    """A gazetteer entity's entry, as :class:`_Entities` makes it: its label is the
    gazetteer's, so only whether any article still names it, and with which types, is read
    (the first quad found answers: a country named in every article is not read for each)."""
    def in_articles(predicate: ox.NamedNode, obj: ox.NamedNode | None) -> bool:
        return any(q.graph_name != ENTITY_GRAPH for q in store.quads_for_pattern(e, predicate, obj))

    if not in_articles(ALT, None):
        return []
    return list(entity_quads(e, ent.name, [t for t in ENTITY_TYPES if in_articles(_TYPE, t)], counts))


def _number(text: str) -> float | None:
    """A confidence as the support queries give it (only number literals are counted, as
    SPARQL's isNumeric decides; SHACL reports the others)."""
    try:
        return float(text)
    except ValueError:
        return None


def _quads_text(quads: Iterable[ox.Quad]) -> str:
    """Quads as the body of INSERT DATA / DELETE DATA, one GRAPH block per graph."""
    by_graph: dict[ox.NamedNode, list[str]] = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object}")
    return " ".join(f"GRAPH {g} {{ {' .'.join(lines)} }}" for g, lines in by_graph.items())


class StoreError(Exception):
    """A store that cannot be opened or written; the message names the directory."""


class KGStore:
    def __init__(self, path: str | Path = DEFAULT_STORE, *, read_only: bool = False,
                 create: bool = True):
        self.path = Path(path)
        if read_only or not create:
            if not (self.path / "CURRENT").exists():
                raise StoreError(f"{self.path}: no store here (run `kg build` first)")
        try:
            if read_only:
                self.ox = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self.ox = ox.Store(str(self.path))
        except OSError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "lock" in msg.lower():
                msg = "the store is in use by another process (another build?)"
            raise StoreError(f"{self.path}: {msg}") from exc

    # ---- writing --------------------------------------------------------------------------
    #: write_graphs takes batches of about this many quads (the bulk loader is slow per call)
    write_batch_quads = 50_000
    #: whether the derived graphs can be brought up to date for just what a build changed
    incremental = True

    def replace_graph(self, graph: ox.NamedNode, quads: Iterable[ox.Quad]) -> None:
        """Replace one named graph atomically with the given quads (one transaction)."""
        body = " .\n".join(f"{q.subject} {q.predicate} {q.object}" for q in quads)
        update = f"DROP SILENT GRAPH {graph} ;\nINSERT DATA {{ GRAPH {graph} {{\n{body} }} }}"
        self._update(update)

    def write_graphs(self, graphs: Sequence[tuple[ox.NamedNode, Sequence[ox.Quad]]]) -> None:
        """Write whole named graphs, replacing those that exist: one transaction drops the
        old ones, then Oxigraph's bulk loader adds all the quads at once (its files are
        ingested in one atomic RocksDB step, so a crash leaves all of them or none). A graph
        is never half-written; a crash between the two steps leaves a replaced graph
        missing, and the next build, finding its article missing, writes it again."""
        old = [g for g, _ in graphs if self.ox.contains_named_graph(g)]
        if old:
            self._update(" ;\n".join(f"DROP GRAPH {g}" for g in old))
        try:
            self.ox.bulk_extend([q for _, quads in graphs for q in quads])
        except OSError as exc:  # disk full, read-only file system, ...
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(f"{self.path}: cannot write ({msg})") from exc

    def _update(self, update: str) -> None:
        try:
            self.ox.update(update)
        except OSError as exc:  # disk full, read-only file system, ...
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(f"{self.path}: cannot write ({msg})") from exc

    def remove_article(self, article_id: str) -> bool:
        """Drop an article's named graph (its facts, assertions and description). Call
        :meth:`mark_derived_out_of_date` first and :meth:`update_derived` after."""
        g = article_iri(article_id)
        if not self.ox.contains_named_graph(g):
            return False
        self._update(f"DROP GRAPH {g}")
        return True

    def article_sha(self, article_id: str) -> str | None:
        g = article_iri(article_id)
        for q in self.ox.quads_for_pattern(g, _SHA256, None, g):
            return q.object.value
        return None

    def article_ids_with_sha(self, sha: str) -> list[str]:
        """The stored articles built from a text with this SHA-256."""
        return [i for q in self.ox.quads_for_pattern(None, _SHA256, ox.Literal(sha), None)
                if q.subject == q.graph_name and (i := self.article_id_in(q.graph_name)) is not None]

    def article_id_in(self, graph: ox.NamedNode) -> str | None:
        """The id of the article stored in a graph, if any."""
        for q in self.ox.quads_for_pattern(graph, _IDENTIFIER, None, graph):
            return q.object.value
        return None

    def article_version(self, article_id: str) -> str | None:
        g = article_iri(article_id)
        rows = self.ox.query(
            f"SELECT ?v WHERE {{ GRAPH {g} {{ ?b a <{KZO_IRI}Build> ; <{KZO_IRI}extractorVersion> ?v }} }}")
        for row in rows:
            return row["v"].value
        return None

    # ---- derived graphs ---------------------------------------------------------------------
    # Canonical entity labels (kzr:entities) and corroboration (kzr:corroboration) are
    # computed from all article graphs. Before the first article graph of a build or removal
    # changes, kzr:status records them as out of date; the transaction that brings them up to
    # date removes that record. So a store's derived graphs are up to date, or flagged (an
    # interrupted build; the next one recomputes them all), or missing (an empty store).

    #: what a reading command prints when the derived graphs are flagged
    STALE_NOTE = ("note: entity labels, counts and corroboration are out of date (a build or removal is "
                  "running, or was interrupted): answers that use them may be stale or empty until a "
                  "`kg build` completes")

    def derived_up_to_date(self) -> bool:
        """Both derived graphs exist and no interrupted change left them flagged."""
        return (all(self.ox.contains_named_graph(g) for g in DERIVED_GRAPHS)
                and not self.derived_flagged())

    def derived_flagged(self) -> bool:
        """An interrupted build or removal left the derived graphs out of date."""
        return self.ox.contains_named_graph(STATUS_GRAPH)

    def mark_derived_out_of_date(self) -> None:
        """Flag the derived graphs (one small transaction) before article graphs change."""
        if self.ox.contains_named_graph(STATUS_GRAPH):
            return
        body = " .\n".join(f"{g} {_OUT_OF_DATE} true" for g in DERIVED_GRAPHS)
        self._update(f"INSERT DATA {{ GRAPH {STATUS_GRAPH} {{ {body} }} }}")

    def graph_keys(self, graph: ox.NamedNode) -> tuple:
        """What a stored article graph contributes to the derived graphs (see derived_keys)."""
        return derived_keys(self.ox.quads_for_pattern(None, None, None, graph))

    def refresh_derived(self, known: dict[str, Entity]) -> tuple[int, int]:
        """Recompute both derived graphs from all article graphs and clear the flag. Entity
        graph: see :class:`_Entities`. Corroboration: per direct fact, the number of
        articles stating it and the noisy-or of each article's best assertion confidence.
        Oxigraph does the grouping; Python holds one row per entity, never one per fact,
        and the quads are streamed into the bulk loader."""
        entities = _Entities(self.ox)
        facts = 0

        def support():
            nonlocal facts
            for row in self.ox.query(_SUPPORT_QUERY):
                per_article = [c for c in map(_number, row["cs"].value.split()) if c is not None]
                if per_article:
                    facts += 1
                    yield (row["s"], row["p"], row["o"]), support_profile(per_article)

        self._write_derived(itertools.chain(entities.quads(known), corroboration_quads(support())))
        self._update(f"DROP SILENT GRAPH {STATUS_GRAPH}")
        return len(entities.best), facts

    def _write_derived(self, quads: Iterable[ox.Quad]) -> None:
        """Replace both derived graphs (flagged out of date while this runs, so the old ones
        are deleted in chunks: one transaction would hold every deletion in memory)."""
        for g in DERIVED_GRAPHS:
            while chunk := list(itertools.islice(self.ox.quads_for_pattern(None, None, None, g), DELETE_CHUNK)):
                self._delete(chunk)
        self._add(quads)

    def _delete(self, quads: Iterable[ox.Quad]) -> None:
        """Delete quads, ``DELETE_CHUNK`` a transaction (one holds all its deletions in memory)."""
        quads = iter(quads)
        while chunk := list(itertools.islice(quads, DELETE_CHUNK)):
            self._update(f"DELETE DATA {{ {_quads_text(chunk)} }}")

    def _add(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads through the bulk loader, ``write_batch_quads`` a call (it holds a whole
        call's quads in memory); fewer than ``SMALL_WRITE`` in one transaction (the bulk
        loader writes and ingests files for every call: ~0.1 s for a few hundred quads)."""
        quads = iter(quads)
        try:
            while batch := list(itertools.islice(quads, self.write_batch_quads)):
                if len(batch) < SMALL_WRITE:
                    self.ox.extend(batch)
                else:
                    self.ox.bulk_extend(batch)
        except OSError as exc:
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(f"{self.path}: cannot write ({msg})") from exc

    def update_derived(self, entities: set, support: dict, known: dict[str, Entity],
                       mentions: dict | None = None) -> None:
        """Bring the derived graphs up to date for some entities and facts only (those of the
        article graphs a build wrote or replaced, or a removal dropped). Counts add up over
        articles, so the stored ones plus what changed are the new ones: ``support`` maps a
        fact (s, p, o) to the change in its sources by confidence (``kzo:sourceProfile``),
        ``mentions`` a node to the change in its fact mentions and articles (only entities
        keep counts). The result equals :meth:`refresh_derived`'s. The graphs are flagged
        out of date until the old quads are deleted and the new ones added (in steps, not as
        one SPARQL update: one of 85k quads took Oxigraph 9 s and ~440 MB to parse), so a
        stop in between leaves them flagged for the next build to recompute."""
        mentions = mentions or {}
        new: list[ox.Quad] = []
        old: list[ox.Quad] = []
        for e in entities | mentions.keys():
            stored = [0, 0]
            found = list(self.ox.quads_for_pattern(e, None, None, ENTITY_GRAPH))
            if not found and e not in entities:
                continue  # a claim, a visit: no entity, no counts
            old += found
            for q in found:
                if q.predicate in _COUNTS:
                    stored[_COUNTS[q.predicate]] = int(q.object.value)
            dm, da = mentions.get(e, (0, 0))
            counts = (stored[0] + dm, stored[1] + da)
            ent = known.get(entity_key(e.value))
            new += (_known_entity_quads(self.ox, e, ent, counts) if ent
                    else _Entities(self.ox, e, counts).quads(known))
        profiles = []
        for (s, p, o), delta in support.items():
            profile = Counter()
            for q in self.ox.quads_for_pattern(fact_iri(s, p, o), None, None, CORROBORATION_GRAPH):
                old.append(q)
                if q.predicate == _PROFILE:
                    profile = parse_profile(q.object.value)
            profile.update(delta)
            profiles.append(((s, p, o), +profile))
        new += corroboration_quads(profiles)
        self.mark_derived_out_of_date()
        self._delete(old)
        self._add(new)
        self._update(f"DROP SILENT GRAPH {STATUS_GRAPH}")

    # ---- reading --------------------------------------------------------------------------
    def query(self, sparql: str, substitutions: dict | None = None, *, union: bool = True,
              allow_service: bool = False):
        """A SPARQL query; ``SERVICE`` (an outbound request) is refused unless allowed."""
        _refuse_service(sparql, allow_service)
        return self.ox.query(sparql, use_default_graph_as_union=union, prefixes=PREFIXES,
                             substitutions=substitutions)

    def entity_labels(self) -> tuple[dict[str, set[str]], dict[str, str]]:
        """Every entity node with all its labels, and its Wikidata id where known."""
        labels: dict[str, set[str]] = {}
        wikidata: dict[str, str] = {}
        rows = self.query("SELECT ?e ?l ?wd WHERE { ?e a ?t . FILTER(?t IN (kzo:Person, kzo:Country, "
                          "kzo:City, kzo:Region, kzo:Organization, kzo:Agreement, kzo:Event, kzo:Other)) "
                          "{ ?e rdfs:label ?l } UNION { ?e skos:altLabel ?l } OPTIONAL { ?e owl:sameAs ?wd } }")
        for r in rows:
            labels.setdefault(r["e"].value, set()).add(r["l"].value)
            if r["wd"] is not None:
                wikidata[r["e"].value] = r["wd"].value.rsplit("/", 1)[1]
        return labels, wikidata

    def graph_names(self) -> list[ox.NamedNode]:
        return sorted((g for g in self.ox.named_graphs() if isinstance(g, ox.NamedNode)),
                      key=lambda g: g.value)

    def graph_quads(self, graph: ox.NamedNode) -> list[ox.Quad]:
        return list(self.ox.quads_for_pattern(None, None, None, graph))

    def entity_count(self) -> int:
        """Entities with a canonical label (every entity some article mentions, once the
        derived graphs are up to date)."""
        return sum(1 for _ in self.ox.quads_for_pattern(None, LABEL, None, ENTITY_GRAPH))

    def fact_counts(self) -> Counter:
        """Fact mentions (assertions) in all article graphs, by relation."""
        rows = self.ox.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?a {_RDF_PREDICATE} ?p }} "
                             f"FILTER(?g != {CORROBORATION_GRAPH}) }} GROUP BY ?p")
        return Counter({r["p"].value.rsplit("#", 1)[1]: int(r["n"].value) for r in rows})

    def article_count(self) -> int:
        return sum(1 for _ in self.ox.quads_for_pattern(None, _TYPE, _NEWS_ARTICLE, None))

    def article_ids(self) -> list[str]:
        rows = self.query("SELECT ?id WHERE { GRAPH ?g { ?g a schema:NewsArticle ; schema:identifier ?id } }")
        return sorted(r["id"].value for r in rows)

    def __len__(self) -> int:
        return len(self.ox)

    def dataset(self, allow_service: bool = False):
        """This store as an rdflib ``Dataset`` (oxrdflib), default graph = union of all.
        Its queries and updates run on Oxigraph and never reach the network: ``SERVICE``
        and ``LOAD`` are refused unless ``allow_service``, and so is anything that would make
        rdflib fall back to its own engine (which fetches ``SERVICE`` and ``FROM`` graphs)."""
        from oxrdflib import OxigraphStore

        ds = _no_fetch_dataset_class()(store=OxigraphStore(store=self.ox), default_union=True)
        ds.allow_service = allow_service
        ds.oxigraph = self.ox
        for prefix, ns in PREFIXES.items():
            ds.bind(prefix, ns)
        return ds

    def flush(self) -> None:
        self.ox.flush()

    def close(self) -> None:
        self.ox = None  # pyoxigraph closes the database when the object is dropped

    def __enter__(self) -> "KGStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_LOAD = re.compile(r"\bLOAD\b", re.I)


def _refuse_fetch(text, allow_service: bool, update: bool = False) -> None:
    """Refuse what would make a query or update reach the network (see :meth:`KGStore.dataset`)."""
    if not isinstance(text, str):
        raise QueryError("only SPARQL text is run on this store (a prepared rdflib query would run on "
                         "rdflib's own engine, which fetches SERVICE and FROM graphs from the network)")
    _refuse_service(text, allow_service)
    if update and not allow_service and _LOAD.search(_strip_comments_and_strings(text)):
        raise QueryError("LOAD (outbound requests) is disabled; pass allow_service=True to enable")


@lru_cache(maxsize=1)
def _no_fetch_dataset_class():
    """rdflib's ``Dataset`` whose query and update refuse outbound requests (built on first
    use, so importing this module does not import rdflib)."""
    from rdflib import Dataset

    class NoFetchDataset(Dataset):
        allow_service = False
        oxigraph: ox.Store

        def query(self, query_object, processor="sparql", result="sparql", initNs=None,  # noqa: N803
                  initBindings=None, use_store_provided=True, **kwargs):  # noqa: N803
            _refuse_fetch(query_object, self.allow_service)
            if kwargs or not use_store_provided:
                raise QueryError(f"unsupported query options {sorted(kwargs) or ['use_store_provided']}: "
                                 "they would run the query on rdflib's own engine")
            return super().query(query_object, processor, result, initNs, initBindings)

        def update(self, update_object, processor="sparql", initNs=None, initBindings=None,  # noqa: N803
                   use_store_provided=True, **kwargs):
            """Run on Oxigraph (one transaction): oxrdflib hands an update over a union default
            graph to rdflib's own engine, which loads ``USING`` graphs from the network."""
            _refuse_fetch(update_object, self.allow_service, update=True)
            if initBindings or kwargs or not use_store_provided:
                raise QueryError("unsupported update options (initBindings, keyword arguments): "
                                 "they would run the update on rdflib's own engine")
            prefixes = {str(p): str(ns) for p, ns in self.namespaces()}
            prefixes.update({str(p): str(ns) for p, ns in (initNs or {}).items()})
            self.oxigraph.update(update_object, prefixes=prefixes)

    return NoFetchDataset
