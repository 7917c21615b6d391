#!/usr/bin/env bash
# The Debian packages occistack needs to build and test: a C compiler and libpq's headers for
# psycopg2, Python's venv, and a PostgreSQL server for the test suite; libvirt with QEMU (TCG
# here: these machines have no usable KVM), its headers for libvirt-python, qemu-img for qcow2
# volumes, and dnsmasq and iptables, which libvirt's networks need and which must be present
# before libvirtd starts; cpio to pack the test guests' initramfs, and syslinux, mtools and
# dosfstools to make their boot disks; ssh-keygen (openssh-client), which checks the key pairs'
# fingerprints; Open vSwitch (userspace
# datapath here), ethtool and busybox (udhcpc, ping) for guest VLANs and DHCP; nfs-ganesha with
# rpcbind and libnfs (headers for the Python binding) for secondary storage over NFS; OpenIPMI's
# BMC simulator and ipmitool for the power tests; node and npm for the OIDC provider the
# federation tests start (npm's oidc-provider; 9.x wants node 20 or later); voms-clients
# (voms-proxy-fake makes VOMS proxies without a VOMS server) and globus-proxy-utils
# (grid-proxy-init/-info) for the X.509 tests, and Apache with mod_gridsite (package gridsite),
# the one TLS terminator that accepts RFC 3820 proxies; OpenLDAP's slapd and ldap-utils (ldapadd)
# for the directory the LDAP tests start (apt does not start slapd: the tests run their own).
# Installs what is missing when run as root; otherwise prints the exact command to run.
set -euo pipefail

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
python3 -c 'import sysconfig, os, sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
    || missing+=(python3-dev)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v libvirtd >/dev/null 2>&1 || missing+=(libvirt-daemon libvirt-daemon-driver-qemu)
command -v virsh >/dev/null 2>&1 || missing+=(libvirt-clients)
pkg-config --exists libvirt 2>/dev/null || missing+=(libvirt-dev pkg-config)
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
command -v file >/dev/null 2>&1 || missing+=(file)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v syslinux >/dev/null 2>&1 || missing+=(syslinux syslinux-common)
command -v mcopy >/dev/null 2>&1 || missing+=(mtools)
command -v mkfs.vfat >/dev/null 2>&1 || missing+=(dosfstools)
command -v ovs-vsctl >/dev/null 2>&1 || missing+=(openvswitch-switch)
command -v ethtool >/dev/null 2>&1 || missing+=(ethtool)
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
command -v ganesha.nfsd >/dev/null 2>&1 || missing+=(nfs-ganesha nfs-ganesha-vfs)
command -v rpcbind >/dev/null 2>&1 || missing+=(rpcbind)
[ -e /usr/include/nfsc/libnfs.h ] || missing+=(libnfs-dev)
command -v nfs-ls >/dev/null 2>&1 || missing+=(libnfs-utils)
command -v ipmi_sim >/dev/null 2>&1 || missing+=(openipmi)
command -v ipmitool >/dev/null 2>&1 || missing+=(ipmitool)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v voms-proxy-fake >/dev/null 2>&1 || missing+=(voms-clients)
command -v grid-proxy-init >/dev/null 2>&1 || missing+=(globus-proxy-utils)
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -e /usr/lib/apache2/modules/mod_gridsite.so ] || missing+=(gridsite)
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "occistack needs these system packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
