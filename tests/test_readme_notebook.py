"""The README's "From Python or a notebook" block runs as written in a fresh interpreter: it
prints the numbers its comment claims, shows three figures that hold data, and never imports
Streamlit."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = """
import sys
import plotly.graph_objects as go
shown = []
go.Figure.show = lambda fig, *a, **k: shown.append(fig)  # a notebook would display them
exec(compile(sys.stdin.read(), "README.md", "exec"), {})
print("figures", len(shown), all(len(fig.data) for fig in shown))
print("streamlit imported", any(m.split(".")[0] == "streamlit" for m in sys.modules))
"""


def test_readme_notebook_example_runs_and_draws(tmp_path):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## From Python or a notebook\n.*?```python\n(.*?)```", text, re.S)[1]
    loss, ratio = re.search(r"^print.*# (\S+), (\S+)$", block, re.M).groups()  # its claim
    result = subprocess.run(
        [sys.executable, "-c", RUNNER], input=block, cwd=tmp_path, capture_output=True,
        text=True, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"loss {loss}, |G_1^(1)| / |G_T^(L)| = {ratio}\n" in result.stdout
    assert "figures 3 True\n" in result.stdout
    assert "streamlit imported False\n" in result.stdout
