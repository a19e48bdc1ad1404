"""holdsPosition: titles around a person's name.

Forms read: a title before the name ("Kazakh Deputy Prime Minister Serik Zhumangarin",
"the President of Kazakhstan Kasym-Jomart Tokayev", "Kremlin spokesman Dmitry Peskov"),
an apposition after it ("Aleksey Maslov, head of the Institute of ...", "Pravesh Kumar
Gupta, senior associate at the ... Foundation") or before it ("Kazakhstan's ambassador to
Israel, Satybaldy Burshakov"). The organisation or country is whatever the title names:
an organisation, a country, a demonym ("Kazakh"), a possessor ("Kazakhstan's"). A title
naming no organisation or country is kept for resolving descriptions ("the expert") but
yields no fact, unless the office is a state office and the gazetteer knows the person's
country ("President Kassym-Jomart Tokayev").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from spacy.tokens import Token

from kg.extract.context import ROLE_NOUNS, Context
from kg.model import Entity, Fact
from kg.names import slug

NAME = "positions"

#: words that may stand inside a title ("Deputy Prime Minister", "Secretary of State")
TITLE_MODIFIERS = frozenset("""
deputy vice prime first acting former interim assistant senior junior chief general
executive foreign defence defense interior finance economy trade state press national
security presidential political international permanent special managing
""".split())
#: offices whose holder's country the gazetteer may supply when the text names none
STATE_OFFICES = frozenset({"president", "minister", "premier", "spokesman", "spokeswoman",
                           "chancellor", "king", "emir", "secretary", "ambassador"})
#: descriptive nouns that are not offices: kept for references, never a fact alone
NOT_OFFICES = frozenset({"expert", "analyst", "scientist", "observer", "counterpart",
                         "colleague", "diplomat", "official", "politician", "economist",
                         "journalist", "lawyer", "speaker", "leader"})
SPOKESPERSONS = frozenset({"spokesman", "spokeswoman", "spokesperson"})
BOUNDARY = frozenset({",", ".", ";", ":", "(", ")", "—", "–", "\n"})
ORG_OR_COUNTRY = frozenset({"Organization", "Country"})


@dataclass(frozen=True)
class Title:
    person: Entity
    role: str
    role_words: frozenset[str]
    org: Entity | None
    country: Entity | None
    start: int  # char span of title + name
    end: int


def find_titles(ctx: Context) -> list[Title]:
    titles: list[Title] = []
    for m in ctx.res.mentions:
        if m.entity.type != "Person":
            continue
        span = ctx.doc.char_span(m.start, m.end, alignment_mode="expand")
        if span is None:
            continue
        for title in (_title_before(ctx, span.start, m.entity),
                      _apposition_after(ctx, span.end, m.entity),
                      _apposition_before(ctx, span.start, m.entity)):
            if title is not None:
                titles.append(title)
    titles.sort(key=lambda t: t.start)
    return titles


def extract(ctx: Context) -> Iterator[Fact]:
    seen: set[tuple[str, str]] = set()
    for t in list(ctx.positions) + list(_described(ctx)):
        obj = t.org or t.country
        if obj is None and t.role_words & SPOKESPERSONS:
            obj = _organisation_before(ctx, t.start)
        if obj is None and t.role_words & STATE_OFFICES:
            entry = ctx.gaz.entries.get(t.person.key)
            obj = ctx.gaz.get(entry.country) if entry else None
        if obj is None or not (t.role_words - NOT_OFFICES or "leader" in t.role_words):
            continue
        key = (t.person.key, obj.key)
        if key in seen:
            continue
        seen.add(key)
        yield Fact("holdsPosition", t.person, obj, ctx.evidence(t.start, t.end), NAME,
                   0.85 if t.org or t.country else 0.6, role=t.role)


def _title_before(ctx: Context, name_start: int, person: Entity) -> Title | None:
    """Walk left from the name over title words, demonyms, 'of COUNTRY', organisations,
    and a quoted outlet name ('“First Russian” columnist Andrey Perla')."""
    doc = ctx.doc
    i = name_start - 1
    role_toks: list[Token] = []
    org = country = None
    while i >= 0 and name_start - i <= 10:
        tok = doc[i]
        low = tok.lower_
        prev = doc[i - 1] if i > 0 else None
        if low in ROLE_NOUNS:
            role_toks.insert(0, tok)
        elif low in TITLE_MODIFIERS and (role_toks or (i + 1 < name_start and doc[i + 1].lower_ in ROLE_NOUNS)):
            role_toks.insert(0, tok)
        elif low == "state" and prev is not None and prev.lower_ == "of":  # Secretary of State
            role_toks.insert(0, tok)
        elif low == "of" and role_toks and prev is not None and prev.lower_ in ROLE_NOUNS | TITLE_MODIFIERS:
            role_toks.insert(0, tok)
        elif ctx.country_of(tok) is not None and (role_toks or (prev is not None and prev.lower_ == "of")):
            country = country or ctx.country_of(tok)
        elif low == "of" and i + 1 < name_start and ctx.country_of(doc[i + 1]) is not None:
            pass  # "the President of Kazakhstan Kasym-Jomart Tokayev"
        elif ctx.entity(tok, frozenset({"Organization"})) is not None and role_toks:
            org = org or ctx.entity(tok, frozenset({"Organization"}))
        elif tok.text in CLOSE_MARKS and role_toks:
            outlet, i = _quoted_name(ctx, i)
            org = org or outlet
            if outlet is None:
                break
        elif tok.text in ("'s", "’s") or tok.is_space:
            pass
        else:
            break
        i -= 1
    if not role_toks or not any(t.lower_ in ROLE_NOUNS for t in role_toks):
        return None
    if role_toks[-1].i != name_start - 1 and ctx.country_of(doc[name_start - 1]) is None:
        return None  # the title must touch the name ("President Putin")
    return _make(ctx, person, role_toks, org, country, doc[i + 1].idx, doc[name_start].idx)


CLOSE_MARKS = frozenset({"”", "\"", "»"})
OPEN_MARKS = frozenset({"“", "\"", "«"})


def _quoted_name(ctx: Context, close: int) -> tuple[Entity | None, int]:
    """A capitalised name in quotation marks ending at token ``close``: an outlet."""
    doc = ctx.doc
    j = close - 1
    while j >= 0 and close - j <= 6 and doc[j].text not in OPEN_MARKS:
        if not (doc[j].text[:1].isupper() or doc[j].is_punct):
            return None, close
        j -= 1
    if j < 0 or doc[j].text not in OPEN_MARKS or j == close - 1:
        return None, close
    name = doc[j + 1: close].text
    entity = ctx.gaz.lookup(name, "Organization") or Entity(
        key=f"organization/{slug(name)}", name=name, type="Organization")
    return entity, j


def _apposition_after(ctx: Context, name_end: int, person: Entity) -> Title | None:
    """'NAME, (a) senior associate at ORG' / 'NAME, head of ORG'."""
    doc = ctx.doc
    if name_end >= len(doc) or doc[name_end].text != ",":
        return None
    toks = []
    for tok in doc[name_end + 1: name_end + 25]:
        if tok.text in BOUNDARY or tok.is_space or tok.pos_ in ("VERB", "AUX") and tok.dep_ not in ("amod",):
            break
        toks.append(tok)
    return _phrase_title(ctx, person, toks)


def _apposition_before(ctx: Context, name_start: int, person: Entity) -> Title | None:
    """'Kazakhstan's ambassador to Israel, NAME' / 'the head of ORG, NAME'."""
    doc = ctx.doc
    if name_start < 2 or doc[name_start - 1].text != ",":
        return None
    toks = []
    i = name_start - 2
    while i >= 0 and name_start - i < 25:
        tok = doc[i]
        if tok.text in BOUNDARY or tok.is_space or tok.pos_ in ("VERB", "AUX"):
            break
        toks.insert(0, tok)
        i -= 1
    if toks and toks[0].lower_ == "to" and i >= 0 and doc[i].lower_ == "according":
        toks = toks[1:]
    return _phrase_title(ctx, person, toks)


