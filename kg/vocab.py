"""Namespaces and the kzo: vocabulary (the terms ontology/kzru.ttl declares).

Like rdflib's own ``DefinedNamespace`` modules: a misspelt term raises. A test checks
that these names and the ontology file declare the same terms.
"""
from rdflib import Namespace
from rdflib.namespace import DefinedNamespace

KZO_IRI = "https://w3id.org/kzru-kg/ontology#"
KZR_IRI = "https://w3id.org/kzru-kg/resource/"
WD_IRI = "http://www.wikidata.org/entity/"
SCHEMA_IRI = "https://schema.org/"
PROV_IRI = "http://www.w3.org/ns/prov#"

KZR = Namespace(KZR_IRI)
WD = Namespace(WD_IRI)

PREFIXES = {
    "kzo": KZO_IRI,
    "kzr": KZR_IRI,
    "wd": WD_IRI,
    "schema": SCHEMA_IRI,
    "prov": PROV_IRI,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


class KZO(DefinedNamespace):
    """kzru-kg ontology terms."""

    _fail = True
    _NS = Namespace(KZO_IRI)

    # classes
    Entity: object
    Place: object
    Person: object
    Country: object
    City: object
    Region: object
    Organization: object
    Agreement: object
    Event: object
    Other: object
    Visit: object
    Claim: object
    Position: object
    Assertion: object
    Mention: object
    Build: object
    Fact: object
    # direct facts
    visited: object
    said: object
    memberOf: object
    metWith: object
    holdsPosition: object
    # event, claim and position nodes
    agent: object
    place: object
    date: object
    modality: object
    speaker: object
    text: object
    mentions: object
    role: object
    positionIn: object
    # mentions of entities
    refersTo: object
    anchorText: object
    # assertions (provenance of one fact mention)
    about: object
    evidenceText: object
    charStart: object
    charEnd: object
    evidenceSpan: object
    extractor: object
    extractorVersion: object
    confidence: object
    channel: object
    sha256: object
    sourceCount: object
    corroboratedConfidence: object
    sourceProfile: object
    mentionCount: object
    articleCount: object
    outOfDate: object
    states: object
