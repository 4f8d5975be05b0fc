"""The core has no UI: importing it, in a fresh interpreter, loads neither streamlit nor plotly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
import deeprnn_core
import deeprnn_core.analysis.summaries, deeprnn_core.data.signals
import deeprnn_core.trace, deeprnn_core.weights.model
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("streamlit", "plotly"))
assert not ui, f"deeprnn_core imported {ui}"
print("clean")
"""


def test_core_imports_no_ui_library():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
