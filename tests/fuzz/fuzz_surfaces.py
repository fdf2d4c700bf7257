"""The fuzz surfaces: each draws one hostile case (files written into a sandbox, the command line).

- `manifests`: the repository's manifests with fields replaced, deleted or mangled, as YAML text
  that is sometimes truncated, re-encoded or bombed; plus odd files in the folder;
- `scenarios`: the test scenarios with hostile parameters, topology, workload steps, bounds and
  `admission:`/`controllers:` entries (trusted files: importing is allowed, crashing is not);
- `counterexamples`: the corpus files with hostile values, edited inline scenarios that name
  modules (the canary among them), a hostile `property.module`, path-mode records pointing at odd
  files, and raw JSON damage (deep nesting, 5,000-digit numbers, lone surrogates, NaN);
- `flags`: every command's options with hostile numbers, parameters and paths;
- `gate`: gate configs (missing/empty/odd corpus folders, hostile budgets and depths, hostile
  corpus files) and hostile output paths for JUnit and the summary;
- `schema-scenarios`, `schema-counterexamples`: inputs generated from the formats' own types
  (`fuzz_schema.py`).

Every case keeps its work bounded (a budget of a second or two is always the last flag), so a
`hang` is always kubeprop's fault.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from fuzz_harness import CANARY_MODULE, Case
from fuzz_schema import SCHEMA_SURFACES
from fuzz_values import NUMBER_TEXT, ODD_INPUTS, ODD_OUTPUTS, PAYLOADS, TRUSTED_PAYLOADS, Sandbox, hostile
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((REPO / "tests" / "model" / "data" / "manifests" / "shop").glob("*.y*ml")) + sorted(
    (REPO / "tests" / "model" / "data" / "variants").glob("*/*.yaml"))
SCENARIOS = sorted((REPO / "tests" / "model" / "data" / "variants").glob("*.yaml"))
CORPUS = sorted((REPO / "counterexamples" / "corpus").glob("*.json"))


# --- structured and raw mutation -------------------------------------------------------------------

def _slots(value: Any, out: list[tuple[Any, Any]]) -> None:
    """Every (container, key) in a JSON-like value, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            _slots(value[key], out)
    elif isinstance(value, list):
        for i in range(len(value)):
            out.append((value, i))
            _slots(value[i], out)


def mutate(draw: Any, value: Any, rounds: int = 3) -> Any:
    """Replace, delete or add fields of `value` (a copy) with hostile values."""
    value = json.loads(json.dumps(value))
    for _ in range(draw(st.integers(1, rounds))):
        slots: list[tuple[Any, Any]] = []
        _slots(value, slots)
        if not slots:
            return draw(hostile)
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            container[key] = draw(hostile)
        elif action == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.sampled_from(["extra", "\x1b[2J", "spec", "metadata", "replicas"]))] = draw(hostile)
        else:
            container.append(draw(hostile))
    return value


def dump_yaml(data: Any) -> str:
    """YAML text for mutated data (values YAML cannot represent become their repr)."""
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, RecursionError, ValueError):
        return repr(data)


def damage(draw: Any, text: str) -> bytes:
    """Raw damage to a file's text: none (most often), truncation, bad bytes, BOMs, alias bombs."""
    raw = text.encode("utf-8", "surrogatepass")
    kind = draw(st.sampled_from(["none"] * 12 + ["truncate", "byte", "utf16", "bom", "alias", "deep", "tabs", "dup"]))
    cut = draw(st.integers(0, max(0, len(raw))))
    if kind == "truncate":
        return raw[:cut]
    if kind == "byte":
        return raw[:cut] + draw(st.sampled_from([b"\xff", b"\x00", b"\x1b[2J", b"\xc3", b"\xed\xa0\x80"])) + raw[cut:]
    if kind == "utf16":
        return text.encode("utf-16", "surrogatepass")
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw
    if kind == "alias":
        lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
                                                            for p, c in zip("abcdefg", "bcdefgh", strict=True)]
        return ("\n".join(lines) + "\nr: &r [*r]\n").encode()
    if kind == "deep":
        return b"[" * 100_000 + b"]" * 100_000
    if kind == "tabs":
        return raw.replace(b"  ", b"\t")
    if kind == "dup":
        return raw + b"\n" + raw.split(b"\n", 1)[0] + b"\n"
    return raw


