"""Scenarios inside counterexample files: pack a loaded Scenario into a record, get it back.

Inline (the default) stores the text of the scenario file and of every manifest file it reads
(the `manifests:` and the workload's `apply:` files), by path relative to their common folder,
so a file replays on any machine. Path mode stores where the scenario was loaded from and its
content hash (`Scenario.content_hash`), and replay reports a changed scenario as STALE. A
scenario naming manifests by absolute path cannot be moved, so it is recorded by path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from kubeprop.counterexamples.format_records import CounterexampleError, Mode, PackedFile, ScenarioRecord
from kubeprop.counterexamples.printable import shown
from kubeprop.counterexamples.scenario_diff import difference_words, digest
from kubeprop.model.api.manifests import ManifestError, Problem
from kubeprop.model.api.yamlsource import read_text
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.apply_steps import apply_step_manifests
from kubeprop.model.scenario.load import Scenario, feastflow_path, load_scenario
from kubeprop.model.state.cluster import ClusterModel

BUILTIN_FEASTFLOW = "builtin:feastflow"


def _display_path(path: Path) -> str:
    """A path for information: the built-in name, relative to the working folder, or absolute
    (a name that is not valid UTF-8 shows U+FFFD where its bad bytes were)."""
    if path == feastflow_path().resolve():
        return BUILTIN_FEASTFLOW
    try:
        shown = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    return shown if _is_text(shown) else shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_text(name: str) -> bool:
    """Whether a file name is text (a name that is not valid UTF-8 holds lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_bare(scenario: Scenario) -> bool:
    return scenario.spec.manifests == (scenario.path,)


def _referenced(scenario: Scenario) -> tuple[list[str], list[Path]]:
    """(paths as the scenario file writes them, every file the scenario reads)."""
    written = list(scenario.spec.manifests) + [s.apply_path for s in scenario.spec.workload if s.apply_path]
    files = {Path(o.file).resolve() for o in scenario.objects}
    steps = apply_step_manifests(scenario.spec.workload, Path(scenario.path).parent,
                                 (o.obj for o in scenario.objects))
    files |= {Path(m.file).resolve() for loaded in steps for m in loaded}
    return written, sorted(files)


def pack(scenario: Scenario, mode: Mode = "inline") -> ScenarioRecord:
    """The record of `scenario`: inline texts when possible (else by path), or by path."""
    where = Path(scenario.path).resolve()
    written, files = _referenced(scenario)
    if mode == "inline" and not _is_bare(scenario) and any(Path(w).is_absolute() for w in written):
        mode = "path"
    if mode == "inline" and not all(_is_text(str(f)) for f in [where, *files]):
        mode = "path"  # a file name that is not UTF-8 cannot be written in a JSON file
    if mode == "path":
        return ScenarioRecord(scenario.name, "path", "manifests" if _is_bare(scenario) else "scenario-file",
                              _display_path(where), scenario.content_hash)
    if _is_bare(scenario):
        root, entry, layout = where.parent, where.name, "manifests"
    else:
        root = Path(os.path.commonpath([where.parent, *(f.parent for f in files)]))
        entry, layout = where.relative_to(root).as_posix(), "scenario-file"
        files = [where, *files]
    packed = tuple(PackedFile(f.relative_to(root).as_posix(), read_text(f)) for f in dict.fromkeys(files))
    return ScenarioRecord(scenario.name, "inline", layout, _display_path(where),  # type: ignore[arg-type]
                          scenario.content_hash, entry, packed)


def _safe(rel: str, index: int, file: str) -> Path:
    """A packed file's path, checked: relative, inside the scenario; else what is wrong with it."""
    path = Path(rel)
    why = ("is empty" if not rel else f"is absolute ({shown(rel)})" if path.is_absolute()
           else f"leaves the scenario's folder through '..' ({shown(rel)})" if ".." in path.parts else "")
    if why:
        raise CounterexampleError([Problem(file, 0, f"scenario.files[{index}].path",
                                           f"{why}; must be a relative path inside the scenario, such as "
                                           "manifests/web.yaml")])
    return path


def _rewrite(err: ManifestError, tmp: str, file: str) -> CounterexampleError:
    problems = [Problem(file, 0, "scenario", str(p).replace(tmp + os.sep, "")) for p in err.problems]
    return CounterexampleError(problems)


def unpack_inline(record: ScenarioRecord, file: str, into: str, allow: Collection[str] = ()) -> Scenario:
    """Write the inline files into folder `into` and load the scenario; a mismatching content
    hash means the texts were edited by hand (CounterexampleError, bad input). Only modules in
    `allow` may be imported for the scenario's `admission:`/`controllers:` entries."""
    root = Path(into) / "scenario"
    for i, packed in enumerate(record.files):
        target = root / _safe(packed.path, i, file)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(packed.text, encoding="utf-8")
        except (OSError, ValueError) as err:  # a name used twice as file and folder, too long, a NUL byte
            message = f"cannot be unpacked: {getattr(err, 'strerror', None) or err}"
            raise CounterexampleError([Problem(file, 0, f"scenario.files[{i}].path", message)]) from None
    try:
        scenario = load_scenario(root / _safe(record.entry, 0, file), allow_imports=allow, confine=root)
    except ManifestError as err:
        raise _rewrite(err, str(root), file) from None
    if scenario.content_hash != record.content_hash:
        raise CounterexampleError([Problem(file, 0, "scenario.contentHash",
                                           "does not match the inline files (were they edited by hand?)")])
    return scenario


def resolve_path(record: ScenarioRecord, file: str) -> Path:
    """The scenario location of a path-mode record (relative paths: from the file's folder)."""
    if record.path == BUILTIN_FEASTFLOW:
        return feastflow_path()
    path = Path(record.path)
    if not path.is_absolute() and not os.path.exists(path):
        path = Path(file).parent / path
    return path


def _unloadable(path: Path, err: ManifestError) -> str:
    """Why a path-mode scenario cannot be loaded, without what it holds: the path is data of the
    file under review, and a message quoting the file it names (`got str '<a credential>'`) would
    print any file of the machine into the terminal or a CI log."""
    refused = [str(p) for p in err.problems if "refusing to import module " in p.message]
    if refused:  # the import policy's answer names a module (the user needs it for --allow-import)
        return f"cannot load {path}: " + "; ".join(refused)
    count = len(err.problems)
    first = err.problems[0] if err.problems else None
    if count == 1 and first is not None and not first.line:  # about the file itself (missing, a folder…)
        return f"cannot load {path}: {first}"
    at = f", the first at {first.file}:{first.line}" if first is not None else ""
    return (f"cannot load {path}: it is not a valid scenario ({count} problem{'s' if count != 1 else ''}{at}); what "
            f"it holds is not shown, since the path is named by the file under review: run kubeprop validate {path}")


def build_packed(record: ScenarioRecord, file: str, variant: str, parameters: dict[str, Any],
                 allow: Collection[str] = (), pointed: Path | None = None) -> tuple[ClusterModel, str | None]:
    """The model of a record's scenario (built while an inline scenario's files exist: the
    workload's `apply` manifests are read then) and, for path mode, why the scenario no longer
    matches the record (None if it does). `pointed` is a scenario the user named in place of the
    record's (`kubeprop replay --scenario`): the user's own file, loaded as `kubeprop check` loads
    one, and compared with the record's content hash all the same."""
    if pointed is not None:
        scenario = load_scenario(pointed)
        return _build(scenario, file, variant, parameters), _changed(scenario, record, pointed, file, allow)
    if record.mode == "inline":
        with tempfile.TemporaryDirectory(prefix="kubeprop-replay-") as tmp:
            return _build(unpack_inline(record, file, tmp, allow), file, variant, parameters), None
    path = resolve_path(record, file)
    try:
        scenario = load_scenario(path, allow_imports=allow)
    except ManifestError as err:
        raise CounterexampleError([Problem(file, 0, "scenario.path", _unloadable(path, err))]) from None
    return _build(scenario, file, variant, parameters), _changed(scenario, record, path, file, allow)


def _changed(scenario: Scenario, record: ScenarioRecord, path: Path, file: str,
             allow: Collection[str]) -> str | None:
    """Why `scenario` is not the one the record was written from (None if it is), with what differs
    (`recorded_differences`)."""
    if scenario.content_hash == record.content_hash:
        return None
    return (f"the scenario at {path} changed since the file was written "
            f"(content hash {scenario.content_hash[:12]}…, recorded {record.content_hash[:12]}…): "
            f"{recorded_differences(record, scenario, file, allow)}")


def recorded_differences(record: ScenarioRecord, scenario: Scenario, file: str, allow: Collection[str] = ()) -> str:
    """What differs from the record's scenario to `scenario`, recorded → now
    (`scenario_diff.difference_words`); a path-mode record holds only a hash, and an inline one
    whose scenario cannot be loaded here (a module it names not allowed) shows nothing, each said so."""
    if record.mode != "inline":
        return "the file records its scenario by path and hash only, so what changed is not known"
    try:
        with tempfile.TemporaryDirectory(prefix="kubeprop-replay-") as tmp:
            before = digest(unpack_inline(record, file, tmp, allow))
    except (CounterexampleError, ManifestError) as err:
        first = err.problems[0].message if err.problems else str(err)
        return f"what differs is not shown: the file's own scenario does not load here ({first})"
    return difference_words(before, digest(scenario))


def _build(scenario: Scenario, file: str, variant: str, parameters: dict[str, Any]) -> ClusterModel:
    try:
        return build_model(scenario, parameters=parameters, variant=variant)
    except ManifestError:
        raise
    except (KeyError, ValueError, TypeError) as err:
        raise CounterexampleError([Problem(file, 0, "model", f"cannot build the model: {err}")]) from None
