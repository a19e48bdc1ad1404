"""said: who made which statement. A claim is stored as what somebody said.

Two rule families:
- reported speech: a reporting verb whose subject is a person (a name, a pronoun, or a
  description such as "the analyst"), with the claim in its complement clause ("X said
  that ...", "..., X noted", "X told Y that ...", "X called on Y to ...") or around an
  "according to X" phrase;
- direct quotations: quotation marks of every kind (“ ” « » „ " and paragraphs that
  continue a quotation), joined when split by "he said", attributed by the nearest
  reporting clause after or before the quotation, or to the previous quotation's speaker
  when a quotation paragraph carries no attribution.
Quotations inside a reported claim belong to that claim.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterator

from spacy.tokens import Span, Token

from kg.extract.context import PERSON_PRONOUNS, ROLE_NOUNS, Context
from kg.extract.syntax import children, conjuncts, negated
from kg.model import Entity, Fact

NAME = "said"

REPORTING_VERBS = frozenset("""
say tell note stress explain state add believe think argue warn emphasize emphasise
promise assure claim insist suggest testify comment announce declare write recall admit
deny agree point underline reiterate observe remark acknowledge predict describe
characterise characterize call urge answer reply respond confirm report complain
ask order propose instruct request demand
""".split())
#: verbs whose claim is everything after the verb ("called on X to ...", "promised X ...")
OBJECT_CLAIM_VERBS = frozenset({"call", "urge", "promise", "characterise", "characterize",
                                "describe", "warn", "assure", "pledge", "vow", "ask", "order",
                                "propose", "instruct", "request", "demand"})
OPEN_QUOTES = "“«„\""
#: closing marks accepted for each opening mark (news mixes them: "...” happens)
CLOSE_FOR = {"“": "”\"", "«": "»", "„": "“”\"", "\"": "\"”"}
SENTENCE_END = re.compile(r"[.!?]\s")
_WS = re.compile(r"\s+")
_STRIP = "“”«»„\"‘’' \n\t,.:;–—-"


@dataclass
class Quote:
    start: int  # content offsets (marks excluded)
    end: int
    outer_start: int  # with marks
    outer_end: int


def extract(ctx: Context) -> Iterator[Fact]:
    facts: list[tuple[int, int, Fact, str]] = []  # (claim start, end, fact, how it was found)
    quotes = find_quotes(ctx.text)
    events = []  # reported claims and quotations, processed in text order
    toks, lemmas, pos, lower = ctx.tokens, ctx.view.lemma, ctx.view.pos, ctx.view.lower
    for sent in ctx.sentences:
        for i in range(sent.start, sent.end):
            if lemmas[i] in REPORTING_VERBS and pos[i] in ("VERB", "NOUN"):
                events.append((toks[i].idx, "verb", toks[i]))
            elif lower[i] == "according" and i + 1 < len(toks) and lower[i + 1] == "to":
                events.append((toks[i].idx, "according", toks[i]))
    for q in quotes:
        events.append((q.outer_end, "quote", q))
    events.sort(key=lambda e: (e[0], e[1] != "verb"))
    for pos, kind, item in events:
        if kind == "verb":
            found = [(*m, "reported") for m in _reported(ctx, item, quotes)]
        elif kind == "according":
            found = [(*m, "reported") for m in _according(ctx, item)]
        else:
            found = list(_quoted(ctx, item))
        for start, end, fact, how in found:
            if not any(_covered(start, end, s, e) and f.subject == fact.subject
                       for s, e, f, _ in facts):
                facts.append((start, end, fact, how))
                ctx.speakers.append((end, fact.subject))
                if how != "reported":  # in reported speech "he" is often the speaker
                    ctx.claims.append((start, end, fact.subject))
    for fact in _join_split_quotes(ctx, facts):
        yield fact


def _join_split_quotes(ctx: Context, facts) -> list[Fact]:
    """'“A,” he said. “B.”' is one claim: a quotation with no attribution of its own that
    follows the same speaker's quotation on the same line is joined to it."""
    out: list[list] = []
    text = ctx.text
    for start, end, fact, how in sorted(facts, key=lambda f: f[0]):
        if out and how in ("continued", "before"):
            ps, pe, prev, prev_how = out[-1]
            gap = text[pe:start]
            split = how == "continued" or not SENTENCE_END.search(gap)  # “A,” X said, “B”
            if (split and prev.subject == fact.subject and prev_how != "reported"
                    and "\n" not in gap and len(gap) < 160):
                sep = (" " if prev.claim.endswith((".", "?", "!"))
                       else ", " if fact.claim[:1].islower() else ". ")
                out[-1] = [ps, end, replace(
                    prev, claim=prev.claim.rstrip(",") + sep + fact.claim,
                    evidence=ctx.evidence(prev.evidence.start, fact.evidence.end),
                    mentions=tuple(dict.fromkeys(prev.mentions + fact.mentions))), prev_how]
                continue
        out.append([start, end, fact, how])
    return [f for _, _, f, _ in out]