def _phrase_title(ctx: Context, person: Entity, toks: list[Token]) -> Title | None:
    """A title phrase: optional determiner, title words, a role noun, then of/at/in/to X.
    A phrase naming another person is a list of people, not a title."""
    if any(ctx.entity(t, frozenset({"Person"})) not in (None, person) for t in toks):
        return None
    j = 0
    org = country = None
    while j < len(toks) and (toks[j].lower_ in ("a", "an", "the") or toks[j].pos_ in ("NUM",)
                             or ctx.country_of(toks[j]) is not None
                             or toks[j].text in ("'s", "’s")):
        if ctx.country_of(toks[j]) is not None:
            country = ctx.country_of(toks[j])
        j += 1
    role_toks = []
    while j < len(toks) and (toks[j].lower_ in TITLE_MODIFIERS or toks[j].lower_ in ROLE_NOUNS):
        role_toks.append(toks[j])
        j += 1
    if not role_toks or role_toks[-1].lower_ not in ROLE_NOUNS:
        return None
    rest = toks[j:]
    if rest and rest[0].lower_ in ("of", "at", "in", "for", "with", "to"):
        prep = rest[0].lower_
        for tok in rest[1:]:
            ent = ctx.entity(tok, ORG_OR_COUNTRY)
            if ent is not None and prep != "to":
                if ent.type == "Organization":
                    org = org or ent
                else:
                    country = country or ent
                break
        if prep == "to" and len(rest) > 1:
            role_toks = role_toks + rest[:2]
        elif role_toks[-1].lower_ in ("head", "chairman", "director", "chief") and org:
            role_toks = role_toks + [t for t in rest if t.i <= _last_org_token(ctx, rest, org)]
    start = min(t.idx for t in toks) if toks else 0
    end = max(t.idx + len(t) for t in toks) if toks else 0
    return _make(ctx, person, role_toks, org, country, start, end)


