"""The shortest path through the whole stack: discover, create, act, delete."""

from tests.occi import TEXT, action, attributes_of, compute_body, path_of


def test_create_act_delete_compute(app):
    assert app.get("/-/").status_int == 200
    created = app.post("/compute/", compute_body(), headers=TEXT, status=201)
    location = path_of(created.headers["Location"])
    assert attributes_of(app.get(location).text)["occi.compute.state"] == "active"
    app.post(location + "?action=stop", action("stop"), headers=TEXT, status=200)
    assert attributes_of(app.get(location).text)["occi.compute.state"] == "inactive"
    app.delete(location, status=200)
    app.get(location, status=404)