def find_quotes(text: str) -> list[Quote]:
    """Quotations with their marks; a quotation left open at a paragraph's end continues
    when the next paragraph opens with a mark, else ends with the paragraph."""
    quotes: list[Quote] = []
    i, n = 0, len(text)
    while i < n:
        m = _OPEN_RX.search(text, i)  # the next opening mark (the text between has none)
        if m is None:
            break
        i = m.start()
        ch = text[i]
        if _opens(text, i):
            close = CLOSE_FOR[ch]
            stop = _STOP_RX[ch]
            j = i + 1
            start = j
            while j < n:
                found = stop.search(text, j)  # the next closing mark or line break
                if found is None:
                    j = n
                    break
                j = found.start()
                if text[j] in close:
                    break
                k = j  # a line break
                while k < n and text[k] in "\n \t":
                    k += 1
                if k < n and text[k] == ch:  # continued quotation
                    j = k + 1
                    continue
                break
            end = j
            outer_end = j + 1 if j < n and text[j] in close else j
            if end - start > 1:
                quotes.append(Quote(start, end, i, outer_end))
            i = outer_end
        else:
            i += 1
    return quotes


_OPEN_RX = re.compile("[" + re.escape(OPEN_QUOTES) + "]")
#: per opening mark: its closing marks or a line break
_STOP_RX = {ch: re.compile("[" + re.escape(close) + "\n]") for ch, close in CLOSE_FOR.items()}


def _opens(text: str, i: int) -> bool:
    if text[i] != "\"":
        return True
    return i == 0 or not text[i - 1].isalnum()


def _covered(s1: int, e1: int, s2: int, e2: int) -> bool:
    overlap = min(e1, e2) - max(s1, s2)
    return overlap > 0.5 * (e1 - s1)


def _clean(text: str) -> str:
    text = _WS.sub(" ", text.replace("“", "").replace("”", "").replace("«", "").replace("»", "")
                   .replace("„", "").replace("\"", ""))
    return text.strip(_STRIP.replace("’", "")).strip()


def _make(ctx: Context, speaker: Entity, start: int, end: int, ev_start: int, ev_end: int,
          confidence: float, reported: bool = False) -> tuple[int, int, Fact] | None:
    claim = _clean(ctx.text[start:end])
    if len(claim.split()) < 3 or (reported and claim.split()[0].lower() in ("whether", "if")):
        return None  # too short, or an open question ('declined to comment on whether ...')
    span = ctx.doc.char_span(start, end, alignment_mode="expand")
    mentions = tuple(dict.fromkeys(m.entity for m in ctx.mentions_in(span))) if span else ()
    fact = Fact("said", speaker, None, ctx.evidence(ev_start, ev_end), NAME, confidence,
                claim=claim, mentions=mentions)
    return start, end, fact


# ---- reported speech --------------------------------------------------------------------

def _speaker(ctx: Context, tok: Token) -> Entity | None:
    """A speaker token: a name, pronoun or description; a description nobody in the
    article fits ('the head of the republic') is the last speaker."""
    ent = ctx.refer(tok) or (_person_in(ctx, tok) if tok.pos_ in ("NOUN", "PROPN") else None)
    if ent is None and tok.lower_ in ROLE_NOUNS and ctx.speakers:
        ent = ctx.speakers[-1][1]
    return ent


