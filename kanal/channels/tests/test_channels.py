from __future__ import annotations

import pytest
from django.db import connection

from kanal.channels import actions, adapters
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.base import AccountInfo, TokenSet
from kanal.channels.networks.errors import AuthExpired
from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role

SECRET = "EAAG-super-secret-page-token-123"


def _channel_data(admin, **overrides):
    return {
        "network": "mastodon",
        "display_name": "KK på Mastodon",
        "handle": "@kobenhavn@social.example",
        "remote_id": "42",
        "owner_administration": admin.administration.pk,
        "base_url": "http://127.0.0.1:8765/mastodon",
        "strategy-purposes": ["news", "dialogue"],
        "strategy-categories": "Nyheder\nBorgerservice\n\nNyheder",
        "strategy-cadence_min": "1",
        "strategy-cadence_max": "2",
        "strategy-cadence_period": "day",
        "strategy-default_hashtags": "#voreskbh #København",
        "strategy-tone_notes": "Venlig",
        **overrides,
    }


def test_admin_creates_a_channel_with_its_strategy(member, client_for):
    admin = member(Role.ADMIN)
    response = client_for(admin).post("/kanaler/ny/", _channel_data(admin))
    assert response.status_code == 302
    channel = Channel.objects.get(remote_id="42")
    assert channel.organisation == admin.organisation
    assert channel.strategy.categories == ["Nyheder", "Borgerservice"]
    assert channel.strategy.default_hashtags == ["#voreskbh", "#København"]
    assert channel.strategy.cadence_label == "1–2 om dagen"
    entry = AuditEntry.objects.get(event="channels.channel.created")
    assert entry.actor == admin.user and entry.object_id == str(channel.pk)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"strategy-default_hashtags": "voreskbh"}, "Ugyldigt hashtag"),
        ({"strategy-cadence_min": "5", "strategy-cadence_max": "2"}, "mindst lige så"),
        ({"display_name": "x" * 201}, "højst have 200 tegn"),
        ({"network": "myspace"}, "Marker en gyldig valgmulighed"),
        ({"base_url": "ikke en adresse"}, "gyldig URL"),
    ],
)
def test_bad_channel_input_is_refused_in_danish_and_nothing_is_saved(
    member, client_for, overrides, message
):
    admin = member(Role.ADMIN)
    response = client_for(admin).post("/kanaler/ny/", _channel_data(admin, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Channel.objects.exists()
    assert not AuditEntry.objects.filter(event__startswith="channels.").exists()


def test_the_same_account_cannot_be_registered_twice(member, client_for):
    admin = member(Role.ADMIN)
    client = client_for(admin)
    client.post("/kanaler/ny/", _channel_data(admin))
    response = client.post("/kanaler/ny/", _channel_data(admin))
    assert response.status_code == 400
    assert "allerede registreret" in response.content.decode()
    assert Channel.objects.count() == 1


def test_credentials_are_encrypted_at_rest_and_never_shown(member, client_for):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )
    client = client_for(admin)
    response = client.post(f"/kanaler/{channel.pk}/adgang/", {"access_token": SECRET})
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_credentials FROM channels_channel WHERE id = %s",
            [channel.pk],
        )
        stored = cursor.fetchone()[0]
    assert SECRET not in stored
    channel.refresh_from_db()
    assert channel.credentials()["access_token"] == SECRET
    for url in (
        f"/kanaler/{channel.pk}/",
        f"/kanaler/{channel.pk}/adgang/",
        "/kanaler/",
        "/revisionsspor/",
    ):
        assert SECRET not in client.get(url).content.decode()
    assert SECRET not in repr(channel) and SECRET not in repr(channel.connection())
    entry = AuditEntry.objects.get(event="channels.channel.credentials_changed")
    assert entry.changes["secrets"] == ["access_token"]
    assert SECRET not in str(entry.changes)


def test_empty_credentials_form_is_refused_and_keeps_the_old_secret(member, client_for):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )
    response = client_for(admin).post(f"/kanaler/{channel.pk}/adgang/", {})
    assert response.status_code == 400
    assert "Udfyld mindst én nøgle" in response.content.decode()
    channel.refresh_from_db()
    assert channel.credentials() == {"access_token": "test-token"}


def test_disable_and_enable_a_channel(member, client_for):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )
    client = client_for(admin)
    client.post(f"/kanaler/{channel.pk}/sluk/", {"reason": "Kontoen lukkes"})
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.DISABLED
    entry = AuditEntry.objects.get(event="channels.channel.disabled")
    assert entry.changes["reason"] == "Kontoen lukkes"
    client.post(f"/kanaler/{channel.pk}/taend/")
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.CONNECTED


