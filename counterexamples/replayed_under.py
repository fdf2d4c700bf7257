"""The parameters a replay ran under that are not the v1.33 defaults, and where each was set.

One set of data for every rendering of a replay, so that they say the same: the terminal's
`replayed under` line (`kubeprop.counterexamples.render`), `kubeprop replay --json`'s
`replayedUnder` object, the HTML page's `replayed under` row and the gate's `replays under` note.

A parameter is named when its value in force is not the default (`scenario_diff.in_force`; the
variant's own left to the variant's name), under the place that set it, in this order:

- `file-scenario`: the file's own scenario (inline: as it was written from the path it records);
- `given-scenario`: the scenario given to the replay (`kubeprop replay --scenario PATH`);
- `file-parameters`: the file's `model.parameters` (what the recording run set over its scenario);
- `replay`: given to the replay otherwise (`replay(parameters=…)`, a what-if).

A value is data from the file: the reader admits a parameter's type only (a list of strings, a
string, a number, a boolean; `schema.parameter_problem`), so a list or a string can be as long as
the file. The words cut each value (`scenario_diff.value_words`, at `MAX_VALUE` characters, with
its length); the JSON carries it whole, as data; the page escapes the words, the gate's summary
writes them as a code span.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from kubeprop.counterexamples.replay import ReplayResult
from kubeprop.counterexamples.scenario_diff import RELEASE, in_force, parameter_words
from kubeprop.model.scenario.schema import PARAMETERS

Source = Literal["file-scenario", "given-scenario", "file-parameters", "replay"]


@attrs.frozen
class SetParameter:
    """A parameter in force that is not at its default: its value, its default (None for a name
    kubeprop does not know, which no default can have) and where it was set."""

    name: str
    value: Any
    default: Any
    source: Source


@attrs.frozen
class ReplayedUnder:
    """What a replay ran under: the parameters not at their defaults, the words for each place that
    set some (`(from the file's own scenario, written from web-v131.yaml)`), and the variant whose
    own parameters are left to its name (None for `correct`, which has none)."""

    parameters: tuple[SetParameter, ...]
    sources: tuple[tuple[Source, str], ...]
    variant: str | None
    release: str = RELEASE

    def source_words(self, source: Source) -> str:
        """The words for a place that set parameters (as the terminal writes them in parentheses)."""
        return dict(self.sources)[source]


def replayed_under(result: ReplayResult) -> ReplayedUnder:
    """The parameters `result` was replayed under that are not the defaults, each with where it was set."""
    forced = in_force(result.model.parameters, result.model.variant)
    own, written = result.counterexample.parameters, result.model.scenario.spec.parameters
    scenario: Source = "given-scenario" if result.scenario is not None else "file-scenario"
    recorded = result.counterexample.scenario
    where = (f"the scenario at {result.scenario}" if result.scenario is not None
             else "the file's own scenario" + (f", written from {recorded.path}" if recorded.mode == "inline" else ""))

    def source(name: str, value: Any) -> Source:
        if name in written and written[name] == value and name not in own:
            return scenario
        if name in own and own[name] == value:
            return "file-parameters"
        return "replay"  # replay(parameters=…)

    order: tuple[Source, ...] = (scenario, "file-parameters", "replay")
    words = {scenario: f"from {where}", "file-parameters": "from the file's model.parameters",
             "replay": "given to the replay"}
    found = [SetParameter(name, value, PARAMETERS.get(name), source(name, value)) for name, value in forced.items()]
    found.sort(key=lambda p: (order.index(p.source), p.name))
    used = tuple((s, words[s]) for s in order if any(p.source == s for p in found))
    variant = None if result.model.variant == "correct" else result.model.variant
    return ReplayedUnder(tuple(found), used, variant)


def under_words(under: ReplayedUnder) -> str:
    """The terminal's words: `a=1, b=false (from …); c=2 (given to the replay); the rest at the
    defaults (v1.33), but for variant X's own` (each value cut, `scenario_diff.value_words`)."""
    variant = "" if under.variant is None else f", but for variant {under.variant}'s own"
    if not under.parameters:
        return f"the defaults ({under.release}){variant}"
    groups = [f"{parameter_words({p.name: p.value for p in under.parameters if p.source == s})} ({words})"
              for s, words in under.sources]
    return f"{'; '.join(groups)}; the rest at the defaults ({under.release}){variant}"


def json_value(value: Any) -> Any:
    """A parameter's value as JSON data (a list parameter's tuple as a list)."""
    return list(value) if isinstance(value, tuple) else value


def under_json(under: ReplayedUnder) -> dict[str, Any]:
    """`replay --json`'s `replayedUnder`: the terminal's words, the release the defaults follow, the
    variant whose own are left out, and each parameter with its value, default and where it was set
    (`source`, and `sourceWords` as the terminal writes them)."""
    return {"text": under_words(under), "release": under.release, "variantOwnLeftOut": under.variant,
            "parameters": [{"name": p.name, "value": json_value(p.value), "default": json_value(p.default),
                            "source": p.source, "sourceWords": under.source_words(p.source)}
                           for p in under.parameters]}
