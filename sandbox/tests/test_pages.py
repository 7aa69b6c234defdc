import types
from datetime import UTC, datetime

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox import pages
from sandbox.app import create_app
from sandbox.core import SandboxConfig

LI_HEADERS = {
    "Authorization": "Bearer sandbox-linkedin-access-token-kk",
    "Linkedin-Version": "202607",
    "X-Restli-Protocol-Version": "2.0.0",
}


@pytest.fixture
def app(tmp_path):
    app = create_app(SandboxConfig(db_path=str(tmp_path / "pages.sqlite3"),
                                   networks=("linkedin",)))
    app.state.ctx.networks["x"] = types.ModuleType("fake_x")
    return app


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        yield client


@pytest.fixture
def ctx(app):
    return app.state.ctx


def add_post(ctx, network, account_id, item_id, text, *, when=None, **kw):
    return ctx.store.add_item(network, account_id, item_id, "post", text=text,
                              author_id=account_id,
                              created_at=when or ctx.now(), **kw)


def test_script_in_a_post_is_shown_as_text(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "p1",
             '<script>alert("hej")</script> & <b>fed</b>')
    html = client.get("/_sandbox/page/x/1500000000000000001").text
    assert '&lt;script&gt;alert(&quot;hej&quot;)&lt;/script&gt; &amp; ' in html
    assert "<script>" not in html
    assert "<b>fed</b>" not in html


def test_comment_text_and_author_are_escaped(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "p1", "Opslag")
    ctx.add_citizen_item("x", kind="comment", account_id="1500000000000000001",
                         text="<img src=x onerror=alert(1)>", parent_id="p1",
                         author_name="<i>Mette</i>")
    html = client.get("/_sandbox/page/x/1500000000000000001").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;i&gt;Mette&lt;/i&gt;" in html
    assert "<img src=x" not in html


def test_javascript_links_are_not_links(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "p1", "Se her",
             data={"link": "javascript:alert(1)"})
    html = client.get("/_sandbox/page/x/1500000000000000001").text
    assert "javascript:" not in html


def test_account_page_shows_profile_posts_newest_first_and_danish_time(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "old", "Sommer på Islands Brygge",
             when=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    add_post(ctx, "x", "1500000000000000001", "new", "Vinter i Valby #voreskbh",
             when=datetime(2026, 11, 28, 10, 5, tzinfo=UTC))
    html = client.get("/_sandbox/page/x/kobenhavn").text
    assert "Københavns Kommune" in html
    assert "@kobenhavn" in html
    assert "2.900</strong> følgere" in html
    assert html.index("Vinter i Valby") < html.index("Sommer på Islands Brygge")
    assert "1. jul. 2026 kl. 12.00" in html
    assert "28. nov. 2026 kl. 11.05" in html
    assert '<span class="tag">#voreskbh</span>' in html
    assert 'lang="da"' in html


def test_metrics_comments_replies_and_hidden_comments_are_shown(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "p1", "Badet åbner")
    for name, value in (("views", 12345), ("likes", 321), ("shares", 12)):
        ctx.store.set_metric("x", "p1", name, value)
    first = ctx.add_citizen_item("x", kind="comment",
                                 account_id="1500000000000000001",
                                 text="Hvornår lukker det?", parent_id="p1",
                                 author_name="Anne Holm")
    ctx.store.add_item("x", "1500000000000000001", "answer", "reply",
                       text="Kl. 19 i aften.", parent_id=first.item_id,
                       root_id="p1", author_id="1500000000000000001",
                       author_name="Københavns Kommune")
    rude = ctx.add_citizen_item("x", kind="comment",
                                account_id="1500000000000000001",
                                text="I er idioter", parent_id="p1",
                                author_name="Vred Borger")
    ctx.store.update_item("x", rude.item_id, hidden=True)
    html = client.get("/_sandbox/page/x/1500000000000000001").text
    assert "12.345</strong> visninger" in html
    assert "321</strong> likes" in html
    assert "12</strong> reposts" in html
    assert "2</strong> svar" in html
    question = html.index("Hvornår lukker det?")
    answer = html.index("Kl. 19 i aften.")
    assert question < answer
    assert "Svar fra kontoen" in html[question:]
    hidden = html.index("I er idioter")
    start = html.rindex('<li class="comment', 0, hidden)
    assert "Skjult af kontoen" in html[start:hidden]


def test_deleted_posts_are_not_shown(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "gone", "Slettet opslag")
    ctx.store.delete_item("x", "gone")
    html = client.get("/_sandbox/page/x/1500000000000000001").text
    assert "Slettet opslag" not in html
    assert "ingen opslag endnu" in html


def test_linkedin_image_is_served_from_the_sandbox_with_its_alt_text(client, ctx):
    init = client.post(
        "/linkedin/rest/images?action=initializeUpload", headers=LI_HEADERS,
        json={"initializeUploadRequest": {"owner": "urn:li:organization:1000001"}},
    ).json()["value"]
    upload_path = httpx.URL(init["uploadUrl"]).path
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 40
    assert client.put(upload_path, content=png, headers={
        "Authorization": LI_HEADERS["Authorization"], "Content-Type": "image/png",
    }).status_code == 201
    created = client.post("/linkedin/rest/posts", headers=LI_HEADERS, json={
        "author": "urn:li:organization:1000001",
        "commentary": "Nyt bibliotek \\(åbner i dag\\) {hashtag|\\#|voreskbh}",
        "visibility": "PUBLIC", "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
        "content": {"media": {"id": init["image"], "altText": "Læsesal med sofaer"}},
    })
    assert created.status_code == 201
    html = client.get("/_sandbox/page/linkedin/1000001").text
    src = f"/linkedin/media/{init['image']}"
    assert f'<img src="{src}" alt="Læsesal med sofaer"' in html
    assert "Nyt bibliotek (åbner i dag) " in html
    assert client.get(src).content == png
    assert "reaktioner" in html


def test_external_images_become_placeholders(client, ctx):
    add_post(ctx, "x", "1500000000000000001", "p1", "Billede",
             data={"media": [{"url": "https://cdn.example.com/a.jpg",
                              "alt": "Havnebadet"}]})
    html = client.get("/_sandbox/page/x/1500000000000000001").text
    assert "cdn.example.com" not in html
    assert "Billede: Havnebadet" in html


def test_refresh_is_optional(client, ctx):
    plain = client.get("/_sandbox/page/x/kobenhavn").text
    assert "http-equiv" not in plain
    refreshing = client.get("/_sandbox/page/x/kobenhavn?refresh=15").text
    assert '<meta http-equiv="refresh" content="15">' in refreshing


def test_index_lists_the_seven_networks_and_their_accounts(ctx):
    html = pages.render_index(ctx)
    for name in ("Facebook", "Instagram", "X", "Mastodon", "Bluesky", "LinkedIn",
                 "Threads"):
        assert f"<strong>{name}</strong>" in html
    assert 'href="/_sandbox/page/linkedin/1000001"' in html
    assert "48.500 følgere" in html
    assert "ikke installeret" in html


def test_pages_load_nothing_from_outside(client, ctx):
    html = client.get("/_sandbox/page/linkedin/1000001").text
    assert "<link" not in html
    assert "<script" not in html
    assert "@import" not in html


def test_one_comment_is_singular(client, ctx):
    add_post(ctx, "linkedin", "1000001", "urn:li:share:1", "Opslag")
    ctx.add_citizen_item("linkedin", kind="comment", account_id="1000001",
                         text="Fint", parent_id="urn:li:share:1")
    html = client.get("/_sandbox/page/linkedin/1000001").text
    start = html.index('id="urn:li:share:1"')
    assert "<strong>1</strong> kommentar</li>" in html[start:]


# -- Accessibility (issue 18) --------------------------------------------------


def _contrast(foreground: str, background: str) -> float:
    def luminance(colour):
        channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in channels
        )
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("network", sorted(pages.LOOKS))
def test_every_network_look_has_readable_text(network):
    look = pages.LOOKS[network]
    for text, ground in [
        ("bar_text", "bar"),
        ("text", "bg"),
        ("text", "card"),
        ("muted", "card"),
        ("muted", "bg"),
        ("accent", "card"),
    ]:
        ratio = _contrast(look[text], look[ground])
        assert ratio >= 4.5, f"{network}: {text} on {ground} is {ratio:.2f}:1"


