from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.overview_view, name="overview"),
    path("fordeling/<str:dimension>/", views.breakdown_view, name="breakdown"),
    path("kadence/", views.cadence_view, name="cadence"),
    path("dialog/", views.dialogue_view, name="dialogue"),
    path("hashtags/", views.hashtags_view, name="hashtags"),
    path("opslag/<int:pk>/", views.publication_view, name="publication"),
    path("eksport/", views.export_view, name="export"),
    path("rapport.pdf", views.report_view, name="monthly_report"),
    path("kvartalsrapport.pdf", views.quarterly_report_view,
         name="quarterly_report"),
    path("rapporter/", views.reports_view, name="reports"),
    path("rapporter/<int:pk>/hent/", views.stored_report_view,
         name="stored_report"),
    path("eksport/<int:pk>/", views.export_job_view, name="export_job"),
    path("eksport/<int:pk>/hent/", views.export_download_view,
         name="export_download"),
]
