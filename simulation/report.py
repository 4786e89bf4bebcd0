"""The summary printed at the end of a run."""

from .invariants import CHECKS

# Checked while running, by the clients, the chaos and the drain.
RUN_CHECKS = {
    "replay_mismatch": "every replay of an Idempotency-Key is the first answer byte for byte, marked replayed "
    "(again at once, as a concurrent twin, and after the run); another body with the key is refused",
    "unexpected_response": "every answer is an expected outcome of its operation (no 500, no stray 4xx)",
    "client_gave_up": "no request still failed (5xx, network) after two minutes of retries",
    "webhook_refused": "every correctly signed webhook is accepted",
    "api_agrees_with_database": "after the drain, every wallet, player history (all cursor pages) and review "
    "queue (all pages, counts per state) read through the API is the books",
    "automatic_retry_lost": "a failed payout with attempts left is retried automatically (or its retry is queued)",
}


def _out(line: str = "") -> None:
    print(line, flush=True)


def _table(title: str, rows: dict, indent: str = "  ") -> None:
    _out(title)
    if not rows:
        _out(f"{indent}(none)")
    for name, count in rows.items():
        _out(f"{indent}{name:<64} {count:>8}")


def print_report(report: dict, found: dict) -> None:
    _out()
    _out(f"=== Simulation seed {report['seed']} ===")
    _table("Operations by type and outcome:", report["outcomes"])
    _out(
        f"Operations sent to the product: {report['operations']} "
        f"(+{report['skipped']} skipped), "
        f"{report['clients']} concurrent clients, {report['requests']} HTTP requests"
    )
    _out(
        f"Client phase: {report['client_seconds']} s, {report['throughput']} operations/s; "
        f"drain {report['drain_seconds']} s; whole run {report['total_seconds']} s"
    )
    _out(f"Webhooks delivered by the simulation's extra PSP senders: {report['webhooks_by_extra_senders']}")
    _out(f"Rows read back through the API and compared with the books: {report.get('api_rows_compared', 0)}")
    _table("Idempotency replays checked:", report["replays"])
    _table("Client retries (same key and body):", report["retries"])
    _table("Injections:", report["injections"])
    _table("Drain:", report["drain_actions"])
    _out("World at the end:")
    for name, rows in report["census"].items():
        _out(f"  {name}: " + ", ".join(f"{label} {count}" for label, count in rows))
    _out("Invariants:")
    for check in CHECKS:
        rows = found.get(check.name, [])
        _out(f"  {'ok  ' if not rows else 'FAIL'} {check.name}: {check.description}")
    for name, what in RUN_CHECKS.items():
        count = report["violation_counts"].get(name, 0)
        _out(f"  {'ok  ' if not count else 'FAIL'} {name}: {what}")
    total = sum(report["violation_counts"].values())
    if total:
        _out(f"VIOLATIONS: {total}")
        for violation in report["violations"]:
            _out(f"  [{violation['check']}] {violation['detail']}")
        shown = len(report["violations"])
        if shown < total:
            _out(f"  ... {total - shown} more (the first 50 per check are shown)")
    _out(f"Result: {'FAILED' if total else 'PASSED'}, {total} violations, seed {report['seed']}")
