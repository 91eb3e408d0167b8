"""The wallet's business metrics, registered on the app's registry (ops/prometheus/metrics.txt)."""

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter

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
    metrics = getattr(request.app.state, "wallet_metrics", None)
    if not isinstance(metrics, WalletMetrics):  # a wiring error, not a runtime condition
        msg = "app.state.wallet_metrics is not set: build the app with create_app()"
        raise TypeError(msg)
    return metrics
