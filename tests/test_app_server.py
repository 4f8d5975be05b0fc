"""The server process between runs: Streamlit collects garbage after every script run
(runner.postScriptGC), holding the GIL; what the imports made must not be walked each time."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.browser_support import ROOT

# A fresh interpreter: the test process has its own objects, and other tests freeze too.
PROBE = """
import gc, json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run(); at.run()
after_app = (gc.get_freeze_count(), len(gc.get_objects()))
import torch  # as a Training click or an upload does
at.run()
print(json.dumps([after_app, (gc.get_freeze_count(), len(gc.get_objects()))]))
"""


def test_imports_are_exempt_from_the_collection_after_each_run():
    script = str(ROOT / "app" / "streamlit_app.py")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, script], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    (frozen, tracked), (frozen_torch, tracked_torch) = json.loads(out.stdout.splitlines()[-1])
    # the app's imports: ~120,000 objects, a full collection ~30 ms; torch adds ~130,000
    assert frozen > 80_000 and tracked < frozen / 4, (frozen, tracked)
    assert frozen_torch > frozen + 80_000 and tracked_torch < frozen_torch / 4
