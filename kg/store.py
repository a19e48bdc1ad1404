"""The embedded store: Oxigraph on disk, rdflib's Dataset API on top.

Each article is one named graph, replaced atomically (one SPARQL update = one Oxigraph
transaction), so a crash never leaves half an article. Two derived graphs are recomputed
from all article graphs after each build or removal: canonical entity labels
(``kzr:entities``) and per-fact corroboration (``kzr:corroboration``). They are dropped
(:meth:`KGStore.drop_derived`) before the first article graph of a build or removal changes,
so a build killed between the articles and the refresh leaves them missing, never stale, and
the next build, seeing them missing, recomputes them.

Nothing here reaches the network: ``SERVICE`` (and, in updates, ``LOAD``) is refused unless
asked for, in :meth:`KGStore.query` and in the rdflib ``Dataset`` of :meth:`KGStore.dataset`.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

from kg.model import Entity
from kg.query import QueryError, _refuse_service, _strip_comments_and_strings
from kg.rdf import (CORROBORATION_GRAPH, DERIVED_GRAPHS, ENTITY_GRAPH, article_iri,
                    corroboration_quads, entity_key, entity_label_quads)
from kg.vocab import KZO_IRI, KZR_IRI, PREFIXES

DEFAULT_STORE = "kg-store"


_SUPPORT_QUERY = f"""
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX kzo: <{KZO_IRI}>
SELECT ?s ?p ?o ?g (MAX(?conf) AS ?c) WHERE {{
  GRAPH ?g {{
    ?a a kzo:Assertion ; rdf:predicate ?p ; kzo:confidence ?conf .
    {{ ?a rdf:subject ?s ; rdf:object ?o }}
    UNION {{ ?a rdf:predicate kzo:metWith ; rdf:subject ?o ; rdf:object ?s }}
  }}
}} GROUP BY ?s ?p ?o ?g
"""


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
    def replace_graph(self, graph: ox.NamedNode, quads: Iterable[ox.Quad]) -> None:
        """Replace one named graph atomically with the given quads."""
        body = " .\n".join(f"{q.subject} {q.predicate} {q.object}" for q in quads)
        update = f"DROP SILENT GRAPH {graph} ;\nINSERT DATA {{ GRAPH {graph} {{\n{body} }} }}"
        self._update(update)

    def drop_derived(self) -> None:
        """Drop the derived graphs (one transaction). Called before article graphs change, so
        the derived graphs in a store are either missing or consistent with its articles."""
        self._update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in DERIVED_GRAPHS))

    def _update(self, update: str) -> None:
        try:
            self.ox.update(update)
        except OSError as exc:  # disk full, read-only file system, ...
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(f"{self.path}: cannot write ({msg})") from exc

    def remove_article(self, article_id: str) -> bool:
        """Drop an article's named graph (its facts, assertions and description). Call
        :meth:`drop_derived` first and ``refresh_entities`` / ``refresh_corroboration`` after."""
        g = article_iri(article_id)
        if not self.ox.contains_named_graph(g):
            return False
        self._update(f"DROP GRAPH {g}")
        return True

    def article_sha(self, article_id: str) -> str | None:
        g = article_iri(article_id)
        for q in self.ox.quads_for_pattern(g, ox.NamedNode(KZO_IRI + "sha256"), None, g):
            return q.object.value
        return None

    def article_shas(self) -> dict[str, str]:
        """Every stored article's id and the SHA-256 of the text it was built from."""
        rows = self.query("SELECT ?id ?sha WHERE { GRAPH ?g { ?g a schema:NewsArticle ; "
                          "schema:identifier ?id ; kzo:sha256 ?sha } }")
        return {r["id"].value: r["sha"].value for r in rows}

    def article_version(self, article_id: str) -> str | None:
        g = article_iri(article_id)
        rows = self.ox.query(
            f"SELECT ?v WHERE {{ GRAPH {g} {{ ?b a <{KZO_IRI}Build> ; <{KZO_IRI}extractorVersion> ?v }} }}")
        for row in rows:
            return row["v"].value
        return None

    def refresh_entities(self, known: dict[str, Entity]) -> int:
        """Recompute the canonical label of every entity any article mentions: the
        gazetteer's name where known, else the variant seen most often (ties: longest)."""
        counts: dict[str, Counter] = {}
        rows = self.ox.query(
            "SELECT ?e ?l WHERE { GRAPH ?g { ?e <http://www.w3.org/2004/02/skos/core#altLabel> ?l } "
            f"FILTER(?g != {ENTITY_GRAPH}) }}")
        for row in rows:
            counts.setdefault(row["e"].value, Counter())[row["l"].value] += 1
        entities = []
        for iri, c in sorted(counts.items()):
            key = entity_key(iri)
            if key in known:
                entities.append(known[key])
            else:
                name = max(c.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))[0]
                entities.append(Entity(key=key, name=name, type="Other"))
        self.replace_graph(ENTITY_GRAPH, entity_label_quads(entities))
        return len(entities)

    def refresh_corroboration(self) -> int:
        """Recompute ``kzr:corroboration``: per direct fact, the number of articles stating it
        and the noisy-or of each article's best assertion confidence. A ``metWith``
        assertion supports both directions. One aggregate query, one graph replace."""
        support: dict[tuple, list[float]] = {}
        for row in self.ox.query(_SUPPORT_QUERY):
            key = (row["s"], row["p"], row["o"])
            support.setdefault(key, []).append(float(row["c"].value))
        self.replace_graph(CORROBORATION_GRAPH, corroboration_quads(support))
        return len(support)

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

    def has_derived_graphs(self) -> bool:
        """False for an empty store or one written before a derived graph existed."""
        return all(self.ox.contains_named_graph(g) for g in (ENTITY_GRAPH, CORROBORATION_GRAPH))

    def graph_names(self) -> list[ox.NamedNode]:
        return sorted((g for g in self.ox.named_graphs() if isinstance(g, ox.NamedNode)),
                      key=lambda g: g.value)

    def graph_quads(self, graph: ox.NamedNode) -> list[ox.Quad]:
        return list(self.ox.quads_for_pattern(None, None, None, graph))

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
