from django.urls import path

from . import views

app_name = "publishing"

urlpatterns = [
    path("", views.operations_view, name="operations"),
    path("<int:pk>/proev-igen/", views.retry_view, name="retry"),
    path("<int:pk>/flyt/", views.reschedule_view, name="reschedule"),
    path("<int:pk>/annuller/", views.cancel_view, name="cancel"),
    path("<int:pk>/marker-udgivet/", views.mark_published_view, name="mark_published"),
    path("krise/", views.crisis_view, name="crisis"),
    path("krise/slaa-til/", views.crisis_start_view, name="crisis_start"),
    path("krise/besked/", views.crisis_message_view, name="crisis_message"),
    path("krise/slaa-fra/", views.crisis_end_view, name="crisis_end"),
    path("krise/loesn/", views.crisis_unpin_view, name="crisis_unpin"),
    path("krise/versioner/", views.crisis_versions_view, name="crisis_versions"),
    path("krise/skabeloner/", views.crisis_templates_view, name="crisis_templates"),
    path("krise/skabeloner/ny/", views.crisis_template_create_view,
         name="crisis_template_create"),
    path("krise/skabeloner/standard/", views.crisis_templates_install_view,
         name="crisis_templates_install"),
    path("krise/skabeloner/<int:pk>/", views.crisis_template_edit_view,
         name="crisis_template_edit"),
    path("krise/skabeloner/<int:pk>/slet/", views.crisis_template_delete_view,
         name="crisis_template_delete"),
]
