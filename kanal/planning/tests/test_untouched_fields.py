"""Saving a form keeps what the person did not touch (issue 10: the class of
"forms that change what the user did not touch")."""

from __future__ import annotations

import pytest

from kanal.channels.models import ChannelStatus
from kanal.planning import actions
from kanal.planning.models import Post

pytestmark = pytest.mark.django_db


def _edit_data(post):
    data = {
        "title": post.title,
        "shared_text": post.shared_text,
        "owner_administration": post.owner_administration_id,
        "category": post.category,
        "version": post.version,
        "channels": [v.channel_id for v in post.variants.all()],
    }
    for variant in post.variants.all():
        prefix = f"v{variant.channel_id}-"
        local = variant.planned_at.astimezone()
        data.update(
            {
                prefix + "text": variant.text,
                prefix + "planned_at_0": f"{local:%Y-%m-%d}",
                prefix + "planned_at_1": f"{local:%H:%M}",
            }
        )
    return data


def test_a_channel_switched_off_since_is_not_dropped_by_saving_the_post(
    desk, soon, client_for
):
    post = actions.create_post(
        actor=desk.editor,
        title="Bibliotek",
        shared_text="Læs",
        planned_at=soon,
        channels=[desk.channels["facebook"], desk.channels["x"]],
        category="Borgerservice",
    )
    x = desk.channels["x"]
    x.status = ChannelStatus.DISABLED
    x.save()
    # The Facebook strategy no longer lists the category either.
    strategy = desk.channels["facebook"].strategy
    strategy.categories = ["Arrangementer"]
    strategy.save()
    client = client_for(desk.editor)
    page = client.get(f"/plan/opslag/{post.pk}/rediger/").content.decode()
    assert f'value="{x.pk}"' in page
    data = _edit_data(post)
    data["title"] = "Bibliotek – rettet titel"
    response = client.post(f"/plan/opslag/{post.pk}/rediger/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get(pk=post.pk)
    assert post.title == "Bibliotek – rettet titel"
    assert sorted(post.variants.values_list("channel_id", flat=True)) == sorted(
        [desk.channels["facebook"].pk, x.pk]
    )
    assert post.category == "Borgerservice"


def test_a_proposal_keeps_a_wished_channel_that_was_switched_off(desk, client_for):
    x = desk.channels["x"]
    proposal = actions.create_proposal(
        actor=desk.contributor, title="Forslag", text="Tekst", channels=[x]
    )
    x.status = ChannelStatus.DISABLED
    x.save()
    response = client_for(desk.contributor).post(
        f"/plan/forslag/{proposal.pk}/rediger/",
        {
            "title": "Forslag – rettet",
            "text": "Tekst",
            "channels": [x.pk],
            "version": proposal.version,
        },
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.title == "Forslag – rettet"
    assert list(proposal.wished_channels.all()) == [x]
