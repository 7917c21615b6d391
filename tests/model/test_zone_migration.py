"""Issue 12's migration gives every zone that already has a public IP range its shared public
network (``/network/public`` for the first, ``/network/public-<zone>`` after), as a zone now
gets one with its first range; a zone with a public network keeps it."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from tests.conftest import ROOT

REVISION = "2752f165ec78"


def test_zones_with_public_ranges_get_their_public_networks(tmp_path):
    url = f"sqlite:///{tmp_path}/before.sqlite"
    config = Config(str(ROOT / "development.ini"))
    config.attributes["url"] = url
    command.upgrade(config, f"{REVISION}-1")
    engine = create_engine(url)
    with engine.begin() as connection:
        for zone_id, name in ((1, "alpha"), (2, "beta"), (3, "gamma")):
            connection.execute(text("INSERT INTO zones (id, name, network_type, enabled, created_at) "
                                    "VALUES (:id, :name, 'advanced', 1, CURRENT_TIMESTAMP)"),
                               {"id": zone_id, "name": name})
        for zone_id, first, gateway in ((1, 3221225994, "192.0.2.1"), (2, 3325256714, "198.51.100.1")):
            connection.execute(text(
                "INSERT INTO ip_ranges (zone_id, purpose, first_address, last_address, first_number, last_number, "
                "gateway, prefix_length, created_at) VALUES (:zone, 'public', 'a', 'b', :first, :last, :gateway, "
                "24, CURRENT_TIMESTAMP)"), {"zone": zone_id, "first": first, "last": first + 10, "gateway": gateway})
    command.upgrade(config, REVISION)
    with engine.connect() as connection:
        networks = connection.execute(text(
            "SELECT networks.id, zone_id, address, gateway, public, state, entities.project_id, entities.kind "
            "FROM networks JOIN entities ON entities.id = networks.id ORDER BY zone_id")).all()
    engine.dispose()
    assert [tuple(row) for row in networks] == [
        ("public", 1, "192.0.2.0/24", "192.0.2.1", 1, "active", None, "network"),
        ("public-beta", 2, "198.51.100.0/24", "198.51.100.1", 1, "active", None, "network"),
    ]
