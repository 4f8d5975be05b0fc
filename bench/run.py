"""`make bench`: every benchmark of the project, printed as medians and ratios."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser  # noqa: E402
import browser_scrub  # noqa: E402
import core  # noqa: E402
import cost  # noqa: E402
import extremes  # noqa: E402
import mean_field  # noqa: E402
import scan  # noqa: E402
import soak  # noqa: E402
import study  # noqa: E402
import study_sessions  # noqa: E402
import study_stored  # noqa: E402
import train  # noqa: E402
import uploads  # noqa: E402

if __name__ == "__main__":
    core.main()
    scan.main()
    cost.main()
    extremes.main()
    train.main()
    study.main()
    study_stored.main()
    mean_field.main()
    browser.main()
    study_sessions.main()
    browser_scrub.main()
    uploads.main()
    soak.main()
