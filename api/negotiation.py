"""DRF's content negotiation, with the answer to what JSON clients send decided without parsing.

A client with no ``Accept`` header, ``*/*`` or ``application/json``, and no
``?format=``, gets exactly what DRF's ``DefaultContentNegotiation`` would give
it: the first renderer and its media type (``*/*``), or the first renderer of
that media type (``application/json``). Every other request is DRF's to
decide, 406 included. Installed as ``DEFAULT_CONTENT_NEGOTIATION_CLASS``.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

JSON = "application/json"
ANY = "*/*"


class JSONContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        """Return (renderer, media type) as DRF does; for the common JSON clients without parsing."""
        meta = request.META
        accept = meta.get("HTTP_ACCEPT", ANY)
        if (
            format_suffix is None
            and not meta.get("QUERY_STRING")  # no ?format= override (URL_FORMAT_OVERRIDE)
            and renderers
            and renderers[0].media_type == JSON
            and accept in (ANY, JSON)
        ):
            return renderers[0], JSON
        return super().select_renderer(request, renderers, format_suffix)
