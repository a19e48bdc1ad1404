"""memberOf: a country belongs to an international organisation.

A country (or "they"/"we"/"the two countries", or a capital standing for its country)
and an organisation in one sentence count when the dependency path between them passes
a membership cue: "is a member of", "joined", "remain in", "sit side by side in",
"ally/partner in", "which includes/consists of", "a customs union ... through the EAEU",
"member states", "summit of", "is part of", "cooperate within", "took part in the session
of". Coordinated countries share their first conjunct's path ("Belarus joined China, India,
Iran, ... in the organisation"), and a country "along with"/"together with" a member shares
its memberships.

The organisation may be named, referred to ("the organisation", "the alliance", "the bloc",
"the Union": the last international organisation named before, possibly in an earlier
sentence), or stand in through one of its own organs ("the Collective Security Council",
once the text has said it is the CSTO's). Troops or peacekeepers "from" countries belong to
the organisation whose mission an earlier sentence dispatched.

Negated paths never count; nor does membership that is planned, applied for or expected
("will join", "applied to join", "an observer").
"""
from __future__ import annotations

import re
from typing import Iterator

from spacy.tokens import Span, Token

from kg.extract.context import Context
from kg.extract.syntax import NEGATIONS, PLAN_LEMMAS
from kg.model import Entity, Fact

NAME = "membership"

MEMBER_CUES = frozenset("""
member members membership join accede ally allies partner partners remain stay sit
participate participant participants include consist comprise belong through via union
state states founder founding chair chairmanship summit delegation troops contingent
mission bloc grouping groupings part within
""".split())
INCLUDE_CUES = frozenset({"include", "consist", "comprise"})
BLOC_WORDS = frozenset({"Union", "Organization", "Organisation", "Treaty", "Community",
                        "Commonwealth", "Alliance", "Cooperation", "Pact", "Bloc", "Partnership"})
PLURAL_PRONOUNS = frozenset({"they", "we", "both"})
#: nouns that, with "the", refer back to the last international organisation named
BLOC_ANAPHORS = frozenset({"organisation", "organization", "alliance", "bloc", "union",
                           "grouping", "commonwealth", "community"})
#: words that make membership wished for, planned or partial rather than a fact
NOT_YET = PLAN_LEMMAS | frozenset("""
apply application applicant bid seek hope want candidate candidacy aspire aspiration
consider may might could observer admission
""".split())
#: soldiers sent on an organisation's mission ("troops from Russia, Belarus and Armenia")
TROOP_WORDS = frozenset({"troop", "troops", "peacekeeper", "peacekeepers", "contingent",
                         "soldier", "soldiers", "serviceman", "servicemen", "paratrooper",
                         "paratroopers", "force", "forces", "unit", "units"})
#: a sentence that dispatches an organisation's mission
MISSION_WORDS = frozenset({"deploy", "deployment", "dispatch", "send", "peacekeeping",
                           "peacekeeper", "mission", "intervention", "operation", "troops"})
#: how many earlier sentences may name the organisation whose mission troops serve
MISSION_WINDOW = 2
#: "along with Russia", "together with Russia", "alongside Russia"
COMPANION_HEADS = frozenset({"along", "together"})
MAX_PATH = 9


def extract(ctx: Context) -> Iterator[Fact]:
    seen: set[tuple[str, str, int]] = set()
    blocs = _bloc_mentions(ctx)
    parents = _organ_parents(ctx, blocs)
    sents = ctx.sentences
    for n, sent in enumerate(sents):
        orgs = _sentence_orgs(ctx, sent, blocs, parents)
        found: list[tuple[Token, Entity, Entity]] = []
        if orgs:
            members = list(_member_tokens(ctx, sent))
            for mtok, country in members:
                for otok, org in orgs:
                    if _linked(ctx, mtok, otok):
                        found.append((mtok, country, org))
            found += _companions(ctx, members, found)
        else:
            found += _troops(ctx, sent, sents[max(0, n - MISSION_WINDOW): n], blocs, parents)
        for _, country, org in found:
            key = (country.key, org.key, sent.start)
            if key in seen or country.key == org.key:
                continue
            seen.add(key)
            yield Fact("memberOf", country, org, ctx.evidence(sent.start_char, sent.end_char),
                       NAME, 0.75)


# --------------------------------------------------------------------------- organisations


def _is_root(ctx: Context, tok: Token) -> bool:
    m = ctx.mention(tok)
    if m is None:
        return False
    return tok.i == ctx.mention_root(m)


