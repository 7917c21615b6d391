"""Benchmark: parsing a create request, occistack's parsers against ooi 1.2.0's.

Run from the repository root: ``.venv/bin/python -m bench.parse``.

The workload is what the Infrastructure Manager sends to create a VM (SPEC-NOTES §6): the
compute kind, an os_tpl and a resource_tpl mixin, six attributes (one a few hundred bytes of
base64 user data) and two inline links (storage and network) each with its target, rel,
category and a few attributes -- as a text/plain body, as text/occi headers (comma-joined
values) and as a GFD.225 JSON document. 200 distinct requests are generated (ids, titles,
hostnames, user data and link targets all differ) and the same set is fed to both parsers.

The baseline is ooi's ``ooi.wsgi.parsers`` (OpenStack's OCCI interface, the parser the EGI
sites ran), installed from the package index with ``--no-deps`` into ``bench/.ooi-venv``
and run in a subprocess of that virtualenv. It imports ``ooi.log`` (oslo.log) and
``ooi.wsgi/__init__`` (routes and all of ooi's API); the runner written to ``bench/.work``
stubs those two modules so that only the parser module and its own imports load.

Before timing, every input is parsed by both and the results compared (kind, mixins,
attribute names and values, link targets and link attributes); any difference aborts.
Then baseline and subject rounds alternate and the medians are compared. Both sides are timed
in CPU time (``time.process_time``) of their own process: parsing waits on nothing, and on a
shared machine the wall clock also counts the time other processes held the cores.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from bench.common import Comparison, alternate, exit_status, print_table, result_line, throughput
from occistack.api.occi.renderings import parse_json, parse_text_occi, parse_text_plain
from occistack.api.occi.renderings import parse_text

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
OOI_VENV = BENCH_DIR / ".ooi-venv"
OOI_REQUIREMENTS = (["--no-deps", "ooi==1.2.0"], ["six", "WebOb>=1.8,<1.9"])
REQUEST_COUNT = 200
ROUNDS = 5
ROUND_SECONDS = 0.6

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
CRTP = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
IMAGES = ("ubuntu-22.04", "centos-7", "egi.docker.ubuntu.16.04", "debian-12-x86_64")
SIZES = ("small", "medium", "large", "mem_small")
TARGETS = {"text_plain": 8.0, "text_occi": 8.0, "json": 1.5}

# --- the inputs ---------------------------------------------------------------------------


def make_requests(count: int, seed: int = 20240501) -> list[dict[str, Any]]:
    """``count`` create requests, each as text/plain, text/occi headers and JSON."""
    rng = random.Random(seed)
    requests = []
    for number in range(count):
        def new_id() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        compute_id, volume, network = new_id(), new_id(), new_id()
        storage_link, network_link = "im-" + new_id(), "im-" + new_id()
        prefix = rng.choice(("", "/occi1.1"))
        image, size = rng.choice(IMAGES), rng.choice(SIZES)
        role = rng.choice(("worker", "wn", "node", "htcondor"))
        title = f"{role} {number} of batch {rng.randrange(1000)}"
        hostname = f"vm-{number}-{rng.randrange(10**6)}.cloud.example.org"
        user_data = base64.b64encode(rng.randbytes(rng.randrange(300, 600))).decode()
        cores, memory = rng.choice((1, 2, 4, 8)), rng.choice((1.0, 2.0, 4.0, 7.5))
        device = "/dev/vd" + rng.choice("bcde")
        categories = [
            f'compute; scheme="{INFRA}"; class="kind"',
            f'{image}; scheme="{OS_TPL}"; class="mixin"',
            f'{size}; scheme="{CRTP}"; class="mixin"',
        ]
        attributes = [
            f'occi.core.id="{compute_id}"',
            f'occi.core.title="{title}"',
            f'occi.compute.hostname="{hostname}"',
            f'org.openstack.compute.user_data="{user_data}"',
            f"occi.compute.cores={cores}",
            f"occi.compute.memory={memory}",
        ]
        # IM's spacing: "; " between parameters, then ";" before the device id.
        links = [
            f'<{prefix}/storage/{volume}>; rel="{INFRA}storage"; '
            f'self="/storagelink/{storage_link}"; '
            f'category="{INFRA}storagelink"; occi.core.target="{prefix}/storage/{volume}"; '
            f'occi.core.source="{prefix}/compute/{compute_id}"; occi.core.id="{storage_link}";'
            f'occi.storagelink.deviceid="{device}"',
            f'<{prefix}/network/{network}>; rel="{INFRA}network"; '
            f'self="/networkinterface/{network_link}"; '
            f'category="{INFRA}networkinterface"; occi.core.target="{prefix}/network/{network}"; '
            f'occi.core.source="{prefix}/compute/{compute_id}"; occi.core.id="{network_link}"',
        ]
        text = "\n".join([*("Category: " + c for c in categories),
                          *("X-OCCI-Attribute: " + a for a in attributes),
                          *("Link: " + link for link in links)])
        headers = {"Category": ", ".join(categories), "X-OCCI-Attribute": ", ".join(attributes),
                   "Link": ", ".join(links), "Accept": "text/occi",
                   "Content-Type": "text/occi", "User-Agent": "IM OCCI/1.1"}
        # ooi reads occi.core.id and title only from "attributes"; GFD.225 puts them at the top
        # level. Both are sent, so both parsers find them and ours also maps the top level.
        source = {"location": f"{prefix}/compute/{compute_id}", "kind": INFRA + "compute"}
        document = {
            "kind": INFRA + "compute",
            "mixins": [OS_TPL + image, CRTP + size],
            "id": compute_id,
            "title": title,
            "attributes": {"occi.core.id": compute_id, "occi.core.title": title,
                           "occi.compute.hostname": hostname,
                           "org.openstack.compute.user_data": user_data,
                           "occi.compute.cores": cores, "occi.compute.memory": memory},
            "links": [
                {"kind": INFRA + "storagelink", "id": storage_link,
                 "source": source,
                 "target": {"location": f"{prefix}/storage/{volume}", "kind": INFRA + "storage"},
                 "attributes": {"occi.storagelink.deviceid": device}},
                {"kind": INFRA + "networkinterface", "id": network_link,
                 "source": source,
                 "target": {"location": f"{prefix}/network/{network}", "kind": INFRA + "network"},
                 "attributes": {"occi.networkinterface.interface": "eth0"}},
            ],
        }
        requests.append({"text_plain": text, "text_occi": headers,
                         "json": json.dumps(document, indent=1)})
    return requests


# --- ooi in its own virtualenv ---------------------------------------------------------------

OOI_RUNNER = r'''
"""Runs ooi 1.2.0's parsers for bench/parse.py (written by it; do not edit)."""
import json, logging, os, sys, time, types

