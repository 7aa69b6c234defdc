from __future__ import annotations

import pytest

from kanal.planning.models import Post, PostStatus

pytestmark = pytest.mark.django_db


def test_demo_loads_posts_in_each_state_and_is_idempotent(settings, tmp_path):
    from kanal.demo import load_demo

    organisation = load_demo()
    states = set(
        Post.objects.filter(organisation=organisation).values_list("status", flat=True)
    )
    expected = {
        PostStatus.PROPOSAL,
        PostStatus.CHANGES_REQUESTED,
        PostStatus.DECLINED,
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
        PostStatus.PUBLISHED,
        PostStatus.PARTIALLY_PUBLISHED,
        PostStatus.FAILED,
        PostStatus.MISSED,
        PostStatus.CANCELLED,
    }
    assert expected <= states
    count = Post.objects.count()
    load_demo()
    assert Post.objects.count() == count
