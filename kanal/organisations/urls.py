from django.contrib.auth import views as auth_views
from django.urls import path

from . import sso_views, views

password_urls = [
    path(
        "glemt/",
        views.ThrottledPasswordResetView.as_view(),
        name="password_forgot",
    ),
    path(
        "glemt/sendt/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="organisations/password_forgot_done.html"
        ),
        name="password_forgot_done",
    ),
    path(
        "adgangskode/<uidb64>/<token>/",
        views.AuditedPasswordResetConfirmView.as_view(),
        name="password_set",
    ),
    path(
        "adgangskode/gemt/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="organisations/password_set_done.html"
        ),
        name="password_set_done",
    ),
]

account_urls = [
    path("log-ind/", views.login_view, name="login"),
    path("log-ind/kode/", views.login_token_view, name="login_token"),
    path("log-ud/", views.logout_view, name="logout"),
    path("sso/retur/", sso_views.sso_callback_view, name="sso_callback"),
    path("sso/<slug:slug>/", sso_views.sso_start_view, name="sso_start"),
    path("to-faktor/", views.two_factor_setup_view, name="two_factor_setup"),
    path("organisation/", views.switch_organisation_view, name="switch_organisation"),
    *password_urls,
]

organisation_urls = [
    path("", views.organisation_settings_view, name="organisation_settings"),
    path(
        "faelles-login/",
        sso_views.single_sign_on_settings_view,
        name="single_sign_on_settings",
    ),
]

member_urls = [
    path("", views.member_list_view, name="member_list"),
    path("ny/", views.member_create_view, name="member_create"),
    path("<int:pk>/", views.member_edit_view, name="member_edit"),
    path("<int:pk>/aktiv/", views.member_set_active_view, name="member_set_active"),
    path(
        "<int:pk>/login-tjeneste/",
        sso_views.member_identity_view,
        name="member_identity",
    ),
    path(
        "<int:pk>/to-faktor/nulstil/",
        views.member_reset_two_factor_view,
        name="member_reset_two_factor",
    ),
]

installation_urls = [
    path(
        "organisationer/",
        views.installation_organisations_view,
        name="installation_organisations",
    ),
]
