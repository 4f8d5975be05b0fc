"""The live progress of a running study, shared by the Tuning map and Plain vs deep: trials
done of all, the best final validation loss so far and the time left (app.runs.studies)."""

from __future__ import annotations

import streamlit as st

from app.runs import studies
from app.words.i18n import N_
from app.words.i18n import gettext as _

# what a page calls one trial of its study
COUNTS = {"runs": N_("{done} of {total} runs"), "trials": N_("{done} of {total} trials")}


def show(spec, unit: str = "runs") -> None:
    """Redrawn every second, alone; reruns the page once the study is no longer running."""

    @st.fragment(run_every=1.0)
    def box() -> None:
        job = studies.job_of(spec)
        if job is None or not job.running:
            st.rerun()  # finished: draw the page with the results
            return
        st.progress(
            job.done / job.total,
            text=_(COUNTS[unit]).format(done=job.done, total=job.total),
        )
        best = _("none yet") if job.best is None else f"{job.best:.4g}"
        if job.eta is None:
            st.caption(_("Best final validation loss so far: {best}.").format(best=best))
        else:
            st.caption(
                _("Best final validation loss so far: {best}, about {eta} s left.").format(
                    best=best, eta=f"{job.eta:.0f}"
                )
            )

    box()
