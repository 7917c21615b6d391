"""A tour of every path kind, to catch wiring faults early; the detailed tests live beside."""

import json

from tests.occi import (
    CRTP, INFRA, JSON, OS_TPL, TEXT, attributes_of, compute_body, kind, link_line,
    locations_of, mixin, network_body, path_of, storage_body,
)


def test_storage_network_links_and_mixins(app):
    volume = path_of(app.post("/storage/", storage_body(2), headers=TEXT, status=201).headers["Location"])
    assert attributes_of(app.get(volume).text)["occi.storage.state"] == "online"
    network = path_of(app.post("/network/", network_body(), headers=TEXT, status=201).headers["Location"])
    body = compute_body(link_line(network, "network", "networkinterface"),
                        link_line(volume, "storage", "storagelink", **{"occi.storagelink.deviceid": "/dev/vdc"}))
    vm = path_of(app.post("/compute/", body, headers=TEXT, status=201).headers["Location"])
    text = app.get(vm).text
    assert f"<{network}>" in text and f"<{volume}>" in text
    assert len(locations_of(app.get("/networkinterface/").text)) == 1
    assert len(locations_of(app.get("/link/storagelink/").text)) == 1
    # user mixin
    app.post("/-/", 'Category: tag; scheme="http://example.org/tags#"; class="mixin"; location="/tag/"',
             headers=TEXT, status=200)
    app.post("/tag/", f"X-OCCI-Location: {vm}", headers=TEXT, status=200)
    assert locations_of(app.get("/tag/").text) == ["http://localhost" + vm]
    assert locations_of(app.get("/os_tpl/debian-12/").text) == ["http://localhost" + vm]
    app.delete("/-/", 'Category: tag; scheme="http://example.org/tags#"; class="mixin"', headers=TEXT, status=200)
    app.get("/tag/", status=404)
    # JSON create and listing
    created = app.post("/compute/", json.dumps({
        "kind": INFRA + "compute", "mixins": [OS_TPL + "cirros-0.6", CRTP + "medium"],
        "attributes": {"occi.core.title": "json vm"},
        "links": [{"kind": INFRA + "networkinterface", "target": {"location": network, "kind": INFRA + "network"},
                   "source": {"location": "/compute/x"}, "id": "nic-json"}]}),
        headers=JSON, status=201)
    assert created.json["kind"] == INFRA + "compute"
    assert len(app.get("/compute/", headers=JSON).json["resources"]) == 2
    # text/occi
    headers = {"Content-Type": "text/occi", "Accept": "text/occi",
               "Category": ", ".join([kind("compute")[10:], mixin("debian-12", OS_TPL)[10:]]),
               "X-OCCI-Attribute": 'occi.core.title="headers"',
               "Link": link_line(network, "network", "networkinterface")[6:]}
    app.post("/compute/", "", headers=headers, status=201)
    # PUT round trip
    rendering = app.get(vm).text
    app.put(vm, rendering, headers=TEXT, status=200)
    # errors
    app.get("/compute/", headers={"Accept": "application/xml"}, status=406)
    app.get("/-/", headers={"User-Agent": "x OCCI/1.3"}, status=501)
    app.put("/compute/", "", status=405)
    app.get("/compute/?number=100000", status=413)
    app.get("/compute/nothing", status=404)
    app.post("/compute/", "Category: compute; scheme=", headers=TEXT, status=400)
    app.delete(vm, status=200)
    app.delete(network, status=200)  # a delete is always accepted (issue 12)
