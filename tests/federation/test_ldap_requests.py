"""Users of an LDAP directory at the OCCI face, against a real slapd: HTTP Basic credentials of a
directory user make them a user of the project their group is linked to (through the admin
API) on their first login; a wrong password, a user who left the group, a directory that is
down, and local users who must not notice any of it."""

from __future__ import annotations

import time

import pytest
import transaction
from sqlalchemy import func, select

from occistack.model import Account, FederatedUser, Project, User
from occistack.model.session import get_tm_session, read_only_session
from tests.api.admin_client import AdminClient, error_of
from tests.conftest import basic, running_app, settling_test_app
from tests.factories import ProjectFactory, UserFactory
from tests.federation.slapd import PASSWORDS
from tests.occi import compute_body, locations_of

ROOT_PASSWORD = "root-of-the-site"


@pytest.fixture
def site(db_url, demo_data, drivers, slapd, session_factory):
    """A site that authenticates against the slapd, with an administrator (root) and the
    directory's group "physics" linked to account "physics" and project "physics"."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(session_factory, manager)
        UserFactory(session=session, name="root", password=ROOT_PASSWORD, role="admin",
                    project_id=ProjectFactory(session=session, name="operations").id)
    with running_app(db_url, drivers, **slapd.settings()) as application:
        root = admin(application)
        root.post_json("/admin/accounts", {"name": "physics"}, status=201)
        root.post_json("/admin/projects", {"name": "physics", "account": "physics"}, status=201)
        root.post_json("/admin/ldap-links", {"group": "physics", "account": "physics", "project": "physics"},
                       status=201)
        yield application


def admin(application) -> AdminClient:
    return AdminClient(application, extra_environ={"HTTP_AUTHORIZATION": basic("root", ROOT_PASSWORD)})


def as_user(application, name: str, password: str | None = None):
    password = PASSWORDS[name] if password is None else password
    return settling_test_app()(application, extra_environ={"HTTP_AUTHORIZATION": basic(name, password)})


def users_named(application, name: str) -> list[tuple]:
    with read_only_session(application.registry["occistack.engine"]) as session:
        return session.execute(
            select(User.id, Project.name, Account.name, User.role, User.password_hash, FederatedUser.method,
                   FederatedUser.subject)
            .join(Project, Project.id == User.project_id).outerjoin(Account, Account.id == User.account_id)
            .outerjoin(FederatedUser, FederatedUser.user_id == User.id)
            .where(func.lower(User.name) == name.lower())).all()


def forget_remembered_passwords(application) -> None:
    """What the cache's time running out does: the next request asks the directory again."""
    cache = application.registry["occistack.credential_cache"]
    for user_id in list({identity.user_id for _expires, identity in cache._entries.values()}):
        cache.forget_user(user_id)


def test_the_first_login_makes_the_user_in_the_linked_project_and_later_logins_find_them(site):
    assert users_named(site, "alice") == []
    alice = as_user(site, "alice")
    created = alice.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)
    [(user_id, project, account, role, password_hash, method, subject)] = users_named(site, "alice")
    assert (project, account, role, password_hash, method, subject) == \
        ("physics", "physics", "member", None, "ldap", "uid=alice,ou=people,dc=occistack,dc=test")
    forget_remembered_passwords(site)
    # Later logins -- in any case of the name, as the directory compares names -- find the same user.
    for login in ("alice", "ALICE"):
        listed = settling_test_app()(site, extra_environ={"HTTP_AUTHORIZATION": basic(login, PASSWORDS["alice"])})
        assert locations_of(listed.get("/compute/", headers={"Accept": "text/plain"}).text) == \
            [created.headers["Location"]]
    assert [row[0] for row in users_named(site, "alice")] == [user_id]
    # Bob, in the same group, shares the project; the demo user (another project) does not see it.
    assert locations_of(as_user(site, "bob").get("/compute/", headers={"Accept": "text/plain"}).text) == \
        [created.headers["Location"]]
    demo = settling_test_app()(site, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    assert created.headers["Location"] not in demo.get("/compute/", headers={"Accept": "text/plain"}).text


def test_the_link_gives_its_role(site):
    root = admin(site)
    [link] = root.get("/admin/ldap-links").json
    root.delete(f"/admin/ldap-links/{link['id']}", status=200)
    root.post_json("/admin/ldap-links", {"group": "cn=physics,ou=groups,dc=occistack,dc=test", "account": "physics",
                                         "project": "physics", "role": "reader"}, status=201)
    as_user(site, "bob").get("/compute/", status=200)
    [row] = users_named(site, "bob")
    assert row[3] == "reader"
    # A reader reads, and may not create.
    as_user(site, "bob").post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=403)