def _is_bloc(ctx: Context, org: Entity) -> bool:
    """International organisations: in the gazetteer with no home country, or named like
    one ('... Economic Union', '... Treaty Organization')."""
    entry = ctx.gaz.entries.get(org.key)
    if entry is None:
        words = set(org.name.split())
        return bool(words & BLOC_WORDS) and len(words) > 1
    return entry.country is None


def _bare_bloc_word(ctx: Context, org: Entity) -> str | None:
    """'Union' alone, minted from 'the Union': a reference, not a name."""
    if ctx.gaz.entries.get(org.key) is None and org.name.strip() in BLOC_WORDS:
        return org.name.strip().lower()
    return None


def _bloc_mentions(ctx: Context) -> list[tuple[int, Entity]]:
    """Named international organisations in text order (char offset, entity)."""
    out = []
    for m in ctx.res.mentions:
        if m.entity.type == "Organization" and _is_bloc(ctx, m.entity) and _bare_bloc_word(ctx, m.entity) is None:
            out.append((m.start, m.entity))
    return out


def _spelling(word: str) -> str:
    return re.sub(r"isation", "ization", word.lower())


def _refer_bloc(blocs: list[tuple[int, Entity]], word: str, pos: int) -> Entity | None:
    """The organisation 'the <word>' refers to: the last one named before, preferring one
    whose name contains the word ('the Union' -> the Eurasian Economic Union)."""
    before = [e for p, e in blocs if p < pos]
    if not before:
        return None
    word = _spelling(word)
    named = [e for e in before if word in {_spelling(w) for w in e.name.split()}]
    return (named or before)[-1]


def _anaphor(ctx: Context, tok: Token, blocs: list[tuple[int, Entity]]) -> Entity | None:
    """'the organisation', 'the alliance', "the bloc's", 'the Union'."""
    if tok.lower_ not in BLOC_ANAPHORS or tok.pos_ not in ("NOUN", "PROPN"):
        return None
    m = ctx.mention(tok)
    if m is not None and _bare_bloc_word(ctx, m.entity) is None:
        return None
    if not any(c.lower_ == "the" and c.dep_ == "det" for c in tok.children):
        return None
    if any(c.dep_ in ("compound", "amod") and c.pos_ == "PROPN" for c in tok.children):
        return None  # "the African Union": a name the gazetteer lacks
    return _refer_bloc(blocs, tok.lower_, tok.idx)


def _organ_parents(ctx: Context, blocs: list[tuple[int, Entity]]) -> dict[str, Entity]:
    """Organs of an organisation, from 'the Collective Security Council of the CSTO' or
    "the bloc's Collective Security Council": organ key -> organisation."""
    out: dict[str, Entity] = {}
    for m in ctx.res.mentions:
        if m.entity.type != "Organization" or _is_bloc(ctx, m.entity):
            continue
        span = ctx.mention_span(m)
        if span is None:
            continue
        parent = None
        root = span.root
        for prep in root.children:  # "the Council of the CSTO"
            if prep.dep_ == "prep" and prep.lower_ == "of":
                for pobj in prep.children:
                    parent = parent or _bloc_at(ctx, pobj, blocs)
        for poss in root.children:  # "the CSTO's Council", "the bloc's Council"
            if poss.dep_ == "poss":
                parent = parent or _bloc_at(ctx, poss, blocs)
        if parent is None and span.end + 2 < len(ctx.doc) and ctx.doc[span.end].lower_ == "of":
            nxt = ctx.doc[span.end + 1]
            parent = _bloc_at(ctx, ctx.doc[span.end + 2] if nxt.lower_ == "the" else nxt, blocs)
        if parent is not None:
            out.setdefault(m.entity.key, parent)
    return out


def _bloc_at(ctx: Context, tok: Token, blocs: list[tuple[int, Entity]]) -> Entity | None:
    org = ctx.entity(tok, frozenset({"Organization"}))
    if org is not None and _is_bloc(ctx, org) and _bare_bloc_word(ctx, org) is None:
        return org
    return _anaphor(ctx, tok, blocs)


def _in_title(ctx: Context, tok: Token) -> bool:
    head = tok
    while head.dep_ == "compound" and head.head.i != head.i:
        head = head.head
        if ctx.entity(head, frozenset({"Person"})) is not None:
            return True
    return False


