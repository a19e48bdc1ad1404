"""The compiled SHACL check (kg.shacl) gives the same violations as pyshacl, faster.

Every broken graph is validated by both engines and the sorted lists of violations must be
equal (blank node labels aside: rdflib invents its own when it parses the data).
"""
from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode

from kg.shacl import NeedsReference, UnsupportedShapes, compile_graph, compile_shapes
from kg.validate import (
    SHAPES_PATH,
    Violation,
    load_shapes,
    rdflib_graph,
    validate_data,
    validate_graph,
    validate_store,
    validate_written,
    written_data,
)

KZO = "https://w3id.org/kzru-kg/ontology#"
KZR = "https://w3id.org/kzru-kg/resource/"
XSD = "http://www.w3.org/2001/XMLSchema#"

PREFIXES = f"""
@base <{KZR}> .
@prefix kzo: <{KZO}> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <{XSD}> .
@prefix schema: <https://schema.org/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix wd: <http://www.wikidata.org/entity/> .
"""

# One of everything the shapes describe, conforming.
BASE = PREFIXES + """
<article/a1> a schema:NewsArticle ; schema:identifier "a1" ; schema:headline "Talks in Moscow" ;
    kzo:sha256 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" ;
    schema:datePublished "2023-11-08"^^xsd:date .
<build/b1> a kzo:Build, prov:Activity ; kzo:extractorVersion "kzru-kg 0.1.0" ;
    prov:wasAssociatedWith <software> ; prov:used <rules>, <gazetteer> .
<software> a prov:SoftwareAgent .
<person_kassym-jomart-tokayev> a kzo:Person ; rdfs:label "Kassym-Jomart Tokayev" ;
    skos:altLabel "Tokayev", "Kassym-Jomart Tokayev" ; owl:sameAs wd:Q359441 ;
    kzo:holdsPosition <position/p1> .
<city_moscow> a kzo:City ; rdfs:label "Moscow" ; skos:altLabel "Moscow" ; owl:sameAs wd:Q649 .
<country_kazakhstan> a kzo:Country ; rdfs:label "Kazakhstan" ; skos:altLabel "Kazakhstan" .
<country_russia> a kzo:Country ; rdfs:label "Russia" ; skos:altLabel "Russia" .
<visit/v1> a kzo:Visit ; kzo:agent <person_kassym-jomart-tokayev> ; kzo:place <city_moscow> ;
    kzo:modality "occurred" ; kzo:date "2023-11-07"^^xsd:date .
<claim/c1> a kzo:Claim ; kzo:speaker <person_kassym-jomart-tokayev> ;
    kzo:text "Relations with Russia are strong." ; kzo:mentions <country_russia> .
<position/p1> a kzo:Position ; kzo:positionIn <country_kazakhstan> ; kzo:role "President" .
<assertion/s1> a kzo:Assertion, rdf:Statement, prov:Entity ;
    rdf:subject <person_kassym-jomart-tokayev> ; rdf:predicate kzo:visited ; rdf:object <city_moscow> ;
    kzo:states <fact/f1> ; prov:wasDerivedFrom <article/a1> ; prov:wasGeneratedBy <build/b1> ;
    kzo:evidenceText "Tokayev arrived in Moscow." ; kzo:charStart 10 ; kzo:charEnd 36 ;
    kzo:extractor "visits" ; kzo:extractorVersion "kzru-kg 0.1.0" ; kzo:confidence 0.9 ;
    kzo:channel "video" .
<fact/f1> a kzo:Fact ; kzo:sourceCount 2 ; kzo:corroboratedConfidence 0.95 ; kzo:sourceProfile "0.5:1 0.9:1" .
"""

S1 = f"<{KZR}assertion/s1>"
V1 = f"<{KZR}visit/v1>"
C1 = f"<{KZR}claim/c1>"
P1 = f"<{KZR}position/p1>"
A1 = f"<{KZR}article/a1>"
B1 = f"<{KZR}build/b1>"
F1 = f"<{KZR}fact/f1>"
TOKAYEV = f"<{KZR}person_kassym-jomart-tokayev>"
MOSCOW = f"<{KZR}city_moscow>"
PRE = ("PREFIX kzo: <https://w3id.org/kzru-kg/ontology#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
       "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
       "PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
       "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX schema: <https://schema.org/> ")


