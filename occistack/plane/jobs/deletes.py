"""Deletes that always work (issue 12).

A DELETE is accepted in every state of every entity and answered at once. What it does, in the
request's transaction:

1. it supersedes what the entity had asked for and not started: its held jobs, and a queued
   job whose first step has not run, are cancelled (a step already sent to a host is left to
   end -- nobody can take back a command a hypervisor is carrying out);
2. it marks the entity (``delete_requested_at``): from then on the faces render it with the
   state message "being deleted", a repeated DELETE changes nothing and answers as the first
   did, and the entity takes no other change;
3. it submits the teardown job, which the job queue holds behind the step under way (the jobs
   of one entity run one at a time). The teardown's first step moves the entity to its
   destroying state from whatever state the step before left -- the transition tables allow
   that from every state.

A volume or network something still uses cannot go first: its delete waits until the links
go. When their compute is being deleted the compute's teardown takes them; otherwise they are
detached (the compute keeps running without them). Whoever removes the last link submits the
waiting delete (:func:`submit_waiting_deletes`); the workers' sweep picks up one whose link
went in a transaction that could not see the mark yet.

A teardown that fails on its host leaves the entity in ``error`` with the reason and clears
the mark, so that GET tells what went wrong and a further DELETE tries again. A delete that
waited for a link and whose link could not be removed fails the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from occistack.model import (AgentCommand, Entity, Job, Network, NetworkInterface, OsTemplate, StorageLink,
                             VirtualMachine, Volume, utcnow)
from occistack.model.jobs import UNFINISHED
from occistack.model.states import (
    COMMAND_TRANSITIONS,
    JOB_TRANSITIONS,
    NETWORK_TRANSITIONS,
    VOLUME_TRANSITIONS,
    CommandEvent,
    Event,
    JobEvent,
    JobState,
    TransitionTable,
)
from occistack.model.template_states import TEMPLATE_TRANSITIONS, TemplateEvent, TemplateState
from occistack.plane.deleting import is_deleting
from occistack.plane.dispatch import Operation
from occistack.plane.events import record_event
from occistack.plane.jobs.queue import JobDispatcher
from occistack.plane.placement.capacity import release_host
from occistack.plane.transitions import apply_event, set_move

#: The state message of an entity whose delete is under way.
DELETING_MESSAGE = "being deleted"

_entities = Entity.__table__
_jobs = Job.__table__
_UNFINISHED = [str(state) for state in UNFINISHED]


def request_delete(session: Session, row, links: Sequence = ()) -> bool:
    """Mark ``row`` -- and ``links``, which go with it -- as being deleted and cancel the jobs
    they had not started; False when ``row`` was being deleted already (a repeated DELETE,
    which must change nothing)."""
    if is_deleting(row):
        return False
    session.flush()
    # The mark is the gate: its conditional UPDATE takes the row lock, so of concurrent
    # DELETEs exactly one goes on (the others wait, then find it marked) -- and only that
    # one cancels jobs, so none can cancel the teardown another has just submitted. The
    # lock is the "no key update" kind: a worker's step that references the entity (a usage
    # record, an agent command) is not blocked by it, and no step writes the entity's own
    # row before its teardown, which cannot have started.
    if not _mark(session, row):
        return False
    for link in links:
        _mark(session, link)
    cancel_unstarted(session, [row.id, *(link.id for link in links)])
    return True


def clear_delete_request(session: Session, row) -> None:
    """The teardown failed: the entity is no longer being deleted (a DELETE retries it)."""
    session.execute(update(_entities).where(_entities.c.id == row.id).values(delete_requested_at=None)
                    .execution_options(synchronize_session=False))
    set_committed_value(row, "delete_requested_at", None)


def _mark(session: Session, row) -> bool:
    now = utcnow()
    result = session.execute(_MARK, {"entity": row.id, "now": now})
    if result.rowcount == 1:
        set_committed_value(row, "delete_requested_at", now)
    return result.rowcount == 1


_MARK = (update(_entities).where(_entities.c.id == bindparam("entity"), _entities.c.delete_requested_at.is_(None))
         .values(delete_requested_at=bindparam("now")).execution_options(synchronize_session=False))


def cancel_unstarted(session: Session, entity_ids: Iterable[str]) -> list[Job]:
    """Cancel the entities' jobs that have not started: the held ones, a queued one whose
    first step has not run, and one waiting for its first step's commands that no host has
    fetched yet (a compute deleted right after its create: its deploy never reaches the host).
    Each moves by the job table's CANCEL with a conditional UPDATE, so a job a worker or an
    agent has meanwhile started is left alone."""
    ids = list(entity_ids)
    if not ids:
        return []
    pending = session.scalars(select(Job).where(
        Job.entity_id.in_(ids), Job.step == 0,
        Job.state.in_([str(JobState.HELD), str(JobState.QUEUED), str(JobState.WAITING)]))
        .order_by(Job.id)).all()
    cancelled = []
    for job in pending:
        if job.state == JobState.WAITING:
            if not _withdraw_commands(session, job):
                continue
        target = JOB_TRANSITIONS.next_state(job.state, JobEvent.CANCEL)
        result = session.execute(
            update(_jobs).where(_jobs.c.id == job.id, _jobs.c.state == str(job.state), _jobs.c.step == 0)
            .values(state=str(target), finished_at=utcnow(), message=_CANCELLED)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            cancelled.append(job)
            if job.operation == "snapshot_vm":
                _saving_abandoned(session, job.arguments.get("template_id"))
            elif job.operation == "migrate_vm":
                _migration_abandoned(session, job)
    return cancelled


_CANCELLED = "cancelled: its resource is being deleted"
_commands = AgentCommand.__table__
#: A job's first-step commands taken back, each while the command table lets them go (no agent
#: has fetched it yet).
_WITHDRAW_FIRST_STEP = set_move(_commands, COMMAND_TRANSITIONS, CommandEvent.WITHDRAWN,
                                _commands.c.job_id == bindparam("job"), _commands.c.step == 0,
                                error=_CANCELLED, answered_at=bindparam("now"))


def _withdraw_commands(session: Session, job: Job) -> bool:
    """Take back a waiting job's first-step commands if no host has fetched any of them; all
    or none (in a savepoint), and each only while still pending -- a fetch that got there
    first wins, and the job then runs its course before the teardown."""
    sent = session.scalar(select(func.count()).where(_commands.c.job_id == job.id, _commands.c.step == 0))
    try:
        with session.begin_nested():
            withdrawn = session.execute(_WITHDRAW_FIRST_STEP, {"job": job.id, "now": utcnow()}).rowcount
            if not sent or withdrawn != sent:
                raise _NotAllPending
    except _NotAllPending:
        return False
    return True


class _NotAllPending(Exception):
    pass


def _saving_abandoned(session: Session, template_id) -> None:
    template = session.get(OsTemplate, template_id) if template_id is not None else None
    if template is not None and template.state == TemplateState.PENDING:
        apply_event(session, template, TEMPLATE_TRANSITIONS, TemplateEvent.SAVE_FAILED)
        template.description = "not saved: the compute was deleted before its disk was saved"


def _migration_abandoned(session: Session, job: Job) -> None:
    """A migration that never started holds its target's CPU and memory: they go back. (The
    placement snapshots of the plane's processes see it at their next rebuild.)"""
    vm = session.get(VirtualMachine, job.entity_id)
    target = (job.arguments or {}).get("target_host_id")
    if vm is not None and target is not None:
        release_host(session, target, vm.reserved_cpu_mhz, vm.reserved_memory_mib)


