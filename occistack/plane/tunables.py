"""Global settings: the tunables an administrator may change while the cloud runs.

Each tunable is declared here once -- its name, type, range, unit and what it does -- with the
ini setting that gives its default. A value changed at run time (``occistack config set``,
``PATCH /admin/settings/{name}``) is a row of ``global_settings``; resetting it deletes the row,
and the ini value (or, without one, the built-in default) applies again.

Every process keeps the values in a :class:`Tunables` and reads them from there, so the hot
paths (a placement, a worker's sweep) pay nothing: it re-reads the table -- one small SELECT --
at most every ``refresh_seconds``, and at once after this process committed a change. Another
process (the command line, a second server, ``occistack worker``) sees a change within
``refresh_seconds``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from occistack.model import GlobalSetting

log = logging.getLogger(__name__)

#: Set in a session's info by a use case that changed a setting: committed, this process
#: re-reads the table at the next use.
SETTINGS_CHANGED = "occistack.settings_changed"
#: How long a process trusts the values it read (seconds).
DEFAULT_REFRESH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Tunable:
    name: str
    #: "number" (a float) or "integer".
    type: str
    minimum: float
    maximum: float
    #: the built-in default, when the ini file does not set ``ini_key``.
    default: float
    #: the ini setting (``[app:main]``) whose value is the default.
    ini_key: str
    unit: str
    description: str

    def parse(self, value: object, source: str) -> float | int:
        """``value`` (text or a number) as this tunable's type, within its range; ValueError
        saying what is accepted."""
        accepted = self.accepted()
        if isinstance(value, bool):
            raise ValueError(f"{source} = {value!r}; accepted: {accepted}")
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
        except OverflowError:
            raise ValueError(f"{source} = {value!r} is out of range; accepted: {accepted}") from None
        except (TypeError, ValueError):
            raise ValueError(f"{source} = {value!r} is not a number; accepted: {accepted}") from None
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            raise ValueError(f"{source} = {value!r} is out of range; accepted: {accepted}")
        if self.type == "integer":
            if number != int(number):
                raise ValueError(f"{source} = {value!r} is not a whole number; accepted: {accepted}")
            return int(number)
        return number

    def accepted(self) -> str:
        kind = "a whole number" if self.type == "integer" else "a number"
        unit = f" ({self.unit})" if self.unit else ""
        return f"{kind} from {_shown(self.minimum)} to {_shown(self.maximum)}{unit}"


def _shown(number: float) -> str:
    return f"{number:g}"


#: Every tunable, in the order ``occistack config list`` shows them.
TUNABLES: tuple[Tunable, ...] = (
    Tunable("placement.capacity_threshold", "number", 0.05, 1.0, 0.85, "occistack.placement.capacity_threshold",
            "fraction",
            "A cluster whose allocated CPU or memory is above this fraction of its capacity (with overcommit), "
            "or a primary storage pool that would be, takes no new compute (CloudStack's "
            "cluster.*.allocated.capacity.disablethreshold). Whole-host (bare-metal) requests ignore it."),
    Tunable("alerts.capacity_threshold", "number", 0.05, 1.0, 0.75, "occistack.alerts.capacity_threshold",
            "fraction",
            "A zone whose allocated CPU, memory or primary storage passes this fraction of its capacity "
            "raises a zone.capacity alert (CloudStack's zone.*.capacity.notificationthreshold)."),
    Tunable("agents.disconnected_after", "number", 1, 86400, 30.0, "occistack.agents.disconnected_after",
            "seconds",
            "A host whose agent sent no heartbeat for this long is Disconnected: placement avoids it."),
    Tunable("agents.alert_after", "number", 2, 86400, 90.0, "occistack.agents.alert_after", "seconds",
            "A Disconnected host silent for this long goes to Alert: a host.down alert is raised and HA fences "
            "it (when a power driver is configured)."),
    Tunable("ha.fence_retry_seconds", "number", 10, 86400, 300.0, "occistack.ha.fence_retry_seconds", "seconds",
            "A host in Alert whose fencing failed is tried again after this long."),
    Tunable("hosts.cpu_overcommit", "number", 1, 16, 1.0, "occistack.hosts.cpu_overcommit", "factor",
            "The CPU overcommit factor a KVM host is added with when none is given (CloudStack's "
            "cpu.overcommit.ratio). Hosts that exist keep theirs: `host update` changes one, at once."),
    Tunable("hosts.memory_overcommit", "number", 1, 4, 1.0, "occistack.hosts.memory_overcommit", "factor",
            "The memory overcommit factor a KVM host is added with when none is given (CloudStack's "
            "mem.overcommit.ratio). Hosts that exist keep theirs."),
    Tunable("jobs.max_attempts", "integer", 1, 20, 3, "occistack.jobs.max_attempts", "attempts",
            "How many times a job step that failed unexpectedly (a crash, a lost database connection) is run "
            "before the job fails; counts for jobs submitted after the change."),
)
BY_NAME: dict[str, Tunable] = {tunable.name: tunable for tunable in TUNABLES}


def tunable_named(name: str) -> Tunable:
    """The tunable called ``name``; KeyError with the accepted names."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no setting {name!r}; the settings are: {', '.join(BY_NAME)}") from None


def ini_defaults(settings: Mapping[str, Any] | None) -> dict[str, float | int]:
    """Each tunable's default: its ini setting when the file has it, else the built-in value.
    ValueError naming a wrong ini value (the server refuses to start with it)."""
    settings = settings or {}
    defaults: dict[str, float | int] = {}
    for tunable in TUNABLES:
        text = settings.get(tunable.ini_key)
        if text is None or str(text).strip() == "":
            defaults[tunable.name] = int(tunable.default) if tunable.type == "integer" else tunable.default
        else:
            defaults[tunable.name] = tunable.parse(text, tunable.ini_key)
    return defaults


class Tunables:
    """One process's current values: the ini defaults, overridden by the rows of
    ``global_settings``, read again when older than ``refresh_seconds``."""

    def __init__(self, settings: Mapping[str, Any] | None = None, refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.defaults = ini_defaults(settings)
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._changed: dict[str, float | int] = {}
        self._read_at = float("-inf")

    def attach(self, session_factory: sessionmaker) -> None:
        """Re-read at the next use after a transaction of this factory changed a setting."""

        @event.listens_for(session_factory, "after_commit")
        def _changed(session):
            if session.info.pop(SETTINGS_CHANGED, False):
                self.invalidate()

    def value(self, session: Session, name: str) -> float | int:
        """The current value of ``name`` (re-reading the table if the values are stale)."""
        with self._lock:
            if self._clock() - self._read_at >= self.refresh_seconds:
                self._changed = read_changed(session)
                self._read_at = self._clock()
            return self._changed.get(name, self.defaults[name])

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = float("-inf")


def read_changed(session: Session) -> dict[str, float | int]:
    """The values changed at run time, by name. A row the declarations no longer accept (a
    setting removed, a range narrowed by an upgrade) is ignored, and logged, rather than let
    it stop the plane."""
    changed: dict[str, float | int] = {}
    for name, text in session.execute(select(GlobalSetting.name, GlobalSetting.value)):
        tunable = BY_NAME.get(name)
        try:
            if tunable is None:
                raise ValueError(f"no such setting {name!r}")
            changed[name] = tunable.parse(text, name)
        except ValueError as wrong:
            log.warning("global setting ignored: %s", wrong)
    return changed
