"""visited: who travelled (or is announced to travel) where, and when.

Forms read: a visit noun with its traveller and destination ("Tokayev's visit to Moscow",
"the visit of X to Moscow", "X chose Astana for his first foreign visit", "a stop in
Astana"); a travel verb ("X travelled/flew/went to Russia", "X visited Kazakhstan", "X
arrived in Astana", "X flew in" after a destination); hosting ("Macron hosted his Kazakh
counterpart": the guest visited the host's country; "X was welcomed in Kazakhstan").
One fact per trip: a city and its country in one article are one trip.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

from spacy.tokens import Span, Token

from kg.dates import RELATIVE, resolve_date
from kg.extract.context import PLACE_TYPES, Context
from kg.extract.syntax import (children, is_planned, negated, persons, places,
                               prep_objects, subject_tokens)
from kg.model import Entity, Fact

NAME = "visits"

VISIT_NOUNS = frozenset({"visit", "trip", "journey", "tour", "foray", "stop", "stopover",
                         "cease", "voyage", "visits", "trips"})
TRAVEL_VERBS = frozenset({"travel", "fly", "go", "come", "head", "arrive", "return", "land",
                          "tour", "stop", "journey", "jet"})
HOST_VERBS = frozenset({"host", "receive", "welcome", "greet"})
#: taking part in an event held in a place is being there ("attended the summit in Astana")
PARTICIPATION_VERBS = frozenset({"attend", "participate"})
REMOTE = frozenset({"video", "videoconference", "virtually", "online", "remotely", "videolink"})
DESTINATION_PREPS = ("to", "in", "into", "at", "through", "by", "across", "around")
#: verb lemmas any rule above starts from ("take" for "take part")
_VERB_TRIGGERS = frozenset({"visit", "take"}) | TRAVEL_VERBS | HOST_VERBS | PARTICIPATION_VERBS
_DATE_HINT = re.compile(r"\b(on|in)\s+(\w+\s+\d{1,2}|\d{4})\b|" +
                        "|".join(map(re.escape, RELATIVE)), re.I)


def extract(ctx: Context) -> Iterator[Fact]:
    found: list[Fact] = []
    toks, lemmas, pos, lower = ctx.tokens, ctx.view.lemma, ctx.view.pos, ctx.view.lower
    for sent in ctx.sentences:
        last_places: list[Entity] = []
        for i in range(sent.start, sent.end):
            lemma = lemmas[i]
            facts: list[Fact] = []
            if pos[i] == "NOUN":
                if lemma in VISIT_NOUNS or (lower[i] == "go" and _go_to_noun(toks[i])):
                    facts = list(_from_noun(ctx, toks[i], sent))
            elif pos[i] != "VERB" or lemma not in _VERB_TRIGGERS:
                continue
            elif lemma == "visit":
                facts = list(_from_visit_verb(ctx, toks[i], sent))
            elif lemma in TRAVEL_VERBS:
                facts = list(_from_travel_verb(ctx, toks[i], sent, last_places))
            elif lemma in HOST_VERBS:
                facts = list(_from_host_verb(ctx, toks[i], sent))
            elif lemma in PARTICIPATION_VERBS or _take_part(toks[i]):
                facts = list(_from_participation(ctx, toks[i], sent))
            for f in facts:
                if f.object is not None:
                    last_places = [f.object]
            found.extend(facts)
    yield from merge_trips(ctx, found)


def _go_to_noun(tok: Token) -> bool:
    """Machine translation renders 'visit' as 'go to' ('for an official go to')."""
    return tok.lower_ == "go" and tok.i + 1 < len(tok.doc) and tok.doc[tok.i + 1].lower_ == "to"


def _from_noun(ctx: Context, noun: Token, sent: Span) -> Iterator[Fact]:
    agents = _noun_agents(ctx, noun)
    dests = []
    for obj in prep_objects(noun, "to", "in", "at", "through", "by", "across"):
        dests.extend(places(ctx, obj))
    if _go_to_noun(noun) and noun.i + 2 < len(noun.doc):
        dests.extend(places(ctx, noun.doc[noun.i + 2]))
    if not dests and noun.dep_ == "dobj":  # "made visits last month to Kyrgyzstan"
        for obj in prep_objects(noun.head, "to"):
            dests.extend(places(ctx, obj))
    if noun.dep_ == "pobj" and noun.head.lower_ == "for":  # "chose Astana for his visit"
        verb = noun.head.head
        for dobj in children(verb, "dobj"):
            dests.extend(places(ctx, dobj))
    if not dests or not agents:
        return
    yield from _facts(ctx, agents, dests, noun, sent)


def _noun_agents(ctx: Context, noun: Token) -> list[Entity]:
    for poss in children(noun, "poss"):
        if poss.pos_ == "PRON":  # "Xi chose Astana for his first visit": his = the subject
            verb = noun.head.head if noun.dep_ == "pobj" else noun.head
            for subj in children(verb, "nsubj") if verb.pos_ in ("VERB", "AUX") else []:
                found = persons(ctx, subj)
                if found:
                    return found
        found = persons(ctx, poss)
        if found:
            return found
    for obj in prep_objects(noun, "of", "by"):
        found = persons(ctx, obj)
        if found:
            return found
    head = noun.head
    for _ in range(3):  # "X paid a visit", "X made his first visit", "X chose ... for his visit"
        if head.pos_ in ("VERB", "AUX"):
            for subj in subject_tokens(head, passive=False):
                found = persons(ctx, subj)
                if found:
                    return found
        if head.head.i == head.i:
            break
        head = head.head
    return _nearest_traveller(ctx, noun)


def _nearest_traveller(ctx: Context, noun: Token) -> list[Entity]:
    """When the parse links a visit to nobody: the nearest person before it in the
    sentence who is a subject or a possessor ('Putin's journey marks ..., after visits
    last month to Kyrgyzstan')."""
    sent = ctx.sent_of(noun)
    for tok in reversed(ctx.doc[sent.start: noun.i]):
        if tok.dep_ in ("nsubj", "nsubjpass", "poss"):
            ent = ctx.entity(tok, frozenset({"Person"}))
            if ent is not None:
                return [ent]
    return []


def _from_visit_verb(ctx: Context, verb: Token, sent: Span) -> Iterator[Fact]:
    if negated(verb):
        return
    agents = []
    for subj in subject_tokens(verb):
        agents = persons(ctx, subj)
    if not agents and verb.dep_ == "acl" and verb.head.lemma_.lower() == "invitation":
        agents = _invitee(ctx, verb.head)
    dests = []
    for obj in children(verb, "dobj"):
        dests.extend(places(ctx, obj))
    if dests and not agents:  # "Representatives ... visited Kazakhstan: A, B and C flew in"
        agents = _listed_persons_after(ctx, verb, sent)
    if agents and dests:
        yield from _facts(ctx, agents, dests, verb, sent)


def _from_travel_verb(ctx, verb: Token, sent: Span, last_places) -> Iterator[Fact]:
    if negated(verb):
        return
    agents = []
    for subj in subject_tokens(verb):
        agents = persons(ctx, subj) or _listed_for(ctx, subj)
    if not agents or _remote(verb):
        return
    dests = []
    for obj in prep_objects(verb, *DESTINATION_PREPS):
        dests.extend(places(ctx, obj))
    for prt in children(verb, "prt", "advmod", "prep"):  # "travel on to Tajikistan"
        if prt.lower_ in ("on", "back", "over", "out"):
            for obj in prep_objects(prt, "to"):
                dests.extend(places(ctx, obj))
    if verb.lemma_.lower() == "go" and not dests:  # "go to Kazakhstan" parsed as a noun chain
        nxt = verb.doc[verb.i + 1] if verb.i + 1 < len(verb.doc) else None
        if nxt is not None and nxt.lower_ == "to" and verb.i + 2 < len(verb.doc):
            dests.extend(places(ctx, verb.doc[verb.i + 2]))
    if not dests and any(c.dep_ == "prt" and c.lower_ in ("in", "over") for c in verb.children):
        dests = list(last_places)  # "... visited Kazakhstan: A, B and C flew in"
        if not dests:
            dests = _places_before(ctx, verb, sent)
    if dests:
        yield from _facts(ctx, agents, dests, verb, sent)


def _take_part(verb: Token) -> bool:
    return verb.lemma_.lower() == "take" and any(c.lower_ == "part" for c in verb.children)


def _remote(verb: Token) -> bool:
    return any(t.lower_ in REMOTE for t in verb.subtree)


def _from_participation(ctx: Context, verb: Token, sent: Span) -> Iterator[Fact]:
    """'X took part in the summit in Astana', 'the meeting in the Kremlin was attended by
    A, B and C': participants were at the place, unless they joined by video."""
    if negated(verb) or _remote(verb):
        return
    agents: list[Entity] = []
    for agent in children(verb, "agent"):  # passive: "was attended by A, B and C"
        for obj in agent.children:
            agents += persons(ctx, obj)
    if not agents:
        for subj in subject_tokens(verb):
            agents = persons(ctx, subj) or _listed_for(ctx, subj)
    events = children(verb, "dobj", "nsubjpass") + [o for o in prep_objects(verb, "in", "at")]
    dests: list[Entity] = []
    for event in events:
        dests += places(ctx, event)
        for obj in prep_objects(event, "in", "at"):
            dests += places(ctx, obj)
    dests = list(dict.fromkeys(dests))
    if agents and dests:
        yield from _facts(ctx, agents, dests, verb, sent, confidence=0.7)


def _listed_for(ctx: Context, noun: Token) -> list[Entity]:
    """'Leaders who arrived in Astana included A, B and C': a plural group noun whose
    members the sentence lists."""
    if noun.pos_ != "NOUN" or noun.tag_ not in ("NNS", "NNPS"):
        return []
    verb = noun.head
    if noun.dep_ in ("nsubj", "nsubjpass") and verb.lemma_.lower() in ("include", "be", "comprise"):
        found = []
        for obj in children(verb, "dobj", "attr"):
            found += persons(ctx, obj)
        return found
    return []


def _from_host_verb(ctx: Context, verb: Token, sent: Span) -> Iterator[Fact]:
    if negated(verb):
        return
    if any(c.dep_ == "nsubjpass" for c in verb.children):  # "X was welcomed in Kazakhstan"
        guests = []
        for subj in children(verb, "nsubjpass"):
            guests = persons(ctx, subj)
        dests = [p for obj in prep_objects(verb, "in", "to", "at") for p in places(ctx, obj)]
        if guests and dests:
            yield from _facts(ctx, guests, dests, verb, sent)
        return
    hosts = []
    for subj in children(verb, "nsubj"):
        hosts = persons(ctx, subj)
    guests = []
    for obj in children(verb, "dobj"):
        guests = persons(ctx, obj)
    if not hosts or not guests:
        return
    dests = [p for obj in prep_objects(verb, "in", "at") for p in places(ctx, obj)]
    if not dests:
        country = _country_of_person(ctx, hosts[0])
        dests = [country] if country else []
    guests = [g for g in guests if g not in hosts]
    if dests and guests:
        yield from _facts(ctx, guests, dests, verb, sent, confidence=0.6)


def _country_of_person(ctx: Context, person: Entity) -> Entity | None:
    for t in ctx.positions:
        if t.person == person and t.country is not None:
            return t.country
    entry = ctx.gaz.entries.get(person.key)
    return ctx.gaz.get(entry.country) if entry else None


def _invitee(ctx: Context, invitation: Token) -> list[Entity]:
    """'he had accepted Putin's invitation to visit Russia': whoever accepted it."""
    head = invitation.head
    if invitation.dep_ == "dobj" and head.lemma_.lower() in ("accept", "receive", "take"):
        for subj in subject_tokens(head):
            return persons(ctx, subj)
    return []


def _listed_persons_after(ctx: Context, verb: Token, sent: Span) -> list[Entity]:
    colon = next((t for t in ctx.sent_tokens(sent) if t.i > verb.i and t.text == ":"), None)
    if colon is None:
        return []
    out = []
    for m in ctx.mentions_in(sent.doc[colon.i + 1: sent.end], frozenset({"Person"})):
        if m.entity not in out:
            out.append(m.entity)
    return out


def _places_before(ctx: Context, verb: Token, sent: Span) -> list[Entity]:
    found = ctx.mentions_in(sent.doc[sent.start: verb.i], PLACE_TYPES)
    return [found[-1].entity] if found else []


def _facts(ctx: Context, agents, dests, trigger: Token, sent: Span,
           confidence: float = 0.8) -> Iterator[Fact]:
    modality = "planned" if is_planned(trigger) else "occurred"
    date = _date_near(ctx, trigger, sent)
    ev = ctx.evidence(sent.start_char, sent.end_char)
    for agent in agents:
        home = _country_of_person(ctx, agent)
        home_capital = ctx.gaz.entries[home.key].capital if home and home.key in ctx.gaz.entries else None
        for dest in dests:
            if dest.type not in PLACE_TYPES or dest == home or dest.key == home_capital:
                continue  # being in one's own country or capital is no visit
            yield Fact("visited", agent, dest, ev, NAME, confidence, date=date, modality=modality)


def _date_near(ctx: Context, trigger: Token, sent: Span) -> str | None:
    """A date expression attached to the trigger ('visits last month to ...'), else in its
    clause ('Tokayev's visit took place on April 3'), resolved against the article date."""
    head = trigger
    while head.head.i != head.i and head.pos_ not in ("VERB", "AUX"):
        head = head.head
    for scope in (trigger, head):
        tokens = sorted(scope.subtree, key=lambda t: t.i)
        lo, hi = tokens[0].idx, tokens[-1].idx + len(tokens[-1])
        ents = [e for e in ctx.ents_in(sent) if e.label_ == "DATE" and e.start_char >= lo and e.end_char <= hi]
        ents.sort(key=lambda e: abs(e.start - trigger.i))
        future = is_planned(trigger)
        for ent in ents:
            value = resolve_date(ent.text, ctx.ref_date, ctx.ref_estimated, future=future)
            if value:
                return value
        m = _DATE_HINT.search(ctx.text[lo:hi])
        if m:
            value = resolve_date(m.group(0), ctx.ref_date, ctx.ref_estimated, future=future)
            if value:
                return value
    return None


def merge_trips(ctx: Context, facts: list[Fact]) -> Iterator[Fact]:
    """One trip per agent and place: a country whose city the same agent visits in the
    same article becomes that city; each mention of a trip carries the most precise date
    any of its mentions gives."""
    city_in: dict[tuple[str, str], Entity] = {}  # (agent, country key) -> city
    for f in facts:
        entry = ctx.gaz.entries.get(f.object.key)
        if f.object.type == "City" and entry and entry.country:
            city_in.setdefault((f.subject.key, entry.country), f.object)
    merged = []
    for f in facts:
        obj = city_in.get((f.subject.key, f.object.key), f.object)
        merged.append(replace(f, object=obj))
    dates: dict[tuple[str, str], set[str]] = {}
    votes: dict[tuple[str, str], int] = {}
    for f in merged:
        key = (f.subject.key, f.object.key)
        if f.date:
            dates.setdefault(key, set()).add(f.date)
        votes[key] = votes.get(key, 0) + (1 if f.modality == "planned" else -1)
    for f in merged:
        key = (f.subject.key, f.object.key)
        known = _one_trip_date(dates.get(key, set()))
        # mentions dated differently are different trips; an undated mention takes the
        # date only when the article's dated mentions agree on one trip
        yield replace(f, date=f.date if f.date and known is None else known or f.date,
                      modality="planned" if votes[key] >= 0 else "occurred")


def _one_trip_date(dates: set[str]) -> str | None:
    """The most precise date if all dates are compatible (2023 ⊇ 2023-11 ⊇ 2023-11-09)."""
    if not dates:
        return None
    best = max(dates, key=len)
    return best if all(best.startswith(d) for d in dates) else None
