"""Hints for the desk: sentiment from AFINN's Danish word list and the
language of a text. Hints only: they sort and colour, they decide nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kanal import untrusted

NEGATIVE_AT = -2
POSITIVE_AT = 2
MIN_LETTERS_FOR_LANGUAGE = 12


@lru_cache(maxsize=1)
def _afinn():
    from afinn import Afinn

    return Afinn(language="da", emoticons=True)


#: Words that turn the sentiment word after them (within ``NEGATION_REACH``
#: words of the same clause) around: "ikke godt nok", "ikke dårligt".
NEGATORS = frozenset({"ikke", "aldrig", "ingen", "intet", "ingenting", "hverken",
                      "næppe", "ik", "ikk"})
NEGATION_REACH = 3
#: A question addresses the desk when it says "I", "jer" or "jeres" (the
#: municipality): "Hvorfor er I så dårlige til at svare?" is a complaint;
#: "Er det farligt at bade i havnen?" asks, and its negative words count half.
_ADDRESSING = re.compile(r"\bI\b|\b[Jj]er(?:es)?\b")  # not "i", the preposition
#: Endings of a Danish noun or adjective after a compound's last word
#: ("affaldsproblemet": "problem" + "et").
_ENDINGS = ("", "e", "en", "et", "er", "ene", "erne", "s", "t")
#: A compound's last word must be this long to be read (shorter ones, "god",
#: "tak", end too many unrelated words).
_MIN_HEAD = 5
_MIN_FIRST = 3
_CLAUSE = re.compile(r"[^,.;:!?\n]+[,.;:!?\n]*")
_WORD = re.compile(r"\w+")


def sentiment(text: str) -> int:
    """AFINN's Danish sum for ``text`` (negative words count below zero),
    read a little closer to Danish than a word list alone: a word after
    "ikke" (and other negators) in the same clause counts the other way; a
    question counts its positive words half, and its negative words too
    unless it addresses the desk ("I", "jer"); a compound the list lacks
    counts by its last word ("affaldsproblemet" as "problem"). Still a
    hint: irony, sarcasm and most context are beyond it (``test_hints``
    shows what it gets right)."""
    if not text:
        return 0
    afinn = _afinn()
    total = 0.0
    for clause in _CLAUSE.finditer(text[:5000]):
        part = clause.group(0)
        question = part.rstrip().endswith("?")
        asking = question and not _ADDRESSING.search(part)
        lowered = part.lower()
        words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(lowered)]
        covered = []
        for found in afinn._pattern.finditer(lowered):
            covered.append((found.start(), found.end()))
            total += _weighed(afinn._dict.get(found.group(0), 0), found.start(),
                              found.group(0), words, question, asking)
        for start, _end, word in words:
            if any(s <= start < e for s, e in covered):
                continue
            value = _compound_head(word, afinn._dict)
            if value:
                total += _weighed(value, start, word, words, question, asking)
    return int(total)


def _weighed(value: float, start: int, matched: str, words, question: bool,
             asking: bool) -> float:
    """A word's value in its clause: turned by a negator before it; half in
    a question ("Kan I hjælpe?" asks for help, it does not praise), but a
    negative word at the desk ("Hvorfor er I så dårlige …?") counts whole."""
    before = [w for s, _e, w in words if s < start][-NEGATION_REACH:]
    if not any(w in NEGATORS for w in matched.split()) and any(
            w in NEGATORS for w in before):
        value = -value
    if (question and value > 0) or (asking and value < 0):
        value /= 2
    return value


def _compound_head(word: str, lexicon: dict) -> int:
    """The value of ``word``'s last part when ``word`` is a compound (or an
    inflection) of a word in the lexicon, else 0."""
    if len(word) < _MIN_FIRST + _MIN_HEAD or not word.isalpha():
        return 0
    for ending in _ENDINGS:
        if not word.endswith(ending):
            continue
        stem = word[:len(word) - len(ending)] if ending else word
        # A first part of three letters at least ("særlig" is no "s-ærlig").
        cuts = range(_MIN_FIRST, len(stem) - _MIN_HEAD + 1)
        for cut in ([0, *cuts] if ending else cuts):  # "problemet": "problem"
            value = lexicon.get(stem[cut:])
            if value and " " not in stem[cut:]:
                return value
    return 0


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


#: Crisis words that in a Danish compound mean the crisis only as its last
#: part ("kælderbrand", "trafikulykken") and something else as its first
#: ("brandstation", "røgelse", "ulykkelig", "akutmodtagelse"), and the
#: emergency number only as a number of its own (not post code 1120).
_AS_LAST_PART = {
    "brand": re.compile(r"brand(?:en|e|ene|s)?\b"),
    "røg": re.compile(r"røg(?:en|s)?\b"),
    "ulykke": re.compile(r"ulykke(?:n|r|rne|s)?\b"),
    "akut": re.compile(r"akut(?:te)?\b"),
    "112": re.compile(r"(?<![\d.,])112(?![\d.,]\d|\d)"),
}


def crisis_words(text: str) -> list[str]:
    """The crisis words in ``text`` as read (``untrusted.as_read``: stems
    match longer words, some only as a compound's last part
    (``_AS_LAST_PART``); an invisible character inside a word, a
    right-to-left override, full-width letters or a line break inside a
    phrase hide nothing)."""
    read = untrusted.as_read(text)
    return [word for word in CRISIS_WORDS if word in read and (
        word not in _AS_LAST_PART or _AS_LAST_PART[word].search(read))]
