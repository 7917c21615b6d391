"""``occistack capacity``: used and total capacity per zone, as the CloudStack dashboard shows it."""

from __future__ import annotations

import click

from occistack.plane.admin.capacity import RESOURCES, ZoneCapacity
from occistack.plane.admin.cases import reports
from occistack.cli.base import json_option, print_document, run


@click.command("capacity")
@json_option
def capacity(as_json: bool) -> None:
    """Show capacity per zone and for the whole cloud."""
    report = run(reports.capacity_report)
    print_document(report.as_dict(), as_json, "\n\n".join(_zone_text(zone) for zone in (*report.zones, report.cloud)))


def _zone_text(zone: ZoneCapacity) -> str:
    state = "" if zone.enabled else " (disabled)"
    lines = [f"{zone.zone}{state}"]
    for resource, unit in RESOURCES.items():
        usage = getattr(zone, resource)
        percent = "-" if usage.percent is None else f"{usage.percent:g}%"
        label = resource.rsplit("_", 1)[0] if unit in ("MiB", "MHz", "GiB") else resource
        lines.append(f"  {label.replace('_', ' '):<18} {usage.used:>10g} / {usage.total:<10g} {unit:<9} {percent}")
    hosts = ", ".join(f"{number} {status}" for status, number in zone.hosts.items() if number) or "none"
    lines.append(f"  {'pods':<18} {zone.pods}, clusters {zone.clusters}, hosts {zone.host_count} ({hosts})")
    lines.append(f"  {'storage':<18} {zone.primary_pools} primary pools, {zone.secondary_stores} secondary stores")
    return "\n".join(lines)
