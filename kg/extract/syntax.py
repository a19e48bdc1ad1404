"""Small dependency-tree helpers shared by the extractors."""
from __future__ import annotations

from typing import Iterator

from spacy.tokens import Token

from kg.extract.context import PLACE_TYPES, Context
from kg.model import Entity

#: words around a trigger that make an event announced rather than done
PLAN_LEMMAS = frozenset("""
will would shall expect anticipate plan schedule intend due invite prepare upcoming
forthcoming future propose set next planned scheduled expected anticipated invitation
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
            for p in [prep, *prep.conjuncts]:  # "with A and with B"
                for pobj in p.children:
                    if pobj.dep_ in ("pobj", "pcomp"):
                        yield from conjuncts(pobj)


def persons(ctx: Context, token: Token) -> list[Entity]:
    """The persons a noun phrase head denotes, coordination included: names, pronouns,
    descriptions, and titled names in a list ('Belarusian President Alexander Lukashenko,
    Kyrgyz President Sadyr Japarov and Tajik President Emomali Rahmon')."""
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
    for m in ctx.mentions_in(_phrase(token), frozenset({"Person"})):
        if m.entity not in out:
            out.append(m.entity)
    return out


#: dependents whose persons are not the phrase's referents ("Putin's spokesman", "who met X")
_NOT_REFERENT = frozenset({"relcl", "acl", "advcl", "poss", "prep"})


def _phrase(token: Token):
    """The noun phrase of a head and its coordinated heads, without relative clauses,
    possessors or prepositional attachments (but with 'President of Belarus X' names)."""
    keep: set[int] = set()

    def walk(t: Token) -> None:
        keep.add(t.i)
        for c in t.children:
            if c.dep_ == "prep" and c.lower_ == "of" and t.lower_ in TITLE_HEADS:
                walk(c)
            elif c.dep_ not in _NOT_REFERENT:
                walk(c)

    walk(token)
    doc = token.doc
    return [doc[i] for i in sorted(keep)]


TITLE_HEADS = frozenset({"president", "minister", "chairman", "head", "leader", "premier",
                         "secretary", "king", "emir", "chancellor", "ambassador"})


def places(ctx: Context, token: Token) -> list[Entity]:
    """The places a noun phrase names: a place name, 'the Kazakh capital' (the country's
    capital), or a national body standing for its country ('talks in the Kremlin')."""
    out = []
    for t in conjuncts(token):
        ent = ctx.entity(t, PLACE_TYPES) or _capital(ctx, t) or _seat(ctx, t)
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
            # "Putin, who arrived in Astana": the relative pronoun stands for the noun
            return [t.head if c.lower_ in RELATIVE_PRONOUNS and t.dep_ == "relcl" else c
                    for c in found]
        if t.dep_ == "relcl" and t.head.pos_ in ("NOUN", "PROPN"):
            return [t.head]  # "leaders arriving in Astana"
        if t.dep_ == "xcomp":  # "Lavrov invited Nurtleu to visit": the object does it
            objects = [c for c in t.head.children if c.dep_ == "dobj"]
            if objects and t.head.lemma_.lower() in OBJECT_CONTROL:
                return objects
        if t.dep_ not in ("xcomp", "conj", "advcl", "ccomp", "acomp") or t.head.i == t.i:
            break
        t = t.head
    return []


RELATIVE_PRONOUNS = frozenset({"who", "that", "which"})
#: verbs whose object, not subject, carries out the infinitive ("invited X to visit")
OBJECT_CONTROL = frozenset({"invite", "ask", "urge", "allow", "encourage", "persuade",
                            "request", "advise", "expect", "want", "tell", "order"})


def _capital(ctx: Context, token: Token) -> Entity | None:
    if token.lower_ != "capital":
        return None
    for c in token.children:
        country = ctx.country_of(c)
        if country is None and c.dep_ == "prep" and c.lower_ == "of":
            country = next((ctx.country_of(p) for p in c.children if ctx.country_of(p)), None)
        if country is not None:
            entry = ctx.gaz.entries.get(country.key)
            return ctx.gaz.get(entry.capital) if entry else None
    return None


def _seat(ctx: Context, token: Token) -> Entity | None:
    org = ctx.entity(token, frozenset({"Organization"}))
    if org is None:
        return None
    entry = ctx.gaz.entries.get(org.key)
    if entry is None or entry.country is None or entry.acronym:
        return None
    return ctx.gaz.get(entry.country)
