"""OCCI Infrastructure (GFD.224, 1.2 tables): kinds, actions and the standard mixins.

Where 1.1 (GFD.184) differs and real clients still rely on it, the 1.1 form is kept:
``occi.compute.speed`` is accepted and rendered (rOCCI and the CRTP profile use it).
"""

from __future__ import annotations

from occistack.model.occi.categories import Action, AttributeDef, Kind, Mixin
from occistack.model.occi.core import LINK, RESOURCE

INFRA_SCHEME = "http://schemas.ogf.org/occi/infrastructure#"
COMPUTE_ACTION_SCHEME = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
NETWORK_ACTION_SCHEME = "http://schemas.ogf.org/occi/infrastructure/network/action#"
STORAGE_ACTION_SCHEME = "http://schemas.ogf.org/occi/infrastructure/storage/action#"
IPNETWORK_SCHEME = "http://schemas.ogf.org/occi/infrastructure/network#"
IPNETWORKINTERFACE_SCHEME = "http://schemas.ogf.org/occi/infrastructure/networkinterface#"
CREDENTIALS_SCHEME = "http://schemas.ogf.org/occi/infrastructure/credentials#"
CONTEXT_SCHEME = "http://schemas.ogf.org/occi/infrastructure/compute#"

_COMPUTE_STATES = ("active", "inactive", "suspended", "error")
_LINK_STATES = ("active", "inactive", "error")


def _state(name: str, states: tuple[str, ...], what: str) -> tuple[AttributeDef, AttributeDef]:
    return (
        AttributeDef(name, mutable=False, required=True, enum=states, default="inactive",
                     description=f"The current state of the {what}"),
        AttributeDef(name + ".message", mutable=False,
                     description=f"Why the {what} is in its current state, in human words"),
    )


# --- compute -------------------------------------------------------------------------------

START = Action(COMPUTE_ACTION_SCHEME, "start", "Start the compute")
STOP = Action(
    COMPUTE_ACTION_SCHEME, "stop", "Stop the compute",
    attributes=(AttributeDef("method", enum=("graceful", "acpioff", "poweroff"), default="graceful",
                             description="How to stop the compute"),),
)
RESTART = Action(
    COMPUTE_ACTION_SCHEME, "restart", "Restart the compute",
    attributes=(AttributeDef("method", enum=("graceful", "warm", "cold"), default="graceful",
                             description="How to restart the compute"),),
)
SUSPEND = Action(
    COMPUTE_ACTION_SCHEME, "suspend", "Suspend the compute",
    attributes=(AttributeDef("method", enum=("hibernate", "suspend"), default="suspend",
                             description="Whether to suspend to disk or to memory"),),
)
SAVE = Action(
    COMPUTE_ACTION_SCHEME, "save", "Save the compute's disk as a new OS template",
    attributes=(
        AttributeDef("method", enum=("hot", "deferred"), default="hot",
                     description="Save now while running, or when the compute next stops"),
        AttributeDef("name", pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}",
                     description="The term of the new os_tpl mixin"),
    ),
)

COMPUTE = Kind(
    INFRA_SCHEME, "compute", "Compute Resource", parent=RESOURCE,
    attributes=(
        AttributeDef("occi.compute.architecture", enum=("x86", "x64"),
                     description="CPU architecture of the instance"),
        AttributeDef("occi.compute.cores", type="integer", minimum=1, maximum=1024,
                     description="Number of virtual CPU cores"),
        AttributeDef("occi.compute.hostname", pattern=r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,252}",
                     description="Fully qualified DNS hostname of the instance"),
        # At most what an INTEGER column holds: a larger share is no more meaningful.
        AttributeDef("occi.compute.share", type="integer", minimum=0, maximum=2 ** 31 - 1,
                     description="Relative number of CPU shares for the instance"),
        AttributeDef("occi.compute.memory", type="number", minimum=0.0625, maximum=16384,
                     description="Maximum RAM in gigabytes"),
        # At most 100 GHz: beyond any CPU, and every core's MHz still fit the hosts' counters.
        AttributeDef("occi.compute.speed", type="number", minimum=0, maximum=100,
                     description="CPU clock frequency (speed) in gigahertz (OCCI 1.1, kept for its clients)"),
        *_state("occi.compute.state", _COMPUTE_STATES, "compute"),
    ),
    actions=(START, STOP, RESTART, SUSPEND, SAVE),
    location="/compute/",
)

