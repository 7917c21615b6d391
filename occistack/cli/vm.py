"""``occistack vm``: every project's guests as the administrator sees them, and moving one to
another host (the worker carries the move out; ``vm show`` follows it)."""

from __future__ import annotations

import click

from occistack.plane.tenant import admin_vms
from occistack.plane.tenant.admin_vms import LIFECYCLE_ACTIONS, VmFilter, VmMigration
from occistack.cli.base import OrderedGroup, document, json_option, print_document, print_rows, run
from occistack.cli.progress import Step, timeout_option, wait_for, wait_option


@click.group(cls=OrderedGroup)
def vm() -> None:
    """Guests (any project's computes): where they run, and moving them."""


def _document(record) -> dict:
    return document(record, host=record.host_name, zone=record.zone_name, project=record.project_name)


@vm.command("list")
@click.option("--zone", help="Only this zone's.")
@click.option("--host", help="Only those on this host.")
@click.option("--project", help="Only this project's.")
@click.option("--state", help="Only those in this state (running, stopped, migrating, error, ...).")
@json_option
def vm_list(zone: str | None, host: str | None, project: str | None, state: str | None, as_json: bool) -> None:
    """List guests with their host and state."""
    where = VmFilter(zone=zone, host=host, project=project, state=state)
    rows = run(lambda ctx: [_document(record) for record in admin_vms.list_vms(ctx, where)])
    print_rows(rows, ("id", "title", "project", "zone", "host", "state", "cores", "memory_gib"), as_json)


@vm.command("show")
@click.argument("vm_id", metavar="ID")
@json_option
def vm_show(vm_id: str, as_json: bool) -> None:
    """One guest: its host, state and state message, and what it has reserved."""
    shown = run(lambda ctx: _document(admin_vms.show_vm(ctx, vm_id)))
    print_document(shown, as_json, "\n".join(f"{key}: {'-' if value is None else value}"
                                             for key, value in shown.items()))


@vm.command("migrate")
@click.argument("vm_id", metavar="ID")
@click.option("--to", "target", help="The host to move it to (else placement picks one with room).")
@click.option("--cold", is_flag=True, help="Shut a running guest down, move it and start it there (not live).")
@wait_option
@timeout_option
def vm_migrate(vm_id: str, target: str | None, cold: bool, wait: bool, timeout_seconds: float | None) -> None:
    """Move a guest to another host: live when it runs, cold when it is stopped (or --cold)."""
    record = run(lambda ctx: admin_vms.migrate(ctx, vm_id, VmMigration(to=target, cold=cold)))
    click.echo(f"compute {vm_id} is migrating from host {record.host_name}"
               f"{f' to {target}' if target else ''}"
               f"{'' if wait else f'; occistack vm show {vm_id} follows it'}")
    if wait:
        _wait_for_migration(vm_id, record.host_id, record.host_name, timeout_seconds)


def _wait_for_migration(vm_id: str, source_id: int | None, source_name: str | None,
                        timeout_seconds: float | None) -> None:
    """--wait: until the guest is no longer migrating; a guest still on its old host then did not
    move (the job put it back as it was, with the reason in its state message)."""
    def read(ctx) -> list[Step]:
        now = admin_vms.show_vm(ctx, vm_id)
        moving = now.state == "migrating"
        stayed = not moving and now.host_id == source_id
        return [Step(f"compute {vm_id}", 50 if moving else 100, not moving,
                     (now.state_message or f"it is still on host {source_name}") if stayed else None)]

    wait_for(read, "migrating", timeout_seconds=timeout_seconds)
    arrived = run(lambda ctx: admin_vms.show_vm(ctx, vm_id))
    click.echo(f"compute {vm_id} is {arrived.state} on host {arrived.host_name}")


def _lifecycle_command(action: str):
    @vm.command(action, help=f"{action.capitalize()} any project's guest, as its owner's OCCI action would.")
    @click.argument("vm_id", metavar="ID")
    def command(vm_id: str) -> None:
        record = run(lambda ctx: admin_vms.act_on_vm(ctx, vm_id, action))
        click.echo(f"compute {vm_id} is {record.state}")

    return command


vm_start, vm_stop, vm_restart = (_lifecycle_command(action) for action in LIFECYCLE_ACTIONS)
