"""SHACL validation of the store against ``ontology/shapes.ttl``.

SHACL sees one graph, so the named graphs to check are merged first: a build checks the
article graphs it wrote plus the labels (in ``kzr:entities``) of the entities they mention;
``kg validate`` checks everything.

Two engines give the same violations: ``pyshacl`` (the reference, and ``kg validate``'s
default) and ``sparql`` (``kg.shacl``: the shapes compiled to one SPARQL query run by
Oxigraph on an in-memory copy of the data, many times faster; what a build uses). Should
the shapes use something ``kg.shacl`` does not compile, or the data hit a corner where
pyshacl itself fails, the ``sparql`` engine hands the same data to pyshacl.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pyoxigraph as ox
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from kg.gazetteer import ONTOLOGY_DIR
from kg.rdf import ALT, ENTITY_GRAPH, LABEL
from kg.store import KGStore
from kg.vocab import PREFIXES

SHAPES_PATH = ONTOLOGY_DIR / "shapes.ttl"
SH = Namespace("http://www.w3.org/ns/shacl#")
ENGINES = ("pyshacl", "sparql")
Engine = Literal["pyshacl", "sparql"]
log = logging.getLogger(__name__)


class ValidationError(Exception):
    """The shapes cannot be read; the message names the file."""


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which node, which property, what is wrong."""

    focus: str
    path: str | None
    message: str
    value: str | None = None
    severity: str = "Violation"

    def line(self) -> str:
        where = f"{compact(self.focus)} {compact(self.path)}" if self.path else compact(self.focus)
        value = f" (value: {compact(self.value)})" if self.value is not None else ""
        return f"{where}: {self.message}{value}"


def compact(term: str | None) -> str:
    """An IRI as a prefixed name where a known prefix fits (for messages)."""
    if term is None:
        return ""
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if term.startswith(ns):
            return f"{prefix}:{term[len(ns):]}"
    return term


@lru_cache(maxsize=4)
def load_shapes(path: Path = SHAPES_PATH) -> Graph:
    try:
        return Graph().parse(path, format="turtle")
    except Exception as exc:  # rdflib raises many types for bad Turtle and missing files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(f"{path}: cannot read the shapes: {first}") from exc


def validate_graph(data: Graph, shapes: Graph | None = None) -> list[Violation]:
    """Check one rdflib graph against the shapes; the violations, sorted."""
    from pyshacl import validate

    _, results, _ = validate(data, shacl_graph=shapes if shapes is not None else load_shapes(),
                             inference="none", abort_on_first=False, allow_infos=True,
                             allow_warnings=True, meta_shacl=False, advanced=False)
    return sorted(set(_violations(results)), key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))


