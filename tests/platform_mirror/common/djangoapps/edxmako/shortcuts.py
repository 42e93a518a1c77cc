"""Mirror of ``common/djangoapps/edxmako/shortcuts.py``: ``render_to_string`` and
``render_to_response`` over the Mako template directories of ``settings.MAKO_TEMPLATE_DIRS_BASE``
(to which plugin apps append theirs), with edx-platform's default filter (``decode.utf8``; pages
opt into HTML escaping with ``expression_filter="h"``).

Not mirrored: theming, the ``static`` namespace, and the Django context processors.
"""

from django.conf import settings
from django.http import HttpResponse
from mako.lookup import TemplateLookup


def _lookup() -> TemplateLookup:
    return TemplateLookup(
        directories=[str(directory) for directory in settings.MAKO_TEMPLATE_DIRS_BASE],
        default_filters=["decode.utf8"],
        input_encoding="utf-8",
        encoding_errors="replace",
    )


def render_to_string(template_name, dictionary, namespace="main", request=None):
    return _lookup().get_template(template_name).render_unicode(**dict(dictionary or {}))


def render_to_response(template_name, dictionary=None, namespace="main", request=None, **kwargs):
    return HttpResponse(render_to_string(template_name, dictionary, namespace, request), **kwargs)