def _odd(draw: Any, box: Sandbox, names: list[str]) -> str:
    return str(box.odd[draw(st.sampled_from(names))])


# --- manifests ---------------------------------------------------------------------------------------

def manifests(draw: Any, box: Sandbox) -> Case:
    """A manifest folder of mutated files (and sometimes odd entries), validated, checked or scheduled."""
    folder = box.work / "m"
    folder.mkdir()
    for i, source in enumerate(draw(st.lists(st.sampled_from(MANIFESTS), min_size=1, max_size=3))):
        docs = [d for d in yaml.safe_load_all(source.read_text()) if d is not None]
        text = "---\n".join(dump_yaml(mutate(draw, d)) if draw(st.booleans()) else dump_yaml(d) for d in docs)
        (folder / f"{i}-{source.name}").write_bytes(damage(draw, text))
    if draw(st.integers(0, 4)) == 0:
        odd = box.odd[draw(st.sampled_from(["fifo", "zero-link", "big", "loop", "dangling", "non-utf8"]))]
        (folder / f"z-{odd.name[:50]}").symlink_to(odd)
    target = draw(st.sampled_from(["m", "m", "m", *ODD_INPUTS]))
    path = "m" if target == "m" else str(box.odd[target])
    argv = draw(st.sampled_from([
        ["validate", path], ["validate", "-o", "yaml", path], ["schedule", path, "--rlimit", "200000"],
        ["check", path, "--engine", "bfs", "--max-depth", "2", "--out", "out", "--budget", "1"],
    ]))
    strict, kind_only = box.protected_for(argv)
    return Case("manifests", argv, box.work, protected=[*sorted(folder.iterdir()), *strict], kind_only=kind_only)


# --- scenarios ---------------------------------------------------------------------------------------

def _scenario_data(draw: Any, data: dict[str, Any]) -> dict[str, Any]:
    section = draw(st.sampled_from(["none", "parameters", "topology", "workload", "faults", "bounds", "imports",
                                    "any"]))
    if section == "none":
        return data
    if section == "parameters":
        from kubeprop.model.scenario.schema import PARAMETERS

        names = draw(st.lists(st.sampled_from([*PARAMETERS, "nope", "\x1b[2J"]), min_size=1, max_size=3))
        data["parameters"] = {n: draw(hostile) for n in names}
    elif section == "imports":
        key = draw(st.sampled_from(["admission", "controllers"]))
        data[key] = draw(st.lists(st.sampled_from(TRUSTED_PAYLOADS), min_size=1, max_size=2))
    elif section == "workload":
        step = draw(st.sampled_from([
            {"scale": {"deployment": draw(st.sampled_from(["web", "default/web", "nope", "x/y/z", ""])),
                       "replicas": draw(hostile)}},
            {"setImage": {"deployment": draw(st.sampled_from(["web", "nope"])), "container": "web", "image": "x"}},
            {"apply": draw(st.sampled_from(["missing.yaml", "/dev/zero", "/etc", "fifo.yaml", "../../../etc"]))},
            {"delete": {"kind": draw(hostile), "name": "web"}}, draw(hostile)]))
        data["workload"] = [*data.get("workload", []), step]
    elif section in ("faults", "bounds"):
        field = draw(st.sampled_from({"faults": ["nodeCrash", "partition", "watchDrop"],
                                      "bounds": ["maxDepth", "tickSeconds", "maxStates"]}[section]))
        data[section] = {field: draw(hostile)}
    else:
        data = mutate(draw, data)
    return data


