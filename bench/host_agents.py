"""Benchmark: 100 computes through OCCI on two agents driving libvirt's test driver, against the
same on the in-process fake agents of the management-plane benchmark.

Run from the repository root: ``.venv/bin/python -m bench.host_agents``.

Both arrangements are bench/plane.py's (the embedded default on SQLite: the OCCI application,
a worker thread, the demo cloud's two hosts with their in-process agents speaking the real
protocol), measured alternately in the same run; only the agents' compute driver differs: the
fake, or :class:`LibvirtComputeDriver` on a ``test:///`` node of its own per host, so every
deploy goes through domain XML, libvirt's define and start, and every heartbeat through the
bulk state listing.

Target: the test-driver agents reach at least a third of the fake agents' rate.
"""

from __future__ import annotations

import statistics
import sys

from bench.common import result_line
from bench.plane import one_run, sqlite_database

COUNT = 100
RUNS = 3
TARGET = 1 / 3


def main() -> int:
    rates: dict[str, list[float]] = {"fake": [], "libvirt-test": []}
    for _ in range(RUNS):
        for drivers in rates:
            with sqlite_database() as url:
                print(f"{drivers}:")
                rates[drivers].append(one_run(url, drivers=drivers, count=COUNT, extra_hosts=False))
    medians = {drivers: statistics.median(values) for drivers, values in rates.items()}
    for drivers, values in rates.items():
        print(f"{drivers}: {COUNT} computes on two hosts, {RUNS} runs: "
              + ", ".join(f"{rate:.1f}" for rate in values) + f" VMs/s (median {medians[drivers]:.1f})")
    ratio = medians["libvirt-test"] / medians["fake"]
    print()
    line = result_line("host_agents", "test_driver_vs_fake_agents_rate", ratio, TARGET)
    print(line)
    return 0 if line.endswith("PASS") else 1


if __name__ == "__main__":
    sys.exit(main())