import ooi

# ooi.log wraps oslo.log; ooi.wsgi/__init__ imports routes and the whole API. Neither is
# needed by the parser module, so both are replaced by stubs before it is imported.
log_stub = types.ModuleType("ooi.log")
log_stub.log = types.SimpleNamespace(getLogger=logging.getLogger)
sys.modules["ooi.log"] = log_stub
wsgi_stub = types.ModuleType("ooi.wsgi")
wsgi_stub.__path__ = [os.path.join(os.path.dirname(ooi.__file__), "wsgi")]
sys.modules["ooi.wsgi"] = wsgi_stub

from ooi.wsgi import parsers  # noqa: E402

with open(sys.argv[1], encoding="utf-8") as inputs_file:
    REQUESTS = json.load(inputs_file)

PARSE = {
    "text_plain": lambda item: parsers.TextParser({}, item).parse(),
    "text_occi": lambda item: parsers.HeaderParser(item, None).parse(),
    "json": lambda item: parsers.JsonParser({}, item).parse(),
}


def number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def normalised(fmt, result):
    links = []
    for target_kind, found in result["links"].items():
        for link in found:
            attributes = dict(link["attributes"])
            if fmt == "json" and "id" in link:
                attributes["occi.core.id"] = link["id"]
            links.append([link["target"], {k: number(v) for k, v in attributes.items()}])
    return {"kind": result["category"], "mixins": sorted(result["mixins"]),
            "attributes": {k: number(v) for k, v in result["attributes"].items()},
            "links": sorted(links, key=json.dumps)}


for command in sys.stdin:
    fmt, action, argument = command.split()
    items = [request[fmt] for request in REQUESTS]
    parse = PARSE[fmt]
    if action == "check":
        answer = [normalised(fmt, parse(item)) for item in items]
    else:
        operations, started = 0, time.process_time()
        while True:
            for item in items:
                parse(item)
            operations += len(items)
            elapsed = time.process_time() - started
            if elapsed >= float(argument):
                break
        answer = operations / elapsed
    print(json.dumps(answer), flush=True)
