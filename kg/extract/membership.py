"""memberOf: a country belongs to an international organisation.

A country (or "they"/"we"/"the two countries", or a capital standing for its country)
and an organisation in one sentence count when the dependency path between them passes
a membership cue: "is a member of", "joined", "remain in", "sit side by side in",
"ally/partner in", "which includes/consists of", "a customs union ... through the EAEU",
"member states", "summit of". Negated paths never count.
"""
from __future__ import annotations

from typing import Iterator

from spacy.tokens import Span, Token

from kg.extract.context import Context
from kg.extract.syntax import NEGATIONS
from kg.model import Entity, Fact

NAME = "membership"

MEMBER_CUES = frozenset("""
member members membership join accede ally allies partner partners remain stay sit
participate include consist comprise belong through via union state states founder
founding chair chairmanship summit delegation troops contingent mission bloc grouping
groupings
""".split())
INCLUDE_CUES = frozenset({"include", "consist", "comprise"})
BLOC_WORDS = frozenset({"Union", "Organization", "Organisation", "Treaty", "Community",
                        "Commonwealth", "Alliance", "Cooperation", "Pact", "Bloc", "Partnership"})
PLURAL_PRONOUNS = frozenset({"they", "we", "both"})
MAX_PATH = 9


def extract(ctx: Context) -> Iterator[Fact]:
    seen: set[tuple[str, str, int]] = set()
    for sent in ctx.doc.sents:
        orgs = [(t, ctx.entity(t, frozenset({"Organization"}))) for t in sent if _is_root(ctx, t)]
        orgs = [(t, e) for t, e in orgs if e is not None and _is_bloc(ctx, e)]
        if not orgs:
            continue
        members = list(_member_tokens(ctx, sent))
        for mtok, country in members:
            for otok, org in orgs:
                path = _path(mtok, otok)
                if path is None or len(path) > MAX_PATH:
                    continue
                inner = [t for t in path[1:-1] if ctx.mention(t) is None]
                cues = [t for t in inner if t.lemma_.lower() in MEMBER_CUES or t.lower_ in MEMBER_CUES]
                if not cues:
                    continue
                include = next((c for c in cues if c.lemma_.lower() in INCLUDE_CUES), None)
                if include is not None and not _includes(include, otok):
                    continue
                if any(c.dep_ == "neg" or c.lower_ in NEGATIONS for t in path for c in t.children):
                    continue
                key = (country.key, org.key, sent.start)
                if key in seen:
                    continue
                seen.add(key)
                yield Fact("memberOf", country, org, ctx.evidence(sent.start_char, sent.end_char),
                           NAME, 0.75)


def _is_root(ctx: Context, tok: Token) -> bool:
    m = ctx.mention(tok)
    if m is None:
        return False
    span = ctx.doc.char_span(m.start, m.end, alignment_mode="expand")
    return span is not None and tok.i == span.root.i


def _includes(cue: Token, org: Token) -> bool:
    """'the SCO, which includes China': only the organisation the clause is about."""
    if cue.dep_ == "relcl" and cue.head.i == org.i:
        return True
    return any(c.dep_ in ("nsubj", "nsubjpass") and c.i == org.i for c in cue.children)


def _is_bloc(ctx: Context, org: Entity) -> bool:
    """International organisations: in the gazetteer with no home country, or named like
    one ('... Economic Union', '... Treaty Organization')."""
    entry = ctx.gaz.entries.get(org.key)
    if entry is None:
        return bool(set(org.name.split()) & BLOC_WORDS)
    return entry.country is None


def _member_tokens(ctx: Context, sent: Span) -> Iterator[tuple[Token, Entity]]:
    seen_keys = set()
    for tok in sent:
        country = ctx.country_of(tok)
        if country is not None and ctx.res.demonym_at(tok) is None:
            m = ctx.mention(tok)
            span = ctx.doc.char_span(m.start, m.end, alignment_mode="expand") if m else None
            if span is None or tok == span.root:
                yield tok, country
                seen_keys.add(country.key)
        elif tok.lower_ in PLURAL_PRONOUNS or (tok.lower_ in ("countries", "nations") and
                                               any(c.lower_ in ("two", "2", "both") for c in tok.children)):
            if tok.lower_ == "we":
                c = _speaker_country(ctx, tok)
                if c is not None:
                    yield tok, c
                continue
            for c in _last_countries(ctx, sent.start_char, 2):
                yield tok, c


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
