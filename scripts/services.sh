#!/usr/bin/env bash
# Makes sure the services the tests need are up: PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379.
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

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! redis_up; then
    if command -v redis-server >/dev/null; then
        echo "services: Redis is not answering on 127.0.0.1:6379; starting it" >&2
        redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no >/dev/null
        for _ in $(seq 1 30); do redis_up && break; sleep 1; done
    else
        # tests/conftest.py starts a redis-server of its own when one is on the path; without one the
        # tests of [scale] are skipped (failed under CI).
        echo "services: Redis is not installed (no redis-server); the [scale] tests need it" >&2
    fi
fi
redis_up && echo "services: Redis ready" >&2 || true
