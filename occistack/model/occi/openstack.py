"""The OpenStack-scheme contextualization mixins that ooi introduced and the EGI clients use.

rOCCI-cli, VMDIRAC and the Infrastructure Manager send these rather than the OCCI 1.2 ones, and
the ARGO ``OCCI-Context`` probe fails an endpoint that does not advertise them.
"""

from __future__ import annotations

from occistack.model.occi.categories import AttributeDef, Mixin
from occistack.model.occi.infrastructure import COMPUTE, PUBLIC_KEY_LENGTH, USER_DATA_LENGTH

OPENSTACK_USER_DATA_SCHEME = "http://schemas.openstack.org/compute/instance#"
OPENSTACK_CREDENTIALS_SCHEME = "http://schemas.openstack.org/instance/credentials#"

OPENSTACK_USER_DATA = Mixin(
    OPENSTACK_USER_DATA_SCHEME, "user_data", "Contextualization extension - user_data",
    # Nova's limit on user data, which the clients that send it are written for.
    attributes=(AttributeDef("org.openstack.compute.user_data", required=True, max_length=USER_DATA_LENGTH,
                             description="Contextualization data, base64 encoded"),),
    applies=(COMPUTE,),
    location="/openstack/user_data/",
)

OPENSTACK_PUBLIC_KEY = Mixin(
    OPENSTACK_CREDENTIALS_SCHEME, "public_key", "Contextualization extension - public_key",
    attributes=(
        # Either attribute names the key: the data is the key itself, the name one of the
        # user's key pairs (when both are given, the data is the key and the name a label).
        AttributeDef("org.openstack.credentials.publickey.name", max_length=255,
                     description="The name of one of your key pairs (without publickey.data)"),
        AttributeDef("org.openstack.credentials.publickey.data", max_length=PUBLIC_KEY_LENGTH,
                     description="The contents of the SSH public key (or give publickey.name)"),
    ),
    applies=(COMPUTE,),
    location="/openstack/public_key/",
)

OPENSTACK_MIXINS = (OPENSTACK_USER_DATA, OPENSTACK_PUBLIC_KEY)
