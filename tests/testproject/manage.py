#!/usr/bin/env python
"""``python tests/testproject/manage.py <command>`` from the repository root.

Puts the platform mirror, ``tests`` and the repository root on ``sys.path`` (like pytest's
configuration) so subprocesses (management commands, kill -9 tests) run the same project.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
# Python put this directory first on sys.path; its celery.py would shadow the celery package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
for path in (TESTS.parent, TESTS, TESTS / "platform_mirror"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