def test_editor_may_see_but_not_change_channels(member, client_for):
    editor = member(Role.EDITOR)
    channel = ChannelFactory(
        organisation=editor.organisation, owner_administration=editor.administration
    )
    client = client_for(editor)
    assert client.get(f"/kanaler/{channel.pk}/").status_code == 200
    assert client.post(f"/kanaler/{channel.pk}/sluk/").status_code == 403
    assert client.get(f"/kanaler/{channel.pk}/strategi/").status_code == 403
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.CONNECTED


def test_channel_of_another_organisation_is_not_found(member, client_for):
    admin = member(Role.ADMIN)
    foreign = ChannelFactory()
    client = client_for(admin)
    assert client.get(f"/kanaler/{foreign.pk}/").status_code == 404
    assert client.post(f"/kanaler/{foreign.pk}/sluk/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == ChannelStatus.CONNECTED


def test_strategy_edit_is_audited_with_what_changed(member, client_for):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )
    response = client_for(admin).post(
        f"/kanaler/{channel.pk}/strategi/",
        {
            "purposes": ["branding"],
            "categories": "Borgerservice",
            "cadence_min": "2",
            "cadence_max": "3",
            "cadence_period": "week",
            "default_hashtags": "#voreskbh",
            "tone_notes": "",
        },
    )
    assert response.status_code == 302
    channel.strategy.refresh_from_db()
    assert channel.strategy.cadence_label == "2–3 om ugen"
    entry = AuditEntry.objects.get(event="channels.strategy.updated")
    assert entry.changes["cadence_period"] == ["day", "week"]
    assert entry.changes["purposes"] == [["branding", "information"], ["branding"]]


def test_verify_marks_a_channel_whose_access_expired(member, monkeypatch):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation, owner_administration=admin.administration
    )

    class Expired:
        def __init__(self, connection):
            pass

        def verify(self):
            raise AuthExpired(network="facebook", network_code=190)

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, channel.network, Expired)
    ok, message = actions.verify_channel_connection(channel, actor=admin)
    channel.refresh_from_db()
    assert not ok and "forbinde kanalen igen" in message
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert channel.last_error == message


def test_verify_records_followers_and_clears_the_error(member, monkeypatch):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation,
        owner_administration=admin.administration,
        status=ChannelStatus.NEEDS_RECONNECT,
        last_error="gammel",
    )

    class Fine:
        def __init__(self, connection):
            pass

        def verify(self):
            return AccountInfo(
                remote_id="1", handle="kk", display_name="KK", followers=43001
            )

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, channel.network, Fine)
    ok, _ = actions.verify_channel_connection(channel, actor=admin)
    channel.refresh_from_db()
    assert ok
    assert channel.status == ChannelStatus.CONNECTED
    assert channel.follower_count == 43001 and channel.last_error == ""


def test_api_settings_are_parsed_and_bad_lines_refused(member, client_for):
    admin = member(Role.ADMIN)
    client = client_for(admin)
    bad = client.post(
        "/kanaler/ny/",
        _channel_data(
            admin, network="linkedin", api_settings="linkedin_version 202607"
        ),
    )
    assert bad.status_code == 400
    assert "Linje 1 skal have formen navn=værdi" in bad.content.decode()
    good = client.post(
        "/kanaler/ny/",
        _channel_data(
            admin, network="linkedin", api_settings="linkedin_version=202607\n\n"
        ),
    )
    assert good.status_code == 302
    channel = Channel.objects.get(network="linkedin")
    assert channel.api_settings == {"linkedin_version": "202607"}
    assert channel.connection().settings["linkedin_version"] == "202607"


def test_tokens_a_network_hands_out_during_work_are_stored(member, monkeypatch):
    admin = member(Role.ADMIN)
    channel = ChannelFactory(
        organisation=admin.organisation,
        owner_administration=admin.administration,
        network="bluesky",
    )
    loaded = []

    class RenewsSession:
        def __init__(self, connection, *, on_tokens=None):
            self.on_tokens = on_tokens

        def verify(self):
            self.on_tokens(
                TokenSet(
                    access_token="new-access",
                    refresh_token="new-refresh",
                    extra={"did": "did:plc:kk"},
                )
            )
            return AccountInfo(remote_id="did:plc:kk", handle="kk", display_name="KK")

        def load_instance_configuration(self):
            loaded.append(True)

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, channel.network, RenewsSession)
    ok, _ = actions.verify_channel_connection(channel, actor=admin)
    channel.refresh_from_db()
    assert ok and loaded == [True]
    assert channel.credentials() == {
        "access_token": "new-access",
        "refresh_token": "new-refresh",
        "did": "did:plc:kk",
    }
