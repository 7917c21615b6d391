"""What the tests of the OCCI face share: one application per module and back end, a fresh
project per test, a client that checks the protocol headers of every answer, the GFD.225 JSON
schema, and small readers of text renderings.

Why not the conftest ``app`` fixture: it builds the application and seeds the demo data (whose
user's password is hashed with production-strength argon2) for every test, about half a second
per test and back end. These modules make a few hundred small tests, so each module builds the
application once per back end (``world_on``; both build it with conftest's ``running_app``), and
each test gets a project of its own (so listings, "delete all" and counts see only what the test
made) whose user's password is hashed with cheap argon2 parameters (tests/factories.py). The
server's code path is the same: argon2 verifies with the parameters stored in the hash.

The fixtures (``world``, ``client``, ``other_client``, ``anonymous_client``) are in
tests/api/conftest.py.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import transaction
from sqlalchemy import select
from webtest import TestApp

from occistack import __version__
from occistack.demo import seed_demo
from occistack.drivers.fake import FakeDrivers
from occistack.model import User, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from tests.conftest import basic, empty_database, running_app, SettlingTestApp
from tests.factories import ProjectFactory, UserFactory
from tests.occi_schema import validator

# --- what every answer carries ---------------------------------------------------------------

SERVER = f"occistack/{__version__} OCCI/1.2 OCCI/1.1 OCCI-CRTP/1.1"
RENDERINGS = ("application/occi+json", "text/occi", "text/plain", "text/uri-list")
#: The reason phrases of RFC 9110 (and, for 413, the names it had in RFC 2616 and RFC 7231).
REASONS = {
    200: ("OK",), 201: ("Created",), 204: ("No Content",), 300: ("Multiple Choices",), 400: ("Bad Request",),
    401: ("Unauthorized",), 403: ("Forbidden",), 404: ("Not Found",), 405: ("Method Not Allowed",),
    406: ("Not Acceptable",),
    409: ("Conflict",), 413: ("Content Too Large", "Payload Too Large", "Request Entity Too Large"),
    415: ("Unsupported Media Type",), 500: ("Internal Server Error",), 501: ("Not Implemented",),
    503: ("Service Unavailable",),
}


def check_protocol(response) -> None:
    """GFD.223 §5: every answer names the OCCI versions and lists the renderings, and its
    status line has the standard reason phrase."""
    assert response.headers.get("Server") == SERVER, response.headers.get("Server")
    offered = [media.strip() for media in response.headers.get("Accept", "").split(",")]
    assert all(media in offered for media in RENDERINGS), response.headers.get("Accept")
    code, _, reason = response.status.partition(" ")
    assert reason in REASONS[int(code)], response.status
    assert response.headers.get("Content-Type"), "every answer has a Content-Type"


class OCCIClient(SettlingTestApp, TestApp):
    """WebTest that checks the protocol headers of every answer it gets, and lets the
    management plane finish what each request started."""

    def do_request(self, req, status=None, expect_errors=None):
        response = super().do_request(req, status=status, expect_errors=expect_errors)
        check_protocol(response)
        return response


# --- one application per module and back end: a world -------------------------------------

_names = itertools.count(1)


@dataclass
class World:
    url: str
    wsgi_app: Any
    drivers: FakeDrivers
    session_factory: Any

    def new_project_user(self, prefix: str = "user", role: str = "member") -> tuple[str, str]:
        """A new project with one user; returns (user name, password)."""
        name = f"{prefix}{next(_names)}-{uuid.uuid4().hex[:6]}"
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            session = get_tm_session(self.session_factory, manager)
            project = ProjectFactory(session=session, name=name, title=f"Project of {name}")
            UserFactory(session=session, name=name, password=name, project_id=project.id, role=role)
        return name, name

    def user_beside(self, colleague: str, prefix: str, role: str) -> tuple[str, str]:
        """Another user in ``colleague``'s project; returns (user name, password)."""
        name = f"{prefix}{next(_names)}-{uuid.uuid4().hex[:6]}"
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            session = get_tm_session(self.session_factory, manager)
            project_id = session.scalars(select(User.project_id).where(User.name == colleague)).one()
            UserFactory(session=session, name=name, password=name, project_id=project_id, role=role)
        return name, name

    def client(self, prefix: str = "user", role: str = "member", beside: OCCIClient | None = None) -> OCCIClient:
        """A user in a project of their own, or in ``beside``'s project."""
        if beside is None:
            user, password = self.new_project_user(prefix, role)
        else:
            user, password = self.user_beside(beside.user_name, prefix, role)
        made = OCCIClient(self.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(user, password)})
        made.user_name = user
        return made

    def anonymous(self) -> OCCIClient:
        return OCCIClient(self.wsgi_app)


