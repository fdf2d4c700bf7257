"""Schema-driven fuzz surfaces: inputs generated from the input formats' own types, so that every
field is reached with values of its type (and, now and then, of any other).

- `schema-scenarios`: a real scenario with sections replaced by values generated from
  `ScenarioFile`'s attrs classes (the descheduler, the environment, node steps, bounds, every
  parameter by its default's type); module references (`admission`, `controllers`, `properties`,
  `environment.rules`) are left out — the `scenarios` surface covers them;
- `schema-counterexamples`: a corpus file whose recorded actions, steps, parameters and lasso are
  replaced by typed values (an action with an argument of the wrong type, a step beyond the trace,
  a cycle start of 10^20);
- `schema-gates`: a gate config generated from `GateConfig` and `CheckSpec` (budgets, depths,
  parameters, engines, requirements, replay timeouts of every type).
"""

from __future__ import annotations

import json
import shutil
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import yaml
from fuzz_harness import Case
from fuzz_values import FLOATS, NUMBERS, Sandbox, hostile
from hypothesis import strategies as st

from kubeprop.model.api.codec import json_name
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.schema import PARAMETERS, ScenarioFile

REPO = Path(__file__).resolve().parents[2]
BASES = [REPO / "tests" / "model" / "data" / p for p in ("variants/web.yaml", "hpa/linear.yaml",
                                                         "descheduler/duplicates.yaml", "maintenance/drained.yaml")]
CORPUS = sorted((REPO / "counterexamples" / "corpus").glob("*.json"))
MODULE_FIELDS = {"admission", "controllers", "properties", "rules"}
"""Fields naming Python modules (imported for a trusted scenario): the `scenarios` surface covers them."""
NAMES = ["web", "default/web", "worker-1", "worker-2", "n1", "app", "cpu", "memory", "pods", "gpu", "Deployment",
         "pod", "DoNotSchedule", "ScheduleAnyway", "NoSchedule", "control-plane", "", "x" * 70, "\x1b[2J", "a/b/c"]
QUANTITIES = ["1", "100m", "1Gi", "0", "-1", "1e4096", "1e30", "0.000001", "10", "1Ki", "1.5", "abc", "1e-9"]
PATHS = ["web", "web/app.yaml", "missing", "/dev/zero", "/etc", "../../etc"]


