"""The Meta webhook endpoint (Facebook, Instagram, Threads).

GET answers Meta's subscription check (``hub.challenge``). POST checks, in
order: the method and content type (415), a declared length (411), the size
(413), the
``X-Hub-Signature-256`` over the raw body in constant time (403 and a log
line), that the body is a JSON object of sane depth (400); then it stores the
raw body and answers 200 at once. The worker processes it (``intake``).
``/webhooks/<network>/<organisation>/`` accepts only that organisation's
pages. The organisation is looked up only after every check above passed
(the verify token for GET): a caller without the app secret gets the same
answer for an organisation Kanal serves and one it does not, so the address
tells nobody which municipalities Kanal serves.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from kanal.channels.networks import graph
from kanal.organisations.models import Organisation

from . import intake, meta

logger = logging.getLogger("kanal.inbox.webhooks")

NETWORKS = frozenset(meta.OBJECTS)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


@csrf_exempt
def meta_webhook_view(request, network: str, organisation: str = ""):
    if network not in NETWORKS:
        return _error(404, "unknown_network",
                      _("Kanal modtager ikke webhooks fra dette netværk."))
    if request.method == "GET":
        challenge = graph.hub_challenge(request.GET, settings.KANAL_META_VERIFY_TOKEN)
        if challenge is None:
            logger.warning("webhook %s: subscription check refused", network)
            return _error(403, "bad_verify_token",
                          _("Bekræftelsen af abonnementet passer ikke."))
        if organisation and not _organisation(organisation):
            return _unknown_organisation()
        return HttpResponse(challenge, content_type="text/plain")
    if request.method != "POST":
        response = _error(405, "method", _("Kun GET og POST."))
        response["Allow"] = "GET, POST"
        return response
    content_type = request.content_type or ""
    if content_type != "application/json":
        return _error(415, "content_type",
                      _("Webhooks skal sendes som application/json."))
    limit = settings.KANAL_WEBHOOK_MAX_BYTES
    if not request.META.get("CONTENT_LENGTH"):
        # A body sent in chunks (or none declared) would read as empty and
        # be refused as unsigned; say what is wrong instead.
        return _error(411, "length_required",
                      _("Webhooks skal sendes med Content-Length; intet er gemt."))
    try:
        declared = int(request.META["CONTENT_LENGTH"])
    except ValueError:
        return _error(400, "content_length", _("Ugyldig Content-Length."))
    if declared > limit:
        return _too_big(network, declared)
    try:
        body = request.body
    except RequestDataTooBig:
        return _too_big(network, declared)
    if len(body) > limit:
        return _too_big(network, len(body))
    header = request.headers.get("X-Hub-Signature-256")
    if not graph.verify_signature(settings.KANAL_META_APP_SECRET, body, header):
        logger.warning(
            "webhook %s: %s signature refused (%d bytes, from %s)",
            network, "bad" if header else "missing", len(body),
            request.META.get("REMOTE_ADDR", ""),
        )
        return _error(403, "bad_signature",
                      _("Signaturen mangler eller passer ikke; intet er gemt."))
    try:
        meta.loads(body)
    except meta.Malformed as e:
        return _error(400, e.reason, _("Indholdet er ikke gyldig JSON, som Kanal "
                                       "kan læse; intet er gemt."))
    org = _organisation(organisation) if organisation else None
    if organisation and org is None:
        return _unknown_organisation()
    delivery = intake.store_delivery(network=network, body=body, organisation=org)
    return JsonResponse({"status": "accepted", "delivery": delivery})


def _organisation(slug: str) -> Organisation | None:
    return Organisation.objects.filter(slug=slug).first()


def _unknown_organisation() -> JsonResponse:
    return _error(404, "unknown_organisation",
                  _("Kanal kender ikke organisationen i adressen; intet er gemt."))


def _too_big(network: str, size: int) -> JsonResponse:
    logger.warning("webhook %s: body of %d bytes refused", network, size)
    return _error(413, "too_large", _("Indholdet er for stort; intet er gemt."))