def scenarios(draw: Any, box: Sandbox) -> Case:
    """A mutated test scenario (its manifests copied along), loaded by one of the commands."""
    source = draw(st.sampled_from(SCENARIOS))
    shutil.copytree(source.parent, box.work / "v")
    data = yaml.safe_load(source.read_text())
    data = _scenario_data(draw, data) if isinstance(data, dict) else data
    scenario = box.work / "v" / "fuzz-scenario.yaml"
    scenario.write_bytes(damage(draw, dump_yaml(data)))
    argv = draw(st.sampled_from([
        ["validate", "v/fuzz-scenario.yaml"], ["schedule", "v/fuzz-scenario.yaml", "--rlimit", "200000"],
        ["check", "v/fuzz-scenario.yaml", "--engine", draw(st.sampled_from(["bfs", "walk"])), "--max-depth", "3",
         "--workers", "2", "--out", "out", "--budget", "1"],
        ["raft", "--scenario", "v/fuzz-scenario.yaml", "--max-depth", "4", "--max-seconds", "1"],
    ]))
    strict, kind_only = box.protected_for(argv)
    return Case("scenarios", argv, box.work, protected=[scenario, *strict], kind_only=kind_only)


# --- counterexample files ----------------------------------------------------------------------------

def _hostile_scenario(draw: Any, data: dict[str, Any]) -> bool:
    """Make the inline scenario name a module; True if it does."""
    files = data.get("scenario", {}).get("files")
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        return False
    key = draw(st.sampled_from(["admission", "controllers"]))
    payload = draw(st.sampled_from([f"{CANARY_MODULE}:plugin", *PAYLOADS]))
    files[0]["text"] = str(files[0].get("text", "")) + f"\n{key}: ['{payload}']\n"
    return True


def _counterexample_data(draw: Any, data: dict[str, Any], box: Sandbox) -> tuple[dict[str, Any], bool]:
    kind = draw(st.sampled_from(["none", "mutate", "mutate", "imports", "module", "path-mode", "parameters"]))
    if kind == "none":
        return data, False
    if kind == "imports":
        return data, _hostile_scenario(draw, data)
    if kind == "module":
        data["property"] = {**data.get("property", {}), "name": draw(st.sampled_from(["mine", "\x1b[2J"])),
                            "module": draw(st.sampled_from([CANARY_MODULE, "os", "antigravity", "this"]))}
        return data, True
    if kind == "path-mode":
        evil = box.work / "evil-scenario.yaml"
        evil.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: []\n"
                        f"admission: ['{CANARY_MODULE}:plugin']\ntopology: {{nodes: [{{name: n, capacity: "
                        "{cpu: '1', memory: 1Gi, pods: '10'}}]}\n")
        target = draw(st.sampled_from([str(evil), *(str(box.odd[k]) for k in ODD_INPUTS)]))
        data["scenario"] = {**data.get("scenario", {}), "mode": "path", "path": target}
        return data, target == str(evil)
    if kind == "parameters":
        from kubeprop.model.scenario.schema import PARAMETERS

        data.setdefault("model", {})["parameters"] = {draw(st.sampled_from(list(PARAMETERS))): draw(hostile)}
        return data, False
    return mutate(draw, data), False


def _json_damage(draw: Any, text: str) -> str:
    kind = draw(st.sampled_from(["none"] * 10 + ["digits", "deep", "surrogate", "nan", "truncate"]))
    if kind == "digits":
        return text.replace('"schema": 1', '"schema": ' + "1" * 5000, 1)
    if kind == "deep":
        return "[" * 100_000 + "]" * 100_000
    if kind == "surrogate":
        return text.replace('"created": "', '"created": "\\ud800', 1)
    if kind == "nan":
        return text.replace('"step": ', '"step": NaN, "x": ', 1)
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    return text


