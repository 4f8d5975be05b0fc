"""app.runs.studies.stored, the read of a study from the database that the Tuning map and Plain
vs deep make on every redraw: a redraw of a page whose study did not change touches no
database; a study finished by another session (a job of this server) shows at once, one
written by another server within STORED_SECONDS; what it returns equals a fresh read."""

from __future__ import annotations

from deeprnn_core.study import IN_PROCESS, StudySpec, run
from tests.test_app_training import TINY, run_plain_vs_deep_study

COLUMNS = ["number", "state", "cell", "depth", "lr", "seed", "val_loss", "best_val_loss"]


def spec(**kw) -> StudySpec:
    args = dict(task="adding", length=8, steps=6, hidden_size=4, n_train=16, n_val=8,
                batch_size=8, cells=("rnn",), depths=(1, 2), lrs=(1e-3, 1e-2), seeds=2)  # fmt: skip
    args.update(kw)
    return StudySpec(**args)


def counting(studies, monkeypatch) -> list:
    """Count the database reads stored() makes."""
    reads, real = [], studies.read

    def read(s):
        reads.append(s.key)
        return real(s)

    monkeypatch.setattr(studies, "read", read)
    return reads


def test_a_complete_study_is_read_once_and_equals_a_fresh_read(tiny_studies, monkeypatch):
    studies = tiny_studies
    s = spec()
    job = studies.start(s)
    job.thread.join(120)
    assert job.error is None and job.result.complete
    reads = counting(studies, monkeypatch)
    first = studies.stored(s)
    assert [first is studies.stored(s) for _ in range(20)] == [True] * 20
    assert reads == [s.key]  # one read for 21 redraws
    assert first.table[COLUMNS].equals(studies.read(s).table[COLUMNS])
    assert first.table[COLUMNS].equals(job.result.table[COLUMNS])


def test_a_study_finished_by_another_session_shows_at_once(tiny_studies, monkeypatch):
    studies = tiny_studies
    monkeypatch.setattr(studies, "STORED_SECONDS", 1e9)  # only forget() can refresh it
    s = spec()
    assert studies.stored(s) is None  # this session's page: not run yet (and kept so)
    reads = counting(studies, monkeypatch)
    assert studies.stored(s) is None and reads == []
    job = studies.start(s)  # another session clicks Run
    job.thread.join(120)
    shown = studies.stored(s)  # this session's next redraw
    assert shown is not None and shown.complete and reads == [s.key]
    assert shown.table[COLUMNS].equals(job.result.table[COLUMNS])


def test_a_partial_study_refreshes_as_this_servers_job_finishes_trials(tiny_studies, monkeypatch):
    studies = tiny_studies
    monkeypatch.setattr(studies, "STORED_SECONDS", 1e9)
    s = spec(seeds=3)
    first = run(s, storage=studies.STORAGE, scheduler=IN_PROCESS, callback=lambda p: p.done < 3)
    assert first.cancelled and len(studies.stored(s).table) == 3
    job = studies.start(s)  # the next click resumes it here
    job.thread.join(120)
    assert studies.stored(s).complete and len(studies.stored(s).table) == s.size


def test_a_study_written_by_another_server_shows_after_stored_seconds(tiny_studies, monkeypatch):
    studies = tiny_studies
    monkeypatch.setattr(studies, "STORED_SECONDS", 1e9)
    s = spec()
    assert studies.stored(s) is None
    done = run(s, storage=studies.STORAGE, scheduler=IN_PROCESS)  # another server, same database
    assert studies.stored(s) is None  # kept until STORED_SECONDS have passed
    monkeypatch.setattr(studies, "STORED_SECONDS", 0.0)  # ... which they now have
    shown = studies.stored(s)
    assert shown is not None and shown.table[COLUMNS].equals(done.table[COLUMNS])


def test_stored_keeps_at_most_stored_max_studies(tiny_studies, monkeypatch):
    studies = tiny_studies
    monkeypatch.setattr(studies, "STORED_MAX", 3)
    for steps in range(1, 6):
        studies.stored(spec(steps=steps))
    assert [key for _, key in studies._STORED] == [spec(steps=k).key for k in (3, 4, 5)]


def test_plain_vs_deep_redraws_read_no_database_once_its_study_is_done(tiny_studies, monkeypatch):
    at, s, table = run_plain_vs_deep_study(TINY | {"n": "10", "bs": "1", "T": "8"}, tiny_studies)
    tiny_studies._JOBS.clear()  # a server with no job of it: the page reads stored()
    reads = counting(tiny_studies, monkeypatch)
    before = [t.value.to_string() for t in at.table]
    for _ in range(3):
        at.run()
        assert not at.exception
    assert reads == []  # read when the job finished; no redraw since touched the database
    assert [t.value.to_string() for t in at.table] == before
    assert tiny_studies.stored(s).table[COLUMNS].equals(table[COLUMNS])