# --- network -------------------------------------------------------------------------------

UP = Action(NETWORK_ACTION_SCHEME, "up", "Bring the network up")
DOWN = Action(NETWORK_ACTION_SCHEME, "down", "Take the network down")

NETWORK = Kind(
    INFRA_SCHEME, "network", "Network Resource", parent=RESOURCE,
    attributes=(
        AttributeDef("occi.network.vlan", type="integer", minimum=0, maximum=4095,
                     description="802.1q VLAN identifier"),
        AttributeDef("occi.network.label", pattern=r"[A-Za-z0-9_.\-]{1,64}",
                     description="Tag based VLAN label"),
        *_state("occi.network.state", _LINK_STATES, "network"),
    ),
    actions=(UP, DOWN),
    location="/network/",
)

_CIDR = r"[0-9a-fA-F:.]+/[0-9]{1,3}"
_IP = r"[0-9a-fA-F:.]+"

IPNETWORK = Mixin(
    IPNETWORK_SCHEME, "ipnetwork", "IP Network Mixin",
    attributes=(
        AttributeDef("occi.network.address", pattern=_CIDR, description="Internet Protocol (IP) network address (CIDR)"),
        AttributeDef("occi.network.gateway", pattern=_IP, description="Internet Protocol (IP) network gateway"),
        AttributeDef("occi.network.allocation", enum=("dynamic", "static"), default="dynamic",
                     description="Address allocation mechanism"),
    ),
    applies=(NETWORK,),
    location="/ipnetwork/",
)

# --- storage -------------------------------------------------------------------------------

ONLINE = Action(STORAGE_ACTION_SCHEME, "online", "Bring the storage online")
OFFLINE = Action(STORAGE_ACTION_SCHEME, "offline", "Take the storage offline")
STORAGE_SNAPSHOT = Action(
    STORAGE_ACTION_SCHEME, "snapshot", "Take a point-in-time snapshot of the storage into secondary storage",
    attributes=(
        AttributeDef("name", pattern=r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}", description="The snapshot's name"),
    ),
)

STORAGE_BACKUP = Action(
    STORAGE_ACTION_SCHEME, "backup", "Back the storage up into secondary storage (kept as a snapshot)",
    attributes=(
        AttributeDef("name", pattern=r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}", description="The backup's name"),
    ),
)
STORAGE_RESIZE = Action(
    STORAGE_ACTION_SCHEME, "resize", "Grow the storage to a new size",
    attributes=(
        AttributeDef("size", type="number", required=True, minimum=0.001, maximum=65536,
                     description="The new size in gigabytes (storage grows, never shrinks)"),
    ),
)

STORAGE = Kind(
    INFRA_SCHEME, "storage", "Storage Resource", parent=RESOURCE,
    attributes=(
        AttributeDef("occi.storage.size", type="number", required=True, minimum=0.001, maximum=65536,
                     description="Storage size of the instance in gigabytes"),
        AttributeDef("occi.storage.state", mutable=False, required=True, enum=("online", "offline", "error"),
                     default="offline", description="The current state of the storage"),
        AttributeDef("occi.storage.state.message", mutable=False,
                     description="Why the storage is in its current state, in human words"),
    ),
    actions=(ONLINE, OFFLINE, STORAGE_SNAPSHOT, STORAGE_BACKUP, STORAGE_RESIZE),
    location="/storage/",
)

# --- links ---------------------------------------------------------------------------------

