"""The LinkedIn emulator by raw HTTP (PLATFORMS.md §6): every call needs a
``Linkedin-Version`` of the last 12 months, ``POST /rest/posts`` answers 201
with the URN in ``x-restli-id`` and no body, there is no idempotency header
but a duplicate is refused with 422 ``DUPLICATE_POST`` naming the first post,
"little text" commentary, comments, deletes, the
``{"status","message","serviceErrorCode","code"}`` envelope and a 429 without
rate-limit headers."""

from urllib.parse import quote

import pytest

from .emulator_client import EmulatorClient

ORG = "1000001"
AUTHOR = f"urn:li:organization:{ORG}"


@pytest.fixture
def li(tmp_path):
    client = EmulatorClient(tmp_path, "linkedin", account=ORG,
                            token="sandbox-linkedin-access-token-kk", root="/rest")
    now = client.app.state.ctx.now()
    client.version = f"{now.year:04d}{now.month:02d}"
    return client


def versioned(li, extra=None) -> dict:
    return {"Linkedin-Version": li.version, "X-Restli-Protocol-Version": "2.0.0",
            **(extra or {})}


def create(li, commentary="Havnebadet åbner i dag", **fields):
    body = {"author": AUTHOR, "commentary": commentary, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED",
                             "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
            **fields}
    return li.post("/posts", json=body, headers=versioned(li))


def input_code(response) -> str:
    return response.json()["errorDetails"]["inputErrors"][0]["code"]


def test_a_post_is_created_with_its_urn_in_the_header_and_no_body(li):
    made = create(li)
    assert made.status_code == 201, made.text
    assert made.content == b""
    urn = made.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:")
    read = li.get(f"/posts/{quote(urn, safe='')}", headers=versioned(li))
    assert read.status_code == 200, read.text
    assert (read.json()["id"], read.json()["commentary"], read.json()["author"]) \
        == (urn, "Havnebadet åbner i dag", AUTHOR)
    assert [(r.item_id, r.kind) for r in li.published()] == [(urn, "post")]


def test_the_version_header_is_required_and_must_not_be_sunset(li):
    missing = li.post("/posts", json={"author": AUTHOR},
                      headers={"X-Restli-Protocol-Version": "2.0.0"})
    assert missing.status_code == 400
    assert missing.json()["code"] == "VERSION_MISSING"
    sunset = li.post("/posts", json={"author": AUTHOR},
                     headers=versioned(li, {"Linkedin-Version": "202507"}))
    assert (sunset.status_code, sunset.json()["code"]) == (426, "NONEXISTENT_VERSION")
    assert li.published() == []


def test_a_duplicate_is_refused_naming_the_first_post(li):
    first = create(li).headers["x-restli-id"]
    again = create(li)
    assert again.status_code == 422
    assert input_code(again) == "DUPLICATE_POST"
    assert again.json()["message"].endswith(f"Content is a duplicate of {first}")
    assert [r.item_id for r in li.published()] == [first]


def test_commentary_over_3000_characters_is_too_long(li):
    assert create(li, "a" * 3000).status_code == 201
    over = create(li, "b" * 3001)
    assert (over.status_code, input_code(over)) == (422, "FIELD_LENGTH_TOO_LONG")


def test_an_unescaped_reserved_character_cuts_the_little_text(li):
    cut = create(li, "Mød os (i dag) på Rådhuspladsen").headers["x-restli-id"]
    kept = create(li, "Mød os \\(i dag\\) på Rådhuspladsen").headers["x-restli-id"]
    texts = {i.item_id: i.text for i in li.store.list_items("linkedin", kind="post")}
    assert texts[kept] == "Mød os (i dag) på Rådhuspladsen"
    assert texts[cut] != texts[kept]
    assert "Rådhuspladsen" not in texts[cut]


def test_only_the_organisation_may_post_as_itself(li):
    other = create(li, author="urn:li:organization:999")
    assert (other.status_code, other.json()["code"]) == (403, "ACCESS_DENIED")
    incomplete = li.post("/posts", json={"author": AUTHOR, "commentary": "Hej"},
                         headers=versioned(li))
    assert (incomplete.status_code, input_code(incomplete)) == (422, "MISSING_FIELD")


def test_a_comment_answers_a_post_and_is_listed(li):
    urn = create(li).headers["x-restli-id"]
    path = f"/socialActions/{quote(urn, safe='')}/comments"
    made = li.post(path, headers=versioned(li), json={
        "actor": AUTHOR, "object": urn, "message": {"text": "Tak for jeres spørgsmål"}})
    assert made.status_code == 201, made.text
    element = made.json()
    assert made.headers["x-restli-id"] == element["id"]
    assert element["commentUrn"] == f"urn:li:comment:({urn},{element['id']})"
    assert (element["actor"], element["object"]) == (AUTHOR, urn)
    listed = li.get(path, headers=versioned(li)).json()
    assert [c["message"]["text"] for c in listed["elements"]] == [
        "Tak for jeres spørgsmål"]
    assert listed["paging"]["total"] == 1
    assert [r.kind for r in li.published()] == ["post", "reply"]


def test_a_deleted_post_answers_404(li):
    urn = create(li).headers["x-restli-id"]
    path = f"/posts/{quote(urn, safe='')}"
    assert li.delete(path, headers=versioned(li)).status_code == 204
    gone = li.get(path, headers=versioned(li))
    assert (gone.status_code, gone.json()["status"]) == (404, 404)


def test_the_organisations_posts_are_read_by_author_with_paging(li):
    made = [create(li, f"Opslag nummer {n}").headers["x-restli-id"] for n in range(3)]
    page = li.get("/posts", headers=versioned(li), params={
        "q": "author", "author": AUTHOR, "count": 2}).json()
    assert len(page["elements"]) == 2
    assert page["paging"]["count"] == 2 and page["paging"]["total"] >= 3
    rest = li.get("/posts", headers=versioned(li), params={
        "q": "author", "author": AUTHOR, "start": 2, "count": 100}).json()
    ids = [p["id"] for p in page["elements"] + rest["elements"]]
    assert set(made) <= set(ids)
    assert len(ids) == len(set(ids))


def test_tokens_are_checked_and_a_throttle_is_a_429_without_headers(li):
    bad = li.get(f"/organizations/{ORG}", token="sandbox-linkedin-stolen",
                 headers=versioned(li))
    assert (bad.status_code, bad.json()["code"], bad.json()["serviceErrorCode"]) \
        == (401, "INVALID_ACCESS_TOKEN", 65600)
    li.fault("rate_limit", "publish")
    throttled = create(li)
    assert (throttled.status_code, throttled.json()["code"]) == (
        429, "TOO_MANY_REQUESTS")
    assert not [h for h in throttled.headers if "ratelimit" in h.replace("-", "")]
    assert li.published() == []
    assert create(li).status_code == 201


@pytest.mark.parametrize("query", [{"start": "først"}, {"count": "alle"}])
def test_a_paging_value_that_is_no_number_is_a_400(li, query):
    refused = li.get("/posts", headers=versioned(li),
                     params={"q": "author", "author": AUTHOR, **query})
    assert refused.status_code == 400
    assert (refused.json()["status"], refused.json()["serviceErrorCode"]) == (400, 100)
