"""Mentions -> canonical entities.

Rules, in order: the gazetteer (aliases, transliteration skeletons, demonyms); titles and
roles stripped from the name; in-text acronym definitions; surname-only and patronymic
back-references to a person introduced in the same article; a mistyped person (spaCy's
small model often calls "Nikita Mendkovich" or "Blinken" a place) retyped from its
context. Names the gazetteer does not know get a key from their transliteration skeleton,
so "Mendkovic" and "Mendkovich" meet across articles.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from kg.gazetteer import Gazetteer
from kg.model import Entity, Mention
from kg.names import normalize, skeleton, slug
from kg.nlp import DocView

#: spaCy labels considered, and the ontology type they give a name the gazetteer lacks
LABEL_TYPE = {"PERSON": "Person", "GPE": "City", "LOC": "Region", "ORG": "Organization",
              "FAC": "Other", "NORP": None}

#: words of titles and roles that precede or wrap a name ("Kazakh President X")
TITLE_WORDS = frozenset("""
president presidents vice deputy prime minister ministers foreign secretary assistant
state spokesman spokeswoman spokesperson press chairman chairwoman chair head leader
ambassador envoy general director chief senior associate researcher analyst expert
political scientist columnist journalist correspondent professor dr dr. mr mr. mrs ms
sir acting first former late new newly reelected re-elected incumbent interim
governor mayor senator adviser advisor aide counterpart colleague commander
the a an his her their its our
""".split())

#: verbs whose subject is a human: a "place" subject of one of these is a mistyped person
HUMAN_VERBS = frozenset("""
say tell note stress explain state add believe think argue warn emphasize emphasise
promise assure claim insist suggest testify comment announce declare meet visit
call urge travel fly arrive receive host welcome speak write recall admit deny agree
""".split())

#: nouns that head an organisation's name
ORG_HEADS = frozenset("""
Institute University Club Foundation Centre Center Council Committee Bank Ministry Agency
Party Union Organization Organisation Company Corporation Fund Academy Association Forum
Service Court Parliament Assembly Commission School College Society Consortium Alliance
Office Department Administration Directorate Network Coalition Movement Initiative
Programme Program Authority Board Chamber Exchange Institution Group Analytics Partners
Consulting Consultancy Holdings Research Advisors Associates Capital Media Agency
""".split())
ORG_CONNECTORS = frozenset({"of", "for", "and", "on", "&"})
INITIALLED = re.compile(r"^(?:[A-Z]\.){1,2}\s?[A-Z][a-z][\w'’-]+$")
PATRONYMIC = re.compile(r"(ovich|evich|ovic|evic|ovna|evna|ich)$", re.I)
ACRONYM_DEF = re.compile(r"\(([A-Z][A-Za-z]{1,9})\)")
_LEADING_THE = re.compile(r"^(the|The)\s+")
_PERSON_NAME = re.compile(r"^[A-Z][\w'’.-]+(\s+[A-Z][\w'’.-]+){0,3}$")


@dataclass
class Resolution:
    """What resolution found in one article."""

    mentions: list[Mention] = field(default_factory=list)  # entity mentions, by start
    demonyms: list[Mention] = field(default_factory=list)  # "Kazakh" -> Kazakhstan
    variants: dict[str, set[str]] = field(default_factory=dict)  # key -> surface forms
    _by_token: dict[int, Mention] = field(default_factory=dict)
    _demonym_by_token: dict[int, Mention] = field(default_factory=dict)

    def index(self, doc: Doc) -> None:
        self.mentions.sort(key=lambda m: m.start)
        for collection, table in ((self.mentions, self._by_token),
                                  (self.demonyms, self._demonym_by_token)):
            for m in collection:
                span = doc.char_span(m.start, m.end, alignment_mode="expand")
                if span is not None:
                    for tok in span:
                        table[tok.i] = m

    def at(self, token: Token) -> Mention | None:
        return self._by_token.get(token.i)

    def at_index(self, i: int) -> Mention | None:
        """The mention covering the token with index ``i``."""
        return self._by_token.get(i)

    def demonym_at_index(self, i: int) -> Mention | None:
        return self._demonym_by_token.get(i)

    def demonym_at(self, token: Token) -> Mention | None:
        return self._demonym_by_token.get(token.i)

    @property
    def entities(self) -> dict[str, Entity]:
        return {m.entity.key: m.entity for m in self.mentions}


def resolve(doc: Doc, gaz: Gazetteer, view: DocView | None = None) -> Resolution:
    """The article's mentions and the entities they name. ``view`` is the Doc's tokens
    read once (:class:`kg.nlp.DocView`), shared with the extractors when given."""
    if view is None or view.doc is not doc:
        view = DocView(doc)
    res = Resolution()
    acronyms = _acronym_definitions(view.text, gaz)
    persons: dict[str, Entity] = {}  # skeleton of full name -> entity, in this article
    surnames: dict[str, Entity] = {}

    for ent in _candidate_spans(view, gaz):
        if ent.label_ not in LABEL_TYPE:
            continue
        core = _strip_titles(ent, gaz)
        if core is None:
            continue
        text = core.text.strip("*“”\"'’‘ ")
        if not text or not text[0].isalnum():
            continue
        start = core.start_char + core.text.index(text[0])
        end = start + len(text)
        if ent.label_ == "NORP" or (not ent.ent_id_ and gaz.demonym(text)):
            country = gaz.demonym(text) or (gaz.get(ent.ent_id_) if ent.ent_id_ else None)
            if country is not None:
                res.demonyms.append(Mention(start, end, text, country))
            continue
        entity = gaz.get(ent.ent_id_) if ent.ent_id_ else None
        if entity is None:
            entity = acronyms.get(normalize(text))
        if entity is None:
            type_ = _guess_type(ent, core, text)
            entity = gaz.lookup(text, type_ if type_ != "City" else None)
            if entity is None and type_ == "Person" and INITIALLED.match(text):
                entity = _by_initial_and_surname(text, persons, gaz)
            if entity is None and type_ == "Person":
                entity = _person_in_article(text, persons, surnames, gaz)
            if entity is None:
                if type_ is None or not _plausible_name(text, type_):
                    continue
                if type_ == "Person" and " " not in text.strip() and not _surname_later(text, view.ents, ent):
                    continue  # "Chevron said": persons are introduced by full name
                entity = _mint(text, type_)
        if entity.type == "Person":
            sk = skeleton(text)
            persons.setdefault(sk, entity)
            parts = sk.split()
            if len(parts) > 1:
                surnames.setdefault(parts[-1], entity)
        res.mentions.append(Mention(start, end, text, entity))

    # a surname seen before its full name ("Tokaev ... Kasim-Zhomart Tokaev") joins it too
    merged = []
    for m in res.mentions:
        if m.entity.type == "Person" and " " not in skeleton(m.text):
            full = surnames.get(skeleton(m.text))
            if full is not None and full.key != m.entity.key and _is_minted(m.entity):
                m = Mention(m.start, m.end, m.text, full)
        merged.append(m)
    res.mentions = _join_short_org_names(merged)
    for m in res.mentions:
        res.variants.setdefault(m.entity.key, set()).add(m.text)
    res.index(doc)
    return res


def _org_names(view: DocView, gaz: Gazetteer) -> list[Span]:
    """Capitalised runs headed by an organisation noun ("the Almaty Policy Institute",
    "Institute of Asian and African Countries"), which the gazetteer's place names inside
    them would otherwise break apart."""
    doc, toks, lower = view.doc, view.tokens, view.lower
    caps = [t.is_alpha and t.text[0].isupper() and low != "i" for t, low in zip(toks, lower)]  # _cap
    found: list[Span] = []
    i, n = 0, len(toks)
    while i < n:
        if not caps[i]:
            i += 1
            continue
        j = i
        while j < n and (caps[j] or (lower[j] in ORG_CONNECTORS and j + 1 < n and caps[j + 1])):
            j += 1
        run = toks[i:j]
        heads = [t for t in run if t.text in ORG_HEADS]
        if heads and len(run) > 1:
            start = i + 1 if lower[i] == "the" else i
            first_head = heads[0].i
            for t in toks[start:first_head]:  # "Kamran Bokhari of Newlines Institute"
                if (t.ent_type_ == "PERSON" and gaz.lookup(t.text, "Organization") is None
                        and lower[t.i + 1] in ORG_CONNECTORS):  # not "Nazarbayev University"
                    start = t.i + 1
            while start < first_head and lower[start] in ORG_CONNECTORS:
                start += 1
            end = max(t.i for t in heads) + 1
            after_connector = False
            for t in toks[end:j]:  # keep "of Asian and African Countries" after the head
                if lower[t.i] in ("of", "for", "on", "and"):
                    after_connector = True
                elif caps[t.i] and after_connector and t.ent_type_ != "PERSON":
                    end = t.i + 1  # but not "Commission Bakytzhan Sagintayev"
                else:
                    break
            span = Span(doc, start, end, label="ORG")
            known = gaz.lookup(span.text)
            if known is None or known.type == "Organization":
                found.append(span)
        i = max(j, i + 1)
    return found


def _initialled_names(view: DocView) -> list[Span]:
    """'A.Smailov', 'M.Mishustin': an initial glued to a surname is one token the model
    rarely tags."""
    out = []
    for t in view.tokens:
        text = t.text
        if text[1:2] == "." and INITIALLED.match(text):  # the pattern's second character
            out.append(Span(view.doc, t.i, t.i + 1, label="PERSON"))
    return out


def _cap(tok: Token) -> bool:
    return tok.is_alpha and tok.text[0].isupper() and tok.lower_ not in ("i",)


def _join_short_org_names(mentions: list[Mention]) -> list[Mention]:
    """'the Agency for Atomic Energy' after 'the Agency for Atomic Energy of Kazakhstan' in
    one article is the same body: a minted organisation whose name is another's minus a
    trailing 'of X' joins it."""
    minted = {m.entity.name: m.entity for m in mentions
              if m.entity.type == "Organization" and m.entity.wikidata is None}
    longer = {}
    for name, entity in minted.items():
        base = re.sub(r"\s+of\s+(the\s+)?[A-Z][\w-]*(\s+[A-Z][\w-]*)*$", "", name)
        if base != name and base in minted:
            longer[minted[base].key] = entity
    return [Mention(m.start, m.end, m.text, longer.get(m.entity.key, m.entity)) for m in mentions]


def _candidate_spans(view: DocView, gaz: Gazetteer) -> list[Span]:
    """spaCy's entities, with person names extended left over given names the model split
    off ("Kasim-Zhomart Tokaev" tagged as "Kasim" GPE + "Zhomart" ORG + "Tokaev" PERSON),
    and organisation names kept whole."""
    doc = view.doc
    orgs = _org_names(view, gaz) + _initialled_names(view)
    taken = {t for span in orgs for t in range(span.start, span.end)}
    ents = sorted([e for e in view.ents if not any(t in taken for t in range(e.start, e.end))] + orgs,
                  key=lambda s: s.start)
    out: list[Span] = []
    for ent in reversed(ents):
        if out and ent.end > out[-1].start:
            continue  # swallowed by the extension of the next entity
        if ent.label_ == "PERSON":
            start = ent.start
            while start > 0 and _given_name_token(doc, start - 1, gaz):
                start -= 1
            while doc[start].text in ("-", "‐"):
                start += 1
            if start != ent.start:
                ent = Span(doc, start, ent.end, label="PERSON")
        out.append(ent)
    out.reverse()
    return out


def _given_name_token(doc: Doc, i: int, gaz: Gazetteer) -> bool:
    tok = doc[i]
    if tok.text in ("-", "‐") and i > 0 and doc[i - 1].text[:1].isupper() and not doc[i - 1].whitespace_:
        return True
    if not (tok.text[:1].isupper() and tok.is_alpha) or tok.lower_ in TITLE_WORDS:
        return False
    if gaz.demonym(tok.text) or tok.is_sent_start and tok.ent_type_ == "":
        return False
    if tok.ent_type_ and tok.ent_type_ not in ("PERSON", "GPE", "ORG", "NORP"):
        return False
    if tok.ent_id_ and gaz.get(tok.ent_id_) is not None and gaz.get(tok.ent_id_).type != "Person":
        return False
    nxt = doc[i + 1]
    return not tok.whitespace_ and nxt.text in ("-", "‐") or bool(tok.whitespace_) and tok.pos_ == "PROPN"


def _strip_titles(ent: Span, gaz: Gazetteer) -> Span | None:
    """Drop leading title/role words, demonyms and determiners, and a trailing possessive."""
    start, end = ent.start, ent.end
    doc = ent.doc
    if ent.ent_id_ or gaz.lookup(ent.text):
        return ent
    if ent.label_ == "ORG" and any(t.text in ORG_HEADS for t in ent):  # "Russian Academy of Sciences"
        return doc[start + 1:end] if doc[start].lower_ == "the" and end - start > 1 else ent
    while start < end - 1 and (doc[start].lower_ in TITLE_WORDS or
                               (ent.label_ != "NORP" and gaz.demonym(doc[start].text)
                                and doc[start + 1].text[:1].isupper())):
        start += 1
    while end > start and doc[end - 1].text in ("'s", "’s", "'", "’", "*", "”", "“", "\""):
        end -= 1
    if start >= end:
        return None
    if start == end - 1 and doc[start].lower_ in TITLE_WORDS:
        return None
    return doc[start:end]


def _guess_type(ent: Span, core: Span, text: str) -> str | None:
    type_ = LABEL_TYPE.get(ent.label_)
    if core[-1].text in ORG_HEADS:
        return "Organization"
    if type_ in ("City", "Region", "Organization") and _PERSON_NAME.match(text):
        if PATRONYMIC.search(text.split()[-1]) and len(text.split()) > 1:
            return "Person"
        if _acts_as_human(core) or _after_title(ent):
            return "Person"
    return type_


def _acts_as_human(span: Span) -> bool:
    root = span.root
    if root.dep_ in ("nsubj", "nsubjpass") and root.head.lemma_.lower() in HUMAN_VERBS:
        return True
    if root.dep_ == "appos" and root.head.lemma_.lower() in TITLE_WORDS:
        return True
    return False


def _after_title(ent: Span) -> bool:
    """'the head of the Eurasian Analytical Club, Nikita Mendkovich' / 'columnist Andrey Perla'."""
    if ent.start == 0:
        return False
    prev = ent.doc[ent.start - 1]
    if prev.lower_ in TITLE_WORDS and prev.pos_ != "DET" and len(ent) > 1:
        return True
    return prev.text == "," and ent.root.dep_ == "appos" and ent.root.head.lower_ in TITLE_WORDS


def _by_initial_and_surname(text: str, persons: dict, gaz: Gazetteer) -> Entity | None:
    """'M.Mishustin' is Mikhail Mishustin: same surname, same first initial."""
    initial, surname = text[0].lower(), re.sub(r"^(?:[A-Z]\.\s?)+", "", text)
    candidates = [e for sk, e in persons.items() if sk.split()[-1] == skeleton(surname)]
    found = gaz.lookup(surname, "Person")
    if found is not None:
        candidates.append(found)
    for entity in candidates:
        if normalize(entity.name)[:1] == initial:
            return entity
    return None


def _person_in_article(text: str, persons: dict, surnames: dict, gaz: Gazetteer) -> Entity | None:
    """A surname or a first-name+patronymic form of a person named earlier in the article."""
    sk = skeleton(text)
    parts = sk.split()
    if sk in persons:
        return persons[sk]
    if len(parts) == 1 and parts[0] in surnames:
        return surnames[parts[0]]
    if len(parts) > 1 and PATRONYMIC.search(parts[-1]):
        # "Kasim-Jomart Kemelevich": given names + the patronymic the gazetteer records
        # (many surnames end like patronymics: Mendkovich, Myasnikovich)
        given, patronymic = " ".join(parts[:-1]), parts[-1]
        for entity, forms in _person_forms(gaz):
            if any(f.startswith(given + " ") for f in forms) and any(
                    patronymic in f.split()[1:-1] for f in forms):
                return entity
    return None


_PERSON_FORMS: dict[int, tuple[Gazetteer, int, list[tuple[Entity, list[str]]]]] = {}


def _person_forms(gaz: Gazetteer) -> list[tuple[Entity, list[str]]]:
    """The gazetteer's persons with the skeletons of their names, made once per gazetteer
    (again when entries were added since)."""
    cached = _PERSON_FORMS.get(id(gaz))
    if cached is None or cached[0] is not gaz or cached[1] != len(gaz.entries):
        forms = [(e.entity, [skeleton(n) for n in (e.entity.name, *e.aliases)])
                 for e in gaz.entries.values() if e.entity.type == "Person"]
        cached = _PERSON_FORMS[id(gaz)] = (gaz, len(gaz.entries), forms)
    return cached[2]


def _surname_later(text: str, ents: tuple[Span, ...], ent: Span) -> bool:
    """A lone name is kept when the full name follows later in the article
    ('Tokaev ... Kasim-Zhomart Tokaev'), so the back-reference pass can join them."""
    sk = skeleton(text)
    for other in ents:
        if other.start > ent.start and other.label_ == "PERSON" and " " in other.text.strip():
            if skeleton(other.text).split()[-1] == sk:
                return True
    return False


def _plausible_name(text: str, type_: str) -> bool:
    if not text[0].isupper() and not text[0].isdigit():
        return False
    if type_ == "Other" and " " not in text:  # "Great" of "Great Eurasia": too thin to be a node
        return False
    if type_ == "Person":
        return bool(_PERSON_NAME.match(text)) and len(text) > 2
    return len(text) > 1


def _mint(text: str, type_: str) -> Entity:
    if type_ == "Person":
        key = f"person/{slug(skeleton(text))}"
    else:
        text = _LEADING_THE.sub("", text)
        key = f"{type_.lower()}/{slug(text)}"
    return Entity(key=key, name=text, type=type_)


def _is_minted(entity: Entity) -> bool:
    return entity.wikidata is None and entity.key == f"person/{slug(skeleton(entity.name))}"


def _acronym_definitions(text: str, gaz: Gazetteer) -> dict[str, Entity]:
    """'the Collective Safety Treaty Group (CSTO)': the long form names the acronym's entity."""
    found: dict[str, Entity] = {}
    for m in ACRONYM_DEF.finditer(text):
        acro = m.group(1)
        words = re.findall(r"[A-Z][\w'’-]*|of|for|and|on|the|in", text[max(0, m.start() - 120):m.start()])
        long_words = _long_form(words, acro)
        if not long_words:
            continue
        long_form = " ".join(long_words)
        entity = gaz.lookup(acro, "Organization") or gaz.lookup(long_form, "Organization")
        if entity is None:
            entity = Entity(key=f"organization/{slug(acro)}", name=long_form, type="Organization")
        found[normalize(long_form)] = entity
        found[normalize(acro)] = entity
    return found


def _long_form(words: list[str], acronym: str) -> list[str]:
    """The trailing capitalised words whose initials spell (most of) the acronym."""
    n = sum(1 for c in acronym if c.isupper())
    out: list[str] = []
    count = 0
    for w in reversed(words):
        if w[0].isupper():
            count += 1
        elif count == 0:
            return []
        out.insert(0, w)
        if count >= n:
            break
    while out and not out[0][0].isupper():
        out.pop(0)
    return out if count >= max(2, n - 1) else []
