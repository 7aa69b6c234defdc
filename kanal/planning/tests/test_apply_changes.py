"""The editing actions' shared start (``actions.apply_changes``): a field
an action does not know is refused before anything is set."""

from __future__ import annotations

import pytest

from kanal.planning import actions
from kanal.planning.models import Post, Variant

pytestmark = pytest.mark.django_db


def test_changes_are_set_and_returned_as_old_and_new(desk, soon):
    post = actions.create_post(actor=desk.editor, title="Bibliotek",
                               shared_text="Læs", planned_at=soon,
                               channels=[desk.channels["facebook"]])
    changed = actions.apply_changes(
        post, {"title": "Biblioteket", "shared_text": "Læs"},
        ("title", "shared_text"), what="post",
    )
    assert changed == {"title": ["Bibliotek", "Biblioteket"]}
    assert post.title == "Biblioteket"


def test_an_unknown_variant_field_changes_nothing(desk, soon):
    post = actions.create_post(actor=desk.editor, title="Bibliotek",
                               shared_text="Læs", planned_at=soon,
                               channels=[desk.channels["facebook"]])
    channel_id = desk.channels["facebook"].pk
    with pytest.raises(ValueError, match="Unknown variant fields"):
        actions.update_post(post, actor=desk.editor, variants={
            channel_id: {"text": "Ny tekst", "colour": "rød"}})
    variant = Variant.objects.get(post=post)
    assert variant.text != "Ny tekst"
    assert Post.objects.get(pk=post.pk).version == post.version
