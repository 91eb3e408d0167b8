"""The idempotent withdrawal row: funded seeded users, a new Idempotency-Key per request.

A real service has many users, and each user's money moves run one after the other on that
user's wallet row (`SELECT ... FOR UPDATE`, by design). One user's token for the whole load would
measure that queue, not the service: the load is spread over as many funded users as wrk has
connections. `seed` creates accounts without money, so each is topped up through the API first,
with enough for far more withdrawals than any run sends (no 409 for lack of funds).
"""

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

from client import call, metrics_text
from wrk import BENCH, Request

API = "/api/v1"
ROUTE = f"{API}/wallet/withdrawals"
# A hundred million withdrawals of 0.01 per user: no run comes near it.
FUNDS = "1000000.00"
AMOUNT = "0.01"
PAID = re.compile(r'^payouts_total\{outcome="paid"\} ([\d.e+]+)$', re.MULTILINE)
# Logins pay a password hash each: a few at a time keep the server's threads busy, no more.
PARALLEL_LOGINS = 4


def funded_withdrawals(service: str, users: int, email: str, password: str) -> Request:
    """Log `users` seeded accounts in, top each up, and return wrk's withdrawal request."""

    def fund(number: int) -> str:
        credentials = {"email": email.format(number=number), "password": password}
        token: str = call(f"{service}{API}/auth/login", credentials)["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        call(f"{service}{API}/wallet/top-ups", {"amount": FUNDS}, headers)
        return token

    with ThreadPoolExecutor(PARALLEL_LOGINS) as pool:
        tokens = list(pool.map(fund, range(1, users + 1)))
    listed = ", ".join(f'"{token}"' for token in tokens)
    script = f"tokens = {{{listed}}}\n" + (BENCH / "withdrawals.lua").read_text()
    return Request(ROUTE, "POST", json.dumps({"amount": AMOUNT}), script=script)


def paid_withdrawals(service: str) -> int:
    """Withdrawals the service paid since it started, from its own counter in /metrics."""
    found = PAID.search(metrics_text(service))
    return int(float(found.group(1))) if found else 0
