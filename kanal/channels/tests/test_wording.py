"""Every problem a network finds reads in the reader's language.

The adapters (``kanal.channels.networks``) import nothing of Django and word
their problems in Danish for the logs; ``kanal.channels.wording`` words each
code, with its numbers, through gettext.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation

from kanal.channels.networks import REGISTRY, adapter_class
from kanal.channels.networks.base import Connection, MediaItem, OutgoingPost
from kanal.channels.wording import WORDINGS, problem_text

NETWORKS = Path(__file__).resolve().parents[1] / "networks"


def emitted_codes() -> set[str]:
    """Every code an adapter can put in a ValidationProblem, read from the source."""
    codes = set()
    for path in NETWORKS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and (
                    getattr(node.func, "id", "") == "ValidationProblem"
                    or getattr(node.func, "attr", getattr(node.func, "id", ""))
                    == "problem"
                )
            ):
                continue
            given = [k.value for k in node.keywords if k.arg == "code"]
            given += node.args[:1]
            while given:
                value = given.pop()
                if isinstance(value, ast.IfExp):  # "video_too_large" if … else …
                    given += [value.body, value.orelse]
                elif isinstance(value, ast.Constant):
                    codes.add(value.value)
    return codes


def test_every_code_an_adapter_emits_has_a_wording():
    codes = emitted_codes()
    assert {"text_too_long", "alt_text_missing", "media_required"} <= codes
    assert not sorted(codes - set(WORDINGS))


BIG = b"\0" * 12_000_000
TROUBLE = [
    OutgoingPost(
        text="a" * 70_000
        + " #"
        + "t" * 100
        + " @a" * 30
        + " #x" * 40
        + "".join(f" https://{n}.example/" for n in "abcdefg"),
    ),
    OutgoingPost(text=""),
    OutgoingPost(text="Hej \ufeff"),
    OutgoingPost(
        text="Billeder",
        media=tuple(
            MediaItem("image", "image/tiff", data=BIG, width=30_000, height=100)
            for _ in range(25)
        ),
    ),
    OutgoingPost(
        text="Video og billede",
        media=(
            MediaItem("video", "video/mp4", duration_seconds=1, public_url="https://v"),
            MediaItem(
                "image", "image/jpeg", alt_text="Et billede", public_url="https://i"
            ),
        ),
    ),
    OutgoingPost(
        text="Videoer",
        media=(
            MediaItem("video", "video/x-msvideo", duration_seconds=100_000),
            MediaItem("video", "video/mp4", duration_seconds=1),
        ),
    ),
    OutgoingPost(
        text="GIF",
        media=(
            MediaItem("image", "image/gif", alt_text="GIF", public_url="https://g"),
            MediaItem(
                "image", "image/png", alt_text="x" * 5000, public_url="https://p"
            ),
        ),
    ),
]


def _problems(network):
    adapter = adapter_class(network)(
        Connection(network=network, base_url="http://127.0.0.1:9")
    )
    return [p for post in TROUBLE for p in adapter.validate(post)]


@pytest.mark.parametrize("network", sorted(REGISTRY))
def test_every_problem_reads_in_english_with_its_numbers(network):
    problems = _problems(network)
    assert len({p.code for p in problems}) >= 4
    with translation.override("en"):
        for problem in problems:
            text = problem_text(problem, network)
            assert text != problem.message, (problem.code, text)
            assert "%(" not in text and "None" not in text, text
    with translation.override("da"):
        for problem in problems:
            assert "%(" not in problem_text(problem, network)


def test_x_text_too_long_in_both_languages():
    [problem] = [p for p in _problems("x") if p.code == "text_too_long"]
    actual, over = problem.actual, problem.actual - problem.limit
    assert actual > 10_000 and over > 10_000
    with translation.override("en"):
        assert problem_text(problem, "x") == (
            f"The text is {actual:,} characters, but X (Twitter) allows at "
            f"most 280. Shorten it by {over:,} characters."
        )
    danish_actual = f"{actual:,}".replace(",", ".")
    danish_over = f"{over:,}".replace(",", ".")
    with translation.override("da"):
        assert problem_text(problem, "x") == (
            f"Teksten fylder {danish_actual} tegn, men X (Twitter) tillader "
            f"højst 280. Forkort den med {danish_over} tegn."
        )


def test_wrong_format_names_the_file_and_the_formats():
    problem = next(p for p in _problems("facebook") if p.code == "media_format")
    with translation.override("en"):
        assert problem_text(problem, "facebook") == (
            "File 1 is in image/tiff format, which Facebook does not accept. "
            "Use GIF, JPEG, PNG, WebP."
        )


ERRORS = {
    "NetworkError",
    "TransientError",
    "RateLimited",
    "QuotaExhausted",
    "AuthExpired",
    "Rejected",
    "Duplicate",
    "OutcomeUnknown",
    "NotSupported",
}


def unmarked_error_sentences(source: str) -> list[str]:
    """Sentences an adapter raises without ``gettext_noop``: the catalogue
    would not have them, so English readers would get Danish."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ERRORS:
            given = node.args[:1] + [
                k.value for k in node.keywords if k.arg == "message"
            ]
            for value in given:
                if isinstance(value, ast.Constant) and " " in str(value.value):
                    found.append(f"line {node.lineno}: {value.value[:40]}…")
    return found


