"""Every URL × every role: the answer each gets, as the policies say.

``MATRIX`` lists each named URL with how to call it and the expected answer
per role. ``test_every_url_is_in_the_matrix`` fails when a URL is added
without an entry here, so no page escapes the check.

Answers: 200/302 (allowed; 302 for a POST that did its work or a redirect),
403 (seen but not allowed), 404 (not theirs to see), "login" (anonymous:
redirected to the login page), 405 (wrong method).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.core.tests.headers import assert_security_headers
from kanal.insights.models import ExportJob, RenderedReport
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import (
    AdministrationFactory,
    MembershipFactory,
    OrganisationFactory,
)
from kanal.planning.tests.test_permissions import CASES as PLANNING_CASES
from kanal.publishing.actions import queue_publication
from kanal.publishing.models import CrisisTemplate, Publication, PublicationStatus
from kanal.records.tests.test_permissions import CASES as RECORDS_CASES
from kanal.sources.models import Source, SourceItem, Suggestion

ROLES = [
    "anonymous",
    "admin",
    "editor",
    "approver",
    "contributor",
    "crisis_lead",
    "analyst",
    "other_org_admin",
]
ALL_MEMBERS = {r: 200 for r in ROLES if r != "anonymous"}


def _everyone(answer, **overrides):
    return {"anonymous": "login", **{r: answer for r in ROLES[1:]}, **overrides}


def _admin_only(allowed=200, *, other_org=None):
    return _everyone(403, admin=allowed, other_org_admin=other_org or allowed)


@dataclass
class Case:
    name: str
    expect: dict
    method: str = "get"
    kwargs: dict = field(default_factory=dict)  # values name world objects
    data: dict = field(default_factory=dict)


MATRIX = [
    Case("dashboard", _everyone(200)),
    # Each member's own notifications (an id of another member's changes
    # nothing: kanal/notifications/tests).
    Case("notifications:list", _everyone(200)),
    Case("notifications:mark_read", _everyone(302), method="post",
         data={"alle": "1"}),
    Case("notifications:preferences", _everyone(200)),
    Case("channel_list", _everyone(200)),
    Case("channel_create", _admin_only()),
    Case(
        "channel_detail", _everyone(200, other_org_admin=404), kwargs={"pk": "channel"}
    ),
    Case("channel_edit", _admin_only(other_org=404), kwargs={"pk": "channel"}),
    Case("channel_credentials", _admin_only(other_org=404), kwargs={"pk": "channel"}),
    Case("channel_strategy", _admin_only(other_org=404), kwargs={"pk": "channel"}),
    Case(
        "channel_disable",
        _admin_only(302, other_org=404),
        method="post",
        kwargs={"pk": "channel"},
    ),
    Case(
        "channel_enable",
        _admin_only(302, other_org=404),
        method="post",
        kwargs={"pk": "channel"},
    ),
    Case("member_list", _admin_only()),
    Case("member_create", _admin_only()),
    # Non-admins see only their own membership: another's is 404; the
    # contributor's own is visible but not theirs to change (403).
    Case(
        "member_edit",
        _everyone(404, admin=200, contributor=403),
        kwargs={"pk": "contributor"},
    ),
    Case(
        "member_set_active",
        _everyone(404, admin=302, contributor=403),
        method="post",
        kwargs={"pk": "contributor"},
        data={"active": "1"},
    ),
    Case(
        "member_reset_two_factor",
        _everyone(404, admin=302, contributor=403),
        method="post",
        kwargs={"pk": "contributor"},
    ),
    Case("audit_list", _admin_only()),
    Case("organisation_settings", _admin_only()),
    Case("single_sign_on_settings", _admin_only()),
    Case(
        "member_identity",
        _everyone(404, admin=302, contributor=403),
        method="post",
        kwargs={"pk": "contributor"},
        data={"subject": "s-1"},
    ),
    # The installation's superusers only; nobody else learns it exists.
    Case("installation_organisations", {r: 404 for r in ROLES}),
    Case(
        "switch_organisation", _everyone(302), method="post", data={"organisation": "0"}
    ),
    Case("publishing:operations", _everyone(200, contributor=403, analyst=403)),
    *[
        Case(
            f"publishing:{name}",
            _everyone(
                403,
                admin=302,
                editor=302,
                contributor=404,
                analyst=404,
                other_org_admin=404,
            ),
            method="post",
            kwargs={"pk": "publication"},
            data=data,
        )
        for name, data in (
            ("retry", {}),
            ("reschedule", {"planned_at": "2099-01-01T10:00"}),
            ("cancel", {}),
            ("mark_published", {"url": "https://facebook.com/kk/posts/1"}),
        )
    ],
    Case("publishing:crisis", _everyone(200)),
    # Insights: the desk, administrators and analysts; an export job is only
    # its requester's.
    *[
        Case(name, _everyone(403, admin=200, editor=200, analyst=200,
                             other_org_admin=200), kwargs=kwargs)
        for name, kwargs in [
            ("insights:overview", {}),
            ("insights:cadence", {}),
            ("insights:dialogue", {}),
            ("insights:hashtags", {}),
            ("insights:monthly_report", {}),
            ("insights:quarterly_report", {}),
            ("insights:reports", {}),
            ("insights:breakdown", {"dimension": "dimension"}),
        ]
    ],
    Case("insights:publication",
         _everyone(403, admin=200, editor=200, analyst=200, other_org_admin=404),
         kwargs={"pk": "published"}),
    Case("insights:export",
         _everyone(403, admin=200, editor=200, analyst=200, other_org_admin=200),
         method="post", data={"tabel": "channels", "format": "csv"}),
    *[
        Case(name, _everyone(403, admin=200, editor=404, analyst=404,
                             other_org_admin=404), kwargs={"pk": "export_job"})
        for name in ("insights:export_job", "insights:export_download")
    ],
    Case("insights:stored_report",
         _everyone(403, admin=200, editor=200, analyst=200, other_org_admin=404),
         kwargs={"pk": "rendered_report"}),
    # Media is public by unguessable URL (tested in planning); unknown is 404.
    Case("media_file", {r: 404 for r in ROLES}, kwargs={"name": "missing_media"}),
    Case(
        "publishing:crisis_start",
        _everyone(403, admin=302, editor=302, crisis_lead=302, other_org_admin=302),
        method="post",
        data={"reason": "Storm", "scope": "all"},
    ),
    Case(
        "publishing:crisis_end",
        _everyone(403, admin=302, editor=302, crisis_lead=302, other_org_admin=302),
        method="post",
    ),
    # An empty message is refused with the page and what was typed (400).
    Case(
        "publishing:crisis_message",
        _everyone(403, admin=400, crisis_lead=400, other_org_admin=400),
        method="post",
        data={"text": ""},
    ),
    Case(
        "publishing:crisis_unpin",
        _everyone(403, admin=302, editor=302, crisis_lead=302, other_org_admin=302),
        method="post",
    ),
    Case(
        "publishing:crisis_versions",
        _everyone(403, admin=200, editor=200, crisis_lead=200, other_org_admin=200),
        method="post",
        data={"text": "Storm", "kind": "message"},
    ),
    # Crisis templates: kept by the desk (crisis.manage), per organisation.
    Case(
        "publishing:crisis_templates",
        _everyone(403, admin=200, editor=200, crisis_lead=200, other_org_admin=200),
    ),
    Case(
        "publishing:crisis_template_create",
        _everyone(403, admin=200, editor=200, crisis_lead=200, other_org_admin=200),
    ),
    Case(
        "publishing:crisis_templates_install",
        _everyone(403, admin=302, editor=302, crisis_lead=302, other_org_admin=302),
        method="post",
    ),
    *[
        Case(
            f"publishing:{name}",
            _everyone(404, admin=200, editor=200, crisis_lead=200),
            kwargs={"pk": "crisis_template"},
        )
        for name in ("crisis_template_edit", "crisis_template_delete")
    ],
    # Sources and their suggestions: the desk (posts.plan), per organisation.
    *[
        Case(
            f"sources:{name}",
            _everyone(403, admin=200, editor=200, other_org_admin=200),
        )
        for name in ("suggestions", "source_list", "source_create", "tone")
    ],
    *[
        Case(
            f"sources:{name}",
            _everyone(403, admin=200, editor=200, other_org_admin=404),
            kwargs={"pk": obj},
        )
        for name, obj in (
            ("source_detail", "source"),
            ("source_edit", "source"),
            ("suggestion_edit", "suggestion"),
        )
    ],
    *[
        Case(
            f"sources:{name}",
            _everyone(403, admin=302, editor=302, other_org_admin=404),
            method="post",
            kwargs={"pk": obj},
        )
        for name, obj in (
            ("source_fetch", "source"),
            ("source_pause", "source"),
            ("suggestion_accept", "suggestion"),
            ("suggestion_repost", "suggestion"),
            ("suggestion_dismiss", "suggestion"),
        )
    ],
    # The inbox: the desk sees all of it; a contributor what is assigned to
    # their administration (BUF); the crisis lead reads all of it and changes
    # nothing (403); other roles have no inbox.
    Case("inbox:list", _everyone(403, admin=200, editor=200, contributor=200,
                                 crisis_lead=200, other_org_admin=200)),
    Case("inbox:updates", _everyone(403, admin=200, editor=200, contributor=200,
                                    crisis_lead=200, other_org_admin=200)),
    Case("inbox:detail", _everyone(404, admin=200, editor=200, contributor=200,
                                   crisis_lead=200),
         kwargs={"pk": "conversation"}),
    Case("inbox:detail", _everyone(404, admin=200, editor=200, crisis_lead=200),
         kwargs={"pk": "new_conversation"}),
    Case("inbox:assign", _everyone(404, admin=302, editor=302, contributor=403,
                                   crisis_lead=403),
         method="post", kwargs={"pk": "conversation"}, data={"administration": ""}),
    Case("inbox:status", _everyone(404, admin=302, editor=302, contributor=302,
                                   crisis_lead=403),
         method="post", kwargs={"pk": "conversation"}, data={"status": "waiting"}),
    Case("inbox:note", _everyone(404, admin=302, editor=302, contributor=302,
                                 crisis_lead=403),
         method="post", kwargs={"pk": "conversation"}, data={"text": "Set."}),
    Case("inbox:reply", _everyone(404, admin=400, editor=400, contributor=400,
                                  crisis_lead=403),
         method="post", kwargs={"pk": "conversation"}, data={"text": ""}),
    Case("inbox:reply_length", _everyone(404, admin=200, editor=200,
                                         contributor=200, crisis_lead=403),
         method="post", kwargs={"pk": "conversation"}, data={"text": "Tak"}),
    Case("inbox:moderate", _everyone(404, admin=302, editor=302, contributor=403,
                                     crisis_lead=403),
         method="post", kwargs={"pk": "inbox_item"}, data={"action": "hide"}),
    # Like: whoever may reply or moderate (the contributor answers BUF's).
    Case("inbox:like", _everyone(404, admin=302, editor=302, contributor=302,
                                 crisis_lead=403),
         method="post", kwargs={"pk": "inbox_item"}, data={"liked": "?"}),
    Case("inbox:settings", _admin_only()),
    Case("inbox:rule_delete", _admin_only(302, other_org=404), method="post",
         kwargs={"pk": "assignment_rule"}),
    Case("inbox:standard_answers", _everyone(403, admin=200, editor=200,
                                             contributor=200, other_org_admin=200)),
    Case("inbox:standard_answer_edit",
         _everyone(404, admin=200, editor=200, contributor=403, crisis_lead=403),
         kwargs={"pk": "standard_answer"}),
    # Deleting asks first (GET), then deletes (POST).
    Case("inbox:standard_answer_delete",
         _everyone(404, admin=200, editor=200, contributor=403, crisis_lead=403),
         kwargs={"pk": "standard_answer"}),
    Case("inbox:standard_answer_delete",
         _everyone(404, admin=302, editor=302, contributor=403, crisis_lead=403),
         method="post", kwargs={"pk": "standard_answer"}),
    Case("inbox:referrals", _everyone(403, admin=200, editor=200,
                                      contributor=200, other_org_admin=200)),
    Case("inbox:referral_edit",
         _everyone(404, admin=200, editor=200, contributor=403, crisis_lead=403),
         kwargs={"pk": "referral"}),
    Case("inbox:referral_delete",
         _everyone(404, admin=200, editor=200, contributor=403, crisis_lead=403),
         kwargs={"pk": "referral"}),
    Case("inbox:referral_delete",
         _everyone(404, admin=302, editor=302, contributor=403, crisis_lead=403),
         method="post", kwargs={"pk": "referral"}),
    # Account pages: open to everyone (they are how one gets in).
    Case("login", {r: 200 for r in ROLES} | {r: 302 for r in ROLES[1:]}),
    Case("login_token", {r: 302 for r in ROLES}),
    # Single sign-on: no identity provider is set up in this world, and a
    # return without a sign-in started here is refused.
    Case("sso_start", {r: 404 for r in ROLES}, kwargs={"slug": "org_slug"}),
    Case("sso_callback", {r: 400 for r in ROLES}),
    Case("logout", {r: 302 for r in ROLES}, method="post"),
    Case("two_factor_setup", _everyone(200) | {"anonymous": 302}),
    Case("password_forgot", {r: 200 for r in ROLES}),
    Case("password_forgot_done", {r: 200 for r in ROLES}),
    Case(
        "password_set",
        {r: 200 for r in ROLES},
        kwargs={"uidb64": "uid", "token": "token"},
    ),
    Case("password_set_done", {r: 200 for r in ROLES}),
    # The accessibility statement: public, for everyone.
    Case("accessibility_statement", {r: 200 for r in ROLES}),
    Case("accessibility_statement_short", {r: 302 for r in ROLES}),
]

# Not Kanal's pages: the language switch, and the verification step of
# channel connections (network call).
# The probes and the metrics answer machines, not roles: no login, the same
# for everyone (metrics: a token or this machine only). Their access is
# tested in kanal/operations/tests/test_health_metrics.py.
EXEMPT = {"set_language", "channel_verify", "healthz", "readyz", "metrics"}
# Signed webhooks answer the networks, not roles (kanal/inbox/tests).
EXEMPT_NAMESPACES: set[str] = {"inbox_webhooks"}


@pytest.fixture
def world(db):
    organisation = OrganisationFactory(slug="kk", name="Københavns Kommune")
    kff = AdministrationFactory(organisation=organisation, code="KFF")
    buf = AdministrationFactory(organisation=organisation, code="BUF")
    members = {
        role: MembershipFactory(
            organisation=organisation,
            administration=buf if role == Role.CONTRIBUTOR else kff,
            role=role,
        )
        for role in Role.values
    }
    other = MembershipFactory(role=Role.ADMIN)  # another organisation
    channel = ChannelFactory(organisation=organisation, owner_administration=kff)
    publication = queue_publication(
        actor=None,
        organisation=organisation,
        channel=channel,
        planned_at=timezone.now() + timedelta(hours=2),
        post_id=None,
        variant_id=None,
        revision_id=None,
        text="Svømmehallen åbner",
    )
    Publication.objects.filter(pk=publication.pk).update(
        status=PublicationStatus.FAILED, last_error="Netværket afviste opslaget."
    )
    published = Publication.objects.create(
        organisation=organisation, channel=channel, planned_at=timezone.now(),
        due_at=timezone.now(), late_after=timezone.now(), text="Udgivet",
        status=PublicationStatus.PUBLISHED, published_at=timezone.now(),
        remote_id="r1",
    )
    export_job = ExportJob.objects.create(
        organisation=organisation, requested_by=members["admin"], table="channels",
        file_format="csv", start=timezone.localdate(), end=timezone.localdate(),
        status="done", content=b"a;b", file_name="kanal.csv",
    )
    template = CrisisTemplate.objects.create(
        organisation=organisation, name="Stormflod", event="storm_surge",
        text="Stormflod ved [STED]. Ring 112 ved livsfare.",
    )
    # A source on loopback, not allowed to fetch from it: "fetch now" is
    # refused before any connection.
    source = Source.objects.create(
        organisation=organisation,
        owner_administration=kff,
        name="Hovedbiblioteket",
        kind="ical",
        url="http://127.0.0.1:9/kalender.ics",
    )
    item = SourceItem.objects.create(
        source=source,
        guid="koncert@bib",
        title="Koncert",
        starts_at=timezone.now() + timedelta(days=5),
        fingerprint="x",
    )
    suggestion = Suggestion.objects.create(
        item=item,
        channel=channel,
        text="Koncert på fredag",
        planned_at=timezone.now() + timedelta(days=3),
    )
    from kanal.inbox.models import (
        AssignmentRule,
        Conversation,
        InboxItem,
        ReferralTemplate,
        StandardAnswer,
    )

    standard_answer = StandardAnswer.objects.create(
        organisation=organisation, title="Pas", text="Hej {fornavn}, se kk.dk/pas.")
    referral = ReferralTemplate.objects.create(
        organisation=organisation, title="Borgerservice", text="Se kk.dk.")

    conversation = Conversation.objects.create(
        organisation=organisation, channel=channel, key="c:1",
        status="assigned", assigned_administration=buf,
    )
    new_conversation = Conversation.objects.create(
        organisation=organisation, channel=channel, key="c:2",
    )
    inbox_item = InboxItem.objects.create(
        organisation=organisation, channel=channel, network=channel.network,
        conversation=conversation, remote_id="1", kind="comment",
        text="Hvornår åbner I?", created_at=timezone.now(),
    )
    return {
        "members": {**members, "other_org_admin": other},
        "objects": {
            "channel": channel.pk,
            "contributor": members["contributor"].pk,
            "publication": publication.pk,
            "published": published.pk,
            "export_job": export_job.pk,
            "rendered_report": RenderedReport.objects.create(
                organisation=organisation, cadence="monthly",
                period_start=timezone.localdate(), period_end=timezone.localdate(),
                content=b"%PDF-1.4", rendered_at=timezone.now(),
                file_name="kanal-maanedsrapport.pdf",
            ).pk,
            "dimension": "category",
            "crisis_template": template.pk,
            "source": source.pk,
            "suggestion": suggestion.pk,
            "conversation": conversation.pk,
            "new_conversation": new_conversation.pk,
            "standard_answer": standard_answer.pk,
            "referral": referral.pk,
            "inbox_item": inbox_item.pk,
            "assignment_rule": AssignmentRule.objects.create(
                organisation=organisation, keyword="skole", administration=buf
            ).pk,
            "missing_media": "media/2026/11/findes-ikke.jpg",
            "uid": "MQ",
            "token": "set-password",
            "org_slug": "kk",
        },
    }


def _url_names():
    """Every named URL, as ``namespace:name`` where it has a namespace."""
    names = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if namespace in EXEMPT_NAMESPACES:
                    continue
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_in_a_matrix():
    """Planning's and records' URLs are walked role by role in their own
    matrices (kanal/planning/tests/test_permissions.py,
    kanal/records/tests/test_permissions.py); every other URL is here."""
    covered = (
        {case.name for case in MATRIX}
        | {f"planning:{name}" for name in PLANNING_CASES}
        | {f"records:{name}" for name in RECORDS_CASES}
    )
    missing = _url_names() - covered - EXEMPT
    assert not missing, f"URLs without an access expectation: {sorted(missing)}"


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_access(world, client, case, role):
    if role != "anonymous":
        client.force_login(world["members"][role].user)
    kwargs = {k: world["objects"][v] for k, v in case.kwargs.items()}
    url = reverse(case.name, kwargs=kwargs)
    response = getattr(client, case.method)(url, case.data)
    assert_security_headers(response)
    expected = case.expect[role]
    if expected == "login":
        assert response.status_code == 302, response
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, (
            f"{role} {case.method.upper()} {url}: {response.status_code}"
        )
