"""holdsPosition: titles around a person's name.

Forms read: a title before the name ("Kazakh Deputy Prime Minister Serik Zhumangarin",
"the President of Kazakhstan Kasym-Jomart Tokayev", "Kremlin spokesman Dmitry Peskov",
"Rosatom Director General Alexei Likhachev", "UN Secretary-General António Guterres",
"Kazakh Energy Minister Bolat Akchulakov", "Prime-minister of Republic Kazakhstan Alikhan
Smailov", "Chairman of the Board of the Eurasian Economic Commission Bakytzhan Sagintayev"),
an apposition after it ("Aleksey Maslov, head of the Institute of ...", "Pravesh Kumar
Gupta, senior associate at the ... Foundation", "Dauren Abenov, an Almaty-based analyst at
the Central Asia Policy Forum", "Andrew Pelham, head of oil research at consultancy Caspian
Energy Analytics") or before it ("Kazakhstan's ambassador to Israel, Satybaldy Burshakov"),
and a relative clause with a verb of office ("Nikol Pashinyan, who chaired the bloc's
Collective Security Council").

The organisation or country is whatever the title names: an organisation, a country, a
demonym ("Kazakh"), a possessor ("Kazakhstan's"), "the Republic (of) X". Capitalised
portfolio words between the country and the role noun ("Energy", "External Affairs") belong
to the role, never to the organisation. A title naming no organisation or country is kept
for resolving descriptions ("the expert") but yields no fact, unless the office is a state
office and the gazetteer knows the person's country ("President Kassym-Jomart Tokayev") or
the sentence says which country the person represents ("India was represented by External
Affairs Minister X"). Descriptive nouns ("analyst", "expert") are a position only with an
explicit employer ("an analyst at the Central Asia Policy Forum").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from spacy.tokens import Token

from kg.extract.context import ROLE_NOUNS, Context
from kg.model import Entity, Fact
from kg.names import slug
from kg.resolve import ORG_HEADS

NAME = "positions"

#: role nouns beyond the shared ones that only titles use
EXTRA_ROLE_NOUNS = frozenset("""
prosecutor commissioner consul rector ombudsman representative coordinator manager officer
ceo president-elect
""".split())
ROLE_WORDS = ROLE_NOUNS | EXTRA_ROLE_NOUNS
#: words that may stand inside a title ("Deputy Prime Minister", "Secretary of State")
TITLE_MODIFIERS = frozenset("""
deputy vice prime first acting former interim assistant senior junior chief general
executive foreign defence defense interior finance economy trade state press national
security presidential political international permanent special managing principal
""".split())
#: portfolio words of ministers and secretaries ("Energy Minister", "External Affairs Minister",
#: "Minister of Emergency Situations")
PORTFOLIO = frozenset("""
affairs agriculture communications commerce culture defence defense development digital
digitalization ecology economic economics economy education emergency emergencies energy
environment environmental external finance financial foreign health home industry
information infrastructure innovation integration interior internal investment investments
justice labor labour natural resources science situations social sport sports tourism trade
transport transportation water youth
""".split())
#: bodies named inside a title: "Chairman of the Board of ...", "Chairman of the Cabinet of
#: Ministers of ...", "Chairman of the Government of ..."
BODY_NOUNS = frozenset("""
board cabinet ministers government council directors committee presidium trustees governors
secretariat management administration
""".split())
#: offices whose holder's country the gazetteer may supply when the text names none
STATE_OFFICES = frozenset({"president", "minister", "premier", "spokesman", "spokeswoman",
                           "chancellor", "king", "emir", "secretary", "ambassador"})
#: descriptive nouns that are not offices: kept for references, a fact only with an employer
NOT_OFFICES = frozenset({"expert", "analyst", "scientist", "observer", "counterpart",
                         "colleague", "diplomat", "official", "politician", "economist",
                         "journalist", "lawyer", "speaker", "leader"})
#: descriptions that never state a job, whatever follows them
NEVER_JOBS = frozenset({"counterpart", "colleague", "speaker"})
#: verbs of holding an office: "X, who chairs the council", "X has headed the commission"
OFFICE_VERBS = {"head": "head", "chair": "chair", "lead": "head", "direct": "director"}
SPOKESPERSONS = frozenset({"spokesman", "spokeswoman", "spokesperson"})
BOUNDARY = frozenset({",", ".", ";", ":", "(", ")", "—", "–", "\n"})
ORG_OR_COUNTRY = frozenset({"Organization", "Country"})
PLACES = frozenset({"City", "Region"})
POSSESSIVE = frozenset({"'s", "’s", "'", "’"})
#: words that join two offices in one title: "Deputy Prime Minister and Trade Minister",
#: "Deputy Prime Minister - Foreign Minister"
JOINERS = frozenset({"and", "&", "-", "–", "—"})
HYPHENS = frozenset({"-", "‐"})
#: capitalised words that are never part of a title
NOT_TITLE_WORDS = frozenset("""
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december i
""".split())
#: which preposition names the employer when several name organisations: "head of the
#: Institute of X at Y University" -> Y University; "professor of International Relations
#: at X" -> X
PREP_RANK = {"at": 0, "with": 1, "of": 2, "for": 3, "in": 4}


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
        span = ctx.mention_span(m)
        if span is None:
            continue
        if span.end < len(ctx.doc) and ctx.doc[span.end].text in ORG_HEADS:
            continue  # "Nazarbayev University": a name inside an organisation's name
        for title in (_title_before(ctx, span.start, m.entity),
                      _apposition_after(ctx, span.end, m.entity),
                      _apposition_before(ctx, span.start, m.entity)):
            if title is not None:
                titles.append(title)
    titles.sort(key=lambda t: t.start)
    return titles


def extract(ctx: Context) -> Iterator[Fact]:
    seen: set[tuple[str, str]] = set()
    for t in list(ctx.positions) + list(_described(ctx)) + list(_office_verbs(ctx)):
        obj = t.org or t.country
        if obj is None and t.role_words & SPOKESPERSONS:
            obj = _organisation_before(ctx, t.start)
        if obj is None and t.role_words & STATE_OFFICES:
            obj = _represented_country(ctx, t)
        if obj is None and t.role_words & STATE_OFFICES:
            entry = ctx.gaz.entries.get(t.person.key)
            obj = ctx.gaz.get(entry.country) if entry else None
        if obj is None or not _is_office(t):
            continue
        key = (t.person.key, obj.key)
        if key in seen:
            continue
        seen.add(key)
        yield Fact("holdsPosition", t.person, obj, ctx.evidence(t.start, t.end), NAME,
                   0.85 if t.org or t.country else 0.6, role=t.role)


def _is_office(t: Title) -> bool:
    """An office, or a job described by a descriptive noun at a named employer."""
    if t.role_words & (ROLE_WORDS - NOT_OFFICES) or "leader" in t.role_words:
        return True
    return t.org is not None and not (t.role_words & NEVER_JOBS)


# --------------------------------------------------------------------------- token kinds


def _org_mention(ctx: Context, tok: Token) -> Entity | None:
    return ctx.entity(tok, frozenset({"Organization"}))


def _function_org(ctx: Context, tok: Token) -> bool:
    """An 'organisation' the model found that is only portfolio or body words
    ("External Affairs", "Cabinet of Ministers of"): part of a title, not an employer."""
    m = ctx.mention(tok)
    if m is None or m.entity.type != "Organization" or ctx.gaz.entries.get(m.entity.key):
        return False
    words = [w.lower().strip(".") for w in m.text.split()]
    words = [w for w in words if w not in ("of", "the", "and", "for", "&")]
    return bool(words) and all(w in PORTFOLIO or w in BODY_NOUNS for w in words)


def _kind(ctx: Context, tok: Token) -> str | None:
    """What a token can be in a title read leftwards from a name."""
    low = tok.lower_
    if tok.is_space or "\n" in tok.text:
        return None
    if low == "of":
        return "of"
    if low in ("the", "for"):
        return low
    if tok.text in POSSESSIVE:
        return "poss"
    if tok.text in HYPHENS and tok.i > 0 and not tok.doc[tok.i - 1].whitespace_ and not tok.whitespace_:
        return "glue"  # "Prime-minister", "Secretary-General"
    if low in JOINERS:
        return "join"
    if low == "republic" or low == "federation":
        return "republic"
    if ctx.entity(tok, frozenset({"Person"})) is not None:
        return None
    if _function_org(ctx, tok):
        return "portfolio"
    if ctx.country_of(tok) is not None:
        return "country"
    if _org_mention(ctx, tok) is not None:
        if tok.pos_ in ("ADP", "DET", "CCONJ", "PUNCT") and ctx.doc[tok.i + 1: tok.i + 2] \
                and ctx.mention(ctx.doc[tok.i + 1]) is not ctx.mention(tok):
            return None  # a mention the model ran on past its name ("Relations at")
        return "org"
    if ctx.entity(tok, PLACES) is not None:
        return "place"
    if low in ROLE_WORDS:
        return "role"
    if low in TITLE_MODIFIERS:
        return "mod"
    if low in PORTFOLIO:
        return "portfolio"
    if low in BODY_NOUNS:
        return "body"
    if tok.text in CLOSE_MARKS:
        return "quote"
    if tok.is_alpha and tok.text[0].isupper() and low not in NOT_TITLE_WORDS and not tok.is_sent_start:
        return "cap"  # a portfolio word the lexicon lacks: kept only between a country and a role
    return None


ROLE_PART = frozenset({"role", "mod", "portfolio", "body", "of", "the", "for", "join", "glue", "cap"})
ROLE_END = frozenset({"role", "mod", "portfolio", "body"})
PREFIX = frozenset({"country", "org", "place", "poss", "the", "quote", "republic"})
TAIL = frozenset({"country", "org", "republic", "of", "the"})


def _title_before(ctx: Context, name_start: int, person: Entity) -> Title | None:
    """Read leftwards from the name: [prefix: demonym, country, organisation, possessor,
    quoted outlet] [role part: modifiers, portfolio, role nouns, 'of the Board', joined
    offices] [tail: 'of (the) (Republic (of)) COUNTRY/ORG'] NAME."""
    doc = ctx.doc
    name_start = _editorial_insertion(doc, name_start)
    kinds: dict[int, str] = {}
    outlets: dict[int, tuple[Entity, int]] = {}
    i = name_start - 1
    while i >= 0 and name_start - i <= 16:
        kind = _kind(ctx, doc[i])
        if kind is None:
            break
        if kind == "quote":
            outlet, j = _quoted_name(ctx, i)
            if outlet is None:
                break
            outlets[j] = (outlet, i)
            for k in range(j, i + 1):
                kinds[k] = "outlet"
            i = j - 1
            continue
        kinds[i] = kind
        i -= 1
    if not kinds:
        return None
    lo = min(kinds)
    # the tail: "... of [the] [Republic [of]] Kazakhstan NAME", "... of the ORG NAME"
    k = name_start - 1
    while k >= lo and kinds[k] in TAIL and (kinds[k] != "of" or _inside_name(ctx, k)):
        k -= 1
    tail_ents = [kinds[t] for t in range(k + 1, name_start) if kinds[t] in ("country", "org")]
    if k >= lo and kinds[k] == "of" and tail_ents:
        role_last = k - 1
    else:
        role_last = name_start - 1
        k = name_start
    # the role part, ending in a role noun, modifier ("Director General"), portfolio or body
    while role_last >= lo and kinds[role_last] in ("the", "of"):
        role_last -= 1
    if role_last < lo or kinds[role_last] not in ROLE_END:
        return None
    r = role_last
    while r - 1 >= lo and kinds[r - 1] in ROLE_PART:
        r -= 1
    while r <= role_last and kinds[r] in ("of", "the", "for", "join", "glue"):
        r += 1
    role_toks = list(doc[r: role_last + 1])
    if not any(t.lower_ in ROLE_WORDS for t in role_toks):
        return None
    # the prefix: what the title belongs to
    p = r - 1
    while p >= lo and kinds[p] in PREFIX | {"outlet"}:
        p -= 1
    start = p + 1
    org = country = None
    prefix_named = False
    for t in list(range(k, name_start)) + list(range(r - 1, start - 1, -1)):
        kind = kinds.get(t)
        if kind == "country":
            country = country or ctx.country_of(doc[t])
            prefix_named = True
        elif kind == "org":
            org = org or _org_mention(ctx, doc[t])
            prefix_named = True
        elif kind == "outlet" and t in outlets:
            org = org or outlets[t][0]
            prefix_named = True
        elif kind == "place":
            prefix_named = True
    if not prefix_named:
        # unlisted capitalised words count as portfolio only after a demonym or organisation
        caps = [n for n, t in enumerate(role_toks) if kinds[t.i] == "cap"]
        if caps:
            role_toks = role_toks[caps[-1] + 1:]
            while role_toks and kinds[role_toks[0].i] in ("of", "the", "for", "join", "glue"):
                role_toks = role_toks[1:]
            if not any(t.lower_ in ROLE_WORDS for t in role_toks):
                return None
            start = role_toks[0].i
    if org is not None and k < name_start and org.name.split()[0].lower() in BODY_NOUNS:
        national = ctx.gaz.country_of(org.key)
        head = next((t for t in range(k + 1, name_start) if kinds[t] == "org"), None)
        if national is not None and head is not None:
            # "Chairman of the Government of the Russian Federation": the head of a national
            # government holds an office of the country
            role_toks = list(doc[r: head + 1])
            org, country = None, national
    while start < name_start and kinds.get(start) in ("the", "poss"):
        start += 1
    return _make(ctx, person, role_toks, org, country, doc[start].idx, doc[name_start].idx)


def _editorial_insertion(doc, name_start: int) -> int:
    """'President [Nursultan] Nazarbayev': a bracketed given name added by the editor
    belongs to the name."""
    if name_start < 3 or doc[name_start - 1].text != "]":
        return name_start
    j = name_start - 2
    while j >= 0 and name_start - j <= 6 and doc[j].text != "[":
        if not (doc[j].text[:1].isupper() or doc[j].text in HYPHENS):
            return name_start
        j -= 1
    return j if j >= 0 and doc[j].text == "[" and j < name_start - 2 else name_start


def _inside_name(ctx: Context, k: int) -> bool:
    """An 'of' inside a country's or organisation's name ('Republic of Armenia')."""
    doc = ctx.doc
    if k == 0 or k + 1 >= len(doc):
        return False
    if doc[k - 1].lower_ in ("republic", "federation"):
        return True
    m = ctx.mention(doc[k])
    return m is not None and m is ctx.mention(doc[k - 1]) and m is ctx.mention(doc[k + 1])


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


# --------------------------------------------------------------------------- appositions


def _apposition_after(ctx: Context, name_end: int, person: Entity) -> Title | None:
    """'NAME, (a) senior associate at ORG' / 'NAME, head of ORG'."""
    doc = ctx.doc
    if name_end >= len(doc) or doc[name_end].text != ",":
        return None
    toks = []
    for tok in doc[name_end + 1: name_end + 25]:
        if tok.text in BOUNDARY or tok.is_space or tok.pos_ in ("VERB", "AUX") and not _based(tok):
            if not (tok.pos_ == "VERB" and tok.dep_ == "amod"):
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
        if tok.text in BOUNDARY or tok.is_space or tok.pos_ in ("VERB", "AUX") and not _based(tok):
            break
        toks.insert(0, tok)
        i -= 1
    if toks and toks[0].lower_ == "to" and i >= 0 and doc[i].lower_ == "according":
        toks = toks[1:]
    return _phrase_title(ctx, person, toks)


def _based(tok: Token) -> bool:
    """'based' in 'Almaty-based', 'London-based'."""
    return tok.lower_ == "based" and tok.i > 0 and tok.doc[tok.i - 1].text in HYPHENS


def _skip_based(toks: list[Token], j: int) -> int:
    """Past an 'X-based' / 'X Y-based' modifier starting at j, else j."""
    for k in range(j, min(j + 5, len(toks))):
        if _based(toks[k]):
            if all(t.text[:1].isupper() or t.text in HYPHENS for t in toks[j:k - 1]) and k - 1 > j:
                return k + 1
            return j
        if not (toks[k].text[:1].isupper() or toks[k].text in HYPHENS):
            return j
    return j


def _phrase_title(ctx: Context, person: Entity, toks: list[Token]) -> Title | None:
    """A title phrase: optional determiner, owner (country, demonym, organisation's),
    'X-based', descriptive words, a role noun, then of/at/in/to X.
    A phrase naming another person is a list of people, not a title."""
    if any(ctx.entity(t, frozenset({"Person"})) not in (None, person) for t in toks):
        return None
    j = 0
    org = country = None
    while j < len(toks):
        tok = toks[j]
        if tok.lower_ in ("a", "an", "the", "as") or tok.pos_ == "NUM" or tok.text in POSSESSIVE:
            j += 1
            continue
        nxt = _skip_based(toks, j)
        if nxt != j:
            j = nxt
            continue
        if ctx.country_of(tok) is not None:
            country = ctx.country_of(tok)
            j += 1
            continue
        owner = _org_mention(ctx, tok)
        if owner is not None and not _function_org(ctx, tok):
            end = j
            while end < len(toks) and _org_mention(ctx, toks[end]) == owner:
                end += 1
            if end < len(toks) and (toks[end].text in POSSESSIVE or toks[end].lower_ in ROLE_WORDS):
                org = org or owner  # "the European Union's special envoy", "Eurasia Group analyst"
                j = end
                continue
        break
    # title words up to the last role noun: "senior research fellow", "Central Asia analyst"
    k = j
    role_end = -1
    while k < len(toks) and k - j < 6 and _title_word(ctx, toks[k]):
        if toks[k].lower_ in ROLE_WORDS:
            role_end = k
        k += 1
    if role_end < 0 or any(ctx.country_of(t) for t in toks[j:role_end]):
        return None
    role_toks = toks[j: role_end + 1]
    rest = toks[role_end + 1:]
    employer, country2, intro = _employer(ctx, rest)
    org = org or employer
    country = country or country2
    if rest and rest[0].lower_ == "to" and len(rest) > 1:
        role_toks = role_toks + rest[:2]  # "ambassador to Israel"
    elif rest and rest[0].lower_ == "of" and role_toks[-1].lower_ in ("head", "chairman", "director", "chief", "chair"):
        if intro is not None and intro > 0:  # "head of oil research at X"
            role_toks = role_toks + rest[:intro]
        elif org is not None:
            role_toks = role_toks + [t for t in rest if t.i <= _last_org_token(ctx, rest, org)]
    start = min(t.idx for t in toks) if toks else 0
    end = max(t.idx + len(t) for t in toks) if toks else 0
    return _make(ctx, person, role_toks, org, country, start, end)


def _title_word(ctx: Context, tok: Token) -> bool:
    """A word that may stand in a title before its role noun."""
    low = tok.lower_
    if low in ROLE_WORDS or low in TITLE_MODIFIERS or low in PORTFOLIO:
        return True
    if ctx.entity(tok, frozenset({"Person", "Organization"})) is not None:
        return False
    if ctx.entity(tok, PLACES | {"Country"}) is not None:
        return True  # "Central Asia analyst"
    return tok.is_alpha and tok.pos_ in ("ADJ", "NOUN", "PROPN") and low not in ("of", "at", "in")


def _employer(ctx: Context, rest: list[Token]) -> tuple[Entity | None, Entity | None, int | None]:
    """The organisation (else country) a title's prepositional phrases name, and the index
    of the preposition that introduces it: an organisation mention, a country, else a
    capitalised name after at/of/with ('at consultancy Caspian Energy Analytics')."""
    if not rest or rest[0].lower_ not in ("of", "at", "in", "for", "with", "to"):
        return None, None, None
    country = None
    orgs: list[tuple[int, Entity, int]] = []  # (rank, organisation, index of its preposition)
    prep_at = 0
    for n, tok in enumerate(rest):
        if tok.pos_ == "ADP" or tok.lower_ in ("of", "at", "in", "for", "with", "to"):
            prep_at = n
            if tok.lower_ == "to":
                break  # "ambassador to Israel": the host country, not the employer
            continue
        ent = ctx.entity(tok, ORG_OR_COUNTRY)
        if ent is None or _function_org(ctx, tok) or tok.pos_ == "ADP":
            continue
        if ent.type == "Organization" and all(o is not ent for _, o, _ in orgs):
            named = ctx.gaz.entries.get(ent.key) is not None or ent.name.split()[-1] in ORG_HEADS
            rank = PREP_RANK.get(rest[prep_at].lower_, 3) if named or rest[prep_at].lower_ != "of" else 5
            orgs.append((rank, ent, prep_at))
        elif ent.type == "Country" and country is None:
            country = ent
    minted, at = _named_after(ctx, rest)
    if minted is not None:
        orgs.append((PREP_RANK.get(rest[at].lower_, 3) + 0.5, minted, at))
    if orgs:
        _, org, org_at = min(orgs, key=lambda o: o[0])
        return org, country, org_at
    return None, country, None


def _named_after(ctx: Context, rest: list[Token]) -> tuple[Entity | None, int | None]:
    """The last capitalised name of two or more words after at/of/with, past a determiner,
    'X-based' and lowercase descriptors ('at the London-based consultancy Eurasia Risk
    Partners'): an employer the model did not tag."""
    found: dict[str, tuple[Entity, int]] = {}
    for n, tok in enumerate(rest):
        if tok.lower_ not in ("at", "of", "with"):
            continue
        j = n + 1
        while j < len(rest):
            nxt = _skip_based(rest, j)
            if nxt != j:
                j = nxt
            elif rest[j].lower_ in ("the", "a", "an") or (rest[j].is_lower and rest[j].pos_ in ("NOUN", "ADJ")):
                j += 1
            else:
                break
        k = j
        while k < len(rest) and rest[k].is_alpha and rest[k].text[0].isupper() \
                and ctx.entity(rest[k], frozenset({"Person", "Country"})) is None:
            k += 1
        words = rest[j:k]
        if len(words) < 2 or words[0].lower_ in NOT_TITLE_WORDS:
            continue
        mentions = {id(ctx.mention(t)) for t in words if ctx.mention(t) is not None}
        if len(mentions) == 1 and all(ctx.mention(t) is not None for t in words):
            continue  # one place name ("Central Asia"), not an employer
        if tok.lower_ == "of" and words[-1].text not in ORG_HEADS:
            continue  # "professor of International Relations": a field, not an employer
        name = " ".join(t.text for t in words)
        found[tok.lower_] = (ctx.gaz.lookup(name, "Organization") or Entity(
            key=f"organization/{slug(name)}", name=name, type="Organization"), n)
    for prep in ("at", "with", "of"):
        if prep in found:
            return found[prep]
    return None, None


def _last_org_token(ctx: Context, toks: list[Token], org: Entity) -> int:
    last = -1
    for tok in toks:
        m = ctx.mention(tok)
        if m is not None and m.entity.key == org.key:
            last = tok.i
    return last


def _make(ctx, person, role_toks, org, country, start, end) -> Title:
    doc = ctx.doc
    role = doc[role_toks[0].i: role_toks[-1].i + 1].text.strip() if role_toks else ""
    if role and len(role_toks) != role_toks[-1].i - role_toks[0].i + 1:
        role = " ".join(t.text for t in role_toks).strip()
    role = role[0].upper() + role[1:] if role.split()[0].lower() in ("president", "prime") else role
    if org is not None and country is None:
        country = ctx.gaz.country_of(org.key)
    words = frozenset(t.lower_ for t in role_toks if t.is_alpha and t.lower_ not in ("of", "the", "and", "for"))
    if words & {"chairman", "chairwoman", "chair", "head"} and words & {"government", "cabinet"}:
        words |= {"premier"}  # "Chairman of the Government": the head of government
    return Title(person, role, words, org, country, start, end)


# --------------------------------------------------------------------------- other forms


def _organisation_before(ctx: Context, start: int) -> Entity | None:
    """'after the Kremlin confirmed the meeting, spokesman Dmitry Peskov said': the
    organisation a spokesperson speaks for, named earlier in the same sentence."""
    span = ctx.doc.char_span(start, start + 1, alignment_mode="expand")
    if span is None:
        return None
    sent = ctx.sent_of(span[0])
    orgs = ctx.mentions_in(ctx.doc[sent.start: span[0].i], frozenset({"Organization"}))
    return orgs[-1].entity if orgs else None


def _represented_country(ctx: Context, t: Title) -> Entity | None:
    """'India was represented by External Affairs Minister X' / 'X represented India':
    the country a state official stands for."""
    span = ctx.doc.char_span(t.start, t.end, alignment_mode="expand")
    if span is None:
        return None
    for tok in ctx.doc[span.start: min(span.end + 4, len(ctx.doc))]:
        if ctx.entity(tok, frozenset({"Person"})) != t.person:
            continue
        head = tok
        while head.dep_ in ("compound", "appos", "flat") and head.head.i != head.i:
            head = head.head
        verb = head.head.head if head.dep_ == "pobj" and head.head.dep_ == "agent" else head.head
        if verb.lemma_.lower() != "represent":
            return None
        want = "nsubjpass" if verb is not head.head else "dobj"
        for c in verb.children:
            if c.dep_ == want and ctx.country_of(c) is not None:
                return ctx.country_of(c)
        return None
    return None


def _office_verbs(ctx: Context) -> Iterator[Title]:
    """'Nikol Pashinyan, who at the time chaired the bloc's Collective Security Council',
    'Sagintayev has headed the Eurasian Economic Commission since 2024'."""
    lemmas, pos = ctx.view.lemma, ctx.view.pos
    for i, lemma in enumerate(lemmas):
        noun = OFFICE_VERBS.get(lemma)
        if noun is None or pos[i] != "VERB":
            continue
        verb = ctx.tokens[i]
        if any(c.dep_ == "neg" for c in verb.children):
            continue
        obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
        org = ctx.entity(obj, frozenset({"Organization"})) if obj is not None else None
        if org is None or _function_org(ctx, obj):
            continue
        subj = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        if subj is not None and subj.lower_ in ("who", "that") and verb.dep_ == "relcl":
            subj = verb.head
        if subj is None:
            continue
        person = ctx.entity(subj, frozenset({"Person"}))
        if person is None:
            continue
        lo = min(subj.idx, verb.idx)
        hi = max(t.idx + len(t) for t in obj.subtree)
        yield Title(person, f"{noun} of the {org.name}", frozenset({noun}), org,
                    ctx.gaz.country_of(org.key), lo, hi)


def _described(ctx: Context) -> Iterator[Title]:
    """'The Russian president calls ...': a definite description with a country, resolved
    to the person it denotes, states that person's office."""
    lower, pos = ctx.view.lower, ctx.view.pos
    for i, low in enumerate(lower):
        if low not in ROLE_NOUNS or low in NOT_OFFICES or pos[i] not in ("NOUN", "PROPN"):
            continue
        tok = ctx.tokens[i]
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
