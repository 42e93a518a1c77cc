"""A stand-in cluster for ``tutor k8s do``: what Tutor sends to Kubernetes, recorded.

There is no Kubernetes cluster here. ``tutor k8s do`` talks to one in two ways: ``kubectl``
(``kustomize`` to build the manifests, ``apply -f`` to create each job, ``wait`` for the base
deployments) and the Kubernetes API through its Python client (is a job running? did mine
finish?). So a root gets:

* a ``kubectl`` first on its ``PATH`` that runs the real ``kubectl kustomize`` and records every
  other call, with the content of each applied file;
* a kubeconfig pointing at a loopback HTTP server that answers the two job listings Tutor makes:
  no job is active, and every job it asks about has succeeded.

The commands Tutor runs, and the Job specs it applies, are then the real ones.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from .conftest import TutorRoot

RECORDING_KUBECTL = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
if args[:1] == ["kustomize"]:
    os.execv(os.environ["REAL_KUBECTL"], [os.environ["REAL_KUBECTL"], *args])
entry = {{"args": args}}
if args[:1] == ["apply"] and "-f" in args:
    with open(args[args.index("-f") + 1], encoding="utf-8") as applied:
        entry["applied"] = applied.read()
with open(os.environ["FAKE_KUBECTL_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(entry) + "\\n")
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{{name: stand-in, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: stand-in, user: {{token: stand-in}}}}]
contexts: [{{name: stand-in, context: {{cluster: stand-in, user: stand-in}}}}]
current-context: stand-in
"""


class _JobsApi(BaseHTTPRequestHandler):
    """``GET /apis/batch/v1/namespaces/NS/jobs``: none active; a job asked by name succeeded."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        items: list[dict[str, Any]] = []
        field_selector = parse_qs(url.query).get("fieldSelector", [""])[0]
        if field_selector.startswith("metadata.name="):
            name = field_selector.split("=", 1)[1]
            items = [{"metadata": {"name": name}, "status": {"succeeded": 1}}]
        body = json.dumps(
            {"apiVersion": "batch/v1", "kind": "JobList", "metadata": {}, "items": items}
        ).encode()
        self.send_response(200 if url.path.endswith("/jobs") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


class StandInCluster:
    """What ``tutor k8s ...`` sent, for a root wired by :func:`stand_in_cluster`."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def calls(self) -> list[dict[str, Any]]:
        """Every recorded ``kubectl`` call (``args``, and ``applied`` for ``apply -f``)."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def applied(self) -> list[str]:
        """The text of every file applied with ``kubectl apply -f``, in order."""
        return [call["applied"] for call in self.calls() if "applied" in call]


@contextmanager
def stand_in_cluster(root: TutorRoot) -> Iterator[StandInCluster]:
    """Wire ``root``'s ``tutor`` to a recording ``kubectl`` and a stand-in jobs API."""
    real_kubectl = shutil.which("kubectl")
    assert real_kubectl, "kubectl is needed for kustomize"
    base = root.path.parent
    kubectl = base / "bin" / "kubectl"
    kubectl.write_text(RECORDING_KUBECTL.format(python=sys.executable), encoding="utf-8")
    kubectl.chmod(0o755)
    log = base / "kubectl.jsonl"
    log.write_text("", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JobsApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = base / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(port=server.server_address[1]), encoding="utf-8")
    saved = dict(root.environ)
    root.environ.update(
        KUBECONFIG=str(kubeconfig), REAL_KUBECTL=real_kubectl, FAKE_KUBECTL_LOG=str(log)
    )
    try:
        yield StandInCluster(log)
    finally:
        root.environ.clear()
        root.environ.update(saved)
        kubectl.unlink()
        server.shutdown()
        server.server_close()
