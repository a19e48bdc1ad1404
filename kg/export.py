"""Exports: Turtle, TriG, N-Quads (Oxigraph's serializers), JSON-LD (rdflib's, compacted with
the context shipped in ontology/context.jsonld, inlined) and the flat facts JSONL."""
from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import IO, Iterator

import pyoxigraph as ox

from kg.gazetteer import ONTOLOGY_DIR
from kg.store import KGStore
from kg.vocab import KZR_IRI, PREFIXES

CONTEXT_PATH = ONTOLOGY_DIR / "context.jsonld"

RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
}
FORMATS = tuple(RDF_FORMATS) + ("facts",)
#: characters JSON leaves raw that line readers (str.splitlines, JavaScript) take for line
#: breaks: escaped, so one fact stays one line
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}

FACTS_QUERY = """
SELECT ?article ?pred ?s ?sLabel ?sWd ?o ?oLabel ?oWd ?claim ?date ?modality ?role ?channel
       ?sentence ?start ?end ?extractor ?confidence ?sources ?corroborated
WHERE {
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?obj ;
     prov:wasDerivedFrom ?g ; kzo:evidenceText ?sentence ; kzo:charStart ?start ;
     kzo:charEnd ?end ; kzo:extractor ?extractor ; kzo:confidence ?confidence .
  ?g schema:identifier ?article .
  BIND(STRAFTER(STR(?p), STR(kzo:)) AS ?pred)
  OPTIONAL { ?a kzo:channel ?channel }
  OPTIONAL { ?a kzo:role ?role }
  OPTIONAL { ?a kzo:about ?about .
    OPTIONAL { ?about kzo:date ?date }
    OPTIONAL { ?about kzo:modality ?modality }
    OPTIONAL { ?about kzo:text ?claim }
    OPTIONAL { ?about kzo:positionIn ?org } }
  OPTIONAL { GRAPH <%(corroboration)s> { ?f rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?obj ;
    kzo:sourceCount ?sources ; kzo:corroboratedConfidence ?corroborated } }
  BIND(IF(BOUND(?org), ?org, ?obj) AS ?o)
  OPTIONAL { GRAPH <%(entities)s> { ?s rdfs:label ?sLabel } }
  OPTIONAL { GRAPH <%(entities)s> { ?o rdfs:label ?oLabel } }
  OPTIONAL { ?s owl:sameAs ?sWd }
  OPTIONAL { ?o owl:sameAs ?oWd }
}
ORDER BY ?article ?start ?pred ?s ?o ?claim
""" % {"entities": KZR_IRI + "entities", "corroboration": KZR_IRI + "corroboration"}


def iter_facts(store: KGStore) -> Iterator[dict]:
    """One dict per fact mention, the shape of DESIGN.md's facts export."""
    seen = set()
    for row in store.query(FACTS_QUERY):
        get = lambda k: row[k].value if row[k] is not None else None  # noqa: E731
        wd = lambda k: get(k).rsplit("/", 1)[1] if get(k) else None  # noqa: E731
        said = get("pred") == "said"
        fact = {
            "article": get("article"),
            "predicate": get("pred"),
            "subject": get("sLabel"),
            "subject_id": get("s"),
            "subject_wikidata": wd("sWd"),
            "object": None if said else get("oLabel"),
            "object_id": None if said else get("o"),
            "object_wikidata": None if said else wd("oWd"),
            "claim": get("claim"),
            "date": get("date"),
            "modality": get("modality"),
            "role": get("role"),
            "channel": get("channel"),
            "sentence": get("sentence"),
            "start": int(get("start")),
            "end": int(get("end")),
            "extractor": get("extractor"),
            "confidence": float(get("confidence")),
            "sources": int(get("sources") or 0),
            "corroborated_confidence": float(get("corroborated") or 0.0),
        }
        key = json.dumps(fact, sort_keys=True)
        if key not in seen:
            seen.add(key)
            yield fact


def export(store: KGStore, fmt: str, output: str | Path) -> int:
    """Write the store in a format to a file (atomically); returns the records written
    (quads, triples or facts)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            count = _write(store, fmt, fh)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _write(store: KGStore, fmt: str, fh: IO[bytes]) -> int:
    if fmt == "facts":
        n = 0
        for fact in iter_facts(store):
            fh.write(json.dumps(fact, ensure_ascii=False).translate(_LINE_BREAKS).encode("utf-8") + b"\n")
            n += 1
        return n
    if fmt == "turtle":  # a triples format: the union of all graphs
        triples = list(dict.fromkeys(q.triple for q in store.ox))
        ox.serialize(triples, fh, ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        return len(triples)
    if fmt == "jsonld":
        return _write_jsonld(store, fh)
    store.ox.dump(fh, RDF_FORMATS[fmt], prefixes=PREFIXES if fmt != "nquads" else None)
    return len(store)


def load_context(path: Path | None = None) -> dict:
    """The compact JSON-LD context (prefixes and terms) as an object, read from disk only."""
    path = Path(path or CONTEXT_PATH)
    try:
        return json.loads(path.read_text(encoding="utf-8"))["@context"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a JSON-LD context file ({exc})") from exc


def _write_jsonld(store: KGStore, fh: IO[bytes]) -> int:
    """Every named graph as a JSON-LD ``@graph``, compacted with the inline context (the
    document never refers to a remote context, so readers need no network)."""
    from rdflib import Dataset

    buf = io.BytesIO()
    store.ox.dump(buf, ox.RdfFormat.N_QUADS)
    lines = buf.getvalue().decode("utf-8").splitlines(keepends=True)
    # rdflib's compactor (7.x, jsonld.py add_to_node: `if value:`) drops an empty string that
    # comes before another value of the same property: give it the empty strings last
    lines.sort(key=lambda line: ' "" <' in line)
    with warnings.catch_warnings():  # rdflib 7's Dataset code calls its own deprecated names
        warnings.simplefilter("ignore", DeprecationWarning)
        ds = Dataset()
        ds.parse(data="".join(lines), format="nquads")
        text = ds.serialize(format="json-ld", context=load_context(), auto_compact=True,
                            use_native_types=False, ensure_ascii=False)
    data = text.encode("utf-8")
    back = len(set(ox.parse(data, format=ox.RdfFormat.JSON_LD)))
    if back != len(store):  # never write a file that silently lost statements
        raise ValueError(f"the JSON-LD serializer kept {back} of {len(store)} statements; "
                         "export turtle, trig or nquads instead")
    fh.write(data)
    return len(store)
