from django.urls import path

from . import views

app_name = "records"

urlpatterns = [
    path("", views.record_list_view, name="list"),
    path("post/<int:pk>/", views.record_detail_view, name="detail"),
    path("aktindsigt/", views.access_request_list_view, name="access_requests"),
    path("aktindsigt/ny/", views.access_request_create_view,
         name="access_request_create"),
    path("aktindsigt/<int:pk>/", views.access_request_view, name="access_request"),
    path("aktindsigt/<int:pk>/post/<int:item_pk>/undtag/", views.withhold_view,
         name="withhold"),
    path("aktindsigt/<int:pk>/post/<int:item_pk>/overstreg/", views.redact_view,
         name="redact"),
    path("aktindsigt/<int:pk>/afslut/", views.access_request_close_view,
         name="access_request_close"),
    path("aktindsigt/<int:pk>/eksport/", views.export_start_view,
         name="export_start"),
    path("eksport/<int:pk>/", views.export_view, name="export"),
    path("eksport/<int:pk>/<str:what>/", views.export_download_view,
         name="export_download"),
    path("opbevaring/", views.retention_view, name="retention"),
    path("journalisering/", views.filing_list_view, name="filing"),
    path("post/<int:pk>/journaliser/", views.mark_for_filing_view,
         name="mark_for_filing"),
]
