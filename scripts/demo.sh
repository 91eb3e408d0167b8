#!/usr/bin/env bash
# Render the default answers into DEST (default build/demo), start its own PostgreSQL and
# Redis, migrate, and serve it on localhost until Ctrl-C; the servers are stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-build/demo}
port=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

# --vcs-ref HEAD: render this checkout (with uncommitted changes), not the latest release tag.
"$root/.venv/bin/copier" copy --trust --defaults --overwrite --quiet --vcs-ref HEAD "$root" "$dest"
cd "$dest"
package=$(basename src/*)
export UV="$root/.venv/bin/uv"

make --no-print-directory venv
make --no-print-directory services
trap 'echo; make --no-print-directory services-stop' EXIT
# A terminated or interrupted demo still stops its servers: turn the signals into an exit.
trap 'exit 143' TERM
trap 'exit 130' INT
make --no-print-directory migrate

base="http://127.0.0.1:$port"
cat <<MSG

  Demo service rendered into $dest and starting on $base
    API docs    $base/docs
    liveness    $base/health/live
    readiness   $base/health/ready
    startup     $base/health/startup   (503 until the migrations have run)
    metrics     $base/metrics
    example     $base/api/v1/market/items
    ready curl  curl -s -X POST $base/api/v1/market/items -H 'Content-Type: application/json' \\
                  -d '{"title": "Lamp", "price": "19.99"}'
    accounts    curl -s -X POST $base/api/v1/auth/register -H 'Content-Type: application/json' \\
                  -d '{"email": "ada@example.com", "password": "correct-horse-battery"}'
                the same body to $base/api/v1/auth/login answers an access token for
                curl -s $base/api/v1/auth/me -H 'Authorization: Bearer <access_token>'
    rate limits 120 requests a minute per client (5 logins a minute per account), then 429
                with Retry-After and RateLimit headers; shared by replicas through Redis
    wallet      curl -s -X POST $base/api/v1/wallet/top-ups -H 'Authorization: Bearer <access_token>' \\
                  -H 'Idempotency-Key: demo-top-up-1' -H 'Content-Type: application/json' \\
                  -d '{"amount": "25.00"}'
                send it again: the first answer comes back (Idempotent-Replayed: true), no
                second top-up; then $base/api/v1/wallet/balance and /ledger
    linked      curl -s -X POST $base/api/v1/linked-accounts -H 'Authorization: Bearer <access_token>' \\
                  -H 'Content-Type: application/json' \\
                  -d '{"provider": "bank-x", "external_id": "acct-1", "auth_data": {"token": "s3cret"}}'
                auth_data is stored AES-GCM encrypted and never returned

  From another terminal:
    python3 $dest/scripts/smoke.py --docs-allowed --register $base
                                      # post-deploy checks (make smoke URL=... on a deployment,
                                      # where docs must be off and a smoke account logs in):
                                      # PASS/FAIL each
    make -C $dest loadtest            # seeds 10,000 users, 60 s of Locust against its own
                                      # server; fails past p95 500 ms, 1 % errors, 100 RPS
    (cd $dest && .venv/bin/python -m $package verify-ledger)   # every balance = its ledger
    make -C $dest backup              # pg_dump + manifest into $dest/backups/
    make -C $dest restore FILE=...    # restore into a new database and verify it
    (cd $dest && .venv/bin/python -m $package --help)   # every operations command
    (cd $dest && ENVIRONMENT=production .venv/bin/python -m $package check-production)
                                      # lists every setting that is unsafe for production
    (cd $dest && .venv/bin/python -m $package generate-secrets)   # fresh values for each secret
    curl -s -D - -o /dev/null $base/health/live   # security headers on every response

  Try an outage from another terminal:
    make -C $dest services-stop SERVICE=postgres   # /health/ready answers 503 naming the database
    make -C $dest services                          # and 200 again, without a restart
  Ctrl-C stops the service and its PostgreSQL and Redis.

MSG
make --no-print-directory run PORT="$port"