def _members(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def value_for(draw: Any, tp: Any, field: str = "", depth: int = 0) -> Any:
    """A value for a field of type `tp` (now and then a hostile value of any type)."""
    if depth > 6 or draw(st.integers(0, 11)) == 0:
        return draw(hostile)
    options = _members(tp)
    if len(options) > 1:
        return value_for(draw, draw(st.sampled_from(options)), field, depth + 1)
    if tp is type(None):
        return None
    if tp is bool:
        return draw(st.booleans())
    if tp is int:
        return draw(st.one_of(st.integers(-2, 12), st.sampled_from(NUMBERS)))
    if tp is float:
        return draw(st.one_of(st.floats(-2, 2, allow_nan=False), st.sampled_from(FLOATS)))
    if tp is str:
        return draw(st.sampled_from(PATHS if field in ("path", "apply", "manifests") else NAMES))
    if tp is Quantity:
        return draw(st.sampled_from(QUANTITIES))
    if tp is Any:
        return draw(hostile)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        return [value_for(draw, args[0], field, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    if origin is FrozenMap or tp is FrozenMap:
        item = args[1] if args else Any
        keys = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
        return {k: value_for(draw, item, field, depth + 1) for k in keys}
    if attrs.has(tp):
        return section(draw, tp, depth + 1)
    return draw(hostile)


def section(draw: Any, cls: Any, depth: int = 0) -> dict[str, Any]:
    """Some fields of attrs class `cls`, each with a generated value (module references left out)."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in attrs.fields(cls) if f.init and f.name not in MODULE_FIELDS]
    chosen = draw(st.lists(st.sampled_from(fields), max_size=min(4, len(fields)), unique=True)) if fields else []
    return {json_name(f): value_for(draw, hints[f.name], f.name, depth) for f in chosen}


def _parameters(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(list(PARAMETERS)), min_size=1, max_size=4, unique=True))
    out = {}
    for name in names:
        default = PARAMETERS[name]
        tp = type(default) if not isinstance(default, tuple) else tuple[str, ...]
        out[name] = value_for(draw, tp, name)
    return out


def schema_scenarios(draw: Any, box: Sandbox) -> Case:
    """A real scenario with one to three top-level sections generated from the schema."""
    base = draw(st.sampled_from(BASES))
    shutil.copytree(base.parent, box.work / "v")
    data = yaml.safe_load(base.read_text())
    hints = typing.get_type_hints(ScenarioFile)
    tops = [f for f in attrs.fields(ScenarioFile) if f.name not in MODULE_FIELDS | {"api_version", "kind"}]
    for f in draw(st.lists(st.sampled_from(tops), min_size=1, max_size=3, unique=True)):
        data[json_name(f)] = _parameters(draw) if f.name == "parameters" else value_for(draw, hints[f.name], f.name)
    scenario = box.work / "v" / "schema-scenario.yaml"
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, RecursionError):
        text = repr(data)
    scenario.write_text(text, encoding="utf-8", errors="surrogatepass")
    argv = draw(st.sampled_from([
        ["validate", "v/schema-scenario.yaml"],
        ["schedule", "v/schema-scenario.yaml", "--rlimit", "200000"],
        ["check", "v/schema-scenario.yaml", "--engine", draw(st.sampled_from(["walk", "bfs", "portfolio"])),
         "--max-depth", "4", "--workers", "1", "--out", "out", "--budget", "1"],
    ]))
    strict, kind_only = box.protected_for(argv)
    return Case("schema-scenarios", argv, box.work, protected=[scenario, *strict], kind_only=kind_only)


# --- counterexample files --------------------------------------------------------------------------------

def _typed_like(draw: Any, value: Any) -> Any:
    """A value of the same JSON type as `value` (an integer for an integer, …), or a hostile one."""
    if draw(st.integers(0, 4)) == 0:
        return draw(hostile)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return draw(st.one_of(st.integers(-2, 40), st.sampled_from(NUMBERS)))
    if isinstance(value, str):
        return draw(st.sampled_from(NAMES))
    if isinstance(value, list):
        return [_typed_like(draw, v) for v in value[: draw(st.integers(0, len(value)))]]
    if isinstance(value, dict):
        return {k: (_typed_like(draw, v) if draw(st.booleans()) else v) for k, v in value.items()}
    return draw(hostile)


def schema_counterexamples(draw: Any, box: Sandbox) -> Case:
    """A corpus file with typed changes to its trace, violation, model and lasso."""
    source = draw(st.sampled_from(CORPUS))
    data = json.loads(source.read_text())
    for key in draw(st.lists(st.sampled_from(["trace", "violation", "model", "engine", "lasso", "property"]),
                             min_size=1, max_size=2, unique=True)):
        if key == "trace" and isinstance(data.get("trace"), list) and data["trace"]:
            i = draw(st.integers(0, len(data["trace"]) - 1))
            data["trace"][i] = _typed_like(draw, data["trace"][i])
        elif key == "lasso":
            data["lasso"] = {"cycleStart": draw(st.one_of(st.integers(-2, 40), st.sampled_from(NUMBERS)))}
        else:
            data[key] = _typed_like(draw, data.get(key, {}))
    ce = box.work / "ce.json"
    ce.write_text(json.dumps(data, indent=1, allow_nan=True))
    argv = ["replay", str(ce), *draw(st.sampled_from([[], ["--json"], ["--full"], ["--html", "page.html"]]))]
    strict, kind_only = box.protected_for(argv)
    return Case("schema-counterexamples", argv, box.work, protected=[ce, *strict], kind_only=kind_only,
                untrusted=True)


# --- gate configs -----------------------------------------------------------------------------------------

def schema_gates(draw: Any, box: Sandbox) -> Case:
    """A gate config generated from `GateConfig`'s types, its corpus a folder with one good file (a
    `--budget` of two seconds shares the time, whatever the checks ask for)."""
    from kubeprop.properties.cli.gate_config import CheckSpec, GateConfig

    good = box.work / "good"
    good.mkdir()
    shutil.copy(CORPUS[-1], good / CORPUS[-1].name)
    config = section(draw, GateConfig)
    config.pop("allowImports", None)  # module names: the `gate` surface covers them
    config["corpus"] = draw(st.sampled_from([["good"], ["good", "good"], config.get("corpus", ["good"])]))
    checks = [section(draw, CheckSpec) for _ in range(draw(st.integers(0, 2)))]
    for check in checks:
        check.pop("propertyModules", None)
        check["scenario"] = draw(st.sampled_from(["", str(BASES[0]), "missing.yaml", "/dev/zero", "good"]))
    if checks or draw(st.booleans()):
        config["checks"] = checks
    path = box.work / "gate.yaml"
    try:
        text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, RecursionError):
        text = repr(config)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    argv = ["gate", "--config", "gate.yaml", "--out", "out", "--budget", "2"]
    strict, kind_only = box.protected_for(argv)
    return Case("schema-gates", argv, box.work, protected=[path, good / CORPUS[-1].name, *strict],
                kind_only=kind_only)


SCHEMA_SURFACES = {"schema-scenarios": schema_scenarios, "schema-counterexamples": schema_counterexamples,
                   "schema-gates": schema_gates}
