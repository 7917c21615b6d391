"""The agent's configuration file (INI), checked whole before the agent starts.

::

    [agent]
    server = https://cloud.example.org:8443     ; the management server
    host = kvm01                                ; this host's name, as 'occistack host add' gave it
    ca_file = /etc/occistack/ca.pem             ; verifies the server (https)
    cert_file = /etc/occistack/host.pem         ; this host's certificate, for mutual TLS:
    key_file = /etc/occistack/host.key          ;   its DNS name (or CN) is the host's name
    token_file = /etc/occistack/agent.token     ; or token = ...: instead of a certificate
                                                ; (development), or beside it

    [drivers]
    compute = libvirt                           ; libvirt or fake (a simulated host)
    libvirt_uri = qemu:///system
    domain_type = kvm                           ; kvm, or qemu where there is no KVM
    network = ovs                               ; ovs, linux-bridge or fake
    ovs_bridge = br-guest                       ; the physical network's bridge
    uplink = eth1                               ; the interface carrying its VLANs (a trunk)
    ovs_db_socket = /run/openvswitch/db.sock
    ovs_datapath = system                       ; netdev for the userspace datapath
    switch_netns = /proc/1/ns/net               ; only when the agent runs in a network
                                                ; namespace other than ovs-vswitchd's
    nic_model = virtio                          ; or e1000 for guests without virtio drivers
    storage = pool                              ; pool (a libvirt storage pool) or fake
    pool = occistack                            ; primary storage, as libvirt names it
    pool_path = /var/lib/occistack/pool         ; makes a dir pool there if the pool is missing
    work_dir = /var/lib/occistack               ; consoles, config drives, DHCP state
    stop_timeout = 120                          ; seconds a graceful stop waits before forcing
    migration_uri = qemu+tcp://{address}/system ; how this libvirtd reaches another host's to
                                                ; move a guest there ({address}: the target's)

A mistake is reported with the file, the section, the option and what is accepted.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field, fields
from pathlib import Path

from occistack.hostagent.transport import TlsFiles

COMPUTE_DRIVERS = ("libvirt", "fake")
DOMAIN_TYPES = ("kvm", "qemu", "test")
NETWORK_DRIVERS = ("ovs", "linux-bridge", "fake")
STORAGE_DRIVERS = ("pool", "fake")
OVS_DATAPATHS = ("system", "netdev")


class ConfigError(ValueError):
    """The configuration file says something the agent cannot use."""


@dataclass(frozen=True)
class DriverConfig:
    compute: str = "libvirt"
    libvirt_uri: str = "qemu:///system"
    domain_type: str = "kvm"
    network: str = "ovs"
    ovs_bridge: str = "br-guest"
    uplink: str = ""
    ovs_db_socket: str = "/run/openvswitch/db.sock"
    ovs_datapath: str = "system"
    #: the network namespace ovs-vswitchd runs in, by path, when the agent runs in another
    switch_netns: str = ""
    #: the guests' NIC model: virtio, or e1000 for guests without virtio drivers
    nic_model: str = "virtio"
    storage: str = "pool"
    pool: str = "occistack"
    pool_path: str = ""
    work_dir: str = "/var/lib/occistack"
    #: how long a graceful stop waits for the guest before forcing it off
    stop_timeout: str = "120"
    #: how this host's libvirtd reaches another's when it moves a guest there, peer to peer
    migration_uri: str = "qemu+tcp://{address}/system"


@dataclass(frozen=True)
class AgentConfig:
    server: str
    host: str
    #: empty when the host authenticates with its certificate only.
    token: str
    tls: TlsFiles = TlsFiles()
    drivers: DriverConfig = field(default_factory=DriverConfig)


def load_config(path: str | Path) -> AgentConfig:
    path = Path(path)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    try:
        with path.open(encoding="utf-8") as stream:
            parser.read_file(stream)
    except OSError as error:
        raise ConfigError(f"cannot read the agent configuration {path}: {error.strerror}") from None
    except configparser.Error as error:
        raise ConfigError(f"{path} is not an INI file: {error}") from None
    if not parser.has_section("agent"):
        raise ConfigError(f"{path} has no [agent] section; it needs at least server, host, and "
                          "cert_file and key_file (or token_file)")
    agent = parser["agent"]

    def required(option: str) -> str:
        value = agent.get(option, "").strip()
        if not value:
            raise ConfigError(f"{path} [agent] {option} is missing")
        return value

    server, host = required("server"), required("host")
    if not server.startswith(("http://", "https://")):
        raise ConfigError(f"{path} [agent] server must be an http:// or https:// URL, not {server!r}")
    tls = TlsFiles(*(agent.get(name, "").strip() or None for name in ("ca_file", "cert_file", "key_file")))
    if bool(tls.cert_file) != bool(tls.key_file):
        raise ConfigError(f"{path} [agent] cert_file and key_file go together: give both or neither")
    if tls.cert_file and not server.startswith("https://"):
        raise ConfigError(f"{path} [agent] cert_file is presented only over TLS: the server must be an https:// URL")
    token = _token(path, agent, required=not tls.cert_file)
    for name in ("ca_file", "cert_file", "key_file"):
        file_name = getattr(tls, name)
        if file_name and not Path(file_name).is_file():
            raise ConfigError(f"{path} [agent] {name} {file_name} does not exist")
    return AgentConfig(server, host, token, tls, _drivers(path, parser))


def _token(path: Path, agent: configparser.SectionProxy, required: bool) -> str:
    inline, token_file = agent.get("token", "").strip(), agent.get("token_file", "").strip()
    if inline and token_file:
        raise ConfigError(f"{path} [agent] gives both token and token_file; keep one (token_file keeps it off the configuration)")
    if token_file:
        try:
            inline = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"{path} [agent] token_file {token_file}: {error.strerror}") from None
    if not inline and required:
        raise ConfigError(f"{path} [agent] needs token_file (or token): the token 'occistack host add' printed; "
                          "or, in production, the host's certificate as cert_file and key_file")
    return inline


def _drivers(path: Path, parser: configparser.ConfigParser) -> DriverConfig:
    if not parser.has_section("drivers"):
        return DriverConfig()
    section = parser["drivers"]
    known = {item.name for item in fields(DriverConfig)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"{path} [drivers] has no option {', '.join(unknown)}; the options are "
                          f"{', '.join(sorted(known))}")
    config = DriverConfig(**{name: section[name].strip() for name in known if name in section})
    try:
        if float(config.stop_timeout) < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{path} [drivers] stop_timeout = {config.stop_timeout!r}; it must be a number of "
                          "seconds, at least 0") from None
    if "{address}" not in config.migration_uri:
        raise ConfigError(f"{path} [drivers] migration_uri = {config.migration_uri!r}; it must contain {{address}} "
                          "where the target host's address goes, as in qemu+tcp://{address}/system")
    if config.switch_netns and not Path(config.switch_netns).exists():
        raise ConfigError(f"{path} [drivers] switch_netns {config.switch_netns} does not exist; it names a "
                          "network namespace by path, such as /proc/1/ns/net or /run/netns/<name>")
    for option, accepted in (("compute", COMPUTE_DRIVERS), ("domain_type", DOMAIN_TYPES),
                             ("network", NETWORK_DRIVERS), ("storage", STORAGE_DRIVERS),
                             ("ovs_datapath", OVS_DATAPATHS)):
        value = getattr(config, option)
        if value not in accepted:
            raise ConfigError(f"{path} [drivers] {option} = {value!r}; accepted: {', '.join(accepted)}")
    return config
