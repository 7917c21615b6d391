"""The demo's images: built locally with no network, stable once built, and a real qcow2 whether
qemu-img made it or Python wrote it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from occistack import demo_images
from occistack.demo_images import build_image, empty_qcow2


def test_an_image_is_built_once_with_its_real_checksum(tmp_path):
    first = build_image(tmp_path, "cirros-0.6")
    assert first.path == tmp_path / "cirros-0.6.qcow2" and first.path.read_bytes()[:4] == b"QFI\xfb"
    assert first.checksum == "sha256:" + hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.url == first.path.resolve().as_uri()
    again = build_image(tmp_path, "cirros-0.6")
    assert (again.checksum, again.size_bytes) == (first.checksum, first.size_bytes)


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img checks the image written by Python")
def test_the_python_written_qcow2_is_one_qemu_img_accepts(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_images.shutil, "which", lambda _name: None)
    built = build_image(tmp_path, "written", virtual_mib=32)
    assert built.path.read_bytes() == empty_qcow2(32 * 1024 * 1024)
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(built.path)], check=True,
                                     capture_output=True, text=True).stdout)
    assert (info["format"], info["virtual-size"]) == ("qcow2", 32 * 1024 * 1024)
    subprocess.run(["qemu-img", "check", str(built.path)], check=True, capture_output=True)