def _last_org_token(ctx: Context, toks: list[Token], org: Entity) -> int:
    last = -1
    for tok in toks:
        m = ctx.mention(tok)
        if m is not None and m.entity.key == org.key:
            last = tok.i
    return last


def _make(ctx, person, role_toks, org, country, start, end) -> Title:
    role = " ".join(t.text for t in role_toks).strip()
    role = role[0].upper() + role[1:] if role.split()[0].lower() in ("president", "prime") else role
    if org is not None and country is None:
        country = ctx.gaz.country_of(org.key)
    return Title(person, role, frozenset(t.lower_ for t in role_toks), org, country, start, end)


def _organisation_before(ctx: Context, start: int) -> Entity | None:
    """'after the Kremlin confirmed the meeting, spokesman Dmitry Peskov said': the
    organisation a spokesperson speaks for, named earlier in the same sentence."""
    span = ctx.doc.char_span(start, start + 1, alignment_mode="expand")
    if span is None:
        return None
    sent = span[0].sent
    orgs = ctx.mentions_in(ctx.doc[sent.start: span[0].i], frozenset({"Organization"}))
    return orgs[-1].entity if orgs else None


def _described(ctx: Context) -> Iterator[Title]:
    """'The Russian president calls ...': a definite description with a country, resolved
    to the person it denotes, states that person's office."""
    for tok in ctx.doc:
        if tok.lower_ not in ROLE_NOUNS or tok.lower_ in NOT_OFFICES or tok.pos_ not in ("NOUN", "PROPN"):
            continue
        if not any(c.lower_ == "the" for c in tok.children):
            continue
        if ctx.entity(tok) is not None or any(ctx.entity(c, frozenset({"Person"})) for c in tok.children):
            continue
        country = None
        for c in tok.children:
            if c.dep_ in ("amod", "compound"):
                country = country or ctx.country_of(c)
        if country is None:
            continue
        person = ctx.describe(tok)
        if person is None:
            continue
        mods = [c for c in tok.children if c.dep_ in ("amod", "compound") and c.lower_ in TITLE_MODIFIERS]
        role_toks = sorted(mods + [tok], key=lambda t: t.i)
        yield _make(ctx, person, role_toks, None, country, tok.idx, tok.idx + len(tok))
