"""SHACL validation of the store against ``ontology/shapes.ttl`` (pyshacl).

SHACL sees one graph, so the named graphs to check are merged first: a build checks the
article graphs it wrote plus the labels (in ``kzr:entities``) of the entities they mention;
``kg validate`` checks everything.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox
from rdflib import Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import RDF, RDFS

from kg.gazetteer import ONTOLOGY_DIR
from kg.rdf import ALT, ENTITY_GRAPH, LABEL
from kg.store import KGStore
from kg.vocab import PREFIXES

SHAPES_PATH = ONTOLOGY_DIR / "shapes.ttl"
SH = Namespace("http://www.w3.org/ns/shacl#")


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


def validate_written(store: KGStore, graphs: Iterable[ox.NamedNode]) -> list[Violation]:
    """Validate article graphs a build wrote, with the canonical labels of the entities
    they mention (not the whole of ``kzr:entities``, which grows with the store)."""
    graphs = list(graphs)
    data = store_graph(store, graphs)
    entities = {q.subject for g in graphs for q in store.ox.quads_for_pattern(None, ALT, None, g)}
    for e in entities:
        for q in store.ox.quads_for_pattern(e, LABEL, None, ENTITY_GRAPH):
            data.add((URIRef(e.value), RDFS.label, RdfLiteral(q.object.value, datatype=URIRef(q.object.datatype.value))))
    return validate_graph(data)


def validate_store(store: KGStore, graphs: Iterable[ox.NamedNode] | None = None) -> list[Violation]:
    """Validate the union of the given named graphs (default: the whole store)."""
    return validate_graph(store_graph(store, graphs))