NETWORKINTERFACE = Kind(
    INFRA_SCHEME, "networkinterface", "Network Interface Link", parent=LINK,
    attributes=(
        AttributeDef("occi.networkinterface.interface", mutable=False, required=True,
                     description="Identifier that relates the link to the link's device interface"),
        AttributeDef("occi.networkinterface.mac", required=True,
                     pattern=r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}",
                     description="MAC address associated with the link's device interface"),
        *_state("occi.networkinterface.state", _LINK_STATES, "network interface"),
    ),
    location="/networkinterface/",
)

IPNETWORKINTERFACE = Mixin(
    IPNETWORKINTERFACE_SCHEME, "ipnetworkinterface", "IP Network Interface Mixin",
    attributes=(
        AttributeDef("occi.networkinterface.address", required=True, pattern=_IP,
                     description="Internet Protocol (IP) network address of the link"),
        AttributeDef("occi.networkinterface.gateway", pattern=_IP,
                     description="Internet Protocol (IP) network gateway of the link"),
        AttributeDef("occi.networkinterface.allocation", required=True, enum=("dynamic", "static"),
                     default="dynamic", description="Address allocation mechanism"),
    ),
    applies=(NETWORKINTERFACE,),
    location="/ipnetworkinterface/",
)

STORAGELINK = Kind(
    INFRA_SCHEME, "storagelink", "Storage Link", parent=LINK,
    attributes=(
        AttributeDef("occi.storagelink.deviceid", required=True, pattern=r"[A-Za-z0-9/_.\-]{1,64}",
                     description="Device identifier as defined by the OCCI service provider"),
        AttributeDef("occi.storagelink.mountpoint", pattern=r"/[^\x00]{0,254}",
                     description="Point to where the storage is mounted in the guest OS"),
        *_state("occi.storagelink.state", _LINK_STATES, "storage link"),
    ),
    location="/storagelink/",
)

# --- templates and contextualization --------------------------------------------------------

OS_TPL = Mixin(
    INFRA_SCHEME, "os_tpl", "OS Template",
    applies=(COMPUTE,),
    location="/os_tpl/",
)
RESOURCE_TPL = Mixin(
    INFRA_SCHEME, "resource_tpl", "Resource Template",
    applies=(COMPUTE,),
    location="/resource_tpl/",
)

#: The longest user data (base64), as Nova allows: cloud-init scripts outgrow a site's
#: general attribute length (occistack.max_attribute_length) long before this.
USER_DATA_LENGTH = 65535
#: The longest public key text: several keys of the largest kinds.
PUBLIC_KEY_LENGTH = 16384

SSH_KEY = Mixin(
    CREDENTIALS_SCHEME, "ssh_key", "Credentials: an SSH public key",
    attributes=(AttributeDef("occi.credentials.ssh.publickey", required=True, max_length=PUBLIC_KEY_LENGTH,
                             description="The contents of the public key file to inject, or the name of "
                                         "one of your key pairs"),),
    applies=(COMPUTE,),
    location="/ssh_key/",
)
USER_DATA = Mixin(
    CONTEXT_SCHEME, "user_data", "Contextualization: user data",
    attributes=(AttributeDef("occi.compute.userdata", required=True, max_length=USER_DATA_LENGTH,
                             description="Contextualization data (e.g. a cloud-init script), base64 encoded"),),
    applies=(COMPUTE,),
    location="/user_data/",
)

INFRASTRUCTURE_KINDS = (COMPUTE, STORAGE, NETWORK, NETWORKINTERFACE, STORAGELINK)
INFRASTRUCTURE_MIXINS = (IPNETWORK, IPNETWORKINTERFACE, OS_TPL, RESOURCE_TPL, SSH_KEY, USER_DATA)
INFRASTRUCTURE_ACTIONS = (START, STOP, RESTART, SUSPEND, SAVE, UP, DOWN, ONLINE, OFFLINE, STORAGE_SNAPSHOT,
                          STORAGE_BACKUP, STORAGE_RESIZE)
