"""The admin API: JSON in, JSON out, for users whose role is admin, under /admin/.

The site administrator's operations (``plane.admin.cases``) over HTTP; the same ones the
``occistack`` command line runs. Each view only translates: the JSON body into the operation's
request dataclass, ``request.plane`` as its context, the records it returns into JSON. Routes are in
``routes.py`` with every other route; each module here adds the views of a few resources.
"""

MODULES = (".inventory", ".networks", ".hosts", ".catalog", ".tenancy", ".api_keys", ".limits", ".resources",
           ".reports", ".operations", ".keypairs", ".ldap", ".snapshots", ".usage", ".vms",
           ".snapshot_policies")


def includeme(config) -> None:
    for module in MODULES:
        config.include(module)
