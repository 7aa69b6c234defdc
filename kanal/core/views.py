from django.views.csrf import csrf_failure as django_csrf_failure


def csrf_failure(request, reason=""):
    return django_csrf_failure(request, reason)