def counterexamples(draw: Any, box: Sandbox) -> Case:
    """A damaged corpus file replayed; the file is untrusted data."""
    source = draw(st.sampled_from(CORPUS))
    data, hostile_import = _counterexample_data(draw, json.loads(source.read_text()), box)
    ce = box.work / "ce.json"
    ce.write_text(_json_damage(draw, json.dumps(data, indent=1)))
    files = [str(ce)] if draw(st.integers(0, 5)) else [str(ce), _odd(draw, box, ODD_INPUTS)]
    argv = ["replay", *files]
    for flag in draw(st.lists(st.sampled_from(["--json", "--full", "--expect", "--html", "--allow-import"]),
                              max_size=3, unique=True)):
        if flag == "--html":
            argv += ["--html", draw(st.sampled_from(["page.html", str(ce), *(_odd(draw, box, ODD_OUTPUTS),)]))]
        elif flag == "--allow-import":
            argv += ["--allow-import", draw(st.sampled_from(["os", "sys", "json", "x" * 300]))]
        else:
            argv.append(flag)
    note = "hostile import" if hostile_import else ""
    strict, kind_only = box.protected_for(argv)
    return Case("counterexamples", argv, box.work, protected=[ce, *strict], kind_only=kind_only, untrusted=True,
                note=note)


# --- flags -------------------------------------------------------------------------------------------

def _number(draw: Any) -> str:
    return draw(st.sampled_from(NUMBER_TEXT))


def _param(draw: Any) -> str:
    from kubeprop.model.scenario.schema import PARAMETERS

    name = draw(st.sampled_from([*PARAMETERS, "x", ""]))
    value = draw(st.sampled_from(["*a", "&a x", "abc", "1e400", ".nan", "0", "-1", "true", "maybe", "[a]", "{a: 1}",
                                  "!!python/name:os.system", "2024-01-01", "1001", "", "[" * 5000, "ceil"]))
    return f"{name}={value}"


def flags(draw: Any, box: Sandbox) -> Case:
    """Every command's options with hostile values; a small budget is always the last word."""
    command = draw(st.sampled_from(["check", "schedule", "raft", "replay", "validate", "gate"]))
    path = draw(st.sampled_from(["", *(str(box.odd[k]) for k in ODD_INPUTS)]))
    options: dict[str, list[str]] = {
        "check": ["--budget", "--max-depth", "--workers", "--seed", "--param", "--engine", "--variant", "--property",
                  "--out"],
        "schedule": ["--scale", "--fail-nodes", "--drain", "--remove", "--rlimit"],
        "raft": ["--servers", "--max-term", "--max-log", "--values", "--max-copies", "--max-msgs", "--max-down",
                 "--down", "--reads", "--serial-reads", "--max-depth", "--max-states", "--max-seconds", "--check"],
        "replay": ["--html", "--allow-import"], "validate": ["-o"], "gate": ["--budget", "--junit", "--summary",
                                                                             "--out", "--config"],
    }
    argv = [command]
    for flag in draw(st.lists(st.sampled_from(options[command]), max_size=4)):
        if flag == "--param":
            argv += [flag, _param(draw)]
        elif flag == "--scale":
            argv += [flag, f"{draw(st.sampled_from(['feastflow-backend', 'x', '']))}={_number(draw)}"]
        elif flag in ("--out", "--html", "--junit", "--summary", "--config"):
            argv += [flag, _odd(draw, box, ODD_OUTPUTS + ODD_INPUTS)]
        elif flag in ("--down", "--drain", "--remove", "--engine", "--variant", "--property", "--check", "-o",
                      "--allow-import"):
            argv += [flag, draw(st.sampled_from(["etcd-1,etcd-1", "worker-1", "\x1b[2J", "", "bfs", "yaml", "nope"]))]
        else:
            argv += [flag, _number(draw)]
    if command in ("check", "schedule", "validate") and path:
        argv.insert(1, path)
    if command == "replay":
        argv.append(path or str(CORPUS[0]))
    argv += {"check": ["--engine", "bfs", "--max-depth", "2", "--budget", "1", "--workers", "1"],
             "schedule": ["--fail-nodes", "0"], "raft": ["--max-depth", "3", "--max-seconds", "1"],
             "gate": ["--budget", "1", "--config", str(_tiny_gate(box))]}.get(command, [])
    strict, kind_only = box.protected_for(argv)
    return Case("flags", argv, box.work, protected=strict, kind_only=kind_only)


