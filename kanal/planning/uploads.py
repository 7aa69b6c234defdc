"""A request-size limit for uploads that still answers in Danish.

Django caps form fields (``DATA_UPLOAD_MAX_MEMORY_SIZE``) but not files:
without this handler a 10 GB upload is written to a temporary file in full
before any view can refuse it. ``LimitedUploadHandler`` runs first
(``FILE_UPLOAD_HANDLERS``), counts the bytes of every file in the request
and, past ``KANAL_MAX_UPLOAD_BYTES``, skips the file: nothing more is kept
in memory or on disk, and ``request.upload_refused`` tells the view why the
file is missing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


def max_upload_bytes() -> int:
    from .media import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES

    return int(
        getattr(settings, "KANAL_MAX_UPLOAD_BYTES", None)
        or max(MAX_IMAGE_BYTES, MAX_VIDEO_BYTES)
    )


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.upload_refused = self.limit
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


def refused_message(request) -> str:
    """The Danish reason a file in this request was dropped, or ``""``."""
    from django.utils.translation import gettext as _

    limit = getattr(request, "upload_refused", None)
    if not limit:
        return ""
    return _(
        "Filen er for stor til at blive modtaget: Kanal tager højst %(limit)s MB "
        "pr. forespørgsel. Gør filen mindre og prøv igen."
    ) % {"limit": f"{limit / 1048576:.0f}"}
