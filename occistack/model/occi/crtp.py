"""The Compute Resource Templates Profile (CRTP 1.1): small, medium and large are required,
the memory-heavy mem_* ones optional; we offer all six, so a fresh server can create a compute
straight away."""

from __future__ import annotations

from occistack.model.occi.templates import resource_tpl_mixin

CRTP_SCHEME = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"

#: term -> (title, cores, memory GiB, ephemeral disk GiB); speed 1.0 GHz and x64 for all.
CRTP_SIZES = {
    "small": ("Small Instance - 1 core and 1 GB RAM", 1, 1.0, 10.0),
    "medium": ("Medium Instance - 2 cores and 2 GB RAM", 2, 2.0, 20.0),
    "large": ("Large Instance - 4 cores and 4 GB RAM", 4, 4.0, 40.0),
    "mem_small": ("Memory Small Instance - 1 core and 4 GB RAM", 1, 4.0, 10.0),
    "mem_medium": ("Memory Medium Instance - 2 cores and 8 GB RAM", 2, 8.0, 20.0),
    "mem_large": ("Memory Large Instance - 4 cores and 16 GB RAM", 4, 16.0, 40.0),
}

CRTP_TEMPLATES = tuple(
    resource_tpl_mixin(CRTP_SCHEME, term, title, cores=cores, memory_gib=memory, disk_gib=disk,
                       speed_ghz=1.0, architecture="x64")
    for term, (title, cores, memory, disk) in CRTP_SIZES.items()
)
