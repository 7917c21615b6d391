"""The NoCloud config drive: the files cloud-init reads, under the names and label it expects."""

from __future__ import annotations

import json
import subprocess

from occistack.drivers.config_drive import Contextualization, build_config_drive, read_config_drive, write_config_drive

CONTEXT = Contextualization(instance_id="vm-1234", hostname="worker-1",
                            user_data="#cloud-config\nruncmd:\n  - echo hi\n",
                            ssh_public_key="ssh-ed25519 AAAAC3Nza user@site\nssh-rsa AAAAB3Nza other@site\n")


def test_the_drive_holds_meta_data_and_user_data_under_the_cidata_label():
    files = read_config_drive(build_config_drive(CONTEXT))
    assert files["label"] == "cidata"
    assert files["user-data"] == CONTEXT.user_data
    meta = json.loads(files["meta-data"])
    assert meta == {"instance-id": "vm-1234", "local-hostname": "worker-1",
                    "public-keys": ["ssh-ed25519 AAAAC3Nza user@site", "ssh-rsa AAAAB3Nza other@site"]}


def test_a_guest_without_contextualization_still_gets_an_instance_id():
    files = read_config_drive(build_config_drive(Contextualization(instance_id="vm-1")))
    assert json.loads(files["meta-data"]) == {"instance-id": "vm-1"} and files["user-data"] == ""


def test_the_image_is_an_iso_that_another_tool_reads_the_same(tmp_path):
    """file(1), an implementation independent of pycdlib, sees an ISO 9660 image labelled cidata."""
    path = write_config_drive(CONTEXT, tmp_path / "drive" / "config.iso")
    assert path.read_bytes()[32768:32774] == b"\x01CD001", "not an ISO 9660 primary volume descriptor"
    assert not path.with_name("config.iso.partial").exists()
    described = subprocess.run(["file", str(path)], capture_output=True, text=True, check=True).stdout
    assert "ISO 9660" in described and "cidata" in described
