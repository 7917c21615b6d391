"""A real OpenLDAP ``slapd`` for the LDAP tests: a minimal configuration (the core, cosine,
inetOrgPerson and NIS schemas, one mdb database in a temporary directory), run in the
foreground on a free port of 127.0.0.1, with people and groups loaded by ``ldapadd``.

It can be stopped and started again on the same port and data, for the tests of a directory
that goes away. Missing slapd or ldapadd: the tests skip (or fail under CI=true).

``python -m tests.federation.slapd --port 47389`` serves the same directory until interrupted,
for trying docs/authentication.md's LDAP example by hand.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ldap3

SUFFIX = "dc=occistack,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "slapd-root-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
#: login → password of the directory's people.
PASSWORDS = {"alice": "alice-directory-pw", "bob": "bob-directory-pw", "carol": "carol-directory-pw",
             "demo": "demo-directory-pw"}
#: group → its members at the start of every test (``reset``).
MEMBERS = {"physics": ("alice", "bob", "demo"), "chemistry": ("carol",)}
_SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
_MODULE_DIRS = ("/usr/lib/ldap", "/usr/lib/x86_64-linux-gnu/ldap", "/usr/lib/openldap")


def person_dn(login: str) -> str:
    return f"uid={login},{PEOPLE}"


def group_dn(group: str) -> str:
    return f"cn={group},{GROUPS}"


def slapd_binary() -> str | None:
    return shutil.which("slapd") or next((path for path in ("/usr/sbin/slapd",) if Path(path).exists()), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Slapd:
    def __init__(self, directory: Path, port: int | None = None):
        self.directory = directory
        self.port = port or _free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._configure()

    def _configure(self) -> None:
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        module_dir = next((path for path in _MODULE_DIRS if Path(path, "back_mdb.so").exists()), _MODULE_DIRS[0])
        lines = [f"include /etc/ldap/schema/{schema}.schema" for schema in _SCHEMAS]
        lines += [f"modulepath {module_dir}", "moduleload back_mdb",
                  f"pidfile {self.directory / 'slapd.pid'}",
                  "database mdb", f'suffix "{SUFFIX}"', f'rootdn "{ROOT_DN}"', f"rootpw {ROOT_PASSWORD}",
                  f"directory {self.directory / 'data'}", "maxsize 16777216"]
        (self.directory / "slapd.conf").write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        log = open(self.directory / "slapd.log", "ab")
        self.process = subprocess.Popen([slapd_binary(), "-f", str(self.directory / "slapd.conf"),
                                         "-h", f"{self.url}/", "-d", "0"], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.process.returncode}: "
                                   f"{(self.directory / 'slapd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not listen within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def load(self) -> None:
        """The tree, the people and the groups, with ldapadd as the directory's root."""
        entries = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: occistack\ndc: occistack",
                   f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
                   f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups"]
        for login, password in PASSWORDS.items():
            entries.append(f"dn: {person_dn(login)}\nobjectClass: inetOrgPerson\nuid: {login}\ncn: {login.title()}\n"
                           f"sn: {login.title()}\nuserPassword: {password}")
        for group, members in MEMBERS.items():
            entries.append(f"dn: {group_dn(group)}\nobjectClass: groupOfNames\ncn: {group}\n"
                           + "\n".join(f"member: {person_dn(login)}" for login in members))
        ldif = self.directory / "seed.ldif"
        ldif.write_text("\n\n".join(entries) + "\n")
        subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, "-f", str(ldif)],
                       check=True, capture_output=True, timeout=30)

    def _as_root(self) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)

    def set_members(self, group: str, logins) -> None:
        connection = self._as_root()
        try:
            # groupOfNames needs at least one member: the root stands in for an empty group.
            members = [person_dn(login) for login in logins] or [ROOT_DN]
            assert connection.modify(group_dn(group), {"member": [(ldap3.MODIFY_REPLACE, members)]}), connection.result
        finally:
            connection.unbind()

    def reset(self) -> None:
        for group, members in MEMBERS.items():
            self.set_members(group, members)

    def settings(self, **extra: str) -> dict[str, str]:
        """The ini settings of a site that authenticates against this directory."""
        return {"occistack.ldap.url": self.url, "occistack.ldap.user_base": PEOPLE,
                "occistack.ldap.group_base": GROUPS, "occistack.ldap.bind_dn": ROOT_DN,
                "occistack.ldap.bind_password": ROOT_PASSWORD, "occistack.ldap.connect_timeout": "2",
                "occistack.ldap.timeout": "5", **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description="A slapd with the LDAP tests' people and groups, until interrupted.")
    parser.add_argument("--port", type=int, default=47389)
    arguments = parser.parse_args()
    if slapd_binary() is None or shutil.which("ldapadd") is None:
        sys.exit("slapd and ldapadd are needed: scripts/system-packages.sh installs them")
    with tempfile.TemporaryDirectory(prefix="occistack-slapd-") as scratch:
        server = Slapd(Path(scratch), arguments.port)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        server.start()
        try:
            server.load()
            print(f"slapd at {server.url}, base {SUFFIX}; people: "
                  + ", ".join(f"{login}/{password}" for login, password in PASSWORDS.items()), flush=True)
            server.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


if __name__ == "__main__":
    main()
