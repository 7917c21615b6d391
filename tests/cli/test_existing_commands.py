"""The commands the command line had before the admin tools, behaving as they did: db upgrade,
demo, and user add (which asks for the password and, with --create-project, creates the project
it names)."""

from __future__ import annotations

import transaction
from sqlalchemy import select

from occistack.federation import verify_password
from occistack.model import Project, User, Zone, make_engine
from occistack.model.session import get_tm_session, make_session_factory

from tests.cli.conftest import INI, Occistack


def rows(db_url, model):
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            return list(get_tm_session(make_session_factory(engine), manager).scalars(select(model)))
    finally:
        engine.dispose()


def test_db_upgrade_creates_a_new_sqlite_database(tmp_path):
    ini = tmp_path / "fresh.ini"
    ini.write_text(INI.format(url=f"sqlite:///{tmp_path}/nested/dir/fresh.sqlite", key_file=tmp_path / "secret.key"))
    Occistack(ini)("db", "upgrade")
    assert (tmp_path / "nested" / "dir" / "fresh.sqlite").exists()
    assert Occistack(ini).json("zone", "list") == []


def test_db_upgrade_of_a_current_database_changes_nothing(occistack):
    occistack("db", "upgrade")


def test_demo_is_idempotent(occistack, db_url):
    first = occistack("demo").stdout
    assert "created zone zone1" in first and "demo credentials: user 'demo', password 'demo'" in first
    second = occistack("demo").stdout
    assert "created" not in second.replace("demo credentials", "")
    assert [zone.name for zone in rows(db_url, Zone)] == ["zone1"]


def test_user_add_asks_for_the_password_and_creates_the_project(occistack, db_url):
    result = occistack("user", "add", "alice", "--project", "lab", "--create-project",
                       input="s3cret-pass\ns3cret-pass\n")
    assert "created project lab" in result.stdout and "created user alice in project lab" in result.stdout
    [user] = rows(db_url, User)
    assert verify_password(user.password_hash, "s3cret-pass") and user.role == "member"
    result = occistack("user", "add", "bob", "--project", "lab", "--password", "pw-of-bob-1", "--role", "reader")
    assert result.stdout == "created user bob in project lab\n"
    assert {user.name: user.role for user in rows(db_url, User)} == {"alice": "member", "bob": "reader"}


def test_user_add_refuses_a_taken_name_and_changes_nothing(occistack, db_url):
    occistack("user", "add", "alice", "--project", "lab", "--create-project", "--password", "pw-of-alice")
    assert occistack.refused("user", "add", "alice", "--project", "other", "--create-project", "--password",
                             "pw-of-alice") == "a user named 'alice' already exists"
    assert [project.name for project in rows(db_url, Project)] == ["lab"]


def test_user_add_with_an_account(occistack, db_url):
    occistack("domain", "create", "science")
    occistack("account", "create", "physics", "--domain", "/science/")
    occistack("user", "add", "alice", "--project", "higgs", "--create-project", "--account", "physics", "--domain",
              "/science/", "--password", "pw-of-alice")
    occistack("user", "add", "bob", "--project", "higgs", "--account", "physics", "--password", "pw-of-bob-1")
    [project] = rows(db_url, Project)
    users = rows(db_url, User)
    assert project.account_id is not None and {user.account_id for user in users} == {project.account_id}
    assert "no account named 'nobody' in domain /science/" in occistack.refused(
        "user", "add", "carol", "--project", "higgs", "--account", "nobody", "--password", "pw-of-carol")
