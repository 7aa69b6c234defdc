"""The inbox period is bounded: 0 days would blank every citizen's comment
(the unanswered one of a minute ago too) at the next hourly retention run,
and a huge number would overflow the retention job's date arithmetic."""

from __future__ import annotations

import pytest

from kanal.inbox.models import InboxSettings
from kanal.organisations.roles import Role
from kanal.records.retention import apply_retention

from .factories import citizen_item

pytestmark = pytest.mark.django_db

SETTINGS = {"opens_at": "08:00", "closes_at": "16:00", "open_weekdays": [0, 1, 2],
            "target_hours": 8, "footer_text": "", "house_rules_url": "",
            "block_at_warning": 3}


@pytest.mark.parametrize(("days", "message"), [
    (0, "Opbevaringsperioden skal være mindst 30 dage"),
    (29, "Opbevaringsperioden skal være mindst 30 dage"),
    (2_147_483_647, "Opbevaringsperioden kan højst være 36500 dage"),
])
def test_an_inbox_period_out_of_bounds_is_refused(member, client_for,
                                                  facebook_channel, days, message):
    admin = member(Role.ADMIN)
    item = citizen_item(facebook_channel, "Der er et hul i cykelstien")
    response = client_for(admin).post("/indbakke/indstillinger/",
                                      {**SETTINGS, "retention_days": days})
    assert response.status_code == 400  # refused (T7a-1)
    assert message in response.content.decode().replace("\xa0", "").replace(".", "")
    assert not InboxSettings.objects.exists()
    apply_retention()
    item.refresh_from_db()
    assert item.text == "Der er et hul i cykelstien"


@pytest.mark.parametrize("days", [0, 2_147_483_647])
def test_a_period_stored_before_the_bounds_counts_as_the_nearest_bound(
    organisation, facebook_channel, days
):
    InboxSettings.objects.create(organisation=organisation, retention_days=days)
    item = citizen_item(facebook_channel, "Hvornår åbner svømmehallen?")
    apply_retention()
    item.refresh_from_db()
    assert (item.text, item.redacted_at) == ("Hvornår åbner svømmehallen?", None)


def test_thirty_days_is_accepted(member, client_for):
    admin = member(Role.ADMIN)
    response = client_for(admin).post("/indbakke/indstillinger/",
                                      {**SETTINGS, "retention_days": 30})
    assert response.status_code == 302
    assert InboxSettings.objects.get().retention_days == 30
