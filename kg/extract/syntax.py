"""Small dependency-tree helpers shared by the extractors."""
from __future__ import annotations

from typing import Iterator

from spacy.tokens import Token

from kg.extract.context import PLACE_TYPES, Context
from kg.model import Entity

#: words around a trigger that make an event announced rather than done
PLAN_LEMMAS = frozenset("""
will would shall expect anticipate plan schedule intend due invite prepare upcoming
forthcoming future propose set next planned scheduled expected anticipated
""".split())
NEGATIONS = frozenset({"not", "n't", "never", "no"})


def conjuncts(token: Token) -> list[Token]:
    """The token and everything coordinated with it ('Kyrgyzstan and China')."""
    out = [token]
    for t in token.conjuncts:
        if t not in out:
            out.append(t)
    return sorted(out, key=lambda t: t.i)


def children(token: Token, *deps: str) -> list[Token]:
    return [c for c in token.children if c.dep_ in deps]


def prep_objects(token: Token, *preps: str) -> Iterator[Token]:
    """Objects of the given prepositions under a token ('visit to Moscow' -> Moscow)."""
    for prep in token.children:
        if prep.dep_ in ("prep", "agent", "dative") and prep.lower_ in preps:
            for pobj in prep.children:
                if pobj.dep_ in ("pobj", "pcomp"):
                    yield from conjuncts(pobj)


def persons(ctx: Context, token: Token) -> list[Entity]:
    """The persons a noun phrase head denotes, coordination included."""
    out = []
    for t in conjuncts(token):
        ent = ctx.refer(t)
        if ent is None:  # 'the president, Vladimir Putin': a name in apposition
            for c in t.children:
                if c.dep_ in ("appos", "compound"):
                    ent = ctx.entity(c, frozenset({"Person"}))
                    if ent is not None:
                        break
        if ent is not None and ent not in out:
            out.append(ent)
    return out


def places(ctx: Context, token: Token) -> list[Entity]:
    out = []
    for t in conjuncts(token):
        ent = ctx.entity(t, PLACE_TYPES)
        if ent is None:
            for c in t.subtree:
                if c.i - t.i > 4:
                    break
                ent = ctx.entity(c, PLACE_TYPES)
                if ent is not None:
                    break
        if ent is not None and ent not in out:
            out.append(ent)
    return out


def clause_head(token: Token) -> Token:
    """The verb governing a token (itself if it is a verb)."""
    t = token
    while t.pos_ not in ("VERB", "AUX") and t.head.i != t.i:
        t = t.head
    return t


def is_planned(token: Token) -> bool:
    """Announced, expected or invited rather than done."""
    t = token
    for _ in range(6):
        if t.lemma_.lower() in PLAN_LEMMAS or t.lower_ in PLAN_LEMMAS:
            return True
        for c in t.children:
            if c.dep_ in ("aux", "amod", "advmod", "auxpass") and (
                    c.lower_ in PLAN_LEMMAS or c.lemma_.lower() in PLAN_LEMMAS):
                return True
        if c_is_to_infinitive(t) and t.head.lemma_.lower() in PLAN_LEMMAS:
            return True
        if t.head.i == t.i:
            break
        t = t.head
    return False


def c_is_to_infinitive(token: Token) -> bool:
    return any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children)


def negated(token: Token) -> bool:
    return any(c.dep_ == "neg" or c.lower_ in NEGATIONS for c in token.children)


def subject_tokens(verb: Token, passive: bool = True) -> list[Token]:
    """The subject of a verb, or of the verb it depends on ('Putin is expected to visit',
    'Tokayev arrived and met'), at most two levels up."""
    deps = ("nsubj", "nsubjpass") if passive else ("nsubj",)
    t = verb
    for _ in range(3):
        found = [c for c in t.children if c.dep_ in deps]
        if found:
            return found
        if t.dep_ not in ("xcomp", "conj", "advcl", "ccomp") or t.head.i == t.i:
            break
        t = t.head
    return []
