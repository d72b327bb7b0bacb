"""reinforcer sweep and merge without mpirun: a grid's trials, each written atomically with its
status; a failing trial reported at once, recorded, listed by --status and retried; a re-run
that skips complete trials; a merged file equal to the same trial run with train; bad input
refused with nothing overwritten."""
import os
import re
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import BIN, run, sweep_trials, synth_prepared

GRID = """[grid]
omega = 0.6, 0.8
fit-on = all, except-fold:9
episodes = 15000
sync-every = 5000
refits = 0
"""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return synth_prepared(tmp_path_factory.mktemp("sweep"), 4000, 3)


def write(path, text):
    path.write_text(text)
    return path


def test_list_numbers_the_trials_with_the_last_key_fastest(tmp_path):
    p = run("sweep", "--grid", write(tmp_path / "g.ini", GRID), "--list", check=True)
    rows = [l.split() for l in p.stdout.strip().splitlines()]
    assert rows[0][:3] == ["trial", "omega", "fit-on"]
    assert [r[:3] for r in rows[1:]] == [["0", "0.6", "all"], ["1", "0.6", "except-fold:9"],
                                         ["2", "0.8", "all"], ["3", "0.8", "except-fold:9"]]


def test_random_sample_is_seeded_and_distinct(tmp_path):
    grid = write(tmp_path / "g.ini", "[grid]\nomega = 0.5, 0.6, 0.7, 0.8, 0.9\nalpha = 0.1, 0.2, 0.3\n")
    a = run("sweep", "--grid", grid, "--list", "--random", 6, "--seed", 4, check=True).stdout
    b = run("sweep", "--grid", grid, "--list", "--random", 6, "--seed", 4, check=True).stdout
    c = run("sweep", "--grid", grid, "--list", "--random", 6, "--seed", 5, check=True).stdout
    rows = [tuple(l.split()[1:]) for l in a.strip().splitlines()[1:]]
    assert a == b and a != c
    assert len(rows) == 6 and len(set(rows)) == 6


