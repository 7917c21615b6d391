"""An LDAP directory behind HTTP Basic, when the ini file configures one (``occistack.ldap.*``):
the directory checks its users' passwords (``federation/ldap.py``), and the plane's admin use
cases decide who they are here (``plane/admin/ldap_links.py``: the user of a linked group, made
on their first login). This module only joins the two, in a short transaction of its own that
commits the new user whatever becomes of the request, as federated users are provisioned."""

from __future__ import annotations

from typing import Callable

from pyramid.exceptions import ConfigurationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from occistack.federation import Identity, IdentityNotMapped, LocalPasswordSource
from occistack.federation.ldap import (
    DIRECTORY_METHOD,
    DirectoryPasswordSource,
    DirectoryUser,
    LdapDirectory,
    LdapSettings,
    LdapSettingsError,
)
from occistack.plane.admin.ldap_links import admit_directory_user
from occistack.plane.errors import NotPermitted


def directory_password_source(ini: dict, local: LocalPasswordSource, registry) -> DirectoryPasswordSource | None:
    """What checks Basic credentials when the site has a directory; None when it has none."""
    try:
        settings = LdapSettings.from_ini(ini)
    except LdapSettingsError as error:
        raise ConfigurationError(str(error)) from None
    if settings is None:
        return None
    return DirectoryPasswordSource(local, LdapDirectory(settings), admission(registry, settings))


def admission(registry, settings: LdapSettings) -> Callable[[DirectoryUser], Identity]:
    def admit(found: DirectoryUser) -> Identity:
        # The engine is read when a login needs it: the database is set up after security.
        engine = registry["occistack.engine"]
        for attempt in (1, 2):
            try:
                with Session(engine, expire_on_commit=False) as session, session.begin():
                    user = admit_directory_user(session, issuer=settings.issuer, dn=found.dn, name=found.name,
                                                groups=found.groups)
                    return Identity(user.id, user.name, user.project_id, DIRECTORY_METHOD, user.role)
            except NotPermitted as refusal:
                raise IdentityNotMapped(str(refusal)) from None
            except IntegrityError:
                if attempt == 2:
                    raise
                # Another process made the same user a moment ago (two first requests at once).
        raise AssertionError("unreachable")
    return admit
