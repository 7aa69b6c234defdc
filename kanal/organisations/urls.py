from django.urls import path

from . import views

account_urls = [
    path("log-ind/", views.login_view, name="login"),
    path("log-ind/kode/", views.login_token_view, name="login_token"),
    path("log-ud/", views.logout_view, name="logout"),
    path("to-faktor/", views.two_factor_setup_view, name="two_factor_setup"),
    path("organisation/", views.switch_organisation_view, name="switch_organisation"),
]

member_urls = [
    path("", views.member_list_view, name="member_list"),
    path("ny/", views.member_create_view, name="member_create"),
    path("<int:pk>/", views.member_edit_view, name="member_edit"),
    path("<int:pk>/aktiv/", views.member_set_active_view, name="member_set_active"),
]
