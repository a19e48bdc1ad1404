"""Extractors: one small module per relation, each ``extract(ctx) -> Iterable[Fact]``.

They are registered by name here, so a pipeline can pick them from configuration.
"""
from __future__ import annotations

from typing import Callable, Iterable

from spacy.tokens import Doc

from kg.dates import estimate_reference, parse_iso
from kg.extract import meetings, membership, positions, said, visits
from kg.extract.context import Context
from kg.gazetteer import Gazetteer
from kg.model import Article, Fact
from kg.nlp import DocView
from kg.resolve import Resolution, resolve

Extractor = Callable[[Context], Iterable[Fact]]

#: name -> extractor; the order matters: speakers found by ``said`` help later rules
EXTRACTORS: dict[str, Extractor] = {
    positions.NAME: positions.extract,
    said.NAME: said.extract,
    visits.NAME: visits.extract,
    meetings.NAME: meetings.extract,
    membership.NAME: membership.extract,
}
#: a version per extractor family, recorded in the provenance of every fact
VERSION = "0.1.0"


def make_context(article: Article, doc: Doc, gaz: Gazetteer) -> Context:
    ref = parse_iso(article.date)
    estimated = False
    if ref is None:
        ref = estimate_reference(article.text)
        estimated = ref is not None
    view = DocView(doc)  # tokens read once, shared by resolution and the extractors
    return Context(article=article, doc=doc, res=resolve(doc, gaz, view=view), gaz=gaz,
                   ref_date=ref, ref_estimated=estimated, view=view)


def extract_facts(article: Article, doc: Doc, gaz: Gazetteer,
                  names: Iterable[str] | None = None) -> tuple[list[Fact], Resolution]:
    ctx = make_context(article, doc, gaz)
    facts: list[Fact] = []
    for name in names or EXTRACTORS:
        facts.extend(EXTRACTORS[name](ctx))
    return facts, ctx.res
