"""What every command shares: the ini file's settings, one database transaction per command,
how a refusal is reported, and how the plane's records are printed (a table, or JSON with ``--json``)."""

from __future__ import annotations

import getpass
import json
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, NoReturn, Sequence, TypeVar

import click
import transaction
from sqlalchemy.exc import IntegrityError

from occistack.model import make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane.admin.common import UNCHANGED, Actor
from occistack.plane.admin.records import own_fields
from occistack.plane.admin.users import password_min_length_of
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import REFUSALS, describe
from occistack.plane.jobs.queue import JobDispatcher
from occistack.plane.limits import LimitSettingError, SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.sealing import Sealer, sealer_from_settings
from occistack.plane.tunables import Tunables

T = TypeVar("T")


class OrderedGroup(click.Group):
    """Lists its commands in the order they were added (CloudStack's order of building a
    cloud), not alphabetically."""

    def list_commands(self, context: click.Context) -> list[str]:
        return list(self.commands)


def settings_of(config_path: str) -> dict:
    from pyramid.paster import get_appsettings, setup_logging

    setup_logging(config_path)
    return dict(get_appsettings(config_path))


@contextmanager
def database_session(context: click.Context, settings: dict | None = None):
    """A session whose transaction is ``transaction.manager``'s, on an engine of its own that
    is closed when the command ends."""
    engine = make_engine(settings if settings is not None else settings_of(context.obj["config"]))
    try:
        yield get_tm_session(make_session_factory(engine), transaction.manager)
    finally:
        engine.dispose()


class SiteKeySealer(Sealer):
    """The site's sealer, its secret key read -- or, in a fresh checkout, created -- only when a
    command seals something (``host bmc``): the other commands leave the key file alone."""

    def __init__(self, settings: Mapping[str, str]):  # no super().__init__: the key is read on first use
        self._settings = settings
        self._sealer: Sealer | None = None

    def _opened(self) -> Sealer:
        if self._sealer is None:
            self._sealer = sealer_from_settings(self._settings)
        return self._sealer

    def seal(self, secret: str) -> str:
        return self._opened().seal(secret)

    def open(self, sealed: str) -> str:
        return self._opened().open(sealed)


def plane_services(settings: Mapping[str, str]) -> PlaneServices:
    """The plane's services as a command sees them, from the ini file: a dispatcher that writes
    jobs for the workers (``occistack worker`` or the server's thread) to run, the site's
    password length, limits and sealer. Raises ValueError for a setting that is wrong."""
    tunables = Tunables(settings)
    return PlaneServices(
        dispatcher=JobDispatcher(tunables=tunables),
        # No administrator's operation places anything (the workers do, with their own).
        placement=PlacementService(),
        password_min_length=password_min_length_of(settings),
        sealer=SiteKeySealer(settings),
        limits=SiteLimits.from_ini(settings),
        tunables=tunables,
    )


def run(work: Callable[[PlaneContext], T]) -> T:
    """Run ``work(ctx)`` in one transaction, with the plane's context of this command: its
    session, no caller (the operator at the command line acts, named in the events as
    ``cli:<login>``) and the services of :func:`plane_services`. A use case's refusal aborts
    the transaction (nothing is changed), prints ``error: <message>`` on stderr and exits with
    status 1; so does a wrong occistack.password_min_length."""
    context = click.get_current_context()
    settings = settings_of(context.obj["config"])
    try:
        services = plane_services(settings)
    except LimitSettingError:
        raise  # named in a traceback, as when the server starts with it
    except ValueError as wrong:  # occistack.password_min_length
        fail(str(wrong))
    with database_session(context, settings) as session:
        try:
            with transaction.manager:
                return work(PlaneContext(session, None, services, operator=cli_actor().label))
        except REFUSALS as refusal:
            fail(describe(refusal))
        except IntegrityError:
            fail("a concurrent change took a name or address this command needed; nothing was changed — try again")
    raise AssertionError("unreachable")  # pragma: no cover - fail() exits


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    click.get_current_context().exit(1)
    raise AssertionError("unreachable")  # pragma: no cover - exit() raises


def cli_actor() -> Actor:
    try:
        return Actor.cli(getpass.getuser())
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return Actor.cli("unknown")


# --- arguments ------------------------------------------------------------------------------------

def split_range(text: str, what: str) -> tuple[str, str]:
    """"10.0.1.10-10.0.1.50" → ("10.0.1.10", "10.0.1.50")."""
    first, separator, last = text.partition("-")
    if not separator or not first or not last:
        raise click.BadParameter(f"{text!r} is not FIRST-LAST (like {what})")
    return first.strip(), last.strip()


def comma_list(values: Iterable[str]) -> list[str]:
    """Repeated options and comma-separated values alike: --tag a --tag b,c → [a, b, c]."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def or_unchanged(value: Any) -> Any:
    """An update option's value, or UNCHANGED when it was not given."""
    return UNCHANGED if value is None else value


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


# --- output ---------------------------------------------------------------------------------------

def document(record, **extra: Any) -> dict[str, Any]:
    """A record's own fields (its row's columns) as plain values, then ``extra`` (which may also
    replace a field's value where it stands)."""
    values = {field.name: _plain(getattr(record, field.name)) for field in own_fields(record)}
    values.update(extra)
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str):
        return str(value)  # a StrEnum becomes its value
    return value


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    click.echo("  ".join(column.upper().ljust(width) for column, width in zip(columns, widths)).rstrip())
    for line in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


def print_document(value: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(value, indent=2, default=str) if as_json else text)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
