"""The tenant-isolation matrix: every route of the server × every method × every kind of caller,
with the status each must get.

The cells are generated from the application's route table: each route is claimed by exactly
one family below, which builds its URLs and says what each caller must get; a route that no
family claims fails the test, so a new route cannot escape the matrix.

The callers: the owner (a member of project A, who made the targets), a reader of project A, a
member of project B, the site's admin (a user of project C whose role is admin) and an anonymous
client. The OCCI face is per project for everyone, admins included -- the admin API is where an
admin sees the whole site: another project's entity is a 404 (never a 403, which would tell that
it exists), a reader's write a 403, a user's admin request a 403. Every refused request leaves
the owner's targets exactly as they were; the owner's own destructive cells (delete, actions)
run against a fresh project of their own, so they cannot hide a leak in the shared targets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from pyramid.interfaces import IRoutesMapper

from tests.api.occi_face import OCCIClient
from tests.occi import (
    COMPUTE_ACTIONS,
    INFRA,
    NETWORK_ACTIONS,
    STORAGE_ACTIONS,
    TEXT,
    action,
    attribute,
    compute_body,
    link_line,
    network_body,
    path_of,
    storage_body,
)

#: The built-in token service's routes exist only when it runs; they are in the matrix too.
WORLD_SETTINGS = {"occistack.keystone.builtin": "true"}

CALLERS = ("owner", "reader", "other", "admin", "anonymous")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")
TAGS = "http://isolation.example.org/tags#"
#: A kind's action that changes its state, for POST ?action= on entities and collections.
KIND_ACTIONS = {"compute": ("stop", COMPUTE_ACTIONS), "network": ("down", NETWORK_ACTIONS),
                "storage": ("offline", STORAGE_ACTIONS)}


# --- the targets: what the owner has in project A -----------------------------------------------------

@dataclass
class Targets:
    """The owner's entities of every kind, and a user mixin of theirs that tags the compute."""

    paths: dict[str, str]
    mixin_term: str
    mixin_location: str
    title: str
    #: the name of the owner's SSH key pair (/user/keypairs: the user's own, not the project's).
    keypair: str = ""

    @property
    def mixin_category(self) -> str:
        return f'Category: {self.mixin_term}; scheme="{TAGS}"; class="mixin"; location="{self.mixin_location}"'


def make_targets(owner: OCCIClient) -> Targets:
    title = f"secret-{uuid.uuid4().hex[:8]}"

    def created(path: str, body: str) -> str:
        return path_of(owner.post(path, body, headers=TEXT, status=201).headers["Location"])

    network = created("/network/", network_body(title=title, address=None))
    volume = created("/storage/", storage_body(1, title=title))
    compute = created("/compute/", compute_body(link_line(network, "network", "networkinterface"),
                                                link_line(volume, "storage", "storagelink"), title=title))
    rendering = owner.get(compute, headers=TEXT).text
    link_paths = {}
    for line in rendering.splitlines():
        if line.startswith("Link: ") and "self=" in line:
            kind = "networkinterface" if "networkinterface" in line else "storagelink"
            link_paths[kind] = line.split('self="', 1)[1].split('"', 1)[0]
    term = f"tag{uuid.uuid4().hex[:8]}"
    targets = Targets({"compute": compute, "storage": volume, "network": network, **link_paths}, term,
                      f"/{term}/", title)
    owner.post("/-/", targets.mixin_category, headers=TEXT, status=200)
    owner.post(targets.mixin_location, f"X-OCCI-Location: {compute}", headers=TEXT, status=200)
    targets.keypair = owner.post_json("/user/keypairs", {"name": f"key-{title}"}, status=201).json["name"]
    return targets


def snapshot(owner: OCCIClient, targets: Targets) -> dict[str, str]:
    """Everything the owner can read of the targets, to show that a refused request changed nothing."""
    seen = {kind: owner.get(path, headers=TEXT, status=200).text for kind, path in targets.paths.items()}
    seen["mixin members"] = owner.get(targets.mixin_location, headers=TEXT, status=200).text
    seen["key pairs"] = owner.get("/user/keypairs", status=200).text
    return seen


