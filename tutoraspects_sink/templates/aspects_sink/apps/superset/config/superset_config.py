{#- Superset's settings in this deployment (SUPERSET_CONFIG_PATH of its service and job).
    Rendered by Tutor like the LMS settings, and as private as they are: the metadata
    database's password and the signing secrets live here. The ClickHouse password does not:
    it reaches Superset with the import of the assets only. -#}
# Superset of tutor-contrib-aspects-sink (rendered by Tutor: edit the ASPECTS_SINK_* settings,
# not this file).

# Signs session cookies and encrypts the stored database connections.
SECRET_KEY = {{ ASPECTS_SINK_SUPERSET_SECRET_KEY|aspects_sink_python }}
# Metadata (dashboards, users, roles) in a database of Tutor's MySQL, made by the init task.
SQLALCHEMY_DATABASE_URI = {{ ("mysql+pymysql://" ~ ASPECTS_SINK_SUPERSET_DB_USER|aspects_sink_url_component ~ ":" ~ ASPECTS_SINK_SUPERSET_DB_PASSWORD|aspects_sink_url_component ~ "@" ~ MYSQL_HOST ~ ":" ~ MYSQL_PORT ~ "/" ~ ASPECTS_SINK_SUPERSET_DB_NAME ~ "?charset=utf8mb4")|aspects_sink_python }}

FEATURE_FLAGS = {
    # Dashboards embedded in the LMS instructor dashboard and in Studio, with guest tokens.
    "EMBEDDED_SUPERSET": True,
    "ENABLE_TEMPLATE_PROCESSING": True,
}
# What a guest token's holder may do: the read-only role the init task provisions
# (tutoraspects_sink/superset/embedding.py); which rows it sees is the token's business.
GUEST_ROLE_NAME = {{ aspects_sink_superset.guest_role|aspects_sink_python }}
# Superset's default secret is public: anyone could sign a token without the course
# restriction. This one is generated (ASPECTS_SINK_SUPERSET_GUEST_TOKEN_JWT_SECRET).
GUEST_TOKEN_JWT_SECRET = {{ ASPECTS_SINK_SUPERSET_GUEST_TOKEN_JWT_SECRET|aspects_sink_python }}

# Behind Tutor's web proxy (Caddy), which sets X-Forwarded-*.
ENABLE_PROXY_FIX = True
# Superset's own content security policy, without its third-party hosts (telemetry, maps),
# and framing allowed for the LMS and Studio only.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "frame-ancestors": {{ (["'self'"] + aspects_sink_superset_origins())|aspects_sink_python }},
    },
    "content_security_policy_nonce_in": ["script-src"],
    "frame_options": None,
    "force_https": False,
    "session_cookie_secure": {{ ENABLE_HTTPS|aspects_sink_python }},
}
WTF_CSRF_ENABLED = True

# Caches in Tutor's Redis, in a database of their own (ASPECTS_SINK_SUPERSET_REDIS_DB), so that
# the web workers share them and a restart keeps them. Chart data: a dashboard opened again
# (by any course team member: the key holds the query and the guest token's row-level
# security) is answered without ClickHouse for ASPECTS_SINK_SUPERSET_CACHE_TIMEOUT seconds.
# Metadata, and a dashboard's filter and Explore state (what shared links point to), for a day.
{%- set redis_url = aspects_sink_redis_url(ASPECTS_SINK_SUPERSET_REDIS_DB) %}
{%- set day = 24 * 3600 %}
CACHE_CONFIG = {{ {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "aspects_sink_superset_", "CACHE_DEFAULT_TIMEOUT": day}|aspects_sink_python }}
DATA_CACHE_CONFIG = {{ {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "aspects_sink_superset_data_", "CACHE_DEFAULT_TIMEOUT": ASPECTS_SINK_SUPERSET_CACHE_TIMEOUT}|aspects_sink_python }}
FILTER_STATE_CACHE_CONFIG = {{ {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "aspects_sink_superset_filter_state_", "CACHE_DEFAULT_TIMEOUT": day, "REFRESH_TIMEOUT_ON_RETRIEVAL": true}|aspects_sink_python }}
EXPLORE_FORM_DATA_CACHE_CONFIG = {{ {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "aspects_sink_superset_explore_form_data_", "CACHE_DEFAULT_TIMEOUT": day, "REFRESH_TIMEOUT_ON_RETRIEVAL": true}|aspects_sink_python }}
