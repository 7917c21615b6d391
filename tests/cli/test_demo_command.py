"""``occistack demo``, which ``make setup`` runs on every ``make run``: it seeds the demo only
into a database nobody has set up yet, so what an administrator deleted of it stays deleted;
``--force`` adds what is missing on purpose."""

from __future__ import annotations


def names(occistack, kind: str, key: str = "name") -> set[str]:
    return {row[key] for row in occistack.json(kind, "list")}


def test_an_empty_database_gets_the_demo(occistack):
    out = occistack("demo").stdout
    assert "created zone zone1" in out and "created user demo" in out
    assert out.rstrip().endswith("demo credentials: user 'demo', password 'demo', project 'demo'")
    assert {"host1", "host2"} <= names(occistack, "host")
    assert "demo" in names(occistack, "user")
    assert {"tiny", "xlarge"} <= names(occistack, "offering", "term")


def test_what_the_administrator_deleted_of_the_demo_does_not_come_back(occistack):
    occistack("demo")
    occistack("host", "delete", "host2")
    occistack("user", "delete", "demo")
    occistack("offering", "delete", "xlarge")

    out = occistack("demo").stdout  # the next `make run`
    assert out.startswith("the database is already set up"), out
    assert "occistack demo --force" in out and "created" not in out
    assert "host2" not in names(occistack, "host") and "host1" in names(occistack, "host")
    assert "demo" not in names(occistack, "user")
    assert "xlarge" not in names(occistack, "offering", "term")

    out = occistack("demo", "--force").stdout  # on purpose: what is missing comes back
    assert {"created host host2", "created user demo", "created offering xlarge"} <= set(out.splitlines())
    assert "created zone zone1" not in out
    assert "host2" in names(occistack, "host") and "demo" in names(occistack, "user")


def test_a_database_set_up_by_its_administrator_is_not_seeded(occistack):
    """A site that starts from its own project and administrator, not from the demo."""
    occistack("project", "create", "operators")
    occistack("user", "add", "site-admin", "--project", "operators", "--role", "admin",
              "--password", "a long enough password")
    assert occistack("demo").stdout.startswith("the database is already set up")
    assert occistack.json("zone", "list") == []
    assert names(occistack, "user") == {"site-admin"}