# --- the cells -----------------------------------------------------------------------------------------

@dataclass
class Cell:
    """One request of one caller, and the status it must get."""

    route: str
    method: str
    path: str
    expected: int | Callable[[int], bool]
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: dict(TEXT))
    #: What else must hold of the answer: (description, predicate of the response).
    check: tuple[str, Callable] | None = None
    #: Runs against a fresh project of the owner's (a request that destroys or changes state).
    fresh: bool = False

    def describe(self) -> str:
        return f"{self.method} {self.path} [{self.route}]"


ANY_ADMIN_ANSWER = "an admin's answer: neither 401, 403 nor 5xx"


def admin_answer(status: int) -> bool:
    return status not in (401, 403) and status < 500


def by_caller(caller: str, owner: int, reader: int, other: int, admin: int | None = None) -> int:
    """The status of one caller; an admin of another project is answered as any other project's user."""
    return {"owner": owner, "reader": reader, "other": other, "admin": other if admin is None else admin,
            "anonymous": 401}[caller]


def lists(targets: Targets, kind: str, wanted: bool) -> tuple[str, Callable]:
    def check(response) -> bool:
        listed = [line for line in response.text.splitlines() if line and not line.startswith("#")]
        return any(location.endswith(targets.paths[kind]) for location in listed) == wanted
    return (f"the listing {'shows' if wanted else 'does not show'} the owner's {kind}", check)


def entity_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    kind = route.split("_")[1]
    path = pattern.replace("{entity_id}", targets.paths[kind].rsplit("/", 1)[1])
    readable = by_caller(caller, 200, 200, 404)
    writable = by_caller(caller, 200, 403, 404)
    yield Cell(route, "GET", path, readable)
    yield Cell(route, "HEAD", path, readable)
    # A partial update that sets the title it has: the owner's targets stay as the other cells expect.
    yield Cell(route, "POST", path, writable, attribute("occi.core.title", targets.title))
    # The owner replaces with what they read; anyone else tries to create at the owner's URL.
    replacement = (owner.get(targets.paths[kind], headers=TEXT).text if caller == "owner"
                   else collection_bodies(kind, targets))
    yield Cell(route, "PUT", path, writable, replacement)
    # A delete is always accepted (issue 12), also of the volume and network the compute uses.
    yield Cell(route, "DELETE", path, writable, fresh=True)
    yield Cell(route, "PATCH", path, by_caller(caller, 405, 405, 405))
    if kind in KIND_ACTIONS:
        yield Cell(route, "POST", path + "?action=" + KIND_ACTIONS[kind][0], writable,
                   action(*KIND_ACTIONS[kind]), fresh=True)


def collection_bodies(kind: str, targets: Targets) -> str:
    """What each caller POSTs to create: links name the owner's entities, so only the owner's
    project may create them (another project's request is a 404: the link's end is not found)."""
    paths = targets.paths
    if kind == "compute":
        return compute_body(link_line(paths["network"], "network", "networkinterface"))
    if kind == "storage":
        return storage_body(1)
    if kind == "network":
        return network_body(address=None)
    if kind == "networkinterface":
        return "\n".join([f'Category: networkinterface; scheme="{INFRA}"; class="kind"',
                          attribute("occi.core.source", paths["compute"]),
                          attribute("occi.core.target", paths["network"])])
    return "\n".join([f'Category: storagelink; scheme="{INFRA}"; class="kind"',
                      attribute("occi.core.source", paths["compute"]),
                      attribute("occi.core.target", paths["storage"])])


