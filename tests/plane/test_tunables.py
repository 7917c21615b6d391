"""The global settings' declarations and each process's cached values (plane/tunables.py)."""

from __future__ import annotations

import pytest

from occistack.model import GlobalSetting
from occistack.plane.tunables import BY_NAME, SETTINGS_CHANGED, TUNABLES, Tunables, ini_defaults, read_changed


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_every_tunable_has_a_default_within_its_range_and_says_what_it_does():
    for tunable in TUNABLES:
        assert tunable.minimum <= tunable.default <= tunable.maximum, tunable.name
        assert tunable.description and tunable.ini_key.startswith("occistack."), tunable.name
        assert tunable.type in ("number", "integer")


def test_the_ini_file_gives_the_defaults_and_a_wrong_value_is_named():
    defaults = ini_defaults({"occistack.placement.capacity_threshold": "0.6", "occistack.jobs.max_attempts": "5"})
    assert defaults["placement.capacity_threshold"] == 0.6 and defaults["jobs.max_attempts"] == 5
    assert defaults["agents.alert_after"] == BY_NAME["agents.alert_after"].default
    with pytest.raises(ValueError, match=r"occistack.placement.capacity_threshold = '1.5' is out of range; "
                                         r"accepted: a number from 0.05 to 1"):
        ini_defaults({"occistack.placement.capacity_threshold": "1.5"})


@pytest.mark.parametrize("value, message", [
    ("lots", "is not a number"), ("0", "is out of range"), (2.5, "is not a whole number"), (True, "accepted"),
    (10 ** 400, "is out of range"), ("nan", "is out of range"),
])
def test_a_value_outside_what_a_setting_accepts_is_refused(value, message):
    tunable = BY_NAME["jobs.max_attempts"]
    with pytest.raises(ValueError, match=message):
        tunable.parse(value, tunable.name)


def test_values_are_read_again_after_the_refresh_period_or_at_once_after_a_local_change(session_factory):
    clock = Clock()
    tunables = Tunables({"occistack.placement.capacity_threshold": "0.8"}, refresh_seconds=2, clock=clock)
    tunables.attach(session_factory)
    with session_factory() as session:
        assert tunables.value(session, "placement.capacity_threshold") == 0.8
    # Another process changes it (a session of another factory: no after-commit signal here).
    with session_factory() as other, other.begin():
        other.add(GlobalSetting(name="placement.capacity_threshold", value="0.5", updated_by="test"))
    with session_factory() as session:
        assert tunables.value(session, "placement.capacity_threshold") == 0.8, "cached for refresh_seconds"
        clock.now = 2.5
        assert tunables.value(session, "placement.capacity_threshold") == 0.5
    # This process changes it: seen at the next use, whatever the clock says.
    with session_factory() as session, session.begin():
        session.get(GlobalSetting, "placement.capacity_threshold").value = "0.4"
        session.info[SETTINGS_CHANGED] = True
    with session_factory() as session:
        assert tunables.value(session, "placement.capacity_threshold") == 0.4


def test_a_row_the_declarations_refuse_is_ignored_not_fatal(session_factory):
    with session_factory() as session, session.begin():
        session.add(GlobalSetting(name="gone.setting", value="1", updated_by="test"))
        session.add(GlobalSetting(name="jobs.max_attempts", value="many", updated_by="test"))
        session.add(GlobalSetting(name="agents.alert_after", value="120", updated_by="test"))
    with session_factory() as session:
        assert read_changed(session) == {"agents.alert_after": 120.0}


def test_the_configuration_page_lists_every_setting_with_its_default_and_range():
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    section = page.split("## Global settings", 1)[1].split("\n## ", 1)[0]
    for tunable in TUNABLES:
        [row] = [line for line in section.splitlines() if line.startswith(f"| `{tunable.name}` |")]
        assert f"`{tunable.default:g}` (`{tunable.ini_key}`)" in row, row
        assert f"{tunable.minimum:g}–{tunable.maximum:g}" in row, row
