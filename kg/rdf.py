"""Facts -> RDF quads in the article's named graph, with provenance (the RDF contract).

Never touches spaCy: it reads ``Article``, ``Fact`` and the entity variants only.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, Quad

from kg.model import Article, Entity, Fact, Mention
from kg.vocab import KZO_IRI, KZR_IRI, PROV_IRI, SCHEMA_IRI, WD_IRI

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"

ENTITY_GRAPH = NamedNode(KZR_IRI + "entities")
#: derived graph: per direct fact, how many articles support it and their combined confidence
CORROBORATION_GRAPH = NamedNode(KZR_IRI + "corroboration")
#: graphs recomputed from the article graphs after every change (never written by hand)
DERIVED_GRAPHS = (ENTITY_GRAPH, CORROBORATION_GRAPH)
#: holds ``<derived graph> kzo:outOfDate true`` while article graphs change (see kg.store)
STATUS_GRAPH = NamedNode(KZR_IRI + "status")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._~-]+")


def kzo(term: str) -> NamedNode:
    return NamedNode(KZO_IRI + term)


def _n(base: str, term: str) -> NamedNode:
    return NamedNode(base + term)


TYPE = _n(RDF, "type")
LABEL = _n(RDFS, "label")
ALT = _n(SKOS, "altLabel")
SAME = _n(OWL, "sameAs")


def article_iri(article_id: str) -> NamedNode:
    return NamedNode(f"{KZR_IRI}article/{safe_id(article_id)}")


def safe_id(text: str) -> str:
    """An article id as an IRI path segment (ids come from file names and feeds); never
    empty, and never '.' or '..', which IRI resolution would read as a path step."""
    s = _SAFE_ID.sub("-", text).strip("-")[:120]
    return s if s.strip(".") else hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def entity_iri(entity: Entity) -> NamedNode:
    """kzr:person_kassym-jomart-tokayev, kzr:city_moscow: valid SPARQL prefixed names."""
    return NamedNode(KZR_IRI + entity.key.replace("/", "_", 1))


def entity_key(iri: str) -> str:
    return iri[len(KZR_IRI):].replace("_", "/", 1)


def _hash(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:20]


def date_literal(value: str) -> Literal:
    kinds = {10: "date", 7: "gYearMonth", 4: "gYear"}
    return Literal(value, datatype=_n(XSD, kinds.get(len(value), "string")))


def _text(value: str) -> Literal:
    return Literal(value)


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=_n(XSD, "integer"))


def _dec(value: float) -> Literal:
    return Literal(f"{value:.4f}", datatype=_n(XSD, "decimal"))


@dataclass(frozen=True)
class BuildInfo:
    """What produced a set of assertions: the software, extractor rules and gazetteer versions.

    Its IRI is a hash of these versions (no clock, no host), so two builds of the same
    inputs with the same software write identical quads."""

    software: str  # kzru-kg's version
    extractors: str  # the extractor rules' version
    gazetteer: str  # SHA-256 of the gazetteer file

    @property
    def tag(self) -> str:
        return f"kzru-kg {self.software}; extractors {self.extractors}; gazetteer {self.gazetteer[:12]}"

    @property
    def iri(self) -> NamedNode:
        return NamedNode(f"{KZR_IRI}build/{hashlib.sha1(self.tag.encode()).hexdigest()[:16]}")


def article_quads(article: Article, facts: Iterable[Fact], variants: dict[str, set[str]],
                  entities: dict[str, Entity], build: BuildInfo,
                  mentions: Iterable[Mention] = ()) -> list[Quad]:
    """Everything one article contributes, in its own named graph: the article, its
    facts with their assertions, every entity it names with the spellings seen, and each
    mention as an RFC 5147 fragment of the article (<article#char=start,end>)."""
    g = article_iri(article.id)
    out: list[Quad] = []

    def add(s, p, o):
        out.append(Quad(s, p, o, g))

    _describe_article(add, g, article)
    for m in mentions:
        node = NamedNode(f"{g.value}#char={m.start},{m.end}")
        add(node, kzo("refersTo"), entity_iri(m.entity))
        add(node, kzo("anchorText"), _text(m.text))
    used: dict[str, Entity] = dict(entities)
    for fact in facts:
        for ent in (fact.subject, fact.object, *fact.mentions):
            if ent is not None:
                used[ent.key] = ent
        _fact(add, g, article, fact, build)
    for key, ent in sorted(used.items()):
        node = entity_iri(ent)
        add(node, TYPE, kzo(ent.type if ent.type in _ENTITY_CLASSES else "Other"))
        for v in sorted(set(variants.get(key, ())) | {ent.name}):
            add(node, ALT, _text(v))
        if ent.wikidata:
            add(node, SAME, NamedNode(WD_IRI + ent.wikidata))
    _describe_build(add, build)
    return _dedupe(out)


def _describe_build(add, b: BuildInfo) -> None:
    """The build as a prov:Activity: the software agent it ran, the rules and gazetteer it used."""
    node = b.iri
    software = NamedNode(f"{KZR_IRI}software/kzru-kg-{safe_id(b.software)}")
    rules = NamedNode(f"{KZR_IRI}extractors/{safe_id(b.extractors)}")
    gazetteer = NamedNode(f"{KZR_IRI}gazetteer/{b.gazetteer[:16]}")
    add(node, TYPE, kzo("Build"))
    add(node, TYPE, _n(PROV_IRI, "Activity"))
    add(node, LABEL, _text(b.tag))
    add(node, kzo("extractorVersion"), _text(b.tag))
    add(node, _n(PROV_IRI, "wasAssociatedWith"), software)
    add(node, _n(PROV_IRI, "used"), rules)
    add(node, _n(PROV_IRI, "used"), gazetteer)
    add(software, TYPE, _n(PROV_IRI, "SoftwareAgent"))
    add(software, TYPE, _n(SCHEMA_IRI, "SoftwareApplication"))
    add(software, _n(SCHEMA_IRI, "name"), _text("kzru-kg"))
    add(software, _n(SCHEMA_IRI, "softwareVersion"), _text(b.software))
    add(rules, TYPE, _n(PROV_IRI, "Plan"))
    add(rules, LABEL, _text(f"kzru-kg extractor rules {b.extractors}"))
    add(rules, _n(SCHEMA_IRI, "version"), _text(b.extractors))
    add(gazetteer, TYPE, _n(PROV_IRI, "Entity"))
    add(gazetteer, LABEL, _text(f"kzru-kg gazetteer {b.gazetteer[:12]}"))
    add(gazetteer, kzo("sha256"), _text(b.gazetteer))


_ENTITY_CLASSES = {"Person", "Country", "City", "Region", "Organization", "Agreement", "Event", "Other"}


ENTITY_TYPES = tuple(kzo(t) for t in sorted(_ENTITY_CLASSES))


def entity_quads(node: NamedNode, label: str, types: Iterable[NamedNode] = (),
                 counts: tuple[int, int] | None = None) -> Iterator[Quad]:
    """An entity's entry in the derived entity graph (recomputed from the articles): its
    canonical label, the type(s) the articles give it and, if it takes part in any fact,
    the number of fact mentions (as subject, object, or the body of an office that is the
    object) and of articles with such a mention. Queries read these instead of counting."""
    g = ENTITY_GRAPH
    yield Quad(node, LABEL, _text(label), g)
    for t in sorted(types, key=lambda t: t.value):
        yield Quad(node, TYPE, t, g)
    if counts and counts[0]:
        yield Quad(node, kzo("mentionCount"), _int(counts[0]), g)
        yield Quad(node, kzo("articleCount"), _int(counts[1]), g)


def _describe_article(add, g: NamedNode, a: Article) -> None:
    add(g, TYPE, _n(SCHEMA_IRI, "NewsArticle"))
    add(g, _n(SCHEMA_IRI, "identifier"), _text(a.id))
    if a.title:
        add(g, _n(SCHEMA_IRI, "headline"), _text(a.title))
    if a.date:
        add(g, _n(SCHEMA_IRI, "datePublished"), date_literal(a.date))
    if a.outlet:
        add(g, _n(SCHEMA_IRI, "publisher"), _text(a.outlet))
    if a.url and re.match(r"^https?://[^\s<>\"{}|\\^`]+$", a.url):
        add(g, _n(SCHEMA_IRI, "url"), Literal(a.url, datatype=_n(XSD, "anyURI")))
    if a.sha256:
        add(g, kzo("sha256"), _text(a.sha256))


def _fact(add, g: NamedNode, article: Article, f: Fact, build: BuildInfo) -> None:
    s = entity_iri(f.subject)
    pred = kzo(f.predicate)
    about = None
    if f.predicate == "visited":
        # one node per trip as one article reports it: two trips to one place are two nodes
        o = entity_iri(f.object)
        about = NamedNode(f"{KZR_IRI}visit/"
                          f"{_hash(article.id, f.subject.key, f.object.key, f.date or '', f.modality or '')}")
        add(about, TYPE, kzo("Visit"))
        add(about, kzo("agent"), s)
        add(about, kzo("place"), o)
        if f.date:
            add(about, kzo("date"), date_literal(f.date))
        if f.modality:
            add(about, kzo("modality"), _text(f.modality))
        add(s, pred, o)
    elif f.predicate == "said":
        # a claim is its speaker and words: the same quotation in two articles is one
        # claim node with two assertions, so it is corroborated like any other fact
        o = about = NamedNode(f"{KZR_IRI}claim/{_hash(f.subject.key, f.claim)}")
        add(o, TYPE, kzo("Claim"))
        add(o, kzo("speaker"), s)
        add(o, kzo("text"), _text(f.claim or ""))
        for m in f.mentions:
            add(o, kzo("mentions"), entity_iri(m))
        add(s, pred, o)
    elif f.predicate == "holdsPosition":
        org = entity_iri(f.object)
        o = about = NamedNode(f"{KZR_IRI}position/{f.subject.key.split('/', 1)[1]}/"
                              f"{f.object.key.replace('/', '-')}")
        add(o, TYPE, kzo("Position"))
        add(o, kzo("positionIn"), org)
        if f.role:
            add(o, kzo("role"), _text(f.role))
        add(s, pred, o)
    else:
        o = entity_iri(f.object)
        add(s, pred, o)
        if f.predicate == "metWith":
            add(o, pred, s)
    node = NamedNode(f"{KZR_IRI}assertion/"
                     f"{_hash(article.id, f.predicate, f.subject.key, o.value, f.evidence.start, f.evidence.end)}")
    add(node, TYPE, kzo("Assertion"))
    add(node, TYPE, _n(RDF, "Statement"))
    add(node, TYPE, _n(PROV_IRI, "Entity"))
    add(node, _n(RDF, "subject"), s)
    add(node, _n(RDF, "predicate"), pred)
    add(node, _n(RDF, "object"), o)
    add(node, kzo("states"), fact_iri(s, pred, o))
    if f.predicate == "metWith":  # one meeting, both directions
        add(node, kzo("states"), fact_iri(o, pred, s))
    if about is not None:
        add(node, kzo("about"), about)
    add(node, _n(PROV_IRI, "wasDerivedFrom"), g)
    add(node, _n(PROV_IRI, "wasGeneratedBy"), build.iri)
    add(node, kzo("evidenceText"), _text(f.evidence.sentence))
    add(node, kzo("charStart"), _int(f.evidence.start))
    add(node, kzo("charEnd"), _int(f.evidence.end))
    add(node, kzo("evidenceSpan"), NamedNode(f"{g.value}#char={f.evidence.start},{f.evidence.end}"))
    add(node, kzo("extractor"), _text(f.extractor))
    add(node, kzo("extractorVersion"), _text(build.tag))
    add(node, kzo("confidence"), _dec(f.confidence))
    if f.channel:
        add(node, kzo("channel"), _text(f.channel))
    if f.predicate == "holdsPosition" and f.role:
        # a position node is shared by all articles; the title this sentence gives is the assertion's
        add(node, kzo("role"), _text(f.role))


def _dedupe(quads: list[Quad]) -> list[Quad]:
    return list(dict.fromkeys(quads))


def noisy_or(confidences: Iterable[float]) -> float:
    """1 - Π(1 - c): the chance that at least one source is right, if each errs independently."""
    miss = 1.0
    for c in confidences:
        miss *= 1.0 - min(max(float(c), 0.0), 1.0)
    return 1.0 - miss


def fact_iri(s: NamedNode, p: NamedNode, o: NamedNode) -> NamedNode:
    """One IRI per direct fact (s, p, o), the same in every build."""
    return NamedNode(f"{KZR_IRI}fact/{_hash(s.value, p.value, o.value)}")


def derived_keys(quads: Iterable[Quad]) -> tuple[set[NamedNode], dict[tuple, float | None], Counter]:
    """What the derived graphs depend on in some article quads: the entities spelled there
    (their canonical label counts those spellings); the direct facts asserted there, as
    (s, p, o) (a ``metWith`` assertion supports both directions), each with the best
    confidence an assertion of it gives (None if none is a number literal); and per entity
    the fact mentions there it takes part in: as subject, as object, or as the body of an
    office that is the object (``kzo:mentionCount`` adds these up over the articles)."""
    entities: set[NamedNode] = set()
    parts: dict[NamedNode, dict[str, NamedNode]] = {}
    confidence: dict[NamedNode, list[float]] = {}
    assertions: set[NamedNode] = set()
    position_in: dict[NamedNode, set[NamedNode]] = {}
    for q in quads:
        p = q.predicate
        if p == ALT:
            entities.add(q.subject)
        elif p in _SPO:
            parts.setdefault(q.subject, {})[_SPO[p]] = q.object
        elif p == _POSITION_IN:
            position_in.setdefault(q.subject, set()).add(q.object)
        elif p == _CONFIDENCE:
            if isinstance(q.object, Literal) and q.object.datatype in _NUMERIC:
                try:
                    confidence.setdefault(q.subject, []).append(float(q.object.value))
                except ValueError:  # an ill-formed number: not counted (SHACL reports it)
                    pass
        elif p == TYPE and q.object == _ASSERTION:
            assertions.add(q.subject)
    facts: dict[tuple, float | None] = {}
    mentions: Counter = Counter()

    def support(fact: tuple, a: NamedNode) -> None:
        best = max(confidence.get(a, ()), default=None) if a in assertions else None
        if fact not in facts or (best is not None and (facts[fact] is None or best > facts[fact])):
            facts[fact] = best

    for a, spo in parts.items():
        if len(spo) == 3:
            support((spo["s"], spo["p"], spo["o"]), a)
            if spo["p"] == _MET:
                support((spo["o"], spo["p"], spo["s"]), a)
        o = spo.get("o")
        mentions.update({spo.get("s"), o, *position_in.get(o, ())} - {None})
    return entities, facts, mentions


def fact_mentions(quads: Iterable[Quad]) -> Counter:
    """Fact mentions (assertion nodes) in some article quads, by relation name."""
    pred = _n(RDF, "predicate")
    return Counter(q.object.value.rsplit("#", 1)[1] for q in quads
                   if q.predicate == pred and q.object.value.startswith(KZO_IRI))


_SPO = {_n(RDF, "subject"): "s", _n(RDF, "predicate"): "p", _n(RDF, "object"): "o"}
_MET = kzo("metWith")
_POSITION_IN = kzo("positionIn")
_CONFIDENCE = kzo("confidence")
_ASSERTION = kzo("Assertion")
#: the datatypes SPARQL's isNumeric accepts: only these confidences count
_NUMERIC = {_n(XSD, t) for t in (
    "decimal", "double", "float", "integer", "nonPositiveInteger", "negativeInteger", "long", "int",
    "short", "byte", "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte", "positiveInteger")}


def confidence_key(c: float) -> str:
    """A confidence as a source profile counts it (clamped to [0, 1])."""
    return repr(min(max(float(c), 0.0), 1.0))


def support_profile(confidences: Iterable[float]) -> Counter:
    """Sources by confidence: how many articles gave a fact each (best) confidence. A fact's
    corroboration is computed from this alone, so it can be kept up to date by adding and
    subtracting one article's sources, and equals a recompute exactly."""
    return Counter(map(confidence_key, confidences))


def profile_text(profile: Counter) -> str:
    """A profile as stored: "confidence:articles" pairs, by confidence ("0.7:2 0.85:959")."""
    return " ".join(f"{c}:{n}" for c, n in sorted(profile.items(), key=lambda kv: float(kv[0])) if n)


def parse_profile(text: str) -> Counter:
    return Counter({c: int(n) for c, n in (pair.rsplit(":", 1) for pair in text.split())})


def corroboration_quads(support: Iterable[tuple[tuple, Counter]]) -> Iterator[Quad]:
    """Per direct fact (s, p, o) -> its sources by confidence (each article's best): a node in
    the corroboration graph with the number of articles, their noisy-or confidence and the
    profile it is computed from."""
    g = CORROBORATION_GRAPH
    for (s, p, o), profile in support:
        text = profile_text(profile)
        if not text:
            continue
        node = fact_iri(s, p, o)
        yield Quad(node, TYPE, kzo("Fact"), g)
        yield Quad(node, TYPE, _n(RDF, "Statement"), g)
        yield Quad(node, _n(RDF, "subject"), s, g)
        yield Quad(node, _n(RDF, "predicate"), p, g)
        yield Quad(node, _n(RDF, "object"), o, g)
        yield Quad(node, kzo("sourceCount"), _int(sum(profile.values())), g)
        combined = noisy_or(float(c) for c, n in sorted(profile.items(), key=lambda kv: float(kv[0]))
                            for _ in range(n))
        yield Quad(node, kzo("corroboratedConfidence"), _dec(combined), g)
        yield Quad(node, kzo("sourceProfile"), _text(text), g)
