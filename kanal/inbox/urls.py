from django.urls import path

from . import setup_views, views

app_name = "inbox"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("nye/", views.updates_view, name="updates"),
    path("indstillinger/", setup_views.settings_view, name="settings"),
    path("indstillinger/regler/<int:pk>/slet/", setup_views.rule_delete_view,
         name="rule_delete"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/tildel/", views.assign_view, name="assign"),
    path("<int:pk>/status/", views.status_view, name="status"),
    path("<int:pk>/note/", views.note_view, name="note"),
    path("<int:pk>/svar/", views.reply_view, name="reply"),
    path("<int:pk>/svar/laengde/", views.reply_length_view, name="reply_length"),
    path("henvendelse/<int:pk>/moderer/", views.moderate_view, name="moderate"),
    path("henvendelse/<int:pk>/synes-godt-om/", views.like_view, name="like"),
    path("henvisninger/", setup_views.referrals_view, name="referrals"),
    path("henvisninger/<int:pk>/", setup_views.referral_edit_view,
         name="referral_edit"),
    path("henvisninger/<int:pk>/slet/", setup_views.referral_delete_view,
         name="referral_delete"),
    path("standardsvar/", setup_views.standard_answers_view, name="standard_answers"),
    path("standardsvar/<int:pk>/", setup_views.standard_answer_edit_view,
         name="standard_answer_edit"),
    path("standardsvar/<int:pk>/slet/", setup_views.standard_answer_delete_view,
         name="standard_answer_delete"),
]
