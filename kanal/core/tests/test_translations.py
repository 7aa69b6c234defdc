"""Nothing a person reads is left untranslated, read from the source.

- The English catalogue is complete: no empty or fuzzy ``msgstr``, and
  ``makemessages`` run now would add no msgid (every wrapped string is in it).
- Templates: text between tags (and the attributes a person reads or hears:
  ``title``, ``aria-label``, ``placeholder``, ``alt``) lies inside
  ``{% translate %}``/``{% blocktranslate %}``; ``default:"…"`` with words in a
  variable is text too.
- Python: the messages, validation errors, labels and choices shown to people
  are wrapped in ``gettext``.

The pages as rendered per role and language are checked in
``test_translations_rendered``.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings

from kanal.core.tests import catalogue

ROOT = catalogue.ROOT
KANAL = ROOT / "kanal"
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

# Names and symbols that are the same in every language.
SAME_IN_EVERY_LANGUAGE = {
    "Kanal",
    "Facebook",
    "Instagram",
    "X",
    "Mastodon",
    "Bluesky",
    "LinkedIn",
    "Threads",
    "CSV",
    "UTM",
    "iCal",
    "Twitter",
    "px",
    "https",
    "http",
}


def test_english_catalogue_has_no_empty_or_fuzzy_msgstr():
    entries = catalogue.read()
    assert len(entries) > 500
    empty = [e.msgid for e in entries if not all(e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not empty, f"{len(empty)} msgids without English: {empty[:20]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries: {fuzzy[:20]}"


def test_makemessages_would_add_nothing(tmp_path, monkeypatch):
    """``makemessages`` into an empty copy finds exactly the catalogue's msgids
    (a string wrapped since the last ``make messages`` is missing from it)."""
    monkeypatch.chdir(ROOT)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command(
            "makemessages",
            locale=["en"],
            no_location=True,
            no_obsolete=True,
            ignore_patterns=[
                ".venv/*",
                "sandbox/*",
                "bench/*",
                "node_modules/*",
                "kanal/locale",
            ],
            verbosity=0,
        )
    fresh = catalogue.read(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")
    assert len(fresh) > 500
    known = {e.key for e in catalogue.read()}
    missing = sorted(
        (e.msgid if e.msgctxt is None else f"{e.msgctxt}|{e.msgid}")
        for e in fresh
        if e.key not in known
    )
    assert not missing, (
        f"{len(missing)} wrapped strings are not in the English catalogue "
        f"(run `make messages` and translate them): {missing[:20]}"
    )


# ---------------------------------------------------------------------------
# Templates

TEMPLATES = sorted(
    p
    for p in KANAL.rglob("templates/**/*")
    if p.suffix in (".html", ".txt") and p.is_file()
)
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "aria-description"}
# Text a machine reads (code, the CSV's column names) stays as it is.
MACHINE_TEXT = ("script", "style", "code", "kbd", "samp")
# Identifiers given as a variable's default.
IDENTIFIERS = {"form"}
# A translated tag or a variable stands in for text: "\x00".
HOLE = "\x00"
DEFAULT_LITERAL = re.compile(r"""\|default(?:_if_none)?:(["'])(.*?)\1""")


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in MACHINE_TEXT:
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.found.append(value)

    def handle_endtag(self, tag):
        if tag in MACHINE_TEXT and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def _words(text: str) -> str:
    words = [
        w
        for w in re.split(r"[\s\x00]+", text)
        if LETTER.search(w)
        and w.strip(".,:;()«»!?·–-") not in SAME_IN_EVERY_LANGUAGE
        # a URL, or a tag whose name is a variable (<h{{ level }}>)
        and "://" not in w
        and not w.startswith("<")
    ]
    return " ".join(words)


def untranslated_template_text(source: str) -> list[str]:
    """The text of a template that a person reads and no translate tag covers."""
    out = []
    flat = []
    depth = {"blocktranslate": 0, "comment": 0}
    for token in Lexer(source).tokenize():
        content = token.contents.strip()
        name = content.split(" ", 1)[0] if content else ""
        if token.token_type == TokenType.BLOCK:
            if name in ("blocktranslate", "blocktrans"):
                depth["blocktranslate"] += 1
                flat.append(HOLE)
            elif name in ("endblocktranslate", "endblocktrans"):
                depth["blocktranslate"] -= 1
            elif name == "comment":
                depth["comment"] += 1
            elif name == "endcomment":
                depth["comment"] -= 1
            elif name in ("translate", "trans", "url", "static", "csrf_token"):
                flat.append(HOLE)
            continue
        if depth["blocktranslate"] or depth["comment"]:
            continue
        if token.token_type == TokenType.VAR:
            for _quote, literal in DEFAULT_LITERAL.findall(token.contents):
                if _words(literal) and literal not in IDENTIFIERS:
                    out.append(f"default:{literal!r}")
            flat.append(HOLE)
        elif token.token_type == TokenType.TEXT:
            flat.append(token.contents)
    parser = _TextCollector()
    parser.feed("".join(flat))
    parser.close()
    out.extend(w for w in (_words(t) for t in parser.found) if w)
    return out


def test_template_lint_finds_untranslated_text():
    """The lint itself: it sees bare text and attributes, not translated ones."""
    found = untranslated_template_text(
        '{% load i18n %}<p>Gem kladde</p><button aria-label="Luk">×</button>'
        '<p>{% translate "Gem" %} · Kanal</p><p>{% blocktranslate %}Hej '
        '{{ n }}{% endblocktranslate %}</p>{{ x|default:"system" }}'
        "<script>const a = 'ok';</script>{# Kommentar #}"
    )
    assert found == ["default:'system'", "Gem kladde", "Luk"]


@pytest.mark.parametrize(
    "path", TEMPLATES, ids=[str(p.relative_to(KANAL)) for p in TEMPLATES]
)
def test_template_text_is_translated(path: Path):
    found = untranslated_template_text(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: untranslated text {found}"


# ---------------------------------------------------------------------------
# Python

GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "_lazy",
    "gettext_noop",
    "format_lazy",
}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error", "add_message"}
RAISED_WITH_TEXT = {"ValidationError", "InvalidInput", "PermissionDenied", "Http404"}
LABEL_KEYWORDS = {"verbose_name", "verbose_name_plural", "label", "help_text"}
PYTHON = sorted(
    p
    for p in KANAL.rglob("*.py")
    if "tests" not in p.parts
    and "migrations" not in p.parts
    # The network package imports nothing of Django: its problems carry a
    # code, worded for people by kanal.channels.wording.
    and "networks" not in p.parts
    and "management" not in p.parts
)


def _is_text(node) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_words(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_text(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _is_text(node.left)
    return False


def _name(func) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def untranslated_python_text(source: str) -> list[str]:
    """Literal text a person reads that reaches them without gettext."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            owner = node.func.value if isinstance(node.func, ast.Attribute) else None
            is_message = (
                name in MESSAGE_LEVELS
                and isinstance(owner, ast.Name)
                and owner.id == "messages"
            )
            if is_message and len(node.args) >= 2 and _is_text(node.args[-1]):
                found.append(f"line {node.lineno}: messages.{name}(…)")
            if name in RAISED_WITH_TEXT and node.args and _is_text(node.args[0]):
                found.append(f"line {node.lineno}: {name}(…)")
            # Kanal's own problems beside the networks' (code, message, …).
            problem_text = node.args[1:2] + [
                k.value for k in node.keywords if k.arg == "message"
            ]
            if name == "ValidationProblem" and any(map(_is_text, problem_text)):
                found.append(f"line {node.lineno}: {name}(…)")
            for keyword in node.keywords:
                if keyword.arg in LABEL_KEYWORDS and _is_text(keyword.value):
                    found.append(f"line {node.lineno}: {keyword.arg}=…")
                if keyword.arg == "choices" and isinstance(
                    keyword.value, (ast.List, ast.Tuple)
                ):
                    for pair in keyword.value.elts:
                        if isinstance(pair, ast.Tuple) and _is_text(pair.elts[-1]):
                            found.append(f"line {pair.lineno}: choices label")
        if isinstance(node, ast.ClassDef) and any(
            _name(b) in ("TextChoices", "IntegerChoices") for b in node.bases
        ):
            for statement in node.body:
                value = getattr(statement, "value", None)
                if (
                    isinstance(statement, ast.Assign)
                    and isinstance(value, ast.Tuple)
                    and _is_text(value.elts[-1])
                ):
                    found.append(f"line {statement.lineno}: {node.name} label")
    return found


EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def _eager_names(tree) -> set[str]:
    """The names under which a module imports gettext that translates now."""
    names = set()
    for node in tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "django.utils.translation"
        ):
            names |= {a.asname or a.name for a in node.names if a.name in EAGER}
    return names


def translated_at_import(source: str) -> list[str]:
    """``gettext`` called outside any function runs once, at import, in the
    default language: a reader of English gets Danish. Use ``gettext_lazy``."""
    tree = ast.parse(source)
    eager = _eager_names(tree)
    found = []

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in eager
        ):
            found.append(f"line {node.lineno}: {node.func.id}(…) at import")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_import_time_lint_finds_eager_gettext():
    found = translated_at_import(
        "from django.utils.translation import gettext as _\n"
        "from django.utils.translation import gettext_lazy\n"
        'LABELS = {"queued": _("I kø"), "failed": gettext_lazy("Fejlet")}\n'
        "def view():\n"
        '    return _("Gemt.")\n'
    )
    assert found == ["line 3: _(…) at import"]


@pytest.mark.parametrize(
    "path", PYTHON, ids=[str(p.relative_to(KANAL)) for p in PYTHON]
)
def test_python_text_is_not_translated_at_import(path: Path):
    found = translated_at_import(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: {found}"


def test_python_lint_finds_untranslated_text():
    found = untranslated_python_text(
        "class Status(models.TextChoices):\n"
        '    QUEUED = "queued", "I kø"\n'
        '    DONE = "done", _("Færdig")\n'
        'messages.success(request, "Gemt.")\n'
        'messages.success(request, _("Gemt."))\n'
        'raise ValidationError(f"For lang: {n}")\n'
        'raise InvalidInput(_("For lang"))\n'
        'x = models.CharField(verbose_name="navn", max_length=3)\n'
        'y = forms.ChoiceField(choices=[("a", "Alle"), ("b", _("Ingen"))])\n'
        'p = ValidationProblem("empty", "Varianten er tom.")\n'
        'q = ValidationProblem("empty", _("Varianten er tom."))\n'
    )
    assert found == [
        "line 2: Status label",
        "line 4: messages.success(…)",
        "line 6: ValidationError(…)",
        "line 8: verbose_name=…",
        "line 9: choices label",
        "line 10: ValidationProblem(…)",
    ]


@pytest.mark.parametrize(
    "path", PYTHON, ids=[str(p.relative_to(KANAL)) for p in PYTHON]
)
def test_python_text_is_translated(path: Path):
    found = untranslated_python_text(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: untranslated text {found}"


def test_the_catalogue_never_retranslates_djangos_own_english():
    """Kanal's English catalogue is searched before Django's. A Danish source
    word that is also one of Django's English messages ("Sat", placed, is
    Saturday's abbreviation) would otherwise rename it everywhere: dates in
    English read "Placed 12 Dec"."""
    from pathlib import Path

    import django
    import polib

    root = Path(django.__file__).parent
    django_ids = {
        (e.msgctxt, e.msgid)
        for po in root.glob("**/locale/en/LC_MESSAGES/*.po")
        for e in polib.pofile(str(po))
    }
    ours = polib.pofile(
        str(Path(__file__).resolve().parents[2] / "locale/en/LC_MESSAGES/django.po")
    )
    clashes = [
        (e.msgid, e.msgstr) for e in ours
        if not e.obsolete and (e.msgctxt, e.msgid) in django_ids
        and e.msgstr and e.msgstr != e.msgid
    ]
    assert not clashes, f"Kanal's catalogue renames Django's messages: {clashes}"