def collection_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    kind = route.split("_")[1]
    sees = caller in ("owner", "reader")
    listed = by_caller(caller, 200, 200, 200)
    yield Cell(route, "GET", pattern, listed, headers={"Accept": "text/uri-list"},
               check=lists(targets, kind, sees) if caller != "anonymous" else None)
    yield Cell(route, "HEAD", pattern, listed)
    wanted = {"Accept": "text/uri-list", "Content-Type": "text/plain",
              "X-OCCI-Attribute": f'occi.core.title="{targets.title}"'}
    yield Cell(route, "GET", pattern + "?filter", listed, headers=wanted,
               check=lists(targets, kind, sees) if caller != "anonymous" else None)
    linked = kind in ("compute", "networkinterface", "storagelink")
    created = by_caller(caller, 201, 403, 404 if linked else 201)
    # A storage link between a compute and a volume it already has: the owner gets 409 for the pair.
    if kind == "storagelink" and caller == "owner":
        created = 409
    yield Cell(route, "POST", pattern, created, collection_bodies(kind, targets), fresh=caller == "owner")
    if kind in KIND_ACTIONS:
        yield Cell(route, "POST", pattern + "?action=" + KIND_ACTIONS[kind][0], by_caller(caller, 200, 403, 200),
                   action(*KIND_ACTIONS[kind]), fresh=caller == "owner")
    # A delete is always accepted (issue 12), also of the volume and network the compute uses.
    deleted = by_caller(caller, 200, 403, 200)
    yield Cell(route, "DELETE", pattern, deleted, fresh=caller == "owner")
    yield Cell(route, "PUT", pattern, by_caller(caller, 405, 405, 405))
    yield Cell(route, "PATCH", pattern, by_caller(caller, 405, 405, 405))


def mixin_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    # The owner's tag: user mixins are the user's own, not even their project's.
    tag, compute = targets.mixin_location, targets.paths["compute"]
    member = f"X-OCCI-Location: {compute}"
    yield Cell(route, "GET", tag, by_caller(caller, 200, 404, 404), headers={"Accept": "text/uri-list"},
               check=lists(targets, "compute", True) if caller == "owner" else None)
    yield Cell(route, "HEAD", tag, by_caller(caller, 200, 404, 404))
    yield Cell(route, "POST", tag, by_caller(caller, 200, 403, 404), member)
    yield Cell(route, "PUT", tag, by_caller(caller, 200, 403, 404), member)
    yield Cell(route, "DELETE", tag, by_caller(caller, 200, 403, 404), member, fresh=True)
    yield Cell(route, "PATCH", tag, by_caller(caller, 405, 404, 404))
    # The provider's template mixin: everyone has it, but its members are each project's own.
    template = "/os_tpl/debian-12/"
    yield Cell(route, "GET", template, by_caller(caller, 200, 200, 200), headers={"Accept": "text/uri-list"},
               check=lists(targets, "compute", caller in ("owner", "reader")) if caller != "anonymous" else None)
    yield Cell(route, "POST", template + "?action=stop", by_caller(caller, 200, 403, 200),
               action("stop"), fresh=caller == "owner")
    yield Cell(route, "POST", tag + "?action=stop", by_caller(caller, 200, 403, 404), action("stop"), fresh=True)


def root_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    sees = caller in ("owner", "reader")
    yield Cell(route, "GET", pattern, by_caller(caller, 200, 200, 200), headers={"Accept": "text/uri-list"},
               check=lists(targets, "compute", sees) if caller != "anonymous" else None)
    yield Cell(route, "HEAD", pattern, by_caller(caller, 200, 200, 200))
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        yield Cell(route, method, pattern, by_caller(caller, 405, 405, 405))


def query_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    def discovery_check(wanted: bool) -> tuple[str, Callable]:
        return (f"the query interface {'shows' if wanted else 'does not show'} the owner's mixin",
                lambda response: (f'Category: {targets.mixin_term}; scheme="{TAGS}"' in response.text) == wanted)

    yield Cell(route, "GET", pattern, by_caller(caller, 200, 200, 200),
               check=discovery_check(caller == "owner") if caller != "anonymous" else None)
    yield Cell(route, "HEAD", pattern, by_caller(caller, 200, 200, 200))
    # The name probe: the owner's very term, scheme and location are free for anyone else (each
    # user's mixins are their own), so the answer tells nothing of the owner's; the owner is told
    # that they have it already.
    yield Cell(route, "POST", pattern, by_caller(caller, 409, 403, 200), targets.mixin_category)
    yield Cell(route, "DELETE", pattern, by_caller(caller, 200, 403, 404),
               f'Category: {targets.mixin_term}; scheme="{TAGS}"; class="mixin"', fresh=caller == "owner")
    yield Cell(route, "PUT", pattern, by_caller(caller, 405, 405, 405))
    yield Cell(route, "PATCH", pattern, by_caller(caller, 405, 405, 405))


