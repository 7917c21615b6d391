#!/usr/bin/env bash
# The test suite runs its database tests on PostgreSQL at 127.0.0.1:5432 (trust auth; override
# with OCCISTACK_TEST_PG, a libpq URL). Start the local cluster when it is installed but down.
set -euo pipefail

target=${OCCISTACK_TEST_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
if psql "$target" -Atqc 'select 1' >/dev/null 2>&1; then
    exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
        psql "$target" -Atqc 'select 1' >/dev/null 2>&1 && exit 0
        sleep 0.5
    done
fi
echo "PostgreSQL is not reachable at $target; the PostgreSQL tests will fail under CI=true and skip otherwise" >&2