def test_a_wrong_password_is_401_and_makes_nobody(site):
    for name, password in (("alice", "not-her-password"), ("alice", ""), ("nobody", "whatever"),
                           ("alice)(uid=*", "x"), ("*", PASSWORDS["alice"])):
        response = as_user(site, name, password).get("/compute/", status=401)
        assert "the user name or password is wrong" in response.text
    assert users_named(site, "alice") == [] and users_named(site, "nobody") == []


def test_a_directory_user_in_no_linked_group_is_refused(site):
    response = as_user(site, "carol").get("/compute/", status=403)
    assert "'carol' is in no LDAP group linked to a project at this site" in response.text
    assert users_named(site, "carol") == []


def test_a_user_removed_from_the_group_is_refused_once_the_cache_forgets(db_url, demo_data, drivers, slapd, site):
    as_user(site, "alice").get("/compute/", status=200)
    slapd.set_members("physics", ["bob", "demo"])
    forget_remembered_passwords(site)
    response = as_user(site, "alice").get("/compute/", status=403)
    assert "'alice' is in no LDAP group linked to their project 'physics' any more" in response.text
    as_user(site, "bob").get("/compute/", status=200)
    # Back in the group, back in.
    slapd.set_members("physics", ["alice", "bob"])
    as_user(site, "alice").get("/compute/", status=200)


def test_a_remembered_directory_password_lasts_only_the_cache_time(db_url, demo_data, drivers, slapd):
    with running_app(db_url, drivers, **slapd.settings(**{"occistack.ldap.cache_seconds": "1"})) as application:
        with read_only_session(application.registry["occistack.engine"]) as session:
            demo_project = session.scalar(select(Project.id).where(Project.name == "demo"))
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            from occistack.model.session import make_session_factory
            from occistack.plane.admin.ldap_links import link_group
            from occistack.plane.admin.tenancy import create_account, update_project

            session = get_tm_session(make_session_factory(application.registry["occistack.engine"]), manager)
            create_account(session, name="chem")
            update_project(session, demo_project, account="chem")
            link_group(session, group="chemistry", account="chem", project=demo_project)
        carol = as_user(application, "carol")
        carol.get("/compute/", status=200)
        slapd.set_members("chemistry", [])
        carol.get("/compute/", status=200)  # within the cache's time: remembered
        time.sleep(1.2)
        assert "any more" in carol.get("/compute/", status=403).text


def test_unlinking_refuses_the_group_users_at_once(site):
    alice = as_user(site, "alice")
    alice.get("/compute/", status=200)
    root = admin(site)
    [link] = root.get("/admin/ldap-links").json
    assert root.delete(f"/admin/ldap-links/{link['id']}").json == {"removed": {"type": "LDAP group link",
                                                                               "id": link["id"]}}
    assert "any more" in alice.get("/compute/", status=403).text
    assert len(users_named(site, "alice")) == 1  # the user stays, with what their project owns


