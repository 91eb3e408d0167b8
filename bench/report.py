"""The printed table and docs/benchmarks.md with its chart."""

import argparse
import os
import platform
from pathlib import Path

from locust_mix import Mix
from wrk import Sample

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks.png"

Row = tuple[str, Sample, Sample]


def format_table(rows: list[Row], args: argparse.Namespace) -> str:
    header = (
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | wrk CPU | server CPU "
        "| ratio to bare FastAPI |"
    )
    lines = [header, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, sample, baseline in rows:
        lines.append(
            f"| {name} | {sample.rps:,.0f} | {sample.p50:.1f} | {sample.p95:.1f} "
            f"| {sample.p99:.1f} "
            f"| {sample.errors} | {sample.generator_cpu:.0f}% | {sample.server_cpu:.0f}% "
            f"| {sample.rps / baseline.rps:.2f}x (bare {baseline.rps:,.0f}/s) |"
        )
    settings = (
        f"\nwrk -t1 -c{args.connections}, {args.rounds} interleaved rounds of {args.seconds} s, "
        f"one uvicorn worker each; medians\n"
    )
    return settings + "\n" + "\n".join(lines) + "\n"


def describe_withdrawals(sample: Sample, paid: int, users: int) -> str:
    answered = sample.requests - sample.errors
    # wrk stops with requests in flight: the service may pay a few it never saw answered.
    check = "every 2xx was a withdrawal paid" if paid >= answered else "FEWER PAID THAN ANSWERED"
    return (
        f"\nWithdrawals: {users} funded users, a new Idempotency-Key per request; the service "
        f"counted {paid:,} paid (payouts_total), wrk {answered:,} answered without error "
        f"({check}); target >= 300 req/s with p95 < 100 ms: "
        f"{'met' if sample.rps >= 300 and sample.p95 < 100 else 'not met'}.\n"
    )


def format_mix(mix: Mix) -> str:
    hit = "unknown" if mix.cache_hit is None else f"{100 * mix.cache_hit:.1f}%"
    processes = f"{mix.processes} processes" if mix.processes > 1 else "one process"
    lines = [
        f"\nMixed scenario: the rendered `loadtests/locustfile.py`, {mix.users} users "
        f"({processes}), {mix.seconds} s after a {mix.ramp_seconds} s ramp, against the same "
        "service\n",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | cache hit | Locust CPU "
        "| server CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| Locust mix ({mix.requests:,} requests) | {mix.rps:,.0f} | {mix.p50:.0f} "
        f"| {mix.p95:.0f} | {mix.p99:.0f} | {100 * mix.error_ratio:.2f}% | {hit} "
        f"| {mix.locust_cpu:.0f}% | {mix.server_cpu:.0f}% |",
    ]
    missed = mix.missed_targets()
    verdict = "met" if not missed else "not met (" + "; ".join(missed) + ")"
    lines.append(f"\nTarget >= 1,000 RPS, p95 < 500 ms, errors < 1%, cache hit > 90%: {verdict}.")
    if mix.generator_limited():
        lines.append("Locust used a full core per process: the generator, not only the service, "
                     "was the limit (more `--mix-processes` if cores are free).")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_report(text: str, rows: list[Row]) -> None:
    """docs/benchmarks.md and its chart, so the published figures are the measured ones."""
    import matplotlib  # the `bench` dependency group: only `make bench` needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 0.6 * len(rows) + 1.2))
    names = [name.split(" (")[0] for name, _, _ in rows]
    ratios = [sample.rps / baseline.rps for _, sample, baseline in rows]
    axes.barh(names[::-1], ratios[::-1], color="#4c72b0")
    axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    axes.set_xlabel("throughput as a fraction of a bare FastAPI app (1.0 = as fast)")
    figure.tight_layout()
    figure.savefig(CHART, dpi=110)
    machine = f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores"
    REPORT.write_text(
        REPORT_TEMPLATE.format(machine=machine, table=text, chart=CHART.name), encoding="utf-8"
    )
    print(f"\nwrote {REPORT.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


REPORT_TEMPLATE = """# Benchmarks

Written by `make bench` (bench/run.py); do not edit by hand. Machine: {machine}.

The rendered default service (every middleware on, PostgreSQL and Redis local, seeded with
10,000 users and 1,000 market items by its `seed` command) and a 5-line
FastAPI app are served the same way (uvicorn, one worker, `LOG_LEVEL=WARNING`, no access log)
and measured in interleaved rounds with wrk from Debian. The ratio to the bare app, measured in
the same run, is the result: absolute figures move with the machine and its neighbours, ratios
much less. The generator's CPU is listed: near 100% of a core, it and not the server is the limit.
Rate limits stay on, raised so that wrk's single address is not refused (429). The login storm
measures `/health/live` with 4 connections, alone (once the logins the login row left queued are
done) and while another wrk sends logins.

The withdrawal row sends `POST /api/v1/wallet/withdrawals` of 0.01 with a new `Idempotency-Key`
per request, so every request is a real money move (lock the wallet row, append a ledger entry,
store the key and the answer), none a replay. The load is spread over as many seeded users as
wrk has connections, each topped up through the API first so that no withdrawal is refused for
lack of funds; their tokens take turns (wrk cannot give each connection its own). A real service
has many users, and one user's moves wait for each other on that user's wallet row by design:
one token for the whole load would measure that queue. The service's own `payouts_total` is
checked against wrk's count of answers, so the row counts withdrawals paid, not errors.

The mixed scenario is the rendered project's own `loadtests/locustfile.py` (what `make loadtest`
runs), headless against the same service: browsing and item reads mostly (the market cache),
`/auth/me`, wallet reads, top-ups, purchases and withdrawals with replays, and now and then a
login or a registration (weight 1 each of 84 in the locustfile), each paying a full password
hash, besides the login every user makes when it starts. Every user sends 2.5
requests a second; users are started over `--mix-ramp` seconds, each logging in, and the
statistics restart once all are started (logins still queued then are measured). The
cache hit ratio comes from the service's `/metrics`, over the whole run. Locust's CPU is summed
over its processes: one near 100% of a core is the limit. Locust shares the 2 cores with the
server, PostgreSQL and Redis, and the password hashes of logins and registrations take both
cores while they run: on 2 cores they, not the cached reads, bound the mix.

Targets (issue 9; 2 cores, one worker): `/health/live` >= 0.7x bare FastAPI, cached market list
>= 0.4x, authenticated read >= 0.06x, withdrawals >= 300 req/s with p95 < 100 ms, the login
storm below 2x, the mix >= 1,000 RPS with p95 < 500 ms, < 1% errors and a cache hit
ratio above 90%.
{table}

![throughput ratio to bare FastAPI]({chart})

Reproduce: `make bench` (`BENCH_ARGS="--seconds 10 --rounds 5"` for steadier figures;
`--mix-users`, `--mix-processes`, `--mix-ramp` for the Locust mix). It installs wrk with
apt-get when it is missing and you are root.
"""
