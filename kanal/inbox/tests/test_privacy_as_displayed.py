"""Personal data read as a screen shows it: invisible characters inside it
and bidi controls or right-to-left letters that reorder it (T4-1, T4-2)."""

from __future__ import annotations

import pytest

from kanal import untrusted
from kanal.inbox import hints, privacy


@pytest.mark.parametrize(("text", "kind"), [
    ("Ring på 12\u200b34 5678", "phone"),
    ("Ring på +45\u00ad 1234\u20605678", "phone"),
    ("Skriv til mette\u200b@kk.dk", "email"),
    ("Skriv til mette@k\u200dk.dk", "email"),
    ("Jeg bor på Nørrebro\u200bgade 12", "address"),
    ("\ufeff120385-1234", "cpr"),
])
def test_an_invisible_character_hides_no_kind_of_personal_data(text, kind):
    assert privacy.find(text) == [kind]


def test_the_mask_covers_the_invisible_characters_inside_a_number():
    assert privacy.mask("Mit cpr er 120385\u200b-1234.") == (
        "Mit cpr er [CPR-nummer skjult].")


def test_an_overridden_number_is_masked_and_the_mask_is_not_drawn_backwards():
    masked = privacy.mask("Mit cpr er \u202e4321-583021\u202c, tak")
    assert "1234" not in masked and "4321" not in masked
    shown, _origin = untrusted.as_displayed(masked)
    assert shown == "Mit cpr er [CPR-nummer skjult], tak"


def test_numbers_ordered_by_right_to_left_marks_are_read_as_drawn():
    # RLM before the space: the two numbers are drawn "120385 1234".
    text = "cpr:\u200f1234 120385\u200f"
    assert untrusted.as_displayed(text)[0] == "cpr:120385 1234"
    assert privacy.find(text) == ["cpr"]
    assert "1234" not in privacy.mask(text)


def test_a_number_stored_in_order_but_drawn_backwards_is_still_found():
    """What the row holds is personal data however an override draws it."""
    assert privacy.find("\u202e120385-1234\u202c") == ["cpr"]


@pytest.mark.parametrize(("text", "drawn"), [
    ("abc", "abc"),
    ("Hej\u200b med dig", "Hej med dig"),
    ("\u202eabc\u202c def", "cba def"),
    ("a\u202e\u202dbc\u202c\u202c", "abc"),
    ("שלום 12", "12 םולש"),  # a right-to-left paragraph
    ("Hej שלום 12-34!", "Hej 12-34 םולש!"),
    ("x\n\u202eab\ny", "x\nba\ny"),  # an override ends with its paragraph
])
def test_text_is_read_in_the_order_it_is_drawn(text, drawn):
    shown, origin = untrusted.as_displayed(text)
    assert shown == drawn
    assert "".join(text[i] for i in origin) == drawn


def test_crisis_words_are_read_without_invisible_characters():
    assert hints.crisis_words("Vandet stiger, h\u200bjælp os!") == [
        "vandet stiger", "hjælp os"]
