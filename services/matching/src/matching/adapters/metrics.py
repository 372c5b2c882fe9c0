"""Matching's domain metrics, in the runtime's registry beside the delivery metrics."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from prometheus_client import Counter, Histogram

from brobygger_runtime.service import ServiceRuntime


class MatchingMetrics:
    def __init__(self, runtime: ServiceRuntime) -> None:
        r = runtime.metrics.registry
        self.proposals = Counter("brobygger_matching_proposals_total", "Proposals made, by kind", ["kind"], registry=r)
        self.decisions = Counter(
            "brobygger_matching_decisions_total",
            "Citizens' answers to proposals (accepted, declined), or withdrawn or ended because the candidate stopped, by kind",
            ["kind", "answer"], registry=r,
        )
        self.groups = Counter("brobygger_matching_group_proposals_total", "New groups proposed or grown", registry=r)
        self.batch_seconds = Histogram(
            "brobygger_matching_batch_seconds", "Time of one batch assignment (scoring and solving)", registry=r,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30),
        )


_metrics: WeakKeyDictionary[ServiceRuntime, MatchingMetrics] = WeakKeyDictionary()


def metrics_of(runtime: ServiceRuntime) -> MatchingMetrics:
    if runtime not in _metrics:
        _metrics[runtime] = MatchingMetrics(runtime)
    return _metrics[runtime]
