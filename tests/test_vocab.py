"""The Python vocabulary and ontology/kzru.ttl declare the same terms."""
from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.gazetteer import ONTOLOGY_DIR
from kg.vocab import KZO, KZO_IRI


def _declared() -> set[str]:
    g = Graph().parse(ONTOLOGY_DIR / "kzru.ttl")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    return {str(s)[len(KZO_IRI):] for k in kinds for s in g.subjects(RDF.type, k)
            if str(s).startswith(KZO_IRI)}


def test_vocab_matches_ontology():
    python_terms = set(KZO.__annotations__)
    assert python_terms <= _declared()
    assert _declared() <= python_terms


def test_vocab_misspelt_term_raises():
    with pytest.raises(AttributeError):
        KZO.vistied  # noqa: B018


def test_vocab_every_term_has_label_and_comment():
    g = Graph().parse(ONTOLOGY_DIR / "kzru.ttl")
    for term in _declared():
        node = URIRef(KZO_IRI + term)
        assert g.value(node, RDFS.label) is not None, term
        assert g.value(node, RDFS.comment) is not None, term


def test_vocab_every_property_has_domain_and_range():
    g = Graph().parse(ONTOLOGY_DIR / "kzru.ttl")
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in g.subjects(RDF.type, kind):
            if str(prop).startswith(KZO_IRI):
                assert g.value(prop, RDFS.domain) is not None, prop
                assert g.value(prop, RDFS.range) is not None, prop
