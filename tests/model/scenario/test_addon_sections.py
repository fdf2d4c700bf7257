"""Bad environment, descheduler and maintenance sections are reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.scenario.load import ScenarioError, load_scenario

DATA = Path(__file__).parents[1] / "data"


def _broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    path = source.parent / f".broken-{tmp_path.name}.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(("source", "old", "new", "message"), [
    ("hpa/linear.yaml", "load: [150m]", "load: [150m]\n      levels: [1m]",
     "environment.usage[0]: exactly one of levels"),
    ("hpa/linear.yaml", "load: [150m]", "load: [150m]\n      resource: gpu",
     "environment.usage[0].resource: unsupported"),
    ("descheduler/duplicates.yaml", "intervalSeconds: 300", "intervalSeconds: 0",
     "descheduler.intervalSeconds: must be between 1 and 86,400"),
    ("descheduler/duplicates.yaml", "removeDuplicates: {}",
     "lowNodeUtilization: {thresholds: {cpu: 60}, targetThresholds: {cpu: 50}}",
     "descheduler.plugins.lowNodeUtilization.thresholds.cpu: must not exceed"),
    ("maintenance/blocked.yaml", "drain: {node: worker-1}", "drain: {node: worker-9}",
     "workload[0].drain.node: no node 'worker-9'"),
])
def test_bad_sections_name_the_field(tmp_path: Path, source: str, old: str, new: str, message: str) -> None:
    path = _broken(tmp_path, DATA / source, old, new)
    try:
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        assert message in str(err.value) and str(path) in str(err.value)
    finally:
        path.unlink()
