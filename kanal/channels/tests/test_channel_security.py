"""Editing a channel, the API host allow-list, and what happens to the stored
keys when the API address moves (issue 10, findings 8, 10 and 11)."""

from __future__ import annotations

import httpx
import pytest
import respx
from django.test import override_settings

from kanal.channels import actions, adapters, hosts
from kanal.channels.models import Channel, ChannelStatus
from kanal.channels.networks.base import AccountInfo
from kanal.channels.tests.factories import ChannelFactory
from kanal.core.models import AuditEntry
from kanal.organisations.roles import Role

SANDBOX_FACEBOOK = "http://127.0.0.1:8765/facebook/v25.0"


@pytest.fixture
def admin(member):
    return member(Role.ADMIN)


@pytest.fixture
def channel(admin):
    return ChannelFactory(
        organisation=admin.organisation,
        owner_administration=admin.administration,
        network="facebook",
        remote_id="104738291045678",
        base_url=SANDBOX_FACEBOOK,
    )


def _edit_data(channel, **overrides):
    return {
        "display_name": channel.display_name,
        "handle": channel.handle,
        "remote_id": channel.remote_id,
        "owner_administration": channel.owner_administration_id,
        "base_url": channel.base_url,
        "api_settings": "",
        **overrides,
    }


def test_editing_a_channel_saves_every_field(admin, channel, client_for):
    response = client_for(admin).post(
        f"/kanaler/{channel.pk}/rediger/",
        _edit_data(
            channel,
            display_name="Københavns Kommune (Facebook)",
            remote_id="999",
            handle="kobenhavn",
            api_settings="graph_version=v25.0",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/kanaler/{channel.pk}/"
    channel.refresh_from_db()
    assert channel.display_name == "Københavns Kommune (Facebook)"
    assert channel.remote_id == "999"
    assert channel.handle == "kobenhavn"
    assert channel.api_settings == {"graph_version": "v25.0"}
    # Same server: the keys stay.
    assert channel.credentials() == {"access_token": "test-token"}
    entry = AuditEntry.objects.get(event="channels.channel.updated")
    assert entry.changes["remote_id"] == ["104738291045678", "999"]


def test_update_channel_action_accepts_remote_id(admin, channel):
    actions.update_channel(channel, actor=admin, remote_id="555")
    channel.refresh_from_db()
    assert channel.remote_id == "555"


def test_moving_to_another_host_deletes_the_keys_and_asks_for_them_again(
    admin, channel, client_for
):
    client = client_for(admin)
    response = client.post(
        f"/kanaler/{channel.pk}/rediger/",
        _edit_data(channel, base_url="https://graph.facebook.com/v25.0"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/kanaler/{channel.pk}/adgang/"
    channel.refresh_from_db()
    assert channel.base_url == "https://graph.facebook.com/v25.0"
    assert channel.encrypted_credentials == ""
    assert channel.credentials() == {}
    assert channel.token_expires_at is None
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "adgangsnøgler er slettet" in channel.last_error
    cleared = AuditEntry.objects.get(event="channels.channel.credentials_cleared")
    assert cleared.changes["had_credentials"] is True
    page = client.get(response["Location"])
    assert "indtast nøglerne til den nye adresse" in page.content.decode()


def test_a_path_change_on_the_same_server_keeps_the_keys(admin, channel):
    actions.update_channel(
        channel, actor=admin, base_url="http://127.0.0.1:8765/facebook/v26.0"
    )
    channel.refresh_from_db()
    assert channel.credentials() == {"access_token": "test-token"}
    assert channel.status == ChannelStatus.CONNECTED


@pytest.mark.parametrize(
    "base_url",
    [
        "https://evil.example/v25.0",
        "http://graph.facebook.com/v25.0",  # https only for the real host
        "https://graph.facebook.com@evil.example/v25.0",
        "https://graph.facebook.com.evil.example/v25.0",
        "https://graph.facebook.com:8443/v25.0",
        "https://api.x.com/2",  # another network's host
        "http://127.0.0.1:8766/facebook/v25.0",  # not the sandbox's port
    ],
)
def test_a_host_outside_the_allow_list_is_refused_on_edit(
    admin, channel, client_for, base_url
):
    response = client_for(admin).post(
        f"/kanaler/{channel.pk}/rediger/", _edit_data(channel, base_url=base_url)
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "API-adressen skal være en af netværkets egne" in body
    assert "https://graph.facebook.com" in body
    channel.refresh_from_db()
    assert channel.base_url == SANDBOX_FACEBOOK
    assert channel.credentials() == {"access_token": "test-token"}


def test_a_host_outside_the_allow_list_is_refused_on_create(admin, client_for):
    response = client_for(admin).post(
        "/kanaler/ny/",
        {
            "network": "mastodon",
            "display_name": "KK",
            "owner_administration": admin.administration.pk,
            "base_url": "https://social.evil.example",
            "strategy-cadence_min": "1",
            "strategy-cadence_max": "2",
            "strategy-cadence_period": "day",
        },
    )
    assert response.status_code == 400
    assert "https://mastodon.social" in response.content.decode()
    assert not Channel.objects.exists()


def test_the_action_refuses_a_host_outside_the_allow_list(admin, channel):
    with pytest.raises(actions.ChannelRefused):
        actions.update_channel(channel, actor=admin, base_url="https://evil.example")
    with pytest.raises(actions.ChannelRefused):
        actions.create_channel(
            actor=admin,
            organisation=admin.organisation,
            network="x",
            display_name="X",
            owner_administration=admin.administration,
            base_url="https://evil.example/2",
        )


def test_only_the_settings_extend_the_allow_list(admin, channel):
    own = "https://social.kk.dk"
    assert not hosts.is_allowed("mastodon", own)
    with override_settings(
        KANAL_API_HOSTS={"mastodon": ["social.kk.dk"], "*": ["http://127.0.0.1:9"]}
    ):
        assert hosts.is_allowed("mastodon", own)
        assert hosts.is_allowed("mastodon", "https://social.kk.dk:443/api")
        assert not hosts.is_allowed("mastodon", "http://social.kk.dk")
        assert not hosts.is_allowed("x", own)
        assert hosts.is_allowed("x", "http://127.0.0.1:9/x")
    with override_settings(KANAL_SANDBOX_URL="http://127.0.0.1:9911"):
        assert hosts.is_allowed("bluesky", "http://127.0.0.1:9911/bluesky")
        assert not hosts.is_allowed("bluesky", SANDBOX_FACEBOOK)


@pytest.mark.sandbox
def test_the_readme_move_from_one_server_to_another_end_to_end(
    admin, channel, client_for, sandbox
):
    """README: *Rediger* (new API address) → *Adgangsnøgler* → *Test
    forbindelsen*. The "real" server here is a second sandbox address that the
    installation's settings allow (the real Graph API is not reachable from
    the tests)."""
    account = sandbox.provision(
        "facebook", followers=43000, display_name="Københavns Kommune"
    )
    new_url = sandbox.base_url("facebook", "/v25.0")
    client = client_for(admin)
    with override_settings(KANAL_API_HOSTS={"facebook": [sandbox.url]}):
        edit = client.post(
            f"/kanaler/{channel.pk}/rediger/",
            _edit_data(channel, base_url=new_url, remote_id=account.account_id),
        )
        assert edit.status_code == 302
        assert edit["Location"] == f"/kanaler/{channel.pk}/adgang/"
        channel.refresh_from_db()
        assert not channel.has_credentials
        # Without keys, the test says what is wrong instead of using old ones.
        client.post(f"/kanaler/{channel.pk}/test/")
        channel.refresh_from_db()
        assert channel.status == ChannelStatus.NEEDS_RECONNECT
        keys = client.post(
            f"/kanaler/{channel.pk}/adgang/",
            {"access_token": account.tokens["access_token"]},
        )
        assert keys.status_code == 302
        verify = client.post(f"/kanaler/{channel.pk}/test/", follow=True)
    assert verify.status_code == 200
    assert "Forbindelsen virker" in verify.content.decode()
    assert "Københavns Kommune" in verify.content.decode()
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.CONNECTED
    assert channel.follower_count == 43000
    assert channel.last_error == ""


# ---------------------------------------------------------------------------
# "Test forbindelsen" with answers a network should not give


BASE = "http://127.0.0.1:8765/facebook/v25.0"


@pytest.mark.parametrize(
    "answer",
    [
        [],  # a list where an object belongs
        ["a", "b"],
        {"id": {"nested": True}, "name": ["x"], "followers_count": "many"},
        {"error": "not an object"},
        "just a string",
        12,
        None,
    ],
)
def test_verify_with_an_unexpected_json_shape_is_a_danish_error_not_500(
    admin, channel, client_for, answer
):
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/{channel.remote_id}").mock(
            return_value=httpx.Response(200, json=answer)
        )
        response = client_for(admin).post(f"/kanaler/{channel.pk}/test/", follow=True)
    assert response.status_code == 200
    channel.refresh_from_db()
    if channel.status == ChannelStatus.CONNECTED:
        # A shape the adapter could read: nothing but clean values stored.
        assert channel.follower_count is None or channel.follower_count >= 0
    else:
        assert channel.last_error
        assert "\n" not in channel.last_error


def test_verify_stores_only_sane_values_from_the_network(
    admin, channel, monkeypatch
):
    class Hostile:
        def __init__(self, connection):
            pass

        def verify(self):
            return AccountInfo(
                remote_id="1",
                handle="kk\r\nX-Evil: 1",
                display_name="<script>alert(1)</script>\u202e" + "x" * 5000,
                followers=2**63,
                profile_url="javascript:alert(1)",
            )

    monkeypatch.setitem(adapters.ADAPTER_OVERRIDES, channel.network, Hostile)
    ok, message = actions.verify_channel_connection(channel, actor=admin)
    assert ok
    assert "\u202e" not in message and len(message) < 400
    channel.refresh_from_db()
    assert channel.follower_count is None


def test_verify_with_an_unknown_network_says_so(admin, channel, monkeypatch):
    def unknown(network):
        raise KeyError(network)

    monkeypatch.setattr(adapters, "adapter_class", unknown)
    ok, message = actions.verify_channel_connection(channel, actor=admin)
    assert not ok and "kender ikke dette netværk" in message


# ---------------------------------------------------------------------------
# The keys form changes only what was typed


def test_a_new_client_secret_keeps_the_stored_token_expiry(admin, channel, client_for):
    from datetime import UTC, datetime

    expiry = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    Channel.objects.filter(pk=channel.pk).update(token_expires_at=expiry)
    response = client_for(admin).post(
        f"/kanaler/{channel.pk}/adgang/", {"client_secret": "nyt-app-secret"}
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.token_expires_at == expiry
    assert channel.credentials() == {
        "access_token": "test-token",
        "client_secret": "nyt-app-secret",
    }


def test_a_new_access_token_without_expiry_clears_the_old_expiry(
    admin, channel, client_for
):
    from datetime import UTC, datetime

    Channel.objects.filter(pk=channel.pk).update(
        token_expires_at=datetime(2027, 3, 1, tzinfo=UTC)
    )
    client_for(admin).post(f"/kanaler/{channel.pk}/adgang/", {"access_token": "ny"})
    channel.refresh_from_db()
    assert channel.token_expires_at is None


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_an_expiry_outside_the_window_is_a_danish_form_error(
    admin, channel, client_for, when
):
    response = client_for(admin).post(
        f"/kanaler/{channel.pk}/adgang/",
        {"access_token": "ny", "token_expires_at": when},
    )
    assert response.status_code == 400
    assert "Datoen skal ligge mellem" in response.content.decode()
    channel.refresh_from_db()
    assert channel.credentials() == {"access_token": "test-token"}


def test_why_the_keys_were_deleted_is_stored_untranslated_and_read_in_english(
    admin, channel, client_for
):
    """The administrator who moved the address reads English; the message
    is kept as written in the catalogue and each reader gets their own
    language (T4-8's class)."""
    client = client_for(admin)
    client.cookies["django_language"] = "en"
    client.post(f"/kanaler/{channel.pk}/rediger/",
                _edit_data(channel, base_url="https://graph.facebook.com/v25.0"))
    channel.refresh_from_db()
    assert channel.last_error.startswith("API-adressen er ændret")
    page = client.get(f"/kanaler/{channel.pk}/").content.decode()
    assert "API-adressen er ændret" not in page