def _speakers(ctx: Context, verb: Token) -> list[Entity]:
    subjects = children(verb, "nsubj")
    if not subjects and verb.dep_ in ("conj", "advcl", "xcomp") and verb.head.pos_ == "VERB":
        subjects = children(verb.head, "nsubj")
    out = []
    for subj in subjects:
        for t in conjuncts(subj):
            ent = _speaker(ctx, t)
            if ent is not None and ent not in out:
                out.append(ent)
    return out


def _person_in(ctx: Context, head: Token) -> Entity | None:
    """'political expert Yermukhamet Yertysbayev', 'the head of the club, Nikita Mendkovich'."""
    for tok in head.subtree:
        ent = ctx.entity(tok, frozenset({"Person"}))
        if ent is not None:
            return ent
    return None


def _reported(ctx: Context, verb: Token, quotes: list[Quote]) -> Iterator[tuple[int, int, Fact]]:
    if verb.pos_ != "VERB" or negated(verb):
        return
    speakers = _speakers(ctx, verb)
    if not speakers:
        return
    claim_toks = _claim_tokens(verb)
    if not claim_toks:
        return
    start = claim_toks[0].idx
    end = claim_toks[-1].idx + len(claim_toks[-1])
    # a quotation that the clause only introduces is handled as a quotation
    for q in quotes:
        if abs(q.start - start) <= 2 and abs(q.end - end) <= 3:
            return
    sent = ctx.sent_of(verb)
    for speaker in speakers:
        made = _make(ctx, speaker, start, end, min(sent.start_char, start), max(sent.end_char, end), 0.75,
                     reported=True)
        if made:
            yield made


def _claim_tokens(verb: Token) -> list[Token]:
    """The complement that holds what was said."""
    comps = [c for c in children(verb, "ccomp") if c.i > verb.i or _reported_before(c, verb)]
    for comp in comps[:1] or _that_clause(verb):
        toks = sorted(comp.subtree, key=lambda t: t.i)
        while toks and (toks[0].lower_ == "that" or toks[0].is_punct):
            toks = toks[1:]
        while toks and toks[-1].is_punct:
            toks = toks[:-1]
        return toks
    if verb.lemma_.lower() in OBJECT_CLAIM_VERBS and (verb.lemma_.lower() != "call" or any(
            c.lower_ in ("on", "for", "upon") for c in verb.children)):
        toks = [t for t in verb.subtree if t.i > verb.i]
        toks = sorted(toks, key=lambda t: t.i)
        if toks and toks[0].lower_ in ("on", "for", "upon"):
            toks = toks[1:]
        while toks and toks[-1].is_punct:
            toks = toks[:-1]
        return toks if len(toks) >= 4 else []
    head = verb.head
    if verb.dep_ in ("advcl", "parataxis", "ccomp", "conj") and head.pos_ in ("VERB", "AUX") and (
            _after_comma(verb) or any(c.lower_ == "as" for c in verb.children)) and not any(
            c.dep_ in ("dobj", "xcomp", "ccomp") for c in verb.children):
        # "CLAUSE, Tokaev stressed in an interview" / "..., as X noted, CLAUSE"
        own = {t.i for t in verb.subtree}
        toks = [t for t in sorted(head.subtree, key=lambda t: t.i) if t.i not in own]
        while toks and (toks[0].is_punct or toks[0].lower_ == "that"):
            toks = toks[1:]
        while toks and toks[-1].is_punct:
            toks = toks[:-1]
        return toks if len(toks) >= 4 else []
    return []


def _reported_before(comp: Token, verb: Token) -> bool:
    """'CLAUSE, X said': a complement before the verb, closed by a comma or a quotation
    mark, and the verb without an object complement of its own ('...: he asked X to')."""
    last = max(t.i for t in comp.subtree)
    between = verb.doc[last + 1: verb.i]
    if not any(t.text in (",", "”", "\"", "’") for t in between[:2]):
        return False
    return verb.lemma_.lower() not in OBJECT_CLAIM_VERBS or not any(
        c.dep_ in ("dobj", "xcomp") and c.i > verb.i for c in verb.children)