def graph(turtle: str = BASE, *updates: str) -> ox.Store:
    """An in-memory store holding the Turtle in its default graph, then the SPARQL updates."""
    store = ox.Store()
    store.load(turtle.encode(), ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    for u in updates:
        store.update(PRE + u)
    return store


def set_value(node: str, prop: str, value: str) -> str:
    """An update replacing every value of ``node prop`` with ``value``."""
    return f"DELETE {{ {node} {prop} ?o }} INSERT {{ {node} {prop} {value} }} WHERE {{ OPTIONAL {{ {node} {prop} ?o }} }}"


def drop(node: str, prop: str) -> str:
    return f"DELETE WHERE {{ {node} {prop} ?o }}"


def add(node: str, prop: str, value: str) -> str:
    return f"INSERT DATA {{ {node} {prop} {value} }}"


RDFLIB_BNODE_ID = re.compile(r"N[0-9a-f]{32}")


def canonical(violations: list[Violation], bnodes: set[str]) -> list[tuple]:
    """Violations with blank node labels replaced (each engine names blank nodes its own way;
    pyshacl also clones the data graph, which gives its blank nodes fresh rdflib ids)."""
    def c(term):
        return "_:b" if term in bnodes or (term and RDFLIB_BNODE_ID.fullmatch(term)) else term

    return sorted((c(v.focus), v.path or "", v.message, c(v.value) or "", v.severity) for v in violations)


def both(store: ox.Store) -> list[Violation]:
    """Validate with pyshacl and with the compiled shapes; they must agree. pyshacl's answer."""
    data = rdflib_graph(store)
    reference = validate_graph(data)
    fast = compile_shapes(SHAPES_PATH).validate(store)
    bnodes = {str(t) for t in data.all_nodes() if isinstance(t, BNode)}
    if bnodes:
        bnodes |= {t.value for q in store for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)}
        assert canonical(fast, bnodes) == canonical(reference, bnodes)
    else:
        assert fast == reference
    return reference


def messages(violations: list[Violation]) -> set[str]:
    return {v.message for v in violations}


# ---- equality on conforming data ---------------------------------------------------------

def test_shacl_base_graph_conforms_for_both_engines():
    assert both(graph()) == []


def test_shacl_seed_store_conforms_for_both_engines(seed_store):
    articles = [g for g in seed_store.graph_names() if "/article/" in g.value]
    assert validate_written(seed_store, articles, engine="sparql") == []
    assert validate_written(seed_store, articles, engine="pyshacl") == []
    assert validate_store(seed_store, engine="sparql") == validate_store(seed_store) == []


def test_shacl_conforming_data_yields_no_candidate_rows(seed_store):
    """What makes the compiled check fast: on valid data the query returns nothing, so no
    value goes through Python (rdflib) at all."""
    compiled = compile_shapes(SHAPES_PATH)
    articles = [g for g in seed_store.graph_names() if "/article/" in g.value]
    data = written_data(seed_store, articles, compiled.predicates)
    assert len(data) > 1000
    assert list(data.query(compiled.query(False))) == []
    assert list(graph().query(compiled.query(False))) == []


def test_shacl_seed_store_data_is_checked_not_skipped(seed_store):
    """The compiled query does look at the seeds: break every assertion's confidence."""
    articles = [g for g in seed_store.graph_names() if "/article/" in g.value]
    data = written_data(seed_store, articles)
    data.update(PRE + "DELETE { ?a kzo:confidence ?c } INSERT { ?a kzo:confidence 1.5 } "
                      "WHERE { ?a a kzo:Assertion ; kzo:confidence ?c }")
    found = both(data)
    assert len(found) == sum(1 for _ in data.quads_for_pattern(None, ox.NamedNode(KZO + "confidence"), None))
    assert validate_data(data) == found


# ---- one broken graph per constraint ------------------------------------------------------