def keypair_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    # A key pair is its user's own: a colleague in the same project (the reader) does not see it.
    json_body = {"Content-Type": "application/json"}
    if route == "user_keypairs":
        path = pattern.replace("{slash:/?}", "")
        yield Cell(route, "GET", path, by_caller(caller, 200, 200, 200), check=(
            f"the listing {'shows' if caller == 'owner' else 'does not show'} the owner's key pair",
            lambda response: (targets.keypair in response.text) == (caller == "owner"))
            if caller != "anonymous" else None)
        yield Cell(route, "HEAD", path, by_caller(caller, 200, 200, 200))
        # The owner is told they have the name already; anyone else makes a key pair of their own
        # (under another name: a namesake of theirs would answer their GET of the item below).
        name = targets.keypair if caller == "owner" else f"{targets.keypair}-{caller}"
        yield Cell(route, "POST", path, by_caller(caller, 409, 403, 201), f'{{"name": "{name}"}}', headers=json_body)
        for method in ("PUT", "DELETE", "PATCH"):
            yield Cell(route, method, path, by_caller(caller, 405, 405, 405))
        return
    path = pattern.replace("{name}", targets.keypair)
    yield Cell(route, "GET", path, by_caller(caller, 200, 404, 404))
    yield Cell(route, "HEAD", path, by_caller(caller, 200, 404, 404))
    yield Cell(route, "DELETE", path, by_caller(caller, 200, 403, 404), fresh=caller == "owner")
    for method in ("POST", "PUT", "PATCH"):
        yield Cell(route, method, path, by_caller(caller, 405, 405, 405), "{}", headers=json_body)


def admin_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    # Rows that do not exist: the admin's answers are 404, 400 or 405, and nothing is removed.
    path = (pattern.replace("{id:\\d+}", "999999").replace("{range_id:\\d+}", "999999")
            .replace("{action}", "enable").replace("*rest", "nothing").replace("{name}", "no.such_setting")
            .replace("{vm_id}", "no-such-compute"))
    expected = admin_answer if caller == "admin" else by_caller(caller, 403, 403, 403)
    for method in METHODS:
        yield Cell(route, method, path, expected, "{}", headers={"Content-Type": "application/json"})


def agent_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    # Only hosts speak here; a user's credentials are no host's.
    yield Cell(route, "POST", pattern, 401, '{"type": "heartbeat"}', headers={"Content-Type": "application/json"})
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        yield Cell(route, method, pattern, 405)


def monitoring_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    if route == "healthz":
        # Anyone, credentials or none: healthy (200) or not (503), never refused, and naming nothing.
        names_nothing = ("the health answer names nothing of the owner's", lambda response: targets.title not in
                         response.text)
        for method in ("GET", "HEAD"):
            yield Cell(route, method, pattern, lambda status: status in (200, 503), check=names_nothing)
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            yield Cell(route, method, pattern, 405)
        return
    # /metrics: the admin role's (no token or network is configured in the world).
    for method in METHODS:
        yield Cell(route, method, pattern, by_caller(caller, 403, 403, 403, admin=200 if method in ("GET", "HEAD")
                                                     else 405))


#: What the token service answers to HTTP Basic callers, whoever they are: it reads only its own
#: credentials (federated ones, and its tokens), so a local user's password gets no token.
KEYSTONE_ANSWERS = {
    "keystone_versions": {"GET": 300, "HEAD": 300},
    "keystone_v3": {"GET": 200, "HEAD": 200},
    "keystone_v2": {"GET": 200, "HEAD": 200},
    "keystone_v3_federation_auth": {"GET": 401, "HEAD": 401, "POST": 401},
    "keystone_v3_tokens": {"POST": 400},
    "keystone_v3_projects": {"GET": 401, "HEAD": 401},
    # A body without its "user" object; with one, a caller proves a password, not a credential.
    "keystone_v3_user_password": {"POST": 400},
    "keystone_v2_tokens": {"POST": 400},
    "keystone_v2_tenants": {"GET": 401, "HEAD": 401},
    "keystone_unknown": dict.fromkeys(METHODS, 404),
}


