"""The store as a networkx graph: entities (and claims) as nodes, facts as edges with
their evidence. What ``kg viz`` draws and ``kg stats`` measures."""
from __future__ import annotations

from collections import defaultdict

import networkx as nx

from kg.store import KGStore

EDGE_QUERY = """
SELECT ?s ?p ?o ?claim ?role ?org ?sentence ?article ?headline ?published ?date
WHERE {
  ?a a kzo:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
     prov:wasDerivedFrom ?g ; kzo:evidenceText ?sentence .
  ?g schema:identifier ?article .
  OPTIONAL { ?g schema:headline ?headline }
  OPTIONAL { ?g schema:datePublished ?published }
  OPTIONAL { ?o kzo:text ?claim }
  OPTIONAL { ?o kzo:role ?role ; kzo:positionIn ?org }
  OPTIONAL { ?a kzo:about/kzo:date ?date }
}
"""
NODE_QUERY = """
SELECT ?e ?label ?type ?wd WHERE {
  GRAPH kzr:entities { ?e rdfs:label ?label }
  OPTIONAL { ?e a ?t . FILTER(STRSTARTS(STR(?t), STR(kzo:))) BIND(STRAFTER(STR(?t), STR(kzo:)) AS ?type) }
  OPTIONAL { ?e owl:sameAs ?wdIri . BIND(STRAFTER(STR(?wdIri), "entity/") AS ?wd) }
}
"""


def to_networkx(store: KGStore, relations: set[str] | None = None) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for row in store.query(NODE_QUERY):
        attrs = {"label": row["label"].value, "type": row["type"].value if row["type"] else "Other"}
        if row["wd"] is not None and row["wd"].value:
            attrs["wikidata"] = row["wd"].value
        g.add_node(row["e"].value, **attrs)
    edges: dict[tuple[str, str, str], dict] = {}
    evidence: dict[tuple[str, str, str], list] = defaultdict(list)
    for row in store.query(EDGE_QUERY):
        rel = row["p"].value.rsplit("#", 1)[1]
        if relations and rel not in relations:
            continue
        s = row["s"].value
        if rel == "said":
            o = row["o"].value
            claim = row["claim"].value if row["claim"] else ""
            g.add_node(o, label=_short(claim), type="Claim", text=claim)
        elif rel == "holdsPosition" and row["org"] is not None:
            o = row["org"].value
        else:
            o = row["o"].value
        key = (s, o, rel)
        label = row["role"].value if rel == "holdsPosition" and row["role"] else rel
        edges.setdefault(key, {"relation": rel, "label": label})
        item = {"text": row["sentence"].value,
                "article": row["headline"].value if row["headline"] else row["article"].value,
                "date": (row["date"] or row["published"]).value if (row["date"] or row["published"]) else None}
        if item not in evidence[key]:
            evidence[key].append(item)
    for (s, o, rel), attrs in sorted(edges.items()):
        for node in (s, o):
            if node not in g:
                g.add_node(node, label=node.rsplit("/", 1)[-1], type="Other")
        ev = sorted(evidence[(s, o, rel)], key=lambda e: (e["article"], e["text"]))
        g.add_edge(s, o, key=rel, evidence=ev, sources=len({e["article"] for e in ev}), **attrs)
    return g


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
