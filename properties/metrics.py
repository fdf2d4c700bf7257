"""Control-plane metrics as model-time figures: a run's table, and the worst case over many runs.

The seed's §8 tells operators what to watch — scheduling latency, work-queue depth, request and
error rates — and §4.5 and §9 what a failure costs in time. Here each is a figure of a run of the
model (docs/metrics.md):

    table = metrics(model, start, trace)          # one trace
    for line in table_lines(table): print(line)
    worst = worst_case(model, start, traces)      # the worst value of each metric over many traces

Interval metrics (`metrics_intervals`) are measured in model seconds and in steps; gauges and
counters (`metrics_gauges`) as peaks and counts. Model time moves only with `Tick`, so a figure of
0 s means "within the same tick": the model has no network or CPU time, only the timers upstream
has (grace periods, tolerations, back-offs, resyncs). Time bounds a user states are
`kubeprop.properties.metrics_within.within`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from kubeprop.model.api.objects import Pod
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.metrics_gauges import GaugePeak, gauge_peaks, request_counts
from kubeprop.properties.metrics_intervals import INTERVAL_METRICS, Sample, interval_samples
from kubeprop.properties.metrics_run import Run, observe

__all__ = [
    "MetricsTable", "Row", "WorstCase", "WorstFold", "check_report", "metrics", "metrics_of_run", "series",
    "table_lines", "worst_case", "worst_over",
]

GAUGES = ("workqueue-depth", "watch-lag-events", "watch-lag-seconds")
UNITS = {"workqueue-depth": "keys", "watch-lag-events": "events", "watch-lag-seconds": "s",
         "apiserver-requests": "requests"}


@attrs.frozen
class Row:
    """One line of the table: a metric (with a label for request counts), how many samples or
    subjects it has, its worst value and unit, the subject and steps of that worst value, and
    whether that worst interval is still open at the end of the run (a lower bound)."""

    metric: str
    count: int
    worst: int
    unit: str
    subject: str = ""
    steps: int | None = None
    open: bool = False


@attrs.frozen
class MetricsTable:
    """Every figure of one run: interval samples, gauge peaks and request counts."""

    samples: tuple[Sample, ...]
    peaks: tuple[GaugePeak, ...]
    requests: tuple[tuple[str, int, int], ...]
    """(verb, code, count), sorted."""
    steps: int
    seconds: int

    def of(self, metric: str) -> tuple[Sample, ...]:
        """The samples of one interval metric."""
        return tuple(s for s in self.samples if s.metric == metric)

    def worst(self, metric: str) -> Sample | None:
        """The longest interval of `metric` (an open one counts with its elapsed time); ties go to
        the first to open."""
        found = self.of(metric)
        return max(found, key=lambda s: (s.seconds, s.steps, -s.start_step)) if found else None

    def requests_with(self, code_class: str) -> int:
        """Responses whose code is `code_class` ("429", "409") or in its class ("5xx", "2xx")."""
        if code_class.endswith("xx"):
            return sum(n for _, code, n in self.requests if str(code)[0] == code_class[0])
        return sum(n for _, code, n in self.requests if str(code) == code_class)

    def rows(self) -> tuple[Row, ...]:
        """The table: one row per interval metric and gauge, then request counts by verb and code,
        then the 429 / 409 / 5xx totals."""
        out: list[Row] = []
        for metric in INTERVAL_METRICS:
            worst = self.worst(metric)
            count = len(self.of(metric))
            out.append(Row(metric, count, 0, "s") if worst is None else
                       Row(metric, count, worst.seconds, "s", worst.subject, worst.steps, worst.open))
        for metric in GAUGES:
            peaks = [p for p in self.peaks if p.metric == metric]
            top = max(peaks, key=lambda p: (p.value, -p.step), default=None)
            out.append(Row(metric, len(peaks), 0, UNITS[metric]) if top is None else
                       Row(metric, len(peaks), top.value, UNITS[metric], f"{top.subject} (state {top.step})"))
        for verb, code, n in self.requests:
            out.append(Row(f"apiserver-requests {verb} {code}", n, n, "requests"))
        for code_class in ("429", "409", "5xx"):
            n = self.requests_with(code_class)
            out.append(Row(f"apiserver-requests {code_class}", n, n, "requests"))
        return tuple(out)


def metrics_of_run(run: Run) -> MetricsTable:
    """The table of an observed run."""
    counts = request_counts(run)
    requests = tuple(sorted((verb, code, n) for (verb, code), n in counts.items()))
    return MetricsTable(interval_samples(run), gauge_peaks(run), requests, len(run.actions),
                        run.clock(run.last) - run.clock(0))


def metrics(model: ClusterModel, start: ClusterState, trace: Iterable[Action]) -> MetricsTable:
    """The metrics table of `trace` run from `start`."""
    return metrics_of_run(observe(model, start, trace))


def table_lines(table: MetricsTable) -> list[str]:
    """The table as aligned text lines (the caller prints them)."""
    lines = [f"metrics over {table.steps} steps, {table.seconds} s of model time",
             f"{'metric':<36}{'n':>5}  {'worst':>12}  {'steps':>5}  subject"]
    for row in table.rows():
        worst = f"{'>=' if row.open else ''}{row.worst} {row.unit}"
        steps = "" if row.steps is None else str(row.steps)
        lines.append(f"{row.metric:<36}{row.count:>5}  {worst:>12}  {steps:>5}  {row.subject}".rstrip())
    return lines


@attrs.frozen
class WorstCase:
    """The worst value of one row's metric over a set of traces, and the trace it came from."""

    row: Row
    trace_index: int
    trace: tuple[Action, ...]


