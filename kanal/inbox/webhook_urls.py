from django.urls import path

from . import webhooks

app_name = "inbox_webhooks"

urlpatterns = [
    path("<slug:network>/", webhooks.meta_webhook_view, name="meta"),
    path("<slug:network>/<slug:organisation>/", webhooks.meta_webhook_view,
         name="meta_organisation"),
]