def keystone_cells(route: str, pattern: str, caller: str, targets: Targets, owner: OCCIClient) -> Iterator[Cell]:
    path = (pattern.replace("{slash:/?}", "/").replace("{identity_provider}", "egi.eu")
            .replace("{protocol}", "mapped").replace("{user_id:\\d+}", "1").replace("*rest", "nothing"))
    for method in METHODS:
        yield Cell(route, method, path, KEYSTONE_ANSWERS[route].get(method, 405), "{}",
                   headers={"Content-Type": "application/json"})


#: family: (which routes it claims, its cells).
FAMILIES: dict[str, tuple[Callable[[str], bool], Callable]] = {
    "entity": (lambda name: name.startswith("entity_"), entity_cells),
    "collection": (lambda name: name.startswith("collection_"), collection_cells),
    "mixin": (lambda name: name == "mixin_collection", mixin_cells),
    "root": (lambda name: name == "root", root_cells),
    "query": (lambda name: name.startswith("query_interface"), query_cells),
    "admin": (lambda name: name.startswith("admin_"), admin_cells),
    "agent": (lambda name: name == "agent_messages", agent_cells),
    "keystone": (lambda name: name.startswith("keystone_"), keystone_cells),
    "keypair": (lambda name: name.startswith("user_keypair"), keypair_cells),
    "monitoring": (lambda name: name in ("healthz", "metrics"), monitoring_cells),
}


def routes_of(wsgi_app) -> list[tuple[str, str]]:
    return [(route.name, route.pattern) for route in wsgi_app.registry.getUtility(IRoutesMapper).get_routes()]


# --- the tests -----------------------------------------------------------------------------------------

@dataclass
class Tenants:
    owner: OCCIClient
    clients: dict[str, OCCIClient]
    targets: Targets


@pytest.fixture(scope="module")
def tenants(world) -> Tenants:
    owner = world.client("owner")
    clients = {"owner": owner, "reader": world.client("reader", role="reader", beside=owner),
               "other": world.client("other"), "admin": world.client("admin", role="admin"),
               "anonymous": world.anonymous()}
    return Tenants(owner, clients, make_targets(owner))


def test_every_route_belongs_to_exactly_one_family(world):
    for name, pattern in routes_of(world.wsgi_app):
        claimed = [family for family, (claims, _) in FAMILIES.items() if claims(name)]
        assert len(claimed) == 1, \
            f"route {name} ({pattern}) is claimed by {claimed or 'no family'}: add it to the matrix"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("family", FAMILIES)
def test_isolation_matrix(world, tenants, family, caller):
    claims, cells_of = FAMILIES[family]
    routes = [(name, pattern) for name, pattern in routes_of(world.wsgi_app) if claims(name)]
    assert routes, f"no route of the family {family}"
    client = tenants.clients[caller]
    failures, cells = [], 0
    for route, pattern in routes:
        for index, cell in enumerate(cells_of(route, pattern, caller, tenants.targets, tenants.owner)):
            cells += 1
            if cell.fresh and caller == "owner":
                # The owner's destructive requests go to a project of their own, made for the cell.
                owner = world.client("owner")
                targets = make_targets(owner)
                cell = list(cells_of(route, pattern, caller, targets, owner))[index]
                failures += run_cell(owner, targets, owner, caller, cell)
            else:
                failures += run_cell(tenants.owner, tenants.targets, client, caller, cell)
    assert not failures, f"{len(failures)} of {cells} cells wrong:\n" + "\n".join(failures)


