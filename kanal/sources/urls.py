from django.urls import path

from . import views

app_name = "sources"

urlpatterns = [
    path("", views.suggestion_calendar_view, name="suggestions"),
    path("alle/", views.source_list_view, name="source_list"),
    path("ny/", views.source_create_view, name="source_create"),
    path("<int:pk>/", views.source_detail_view, name="source_detail"),
    path("<int:pk>/rediger/", views.source_edit_view, name="source_edit"),
    path("<int:pk>/hent/", views.source_fetch_view, name="source_fetch"),
    path("<int:pk>/pause/", views.source_pause_view, name="source_pause"),
    path("forslag/<int:pk>/", views.suggestion_edit_view, name="suggestion_edit"),
    path(
        "forslag/<int:pk>/tag-i-brug/",
        views.suggestion_accept_view,
        name="suggestion_accept",
    ),
    path(
        "forslag/<int:pk>/del/",
        views.suggestion_repost_view,
        name="suggestion_repost",
    ),
    path("tone/", views.tone_view, name="tone"),
    path(
        "forslag/<int:pk>/afvis/",
        views.suggestion_dismiss_view,
        name="suggestion_dismiss",
    ),
]
