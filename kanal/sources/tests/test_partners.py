"""Partners' posts: a partner's Mastodon account (on the sandbox) followed
as a source; its posts become a boost on Mastodon and a quote with credit
elsewhere; re-reading brings nothing twice; what the network returns is
treated as untrusted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied

from kanal.channels.networks.base import AccountPost
from kanal.core.models import AuditEntry
from kanal.publishing.models import Crisis
from kanal.sources import actions, decisions, partners
from kanal.sources.models import (
    SourceItem,
    SourceStatus,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

LIBRARY = "Københavns Biblioteker"
PARTNER_ID = "109000000000000201"


def partner_post(sandbox, text: str, **fields) -> dict:
    return sandbox.control(
        "POST",
        "/_sandbox/citizens/item",
        {
            "network": "mastodon",
            "text": text,
            "kind": "post",
            "account": PARTNER_ID,
            "author_id": PARTNER_ID,
            "author_name": LIBRARY,
            **fields,
        },
    )


def test_partner_posts_become_a_boost_on_mastodon_and_a_quote_on_facebook(
    sandbox, desk, partner_source, mastodon_channel
):
    source = partner_source()

    message = actions.refresh_source(source, actor=None)

    source.refresh_from_db()
    assert source.status == SourceStatus.OK, message
    assert source.cursor.isdigit()
    item = SourceItem.objects.get(source=source, title__startswith="Lørdag er der")
    assert item.guid == f"mastodon:{item.remote_id}"
    assert item.author_name == LIBRARY
    assert item.link.startswith("http") and item.remote_id in item.link
    assert item.image_url.endswith("/_sandbox/media/landscape.jpg")
    boost = Suggestion.objects.get(item=item, channel=mastodon_channel)
    assert boost.kind == SuggestionKind.REPOST
    assert boost.text.startswith(f"Del {LIBRARY}s opslag: Lørdag er der sprogcafé")
    quote = Suggestion.objects.get(item=item, channel=desk.channels["facebook"])
    assert quote.kind == SuggestionKind.POST
    assert quote.text.startswith(f"{LIBRARY} skriver:\n\nLørdag er der sprogcafé")
    assert quote.link == item.link


def test_reading_again_brings_only_new_posts_and_never_twice(
    sandbox, desk, partner_source
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    before = Suggestion.objects.count()
    items_before = SourceItem.objects.filter(source=source).count()

    actions.refresh_source(source, actor=None)
    assert Suggestion.objects.count() == before

    made = partner_post(sandbox, "Ny udstilling om Amager i Kulturhuset Islands Brygge")
    actions.refresh_source(source, actor=None)
    source.refresh_from_db()
    assert source.cursor == made["item_id"]
    assert SourceItem.objects.filter(source=source).count() == items_before + 1
    assert Suggestion.objects.count() == before + 2

    # The cursor lost (or the account re-read from the start): nothing twice.
    source.cursor = ""
    source.save(update_fields=["cursor"])
    actions.refresh_source(source, actor=None)
    assert SourceItem.objects.filter(source=source).count() == items_before + 1
    assert Suggestion.objects.count() == before + 2


def test_only_posts_with_a_keyword_become_suggestions(sandbox, desk, partner_source):
    source = partner_source(keywords=["SPROGCAFÉ"])

    actions.refresh_source(source, actor=None)

    items = SourceItem.objects.filter(source=source)
    titles = set(items.values_list("title", flat=True))
    assert titles and all("sprogcafé" in t.casefold() for t in titles)


def test_an_unknown_partner_account_fails_in_danish_and_others_go_on(
    sandbox, desk, partner_source
):
    source = partner_source(partner_account="findes.ikke@kk.social")

    actions.refresh_source(source, actor=None)

    source.refresh_from_db()
    assert source.status == SourceStatus.FAILING
    assert "Mastodon" in source.error_message and "konto" in source.error_message
    assert not SourceItem.objects.filter(source=source).exists()


def test_a_server_error_is_recorded_and_the_cursor_stays(
    sandbox, desk, partner_source, mastodon_channel
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    source.refresh_from_db()
    cursor = source.cursor
    sandbox.fault(
        "mastodon", "server_error", operation="verify",
        account=mastodon_channel.remote_id,
    )

    actions.refresh_source(source, actor=None)

    source.refresh_from_db()
    assert source.status == SourceStatus.FAILING
    assert source.error_message
    assert source.cursor == cursor


def test_a_partner_source_needs_a_network_that_reads_other_accounts(desk):
    with pytest.raises(actions.SourceError) as caught:
        actions.create_source(
            actor=desk.admin,
            name="Politiets side",
            kind="partner",
            url="",
            owner_administration=desk.kff,
            channels=[desk.channels["facebook"]],
            partner_channel=desk.channels["facebook"],
            partner_account="kobenhavnspoliti",
        )

    assert "kan ikke læse andre kontoers opslag" in str(caught.value)


def test_a_feed_source_still_needs_its_address(desk):
    with pytest.raises(actions.SourceError) as caught:
        actions.create_source(
            actor=desk.admin, name="Tom", kind="rss", url="",
            owner_administration=desk.kff,
        )

    assert "adresse" in str(caught.value)


def test_what_the_network_returns_is_cleaned():
    post = AccountPost(
        remote_id="123",
        text='<p>Læs <a href="javascript:alert(1)">her</a></p><script>x()</script>',
        url="javascript:alert(1)",
        created_at=datetime(2026, 12, 1, 10, 0),  # naive: not trusted
        author_name="<img src=x onerror=alert(1)>Biblioteket\x07",
        media_urls=("file:///etc/passwd", "https://kk.dk/b.jpg"),
    )

    item = partners.as_item("mastodon", post)

    assert item.remote_id == "123"
    assert item.guid == "mastodon:123"
    assert item.summary == "Læs her"
    assert item.link == ""
    assert item.published_at is None
    assert item.author_name == "Biblioteket"
    assert item.image_url == "https://kk.dk/b.jpg"
    # An id no network sends is no id: never mended into another post's.
    for remote_id in (" \x01", "12\x00<b>3", "12<b>3"):
        assert partners.as_item("mastodon", AccountPost(
            remote_id=remote_id, text="x", url="", created_at=None)) is None


def test_the_boost_is_made_once_by_an_approver(
    sandbox, desk, partner_source, mastodon_channel
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    boost = Suggestion.objects.get(
        item__title__startswith="Lørdag er der", channel=mastodon_channel
    )

    with pytest.raises(PermissionDenied):
        decisions.repost_suggestion(boost, actor=desk.editor)
    done = decisions.repost_suggestion(boost, actor=desk.admin)
    again = decisions.repost_suggestion(boost, actor=desk.admin)

    assert done.status == SuggestionStatus.ACCEPTED
    assert again.status == SuggestionStatus.ACCEPTED
    assert done.repost_url == boost.item.link
    reblogs = sandbox.items("mastodon", mastodon_channel.remote_id, kind="reblog")
    assert [r["parent_id"] for r in reblogs] == [boost.item.remote_id]
    assert AuditEntry.objects.filter(event="sources.suggestion.reposted").count() == 1


def test_no_boost_while_a_crisis_covers_the_channel(
    sandbox, desk, partner_source, mastodon_channel, organisation
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    boost = Suggestion.objects.filter(
        channel=mastodon_channel, kind=SuggestionKind.REPOST
    ).first()
    Crisis.objects.create(
        organisation=organisation, whole_organisation=True, reason="Stormflod"
    )

    with pytest.raises(actions.SourceError) as caught:
        decisions.repost_suggestion(boost, actor=desk.admin)

    assert "Krisetilstand" in str(caught.value)
    assert sandbox.items("mastodon", mastodon_channel.remote_id, kind="reblog") == []
    boost.refresh_from_db()
    assert boost.status == SuggestionStatus.OPEN


def test_a_quote_is_accepted_as_a_draft_and_a_boost_is_not(
    sandbox, desk, partner_source, mastodon_channel
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    quote = Suggestion.objects.filter(
        channel=desk.channels["facebook"], item__title__startswith="Vi holder lukket"
    ).get()
    boost = Suggestion.objects.get(item=quote.item, channel=mastodon_channel)

    post = decisions.accept_suggestion(quote, actor=desk.editor)
    with pytest.raises(actions.SourceError):
        decisions.accept_suggestion(boost, actor=desk.editor)

    assert post.shared_text.startswith(f"{LIBRARY} skriver:")
    assert post.variants.get().link == quote.item.link


def test_the_sources_page_offers_to_share_a_boost(
    client, sandbox, desk, partner_source, mastodon_channel
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    client.force_login(desk.admin.user)
    boost = Suggestion.objects.get(
        item__title__startswith="Lørdag er der", channel=mastodon_channel
    )

    page = client.get("/kilder/")
    shared = client.post(f"/kilder/forslag/{boost.pk}/del/", follow=True)

    assert f"/kilder/forslag/{boost.pk}/del/" in page.content.decode()
    assert "opslag af Københavns Biblioteker" in page.content.decode()
    assert "Partnerens opslag er delt" in shared.content.decode()
    boost.refresh_from_db()
    assert boost.status == SuggestionStatus.ACCEPTED


def test_an_editor_without_approval_is_told_why_the_share_is_refused(
    client, sandbox, desk, partner_source, mastodon_channel
):
    source = partner_source()
    actions.refresh_source(source, actor=None)
    client.force_login(desk.editor.user)
    boost = Suggestion.objects.filter(
        channel=mastodon_channel, kind=SuggestionKind.REPOST
    ).first()

    answer = client.post(f"/kilder/forslag/{boost.pk}/del/", follow=True)

    assert "kræver en, der må godkende" in answer.content.decode()
    assert sandbox.items("mastodon", mastodon_channel.remote_id, kind="reblog") == []


def test_partner_posts_newer_than_a_week_only(sandbox, desk, partner_source):
    old = datetime(2020, 1, 1, tzinfo=UTC)
    item = partners.as_item(
        "mastodon",
        AccountPost(remote_id="1", text="Gammelt", url="", created_at=old),
    )
    source = partner_source()

    actions.import_items(source, [item], now=datetime.now(UTC))

    assert not Suggestion.objects.filter(item__source=source).exists()


def test_a_partner_on_bluesky_is_read_through_the_bluesky_channel(
    sandbox, desk, organisation
):
    from kanal.channels import vault
    from kanal.channels.networks.tests.test_contract_bluesky import (
        TestBlueskyContract,
    )
    from kanal.channels.tests.factories import ChannelFactory

    contract = TestBlueskyContract()
    conn = contract.make_connection(
        sandbox, sandbox.provision("bluesky", **contract.provision_options())
    )
    bluesky = ChannelFactory(
        organisation=organisation, owner_administration=desk.kff, network="bluesky",
        base_url=conn.base_url, remote_id=conn.account_id, handle=conn.handle,
        api_settings=dict(conn.settings),
        encrypted_credentials=vault.encrypt(dict(conn.credentials)),
    )
    source = actions.create_source(
        actor=desk.admin, name="Bibliotekerne på Bluesky", kind="partner", url="",
        owner_administration=desk.kff, channels=[bluesky, desk.channels["x"]],
        partner_channel=bluesky, partner_account="bibliotek.kk.dk",
    )

    actions.refresh_source(source, actor=None)

    source.refresh_from_db()
    assert source.status == SourceStatus.OK, source.error_message
    item = SourceItem.objects.get(source=source, title__startswith="Vi holder lukket")
    assert item.guid.startswith("bluesky:at://did:plc:kkbibliotek")
    kinds = {
        s.channel.network: s.kind for s in Suggestion.objects.filter(item=item)
    }
    assert kinds == {"bluesky": SuggestionKind.REPOST, "x": SuggestionKind.POST}
    boost = Suggestion.objects.get(item=item, channel=bluesky)
    done = decisions.repost_suggestion(boost, actor=desk.admin)
    assert done.status == SuggestionStatus.ACCEPTED
    assert len(sandbox.items("bluesky", bluesky.remote_id, kind="repost")) == 1
