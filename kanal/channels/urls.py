from django.urls import path

from . import views

urlpatterns = [
    path("", views.channel_list_view, name="channel_list"),
    path("ny/", views.channel_create_view, name="channel_create"),
    path("<int:pk>/", views.channel_detail_view, name="channel_detail"),
    path("<int:pk>/rediger/", views.channel_edit_view, name="channel_edit"),
    path(
        "<int:pk>/adgang/", views.channel_credentials_view, name="channel_credentials"
    ),
    path("<int:pk>/strategi/", views.channel_strategy_view, name="channel_strategy"),
    path("<int:pk>/sluk/", views.channel_disable_view, name="channel_disable"),
    path("<int:pk>/taend/", views.channel_enable_view, name="channel_enable"),
    path("<int:pk>/test/", views.channel_verify_view, name="channel_verify"),
]
