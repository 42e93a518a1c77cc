"""Job scripts and the quoting of option values (``tutoraspects_sink.do_commands``)."""

from __future__ import annotations

import random
import subprocess

import jinja2
import pytest

from tutoraspects_sink import do_commands


def rendered_like_tutor(script: str) -> str:
    """Tutor renders job scripts with Jinja, undefined variables being errors."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(script).render()


def test_random_values_survive_jinja_and_the_shell() -> None:
    alphabet = "{}%#'\"\\$`;|&()<> \n\ta-é"
    rng = random.Random(20_260_101)
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(300)]
    script = "\n".join(f"printf '%s\\0' {do_commands.shell_quote(value)}" for value in values)
    printed = subprocess.run(
        ["sh", "-e", "-c", rendered_like_tutor(script)], capture_output=True, check=True
    )
    assert printed.stdout.decode().split("\0")[:-1] == values


@pytest.mark.parametrize("value", ["a\rb", "a\0b"])
def test_values_jinja_or_argv_cannot_carry_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="carriage return or a NUL"):
        do_commands.shell_quote(value)


def test_migrate_clickhouse_scripts() -> None:
    def script(**options: object) -> list[tuple[str, str]]:
        return list(do_commands.migrate_clickhouse.callback(**options))  # type: ignore[misc]

    base = "python -m tutoraspects_sink.clickhouse {} --migrations-dir /openedx/aspects-sink/migrations"
    assert script(list_only=False, wait=None) == [("aspects-sink", base.format("migrate"))]
    assert script(list_only=True, wait=0.5) == [
        ("aspects-sink", base.format("status") + " --wait 0.5")
    ]
