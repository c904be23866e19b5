#!/usr/bin/env bash
# Makes sure the services the tests need are up: PostgreSQL on 127.0.0.1:5432.
# The machines start it before each session; this starts it again if it stopped.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! pg_up; then
    echo "services: PostgreSQL is not answering on 127.0.0.1:5432; starting it" >&2
    version=$(ls /etc/postgresql 2>/dev/null | head -n 1)
    if [ -z "$version" ]; then
        echo "services: PostgreSQL is not installed (no /etc/postgresql); the storage tests need it" >&2
        exit 1
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "services: PostgreSQL did not come up" >&2; exit 1; }
echo "services: PostgreSQL ready" >&2
