"""Hints for the desk: sentiment from AFINN's Danish word list and the
language of a text. Hints only: they sort and colour, they decide nothing.
"""

from __future__ import annotations

from functools import lru_cache

from kanal import untrusted

NEGATIVE_AT = -2
POSITIVE_AT = 2
MIN_LETTERS_FOR_LANGUAGE = 12


@lru_cache(maxsize=1)
def _afinn():
    from afinn import Afinn

    return Afinn(language="da", emoticons=True)


def sentiment(text: str) -> int:
    """AFINN's sum for ``text`` (negative words count below zero)."""
    if not text:
        return 0
    return int(_afinn().score(text[:5000]))


def sentiment_label(score: int | None) -> str:
    if score is None:
        return ""
    if score <= NEGATIVE_AT:
        return "negative"
    if score >= POSITIVE_AT:
        return "positive"
    return "neutral"


def language(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language, or "" when too short to tell."""
    letters = sum(ch.isalpha() for ch in text or "")
    if letters < MIN_LETTERS_FOR_LANGUAGE:
        return ""
    # æ, ø and å: Danish (or Norwegian, as good a hint here). The statistical
    # detector costs ~40 ms a text, most of the processing of an item.
    if any(ch in "æøåÆØÅ" for ch in text):
        return "da"
    from langdetect import DetectorFactory, LangDetectException, detector_factory

    DetectorFactory.seed = 0  # the same answer for the same text
    try:
        # ``langdetect.detect`` made by hand, to read at most 300 characters.
        detector_factory.init_factory()
        detector = detector_factory._factory.create()
        detector.set_max_text_length(300)
        detector.append(text)
        return detector.detect()[:8]
    except LangDetectException:
        return ""


#: Words that, during crisis mode, raise a conversation's priority: the
#: events the desk prepares crisis messages for, and cries for help.
CRISIS_WORDS = (
    "oversvøm", "skybrud", "stormflod", "vand i kælder", "vandet stiger",
    "brand", "røg", "eksplosion", "evakuer", "strømafbrydelse", "strømsvigt",
    "ingen strøm", "drikkevand", "forurenet", "livsfare", "112", "savnet",
    "ulykke", "kan ikke komme ud", "hjælp os", "akut",
)


def crisis_words(text: str) -> list[str]:
    """The crisis words in ``text`` as read (``untrusted.as_read``: stems
    match longer words; an invisible character inside a word, a
    right-to-left override, full-width letters or a line break inside a
    phrase hide nothing)."""
    read = untrusted.as_read(text)
    return [word for word in CRISIS_WORDS if word in read]