def test_a_directory_that_is_down_is_503_and_lets_nobody_in_on_its_account(site, slapd):
    as_user(site, "alice").get("/compute/", status=200)
    slapd.stop()
    response = as_user(site, "bob").get("/compute/", status=503)
    assert "LDAP directory" in response.text and "cannot be reached right now" in response.text
    assert response.headers["Retry-After"]
    # A wrong password is no way in either, and neither is a name the directory would have refused.
    as_user(site, "bob", "guess").get("/compute/", status=503)
    as_user(site, "nobody", "guess").get("/compute/", status=503)
    # Local users do not depend on the directory; a password remembered before it went is.
    settling_test_app()(site, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")}).get("/compute/",
                                                                                              status=200)
    as_user(site, "alice").get("/compute/", status=200)
    slapd.start()
    as_user(site, "bob").get("/compute/", status=200)


def test_local_users_keep_their_passwords_and_the_directory_cannot_take_them_over(site):
    demo = settling_test_app()(site, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    demo.get("/compute/", status=200)
    # The directory has a "demo" too, in the linked group: its password opens nothing here.
    as_user(site, "demo").get("/compute/", status=401)
    [(_id, project, _account, _role, password_hash, method, _subject)] = users_named(site, "demo")
    assert (project, method) == ("demo", None) and password_hash
    admin(site).get("/admin/ldap-links", status=200)


def test_the_admin_api_checks_links(site):
    root = admin(site)
    [link] = root.get("/admin/ldap-links?project=physics").json
    assert (link["group"], link["account"], link["project"], link["role"]) == \
        ("physics", "physics", "physics", "member")
    assert root.get("/admin/ldap-links?project=demo").json == []
    assert root.get(f"/admin/ldap-links/{link['id']}").json["group"] == "physics"
    assert "linked already" in error_of(root.post_json("/admin/ldap-links", {
        "group": "PHYSICS", "account": "physics", "project": "physics"}, expect_errors=True), 409)
    assert "missing field 'account'" in error_of(root.post_json("/admin/ldap-links", {
        "group": "x", "project": "physics"}, expect_errors=True), 400)
    assert "no project" in error_of(root.post_json("/admin/ldap-links", {
        "group": "x", "account": "physics", "project": "nowhere"}, expect_errors=True), 404).lower()
    assert "belongs to account 'physics'" in error_of(root.post_json("/admin/ldap-links", {
        "group": "x", "account": root.post_json("/admin/accounts", {"name": "other-acct"}).json["name"],
        "project": "physics"}, expect_errors=True), 400)
    assert "role 'boss'" in error_of(root.post_json("/admin/ldap-links", {
        "group": "x", "account": "physics", "project": "physics", "role": "boss"}, expect_errors=True), 400)
    assert "LDAP group link" in error_of(root.delete("/admin/projects/" + str(link["project_id"]),
                                                     expect_errors=True), 409)
    # A member may not see the links.
    as_user(site, "alice").get("/admin/ldap-links", status=403)


def test_a_directory_that_hangs_or_refuses_the_site_is_503_too(db_url, demo_data, drivers, slapd, site):
    import os
    import signal

    # A directory that accepts connections and then says nothing: the answer waits occistack.ldap.timeout.
    with running_app(db_url, drivers, **slapd.settings(**{"occistack.ldap.timeout": "1"})) as application:
        os.kill(slapd.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            response = as_user(application, "alice").get("/compute/", status=503)
            assert time.monotonic() - started < 20
            assert "cannot be reached right now" in response.text
        finally:
            os.kill(slapd.process.pid, signal.SIGCONT)
        as_user(application, "alice").get("/compute/", status=200)
    # The site's own bind refused: a fault of the settings, said as such, and still nobody let in.
    with running_app(db_url, drivers, **slapd.settings(**{"occistack.ldap.bind_password": "wrong"})) as application:
        response = as_user(application, "bob").get("/compute/", status=503)
        assert "cannot be used right now (the directory refused occistack.ldap.bind_dn: invalidCredentials)" in \
            response.text
        settling_test_app()(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")}).get(
            "/compute/", status=200)