def _violations(results: Graph) -> Iterable[Violation]:
    for r in results.subjects(RDF.type, SH.ValidationResult):
        path = results.value(r, SH.resultPath)
        value = results.value(r, SH.value)
        severity = results.value(r, SH.resultSeverity)
        yield Violation(
            focus=str(results.value(r, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else (None if path is None else "(path)"),
            message=str(results.value(r, SH.resultMessage) or "does not conform"),
            value=None if value is None else str(value),
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation")


def store_graph(store: KGStore, graphs: Iterable[ox.NamedNode] | None = None) -> Graph:
    """The union of some named graphs of the store (default: all) as one rdflib graph."""
    buf = io.BytesIO()
    for g in (store.graph_names() if graphs is None else graphs):
        store.ox.dump(buf, ox.RdfFormat.N_TRIPLES, from_graph=g)
    return Graph().parse(data=buf.getvalue().decode("utf-8"), format="nt")


def _quads(store: KGStore, graph: ox.NamedNode, predicates: set[str] | None) -> Iterable[ox.Quad]:
    """One named graph's quads (with ``predicates``: only those with one of these)."""
    if predicates is None:
        return store.ox.quads_for_pattern(None, None, None, graph)
    if not isinstance(store.ox, ox.Store):  # a remote store: one request per graph, not per predicate
        return (q for q in store.ox.quads_for_pattern(None, None, None, graph) if q.predicate.value in predicates)
    return (q for p in sorted(predicates) for q in store.ox.quads_for_pattern(None, ox.NamedNode(p), None, graph))


def store_data(store: KGStore, graphs: Iterable[ox.NamedNode] | None = None,
               predicates: Iterable[str] | None = None) -> ox.Store:
    """The union of some named graphs of the store (default: all) as the default graph of
    an in-memory Oxigraph store (quads copied as terms, no text round trip); with
    ``predicates``, only the triples whose predicate is one of these IRIs."""
    from kg.shacl import data_store

    graphs = store.graph_names() if graphs is None else list(graphs)
    predicates = None if predicates is None else set(predicates)
    return data_store(q for g in graphs for q in _quads(store, g, predicates))


def written_data(store: KGStore, graphs: Iterable[ox.NamedNode],
                 predicates: Iterable[str] | None = None) -> ox.Store:
    """What a build validates: the union of the article graphs it wrote, with the canonical
    labels of the entities they mention (not the whole of ``kzr:entities``, which grows
    with the store), in an in-memory store's default graph (with ``predicates``: only the
    triples whose predicate is one of these)."""
    graphs = list(graphs)
    predicates = None if predicates is None else set(predicates)
    data = store_data(store, graphs, predicates)
    if predicates is not None and LABEL.value not in predicates:
        return data
    if predicates is None or ALT.value in predicates:
        entities = {q.subject for q in data.quads_for_pattern(None, ALT, None, ox.DefaultGraph())}
    else:
        entities = {q.subject for g in graphs for q in store.ox.quads_for_pattern(None, ALT, None, g)}
    data.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for e in entities
                     for q in store.ox.quads_for_pattern(e, LABEL, None, ENTITY_GRAPH))
    return data


def rdflib_graph(data: ox.Store) -> Graph:
    """The default graph of an Oxigraph store as rdflib reads it from N-Triples (what
    pyshacl checks)."""
    buf = io.BytesIO()
    data.dump(buf, ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    return Graph().parse(data=buf.getvalue().decode("utf-8"), format="nt")


_unsupported: set[Path] = set()


def compiled_shapes(shapes_path: Path = SHAPES_PATH):
    """The shapes compiled to SPARQL (``kg.shacl``), or None where they use something the
    compiler does not translate (said once, as a warning: pyshacl checks them instead)."""
    from kg.shacl import UnsupportedShapes, compile_shapes

    if shapes_path in _unsupported:
        return None
    try:
        return compile_shapes(shapes_path)
    except UnsupportedShapes as exc:
        _unsupported.add(shapes_path)
        log.warning("%s: validating with pyshacl: the fast validator cannot compile these shapes (%s)",
                    shapes_path, exc)
        return None


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r} (one of {', '.join(ENGINES)})")


def validate_data(data: ox.Store, *, engine: Engine = "sparql",
                  shapes_path: Path = SHAPES_PATH) -> list[Violation]:
    """Check the default graph of an (in-memory) Oxigraph store against the shapes; the
    violations, sorted, the same whichever the engine."""
    _check_engine(engine)
    compiled = compiled_shapes(shapes_path) if engine == "sparql" else None
    if compiled is not None:
        from kg.shacl import NeedsReference

        try:
            return compiled.validate(data)
        except NeedsReference as exc:
            log.info("validating with pyshacl: %s", exc)
    return validate_graph(rdflib_graph(data), load_shapes(shapes_path))


def _validate_copy(load, engine: Engine) -> list[Violation]:
    """Validate data copied from the store by ``load(predicates)``: with the compiled
    shapes, only the triples whose predicates they read (the rest cannot change the
    result); else, or should pyshacl have to answer after all, everything."""
    _check_engine(engine)
    compiled = compiled_shapes() if engine == "sparql" else None
    if compiled is not None:
        from kg.shacl import NeedsReference

        try:
            return compiled.validate(load(compiled.predicates))
        except NeedsReference as exc:
            log.info("validating with pyshacl: %s", exc)
    return validate_graph(rdflib_graph(load(None)))


def validate_written(store: KGStore, graphs: Iterable[ox.NamedNode], *,
                     engine: Engine = "sparql") -> list[Violation]:
    """Validate article graphs a build wrote, with the canonical labels of the entities
    they mention (not the whole of ``kzr:entities``, which grows with the store)."""
    graphs = list(graphs)
    return _validate_copy(lambda predicates: written_data(store, graphs, predicates), engine)


def validate_store(store: KGStore, graphs: Iterable[ox.NamedNode] | None = None, *,
                   engine: Engine = "pyshacl") -> list[Violation]:
    """Validate the union of the given named graphs (default: the whole store)."""
    _check_engine(engine)
    if engine == "pyshacl":
        return validate_graph(store_graph(store, graphs))
    graphs = None if graphs is None else list(graphs)
    return _validate_copy(lambda predicates: store_data(store, graphs, predicates), engine)