def test_the_control_page_linked_from_the_index_has_a_title_and_language(client):
    index = client.get("/").text
    assert 'href="/_sandbox/styring"' in index
    response = client.get("/_sandbox/styring")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="da">' in response.text
    assert "<title>Styring af øvebanen · Kanal øvebane</title>" in response.text
    assert "<code>POST /_sandbox/faults</code>" not in response.text  # methods sorted
    assert "<code>DELETE GET POST /_sandbox/faults</code>" in response.text
    assert "&quot;networks&quot;" in response.text
    # The JSON API itself is unchanged.
    assert client.get("/_sandbox/").json()["networks"]


def test_x_image_shows_the_alt_text_it_arrived_with(tmp_path):
    """The X page names the alt text set through /2/media/metadata (it said
    "Billede uden alt-tekst" although the alt text had arrived)."""
    import io

    from PIL import Image

    app = create_app(SandboxConfig(db_path=str(tmp_path / "x.sqlite3"),
                                   networks=("x",)))
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 91, 140)).save(buffer, "JPEG")
    data = buffer.getvalue()
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        made = client.post("/_sandbox/accounts", json={"network": "x"}).json()
        account = made["account"]["account_id"]
        auth = {"Authorization": f"Bearer {made['tokens']['access_token']}"}
        media_id = client.post("/x/2/media/upload/initialize", headers=auth, json={
            "media_type": "image/jpeg", "total_bytes": len(data),
            "media_category": "tweet_image"}).json()["data"]["id"]
        client.post(f"/x/2/media/upload/{media_id}/append", headers=auth,
                    data={"segment_index": "0"},
                    files={"media": ("b.jpg", data, "application/octet-stream")})
        client.post(f"/x/2/media/upload/{media_id}/finalize", headers=auth)
        client.post("/x/2/media/metadata", headers=auth, json={
            "id": media_id,
            "metadata": {"alt_text": {"text": "Børn hopper i havnen"}}})
        tweet = client.post("/x/2/tweets", headers=auth, json={
            "text": "Havnebadet er åbent", "media": {"media_ids": [media_id]}})
        assert tweet.status_code == 201
        html = client.get(f"/_sandbox/page/x/{account}").text
    assert "Børn hopper i havnen" in html
    assert "uden alt-tekst" not in html
    assert "mangler alt-tekst" not in html
