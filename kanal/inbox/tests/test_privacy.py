"""Finding and masking personal data in citizens' text."""

from __future__ import annotations

import pytest

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
