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
]