@contextmanager
def world_on(url: str, seed: Callable[[Any], object] = seed_demo, **settings) -> Iterator[World]:
    """A World on the migrated database at ``url``: ``seed`` fills it (the demo catalog unless
    told otherwise), the application runs with the tests' settings plus ``settings``, and the
    database is emptied when the block ends."""
    engine = make_engine({"sqlalchemy.url": url})
    session_factory = make_session_factory(engine)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        seed(get_tm_session(session_factory, manager))
    drivers = FakeDrivers()
    try:
        with running_app(url, drivers, **settings) as application:
            yield World(url, application, drivers, session_factory)
    finally:
        engine.dispose()
        empty_database(url)


# --- the GFD.225 JSON schema ------------------------------------------------------------------

def assert_schema(document: Any, definition: str) -> None:
    """Validate against one definition of the schema (tests/occi_schema.py)."""
    errors = sorted(validator(definition).iter_errors(document), key=str)
    assert not errors, f"not a valid {definition}: {errors[0].message} at {list(errors[0].absolute_path)}"


# --- reading text renderings -------------------------------------------------------------------

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
HOST = "http://localhost"


def lines_of(response) -> list[str]:
    return response.text.split("\n") if response.text else []


def header_lines(response, name: str) -> list[str]:
    """The lines ``name: value`` of a text/plain body, values only."""
    prefix = name + ": "
    return [line[len(prefix):] for line in lines_of(response) if line.startswith(prefix)]


def occi_header_values(response, name: str) -> list[str]:
    """The values of a text/occi answer's header, split on the commas between values (a comma
    inside a quoted string belongs to the value)."""
    values = []
    for header in response.headers.getall(name):
        values.extend(split_values(header))
    return values


def split_values(header: str) -> list[str]:
    values, current, quoted, escaped = [], [], False, False
    for character in header:
        if escaped:
            escaped = False
        elif character == "\\" and quoted:
            escaped = True
        elif character == '"':
            quoted = not quoted
        elif character == "," and not quoted:
            values.append("".join(current).strip())
            current = []
            continue
        current.append(character)
    if "".join(current).strip():
        values.append("".join(current).strip())
    return values


def attributes(text: str) -> dict[str, str]:
    """X-OCCI-Attribute lines of a text/plain rendering → name: raw value (quotes stripped)."""
    found = {}
    for line in text.split("\n"):
        if line.startswith("X-OCCI-Attribute: "):
            name, _, value = line[len("X-OCCI-Attribute: "):].partition("=")
            found[name] = value[1:-1] if value.startswith('"') and value.endswith('"') else value
    return found


_PARAMETER = re.compile(r';\s*([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|[^;]*)')


def category_values(value: str) -> dict[str, str]:
    """``term; scheme="…"; class="…"; …`` → {"term": …, "scheme": …, …} (quotes stripped)."""
    term = value.split(";", 1)[0].strip()
    found = {"term": term}
    for name, raw in _PARAMETER.findall(value):
        raw = raw.strip()
        found[name] = raw[1:-1] if raw.startswith('"') else raw
    return found


def categories(response) -> list[dict[str, str]]:
    """The Category lines of a text/plain answer, parsed."""
    return [category_values(value) for value in header_lines(response, "Category")]


def link_values(value: str) -> dict[str, str]:
    """``<target>; rel="…"; self="…"; …`` → {"target": …, "rel": …, …}."""
    target = value[value.index("<") + 1:value.index(">")]
    found = {"target": target}
    for name, raw in _PARAMETER.findall(value[value.index(">") + 1:]):
        raw = raw.strip()
        found[name] = raw[1:-1] if raw.startswith('"') else raw
    return found


def links(response) -> list[dict[str, str]]:
    return [link_values(value) for value in header_lines(response, "Link")]


def locations(response) -> list[str]:
    return header_lines(response, "X-OCCI-Location")


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url


def entity_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]
