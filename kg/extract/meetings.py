"""metWith: two named persons met, held talks, or spoke by phone or video.

Forms read: meeting verbs ("X met Y", "X and Y held talks", "X received/hosted Y",
"X and Y exchange documents"), meeting nouns ("a meeting with Y", "talks with Y", "the
meeting between X and Y"), co-presence ("seated next to Y"), speech addressed to a
person ("X told Y that", "X assured Y"), and "the two leaders/presidents" for the last
two persons named.
"""
from __future__ import annotations

from typing import Iterator

from spacy.tokens import Span, Token

from kg.extract.context import Context
from kg.extract.syntax import children, negated, persons, prep_objects, subject_tokens
from kg.model import Entity, Fact

NAME = "meetings"

MEET_VERBS = frozenset({"meet", "receive", "host", "welcome", "greet", "talk", "negotiate",
                        "exchange", "sit", "seat", "discuss", "hug", "shake", "speak", "sign"})
#: verbs that make a meeting when two persons are their subject ("A and B signed ...")
PERSON = frozenset({"Person"})
PAIR_VERBS = frozenset({"meet", "talk", "negotiate", "exchange", "discuss", "sign"})
MEET_NOUNS = frozenset({"meeting", "talks", "talk", "summit", "call", "conversation",
                        "negotiations", "visit", "session", "encounter", "bilateral"})
ADDRESS_VERBS = frozenset({"tell", "assure", "inform", "thank", "congratulate", "invite"})
LEADER_WORDS = frozenset({"president", "leader", "premier", "minister", "chancellor", "king"})
PAIR_WORDS = frozenset({"leaders", "presidents", "heads", "counterparts", "premiers", "ministers"})
PHONE = frozenset({"phone", "telephone", "call"})
#: verbs whose object or subtree may hold a meeting noun ("held talks with", "attended a summit")
HOLD_VERBS = frozenset({"hold", "have", "carry", "attend", "travel", "go", "fly", "come"})
_VERB_TRIGGERS = MEET_VERBS | ADDRESS_VERBS | HOLD_VERBS
VIDEO = frozenset({"video", "videoconference", "online", "virtually"})


def extract(ctx: Context) -> Iterator[Fact]:
    seen: set[tuple[str, str]] = set()
    toks, lemmas, pos = ctx.tokens, ctx.view.lemma, ctx.view.pos
    for sent in ctx.sentences:
        for i in range(sent.start, sent.end):
            if not ((pos[i] == "VERB" and lemmas[i] in _VERB_TRIGGERS)
                    or (pos[i] == "NOUN" and lemmas[i] in MEET_NOUNS)):
                continue  # no rule of _pairs_at starts here
            tok = toks[i]
            pairs = list(_pairs_at(ctx, tok, sent))
            for a, b, conf in pairs:
                if a == b:
                    continue
                a, b = sorted((a, b), key=lambda e: e.key)  # symmetric: one order
                key = tuple(sorted((a.key, b.key)))
                channel = _channel(sent)
                if (key, sent.start) in seen:
                    continue
                seen.add((key, sent.start))
                yield Fact("metWith", a, b, ctx.evidence(sent.start_char, sent.end_char),
                           NAME, conf, channel=channel)


