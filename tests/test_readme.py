"""The README's ten-line example runs as written and prints what its comment says."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_core_example_runs_and_prints_its_claim():
    text = README.read_text()
    block = re.search(r"## The core in ten lines\n\n```python\n(.*?)```", text, re.S).group(1)
    claimed = re.search(r"# (\S+) None$", block, re.M).group(1)  # the attenuation it prints
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own README
    assert f"= {claimed} None" in out.getvalue()