def test_the_lint_finds_an_unmarked_sentence():
    assert unmarked_error_sentences(
        'raise Rejected("Netværket afviste opslaget.", network="x")\n'
        'raise Rejected(gettext_noop("Netværket afviste det."), network="x")\n'
    ) == ["line 1: Netværket afviste opslaget.…"]


@pytest.mark.parametrize("path", sorted(NETWORKS.glob("*.py")), ids=lambda p: p.name)
def test_every_error_sentence_is_marked_for_translation(path):
    assert not unmarked_error_sentences(path.read_text(encoding="utf-8"))


def test_network_errors_read_in_english_on_the_channel_and_the_publication():
    from kanal.channels.networks.errors import AuthExpired, Rejected
    from kanal.channels.wording import network_sentence
    from kanal.publishing.outcomes import render_reason

    with translation.override("en"):
        assert network_sentence(Rejected().message) == (
            "The network refused the post. Correct the content and try again."
        )
        assert render_reason("rejected", {"why": Rejected().message}) == (
            "The network refused the post. Correct the content and try again."
        )
        assert network_sentence(AuthExpired().message).startswith("Access to the")
    with translation.override("da"):
        assert network_sentence(Rejected().message) == Rejected().message


def test_a_publication_without_a_reason_code_shows_its_error_translated():
    from kanal.channels.networks.errors import Rejected
    from kanal.publishing.models import Publication

    publication = Publication(last_error=Rejected().message)
    with translation.override("en"):
        assert publication.reason == (
            "The network refused the post. Correct the content and try again."
        )


@pytest.mark.parametrize("path", sorted(NETWORKS.glob("*.py")), ids=lambda p: p.name)
def test_the_network_package_imports_nothing_of_django(path):
    imported = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            imported.append(node.module or "")
    # kanal.untrusted is plain Python (the rules for values from outside),
    # with an import contract of its own that keeps Django out of it.
    allowed = ("kanal.channels.networks", "kanal.untrusted")
    outside = [
        name
        for name in imported
        if name.split(".")[0] == "django"
        or (name.startswith("kanal.") and not name.startswith(allowed))
    ]
    assert not outside, f"{path.name} imports {outside}"


def test_quota_hashtag_budget_and_duplicate_sentences_read_in_english():
    """Sentences once built with numbers or ids in them (so the catalogue
    could never hold them) are fixed sentences now; the details go with the
    error for support."""
    from kanal.channels.networks import instagram, linkedin
    from kanal.channels.wording import network_sentence

    sources = {
        "graph.py": "daglige kvote", "instagram.py": "30 forskellige hashtags",
        "linkedin.py": "magen til et opslag",
    }
    for name, words in sources.items():
        text = (NETWORKS / name).read_text(encoding="utf-8")
        start = text.index(words)
        sentence = text[text.rindex("gettext_noop(", 0, start):start]
        assert "f\"" not in sentence, name
    assert instagram.HASHTAG_BUDGET == 30
    assert linkedin  # the module imports
    with translation.override("en"):
        english = network_sentence(
            "LinkedIn afviste opslaget, fordi det er magen til et opslag, siden "
            "allerede har udgivet. Tjek først siden; ret kun teksten, hvis "
            "opslaget ikke er der."
        )
    assert english.startswith("LinkedIn refused the post because")
