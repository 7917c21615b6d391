"""occistack's layers and import rules, and the test that holds the code to them.

This table is the one statement of the rules; docs/architecture.md ("Layers and import rules")
describes it in prose, and a change to one is a change to the other. Read bottom to top: a layer
may import only the layers it lists, all of them listed before it, so the rules themselves have
no cycle. Within a layer modules import each other freely -- but no module, anywhere, may take
part in an import cycle, counting imports inside functions and under ``if TYPE_CHECKING:``
(tests/import_graph.py reads the graph). A function-local import of an occistack module is
allowed only where DEFERRED_IMPORTS says why: to put off an optional, heavy dependency, never to
dodge a cycle.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tests.import_graph import Import, Layer, broken_rules, check_table, find_cycles, layer_of, read_graph

ROOT = Path(__file__).resolve().parents[1]

_PLANE = ("plane rules", "placement", "plane context", "agents", "jobs", "admin use cases", "tenant use cases")
#: What the HTTP faces and their shared plumbing may import.
_BELOW_THE_FACES = ("package", "model", "driver contracts", "drivers", "agent protocol", "host agent", "passwords",
                    "identity", *_PLANE, "plane assembly", "composition root")
_HTTP_FACES = ("occi face", "admin face", "keystone face", "agents channel", "monitoring face")
_HTTP = ("http plumbing", *_HTTP_FACES, "http app")

LAYERS = [
    Layer("package", ("occistack",), (), "the version; everything may read it"),
    Layer("model", ("occistack.model.*",), ("package",),
          "rows, transition tables, sessions, the OCCI core model: the bottom of the server"),
    Layer("driver contracts", ("occistack.drivers.base", "occistack.drivers.power.base"), (),
          "what the plane and the agent expect of a driver, without any implementation"),
    Layer("drivers", ("occistack.drivers.*",), ("package", "driver contracts"),
          "hypervisor, storage, network and power drivers: no database, no plane, no faces"),
    Layer("agent protocol", ("occistack.hostagent.protocol", "occistack.hostagent.typed_json"), (),
          "the typed, versioned commands and answers between the plane and the host agents: stdlib only, "
          "the one thing both sides share"),
    Layer("host agent", ("occistack.hostagent.*",), ("package", "driver contracts", "drivers", "agent protocol"),
          "runs on the hosts and speaks the agent protocol: drivers only, never the database or the plane"),
    Layer("passwords", ("occistack.federation.passwords",), (),
          "password hashing, shared by identity and the admin use cases that set passwords"),
    Layer("identity", ("occistack.federation.*",), ("package", "model", "passwords"),
          "federation (local users, X.509/VOMS, OIDC, Keystone tokens): beside the faces, below them"),
    Layer("plane rules", ("occistack.plane.*",), ("model", "agent protocol"),
          "the plane's shared rules (errors, caller, dispatch, events, transitions, quotas, addresses, "
          "template copies, host states, wake-ups ...), used by every subsystem above"),
    Layer("placement", ("occistack.plane.placement.*",), ("model", "plane rules"),
          "which host and pool a VM goes to: pure planning over a topology snapshot"),
    Layer("plane context", ("occistack.plane.context",), ("model", "driver contracts", "plane rules", "placement"),
          "PlaneContext and PlaneServices, what every use case is given"),
    Layer("agents", ("occistack.plane.agents.*",), ("model", "agent protocol", "host agent", "plane rules"),
          "the agent gateway, its channel and in-process agents: commands out, answers and heartbeats in; "
          "it knows jobs only as rows, and is handed the routing of answers and progress"),
    Layer("jobs", ("occistack.plane.jobs.*",),
          ("model", "driver contracts", "agent protocol", "plane rules", "placement", "plane context", "agents"),
          "the job queue, the worker, its step handlers and the delete protocol: they carry operations out "
          "through the gateway and never call a use case"),
    Layer("admin use cases", ("occistack.plane.admin.*",),
          ("model", "driver contracts", "passwords", "plane rules", "placement", "plane context", "agents", "jobs"),
          "inventory, catalog, tenancy: what an administrator asks"),
    Layer("tenant use cases", ("occistack.plane.tenant.*",),
          ("model", "driver contracts", "plane rules", "placement", "plane context", "agents", "jobs",
           "admin use cases"),
          "compute, storage, networks, tags, affinity: what a tenant asks"),
    Layer("plane assembly", ("occistack.plane.runtime",), ("model", "driver contracts", "drivers", *_PLANE),
          "one process's plane put together: queue, placement, worker, agents, power driver"),
    Layer("composition root", ("occistack.composition",), ("model", "driver contracts", "drivers", *_PLANE,
                                                             "plane assembly"),
          "each process's arrangement of plane and drivers (embedded, worker, simulated hosts), built once"),
    Layer("demo data", ("occistack.demo", "occistack.demo_images"), ("model", *_PLANE),
          "the demo zone, templates and users, made through the admin use cases"),
    Layer("http plumbing", ("occistack.api.*",), _BELOW_THE_FACES,
          "what the HTTP faces share: settings, the request's session and transaction, security, the error "
          "views and the one status table, where each face is mounted, the plane in the registry"),
    Layer("occi face", ("occistack.api.occi.*",), (*_BELOW_THE_FACES, "http plumbing"),
          "OCCI 1.2: its renderings, negotiation, kinds and views"),
    Layer("admin face", ("occistack.api.admin.*",), (*_BELOW_THE_FACES, "http plumbing"),
          "the admin API: JSON over the admin use cases"),
    Layer("keystone face", ("occistack.api.keystone.*",), (*_BELOW_THE_FACES, "http plumbing"),
          "the built-in Keystone-compatible token service"),
    Layer("agents channel", ("occistack.api.agents.*",), (*_BELOW_THE_FACES, "http plumbing"),
          "the host agents' messages over HTTP: a face of the plane for hosts, not for people"),
    Layer("monitoring face", ("occistack.api.monitoring.*",), (*_BELOW_THE_FACES, "http plumbing"),
          "/healthz for load balancers and /metrics for Prometheus, and the tween that counts requests"),
    Layer("http app", ("occistack.api.app", "occistack.api.routes"),
          (*_BELOW_THE_FACES, "http plumbing", *_HTTP_FACES),
          "the Pyramid application composing the faces, and every route in one place; no face imports "
          "another, so a new one (OpenStack's, the dashboard) is one more layer here"),
    Layer("cli face", ("occistack.cli.*",),
          ("package", "model", "driver contracts", "drivers", "agent protocol", "host agent", "passwords", "identity", *_PLANE,
           "plane assembly", "composition root", "demo data"),
          "the occistack command: a face like the HTTP ones, which it never imports"),
    Layer("server", ("occistack.serve",), ("package", *_HTTP),
          "the production HTTP server's worker and TLS context"),
]

#: (importer, imported, why): imports the layers would allow but that are refused all the same.
FORBIDDEN = [
    ("occistack.plane.admin.*", "occistack.plane.jobs.handlers.*",
     "a use case hands work to the jobs through a Dispatcher; the handlers are the worker's, and what both "
     "need lives beside them (plane/jobs/commands.py, plane/jobs/deletes.py) or lower"),
    ("occistack.plane.tenant.*", "occistack.plane.jobs.handlers.*",
     "a use case hands work to the jobs through a Dispatcher; the handlers are the worker's, and what both "
     "need lives beside them (plane/jobs/commands.py, plane/jobs/deletes.py) or lower"),
]

#: third-party package → (the layers that may import it, why).
RESTRICTED_PACKAGES = {
    "pyramid": ((*_HTTP, "cli face"), "HTTP and its framework are the faces' business; the plane is framework-free"),
    "webob": (_HTTP, "HTTP requests and responses exist only in the faces"),
    "prometheus_client": (("monitoring face",), "the Prometheus exposition is the monitoring face's wire format; "
                          "the plane hands it figures"),
    "sqlalchemy": (("model", "identity", *_PLANE, "plane assembly", "composition root", "demo data", *_HTTP, "cli face"),
                   "the host agent and its drivers run on hosts, which have no database"),
}
#: module → third-party package it may import although its layer may not, and why.
PACKAGE_EXCEPTIONS = {
    ("occistack.model.migrations.env", "pyramid"):
        "alembic's entry point reads the database URL from the ini file with pyramid's paster, like the CLI",
}

#: (importer, imported) → why the import is inside a function. Nothing else may be.
DEFERRED_IMPORTS = {
    ("occistack.hostagent.main", "occistack.hostagent.wiring"):
        "the libvirt drivers need libvirt's Python binding, which an agent on fake drivers does without",
    ("occistack.hostagent.wiring", "occistack.drivers.network.ovs"):
        "the network driver the agent's [drivers] network setting chooses (ovs needs ovs-vsctl's database)",
    ("occistack.hostagent.wiring", "occistack.drivers.network.dhcp"):
        "the DHCP service of the ovs network driver, loaded with it",
    ("occistack.hostagent.wiring", "occistack.drivers.network.linux_bridge"):
        "the network driver the agent's [drivers] network setting chooses; it needs pyroute2",
    ("occistack.hostagent.wiring", "occistack.drivers.storage.libvirt_pool"):
        "the storage driver the agent's [drivers] storage setting chooses",
    ("occistack.hostagent.wiring", "occistack.drivers.storage.volumes"):
        "the pool definitions of the libvirt pool storage driver, loaded with it",
    ("occistack.hostagent.wiring", "occistack.drivers.storage.secondary"):
        "the NFS secondary storage of a real host's agent; it needs libnfs, which the fake drivers do without",
    ("occistack.composition", "occistack.drivers.power.ipmi"):
        "the power driver occistack.power chooses; ipmi needs pyghmi",
    ("occistack.composition", "occistack.drivers.power.fake"):
        "the power driver occistack.power chooses; fake is the tests' and the demo's",
}


def package_problems(graph, layers) -> list[str]:
    problems = []
    for importer, packages in sorted(graph.packages.items()):
        home = layer_of(importer, layers)
        for package, where in sorted(packages.items()):
            allowed = RESTRICTED_PACKAGES.get(package)
            if allowed is None or home is None or home.name in allowed[0] or (importer, package) in PACKAGE_EXCEPTIONS:
                continue
            problems.append(f"{importer} (line {where.line}) imports {package}, which only layers "
                            f"{', '.join(allowed[0])} may import: {allowed[1]}")
    return problems


def deferred_problems(graph) -> list[str]:
    problems = []
    seen = set()
    for importer, deferred in sorted(graph.deferred.items()):
        for imported, where in sorted(deferred.items()):
            seen.add((importer, imported))
            if (importer, imported) not in DEFERRED_IMPORTS:
                problems.append(f"{importer} (line {where.line}) imports {imported} inside a function: import it "
                                "at the top (and break the cycle it dodges), or say in DEFERRED_IMPORTS why "
                                "it must wait")
    for stale in sorted(set(DEFERRED_IMPORTS) - seen):
        problems.append(f"DEFERRED_IMPORTS allows {stale[0]} to import {stale[1]} inside a function, but it no "
                        "longer does: remove the entry")
    return problems


@cache
def occistack_graph():
    """Read once for all the tests here (parsing every module is most of their time)."""
    return read_graph(ROOT)


def test_occistack_imports_follow_the_layers_without_cycles():
    graph = occistack_graph()
    problems = [*check_table(LAYERS), *broken_rules(graph.edges, LAYERS, FORBIDDEN),
                *package_problems(graph, LAYERS), *deferred_problems(graph)]
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in find_cycles(graph.edges)]
    assert not problems, "\n".join(problems)


def test_every_module_is_found():
    """The walk sees the whole package (a broken walk would pass every rule vacuously)."""
    graph = occistack_graph()
    assert "occistack.plane.jobs.worker" in graph.modules
    assert "occistack.api.occi.renderings.render" in graph.modules
    assert graph.edges["occistack.plane.jobs.worker"]["occistack.plane.agents.gateway"].local is False
    assert graph.deferred["occistack.composition"]["occistack.drivers.power.ipmi"].local is True


def test_the_checks_catch_a_cycle_and_a_forbidden_import():
    """A made-up graph: ``low`` imports ``high`` back (inside a function), which the layers
    forbid and which closes a cycle; ``high.b`` imports ``high.secret``, which a rule refuses."""
    layers = [Layer("low", ("x.low.*",), (), "the bottom"), Layer("high", ("x.high.*",), ("low",), "on top")]
    edges = {
        "x.low.a": {"x.high.b": Import(7, local=True)},
        "x.high.b": {"x.low.a": Import(3, local=False), "x.high.secret": Import(4, local=False)},
        "x.high.secret": {},
        "x.elsewhere": {},
    }
    assert find_cycles(edges) == [["x.high.b", "x.low.a", "x.high.b"]]
    problems = broken_rules(edges, layers, [("x.high.b", "x.high.secret", "secrets stay secret")])
    assert problems == [
        "x.elsewhere is in no layer: add it to the table in tests/test_layering.py",
        "x.high.b (line 4) imports x.high.secret: x.high.b never imports x.high.secret: secrets stay secret",
        "x.low.a (line 7) imports x.high.b: layer 'low' may not import layer 'high' (it may import: nothing); "
        "low: the bottom",
    ]
    assert check_table([Layer("a", ("a.*",), ("b",), ""), Layer("b", ("b.*",), (), "")]) == [
        "layer 'a' may import 'b', which is not a layer listed before it"]


def test_read_graph_resolves_relative_local_and_type_checking_imports(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.top import Thing\n"
        "def later():\n    from ..top import other\n")
    (package / "top.py").write_text("import pkg.sub.leaf as leaf\nimport sqlalchemy\n")
    graph = read_graph(tmp_path, "pkg")
    assert graph.edges["pkg.sub"] == {"pkg.sub.leaf": Import(1, False)}
    assert graph.edges["pkg.sub.leaf"] == {"pkg.top": Import(3, False)}  # the first import of it
    assert graph.deferred["pkg.sub.leaf"] == {"pkg.top": Import(5, True)}
    assert graph.edges["pkg.top"] == {"pkg.sub.leaf": Import(1, False)}
    assert graph.packages["pkg.top"] == {"sqlalchemy": Import(2, False)}
    assert graph.packages["pkg.sub.leaf"] == {"typing": Import(1, False)}
    assert find_cycles(graph.edges) == [["pkg.sub.leaf", "pkg.top", "pkg.sub.leaf"]]