def _sentence_orgs(ctx: Context, sent: Span, blocs, parents) -> list[tuple[Token, Entity]]:
    out = []
    toks, lower, res = ctx.tokens, ctx.view.lower, ctx.res
    for i in range(sent.start, sent.end):
        if res.at_index(i) is None and lower[i] not in BLOC_ANAPHORS:
            continue  # neither a name nor an anaphor: nothing below applies
        t = toks[i]
        org = ctx.entity(t, frozenset({"Organization"})) if _is_root(ctx, t) else None
        if org is not None and _in_title(ctx, t):
            continue  # "UN Secretary-General António Guterres": an employer, not a venue
        if org is not None:
            word = _bare_bloc_word(ctx, org)
            if word is not None:
                org = _anaphor(ctx, t, blocs)
            elif not _is_bloc(ctx, org):
                org = parents.get(org.key)
        else:
            org = _anaphor(ctx, t, blocs)
        if org is not None:
            out.append((t, org))
    return out


# --------------------------------------------------------------------------- members


#: words _plural_reference may accept
_PLURAL_WORDS = frozenset({"they", "we", "both", "countries", "nations"})


def _member_tokens(ctx: Context, sent: Span) -> Iterator[tuple[Token, Entity]]:
    toks, lower, res = ctx.tokens, ctx.view.lower, ctx.res
    for i in range(sent.start, sent.end):
        if res.at_index(i) is None and res.demonym_at_index(i) is None and lower[i] not in _PLURAL_WORDS:
            continue  # no country, no plural reference
        tok = toks[i]
        country = ctx.country_of(tok)
        if country is not None and ctx.entity(tok, frozenset({"Country"})) is None and not _acts(tok):
            continue  # "in Astana" is a place; "Astana has joined" stands for the country
        if country is not None and ctx.res.demonym_at(tok) is None:
            m = ctx.mention(tok)
            root = ctx.mention_root(m) if m else None
            if root is None or tok.i == root:
                yield tok, country
        elif _plural_reference(tok):
            if tok.lower_ == "we":
                c = _speaker_country(ctx, tok)
                if c is not None:
                    yield tok, c
                continue
            for c in _last_countries(ctx, sent.start_char, 2):
                yield tok, c


def _acts(tok: Token) -> bool:
    """A subject or possessor (or coordinated with one)."""
    while tok.dep_ == "conj":
        tok = tok.head
    return tok.dep_ in ("nsubj", "nsubjpass", "poss")


def _plural_reference(tok: Token) -> bool:
    """'they', 'we', 'the two countries', 'both' standing alone as a subject; not 'both'
    floating after a named subject ('Kazakhstan and Russia are both members')."""
    if tok.lower_ in ("they", "we"):
        return True
    if tok.lower_ == "both":
        return tok.dep_ in ("nsubj", "nsubjpass")
    return tok.lower_ in ("countries", "nations") and any(
        c.lower_ in ("two", "2", "both") for c in tok.children)


def _speaker_country(ctx: Context, tok: Token) -> Entity | None:
    """'We remain in the CSTO' inside a quotation: the country named last before 'we'."""
    for m in reversed(ctx.res.mentions):
        if m.start < tok.idx and m.entity.type == "Country" and tok.idx - m.start < 300:
            return m.entity
    return None


def _last_countries(ctx: Context, before: int, n: int) -> list[Entity]:
    out: list[Entity] = []
    for m in reversed(ctx.res.mentions):
        if m.start >= before or m.entity.type != "Country":
            continue
        if m.entity not in out:
            out.append(m.entity)
        if len(out) == n:
            break
    return out if len(out) == n else []


# --------------------------------------------------------------------------- links


def _linked(ctx: Context, mtok: Token, otok: Token) -> bool:
    path = _path(mtok, otok)
    if path is None or _length(path) > MAX_PATH:
        return False
    inner = [t for t in path[1:-1] if ctx.mention(t) is None]
    # "took part in": the light verb's object carries the cue
    inner += [c for t in inner if t.pos_ in ("VERB", "AUX") for c in t.children
              if c.dep_ == "dobj" and c.lower_ == "part"]
    cues = [t for t in inner if t.lemma_.lower() in MEMBER_CUES or t.lower_ in MEMBER_CUES]
    if not cues:
        return False
    include = next((c for c in cues if c.lemma_.lower() in INCLUDE_CUES), None)
    if include is not None and not _includes(include, otok):
        return False
    return not _negated(path) and not _not_yet(path)


