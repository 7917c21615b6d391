"""A project made on a federated user's first login starts with the site's default quotas
(``occistack.default_quotas``), as projects made by the admin API and the command line do."""

from __future__ import annotations

from sqlalchemy import select

from occistack.federation import FederatedIdentity, Grant, MappingRules, Membership
from occistack.federation.provisioning import provision
from occistack.model import EventRecord, Project, Quota
from occistack.model.session import read_only_session
from tests.federation.conftest import client, token

EGI = "https://aai.egi.eu/auth/realms/egi"
RULES = {"rules": [{"match": {"vo": "fedcloud.egi.eu"}, "project": "fedcloud", "role": "member"}]}


def quotas_of(engine, project: str) -> dict[str, float]:
    with read_only_session(engine) as session:
        return dict(session.execute(select(Quota.resource, Quota.limit).join(Project, Project.id == Quota.project_id)
                                    .where(Project.name == project)).all())


def test_a_first_oidc_login_makes_a_project_with_the_default_quotas(oidc_app, issuer):
    client(oidc_app, token(issuer)).get("/-/", headers={"Accept": "text/plain"}, status=200)
    assert quotas_of(oidc_app.registry["occistack.engine"], "fedcloud") == {
        "vms": 20, "cores": 40, "memory_gib": 80, "storage_gib": 500, "networks": 5, "public_ips": 10}


def test_the_rules_give_the_quotas_only_to_projects_they_create(engine):
    rules = MappingRules.from_data(RULES).with_project_quotas({"vms": 3, "public_ips": 1})
    alice = FederatedIdentity("oidc", EGI, "egi", "alice", memberships=(Membership("fedcloud.egi.eu", "member"),))
    grant = rules.grant(alice)
    assert grant.project_quotas == (("vms", 3), ("public_ips", 1))
    provision(engine, alice, grant)
    assert quotas_of(engine, "fedcloud") == {"vms": 3, "public_ips": 1}
    with read_only_session(engine) as session:
        created = session.scalar(select(EventRecord.description).where(EventRecord.action == "project.create"))
    assert created.endswith("with quotas vms=3, public_ips=1")
    # A project that exists is not touched: a second user lands in it, its quotas stay.
    bob = FederatedIdentity("oidc", EGI, "egi", "bob", memberships=(Membership("fedcloud.egi.eu", "member"),))
    provision(engine, bob, Grant("fedcloud", "member", 1, project_quotas=(("vms", 99),)))
    assert quotas_of(engine, "fedcloud") == {"vms": 3, "public_ips": 1}


def test_every_identity_source_gives_new_projects_the_site_s_quotas(tmp_path):
    """The X.509 source and the OIDC source (whose rules the external Keystone shares) read the
    same setting."""
    from occistack.federation import CredentialCache
    from occistack.api.client_certificates import certificate_authenticator
    from occistack.api.security import bearer_token_authenticator
    from tests.federation.pki import Grid

    grid = Grid(tmp_path)
    (tmp_path / "mapping.yaml").write_text("rules:\n  - match: {vo: fedcloud.egi.eu}\n    project: fedcloud\n")
    ini = {"occistack.x509.ca_dir": str(grid.ca_dir), "occistack.mapping_file": str(tmp_path / "mapping.yaml"),
           "occistack.default_quotas": "vms=4, public_ips=2"}
    cache = CredentialCache(ttl=0)
    assert certificate_authenticator(ini, cache).rules.project_quotas == (("vms", 4.0), ("public_ips", 2.0))
    assert bearer_token_authenticator(ini, cache).rules.project_quotas == (("vms", 4.0), ("public_ips", 2.0))