def worst_case(model: ClusterModel, start: ClusterState, traces: Iterable[Sequence[Action]]) -> tuple[WorstCase, ...]:
    """For every row metric, the worst value over `traces` (each run from `start`) and the first
    trace reaching it, shortest first among equals. Rows that never had a sample are left out."""
    fold = WorstFold(model, start)
    for trace in traces:
        fold.add(trace)
    return fold.worst()


class WorstFold:
    """`worst_case` one trace at a time: an engine's `EngineConfig.on_run` observer (`add`) keeps,
    per metric, the worst value over every run it was told of, without keeping the runs."""

    def __init__(self, model: ClusterModel, start: ClusterState) -> None:
        self.model, self.start = model, start
        self.best: dict[str, WorstCase] = {}
        self.runs = 0

    def add(self, trace: Sequence[Action]) -> None:
        """Measure one more run from `start` (index `runs`)."""
        index, self.runs = self.runs, self.runs + 1
        for row in metrics(self.model, self.start, trace).rows():
            if row.count == 0 and not row.metric.startswith("apiserver-requests"):
                continue
            held = self.best.get(row.metric)
            if held is None or (row.worst, -len(trace)) > (held.row.worst, -len(held.trace)):
                self.best[row.metric] = WorstCase(row, index, tuple(trace))

    def worst(self) -> tuple[WorstCase, ...]:
        """Per metric, the worst value and its trace, in the order the metrics first appeared."""
        return tuple(self.best.values())


def series(model: ClusterModel, start: ClusterState, trace: Iterable[Action]) -> dict[str, tuple[int, ...]]:
    """Per-state figures of a trace, for plotting over the steps (one value per state): model
    time, keys queued over all controllers, the largest watch lag in events, pods not yet bound,
    nodes whose heartbeats stopped, and cumulative API responses with 409, 429 and 5xx codes."""
    run = observe(model, start, trace)
    depth, lag = [], []
    pending = tuple(sum(1 for p in s.store.list("pods") if isinstance(p, Pod) and not p.spec.node_name
                        and p.metadata.deletion_timestamp is None) for s in run.states)
    for state in run.states:
        depth.append(sum(len(q) for c in state.controllers.values() if isinstance(q := getattr(c, "queue", None),
                                                                                tuple)))
        lag.append(max((sum(1 for e in state.store.events if e.key.resource == r and e.revision > cache.revision)
                        for informer in state.informers.values() for r, cache in informer.resources.items()),
                       default=0))
    out: dict[str, tuple[int, ...]] = {"clock": tuple(s.clock for s in run.states),
                                       "workqueue-depth": tuple(depth), "watch-lag-events": tuple(lag),
                                       "pods-pending": pending,
                                       "nodes-heartbeat-lost": tuple(len(s.heartbeat_lost) for s in run.states)}
    for label, low, high in (("409", 409, 409), ("429", 429, 429), ("5xx", 500, 599)):
        total, values = 0, [0]
        for calls in run.calls:
            total += sum(1 for call in calls if low <= call.code <= high)
            values.append(total)
        out[f"apiserver-requests {label}"] = tuple(values)
    return out


def worst_over(model: ClusterModel, traces: Iterable[Sequence[Action]], explored: WorstFold | None = None
               ) -> list[tuple[str, WorstCase]]:
    """Per metric, the worst value over the fair run from the initial state
    (`kubeprop.model.cluster.drive.settle`), the given traces (the engines' violation traces, each
    from the initial state) and the runs the engines explored (`explored`, the fold their `on_run`
    observer fed), each with where it came from ("the fair run", "trace 1", "explored run 17")."""
    from kubeprop.model.cluster.compose import initial_state
    from kubeprop.model.cluster.drive import settle

    start = initial_state(model)
    runs = [settle(model, start).trace, *(tuple(t) for t in traces if t)]
    names = ["the fair run", *(f"trace {i}" for i in range(1, len(runs)))]
    candidates = [(names[w.trace_index], w) for w in worst_case(model, start, runs)]
    if explored is not None:
        candidates += [(f"explored run {w.trace_index + 1}", w) for w in explored.worst()]
    best: dict[str, tuple[str, WorstCase]] = {}
    for where, w in candidates:
        held = best.get(w.row.metric)
        if held is None or (w.row.worst, -len(w.trace)) > (held[1].row.worst, -len(held[1].trace)):
            best[w.row.metric] = (where, w)
    return list(best.values())


def check_report(model: ClusterModel, traces: Iterable[Sequence[Action]], explored: WorstFold | None = None,
                 rows: Sequence[tuple[str, WorstCase]] | None = None) -> list[str]:
    """What `kubeprop check --metrics` prints: `worst_over` as a table (`rows`: its result when
    the caller already has it)."""
    traces = [tuple(t) for t in traces if t]
    extra = f" and {explored.runs} explored run(s)" if explored is not None else ""
    lines = [f"metrics: worst over {1 + len(traces)} trace(s){extra} (model time; 'steps' = actions in the interval)",
             f"{'metric':<36}{'worst':>12}  {'steps':>5}  {'where':<24} subject"]
    for where, worst in rows if rows is not None else worst_over(model, traces, explored):
        row = worst.row
        value = f"{'>=' if row.open else ''}{row.worst} {row.unit}"
        steps = "" if row.steps is None else str(row.steps)
        lines.append(f"{row.metric:<36}{value:>12}  {steps:>5}  {f'{where} ({len(worst.trace)})':<24} "
                     f"{row.subject}".rstrip())
    return lines
