"""A tiny bootable guest built from Debian's own packages, for tests that boot real QEMU guests.

The guest is a Debian kernel plus an initramfs holding busybox and a ``/init`` script; it needs no
disk image. Building takes a few seconds (mostly ``apt-get download``), so the result is cached
under :data:`CACHE_ROOT` in a directory named after the package versions: a re-run reuses it, and
a kernel update in the archive gives a fresh directory instead of a stale mix.

:func:`build_guest_image` takes the ``/init`` script and extra kernel modules as parameters so a
network-enabled variant can add e.g. ``e1000.ko`` and ``udhcpc`` without a second builder.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE_ROOT = Path("/var/tmp/occistack-test-images")
BOOT_MARKER = "OCCISTACK-GUEST-UP"

#: Mounts the pseudo file systems, announces itself on the console, then powers off at once.
#: ``poweroff -f`` ends the domain only because the domain XML enables ACPI.
POWEROFF_INIT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "{BOOT_MARKER} uptime=$(cut -d' ' -f1 /proc/uptime)" > /dev/console
sleep 1
poweroff -f
"""

#: The kernel command line that sends the console to the first serial port and makes a panic
#: end the guest instead of hanging it.
KERNEL_CMDLINE = "console=ttyS0 quiet panic=-1"


class GuestImageUnavailable(Exception):
    """The packages could not be fetched or unpacked (no network, no apt, no cpio)."""


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initrd: Path
    cmdline: str = KERNEL_CMDLINE
    marker: str = BOOT_MARKER


def build_guest_image(init_script: str = POWEROFF_INIT, kernel_modules: tuple[str, ...] = (),
                      cache_root: Path = CACHE_ROOT) -> GuestImage:
    """Kernel and initramfs for a guest whose PID 1 runs ``init_script``.

    ``kernel_modules`` are file names (``e1000.ko``) looked up in the kernel package and copied to
    the initramfs root, where ``init_script`` can ``insmod`` them."""
    for tool in ("apt-get", "apt-cache", "dpkg-deb", "cpio"):
        if shutil.which(tool) is None:
            raise GuestImageUnavailable(f"{tool} is not installed; it is needed to build the test guest")
    kernel_package = _kernel_package()
    versions = {name: _candidate_version(name) for name in (kernel_package, "busybox-static")}
    recipe = hashlib.sha256(repr((sorted(versions.items()), init_script, kernel_modules)).encode())
    directory = cache_root / f"{kernel_package}-{recipe.hexdigest()[:12]}"
    image = GuestImage(kernel=directory / "vmlinuz", initrd=directory / "initrd.gz")
    if image.kernel.exists() and image.initrd.exists():
        return image
    directory.mkdir(parents=True, exist_ok=True)
    debs = directory / "debs"
    debs.mkdir(exist_ok=True)
    for package, version in versions.items():
        if not list(debs.glob(f"{package}_*.deb")):
            _run(["apt-get", "download", f"{package}={version}"], cwd=debs)
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        scratch_path = Path(scratch)
        kernel_tree, busybox_tree, initrd_tree = (scratch_path / part for part in ("kernel", "busybox", "initrd"))
        _run(["dpkg-deb", "-x", str(_one(debs.glob(f"{kernel_package}_*.deb"))), str(kernel_tree)])
        _run(["dpkg-deb", "-x", str(_one(debs.glob("busybox-static_*.deb"))), str(busybox_tree)])
        for directory_name in ("bin", "proc", "sys", "dev"):
            (initrd_tree / directory_name).mkdir(parents=True)
        shutil.copy2(busybox_tree / "bin" / "busybox", initrd_tree / "bin" / "busybox")
        init = initrd_tree / "init"
        init.write_text(init_script)
        init.chmod(0o755)
        for module in kernel_modules:
            shutil.copy2(_one(kernel_tree.glob(f"lib/modules/*/**/{module}")), initrd_tree / module)
        # Write both files under temporary names first so a crash never leaves a half-built
        # image that the existence check above would then trust.
        shutil.copy2(_one(kernel_tree.glob("boot/vmlinuz-*")), directory / "vmlinuz.part")
        _pack_initramfs(initrd_tree, directory / "initrd.gz.part")
    os.replace(directory / "initrd.gz.part", image.initrd)
    os.replace(directory / "vmlinuz.part", image.kernel)
    return image


def _kernel_package() -> str:
    """The versioned package (linux-image-6.x-amd64) the linux-image-amd64 metapackage pulls in."""
    output = _run(["apt-cache", "depends", "linux-image-amd64"])
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split(":", 1)[1].strip()
    raise GuestImageUnavailable("apt-cache knows no kernel package behind linux-image-amd64 (apt-get update?)")


def _candidate_version(package: str) -> str:
    for line in _run(["apt-cache", "policy", package]).splitlines():
        if line.strip().startswith("Candidate:"):
            version = line.split(":", 1)[1].strip()
            if version and version != "(none)":
                return version
    raise GuestImageUnavailable(f"apt has no installable version of {package}")


def _pack_initramfs(tree: Path, destination: Path) -> None:
    """A gzip'd newc cpio archive of ``tree``, the format the kernel unpacks as initramfs."""
    names = subprocess.run(["find", "."], cwd=tree, check=True, capture_output=True).stdout
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tree, input=names,
                             check=True, capture_output=True).stdout
    with gzip.open(destination, "wb", compresslevel=1) as packed:
        packed.write(archive)


def _one(paths) -> Path:
    found = sorted(paths)
    if len(found) != 1:
        raise GuestImageUnavailable(f"expected exactly one file, found {[str(p) for p in found]}")
    return found[0]


def _run(command: list[str], cwd: Path | None = None) -> str:
    try:
        completed = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        raise GuestImageUnavailable(f"{' '.join(command)} failed: {error.stderr.strip()[-500:]}") from error
    return completed.stdout


def build_boot_disk(image: GuestImage, size_mib: int = 64) -> Path:
    """A raw disk image that boots ``image`` from its first sector, as an OS template does: a FAT
    file system holding the kernel, the initramfs and a SYSLINUX configuration, with SYSLINUX's
    boot sector installed (through mtools, so nothing is mounted). Cached beside the image."""
    for tool in ("mkfs.vfat", "syslinux", "mcopy"):
        if shutil.which(tool) is None:
            raise GuestImageUnavailable(f"{tool} is not installed (dosfstools, syslinux, mtools); it is needed "
                                        "to make the test guest's boot disk")
    disk = image.kernel.parent / f"boot-{size_mib}m.img"
    if disk.exists():
        return disk
    partial = disk.with_suffix(".part")
    with open(partial, "wb") as sparse:
        sparse.truncate(size_mib * 1024 * 1024)
    _run(["mkfs.vfat", "-n", "OCCITEST", str(partial)])
    _run(["syslinux", "--install", str(partial)])
    config = image.kernel.parent / "syslinux.cfg"
    config.write_text(f"DEFAULT guest\nLABEL guest\n  KERNEL /vmlinuz\n  INITRD /initrd.gz\n  APPEND {image.cmdline}\n")
    for source, name in ((image.kernel, "vmlinuz"), (image.initrd, "initrd.gz"), (config, "syslinux.cfg")):
        _run(["mcopy", "-i", str(partial), str(source), f"::/{name}"])
    os.replace(partial, disk)
    return disk
