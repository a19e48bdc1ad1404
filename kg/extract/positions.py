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
    for t in ctx.positions:
        obj = t.org or t.country
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
    """Walk left from the name over title words, demonyms, 'of COUNTRY', organisations."""
    doc = ctx.doc
    i = name_start - 1
    role_toks: list[Token] = []
    org = country = None
    while i >= 0 and name_start - i <= 9:
        tok = doc[i]
        low = tok.lower_
        if low in ROLE_NOUNS or (low in TITLE_MODIFIERS and role_toks):
            role_toks.insert(0, tok)
        elif low in TITLE_MODIFIERS and i + 1 < name_start and doc[i + 1].lower_ in ROLE_NOUNS:
            role_toks.insert(0, tok)
        elif low == "of" and role_toks and i > 0 and doc[i - 1].lower_ in ROLE_NOUNS | TITLE_MODIFIERS:
            role_toks.insert(0, tok)
        elif ctx.country_of(tok) is not None and (role_toks or low == "of"):
            country = country or ctx.country_of(tok)
        elif ctx.entity(tok, frozenset({"Organization"})) is not None and role_toks:
            org = org or ctx.entity(tok, frozenset({"Organization"}))
        elif low in ("of",) and i + 1 < name_start and ctx.country_of(doc[i + 1]) is not None:
            pass
        elif tok.text in ("“", "”", "\"", "'s", "’s") or tok.is_space:
            pass
        else:
            break
        i -= 1
    role_toks = [t for t in role_toks if t.lower_ != "of" or t is not role_toks[0]]
    if not role_toks or not any(t.lower_ in ROLE_NOUNS for t in role_toks):
        return None
    if role_toks and role_toks[-1].i != name_start - 1 and doc[name_start - 1].text not in ("”",):
        # the title must touch the name ("President Putin"), else it describes someone else
        if ctx.country_of(doc[name_start - 1]) is None:
            return None
    return _make(ctx, person, role_toks, org, country, doc[i + 1].idx, doc[name_start].idx)


def _apposition_after(ctx: Context, name_end: int, person: Entity) -> Title | None:
    """'NAME, (a) senior associate at ORG' / 'NAME, head of ORG'."""
    doc = ctx.doc
    if name_end >= len(doc) or doc[name_end].text != ",":
        return None
    toks = []
    for tok in doc[name_end + 1: name_end + 25]:
        if tok.text in BOUNDARY or tok.pos_ in ("VERB", "AUX") and tok.dep_ not in ("amod",):
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
        if tok.text in BOUNDARY or tok.pos_ in ("VERB", "AUX") or tok.lower_ in ("to",) and i > 0 and doc[i - 1].lower_ == "according":
            break
        toks.insert(0, tok)
        i -= 1
    if toks and toks[0].lower_ == "to" and i >= 0 and doc[i].lower_ == "according":
        toks = toks[1:]
    return _phrase_title(ctx, person, toks)


def _phrase_title(ctx: Context, person: Entity, toks: list[Token]) -> Title | None:
    """A title phrase: optional determiner, title words, a role noun, then of/at/in/to X."""
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
