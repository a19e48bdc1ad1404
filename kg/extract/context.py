"""What every extractor reads: the article, its parsed Doc, resolved mentions, and the
shared reference rules (pronouns and descriptions such as "the Kazakh leader")."""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from spacy.tokens import Doc, Span, Token

from kg.gazetteer import Gazetteer
from kg.model import Article, Entity, Evidence, Mention
from kg.nlp import DocView
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
    claims: list[tuple[int, int, Entity]] = field(default_factory=list)  # direct quotations so far
    #: the Doc's tokens and their attributes, read once (made from ``doc`` when not given)
    view: DocView | None = None

    def __post_init__(self) -> None:
        if self.view is None or self.view.doc is not self.doc:
            self.view = DocView(self.doc)
        self._mention_spans: dict[int, Span | None] = {}
        self._mention_roots: dict[int, int | None] = {}

    # ---- tokens ---------------------------------------------------------------------------
    @property
    def tokens(self) -> list[Token]:
        """The Doc's tokens, made once: use ``ctx.tokens[i]`` rather than ``doc[i]``."""
        return self.view.tokens

    def sent_tokens(self, sent: Span) -> list[Token]:
        """The tokens of a sentence (or any span), from ``tokens``."""
        return self.view.tokens[sent.start:sent.end]

    def ents_in(self, sent: Span) -> list[Span]:
        """``sent.ents`` (the entities wholly inside a span) without recomputing ``doc.ents``."""
        ents = self.view.ents
        out = []
        for k in range(bisect_left(self._ent_starts, sent.start), len(ents)):
            if ents[k].end > sent.end:
                break
            out.append(ents[k])
        return out

    @cached_property
    def _ent_starts(self) -> list[int]:
        return [e.start for e in self.view.ents]

    def mention_span(self, m: Mention) -> Span | None:
        """The tokens of a mention (``char_span`` expanded), made once per mention."""
        key = id(m)
        if key not in self._mention_spans:
            self._mention_spans[key] = self.doc.char_span(m.start, m.end, alignment_mode="expand")
        return self._mention_spans[key]

    def mention_root(self, m: Mention) -> int | None:
        """The index of the syntactic root of a mention's tokens, found once per mention."""
        key = id(m)
        if key not in self._mention_roots:
            span = self.mention_span(m)
            self._mention_roots[key] = span.root.i if span is not None else None
        return self._mention_roots[key]

    # ---- evidence -------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The Doc's text, built once (``Doc.text`` joins every token on each access)."""
        return self.view.text

    @cached_property
    def sentences(self) -> list[Span]:
        """The Doc's sentences, computed once (spaCy walks the whole Doc for each
        ``token.sent``, which makes long articles quadratic)."""
        return list(self.doc.sents)

    @cached_property
    def _sentence_bounds(self) -> tuple[list[int], list[int]]:
        return [s.start_char for s in self.sentences], [s.end_char for s in self.sentences]

    @cached_property
    def _sentence_token_starts(self) -> list[int]:
        return [s.start for s in self.sentences]

    def sent_of(self, token: Token) -> Span:
        """The sentence holding a token (use instead of ``token.sent``)."""
        return self.sentences[bisect_right(self._sentence_token_starts, token.i) - 1]

    def evidence(self, start: int, end: int) -> Evidence:
        """Evidence for a fact read from text[start:end]: the enclosing sentence(s)."""
        starts, ends = self._sentence_bounds
        first = bisect_right(ends, start)  # first sentence ending after start
        last = bisect_left(starts, end) - 1  # last sentence starting before end
        if starts and first <= last:
            start, end = starts[first], ends[last]
        text = self.text[start:end]
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

    def mentions_in(self, span, types: frozenset[str] | None = None) -> list[Mention]:
        """Mentions touching the tokens of a span (or any token sequence), in order."""
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
            for child in token.children:  # "the acting president of Kazakhstan, Kasim-Zhomart Tokaev"
                if child.dep_ in ("appos", "compound", "conj"):
                    ent = self.entity(child, frozenset({"Person"}))
                    if ent is not None:
                        return ent
            for prep in token.children:  # "President of Belarus Alexander Lukashenko"
                if prep.dep_ == "prep" and prep.lower_ == "of":
                    for t in prep.subtree:
                        ent = self.entity(t, frozenset({"Person"}))
                        if ent is not None:
                            return ent
            return self.describe(token)
        return None

    def claim_speaker_at(self, pos: int) -> Entity | None:
        for start, end, speaker in self.claims:
            if start <= pos < end:
                return speaker
        return None

    def last_person(self, before: int) -> Entity | None:
        """The salient person before a position: whoever was last a speaker or a named
        subject; inside a quotation, never the quotation's own speaker (a 'he' in someone's
        words is somebody else), and then the article's most mentioned person."""
        inside = self.claim_speaker_at(before)
        best_pos, best = -1, None
        earlier = [(pos, sp) for pos, sp in self.speakers if pos <= before]
        if earlier and inside is None:
            pos, speaker = earlier[-1]
            if before - pos < 600:
                best_pos, best = pos, speaker
        last_any = None
        for m in self.res.mentions:
            if m.start >= before:
                break
            if m.entity.type != "Person" or m.entity == inside:
                continue
            last_any = m.entity
            span = self.mention_span(m)
            if span is not None and span.root.dep_ in ("nsubj", "nsubjpass") and m.start > best_pos:
                best_pos, best = m.start, m.entity
        if inside is not None:
            claim_start = next(s for s, e, sp in self.claims if s <= before < e)
            local = [m.entity for m in self.res.mentions if claim_start <= m.start < before
                     and m.entity.type == "Person" and m.entity != inside]
            if local:
                return local[-1]
            return self.most_mentioned(exclude=inside)
        return best or last_any

    def most_mentioned(self, exclude: Entity | None = None) -> Entity | None:
        counts = Counter(m.entity for m in self.res.mentions
                         if m.entity.type == "Person" and m.entity != exclude)
        return counts.most_common(1)[0][0] if counts else None

    def describe(self, head: Token) -> Entity | None:
        """'the analyst', 'the Kazakh president', 'the head of Kazakhstan', 'his Kazakh
        counterpart': the person of this article whose title fits."""
        role = head.lower_
        country = None
        for child in head.children:
            if child.dep_ in ("amod", "compound", "poss", "nmod"):
                country = country or self.country_of(child)
            if child.dep_ == "prep" and child.lower_ == "of":
                for pobj in child.children:
                    country = country or self.country_of(pobj)
                    if pobj.lower_ in ("government", "cabinet") and role == "head":
                        role = "premier"  # "the head of (the Russian) government"
                    for mod in pobj.children:  # "head of Russian government"
                        if mod.dep_ in ("amod", "compound"):
                            country = country or self.country_of(mod)
        if role == "speaker" and self.speakers:
            return self.speakers[-1][1]
        words = _role_class(role)
        mods = ({c.lower_ for c in head.children} | (words or set())) & OFFICE_MODIFIERS
        matches = [t for t in self.positions
                   if (words is None or t.role_words & words)
                   and (t.role_words & OFFICE_MODIFIERS) <= mods
                   and (country is None or country in (t.org, t.country))]
        if matches:
            if role in COMMENTATORS:  # "the analyst": the one just quoted or introduced
                before = [t for t in matches if t.start < head.idx]
                return (before[-1] if before else matches[0]).person
            counts = Counter(m.entity for m in self.res.mentions)
            return max(matches, key=lambda t: (counts[t.person], t.start < head.idx)).person
        if role in COMMENTATORS and self.speakers:
            return self.speakers[-1][1]
        if country is not None:  # the gazetteer knows who holds the office
            counts = Counter(m.entity for m in self.res.mentions)
            for person, _ in counts.most_common():
                entry = self.gaz.entries.get(person.key)
                if (entry and entry.country == country.key and person.type == "Person"
                        and (words is None or any(w in r.lower() for r in entry.roles for w in words))):
                    return person
        return None


#: descriptions of commentators, which refer to the nearest one
COMMENTATORS = frozenset({"analyst", "expert", "scientist", "observer", "researcher",
                          "economist", "specialist", "commentator", "speaker", "columnist"})
#: modifiers that make a different office: an Assistant Secretary is not the Secretary
OFFICE_MODIFIERS = frozenset({"deputy", "vice", "assistant", "prime", "foreign", "defence",
                              "defense", "interior", "finance", "press", "security", "general"})
#: role words that describe the same kind of office
_ROLE_CLASSES = (
    frozenset({"president", "leader", "head", "chairman", "chairwoman", "chair", "king", "emir"}),
    frozenset({"premier", "prime", "chancellor"}),
    COMMENTATORS | {"political", "professor", "fellow", "associate"},
    frozenset({"spokesman", "spokeswoman", "spokesperson", "secretary"}),
    frozenset({"minister"}),
    frozenset({"ambassador", "envoy", "diplomat"}),
)


def _role_class(role: str) -> frozenset[str] | None:
    if role in ("counterpart", "colleague"):
        return None
    for cls in _ROLE_CLASSES:
        if role in cls:
            return cls
    return frozenset({role})
