#!/usr/bin/env bash
# The Debian packages occistack needs to build and test: a C compiler and libpq's headers for
# psycopg2, Python's venv, and a PostgreSQL server for the test suite. Installs what is missing
# when run as root; otherwise prints the exact command to run.
set -euo pipefail

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
python3 -c 'import sysconfig, os, sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
    || missing+=(python3-dev)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)

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
