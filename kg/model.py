"""Plain data passed between the stages: no spaCy objects, no RDF terms.

Everything here is a frozen dataclass holding strings and character offsets, so it
pickles to worker processes and can be written anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: entity types of the ontology (kzo:Person, kzo:Country, ...)
ENTITY_TYPES = ("Person", "Country", "City", "Region", "Organization", "Agreement", "Event", "Other")

#: the relations every extractor may produce
PREDICATES = ("visited", "said", "memberOf", "metWith", "holdsPosition")


@dataclass(frozen=True)
class Article:
    """One cleaned article. ``text`` is what NLP sees; all offsets refer to it."""

    id: str
    text: str
    title: str | None = None
    date: str | None = None  # ISO date of publication, as precise as known
    outlet: str | None = None
    url: str | None = None
    sha256: str = ""  # of the raw bytes read (a .jsonl line: of its text and metadata, not its id)
    source: str | None = None  # the file it was read from


@dataclass(frozen=True)
class Entity:
    """A canonical real-world entity (one node in the graph)."""

    key: str  # stable slug, e.g. "person/kassym-jomart-tokayev"
    name: str  # canonical label
    type: str  # one of ENTITY_TYPES
    wikidata: str | None = None


@dataclass(frozen=True)
class Mention:
    """A span of the article text that refers to an entity."""

    start: int
    end: int
    text: str
    entity: Entity


@dataclass(frozen=True)
class Evidence:
    article: str  # article id
    sentence: str  # the sentence(s) the fact is read from
    start: int  # character offsets of ``sentence`` in the article text
    end: int


@dataclass(frozen=True)
class Fact:
    """One fact mention: what an extractor read in one place of one article."""

    predicate: str  # one of PREDICATES
    subject: Entity
    object: Entity | None
    evidence: Evidence
    extractor: str
    confidence: float
    claim: str | None = None  # for ``said``: the claim text, quotes stripped
    date: str | None = None  # ISO, as precise as the text allows (2023, 2023-10, 2023-10-05)
    modality: str | None = None  # for ``visited``: occurred | planned
    role: str | None = None  # for ``holdsPosition``: "President", "spokesman", ...
    channel: str | None = None  # for ``metWith``: phone | video (None: in person)
    mentions: tuple[Entity, ...] = field(default=())  # for ``said``: entities named in the claim
