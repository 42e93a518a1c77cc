"""The plugin's one Kubernetes Secret, and how the pods get what it holds.

On Kubernetes, a password written as a plain ``env`` value is part of the Job or Deployment
spec: anyone allowed to read those (the built-in ``view`` role, ``kubectl describe``, the
``last-applied-configuration`` annotation) reads the password; the same holds for ConfigMaps.
So every secret the plugin's pods need lives in ``aspects-sink-secrets``
(``env/plugins/aspects_sink/apps/k8s/secrets.yml``, added through Tutor's
``kustomization-resources`` patch):

* each password a job reads from its environment, under the environment variable's name, which
  the job's ``env`` references with ``valueFrom.secretKeyRef``;
* the files that embed secrets: Superset's settings (its ``SECRET_KEY``, guest-token secret and
  metadata database password) and the ClickHouse server's users file (the admin's password
  hash), mounted from the Secret instead of a ConfigMap.

The Secret's values are written base64-encoded (``data``), so a value reaches the pod as the
very bytes of ``config.yml``: no ``$$`` doubling (Kubernetes expands ``$(VAR)`` in ``env``
values, never in Secret data), and no YAML on the way to mangle it. As ``stringData`` text,
``kubectl kustomize`` (kustomize 5.5) turns a NEL (U+0085) into a space and refuses DEL, the C1
controls and U+FFFE outright, which would stop ``tutor k8s start``.

Compose has no Secret: there, the same names are plain environment values
(:func:`tutoraspects_sink.templating.env_value`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
from tutor.exceptions import TutorError

from . import dashboards, templating

SECRET_NAME = "aspects-sink-secrets"  # noqa: S105 - a name
# File keys of the Secret: the rendered template each one holds, and whether it exists.
SUPERSET_CONFIG_KEY = "superset_config.py"
CLICKHOUSE_USERS_KEY = "aspects-sink.xml"
_FILES = {
    SUPERSET_CONFIG_KEY: ("aspects_sink/apps/superset/config/superset_config.py", "RUN_SUPERSET"),
    CLICKHOUSE_USERS_KEY: (
        "aspects_sink/apps/clickhouse/users.d/aspects-sink.xml",
        "RUN_CLICKHOUSE",
    ),
}


def is_secret(name: str) -> bool:
    """Whether the job environment variable ``name`` carries a secret (every one of them is a
    ``..._PASSWORD``: admin, sink and reporting users, Superset's accounts, MySQL's root)."""
    return name.endswith("_PASSWORD")


def secret_environment(config: Mapping[str, Any]) -> dict[str, str]:
    """The secret variables of both jobs' environments, by name (both jobs name a password
    alike, so one key serves both)."""
    environments = [templating.job_environment(config)]
    if config["ASPECTS_SINK_RUN_SUPERSET"]:
        environments.append(dashboards.superset_job_environment(config))
    return {
        name: str(value)
        for environment in environments
        for name, value in environment
        if is_secret(name)
    }


def secret_data(context: jinja2.runtime.Context) -> dict[str, str]:
    """Everything the Secret holds, key by key: the passwords, then the files rendered just
    as Tutor renders them into ``env/plugins`` (same templates, same configuration)."""
    config = context.get_all()
    data = secret_environment(config)
    for key, (template, switch) in _FILES.items():
        if config[f"ASPECTS_SINK_{switch}"]:
            data[key] = context.environment.get_template(template).render(config)
    return data


def env_entries(environment: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    """``(name, source)`` for a Kubernetes container's ``env``: ``source`` is the YAML of a
    secret's ``valueFrom.secretKeyRef`` or of a plain ``value``."""
    entries = []
    for name, value in environment:
        if is_secret(name):
            reference = {"secretKeyRef": {"name": SECRET_NAME, "key": name}}
            entries.append((name, f"valueFrom: {json.dumps(reference)}"))
        else:
            entries.append((name, f"value: {templating.env_value(value)}"))
    return entries


def checksum(config: Mapping[str, Any], data: Mapping[str, str], keys: Iterable[str]) -> str:
    """A digest of what a Deployment reads from the Secret, for an annotation of its pod
    template: rotating one of these values changes the template, so ``tutor k8s start``
    restarts the pods (a ``subPath`` mount is never updated in a running pod).

    Annotations are as readable as the spec, and a plain hash of a weak password (or of a file
    holding its hash) could be reversed by guessing: the digest is keyed with a generated
    secret that appears nowhere outside the Secret (Superset's ``SECRET_KEY``)."""
    chosen = json.dumps({key: data[key] for key in keys if key in data}, sort_keys=True)
    key = str(config["ASPECTS_SINK_SUPERSET_SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, chosen.encode("utf-8"), hashlib.sha256).hexdigest()


def encoded(key: str, value: str) -> str:
    """``value`` as Secret ``data``: its UTF-8 bytes in base64."""
    try:
        return base64.b64encode(value.encode("utf-8")).decode("ascii")
    except UnicodeEncodeError:
        raise TutorError(
            f"{key} holds a lone surrogate, not a character: no Kubernetes Secret can hold it"
        ) from None


@jinja2.pass_context
def secret_data_in_template(context: jinja2.runtime.Context) -> list[tuple[str, str]]:
    """Template function ``aspects_sink_k8s_secret_data()``: ``[(key, base64 value), ...]``."""
    return [(key, encoded(key, value)) for key, value in secret_data(context).items()]


@jinja2.pass_context
def checksum_in_template(context: jinja2.runtime.Context, *keys: str) -> str:
    """Template function ``aspects_sink_k8s_secret_checksum(key, ...)``."""
    return checksum(context.get_all(), secret_data(context), keys)