def abandon_deferred_saves(session: Session, vm_id: str) -> None:
    """Deferred saves of a compute that is gone will never be taken."""
    for template in session.scalars(select(OsTemplate).where(OsTemplate.saved_from == vm_id,
                                                             OsTemplate.state == str(TemplateState.PENDING))).all():
        _saving_abandoned(session, template.id)


def begin_teardown(session: Session, row, table: TransitionTable, event: Event) -> None:
    """The teardown's first step: into the destroying (detaching) state from whatever state
    the step before left -- every state but that one allows the event."""
    if table.allows(row.state, event):
        apply_event(session, row, table, event)


# --- deletes that wait for links ---------------------------------------------------------------

def submit_volume_delete(session: Session, volume: Volume, caller=None) -> None:
    JobDispatcher().submit(session, Operation("delete_volume", volume.id), caller)
    record_event(session, "volume.delete", "scheduled", "storage", volume.id, caller=caller,
                 project_id=volume.project_id)


def submit_network_delete(session: Session, network: Network, caller=None) -> None:
    JobDispatcher().submit(session, Operation("delete_network", network.id), caller)
    record_event(session, "network.delete", "scheduled", "network", network.id, caller=caller,
                 project_id=network.project_id)


def submit_waiting_deletes(session: Session, volume_ids: Iterable[str] = (),
                           network_ids: Iterable[str] = ()) -> None:
    """Links to these volumes and networks have just been removed: submit the deletes that
    waited for them to go. The rows are locked, so that a DELETE marking one concurrently
    either sees the links gone or is seen here."""
    session.flush()
    for volume in _waiting(session, Volume, set(volume_ids)):
        if not _has_links(session, StorageLink.volume_id, volume.id) and not _delete_submitted(session, volume.id):
            submit_volume_delete(session, volume)
    for network in _waiting(session, Network, set(network_ids)):
        if not _has_links(session, NetworkInterface.network_id, network.id) and \
                not _delete_submitted(session, network.id):
            submit_network_delete(session, network)


