"""SIGTERM (a CI timeout, a cancelled pipeline) ends `kubeprop gate` as Ctrl-C does: JUnit and the
summary written, a log line, exit 143 (trial 5, u3/12 and u3/13: nothing was written)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs process groups")
@pytest.mark.parametrize("sigint", ["default_int_handler", "SIG_IGN"])
def test_sigterm_to_the_gate_writes_its_outputs_and_exits_143(tmp_path: Path, sigint: str) -> None:
    """With SIGINT as a terminal gives it, and ignored as in a job started in the background
    (`nohup`, `&`): SIGTERM is handled either way."""
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks:\n  - scenario: {WEB}\n    engine: walk\n    budget: 120\n"
                      "    properties: [node-not-overcommitted]\n")
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    code = (f"import signal, sys; signal.signal(signal.SIGINT, signal.{sigint}); "
            "from kubeprop.properties.cli.main import main; sys.exit(main())")
    command = [sys.executable, "-c", code,
               "gate", "--config", str(config), "--junit", str(junit), "--summary", str(summary),
               "--out", str(tmp_path / "out")]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        assert child.stderr is not None
        started = child.stderr.readline()  # the check's start line: the gate is inside the check now
        assert "kubeprop gate: running checks[0]" in started, started
        time.sleep(1.0)
        began = time.monotonic()
        os.killpg(child.pid, signal.SIGTERM)
        out, err = child.communicate(timeout=60)
        took = time.monotonic() - began
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 143, err
    assert "Traceback" not in err and "terminated by SIGTERM (exit 143)" in err
    assert "ERR  gate :: interrupted: interrupted before every case ran (SIGTERM)" in out
    assert took < 30
    suites = ET.parse(junit).getroot()
    assert any(tc.get("name") == "interrupted" for tc in suites.iter("testcase"))
    assert summary.read_text().startswith("## kubeprop gate: FAILED")
    with pytest.raises(ProcessLookupError):  # nothing of the group is left behind
        os.killpg(child.pid, 0)
