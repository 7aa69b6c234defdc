from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("", views.calendar_month_view, name="calendar"),
    path("uge/", views.calendar_week_view, name="calendar_week"),
    path("liste/", views.post_list_view, name="post_list"),
    path("opslag/nyt/", views.post_create_view, name="post_create"),
    path("opslag/import/", views.post_import_view, name="post_import"),
    path(
        "opslag/import/skabelon.csv",
        views.post_import_template_view,
        name="post_import_template",
    ),
    path("opslag/<int:pk>/", views.post_detail_view, name="post_detail"),
    path("opslag/<int:pk>/rediger/", views.post_edit_view, name="post_edit"),
    path("opslag/<int:pk>/send/", views.post_submit_view, name="post_submit"),
    path("opslag/<int:pk>/godkend/", views.post_approve_view, name="post_approve"),
    path("opslag/<int:pk>/retur/", views.post_reject_view, name="post_reject"),
    path("opslag/<int:pk>/planlaeg/", views.post_schedule_view, name="post_schedule"),
    path("opslag/<int:pk>/annuller/", views.post_cancel_view, name="post_cancel"),
    path("opslag/<int:pk>/flyt/", views.post_reschedule_view, name="post_reschedule"),
    path("opslag/<int:pk>/kommentar/", views.post_comment_view, name="post_comment"),
    path(
        "opslag/<int:pk>/revisioner/<int:variant_pk>/",
        views.revisions_view,
        name="revisions",
    ),
    path("forhaandsvisning/", views.preview_view, name="preview"),
    path("forslag/", views.proposal_list_view, name="proposal_list"),
    path("forslag/nyt/", views.proposal_create_view, name="proposal_create"),
    path("forslag/<int:pk>/rediger/", views.proposal_edit_view, name="proposal_edit"),
    path(
        "forslag/<int:pk>/accepter/", views.proposal_accept_view, name="proposal_accept"
    ),
    path("forslag/<int:pk>/ret/", views.proposal_changes_view, name="proposal_changes"),
    path(
        "forslag/<int:pk>/afvis/", views.proposal_decline_view, name="proposal_decline"
    ),
    path("medier/", views.media_list_view, name="media_list"),
    path("medier/<int:pk>/", views.media_detail_view, name="media_detail"),
    path("medier/soeg/", views.media_picker_view, name="media_picker"),
    path("kampagner/", views.campaign_list_view, name="campaign_list"),
    path("linksporing/", views.link_tracking_view, name="link_tracking"),
    path("kalenderabonnement/", views.ical_settings_view, name="ical_settings"),
    path("ical/<str:token>.ics", views.ical_feed_view, name="ical_feed"),
    path("rapport/", views.report_view, name="report"),
]
