"""OUTSIDE TESTER 3 (branch tester3): failing tests for personal-data
detection. Each test names its finding (T3-N) in
/work/briefs/tester3-findings.md."""

from __future__ import annotations

import pytest

from kanal.inbox import privacy


@pytest.mark.parametrize("text", [
    "Mit cpr er 12.03.85-1234",  # the birth date written as a date
    "Mit cpr er 12-03-85-1234",
    "Mit cpr er 12 03 85 1234",  # read aloud in pairs, as on the phone
    "Mit cpr er 12 03 85-1234",
    "Mit cpr er 120385/1234",
])
def test_t3_7_a_cpr_whose_birth_date_is_written_as_a_date_is_found(text):
    """T3-7: after finding 1 (dashes) the birth-date part must still be six
    digits in a row. Citizens often write it as the date it is (with dots,
    dashes or spaces between day, month and year) or with a slash; none of
    these is flagged, masked or hidden by the personal-data guard."""
    assert privacy.find(text) == ["cpr"]
    assert "1234" not in privacy.mask(text)