def _length(path: list[Token]) -> int:
    """Path length with coordination collapsed: 'China, India, ..., and Uzbekistan' is one
    step from the verb whatever the length of the list."""
    on = {t.i for t in path}
    return sum(1 for t in path if not (t.dep_ == "conj" and t.head.i in on))


def _negated(path: list[Token]) -> bool:
    for t in path:
        if t.lower_.startswith("non-") or t.lower_ == "non":
            return True
        for c in t.children:
            if c.dep_ == "neg" or c.lower_ in NEGATIONS or c.lower_ in ("non", "non-"):
                return True
    return False


def _not_yet(path: list[Token]) -> bool:
    """'will join', 'applied to join', 'is set to join', 'an observer in'."""
    for t in path:
        if t.lemma_.lower() in NOT_YET or t.lower_ in NOT_YET:
            return True
        for c in t.children:
            if c.dep_ in ("aux", "auxpass", "advmod", "amod", "acomp") and (
                    c.lower_ in NOT_YET or c.lemma_.lower() in NOT_YET):
                return True
    return False


def _includes(cue: Token, org: Token) -> bool:
    """'the SCO, which includes China': only the organisation the clause is about."""
    if cue.dep_ == "relcl" and cue.head.i == org.i:
        return True
    return any(c.dep_ in ("nsubj", "nsubjpass") and c.i == org.i for c in cue.children)


def _companions(ctx: Context, members, found) -> list[tuple[Token, Entity, Entity]]:
    """'Kazakhstan is a member, along with Russia, of the EAEU': Russia shares the
    memberships of the member it accompanies (the one named before it)."""
    out = []
    for mtok, country in members:
        if not _is_companion(mtok):
            continue
        before = [(t, o) for t, c, o in found if t.i < mtok.i and not _is_companion(t)]
        if not before:
            continue
        lead = max(t.i for t, _ in before)
        for t, org in before:
            if t.i == lead:
                out.append((mtok, country, org))
    return out


def _is_companion(tok: Token) -> bool:
    head = tok
    while head.dep_ == "conj":
        head = head.head
    prep = head.head
    if head.dep_ != "pobj":
        return False
    if prep.lower_ == "alongside":
        return True
    return prep.lower_ == "with" and (prep.head.lower_ in COMPANION_HEADS or
                                      any(c.lower_ in COMPANION_HEADS for c in prep.children))


def _troops(ctx: Context, sent: Span, earlier: list[Span], blocs, parents) -> list[tuple[Token, Entity, Entity]]:
    """'Some 2,000 troops from Russia, Belarus, Armenia ... arrived', after a sentence in
    which the organisation dispatched its mission."""
    out = []
    lower = ctx.view.lower
    for i in range(sent.start, sent.end):
        if lower[i] not in TROOP_WORDS:
            continue
        tok = ctx.tokens[i]
        countries = [(c, ctx.country_of(c)) for prep in tok.children
                     if prep.dep_ == "prep" and prep.lower_ == "from"
                     for pobj in prep.children if pobj.dep_ == "pobj"
                     for c in [pobj, *pobj.conjuncts]
                     if ctx.country_of(c) is not None and ctx.res.demonym_at(c) is None]
        if not countries:
            continue
        chain = [tok, *tok.ancestors][:4]
        if _negated(chain) or _not_yet(chain):
            continue
        org = _mission_bloc(ctx, earlier, blocs, parents)
        if org is not None:
            out += [(c, country, org) for c, country in countries]
    return out


def _mission_bloc(ctx: Context, earlier: list[Span], blocs, parents) -> Entity | None:
    for sent in reversed(earlier):
        if not any(ctx.view.lemma[i] in MISSION_WORDS or ctx.view.lower[i] in MISSION_WORDS
                   for i in range(sent.start, sent.end)):
            continue
        orgs = _sentence_orgs(ctx, sent, blocs, parents)
        if orgs:
            return orgs[-1][1]
    return None


def _path(a: Token, b: Token) -> list[Token] | None:
    """Tokens on the dependency path from a to b (both included)."""
    up_a = [a] + list(a.ancestors)
    up_b = [b] + list(b.ancestors)
    common = next((t for t in up_a if t in up_b), None)
    if common is None:
        return None
    left = up_a[: up_a.index(common) + 1]
    right = up_b[: up_b.index(common)]
    return left + list(reversed(right))
