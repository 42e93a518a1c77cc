"""Superset's Embedded SDK, as the LMS serves it.

The SDK is third-party code: it is not in this repository. The openedx image fetches it from
the npm registry at this pinned version when it is built (``openedx-dockerfile-pre-assets``),
and ``collectstatic`` publishes its bundle under :data:`SDK_STATIC_PATH`, so browsers load it
from the LMS itself, never from a CDN. Nothing here imports Django: the Tutor plugin reads the
pin too.
"""

SDK_PACKAGE = "@superset-ui/embedded-sdk"
SDK_VERSION = "0.4.0"
# The UMD bundle inside the npm package; it defines window.supersetEmbeddedSdk.
SDK_BUNDLE = "bundle/index.js"
# Where the bundle is published among the static files (a STATICFILES_DIRS prefix).
SDK_STATIC_PREFIX = "aspects_sink/embedded-sdk"
SDK_STATIC_PATH = f"{SDK_STATIC_PREFIX}/index.js"