def _after_comma(verb: Token) -> bool:
    """'CLAUSE, Tokaev stressed': the reporting clause follows the claim after a comma."""
    first = min(t.i for t in verb.subtree)
    return first > 0 and verb.doc[first - 1].text in (",", "—", "–") and verb.head.i < verb.i


def _that_clause(verb: Token) -> list[Token]:
    """'told a briefing that CLAUSE': the parser often hangs the that-clause on the noun
    as a relative clause; one introduced by 'that' as a mark is the complement."""
    for obj in verb.children:
        if obj.dep_ not in ("dobj", "dative", "prep", "npadvmod"):
            continue
        for t in obj.subtree:
            if t.dep_ == "relcl" and any(c.dep_ == "mark" and c.lower_ == "that" for c in t.children):
                return [t]
    return []


def _according(ctx: Context, according: Token) -> Iterator[tuple[int, int, Fact]]:
    """'According to X, CLAUSE' / 'CLAUSE, according to X.' / 'The visit, according to the
    analyst, became symbolic ...'."""
    doc = ctx.doc
    to = doc[according.i + 1]
    pobjs = [c for c in to.children if c.dep_ == "pobj"] or \
            [t for t in doc[to.i + 1: to.i + 4] if t.pos_ in ("PROPN", "NOUN", "PRON")]
    speakers: list[Entity] = []
    for p in pobjs[:1]:
        for t in conjuncts(p):
            ent = ctx.refer(t) or _person_in(ctx, t)
            if ent is not None and ent not in speakers:
                speakers.append(ent)
    if not speakers:
        return
    sent = ctx.sent_of(according)
    phrase_end = max(t.i for t in according.subtree) if list(according.subtree) else to.i
    phrase_end = max(phrase_end, max((t.i for p in pobjs for t in p.subtree), default=to.i))
    while phrase_end + 1 < sent.end and doc[phrase_end + 1].dep_ in ("appos", "punct") and doc[phrase_end + 1].text != ",":
        phrase_end += 1
    before = doc[sent.start: according.i]
    after = doc[phrase_end + 1: sent.end]
    if sum(1 for t in after if not t.is_punct) >= 3:
        # "According to Tokaev, CLAUSE" or "The visit, according to X, became ..."
        toks = [t for t in after if not t.is_space]
    else:
        toks = [t for t in before if not t.is_space]
    while toks and toks[0].is_punct:
        toks = toks[1:]
    while toks and toks[-1].is_punct:
        toks = toks[:-1]
    if not toks:
        return
    start, end = toks[0].idx, toks[-1].idx + len(toks[-1])
    for speaker in speakers:
        made = _make(ctx, speaker, start, end, sent.start_char, sent.end_char, 0.7, reported=True)
        if made:
            yield made


# ---- direct quotations ------------------------------------------------------------------

def _quoted(ctx: Context, q: Quote) -> Iterator[tuple[int, int, Fact, str]]:
    text = ctx.text
    if _is_partial(text, q):
        return
    speaker, how = _attribution_after(ctx, q), "quote"
    if speaker is None:
        speaker, how = _attribution_before(ctx, q), "before"
    confidence = 0.9
    if speaker is None:
        speaker = _previous_speaker(ctx, q)
        confidence, how = 0.6, "continued"
    if speaker is None:
        return
    made = _make(ctx, speaker, q.start, q.end, q.outer_start, q.outer_end, confidence)
    if made:
        yield (*made, how)


def _introducer(ctx: Context, q: Quote) -> Entity | None:
    text = ctx.text
    para_start = text.rfind("\n", 0, q.outer_start) + 1
    if not text[para_start:q.outer_start].strip():
        return None
    span = ctx.doc.char_span(para_start, q.outer_start, alignment_mode="contract")
    if span is None or not len(span):
        return None
    last_sent = ctx.sent_of(span[-1])
    for tok in last_sent:
        if tok.dep_ == "nsubj" and tok.head.dep_ == "ROOT":
            return ctx.entity(tok, frozenset({"Person"})) or None
    return None


