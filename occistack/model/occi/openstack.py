"""The OpenStack-scheme contextualization mixins that ooi introduced and the EGI clients use.

rOCCI-cli, VMDIRAC and the Infrastructure Manager send these rather than the OCCI 1.2 ones, and
the ARGO ``OCCI-Context`` probe fails an endpoint that does not advertise them.
"""

from __future__ import annotations

from .categories import AttributeDef, Mixin
from .infrastructure import COMPUTE

OPENSTACK_USER_DATA_SCHEME = "http://schemas.openstack.org/compute/instance#"
OPENSTACK_CREDENTIALS_SCHEME = "http://schemas.openstack.org/instance/credentials#"

OPENSTACK_USER_DATA = Mixin(
    OPENSTACK_USER_DATA_SCHEME, "user_data", "Contextualization extension - user_data",
    attributes=(AttributeDef("org.openstack.compute.user_data", required=True,
                             description="Contextualization data, base64 encoded"),),
    applies=(COMPUTE,),
    location="/openstack/user_data/",
)

OPENSTACK_PUBLIC_KEY = Mixin(
    OPENSTACK_CREDENTIALS_SCHEME, "public_key", "Contextualization extension - public_key",
    attributes=(
        AttributeDef("org.openstack.credentials.publickey.name", description="The name of the key pair"),
        AttributeDef("org.openstack.credentials.publickey.data", required=True,
                     description="The contents of the SSH public key"),
    ),
    applies=(COMPUTE,),
    location="/openstack/public_key/",
)

OPENSTACK_MIXINS = (OPENSTACK_USER_DATA, OPENSTACK_PUBLIC_KEY)
