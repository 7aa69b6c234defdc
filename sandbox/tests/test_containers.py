"""A container published twice at once makes one post (issue 9, finding 12).

The emulator waits its simulated latency before it reads the container; a
second publish of the same container that waited meanwhile must then see it
published, as Threads and Instagram do, instead of both making a post.
"""

import asyncio

import httpx

from sandbox.app import create_app
from sandbox.core import SandboxConfig

ACCOUNT = "26000000000000001"
TOKEN = "sandbox-threads-token-kk"


def test_two_publishes_of_one_threads_container_make_one_post(tmp_path):
    app = create_app(SandboxConfig(db_path=str(tmp_path / "s.sqlite3"),
                                   networks=("threads",), latency_ms=150,
                                   seed=3))

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://127.0.0.1:8765") as client:
            made = await client.post(
                f"/threads/v1.0/{ACCOUNT}/threads",
                data={"media_type": "TEXT", "text": "Havnebadet åbner",
                      "access_token": TOKEN})
            assert made.status_code == 200, made.text
            container = made.json()["id"]
            return await asyncio.gather(*(
                client.post(f"/threads/v1.0/{ACCOUNT}/threads_publish",
                            data={"creation_id": container,
                                  "access_token": TOKEN})
                for _ in range(2)))

    answers = asyncio.run(run())

    assert sorted(a.status_code for a in answers) == [200, 400]
    refused = next(a for a in answers if a.status_code == 400)
    assert "already been published" in refused.json()["error"]["message"]
    assert len(app.state.ctx.store.published("threads", ACCOUNT)) == 1
