"""Who owns what, in CloudStack's terms: domains (a tree), accounts in domains, projects whose
resources the account's users share, users, and the quotas of each project.

A user has a home project (``users.project_id``, with ``users.role`` there) and may hold a role
in other projects too (``project_memberships``). Every request works in one project: a
Keystone token's scope, or the home project unless the request names another
(api/security.py), and every OCCI query is scoped to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, and_, func, not_,
                        or_, select, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from occistack.model.meta import Base, utcnow

#: The root of the domain tree; the initial migration creates it.
ROOT_DOMAIN_ID = 1

#: What a quota can limit, with the unit a limit is counted in.
QUOTA_RESOURCES = {
    "vms": "virtual machines",
    "cores": "cores",
    "memory_gib": "GiB of memory",
    "volumes": "volumes",
    "storage_gib": "GiB of storage",
    "networks": "networks",
    "public_ips": "public IP addresses",
}

#: User roles; issue 6 maps federated identities onto them.
ROLES = ("admin", "member", "reader")


class Domain(Base):
    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: "/" for the root, "/science/physics/" below it: subtree queries are prefix matches.
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    #: a disabled domain refuses every user of it and of its subdomains (model.may_sign_in).
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: "user" or "admin" (a root or domain administrator's account).
    kind: Mapped[str] = mapped_column(String(16), default="user")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="RESTRICT"), default=ROOT_DOMAIN_ID,
                                           server_default=str(ROOT_DOMAIN_ID), index=True)
    #: the account that owns the project (and is billed for it).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="project")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: an argon2id hash in PHC string form; never the password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    #: admin, member or reader.
    role: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="users")


class ProjectMembership(Base):
    """A role a user holds in a project other than their home project (CloudStack's project
    members, Keystone's role assignments). Removing the user or the project removes it."""

    __tablename__ = "project_memberships"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: admin, member or reader, in that project.
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def may_sign_in():
    """SQL, over the ``users`` row of the query: whether that user may sign in by any means --
    enabled, and so is their account when they have one (an account is disabled as a whole), and
    neither the domain of their account nor that of their project lies in a disabled domain (a
    domain is disabled with its subdomains: its path is a prefix of theirs)."""
    account_enabled = select(Account.enabled).where(Account.id == User.account_id).scalar_subquery()
    return and_(User.enabled.is_(True), or_(User.account_id.is_(None), account_enabled.is_(True)),
                not_(_in_disabled_domain(Project, User.project_id)),
                not_(_in_disabled_domain(Account, User.account_id)))


def project_in_disabled_domain(project_id):
    """SQL: whether the project ``project_id`` (a column or value) is in, or below, a disabled
    domain -- a project a user holds a role in by membership is closed to them then."""
    return _in_disabled_domain(Project, project_id)


def _in_disabled_domain(owner, owner_id_of_user):
    """SQL, one level below the users row: whether the domain of the user's ``owner`` (their
    project or account) is, or lies below, a disabled domain. Every table is aliased, so that a
    query that already joins projects or accounts does not lend its rows to this one; the
    prefix is compared with substr rather than LIKE, whose wildcards a domain's name may hold."""
    theirs = owner.__table__.alias(f"user_{owner.__tablename__}")
    their_domain = Domain.__table__.alias("their_domain")
    disabled = Domain.__table__.alias("disabled_domain")
    return (select(disabled.c.id)
            .where(theirs.c.id == owner_id_of_user, their_domain.c.id == theirs.c.domain_id,
                   disabled.c.enabled.is_(False),
                   func.substr(their_domain.c.path, 1, func.length(disabled.c.path)) == disabled.c.path)
            .exists())


class ApiKey(Base):
    """A user's API key pair, for the request signatures of the CloudStack and EC2 faces: the
    access key names the pair, the secret signs. Both sides compute an HMAC with the secret, so
    it is stored sealed (plane/sealing.py), not hashed; it is shown once, at creation. A revoked
    key keeps its row (who held it, when it was last used) and loses its secret."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    access_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: the secret, sealed with the site's key; None once revoked.
    sealed_secret: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: when a request signed with it was last accepted (to the minute), if ever.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class FederatedUser(Base):
    """The link between a local user and an identity of an outside issuer (an OIDC subject;
    later an X.509 DN), made on the identity's first login. The user has no password: its
    project and role are what the mapping rules gave at the latest login."""

    __tablename__ = "federated_users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: how the identity authenticates: "oidc" (later "x509").
    method: Mapped[str] = mapped_column(String(16))
    #: the issuer as its credentials name it (an OIDC ``iss`` URL), and its subject there.
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: when the user's project and role were last set from the mapping rules.
    mapped_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: the VOMS FQAN (or the VO group of an entitlement, written as one) the latest login
    #: was mapped by: APEL's FQAN for the computes the user makes.
    fqan: Mapped[str | None] = mapped_column(String(512))


class LdapGroupLink(Base):
    """An LDAP group linked to an account and a project, as CloudStack links a directory group
    to an account: a member of the group who signs in with their directory password becomes,
    on their first login, a user of the project (and account) with the link's role."""

    __tablename__ = "ldap_group_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the group's name (its cn, by default) or its DN, as the administrator wrote it; matched
    #: without regard to case, as LDAP compares names.
    group: Mapped[str] = mapped_column(String(255), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    #: admin, member or reader: what the group's users are made.
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Quota(Base):
    """The most of one resource a project may hold; no row means no limit."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("project_id", "resource"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    #: a key of QUOTA_RESOURCES.
    resource: Mapped[str] = mapped_column(String(32))
    limit: Mapped[float] = mapped_column(Float)


class KeyPair(Base):
    """An SSH public key a user keeps under a name, to give their computes by that name (Nova's
    key pairs). Only the public half is kept: a key the server generated had its private half
    handed to the user once, in the answer that made it."""

    __tablename__ = "key_pairs"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: unique among the user's key pairs (another user may keep one of the same name).
    name: Mapped[str] = mapped_column(String(255))
    #: the OpenSSH key type: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 ...
    key_type: Mapped[str] = mapped_column(String(32))
    #: one line of authorized_keys: type, base64 blob and the comment, if it had one.
    public_key: Mapped[str] = mapped_column(Text)
    #: OpenSSH's: "SHA256:" and the unpadded base64 of the blob's SHA-256.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: the colon-separated hex MD5 of the blob, as Nova and older OpenSSH show it.
    fingerprint_md5: Mapped[str] = mapped_column(String(47))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TenancyLimit(Base):
    """The most of one resource that the projects of an account, or of a domain and its
    subdomains, may hold together (CloudStack's resource limits above the project); no row
    means no limit. Exactly one of ``domain_id`` and ``account_id`` is set (the plane sees to it)."""

    __tablename__ = "tenancy_limits"
    __table_args__ = (UniqueConstraint("domain_id", "resource"), UniqueConstraint("account_id", "resource"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: a key of QUOTA_RESOURCES.
    resource: Mapped[str] = mapped_column(String(32))
    limit: Mapped[float] = mapped_column(Float)