def run_cell(owner: OCCIClient, targets: Targets, client: OCCIClient, caller: str, cell: Cell) -> list[str]:
    before = snapshot(owner, targets) if caller != "owner" and cell.method not in ("GET", "HEAD") else None
    path = cell.path.removesuffix("?filter")
    response = client.request(path, method=cell.method, body=cell.body.encode(), headers=cell.headers,
                              expect_errors=True)
    status = response.status_int
    wrong = []
    if callable(cell.expected):
        if not cell.expected(status):
            wrong.append(f"{caller}: {cell.describe()} → {status}, expected {ANY_ADMIN_ANSWER}: {response.text[:200]}")
    elif status != cell.expected:
        wrong.append(f"{caller}: {cell.describe()} → {status}, expected {cell.expected}: {response.text[:200]}")
    if not wrong and cell.check is not None and not cell.check[1](response):
        wrong.append(f"{caller}: {cell.describe()}: not so that {cell.check[0]}")
    if before is not None and snapshot(owner, targets) != before:
        wrong.append(f"{caller}: {cell.describe()} changed the owner's entities")
    if cell.method == "POST" and cell.route.startswith("query_interface") and status == 200 and caller != "owner":
        # Take the caller's namesake mixin away again, for the cells that follow.
        client.delete("/-/", f'Category: {targets.mixin_term}; scheme="{TAGS}"; class="mixin"', headers=TEXT,
                      status=200)
    return wrong


def test_a_colleague_s_namesake_mixin_is_not_the_owner_s(world, tenants):
    """User mixins are each user's own, even inside one project: a colleague who defines a mixin
    with the owner's very identifier gets a mixin of their own, with none of the owner's members."""
    owner, targets = tenants.owner, tenants.targets
    colleague = world.client("colleague", beside=owner)
    category = f'Category: {targets.mixin_term}; scheme="{TAGS}"; class="mixin"; location="/colleague-tag/"'
    colleague.post("/-/", category, headers=TEXT, status=200)
    try:
        assert colleague.get("/colleague-tag/", headers={"Accept": "text/uri-list"}, status=200).text.strip() == ""
        members = owner.get(targets.mixin_location, headers={"Accept": "text/uri-list"}, status=200).text
        assert targets.paths["compute"] in members
        rendering = colleague.get(targets.paths["compute"], headers=TEXT, status=200).text
        assert "/colleague-tag/" not in rendering
        colleague.post("/colleague-tag/", f"X-OCCI-Location: {targets.paths['storage']}", headers=TEXT, status=200)
        members = owner.get(targets.mixin_location, headers={"Accept": "text/uri-list"}, status=200).text
        assert targets.paths["storage"] not in members
    finally:
        colleague.delete("/-/", f'Category: {targets.mixin_term}; scheme="{TAGS}"; class="mixin"', headers=TEXT,
                         status=200)
    assert targets.paths["compute"] in owner.get(targets.mixin_location, headers={"Accept": "text/uri-list"}).text


def test_a_reader_is_told_what_the_role_allows(tenants):
    response = tenants.clients["reader"].delete(tenants.targets.paths["compute"], headers=TEXT, status=403)
    assert "reader" in response.text and "GET, HEAD" in response.text and "member or admin" in response.text
    response = tenants.clients["other"].get("/admin/zones", status=403)
    assert "role is admin" in response.json["error"]["message"] and "member" in response.json["error"]["message"]


def test_a_colleague_cannot_untag_or_overwrite_the_owner_s_tags(world, tenants):
    """Removing a namesake mixin, or replacing an entity's mixin set, touches the caller's own
    tags only; tagging an entity that carries a colleague's namesake is a conflict that says so."""
    owner, targets = tenants.owner, tenants.targets
    compute = targets.paths["compute"]
    colleague = world.client("colleague", beside=owner)
    category = f'Category: {targets.mixin_term}; scheme="{TAGS}"; class="mixin"; location="/colleague-tag/"'
    colleague.post("/-/", category, headers=TEXT, status=200)
    try:
        colleague.delete("/colleague-tag/", f"X-OCCI-Location: {compute}", headers=TEXT, status=200)
        response = colleague.post("/colleague-tag/", f"X-OCCI-Location: {compute}", headers=TEXT, status=409)
        assert "colleague's mixin" in response.text and "another term or scheme" in response.text
        colleague.put(compute, colleague.get(compute, headers=TEXT).text, headers=TEXT, status=200)
    finally:
        colleague.delete("/-/", f'Category: {targets.mixin_term}; scheme="{TAGS}"; class="mixin"', headers=TEXT,
                         status=200)
    assert compute in owner.get(targets.mixin_location, headers={"Accept": "text/uri-list"}).text