def _is_partial(text: str, q: Quote) -> bool:
    """A quoted phrase inside a sentence ('a “special character.”') is not a quotation
    of its own: it opens after a word rather than at a sentence or clause start."""
    i = q.outer_start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] in "\n.:!?;–—":
        return False
    if text[i] == ",":  # 'Peskov stated, “...”' opens a quotation
        return False
    return True


def _window(ctx: Context, start: int, end: int) -> Span | None:
    return ctx.doc.char_span(start, end, alignment_mode="contract")


def _attribution_after(ctx: Context, q: Quote) -> Entity | None:
    """', Yertysbayev said on Soloviev LIVE.' / ', said Gupta.' / ', he points out.' /
    ', the expert on international relations Andrey Koshkin.'"""
    text = ctx.text
    stop = min(len(text), q.outer_end + 160)
    for ch in (".\n", ". ", "\n"):
        k = text.find(ch, q.outer_end)
        if k != -1:
            stop = min(stop, k + 1)
    if not re.match(r"\s*[,:]?\s*[–—-]?\s*[\w“\"]", text[q.outer_end:stop]) or stop - q.outer_end < 3:
        return None
    span = _window(ctx, q.outer_end, stop)
    if span is None or len(span) == 0:
        return None
    if text[q.outer_end:q.outer_end + 3].strip().startswith(":") and not any(
            t.lemma_.lower() in REPORTING_VERBS for t in span):
        return None
    for tok in span:
        if tok.lemma_.lower() in REPORTING_VERBS and tok.pos_ in ("VERB",):
            subj = children(tok, "nsubj")
            for s in subj:
                ent = _speaker(ctx, s)
                if ent is not None:
                    return ent
            for m in ctx.mentions_in(span, frozenset({"Person"})):  # "said Gupta", "noted ... Andrey Perla"
                if m.start > tok.idx:
                    return m.entity
            for t in span:  # "said Gupta" parsed without a subject
                if t.i > tok.i:
                    ent = ctx.refer(t) if t.lower_ not in PERSON_PRONOUNS else None
                    if ent is not None:
                        return ent
            for t in span:
                if t.i < tok.i:
                    ent = ctx.refer(t)
                    if ent is not None:
                        return ent
    # no verb: '”, the expert on international relations Andrey Koshkin.'
    if text[q.outer_end:q.outer_end + 2].lstrip().startswith(",") or text[q.end - 1:q.end] == ",":
        persons = ctx.mentions_in(span, frozenset({"Person"}))
        if persons and len(span) <= 12:
            return persons[-1].entity
    return None


def _attribution_before(ctx: Context, q: Quote) -> Entity | None:
    """'Peskov stated, “...”' / 'He said: “...”'."""
    text = ctx.text
    i = q.outer_start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] not in ",:":
        return None
    start = max(text.rfind(".", 0, i), text.rfind("\n", 0, i), text.rfind("”", 0, i)) + 1
    span = _window(ctx, start, i)
    if span is None:
        return None
    for tok in reversed(list(span)):
        if tok.lemma_.lower() in REPORTING_VERBS and tok.pos_ == "VERB":
            for s in children(tok, "nsubj"):
                ent = _speaker(ctx, s)
                if ent is not None:
                    return ent
    return None


def _previous_speaker(ctx: Context, q: Quote) -> Entity | None:
    """A quotation with no attribution continues the previous speaker when the previous
    paragraph ended with that speaker's words; else it belongs to the person who is the
    subject of the sentence just before it in the same paragraph ('X, a fellow at Y, reads
    it differently. “...”')."""
    intro = _introducer(ctx, q)
    if intro is not None:
        return intro
    if not ctx.speakers:
        return None
    last_end, speaker = ctx.speakers[-1]
    between = ctx.text[last_end:q.outer_start]
    if between.count("\n\n") + between.count("\n") <= 2 and len(between) < 400:
        if not ctx.mentions_in(_window(ctx, last_end, q.outer_start) or ctx.doc[0:0],
                               frozenset({"Person"})):
            return speaker
    return None
