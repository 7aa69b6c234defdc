"""OUTSIDE TESTER 2 (branch tester2): failing tests for personal-data
detection. Each test names its finding in /work/briefs/findings2.md. They
fail on main as of 39dbe77; they are the bug reports, not fixes."""

from __future__ import annotations

import pytest

from kanal.inbox import privacy


@pytest.mark.parametrize("text", [
    "CPR-1203851234",  # the label glued to the number with a dash
    "cpr-nr-120385-1234",
    "Mit cpr er 120385 - 1234",  # a dash with spaces, as many type it
    "Mit cpr er 120385\u20131234",  # an en dash (phones' smart punctuation)
    "Mit cpr er 120385\u20111234",  # a non-breaking hyphen
])
def test_finding_1_cpr_written_the_usual_other_ways_is_found_and_masked(text):
    """Finding 1: a CPR number after a dash, or split by a spaced dash, an
    en dash or a non-breaking hyphen, is neither flagged nor masked (and so
    never hidden on the network by the personal-data guard)."""
    assert privacy.find(text) == ["cpr"]
    assert "1234" not in privacy.mask(text)


@pytest.mark.parametrize("text", [
    "Jeg bor på Frederiksberg Allé 12, 3. th",
    "Adressen er H.C. Andersens Boulevard 27",
    "Ørestads Boulevard 10",
    "Islands Brygge 43, 2. tv",
    "jeg bor på nørrebrogade 12",  # citizens often write in lower case
])
def test_finding_2_street_addresses_of_two_words_or_lower_case_are_found(text):
    """Finding 2: only one-word street names with a capital are found; the
    city's own two-word streets and lower-case addresses stay unmasked."""
    assert privacy.find(text) == ["address"]
    assert not any(ch.isdigit() for ch in privacy.mask(text))


def test_finding_2_the_floor_and_side_are_masked_with_the_street():
    """Finding 2: "Nørrebrogade 12, st. th" masks the street but leaves
    ", st. th" (the ground floor is not matched, only numbered floors)."""
    assert privacy.mask("Nørrebrogade 12, st. th") == "[gadeadresse skjult]"
