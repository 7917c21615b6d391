"""One LibvirtComputeDriver shared by the threads of an agent (libvirt's test driver)."""

from __future__ import annotations

import threading
import uuid

from occistack.drivers.base import DriverError, GuestSpec
from occistack.drivers.libvirt import LibvirtComputeDriver

THREADS = 8


def run_together(work) -> list[BaseException | None]:
    """Run ``work(number)`` in THREADS threads released at the same moment; each one's error."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[BaseException | None] = [None] * THREADS

    def body(number: int) -> None:
        barrier.wait()
        try:
            work(number)
        except BaseException as error:  # noqa: BLE001 - collected for the assertions
            outcomes[number] = error
    threads = [threading.Thread(target=body, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_concurrent_deploys_of_one_name_define_it_once():
    driver = LibvirtComputeDriver("test:///default")
    name = f"occitest-race-{uuid.uuid4().hex[:8]}"
    try:
        outcomes = run_together(lambda _n: driver.deploy(GuestSpec(name=name, cores=1, memory_mib=64, image="x")))
        failures = [outcome for outcome in outcomes if outcome is not None]
        assert len(failures) == THREADS - 1
        assert all(isinstance(failure, DriverError) and "already defined" in str(failure) for failure in failures)
        assert driver.state(name) == "running"
    finally:
        driver.destroy(name)
        driver.close()


def test_concurrent_lifecycles_of_different_guests():
    driver = LibvirtComputeDriver("test:///default", stop_timeout=5)
    prefix = f"occitest-threads-{uuid.uuid4().hex[:8]}-"

    def lifecycle(number: int) -> None:
        name = f"{prefix}{number}"
        driver.deploy(GuestSpec(name=name, cores=1, memory_mib=64, image="x"))
        for operation in ("suspend", "start", "stop", "start"):
            driver.power(name, operation)
        if number % 2:
            driver.destroy(name)
    try:
        assert run_together(lifecycle) == [None] * THREADS
        ours = {name: state for name, state in driver.guest_states().items() if name.startswith(prefix)}
        assert ours == {f"{prefix}{number}": "running" for number in range(0, THREADS, 2)}
    finally:
        for number in range(THREADS):
            driver.destroy(f"{prefix}{number}")
        driver.close()
