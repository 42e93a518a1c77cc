"""Settings of the test project: a slim LMS/CMS (edx-platform Verawood conventions).

Environment variables (all optional):

``ASPECTS_SINK_TEST_DB``               ``mysql`` (default: MariaDB 127.0.0.1:3306, root),
                                       ``postgresql`` (127.0.0.1:5432, user postgres) or
                                       ``sqlite`` (the quickstart; DB_NAME is then a file path)
``ASPECTS_SINK_TEST_DB_NAME``          database name (default ``aspects_sink_test``; pytest-django
                                       creates and uses ``test_<name>``; subprocesses started by
                                       tests must be given that test name)
``ASPECTS_SINK_TEST_DB_HOST``/``_PORT``/``_USER``/``_PASSWORD``   connection overrides
``ASPECTS_SINK_TEST_BROKER_URL``       Celery broker (default ``redis://127.0.0.1:6379/9``)
``ASPECTS_SINK_TEST_RESULT_BACKEND``   Celery result backend (default: the broker URL)
``ASPECTS_SINK_TEST_CELERY_ALWAYS_EAGER``  ``1`` runs tasks in-process (default ``0``)
``ASPECTS_SINK_TEST_CELERY_QUEUE``     default queue (default ``edx.lms.core.default``)
``ASPECTS_SINK_TEST_CLICKHOUSE_URL``/``_USERNAME``/``_PASSWORD``/``_DATABASE``/``_TIMEOUT_SECS``
                                       EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG
``ASPECTS_SINK_TEST_CLICKHOUSE_CLUSTER``/``_CLUSTER_NODE_URLS``  its cluster name and node URLs
                                       (comma-separated)
``ASPECTS_SINK_TEST_SINKS_ENABLED``    ``1`` sets EVENT_SINK_CLICKHOUSE_<MODEL>_ENABLED for the
                                       four model sinks (default: leave the sink app's defaults)
``ASPECTS_SINK_TEST_ENABLE_PII``       ``1`` sets ASPECTS_ENABLE_PII
``ASPECTS_SINK_TEST_SINK_TASK_QUEUE``  EVENT_SINK_CLICKHOUSE_TASK_QUEUE (a test's own queue)
``ASPECTS_SINK_TEST_SINK_RETRY_BACKOFF_MAX_SECS``  short retry backoff (factor 1 s) for outage tests
``ASPECTS_SINK_TEST_MODULESTORE_BRANCH``  default ``draft-preferred`` (the CMS and its workers,
                                       where course dumps run); ``published-only`` is the LMS's
``ASPECTS_SINK_TEST_CCX``              ``0`` turns CUSTOM_COURSES_EDX off (default on)
``ASPECTS_SINK_TEST_SEND_CATALOG_INFO_SIGNAL``  ``1`` makes Studio send COURSE_CATALOG_INFO_CHANGED
                                       on publish (edx-platform and Tutor default: off)
``ASPECTS_SINK_TEST_WITHOUT_SINK``     ``1`` runs without the sink app (only to work on the
                                       mirror itself); otherwise the sink app must load
``ASPECTS_SINK_TEST_EMBEDDED_SDK_DIR``  the Embedded SDK's bundle directory (from npm), published
                                       as the image publishes it (STATICFILES_DIRS)

The sink app is loaded the way edx-platform loads plugins: from the ``lms.djangoapp`` and
``cms.djangoapp`` entry points (``get_plugin_apps``), with its plugin settings applied
(``add_plugins``: common, then production).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from edx_django_utils.plugins import add_plugins, get_plugin_apps


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"ASPECTS_SINK_TEST_{name}", default)


def _flag(name: str, default: bool = False) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


SECRET_KEY = "aspects-sink-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "testproject.urls"
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
SERVICE_VARIANT = _env("SERVICE_VARIANT", "lms")

# ---------------------------------------------------------------------------------------------
# Database (edx-platform: MySQL/MariaDB with ATOMIC_REQUESTS, utf8mb4)
# ---------------------------------------------------------------------------------------------
_DB_NAME = _env("DB_NAME", "aspects_sink_test")
if _env("DB", "mysql") == "postgresql":
    _DATABASE = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": _env("DB_HOST", "127.0.0.1"),
        "PORT": _env("DB_PORT", "5432"),
        "USER": _env("DB_USER", "postgres"),
        "PASSWORD": _env("DB_PASSWORD", ""),
        "TEST": {"NAME": f"test_{_DB_NAME}"},
    }
elif _env("DB", "mysql") == "mysql":
    _DATABASE = {
        "ENGINE": "django.db.backends.mysql",
        "HOST": _env("DB_HOST", "127.0.0.1"),
        "PORT": _env("DB_PORT", "3306"),
        "USER": _env("DB_USER", "root"),
        "PASSWORD": _env("DB_PASSWORD", ""),
        # local_infile: factories.make_users loads users with LOAD DATA LOCAL INFILE.
        "OPTIONS": {"charset": "utf8mb4", "local_infile": 1},
        "TEST": {
            "NAME": f"test_{_DB_NAME}",
            "CHARSET": "utf8mb4",
            "COLLATION": "utf8mb4_unicode_ci",
        },
    }
elif _env("DB", "mysql") == "sqlite":
    # The no-services quickstart: a file next to the embedded ClickHouse's data.
    _DATABASE = {"ENGINE": "django.db.backends.sqlite3"}
else:
    raise ImproperlyConfigured("ASPECTS_SINK_TEST_DB must be 'mysql', 'postgresql' or 'sqlite'")
DATABASES = {"default": {**_DATABASE, "NAME": _DB_NAME, "ATOMIC_REQUESTS": True, "CONN_MAX_AGE": 0}}

# PBKDF2 as in production; MD5 also accepted so factories can hash one password cheaply.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---------------------------------------------------------------------------------------------
# Apps: platform mirror first, plugin apps last (as in lms/envs/common.py)
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "waffle",
    "openedx_events",
    "openedx.core.djangoapps.plugins.apps.PluginsConfig",
    "modulestore_mirror.apps.ModulestoreMirrorConfig",
    "openedx.core.djangoapps.content.course_overviews.apps.CourseOverviewsConfig",
    "common.djangoapps.student.apps.StudentConfig",
    "openedx.core.djangoapps.external_user_ids.apps.ExternalUserIdConfig",
    "openedx.core.djangoapps.user_api.apps.UserAPIConfig",
    "lms.djangoapps.ccx.apps.CCXConfig",
    "cms.djangoapps.contentstore.apps.ContentstoreConfig",
    # Content tagging: the real openedx_tagging app (openedx-core), as edx-platform installs it,
    # with openedx-core's app that subclasses Taxonomy (CompetencyTaxonomy) and what it needs.
    "openedx_tagging",
    "organizations",
    "simple_history",
    "openedx_catalog",
    "openedx_learning",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crum.CurrentRequestUserMiddleware",
    "waffle.middleware.WaffleMiddleware",
]
PLATFORM_MIRROR_PROJECT_TYPES = ["lms.djangoapp", "cms.djangoapp"]

# ---------------------------------------------------------------------------------------------
# Platform settings the mirror reads
# ---------------------------------------------------------------------------------------------
# A top-level setting since Verawood; FEATURES is only a deprecated proxy for such flags.
CUSTOM_COURSES_EDX = _flag("CCX", default=True)
FEATURES: dict[str, bool] = {}
MODULESTORE_BRANCH = _env("MODULESTORE_BRANCH", "draft-preferred")
SEND_CATALOG_INFO_SIGNAL = _flag("SEND_CATALOG_INFO_SIGNAL")
RETIRED_USERNAME_PREFIX = "retired__user_"
RETIRED_EMAIL_PREFIX = "retired__user_"
RETIRED_EMAIL_DOMAIN = "retired.invalid"
RETIRED_USERNAME_FMT = "retired__user_{}"
RETIRED_EMAIL_FMT = "retired__user_{}@retired.invalid"
RETIRED_USER_SALTS = ["aspects-sink-test-salt"]
ENV_TOKENS: dict = {}
# The LMS's Mako template directories; plugin apps append theirs.
MAKO_TEMPLATE_DIRS_BASE = [
    Path(__file__).resolve().parent.parent / "platform_mirror" / "lms" / "templates"
]
STATIC_URL = "/static/"
STATICFILES_DIRS: list = []
if _env("EMBEDDED_SDK_DIR"):
    from tutoraspects_sink.sink.embedding.sdk import SDK_STATIC_PREFIX

    STATICFILES_DIRS.append((SDK_STATIC_PREFIX, _env("EMBEDDED_SDK_DIR")))
LOGIN_URL = "/login"

# ---------------------------------------------------------------------------------------------
# Celery (edx-platform's old-style setting names, read without namespace)
# ---------------------------------------------------------------------------------------------
BROKER_URL = _env("BROKER_URL", "redis://127.0.0.1:6379/9")
CELERY_RESULT_BACKEND = _env("RESULT_BACKEND", BROKER_URL)
CELERY_ALWAYS_EAGER = _flag("CELERY_ALWAYS_EAGER")
CELERY_EAGER_PROPAGATES_EXCEPTIONS = True
CELERY_DEFAULT_QUEUE = _env("CELERY_QUEUE", "edx.lms.core.default")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERYD_HIJACK_ROOT_LOGGER = False

# ---------------------------------------------------------------------------------------------
# Sink settings (set before the plugin settings, which only fill in what is missing)
# ---------------------------------------------------------------------------------------------
EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG = {
    "url": _env("CLICKHOUSE_URL", "http://127.0.0.1:8123"),
    "username": _env("CLICKHOUSE_USERNAME", "default"),
    "password": _env("CLICKHOUSE_PASSWORD", ""),
    "database": _env("CLICKHOUSE_DATABASE", "event_sink"),
    "timeout_secs": int(_env("CLICKHOUSE_TIMEOUT_SECS", "10")),
}
if _env("CLICKHOUSE_CLUSTER"):  # a sharded cluster (tests/cluster, benchmarks/cluster.py)
    EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG["cluster"] = _env("CLICKHOUSE_CLUSTER")
    EVENT_SINK_CLICKHOUSE_BACKEND_CONFIG["cluster_node_urls"] = _env(
        "CLICKHOUSE_CLUSTER_NODE_URLS", ""
    ).split(",")
# Delivery knobs for tests with a real worker: a queue of the test's own, short backoff.
if _env("SINK_TASK_QUEUE"):
    EVENT_SINK_CLICKHOUSE_TASK_QUEUE = _env("SINK_TASK_QUEUE")
if _env("SINK_RETRY_BACKOFF_MAX_SECS"):
    EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_SECS = 1
    EVENT_SINK_CLICKHOUSE_RETRY_BACKOFF_MAX_SECS = int(_env("SINK_RETRY_BACKOFF_MAX_SECS"))
if _flag("SINKS_ENABLED"):
    from tutoraspects_sink import catalog

    for _sink in catalog.toggled():
        globals()[_sink.setting] = True
if _flag("ENABLE_PII"):
    ASPECTS_ENABLE_PII = True

SINK_APP = "tutoraspects_sink.sink.apps.AspectsSinkConfig"
if not _flag("WITHOUT_SINK"):
    _plugin_apps = []
    for _project_type in PLATFORM_MIRROR_PROJECT_TYPES:
        _plugin_apps += [app for app in get_plugin_apps(_project_type) if app not in _plugin_apps]
    if SINK_APP not in _plugin_apps:
        raise ImproperlyConfigured(
            f"{SINK_APP} is not registered or does not import (entry points lms.djangoapp / "
            "cms.djangoapp; see the logged import error). Set ASPECTS_SINK_TEST_WITHOUT_SINK=1 "
            "to run the platform mirror alone."
        )
    INSTALLED_APPS += _plugin_apps
    for _settings_type in ("common", "production"):
        for _project_type in PLATFORM_MIRROR_PROJECT_TYPES:
            add_plugins(__name__, _project_type, _settings_type)

# The Reports tab, added as the Tutor plugin adds it (merged with other plugins' filters).
from tutoraspects_sink.sink.embedding.pipeline import with_pipeline_step  # noqa: E402

OPEN_EDX_FILTERS_CONFIG = with_pipeline_step({})

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("LOG_LEVEL", "WARNING")},
}
