"""The wallet's business metrics, registered on the app's registry (ops/prometheus/metrics.txt)."""

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter

from ..platform.app_state import app_state
from ..platform.idempotency import IdempotencyMetrics


class WalletMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.idempotency = IdempotencyMetrics(registry)
        self.payouts = Counter(
            "payouts",
            "Withdrawals requested, by outcome (paid, insufficient_funds).",
            ["outcome"],
            registry=registry,
        )
        self.payout_amount = Counter(
            "payout_amount",
            "Money paid out by withdrawals, in the wallet's currency unit.",
            registry=registry,
        )


def get_wallet_metrics(request: Request) -> WalletMetrics:
    return app_state(request.scope, "wallet_metrics", WalletMetrics)
