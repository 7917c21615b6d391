"""Computes join an affinity group one at a time (PostgreSQL): a second transaction that wants to
add a member waits until the first has committed its member, so it reads the group's zone and
hosts with that member in them. Without the wait, two computes created at once in an empty group
could land in two zones, or (anti-affinity) both on one host."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from occistack.model import Project, make_engine
from occistack.plane.admin import affinity
from tests.conftest import empty_database, missing_component


@pytest.fixture
def pg_engine(postgres_database):
    url, problem = postgres_database
    if problem:
        missing_component(problem)
    engine = make_engine({"sqlalchemy.url": url})
    yield engine
    engine.dispose()
    empty_database(url)


def test_a_second_member_waits_for_the_first_to_commit(pg_engine):
    with Session(pg_engine) as session, session.begin():
        project = Project(name="grouped")
        session.add(project)
        session.flush()
        group_id = affinity.create_affinity_group(session, project_id=project.id, name="spread",
                                                  kind="anti-affinity").id
    joined = threading.Event()

    def second_member():
        with Session(pg_engine) as session, session.begin():
            affinity.join_affinity_group(session, group_id)
            joined.set()

    with Session(pg_engine) as first, first.begin():
        affinity.join_affinity_group(first, group_id)
        waiting = threading.Thread(target=second_member)
        waiting.start()
        assert not joined.wait(0.5), "the second member joined while the first was still joining"
    # The first transaction has ended: the second goes on.
    assert joined.wait(10)
    waiting.join(10)