def test_failures_are_reported_at_once_recorded_listed_and_retried(prepared, tmp_path):
    grid = write(tmp_path / "g.ini", GRID)
    d = tmp_path / "d"
    # stdout and stderr in one stream, in the order written: trial 1's failure must show
    # before trial 2 completes, not only in the summary at the end.
    p = subprocess.run([BIN, "sweep", str(prepared), "--grid", str(grid), "-o", str(d)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert p.returncode == 5, p.stdout
    out = p.stdout
    fail1 = out.index("trial 1 failed: --fit-on: fold 9 does not exist")
    assert fail1 < out.index("trial 2 complete")
    assert "2 complete, 2 failed (1,3), 0 missing of 4" in out
    assert sorted(x.name for x in d.glob("trial-*.h5")) == [f"trial-00000{i}.h5" for i in range(4)]
    with h5py.File(d / "trial-000001.h5", "r") as f:
        assert f.attrs["status"] == "failed" and "fold 9 does not exist" in f.attrs["error"]
    s = run("sweep", "--status", d, check=True).stdout
    assert "4 trials: 2 complete, 2 failed, 0 missing" in s
    assert re.search(r"^failed: 1,3$", s, re.M) and re.search(r"^rerun: 1,3$", s, re.M)
    assert "trial 1: --fit-on: fold 9 does not exist" in s
    # Merge: the failed trials with their errors, and as an explicit list.
    run("merge", d, "-o", tmp_path / "m.h5", check=True)
    t, attrs, failed, missing = sweep_trials(tmp_path / "m.h5")
    assert failed == [1, 3] and missing == []
    assert list(t["status"]) == ["complete", "failed", "complete", "failed"]
    assert t.loc[1, "error"].startswith("--fit-on: fold 9 does not exist")
    assert attrs["best_trial"] == int(t.loc[t["status"] == "complete", "regret"].idxmin())
    # A re-run skips the complete trials (their files untouched) and retries the failed ones.
    before = {i: os.stat(d / f"trial-00000{i}.h5").st_mtime_ns for i in range(4)}
    p = run("sweep", prepared, "--grid", grid, "-o", d)
    assert p.returncode == 5
    assert "trial 0 complete already: skipped" in p.stdout and "trial 2 complete already: skipped" in p.stdout
    assert "2 trials run (2 failed), 2 complete already" in p.stdout
    after = {i: os.stat(d / f"trial-00000{i}.h5").st_mtime_ns for i in range(4)}
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] != before[1] and after[3] != before[3]
    events = (d / "events.log").read_text().splitlines()
    starts = [int(re.search(r"trial=(\d+)", e).group(1)) for e in events if "event=start" in e]
    assert sorted(starts) == [0, 1, 1, 2, 3, 3]


def test_a_trial_equals_the_same_options_run_with_train_and_merging_twice_gives_the_same_tables(prepared, tmp_path):
    grid = write(tmp_path / "g.ini", "[grid]\nomega = 0.6, 0.9\nseed = 3\nepisodes = 15000\nsync-every = 5000\nrefits = 0\n")
    d = tmp_path / "d"
    run("sweep", prepared, "--grid", grid, "-o", d, check=True)
    run("train", prepared, "-o", tmp_path / "t.h5", "--omega", 0.9, "--seed", 3, "--episodes", 15000,
        "--sync-every", 5000, "--refits", 0, "--progress", "none", check=True)
    with h5py.File(tmp_path / "t.h5", "r") as f:
        regret, learned, dp = f.attrs["regret"], f.attrs["learned_start_value"], f.attrs["dp_start_value"]
    run("merge", d, "-o", tmp_path / "a.h5", check=True)
    run("merge", d, "-o", tmp_path / "b.h5", check=True)
    t, attrs, failed, missing = sweep_trials(tmp_path / "a.h5")
    row = t[t["omega"] == 0.9].iloc[0]
    assert row["regret"] == regret and row["learned"] == learned and row["optimum"] == pytest.approx(dp, rel=1e-12)
    assert row["steps"] > 0 and row["wall_seconds"] > 0 and row["host"]
    assert np.isnan(row["auc_fold"])  # the grid does not change the model
    with h5py.File(tmp_path / "a.h5", "r") as a, h5py.File(tmp_path / "b.h5", "r") as b:
        for table in ("trials", "failed", "missing", "regret_by_cohort"):
            assert repr(a[table][()].tolist()) == repr(b[table][()].tolist()), table  # values: long text is variable-length
        assert a["best"].attrs["trial"] == b["best"].attrs["trial"]


def test_a_grid_that_changes_the_model_records_the_targeting_auc(prepared, tmp_path):
    grid = write(tmp_path / "g.ini", "[grid]\nfeatures = \"cohort\", \"cohort,country\"\nepisodes = 5000\nrefits = 0\n")
    run("sweep", prepared, "--grid", grid, "-o", tmp_path / "d", check=True)
    run("merge", tmp_path / "d", "-o", tmp_path / "m.h5", check=True)
    t, *_ = sweep_trials(tmp_path / "m.h5")
    assert list(t["features"]) == ["cohort", "cohort,country"]
    assert t["auc_fold"].between(0.5, 1.0).all()
    assert t["auc_fold"].nunique() == 2


def test_ranking_by_auc_fold_computes_it_even_when_the_grid_does_not_change_the_model(prepared, tmp_path):
    grid = write(tmp_path / "g.ini", "[grid]\nomega = 0.6, 0.9\nepisodes = 5000\nrefits = 0\n")
    p = run("sweep", prepared, "--grid", grid, "-o", tmp_path / "d", "--objective", "auc_fold")
    assert p.returncode == 0, p.stderr
    run("merge", tmp_path / "d", "-o", tmp_path / "m.h5", check=True)
    t, *_ = sweep_trials(tmp_path / "m.h5")
    assert t["auc_fold"].between(0.5, 1.0).all() and t["auc_fold"].nunique() == 1  # one model, one AUC


@pytest.mark.parametrize("grid,extra,text", [
    ("[grid]\nalpah = 0.1, 0.2\n", [], "g.ini line 2: alpah: unknown option"),
    ("[grid]\nomega =\n", [], "g.ini line 2: omega: the list is empty"),
    ("[grid]\nomega = 0.6, , 0.8\n", [], "g.ini line 2: omega: an empty value in the list"),
    ("[grid]\nomega = 0.6, 1.5\n", [], "g.ini line 2: omega = 1.5: 1.5 is out of range; give a value from 0.5 to 1"),
    ("[grid]\nepisodes = 10, ten\n", [], "g.ini line 2: episodes = ten: 'ten' is not a whole number"),
    ("[train]\nomega = 0.6\n", [], "g.ini line 1: unknown section [train]"),
    ("[grid]\nomega = 0.6, 0.8\n", ["--trial-index", "2"], "--trial-index 2 is out of range: 2 trials make indices 0..1"),
    ("[grid]\nomega = 0.6, 0.8\n", ["--halving", "1"], "--halving 1 keeps every trial"),
    ("[grid]\nomega = 0.6, 0.8\n", ["--objective", "speed"], "--objective: 'speed' is not regret"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(prepared, tmp_path, grid, extra, text):
    g = write(tmp_path / "g.ini", grid)
    p = run("sweep", prepared, "--grid", g, "-o", tmp_path / "d", *extra)
    assert p.returncode == 2, p.stderr
    assert text in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_a_directory_of_another_grid_is_refused_and_left_as_it_was(prepared, tmp_path):
    d = tmp_path / "d"
    run("sweep", prepared, "--grid", write(tmp_path / "a.ini", "[grid]\nomega = 0.6, 0.8\nepisodes = 3000\nrefits = 0\n"),
        "-o", d, check=True)
    before = {x.name: x.read_bytes() for x in d.iterdir()}
    p = run("sweep", prepared, "--grid", write(tmp_path / "b.ini", "[grid]\nomega = 0.6, 0.9\nepisodes = 3000\nrefits = 0\n"),
            "-o", d)
    assert p.returncode == 2 and "holds the trials of another grid" in p.stderr
    assert {x.name: x.read_bytes() for x in d.iterdir()} == before
    # The same grid over another input is refused too.
    other = synth_prepared(tmp_path, 3000, 9)
    p = run("sweep", other, "--grid", tmp_path / "a.ini", "-o", d)
    assert p.returncode == 2 and "holds trials of another input" in p.stderr
    assert {x.name: x.read_bytes() for x in d.iterdir()} == before


def test_a_grid_that_varies_episodes_merges_with_one_episodes_column(prepared, tmp_path):
    grid = write(tmp_path / "g.ini", "[grid]\nepisodes = 2000, 4000\nrefits = 0\n")
    run("sweep", prepared, "--grid", grid, "-o", tmp_path / "d", check=True)
    run("merge", tmp_path / "d", "-o", tmp_path / "m.h5", check=True)
    t, *_ = sweep_trials(tmp_path / "m.h5")
    assert list(t["episodes"]) == [2000, 4000]
    assert list(t.columns).count("episodes") == 1 and list(t["status"]) == ["complete", "complete"]


def test_array_mode_runs_its_task_s_trials_only(prepared, tmp_path):
    grid = write(tmp_path / "g.ini", "[grid]\nomega = 0.5, 0.6, 0.7, 0.8, 0.9\nepisodes = 3000\nrefits = 0\n")
    d = tmp_path / "d"
    p = run("sweep", prepared, "--grid", grid, "-o", d, "--trial-index", 1, "--trials-per-task", 2, check=True)
    assert sorted(x.name for x in d.glob("trial-*.h5")) == ["trial-000002.h5", "trial-000003.h5"]
    s = run("sweep", "--status", d, "--trials-per-task", 2, check=True).stdout
    assert re.search(r"^missing: 0-1,4$", s, re.M) and re.search(r"^rerun tasks: 0,2$", s, re.M)
    run("sweep", prepared, "--grid", grid, "-o", d, "--trial-index", 2, "--trials-per-task", 2, check=True)
    assert (d / "trial-000004.h5").exists()
    p = run("merge", d, "-o", tmp_path / "m.h5", check=True)
    assert "2 missing (0-1)" in p.stdout
    _, _, failed, missing = sweep_trials(tmp_path / "m.h5")
    assert missing == [0, 1] and failed == []


def test_a_grid_over_the_agent_judges_both_like_train(prepared, tmp_path):
    """agent is a trial option like any other: a sweep over tabular and dqn gives each trial the
    regret train gives the same options."""
    grid = write(tmp_path / "g.ini", "[grid]\nagent = tabular, dqn\nfeatures = \"cohort,education\"\n"
                                     "episodes = 5000\ndqn.steps = 8000\nrefits = 0\nseed = 2\n")
    run("sweep", prepared, "--grid", grid, "-o", tmp_path / "d", check=True)
    run("merge", tmp_path / "d", "-o", tmp_path / "m.h5", check=True)
    t, *_ = sweep_trials(tmp_path / "m.h5")
    assert list(t["agent"]) == ["tabular", "dqn"]
    run("train", prepared, "-o", tmp_path / "dqn.h5", "--agent", "dqn", "--features", "cohort,education",
        "--dqn.steps", 8000, "--refits", 0, "--seed", 2, "--progress", "none", check=True)
    with h5py.File(tmp_path / "dqn.h5", "r") as f:
        assert t[t["agent"] == "dqn"].iloc[0]["regret"] == f.attrs["regret"]
