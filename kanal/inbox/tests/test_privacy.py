"""Finding and masking personal data in citizens' text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kanal.inbox import privacy


@pytest.mark.parametrize("text", [
    "Mit CPR er 010190-1234, kan I hjælpe?",
    "cpr 0101901234",
    "CPR: 290200 1234",  # 29 February 2000: valid in the 2000s only
    "Født 311299-4321",
])
def test_cpr_numbers_are_found_with_or_without_the_dash(text):
    assert privacy.find(text) == ["cpr"]
    assert "[CPR-nummer skjult]" in privacy.mask(text)


@pytest.mark.parametrize("text", [
    "Ordrenummer 3213901234",  # 32 December does not exist
    "Kode 011390-1234",  # month 13
    "290201-1234",  # 29 February 2001 nor 1901
    "Sagsnummer 12345678901234",  # longer number
])
def test_numbers_that_are_no_valid_cpr_are_left_alone(text):
    assert "cpr" not in privacy.find(text)


@pytest.mark.parametrize("text", [
    "Ring på 12 34 56 78", "ring 12345678", "tlf. +45 2345 6789",
    "0045 23456789",
])
def test_danish_phone_numbers_are_found(text):
    assert privacy.find(text) == ["phone"]
    assert "[telefonnummer skjult]" in privacy.mask(text)


def test_email_and_street_address_are_found_and_masked():
    text = "Skriv til mette.h@example.dk, jeg bor på Nørrebrogade 12, 3. th"
    assert privacy.find(text) == ["email", "address"]
    masked = privacy.mask(text)
    assert "mette.h@example.dk" not in masked
    assert "Nørrebrogade 12" not in masked
    assert masked.startswith("Skriv til [e-mailadresse skjult]")


def test_text_without_personal_data_is_unchanged():
    text = "Hvornår åbner Havnebadet i 2026? 👏 مرحبا"
    assert privacy.find(text) == []
    assert privacy.mask(text) == text


def test_a_cpr_is_not_also_counted_as_a_phone_number():
    assert privacy.find("0101901234 og 010190-1234") == ["cpr"]


@pytest.mark.parametrize("text", [
    "Mit CPR-nummer: 120385\u20101234",  # hyphen
    "cpr 120385\u20121234",  # figure dash
    "cpr 120385 \u2014 1234",  # em dash with spaces
    "cpr 120385\u22121234",  # minus sign
    "cpr 120385\u00a01234",  # non-breaking space
    "cpr.nr.-1203851234",
    "CPR 120385 -1234",
])
def test_cpr_numbers_with_any_dash_or_label_are_found(text):
    assert privacy.find(text) == ["cpr"]
    assert "1234" not in privacy.mask(text)


@pytest.mark.parametrize("text", [
    "Journalnr. 2026-120385-1234",  # a longer number with dashes
    "Sag 7-120385-1234",
    "Åbent 120385 og 1234 andre",  # a number, a word, a number
])
def test_a_cpr_like_run_inside_another_number_is_left_alone(text):
    assert "cpr" not in privacy.find(text)


@pytest.mark.parametrize(("text", "rest"), [
    ("Sankt Hans Torv 3", ""),
    ("Mød op på Rådhuspladsen 1, kl.", "Mød op på "),
    ("Gl. Kongevej 3A, 1. mf", ""),
    ("NØRREBROGADE 12", ""),
    ("Peter Bangs Vej 30 st. tv. tak", " tak"),
    ("Nørrebrogade 12-14, 2. sal", ""),
    ("Dronning Louises Bro 2", ""),
    ("Vesterbrogade 3 2. th", ""),
    ("Jeg bor på Nørrebrogade 12, store problemer", "Jeg bor på , store problemer"),
])
def test_street_addresses_are_masked_with_floor_and_side(text, rest):
    assert privacy.find(text) == ["address"]
    assert privacy.mask(text).replace("[gadeadresse skjult]", "") == rest


@pytest.mark.parametrize("text", [
    "Min datter går i børnehave 3 dage om ugen",
    "Der er plads 2 steder",
    "Vi var alle 3 til stede",
    "Trafikken på motorvej 4 er slem",
    "Jeg kommer på Nørrebrogade 2 gange om ugen",
    "Kulturnat 2026 i Haven",
])
def test_everyday_words_with_a_number_are_no_address(text):
    assert privacy.find(text) == []


# Text from the letters, digits (Danish, full-width, Arabic-Indic), signs and
# street words the patterns look for, so findings are common.
_PIECES = ["0", "1", "2", "3", "9", "１", "٣", "@", ".", "-", "–", "/", " ",
           "  ", "+45", "a", "K", "Ø", "gade", "vej", "Allé", "Nørrebro",
           "H.C.", "st.", "th", "mette", "kk.dk", "010190", "1234", "\n",
           "\u200b", "\u202e", "\u202c", "\u200f", "ש"]


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
@settings(max_examples=400, deadline=None)
def test_the_shortcut_for_texts_without_digits_or_at_changes_no_finding(text):
    """A text with no digit and no "@" is not scanned: it must be one that
    the full scan finds nothing in."""
    assert privacy._spans(text) == privacy._all_spans(text)


def _spans_compared_with_every_taken_span(text):
    """The rule ``_all_spans`` keeps, written the plain way (each finding
    compared with every one taken before it): the reference for its search
    of the sorted taken spans."""
    found, taken = [], []
    kinds = {
        "cpr": privacy._cpr_spans,
        "email": lambda t: [m.span() for m in privacy.EMAIL.finditer(t)],
        "phone": lambda t: [m.span() for m in privacy.PHONE.finditer(t)],
        "address": lambda t: [m.span() for m in privacy.STREET.finditer(t)],
    }
    for kind in privacy.ORDER:
        for start, end in kinds[kind](text):
            if all(end <= a or start >= b for a, b in taken):
                found.append((kind, start, end))
                taken.append((start, end))
    return sorted(found, key=lambda f: f[1])


# Findings that overlap across kinds: a CPR number is also eight digits of a
# phone, a phone number also ends a street's house number, an e-mail holds
# digits.
_OVERLAPPING = ["120385-1234", "12 03 85 1234", "12345678", "+45 12 34 56 78",
                "Nørrebrogade 12", "12 12 ", "mette85@kk.dk", " ", "1", "-"]


@given(st.lists(st.sampled_from(_OVERLAPPING), max_size=40).map("".join))
@settings(max_examples=400, deadline=None)
def test_findings_that_overlap_are_kept_as_when_compared_with_every_one(text):
    assert privacy._all_spans(text) == _spans_compared_with_every_taken_span(text)