'''


def ensure_ooi_venv() -> Path:
    python = OOI_VENV / "bin" / "python"
    probe = [str(python), "-c", "import ooi, six, webob"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {OOI_VENV.relative_to(BENCH_DIR.parent)} with ooi 1.2.0 ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(OOI_VENV)], check=True)
    for requirement in OOI_REQUIREMENTS:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *requirement], check=True)
    subprocess.run(probe, check=True)
    return python


class OoiProcess:
    """ooi's parsers in a subprocess of its virtualenv, asked for checks and timed rounds."""

    def __init__(self, python: Path, inputs: Path):
        runner = WORK_DIR / "ooi_parse_runner.py"
        runner.write_text(OOI_RUNNER, encoding="utf-8")
        self._process = subprocess.Popen([str(python), str(runner), str(inputs)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _ask(self, fmt: str, command: str, argument: str = "-") -> Any:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(f"{fmt} {command} {argument}\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise SystemExit(f"the ooi runner stopped (exit code {self._process.poll()})")
        return json.loads(answer)

    def check(self, fmt: str) -> list[Any]:
        return self._ask(fmt, "check")

    def round(self, fmt: str) -> Callable[[float], float]:
        return lambda seconds: self._ask(fmt, "time", str(seconds))

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=30)


# --- ours -------------------------------------------------------------------------------------

OURS = {"text_plain": parse_text_plain, "text_occi": parse_text_occi, "json": parse_json}


def _number(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def normalised(fmt: str, ir: Any) -> dict[str, Any]:
    """Our IR in the shape the ooi runner reports, for comparison."""
    links = []
    for link in ir.links:
        attributes = dict(link.attributes)
        if fmt != "json":  # ooi moves occi.core.target out and keeps self and category
            attributes.pop("occi.core.target", None)
            attributes["self"] = link.self_location
            attributes["category"] = " ".join((link.kind, *link.mixins))
        links.append([link.target, {k: _number(v) for k, v in attributes.items()}])
    return {"kind": ir.kind.identifier, "mixins": sorted(m.identifier for m in ir.mixins),
            "attributes": {k: _number(v) for k, v in ir.attributes.items()},
            "links": sorted(links, key=json.dumps)}


def our_round(fmt: str, items: list[Any]) -> Callable[[float], float]:
    parse = OURS[fmt]

    def run_once() -> int:
        for item in items:
            parse(item)
        return len(items)

    return lambda seconds: throughput(run_once, seconds, clock=time.process_time)


def without_fast_path(round_: Callable[[float], float]) -> Callable[[float], float]:
    """The same round with the fast path switched off: the lark grammar alone."""
    def run(seconds: float) -> float:
        saved = parse_text.fast_attributes, parse_text.fast_links
        parse_text.fast_attributes = parse_text.fast_links = lambda text: None  # type: ignore
        try:
            return round_(seconds)
        finally:
            parse_text.fast_attributes, parse_text.fast_links = saved
    return run


def main() -> int:
    WORK_DIR.mkdir(exist_ok=True)
    requests = make_requests(REQUEST_COUNT)
    inputs = WORK_DIR / "parse-inputs.json"
    inputs.write_text(json.dumps(requests), encoding="utf-8")
    ooi = OoiProcess(ensure_ooi_venv(), inputs)
    try:
        for fmt in OURS:
            items = [request[fmt] for request in requests]
            theirs = ooi.check(fmt)
            ours = json.loads(json.dumps([normalised(fmt, OURS[fmt](item)) for item in items]))
            for index, (mine, baseline) in enumerate(zip(ours, theirs)):
                if mine != baseline:
                    raise SystemExit(f"{fmt} request {index}: the parsers disagree\n"
                                     f"  occistack: {mine}\n  ooi:       {baseline}")
        print(f"equivalence: {REQUEST_COUNT} requests x 3 formats parsed alike by both\n")
        comparisons: list[Comparison] = []
        for fmt in OURS:
            items = [request[fmt] for request in requests]
            comparisons.append(alternate(fmt, ooi.round(fmt), our_round(fmt, items),
                                         rounds=ROUNDS, min_seconds=ROUND_SECONDS))
        lark_only = [alternate(f"{fmt} (grammar only)", ooi.round(fmt),
                               without_fast_path(our_round(fmt, [r[fmt] for r in requests])),
                               rounds=3, min_seconds=ROUND_SECONDS / 2)
                     for fmt in ("text_plain", "text_occi")]
    finally:
        ooi.close()
    rows = [[c.name, f"{c.baseline_median:,.0f}", f"{c.subject_median:,.0f}",
             f"{1e6 / c.baseline_median:.1f}", f"{1e6 / c.subject_median:.1f}", f"{c.ratio:.2f}x"]
            for c in comparisons + lark_only]
    print_table(["format", "ooi req/s", "occistack req/s", "ooi us/req", "occistack us/req",
                 "ratio"], rows)
    print("\n(grammar only, for information: attribute and link values parsed by the lark LALR"
          "\n parser alone, without the fast path; category values still come from the cache)\n")
    lines = [result_line("parse", f"{comparison.name}_vs_ooi", comparison.ratio,
                         TARGETS[comparison.name]) for comparison in comparisons]
    for line in lines:
        print(line)
    return exit_status(lines)


if __name__ == "__main__":
    sys.exit(main())