def fail_waiting_deletes(session: Session, reason: str, volume_ids: Iterable[str] = (),
                         network_ids: Iterable[str] = ()) -> None:
    """A link these deletes waited for could not be removed: they fail with the reason."""
    for model, table in ((Volume, VOLUME_TRANSITIONS), (Network, NETWORK_TRANSITIONS)):
        ids = set(volume_ids if model is Volume else network_ids)
        for row in _waiting(session, model, ids):
            if _delete_submitted(session, row.id):
                continue
            begin_teardown(session, row, table, Event.DESTROY)
            apply_event(session, row, table, Event.FAILED, f"delete failed: {reason}; DELETE it again to retry")
            clear_delete_request(session, row)


def resume_waiting_deletes(session: Session) -> int:
    """The sweep's part: submit every waiting delete whose links are gone and that nothing
    submitted (its last link went in a transaction that could not see the mark)."""
    submitted = 0
    for model, link_column, submit in ((Volume, StorageLink.volume_id, submit_volume_delete),
                                       (Network, NetworkInterface.network_id, submit_network_delete)):
        stranded = session.scalars(select(model).where(
            model.delete_requested_at.is_not(None),
            ~exists().where(link_column == model.id),
            ~exists().where(Job.entity_id == model.id, Job.state.in_(_UNFINISHED)))).all()
        for row in stranded:
            submit(session, row)
            submitted += 1
    return submitted


def _waiting(session: Session, model, ids: set[str]) -> list:
    """The rows among ``ids`` whose delete waits, locked. Locked by id and only then checked
    for the mark: a condition on the mark in the query would skip a row whose mark a
    concurrent DELETE is writing, instead of waiting to see it."""
    if not ids:
        return []
    rows = session.scalars(select(model).where(model.id.in_(sorted(ids))).order_by(model.id).with_for_update()
                           .execution_options(populate_existing=True)).all()
    return [row for row in rows if is_deleting(row)]


def _has_links(session: Session, column, entity_id: str) -> bool:
    return session.scalar(select(exists().where(column == entity_id)))


def _delete_submitted(session: Session, entity_id: str) -> bool:
    return session.scalar(select(exists().where(Job.entity_id == entity_id, Job.state.in_(_UNFINISHED),
                                                Job.operation.in_(("delete_volume", "delete_network")))))
