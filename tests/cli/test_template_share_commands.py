"""``occistack template share|unshare``: a private template offered to other projects, and the
refusals (a public template, the owner itself, unknown names) printed as ``error: …``."""

from __future__ import annotations

import pytest

SHA1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
URL = "https://cloud-images.example.org/lab.qcow2"


@pytest.fixture
def demo(occistack):
    occistack("demo")
    occistack("project", "create", "physics")
    occistack("project", "create", "chemistry")
    occistack("template", "register", "lab-image", "--url", URL, "--checksum", SHA1, "--zone", "zone1",
              "--project", "demo")
    return occistack


def shared_with(demo, term: str) -> list[str]:
    return demo.json("template", "show", term)["shared_with"]


def test_a_private_template_is_shared_and_unshared(demo):
    assert demo("template", "share", "lab-image", "--project", "physics").stdout == \
        "shared template lab-image with project physics; now shared with: physics\n"
    demo("template", "share", "lab-image", "--project", "chemistry")
    assert shared_with(demo, "lab-image") == ["chemistry", "physics"]
    [listed] = [row for row in demo.json("template", "list") if row["term"] == "lab-image"]
    assert listed["shared_with"] == ["chemistry", "physics"]
    assert "shared_with: chemistry, physics" in demo("template", "show", "lab-image").stdout
    out = demo("template", "unshare", "lab-image", "--project", "physics").stdout
    assert out.startswith("template lab-image is no longer shared with project physics")
    assert out.endswith("now shared with: chemistry\n")
    assert shared_with(demo, "lab-image") == ["chemistry"]


def test_refusals_change_nothing(demo):
    assert "is public: every project already has it" in demo.refused("template", "share", "debian-12",
                                                                     "--project", "physics")
    assert demo.refused("template", "share", "lab-image", "--project", "demo") == \
        "template 'lab-image' belongs to project 'demo'; share it with another project"
    assert demo.refused("template", "share", "lab-image", "--project", "nowhere").startswith(
        "no project named 'nowhere'")
    assert demo.refused("template", "share", "no-image", "--project", "physics").startswith(
        "no template or ISO named 'no-image'")
    assert demo.refused("template", "unshare", "lab-image", "--project", "physics") == \
        "template 'lab-image' is not shared with project 'physics' (it is shared with no project)"
    demo("template", "share", "lab-image", "--project", "physics")
    assert demo.refused("template", "share", "lab-image", "--project", "physics") == \
        "template 'lab-image' is already shared with project 'physics'"
    assert shared_with(demo, "lab-image") == ["physics"]
    assert "share" not in demo("iso", "--help").stdout.split()
