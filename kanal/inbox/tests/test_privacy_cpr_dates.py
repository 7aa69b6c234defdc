"""A CPR number whose birth date is written as the date it is: every
separator a date is written with (dot, slash, space, each dash), the same
between day, month and year, and a dash, a slash, a space or nothing before
the last four digits."""

from __future__ import annotations

import pytest

from kanal.inbox import privacy

SEPARATORS = [".", "/", " ", *privacy.DASHES]
BEFORE_SERIAL = ["-", "/", " ", " - ", "", "\u2013"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=lambda s: f"U+{ord(s):04X}")
@pytest.mark.parametrize("before", BEFORE_SERIAL, ids=repr)
def test_a_cpr_with_its_date_written_as_a_date_is_found_and_masked(sep, before):
    text = f"Mit cpr er 12{sep}03{sep}85{before}1234, hvor er mit kort?"
    assert privacy.find(text) == ["cpr"]
    masked = privacy.mask(text)
    assert masked == "Mit cpr er [CPR-nummer skjult], hvor er mit kort?"


@pytest.mark.parametrize("text", [
    "120385/1234",
    "120385 / 1234",
    "29.02.00-1234",  # 29 February 2000
    "３１.１２.９９-１２３４",  # full-width digits
])
def test_more_ways_to_write_it_are_found(text):
    assert privacy.find(f"Nr. {text}") == ["cpr"]


@pytest.mark.parametrize("text", [
    "32.01.85-1234",  # no 32nd day
    "31.04.85-1234",  # April has 30 days
    "29.02.01-1234",  # 2001 and 1901 were no leap years
    "12.13.85-1234",  # no 13th month
    "12.03-85-1234",  # two different separators: no date
    "12a03a85-1234",  # a letter is no separator
    "12:03:85-1234",  # nor is a colon (a time)
    "Mødet er 12.03.2024 kl. 1030",  # a date with its year in full
    "Vi ses 12.03.85",  # a date alone
    "1.12.03.85-1234",  # part of a longer number
    "12.03.85-12345",  # five digits after it
    "Ring 12 34 56 78",  # a phone number is a phone number
])
def test_what_is_no_cpr_number_is_not_taken_for_one(text):
    assert "cpr" not in privacy.find(text)
