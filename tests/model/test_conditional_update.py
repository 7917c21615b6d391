"""The one way a row changes state (plane/transitions.py's apply_event): a conditional UPDATE
from the state the transaction read, which refuses a move someone else made stale -- on SQLite
and PostgreSQL -- and bumps what an ORM flush of the row would have bumped. Rows moved in sets
(set_move) are guarded by the same table."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from occistack.model import CatalogGeneration, InventoryGeneration, OsTemplate, TemplateCopy
from occistack.model.states import STORAGE_POOL_TRANSITIONS, IllegalTransition, StaleState, StoragePoolEvent
from occistack.model.template_states import (
    TEMPLATE_COPY_TRANSITIONS,
    TEMPLATE_TRANSITIONS,
    TemplateCopyEvent,
    TemplateEvent,
    TemplateState,
)
from occistack.plane.transitions import apply_event
from tests.factories import OsTemplateFactory, StoragePoolFactory, ZoneFactory


@pytest.fixture
def template_id(session_factory) -> int:
    with session_factory() as session, session.begin():
        return OsTemplateFactory(session=session, term="image", state=str(TemplateState.DOWNLOADING)).id


def stored_state(session_factory, template_id: int) -> str:
    with session_factory() as session:
        return session.scalar(select(OsTemplate.state).where(OsTemplate.id == template_id))


def test_a_move_from_a_stale_read_is_refused(session_factory, template_id):
    with session_factory() as first:
        with first.begin():
            read_before = first.get(OsTemplate, template_id)  # downloading
        with session_factory() as second, second.begin():
            apply_event(second, second.get(OsTemplate, template_id), TEMPLATE_TRANSITIONS,
                        TemplateEvent.COPIES_FAILED)
        with first.begin():
            with pytest.raises(StaleState, match=f"template {template_id} is no longer downloading"):
                apply_event(first, read_before, TEMPLATE_TRANSITIONS, TemplateEvent.COPY_READY)
    assert stored_state(session_factory, template_id) == TemplateState.ERROR


def test_of_two_concurrent_moves_the_second_is_refused(engine, session_factory, template_id):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a second transaction cannot even begin beside the first")
    first, second = session_factory(), session_factory()
    try:
        first.begin()
        second.begin()
        mine, theirs = first.get(OsTemplate, template_id), second.get(OsTemplate, template_id)
        apply_event(second, theirs, TEMPLATE_TRANSITIONS, TemplateEvent.COPIES_FAILED)  # holds the row
        outcome: list[BaseException | str] = []

        def move():
            try:
                apply_event(first, mine, TEMPLATE_TRANSITIONS, TemplateEvent.COPY_READY)
                outcome.append("moved")
            except BaseException as error:  # noqa: BLE001 - handed to the test
                outcome.append(error)

        mover = threading.Thread(target=move)
        mover.start()
        mover.join(0.5)
        assert mover.is_alive(), "the second UPDATE should wait for the first transaction"
        second.commit()
        mover.join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], StaleState), outcome
        first.rollback()
    finally:
        first.close()
        second.close()
    assert stored_state(session_factory, template_id) == TemplateState.ERROR


def test_an_illegal_move_writes_nothing(session_factory, template_id):
    with session_factory() as session, session.begin():
        template = session.get(OsTemplate, template_id)
        with pytest.raises(IllegalTransition, match="cannot saved the template while it is downloading"):
            apply_event(session, template, TEMPLATE_TRANSITIONS, TemplateEvent.SAVED)
        assert template.state == TemplateState.DOWNLOADING and not session.dirty
    assert stored_state(session_factory, template_id) == TemplateState.DOWNLOADING


def generations(session) -> tuple[int, int]:
    return (session.scalar(select(CatalogGeneration.generation)),
            session.scalar(select(InventoryGeneration.generation)))


def test_a_template_that_moves_bumps_the_catalog_generation(session_factory, template_id):
    with session_factory() as session, session.begin():
        template = session.get(OsTemplate, template_id)
        catalog, inventory = generations(session)
        apply_event(session, template, TEMPLATE_TRANSITIONS, TemplateEvent.COPY_COMING)  # stays downloading
        assert generations(session) == (catalog, inventory)
        apply_event(session, template, TEMPLATE_TRANSITIONS, TemplateEvent.COPY_READY)
        assert generations(session) == (catalog + 1, inventory)
        assert template.state == TemplateState.READY and template not in session.dirty


def test_a_pool_that_moves_bumps_the_inventory_generation(session_factory):
    with session_factory() as session, session.begin():
        pool = StoragePoolFactory(session=session, capacity_gib=10)
        catalog, inventory = generations(session)
        apply_event(session, pool, STORAGE_POOL_TRANSITIONS, StoragePoolEvent.MAINTENANCE)
        assert generations(session) == (catalog, inventory + 1)
        session.expire(pool)
        assert pool.state == "maintenance"


def test_the_message_goes_with_the_state_where_the_row_has_one(session_factory, template_id):
    with session_factory() as session, session.begin():
        copy = TemplateCopy(template_id=template_id, zone_id=ZoneFactory(session=session).id, state="downloading")
        session.add(copy)  # not flushed yet: the move writes it first
        apply_event(session, copy, TEMPLATE_COPY_TRANSITIONS, TemplateCopyEvent.FAILED, "checksum mismatch")
        session.expire(copy)
        assert (copy.state, copy.state_message) == ("error", "checksum mismatch")
        apply_event(session, copy, TEMPLATE_COPY_TRANSITIONS, TemplateCopyEvent.RETRY)
        session.expire(copy)
        assert (copy.state, copy.state_message) == ("pending", None)
        template = session.get(OsTemplate, template_id)
        with pytest.raises(ValueError, match="the template's state has no message column"):
            apply_event(session, template, TEMPLATE_TRANSITIONS, TemplateEvent.COPIES_FAILED, "why")