def _pairs_at(ctx: Context, tok: Token, sent: Span) -> Iterator[tuple[Entity, Entity, float]]:
    lemma = tok.lemma_.lower()
    if tok.pos_ == "VERB" and not negated(tok):
        if lemma in MEET_VERBS:
            subj = _subjects(ctx, tok)
            objs = []
            for o in children(tok, "dobj"):
                objs += persons(ctx, o)
                for inc in o.subtree:  # "received the heads of the agencies, including Lavrov"
                    if inc.lower_ == "including":
                        objs += [m.entity for m in ctx.mentions_in(_subtree_span(inc), PERSON)]
            for o in prep_objects(tok, "with", "beside", "alongside"):
                objs += persons(ctx, o)
            if lemma in ("sit", "seat"):  # "seated next to Putin", "sitting X next to him"
                objs += _next_to(ctx, tok)
            yield from _combine(subj, objs, 0.8)
            if not objs and len(subj) == 2 and lemma in PAIR_VERBS:  # a pair, not a summit
                yield subj[0], subj[1], 0.8
        elif lemma in ADDRESS_VERBS:
            subj = _subjects(ctx, tok)
            objs = []
            for o in children(tok, "dobj", "dative"):
                objs += persons(ctx, o)
            yield from _combine(subj, objs, 0.6)
        elif lemma in HOLD_VERBS:
            for noun in [c for c in tok.subtree if c.lemma_.lower() in MEET_NOUNS and c.pos_ == "NOUN"]:
                subj = _subjects(ctx, tok)
                objs = []
                for o in prep_objects(noun, "with"):
                    objs += persons(ctx, o)
                yield from _combine(subj, objs, 0.75)
                if not objs and len(subj) == 2 and lemma != "attend":  # "Putin and Tokayev held talks"
                    yield subj[0], subj[1], 0.75
    elif tok.pos_ == "NOUN" and lemma in MEET_NOUNS:
        between = []
        for o in prep_objects(tok, "between"):
            between += persons(ctx, o)
        if len(between) >= 2:
            yield between[0], between[1], 0.8


def _subjects(ctx: Context, verb: Token) -> list[Entity]:
    """Who did it: the (inherited) subject's persons, the agents of a passive ('was
    discussed by A and B'), or for 'the two leaders' the last two persons named."""
    subj: list[Entity] = []
    for agent in children(verb, "agent"):  # every person named in the by-phrase
        subj += [m.entity for m in ctx.mentions_in(_subtree_span(agent), PERSON)]
    if subj:
        return list(dict.fromkeys(subj))
    for s in subject_tokens(verb):
        if s.lower_ in PAIR_WORDS:
            subj += _last_two(ctx, s.idx)
        else:
            subj += persons(ctx, s)
    return subj


def _subtree_span(token: Token) -> Span:
    toks = list(token.subtree)
    return token.doc[toks[0].i: toks[-1].i + 1]


def _next_to(ctx: Context, verb: Token) -> list[Entity]:
    out = []
    for t in verb.subtree:
        if t.lower_ == "next" or t.lower_ in ("beside", "alongside"):
            for c in t.subtree:
                if c.i == t.i:
                    continue
                if c.lower_ in ("him", "her"):  # "sitting X next to him": him = the subject
                    subj = _subjects(ctx, verb)
                    ent = subj[0] if subj else None
                else:
                    ent = ctx.refer(c)
                if ent is not None:
                    out.append(ent)
                    break
    for o in children(verb, "dobj"):
        out += persons(ctx, o)
    return out


def _combine(subj: list[Entity], objs: list[Entity], conf: float):
    for a in subj:
        for b in objs:
            if a != b:
                yield a, b, conf


def _last_two(ctx: Context, before: int) -> list[Entity]:
    """'the two leaders/presidents': the last two leaders named before, else the last two
    persons."""
    recent: list[Entity] = []
    for m in reversed(ctx.res.mentions):
        if m.start < before and m.entity.type == "Person" and m.entity not in recent:
            recent.append(m.entity)
    leaders = [p for p in recent if _is_leader(ctx, p)]
    pick = leaders if len(leaders) >= 2 else recent
    return pick[:2] if len(pick) >= 2 else []


def _is_leader(ctx: Context, person: Entity) -> bool:
    if any(t.person == person and t.role_words & LEADER_WORDS for t in ctx.positions):
        return True
    entry = ctx.gaz.entries.get(person.key)
    return bool(entry and any(w in r.lower() for r in entry.roles for w in LEADER_WORDS))


def _channel(sent: Span) -> str | None:
    words = {t.lower_ for t in sent}
    if words & {"phone", "telephone"} or "phone call" in sent.text.lower():
        return "phone"
    if words & VIDEO:
        return "video"
    return None
