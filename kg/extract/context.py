"""What every extractor reads: the article, its parsed Doc, resolved mentions, and the
shared reference rules (pronouns and descriptions such as "the Kazakh leader")."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from spacy.tokens import Doc, Span, Token

from kg.gazetteer import Gazetteer
from kg.model import Article, Entity, Evidence, Mention
from kg.resolve import Resolution

PERSON_PRONOUNS = frozenset({"he", "she", "him", "her", "his"})
PLACE_TYPES = frozenset({"Country", "City", "Region"})

#: role nouns that can name a person ("the analyst", "the Russian president")
ROLE_NOUNS = frozenset("""
president leader head chairman chairwoman chair minister premier secretary spokesman
spokeswoman spokesperson ambassador envoy director chief researcher associate fellow
professor columnist editor correspondent analyst expert scientist governor mayor senator
deputy adviser advisor aide founder commander chancellor king emir counterpart diplomat
official politician economist observer journalist lawyer speaker colleague
""".split())


@dataclass
class Context:
    article: Article
    doc: Doc
    res: Resolution
    gaz: Gazetteer
    ref_date: dt.date | None = None
    ref_estimated: bool = False  # ref_date inferred from the text, not the article's date
    speakers: list[tuple[int, Entity]] = field(default_factory=list)  # (char, speaker) so far

    # ---- evidence -------------------------------------------------------------------------
    def evidence(self, start: int, end: int) -> Evidence:
        """Evidence for a fact read from text[start:end]: the enclosing sentence(s)."""
        sents = [s for s in self.doc.sents if s.end_char > start and s.start_char < end]
        if sents:
            start, end = sents[0].start_char, sents[-1].end_char
        text = self.doc.text[start:end]
        stripped = text.strip()
        start += len(text) - len(text.lstrip())
        return Evidence(self.article.id, stripped, start, start + len(stripped))

    # ---- mentions -------------------------------------------------------------------------
    def mention(self, token: Token) -> Mention | None:
        return self.res.at(token)

    def entity(self, token: Token, types: frozenset[str] | None = None) -> Entity | None:
        m = self.res.at(token)
        if m is not None and (types is None or m.entity.type in types):
            return m.entity
        return None

    def mentions_in(self, span: Span, types: frozenset[str] | None = None) -> list[Mention]:
        seen, out = set(), []
        for tok in span:
            m = self.res.at(tok)
            if m is not None and id(m) not in seen and (types is None or m.entity.type in types):
                seen.add(id(m))
                out.append(m)
        return out

    def country_of(self, token: Token) -> Entity | None:
        """A country named by a token: a country mention, a demonym, or a capital city."""
        m = self.res.at(token)
        if m is not None:
            if m.entity.type == "Country":
                return m.entity
            if m.entity.type == "City":
                entry = self.gaz.entries.get(m.entity.key)
                country = self.gaz.get(entry.country) if entry else None
                if country is not None and self.gaz.entries[country.key].capital == m.entity.key:
                    return country
            return None
        d = self.res.demonym_at(token)
        return d.entity if d else None

    # ---- titles ---------------------------------------------------------------------------
    @cached_property
    def positions(self):
        from kg.extract.positions import find_titles

        return find_titles(self)

    # ---- references -----------------------------------------------------------------------
    def refer(self, token: Token) -> Entity | None:
        """The person a subject/object token denotes: a name, a pronoun, or a description."""
        ent = self.entity(token, frozenset({"Person"}))
        if ent is not None:
            return ent
        if token.lower_ in PERSON_PRONOUNS:
            return self.last_person(token.idx)
        if token.pos_ in ("NOUN", "PROPN") and token.lower_ in ROLE_NOUNS:
            return self.describe(token)
        return None

    def last_person(self, before: int) -> Entity | None:
        """The salient person before a position: the last speaker if recent, else the last
        person named as a subject, else the last person named."""
        if self.speakers and before - self.speakers[-1][0] < 600:
            return self.speakers[-1][1]
        last_subject = last_any = None
        for m in self.res.mentions:
            if m.start >= before:
                break
            if m.entity.type != "Person":
                continue
            last_any = m.entity
            span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is not None and span.root.dep_ in ("nsubj", "nsubjpass"):
                last_subject = m.entity
        return last_subject or last_any

    def describe(self, head: Token) -> Entity | None:
        """'the analyst', 'the Kazakh president', 'the head of Kazakhstan', 'his Kazakh
        counterpart': the person in this article whose title fits, nearest before."""
        role = head.lower_
        country = None
        for child in head.children:
            if child.dep_ in ("amod", "compound", "poss"):
                country = country or self.country_of(child)
            if child.dep_ == "prep" and child.lower_ == "of":
                for pobj in child.children:
                    country = country or self.country_of(pobj)
        if role == "speaker" and self.speakers:
            return self.speakers[-1][1]
        if role == "counterpart":
            role = None
        before, after = [], []
        for title in self.positions:
            if role and role not in title.role_words:
                continue
            if country is not None and title.org != country and title.country != country:
                continue
            (before if title.start < head.idx else after).append(title)
        if before:
            return before[-1].person
        if after:
            return after[0].person
        if country is not None:  # the gazetteer knows who holds the office
            for m in self.res.mentions:
                entry = self.gaz.entries.get(m.entity.key)
                if (entry and entry.country == country.key and m.entity.type == "Person"
                        and (role is None or any(role in r.lower() for r in entry.roles))):
                    return m.entity
        return None
