"""The pipeline's faster attribute ruler sets exactly what spaCy's own would."""
from __future__ import annotations

import spacy

from kg.nlp import MODEL, speed_up_attribute_ruler

TEXTS = [
    "Y'all ain't gonna believe it, let's go: Tokayev's visit to Moscow wasn't planned.",
    "\"We can't,\" said Peskov. I'd've thought the EAEU's members (Kazakhstan, Russia) agreed.",
    "Kassym-Jomart Tokayev met Vladimir Putin in Astana on 9 November 2023 -- finally!",
]


def test_nlp_fast_attribute_ruler_matches_spacy():
    plain = spacy.load(MODEL)
    fast = spacy.load(MODEL)
    assert speed_up_attribute_ruler(fast)
    for text in TEXTS:
        a, b = plain(text), fast(text)
        assert [(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i) for t in a] == \
               [(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i) for t in b]
        assert [(e.text, e.label_) for e in a.ents] == [(e.text, e.label_) for e in b.ents]