# --- gate --------------------------------------------------------------------------------------------

def _tiny_gate(box: Sandbox) -> Path:
    corpus = box.work / "corpus"
    corpus.mkdir(exist_ok=True)
    shutil.copy(CORPUS[0], corpus / CORPUS[0].name)
    config = box.work / "gate.yaml"
    config.write_text("corpus: [corpus]\nchecks: [{budget: 1, maxDepth: 1, properties: [node-not-overcommitted]}]\n")
    return config


def gate(draw: Any, box: Sandbox) -> Case:
    """A gate config with hostile fields and corpus folders; hostile corpus files must fail the gate."""
    good = box.work / "good"
    good.mkdir()
    shutil.copy(CORPUS[-1], good / CORPUS[-1].name)
    bad = box.work / "bad"
    bad.mkdir()
    data = json.loads(CORPUS[0].read_text())
    hostile_file = _hostile_scenario(draw, data) if draw(st.booleans()) else False
    (bad / "ce.json").write_text(json.dumps(data) if hostile_file else _json_damage(draw, json.dumps(data)))
    folders = draw(st.lists(st.sampled_from(["good", "bad", "missing", "/etc", "empty-folder", "gate.yaml",
                                             "fifo.yaml", str(box.odd["long"])]), max_size=3))
    check: dict[str, Any] = {"budget": 1, "maxDepth": 1, "properties": ["node-not-overcommitted"],
                             "scenario": str(SCENARIOS[0])}
    for field in draw(st.lists(st.sampled_from(["budget", "maxDepth", "parameters", "properties", "variant", "engine",
                                                "require", "scenario", "extra"]), max_size=3)):
        check[field] = draw(hostile) if field != "parameters" else {"maxEndpointsPerSlice": draw(hostile)}
    config: dict[str, Any] = {"checks": [check]}
    if draw(st.integers(0, 3)):
        config["corpus"] = folders
    if draw(st.booleans()):
        config[draw(st.sampled_from(["replayTimeout", "allowImports", "corpsu"]))] = draw(hostile)
    path = box.work / "gate.yaml"
    path.write_bytes(damage(draw, dump_yaml(config)))
    argv = ["gate", "--config", "gate.yaml", "--out", "out"]
    for flag in draw(st.lists(st.sampled_from(["--junit", "--summary"]), max_size=2, unique=True)):
        argv += [flag, draw(st.sampled_from(["report.xml", "gate.yaml", "good/" + CORPUS[-1].name,
                                             *(_odd(draw, box, ODD_OUTPUTS),)]))]
    env = {"GITHUB_STEP_SUMMARY": draw(st.sampled_from(["", ".", "summary.md", str(box.odd["fifo"])]))}
    argv += ["--budget", "2"]
    uses_bad = "bad" in folders and "corpus" in config
    inputs = [path, good / CORPUS[-1].name] if "good" in folders and "corpus" in config else [path]
    strict, kind_only = box.protected_for(argv, env)
    return Case("gate", argv, box.work, env=env, protected=[*inputs, *strict], kind_only=kind_only,
                untrusted=True, hostile_corpus=uses_bad and hostile_file)


SURFACES = {"manifests": manifests, "scenarios": scenarios, "counterexamples": counterexamples, "flags": flags,
            "gate": gate, **SCHEMA_SURFACES}

