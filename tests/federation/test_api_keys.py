"""API keys as a credential (issue 14, point 2): the face-neutral verifier of signed requests
that the CloudStack and EC2 faces will call, over users whose keys the plane made.

The expected signatures are vectors computed outside Python, with OpenSSL:

    printf '%s' "$STRING" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64
    printf '%s' "$STRING" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64   (and -hex)

and RFC 2202 / RFC 4231's test case 2 for the HMACs themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from occistack.federation.api_keys import (
    ApiKeyRefused,
    ApiKeyVerifier,
    SignatureAlgorithm,
    SignedRequest,
    cloudstack_string_to_sign,
    sign,
)
from occistack.federation.errors import IssuerUnavailable
from occistack.model import ApiKey
from occistack.plane.admin.cases import api_keys, tenancy, users
from occistack.plane.admin.cases.api_keys import ApiKeyFilter, NewApiKey
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.tenancy import NewAccount, NewDomain
from occistack.plane.admin.cases.users import NewUser
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import Conflict, NotFound
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.sealing import Sealer

SECRET = "wJalrXUtnFEMI-K7MDENG_bPxRfiCYEXAMPLEKEY1"
PARAMETERS = [("command", "listVirtualMachines"), ("zoneId", "3"), ("response", "json"),
              ("name", "web server~1*"), ("apiKey", "OSK3Y4CL0UDST4CK00"), ("signature", "ignored")]
STRING = "apikey=osk3y4cl0udst4ck00&command=listvirtualmachines&name=web%20server%7e1*&response=json&zoneid=3"
SHA1_BASE64 = "q3avaYETb4AQ8AzlL6sWvWQBCyg="
SHA256_BASE64 = "hlMV2Wf1OshhNXQrWVrjMiTwXOedI1OoIqv9qYFpYLk="
SHA256_HEX = "865315d967f53ac86135742b595ae33224f05ce79d2353a822abfda9816960b9"


def test_cloudstack_s_string_to_sign_sorts_encodes_and_lowercases():
    """Sorted by name, the signature left out, values encoded as Java's URLEncoder does ("~"
    encoded, "*" not, a space as %20), the whole lower-cased; a repeated name counts once."""
    assert cloudstack_string_to_sign(PARAMETERS) == STRING
    assert cloudstack_string_to_sign(PARAMETERS + [("zoneId", "4")]) == STRING
    assert cloudstack_string_to_sign([("b", "x/y+z&é"), ("a", "")]) == "a=&b=x%2fy%2bz%26%c3%a9"


def test_signatures_match_vectors_computed_elsewhere():
    assert sign("Jefe", "what do ya want for nothing?") == "7/zfauXrL6LSdBbV8YTfnCWafHk="  # RFC 2202, case 2
    assert sign("Jefe", "what do ya want for nothing?", SignatureAlgorithm.HMAC_SHA256) == \
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="  # RFC 4231, case 2
    assert sign(SECRET, STRING) == SHA1_BASE64
    assert sign(SECRET, STRING, SignatureAlgorithm.HMAC_SHA256) == SHA256_BASE64


# --- verifying requests against the plane's keys -----------------------------------------------------

class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 7, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sealer():
    return Sealer(Fernet.generate_key())


@pytest.fixture
def plane(session_factory, sealer):
    """Runs a plane operation in a transaction of its own, committed."""
    services = PlaneServices(dispatcher=None, placement=PlacementService(), password_min_length=10, sealer=sealer,
                             limits=SiteLimits())

    def run(operation, *arguments, **keywords):
        with session_factory() as session:
            result = operation(PlaneContext(session, None, services), *arguments, **keywords)
            session.commit()
            return result
    return run


@pytest.fixture
def alice(plane):
    """A user of account lab in domain /science/physics/."""
    plane(tenancy.add_domain, NewDomain(name="science"))
    plane(tenancy.add_domain, NewDomain(name="physics", parent="/science/"))
    plane(tenancy.add_account, NewAccount(name="lab", domain="/science/physics/"))
    return plane(users.add_user, NewUser(name="alice", password="a-long-password", project="physics-p",
                                         account="lab", domain="/science/physics/", role="member",
                                         create_project=True)).user


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def verifier(engine, sealer, clock):
    return ApiKeyVerifier(engine, sealer.open, clock)


def signed(access_key: str, secret: str, algorithm=SignatureAlgorithm.HMAC_SHA1, text: str = STRING) -> SignedRequest:
    return SignedRequest(access_key, text, sign(secret, text, algorithm), algorithm)


def test_a_request_signed_with_a_user_s_key_is_that_user(plane, alice, verifier, clock, engine):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    assert created.key.access_key.startswith("OS") and len(created.key.access_key) == 20
    assert len(created.secret) == 40 and created.key.last_used_at is None
    for algorithm in SignatureAlgorithm:
        identity = verifier.verify(signed(created.key.access_key, created.secret, algorithm))
        assert (identity.user_id, identity.user_name, identity.project_id, identity.role, identity.method) == (
            alice.id, "alice", alice.project_id, "member", "api-key")
    [listed] = plane(api_keys.list_api_keys, ApiKeyFilter(user="alice"))
    assert listed.last_used_at == clock.now and not hasattr(listed, "secret")
    with engine.connect() as connection:  # stored sealed, never in the clear
        stored = connection.scalar(select(ApiKey.sealed_secret))
    assert created.secret not in stored


def test_the_vectors_verify_with_a_known_secret(plane, alice, verifier, engine, sealer):
    """The same vectors as above, through the verifier: a key whose secret is SECRET."""
    created = plane(api_keys.create_api_key, NewApiKey(user=alice.id))
    with engine.begin() as connection:
        connection.execute(update(ApiKey).values(sealed_secret=sealer.seal(SECRET)))
    key = created.key.access_key
    for signature, algorithm in ((SHA1_BASE64, SignatureAlgorithm.HMAC_SHA1),
                                 (SHA256_BASE64, SignatureAlgorithm.HMAC_SHA256),
                                 (SHA256_HEX, SignatureAlgorithm.HMAC_SHA256)):
        assert verifier.verify(SignedRequest(key, STRING, signature, algorithm)).user_name == "alice"
    for signature, algorithm in ((SHA1_BASE64, SignatureAlgorithm.HMAC_SHA256),
                                 (SHA256_BASE64, SignatureAlgorithm.HMAC_SHA1)):
        with pytest.raises(ApiKeyRefused, match="must be the base64 of a"):
            verifier.verify(SignedRequest(key, STRING, signature, algorithm))


@pytest.mark.parametrize("change, message", [
    (lambda request: SignedRequest(request.access_key, request.string_to_sign + "&x=1", request.signature),
     "the signature does not match"),
    (lambda request: SignedRequest("OSNOSUCHKEY0000000000", request.string_to_sign, request.signature),
     "no API key 'OSNOSUCHKEY0000000000'"),
    (lambda request: SignedRequest(request.access_key, request.string_to_sign, "not base64!"),
     "must be the base64 of a 20-byte HmacSHA1 digest"),
    (lambda request: SignedRequest(request.access_key, request.string_to_sign, request.signature, "HmacMD5"),
     "unknown signature method 'HmacMD5'"),
    (lambda request: SignedRequest("", request.string_to_sign, request.signature), "1 to 64 characters"),
])
def test_a_wrong_request_is_refused_saying_why(plane, alice, verifier, change, message):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    with pytest.raises(ApiKeyRefused, match=message):
        verifier.verify(change(signed(created.key.access_key, created.secret)))


def test_a_key_signed_with_another_key_s_secret_is_refused(plane, alice, verifier):
    first = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    second = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    with pytest.raises(ApiKeyRefused, match="does not match"):
        verifier.verify(signed(first.key.access_key, second.secret))


def test_a_revoked_key_is_refused_at_once_and_loses_its_secret(plane, alice, verifier, engine):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    request = signed(created.key.access_key, created.secret)
    verifier.verify(request)
    revoked = plane(api_keys.revoke_api_key, created.key.access_key)
    assert revoked.revoked_at is not None
    with pytest.raises(ApiKeyRefused, match="was revoked at"):
        verifier.verify(request)
    with engine.connect() as connection:
        assert connection.scalar(select(ApiKey.sealed_secret)) is None
    assert plane(api_keys.revoke_api_key, created.key.id) == revoked  # again: nothing changes
    assert plane(api_keys.list_api_keys, ApiKeyFilter(include_revoked=False)) == []


@pytest.mark.parametrize("disable", [
    lambda plane: plane(users.act_on_user, "alice", Switch.DISABLE),
    lambda plane: plane(tenancy.act_on_account, "lab", Switch.DISABLE, domain="/science/physics/"),
    lambda plane: plane(tenancy.act_on_domain, "/science/physics/", Switch.DISABLE),
    lambda plane: plane(tenancy.act_on_domain, "/science/", Switch.DISABLE),
], ids=["user", "account", "domain", "parent domain"])
def test_a_disabled_user_account_or_domain_refuses_the_key(plane, alice, verifier, disable):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    request = signed(created.key.access_key, created.secret)
    verifier.verify(request)
    disable(plane)
    with pytest.raises(ApiKeyRefused, match="is disabled at this site"):
        verifier.verify(request)


def test_a_sibling_domain_s_switch_leaves_the_key_alone(plane, alice, verifier):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    plane(tenancy.add_domain, NewDomain(name="phys", parent="/science/"))  # "phys" prefixes "physics"
    plane(tenancy.act_on_domain, "/science/phys/", Switch.DISABLE)
    assert verifier.verify(signed(created.key.access_key, created.secret)).user_name == "alice"


def test_last_use_is_written_once_a_minute(plane, alice, verifier, clock):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    request = signed(created.key.access_key, created.secret)
    first = clock.now
    verifier.verify(request)
    clock.now = first + timedelta(seconds=30)
    verifier.verify(request)
    assert plane(api_keys.show_api_key, created.key.id).last_used_at == first
    clock.now = first + timedelta(minutes=2)
    verifier.verify(request)
    assert plane(api_keys.show_api_key, created.key.id).last_used_at == clock.now


def test_a_secret_this_site_cannot_open_is_the_site_s_fault(plane, alice, engine, clock):
    created = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    other_site = ApiKeyVerifier(engine, Sealer(Fernet.generate_key()).open, clock)
    with pytest.raises(IssuerUnavailable, match="cannot open"):
        other_site.verify(signed(created.key.access_key, created.secret))


def test_a_user_holds_two_keys_at_most_and_a_revoke_makes_room(plane, alice):
    first = plane(api_keys.create_api_key, NewApiKey(user="alice"))
    plane(api_keys.create_api_key, NewApiKey(user="alice"))
    with pytest.raises(Conflict, match="already holds 2 API keys"):
        plane(api_keys.create_api_key, NewApiKey(user="alice"))
    plane(api_keys.revoke_api_key, first.key.id)
    plane(api_keys.create_api_key, NewApiKey(user="alice"))
    assert len(plane(api_keys.list_api_keys, ApiKeyFilter(user=alice.id))) == 3
    with pytest.raises(NotFound, match="no API key 'OSNONE'"):
        plane(api_keys.show_api_key, "OSNONE")