ENTITY = "an entity has exactly one canonical rdfs:label"
CASES = {
    # entities
    "two labels": ([add(TOKAYEV, "rdfs:label", '"Tokaev"')], ENTITY),
    "no label": ([drop(TOKAYEV, "rdfs:label")], ENTITY),
    "integer label": ([set_value(TOKAYEV, "rdfs:label", "5")], ENTITY),
    "language-tagged label": ([set_value(MOSCOW, "rdfs:label", '"Moscow"@en')], ENTITY),
    "IRI label": ([set_value(MOSCOW, "rdfs:label", MOSCOW)], ENTITY),
    "no altLabel": ([drop(MOSCOW, "skos:altLabel")], "at least one skos:altLabel"),
    "IRI pattern break": ([f"INSERT DATA {{ <{KZR}Person/Bad> a kzo:Person ; rdfs:label \"x\" ; skos:altLabel \"x\" }}"],
                          "an entity IRI is kzr:<type>_<slug>"),
    "IRI outside kzr": (["INSERT DATA { <http://example.org/person_x> a kzo:Other ; rdfs:label \"x\" ; skos:altLabel \"x\" }"],
                        "an entity IRI is kzr:<type>_<slug>"),
    "sameAs not wd:Q": ([set_value(MOSCOW, "owl:sameAs", "<http://dbpedia.org/resource/Moscow>")], "owl:sameAs"),
    "sameAs a literal": ([set_value(MOSCOW, "owl:sameAs", '"Q649"')], "owl:sameAs"),
    "sameAs wd:P": ([set_value(MOSCOW, "owl:sameAs", "<http://www.wikidata.org/entity/P31>")], "owl:sameAs"),
    "two sameAs": ([add(MOSCOW, "owl:sameAs", "<http://www.wikidata.org/entity/Q1>")], "owl:sameAs"),
    "typed Person and Country": ([add(TOKAYEV, "a", "kzo:Country")], "exactly one entity type"),
    "three entity types": ([add(TOKAYEV, "a", "kzo:Country"), add(TOKAYEV, "a", "kzo:Event")],
                           "exactly one entity type"),
    # articles
    "article without sha256": ([drop(A1, "kzo:sha256")], "kzo:sha256"),
    "uppercase sha256": ([set_value(A1, "kzo:sha256", '"' + "0123456789ABCDEF" * 4 + '"')], "kzo:sha256"),
    "short sha256": ([set_value(A1, "kzo:sha256", '"' + "0" * 63 + '"')], "kzo:sha256"),
    "two sha256": ([add(A1, "kzo:sha256", '"' + "f" * 64 + '"')], "kzo:sha256"),
    "no identifier": ([drop(A1, "schema:identifier")], "schema:identifier"),
    "two datePublished": ([add(A1, "schema:datePublished", '"2023"^^xsd:gYear')], "schema:datePublished"),
    "datePublished a string": ([set_value(A1, "schema:datePublished", '"2023-11-08"')], "schema:datePublished"),
    "datePublished a dateTime": ([set_value(A1, "schema:datePublished", '"2023-11-08T10:00:00"^^xsd:dateTime')],
                                 "schema:datePublished"),
    # builds
    "build not an activity": ([f"DELETE DATA {{ {B1} a prov:Activity }}"], "a build is a prov:Activity"),
    "build used one thing": ([f"DELETE DATA {{ {B1} prov:used <{KZR}rules> }}"], "prov:used"),
    "build agent untyped": ([set_value(B1, "prov:wasAssociatedWith", f"<{KZR}someone>")], "prov:wasAssociatedWith"),
    # visits
    "visit with two places": ([add(V1, "kzo:place", f"<{KZR}country_russia>")], "exactly one kzo:place"),
    "visit place an organisation": ([f"INSERT DATA {{ <{KZR}organization_sco> a kzo:Organization ; rdfs:label \"SCO\" ; "
                                     f"skos:altLabel \"SCO\" }}", set_value(V1, "kzo:place", f"<{KZR}organization_sco>")],
                                    "exactly one kzo:place"),
    "visit place a literal": ([set_value(V1, "kzo:place", '"Moscow"')], "exactly one kzo:place"),
    "visit without agent": ([drop(V1, "kzo:agent")], "kzo:agent"),
    "visit agent a literal": ([set_value(V1, "kzo:agent", '"Tokayev"')], "kzo:agent"),
    "modality not in the list": ([set_value(V1, "kzo:modality", '"rumoured"')], "kzo:modality"),
    "modality with a language": ([set_value(V1, "kzo:modality", '"occurred"@en')], "kzo:modality"),
    "modality an IRI": ([set_value(V1, "kzo:modality", "<http://example.org/occurred>")], "kzo:modality"),
    "two modalities": ([add(V1, "kzo:modality", '"planned"')], "kzo:modality"),
    "date 2023-13-45": ([set_value(V1, "kzo:date", '"2023-13-45"^^xsd:date')], "kzo:date"),
    "date 2023-02-29": ([set_value(V1, "kzo:date", '"2023-02-29"^^xsd:date')], "kzo:date"),
    "date a plain string": ([set_value(V1, "kzo:date", '"2023-11-07"')], "kzo:date"),
    "date an integer": ([set_value(V1, "kzo:date", "2023")], "kzo:date"),
    "two dates": ([add(V1, "kzo:date", '"2023-11"^^xsd:gYearMonth')], "kzo:date"),
    # claims
    "claim with empty text": ([set_value(C1, "kzo:text", '""')], "non-empty kzo:text"),
    "claim text an IRI": ([set_value(C1, "kzo:text", "<http://example.org/text>")], "non-empty kzo:text"),
    "claim without speaker": ([drop(C1, "kzo:speaker")], "kzo:speaker"),
    "claim mentions a literal": ([add(C1, "kzo:mentions", '"Russia"')], "kzo:mentions"),
    # positions
    "position nobody holds": ([f"DELETE DATA {{ {TOKAYEV} kzo:holdsPosition {P1} }}"], "held by someone"),
    "role empty": ([set_value(P1, "kzo:role", '""')], "kzo:role"),
    "role a number": ([set_value(P1, "kzo:role", "7")], "kzo:role"),
    "position without positionIn": ([drop(P1, "kzo:positionIn")], "kzo:positionIn"),
    # assertions
    "charStart > charEnd": ([set_value(S1, "kzo:charStart", "90")], "kzo:charStart"),
    "charStart negative": ([set_value(S1, "kzo:charStart", "-1")], "kzo:charStart"),
    "charStart a decimal": ([set_value(S1, "kzo:charStart", "10.0")], "kzo:charStart"),
    "charEnd a string": ([set_value(S1, "kzo:charEnd", '"36"')], "kzo:charStart"),
    "charStart a string": ([set_value(S1, "kzo:charStart", '"10"')], "kzo:charStart"),
    "two charEnds": ([add(S1, "kzo:charEnd", "40")], "kzo:charEnd"),
    "confidence 1.5": ([set_value(S1, "kzo:confidence", "1.5")], "kzo:confidence"),
    "confidence -0.1": ([set_value(S1, "kzo:confidence", "-0.1")], "kzo:confidence"),
    "confidence x": ([set_value(S1, "kzo:confidence", '"x"^^xsd:decimal')], "kzo:confidence"),
    "confidence an integer": ([set_value(S1, "kzo:confidence", "1")], "kzo:confidence"),
    "confidence a double": ([set_value(S1, "kzo:confidence", "0.5e0")], "kzo:confidence"),
    "confidence a string": ([set_value(S1, "kzo:confidence", '"0.9"')], "kzo:confidence"),
    "no confidence": ([drop(S1, "kzo:confidence")], "kzo:confidence"),
    "channel fax": ([set_value(S1, "kzo:channel", '"fax"')], "kzo:channel"),
    "predicate not a direct fact": ([set_value(S1, "rdf:predicate", "kzo:mentions")], "rdf:predicate"),
    "subject a blank node": ([set_value(S1, "rdf:subject", "[]")], "rdf:subject"),
    "object a literal": ([set_value(S1, "rdf:object", '"Moscow"')], "rdf:object"),
    "derived from a non-article": ([set_value(S1, "prov:wasDerivedFrom", f"<{KZR}article/unknown>")],
                                   "prov:wasDerivedFrom"),
    "generated by no build": ([drop(S1, "prov:wasGeneratedBy")], "prov:wasGeneratedBy"),
    "evidence empty": ([set_value(S1, "kzo:evidenceText", '""')], "kzo:evidenceText"),
    "extractor a language string": ([set_value(S1, "kzo:extractor", '"visits"@en')], None),
    "not a statement": ([f"DELETE DATA {{ {S1} a rdf:Statement }}"], "also an rdf:Statement"),
    "not a statement nor an entity": ([f"DELETE DATA {{ {S1} a rdf:Statement, prov:Entity }}"],
                                      "also an rdf:Statement"),
    "states nothing": ([drop(S1, "kzo:states")], None),
    # corroboration
    "fact with sourceCount 0": ([set_value(F1, "kzo:sourceCount", "0")], "kzo:sourceCount"),
    "fact sourceCount a decimal": ([set_value(F1, "kzo:sourceCount", "2.0")], "kzo:sourceCount"),
    "corroborated confidence 2": ([set_value(F1, "kzo:corroboratedConfidence", "2.0")], "corroboratedConfidence"),
    "source profile not pairs": ([set_value(F1, "kzo:sourceProfile", '"0.9 1"')], "kzo:sourceProfile"),
    "source profile missing": ([drop(F1, "kzo:sourceProfile")], "kzo:sourceProfile"),
    # blank nodes as focus nodes
    "a blank node visit": (["INSERT DATA { [] a kzo:Visit ; kzo:modality \"maybe\" }"], "kzo:place"),
    "a blank node entity": (["INSERT DATA { [] a kzo:Person ; rdfs:label \"x\" ; skos:altLabel \"x\" }"],
                            "an entity IRI is kzr:<type>_<slug>"),
    # many at once
    "combined": ([set_value(S1, "kzo:confidence", "1.5"), set_value(S1, "kzo:charStart", "90"),
                  set_value(V1, "kzo:modality", '"rumoured"'), drop(A1, "kzo:sha256"),
                  add(TOKAYEV, "a", "kzo:Country"), set_value(C1, "kzo:text", '""'),
                  set_value(F1, "kzo:sourceCount", "0")], "kzo:confidence"),
    "everything removed but the types": (["DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?p != rdf:type) }"], "kzo:sha256"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_shacl_broken_graph_same_violations(name):
    updates, expected = CASES[name]
    found = both(graph(BASE, *updates))
    assert found, name
    if expected:
        assert any(expected in m for m in messages(found)), (name, messages(found))


# ---- the corners where Oxigraph and rdflib read a value differently ------------------------

CORNERS = {
    # rdflib reads these as valid (Python's int() and Decimal() are lenient), Oxigraph not
    "integer with a space": [set_value(S1, "kzo:charStart", '" 10"^^xsd:integer')],
    "integer with underscores": [set_value(S1, "kzo:charEnd", '"3_6"^^xsd:integer')],
    "decimal in exponent form": [set_value(S1, "kzo:confidence", '"9e-1"^^xsd:decimal')],
    "decimal 1e3": [set_value(S1, "kzo:confidence", '"1e3"^^xsd:decimal')],
    "date with a time zone": [set_value(V1, "kzo:date", '"2023-11-07Z"^^xsd:date')],
    "leap day": [set_value(V1, "kzo:date", '"2024-02-29"^^xsd:date')],
    "date in year 10000": [set_value(V1, "kzo:date", '"10000-01-01"^^xsd:date')],
    # rdflib has no parser for gYear: pyshacl lets anything typed xsd:gYear pass
    "gYear abc": [set_value(V1, "kzo:date", '"abc"^^xsd:gYear')],
    "gYearMonth 2023-13": [set_value(A1, "schema:datePublished", '"2023-13"^^xsd:gYearMonth')],
    # one value for rdflib, two for Oxigraph: no maxCount violation
    "same integer twice": [add(S1, "kzo:charEnd", '" 36"^^xsd:integer')],
    # Python's $ also matches before a final newline
    "sha256 with a final newline": [set_value(A1, "kzo:sha256", '"' + "ab" * 32 + '\\n"')],
    # explicit xsd:string is a plain literal
    "xsd:string modality": [set_value(V1, "kzo:modality", '"planned"^^xsd:string')],
    "non-ASCII role": [set_value(P1, "kzo:role", '"Президент"')],
    "astral role": [set_value(P1, "kzo:role", '"\U0001F600"')],
    # subclasses in the data graph count for sh:targetClass and sh:class
    "subclass of City": ["INSERT DATA { kzo:Capital rdfs:subClassOf kzo:City . "
                         f"<{KZR}city_astana> a kzo:Capital }}", set_value(V1, "kzo:place", f"<{KZR}city_astana>")],
    "subclass chain": ["INSERT DATA { kzo:A rdfs:subClassOf kzo:B . kzo:B rdfs:subClassOf kzo:Region . "
                       f"<{KZR}region_x> a kzo:A ; rdfs:label \"X\" ; skos:altLabel \"X\" }}",
                       set_value(V1, "kzo:place", f"<{KZR}region_x>")],
    "subclass of Assertion": ["INSERT DATA { kzo:Special rdfs:subClassOf kzo:Assertion . "
                              f"<{KZR}assertion/s2> a kzo:Special }}"],
    "subclass cycle": ["INSERT DATA { kzo:A rdfs:subClassOf kzo:B . kzo:B rdfs:subClassOf kzo:A . "
                       f"<{KZR}x_y> a kzo:A }}"],
    "position held twice": [add(f"<{KZR}country_russia>", "kzo:holdsPosition", P1)],
    "charEnd equal to charStart": [set_value(S1, "kzo:charEnd", "10")],
    "confidence exactly 1": [set_value(S1, "kzo:confidence", "1.0")],
    "confidence exactly 0": [set_value(S1, "kzo:confidence", "0.0")],
    "confidence -0": [set_value(S1, "kzo:confidence", '"-0"^^xsd:decimal')],
    # beyond Oxigraph's precision: rdflib's Decimal and int decide
    "confidence just above 1": [set_value(S1, "kzo:confidence", '"1.0000000000000000000001"^^xsd:decimal')],
    "confidence just below 1": [set_value(S1, "kzo:confidence", '"0.99999999999999999999999"^^xsd:decimal')],
    "charEnd beyond 64 bits": [set_value(S1, "kzo:charEnd", '"99999999999999999999999"^^xsd:integer')],
    "charStart beyond 64 bits": [set_value(S1, "kzo:charStart", '"99999999999999999999999"^^xsd:integer')],
}


@pytest.mark.parametrize("name", list(CORNERS))
def test_shacl_value_corners_same_violations(name):
    both(graph(BASE, *CORNERS[name]))


def test_shacl_pyshacl_errors_fall_back_to_pyshacl():
    """Where pyshacl itself fails (a blank node compared with sh:lessThanOrEquals), the fast
    engine hands over instead of guessing: the same error either way."""
    store = graph(BASE, set_value(S1, "kzo:charEnd", "[]"))
    with pytest.raises(NeedsReference):
        compile_shapes(SHAPES_PATH).validate(store)
    with pytest.raises(Exception) as reference:
        validate_graph(rdflib_graph(store))
    with pytest.raises(type(reference.value)):
        validate_data(store, engine="sparql")


# ---- random mutations of a seed article ---------------------------------------------------

OTHER_VALUES = [
    ox.Literal("x"), ox.Literal(""), ox.Literal("occurred"), ox.Literal("phone", language="en"),
    ox.Literal("5", datatype=ox.NamedNode(XSD + "integer")), ox.Literal("-3", datatype=ox.NamedNode(XSD + "integer")),
    ox.Literal("0.5", datatype=ox.NamedNode(XSD + "decimal")), ox.Literal("2", datatype=ox.NamedNode(XSD + "decimal")),
    ox.Literal("2023-11-08", datatype=ox.NamedNode(XSD + "date")), ox.Literal("2023", datatype=ox.NamedNode(XSD + "gYear")),
    ox.NamedNode(KZO + "visited"), ox.NamedNode(KZO + "Country"), ox.NamedNode("http://www.wikidata.org/entity/Q1"),
    ox.NamedNode(KZR + "city_moscow"), ox.BlankNode("hyp"),
]
DATATYPES = ["integer", "decimal", "string", "date", "gYear", "double", "boolean", "anyURI"]


class Quads(list):
    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"<{len(self)} quads>"


@pytest.fixture(scope="module")
def one_article(seed_store):
    """The first seed article's graph with its entities' labels, as quads."""
    article = sorted(g for g in seed_store.graph_names() if "/article/" in g.value)[0]
    return Quads(written_data(seed_store, [article]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_shacl_random_mutations_of_a_seed_article_agree(one_article, data):
    quads = list(one_article)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        i = data.draw(st.integers(0, len(quads) - 1), label="quad")
        q = quads[i]
        how = data.draw(st.sampled_from(["drop", "duplicate", "retype", "replace"]), label="how")
        if how == "drop":
            quads.pop(i)
        elif how == "duplicate":
            value = data.draw(st.sampled_from(OTHER_VALUES + [r.object for r in quads[:50]]), label="value")
            quads.append(ox.Quad(q.subject, q.predicate, value, q.graph_name))
        elif how == "replace":
            value = data.draw(st.sampled_from(OTHER_VALUES), label="value")
            quads[i] = ox.Quad(q.subject, q.predicate, value, q.graph_name)
        else:  # the same lexical form with another datatype
            literals = [j for j, r in enumerate(quads) if isinstance(r.object, ox.Literal)]
            j = data.draw(st.sampled_from(literals), label="literal")
            dt = data.draw(st.sampled_from(DATATYPES), label="datatype")
            r = quads[j]
            quads[j] = ox.Quad(r.subject, r.predicate, ox.Literal(r.object.value, datatype=ox.NamedNode(XSD + dt)),
                               r.graph_name)
    store = ox.Store()
    store.extend(quads)
    try:
        reference = validate_graph(rdflib_graph(store))
    except Exception as exc:  # pyshacl fails on this data: the fast engine must hand over
        with pytest.raises(NeedsReference):
            compile_shapes(SHAPES_PATH).validate(store)
        with pytest.raises(type(exc)):
            validate_data(store)
        return
    data = rdflib_graph(store)
    bnodes = {str(t) for t in data.all_nodes() if isinstance(t, BNode)}
    bnodes |= {t.value for q in store for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)}
    assert canonical(compile_shapes(SHAPES_PATH).validate(store), bnodes) == canonical(reference, bnodes)


# ---- shapes the compiler does not know ------------------------------------------------------

UNSUPPORTED = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix kzo: <https://w3id.org/kzru-kg/ontology#> .
<#ClaimShape> a sh:NodeShape ; sh:targetClass kzo:Claim ;
    sh:property [ sh:path kzo:text ; sh:maxLength 10 ; sh:message "a claim is short" ] .
"""


def test_shacl_unsupported_shape_falls_back_to_pyshacl(tmp_path, caplog):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(UNSUPPORTED, encoding="utf-8")
    with pytest.raises(UnsupportedShapes, match="maxLength"):
        compile_graph(load_shapes(shapes))
    store = graph()
    with caplog.at_level(logging.WARNING, logger="kg.validate"):
        found = validate_data(store, engine="sparql", shapes_path=shapes)
    assert found == validate_graph(rdflib_graph(store), load_shapes(shapes))
    assert [v.message for v in found] == ["a claim is short"]
    assert any("pyshacl" in r.getMessage() and "maxLength" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("extra", [
    "kzs:S a sh:NodeShape ; sh:targetNode kzr:x ; sh:nodeKind sh:IRI ; sh:message \"m\" .",
    "kzs:S a sh:NodeShape ; sh:targetClass kzo:Claim ; sh:property [ sh:path ( kzo:a kzo:b ) ; sh:minCount 1 ; sh:message \"m\" ] .",
    "kzs:S a sh:NodeShape ; sh:targetClass kzo:Claim ; sh:property [ sh:path kzo:text ; sh:minCount 1 ] .",
    "kzs:S a sh:NodeShape ; sh:targetClass kzo:Claim ; sh:severity sh:Warning ; sh:nodeKind sh:IRI ; sh:message \"m\" .",
    "kzs:S a sh:PropertyShape ; sh:targetClass kzo:Claim ; sh:path kzo:text ; sh:minCount 1 ; sh:message \"m\" .",
    "kzs:S a sh:NodeShape ; sh:targetClass kzo:Claim ; sh:property [ sh:path kzo:text ; sh:datatype xsd:string ; sh:flags \"i\" ; sh:pattern \"a\" ; sh:message \"m\" ] .",
    "kzs:S a sh:NodeShape, rdfs:Class ; sh:property [ sh:path kzo:text ; sh:minCount 1 ; sh:message \"m\" ] .",
])
def test_shacl_unsupported_constructs_are_refused(tmp_path, extra):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES_PATH.read_text(encoding="utf-8") + "\n@prefix kzr: <https://w3id.org/kzru-kg/resource/> .\n"
                      + extra + "\n", encoding="utf-8")
    with pytest.raises(UnsupportedShapes):
        compile_graph(load_shapes(shapes))


def test_shacl_the_project_shapes_compile():
    compiled = compile_shapes(SHAPES_PATH)
    assert compiled.branches
    assert "SELECT" in compiled.query(False) and "subClassOf*" in compiled.query(True)


def test_shacl_engine_option_is_checked():
    with pytest.raises(ValueError, match="engine"):
        validate_data(graph(), engine="fast")


# ---- the command and the build ----------------------------------------------------------------

def test_shacl_validate_command_engines_print_the_same_lines(seed_store, tmp_path):
    from typer.testing import CliRunner

    from kg.cli import app
    from kg.store import KGStore

    store = KGStore(tmp_path / "store")
    g = ox.NamedNode(KZR + "article/broken")
    broken = graph(BASE, set_value(S1, "kzo:confidence", "1.5"), set_value(V1, "kzo:modality", '"rumoured"'))
    store.ox.bulk_extend([ox.Quad(q.subject, q.predicate, q.object, g) for q in broken]
                         + [q for q in seed_store.ox.quads_for_pattern(None, None, None, None)])
    store.close()
    runner = CliRunner()
    runs = {engine: runner.invoke(app, ["validate", "--store", str(tmp_path / "store"), "--engine", engine])
            for engine in ("pyshacl", "sparql")}
    assert runs["pyshacl"].exit_code == runs["sparql"].exit_code == 1
    assert runs["pyshacl"].stdout == runs["sparql"].stdout
    assert "kzr:assertion/s1 kzo:confidence" in runs["sparql"].stdout
    bad = runner.invoke(app, ["validate", "--store", str(tmp_path / "store"), "--engine", "fast"])
    assert bad.exit_code == 2


def test_shacl_build_reports_what_pyshacl_reports(tmp_path, monkeypatch):
    """A build validates what it wrote with the compiled shapes; pyshacl agrees line by line."""
    import shutil

    from conftest import SEEDS

    from kg import pipeline
    from kg.store import KGStore

    real = pipeline.article_quads

    def broken(*args):
        quads = real(*args)
        conf = next(q for q in quads if q.predicate.value == KZO + "confidence")
        return [q for q in quads if q.predicate.value != KZO + "sha256"] + [
            ox.Quad(conf.subject, conf.predicate, ox.Literal("1.5", datatype=conf.object.datatype), conf.graph_name)]

    monkeypatch.setattr(pipeline, "article_quads", broken)
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEEDS / "001_a574f8d1869c4b01.txt", src)
    report = pipeline.build([src], tmp_path / "s")
    assert report.validated and report.violations
    with KGStore(tmp_path / "s", read_only=True) as store:
        articles = [g for g in store.graph_names() if "/article/" in g.value]
        assert report.violations == [v.line() for v in validate_written(store, articles, engine="pyshacl")]
    assert any("kzo:sha256" in line for line in report.violations)
    assert any("kzo:confidence" in line and "(value: 1.5)" in line for line in report.violations)


# ---- speed (measured and printed, never asserted: the machine is shared) ----------------------

def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def _report(label: str, store) -> None:
    articles = [g for g in store.graph_names() if "/article/" in g.value]
    validate_written(store, articles[:1])  # compile the shapes, import pyshacl: not timed
    validate_written(store, articles[:1], engine="pyshacl")
    slow, a = _timed(lambda: validate_written(store, articles, engine="pyshacl"), repeat=1)
    fast, b = _timed(lambda: validate_written(store, articles, engine="sparql"))
    assert a == b
    print(f"\n{label}: validate_written over {len(articles)} articles, {len(b)} violations: "
          f"pyshacl {slow:.3f} s, compiled SPARQL {fast:.3f} s ({slow / fast:.1f}x)")


def test_shacl_speed_on_the_seeds(seed_store):
    _report("seeds", seed_store)


def test_shacl_speed_on_a_bigger_store(tmp_path_factory):
    """On a store built from 100 generated articles: /tmp/v100 (or KG_SHACL_STORE), else
    built from /tmp/c100 (`python benchmarks/corpus.py --n 100 --out /tmp/c100`)."""
    from kg.store import KGStore

    path = Path(os.environ.get("KG_SHACL_STORE", "/tmp/v100"))
    if not (path / "CURRENT").exists():
        corpus = Path("/tmp/c100")
        if not corpus.is_dir():
            pytest.skip("no /tmp/v100 store and no /tmp/c100 corpus to build one from")
        from kg.pipeline import build

        path = tmp_path_factory.mktemp("v100") / "store"
        build([corpus], path, validate=False)
    store = KGStore(path, read_only=True)
    try:
        _report(str(path), store)
    finally:
        store.close()
