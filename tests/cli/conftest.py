"""The command line against a real, migrated database (SQLite and PostgreSQL): an ini file that
points at the test's database, and a runner that invokes ``occistack -c <ini> …`` as the
console script does."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from occistack.cli import main

INI = """\
[app:main]
use = egg:occistack
sqlalchemy.url = {url}
occistack.secret_key_file = {key_file}

[alembic]
script_location = occistack.model:migrations
"""


@pytest.fixture
def ini(db_url, tmp_path):
    path = tmp_path / "occistack.ini"
    path.write_text(INI.format(url=db_url, key_file=tmp_path / "secret.key"))
    return path


class Occistack:
    """``occistack -c INI …``; each call checks the exit status it expects."""

    def __init__(self, ini):
        self.ini = ini
        self.runner = CliRunner()

    def __call__(self, *arguments: str, status: int = 0, input: str | None = None):
        result = self.runner.invoke(main, ["-c", str(self.ini), *arguments], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == status, (f"occistack {' '.join(arguments)} exited {result.exit_code}:\n"
                                            f"{result.stdout}\n{result.stderr}")
        return result

    def json(self, *arguments: str):
        return json.loads(self(*arguments, "--json").stdout)

    def refused(self, *arguments: str) -> str:
        """The message of a command that must be refused: 'error: …' on stderr, status 1."""
        result = self(*arguments, status=1)
        assert result.stderr.startswith("error: "), result.stderr
        assert result.stdout == ""
        return result.stderr[len("error: "):].strip()


@pytest.fixture
def occistack(ini):
    return Occistack(ini)
