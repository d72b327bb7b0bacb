"""The workstation jobs (jobs/*.sh, plain mpirun): a sweep in MPI groups and as array tasks one
after another give the same trials; a failing trial makes sweep.sh exit 5 and merge.sh exit 3;
TASKS=failed reruns only it; train.sh on 2 ranks gives the result of 1 rank x 2 threads."""
import os
import subprocess
from pathlib import Path

import h5py

from conftest import BIN, SOURCE_DIR, synth_prepared

JOBS = SOURCE_DIR / "jobs"


def job(script, *args, **knobs):
    env = dict(os.environ, REINFORCER=str(Path(BIN).resolve()) if os.sep in BIN else BIN,
               **{k: str(v) for k, v in knobs.items()})
    return subprocess.run([str(JOBS / script), *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


def regrets(sweep_dir, trials):
    out = []
    for t in range(trials):
        with h5py.File(Path(sweep_dir) / f"trial-{t:06d}.h5", "r") as f:
            out.append((f.attrs["status"], f.attrs["regret"], f.attrs["learned"]))
    return out


def test_sweep_groups_and_array_modes_then_merge(tmp_path):
    prepared = synth_prepared(tmp_path, 1500, 5)
    grid = tmp_path / "grid.ini"
    grid.write_text("[grid]\nomega = 0.6, 0.7, 0.8\nepisodes = 8000\nrefits = 0\nsync-every = 4000\n")
    p = job("sweep.sh", prepared, grid, tmp_path / "groups", MODE="groups", RANKS=2)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 groups of 1 ranks" in p.stdout
    p = job("sweep.sh", prepared, grid, tmp_path / "array", MODE="array", RANKS=1, TRIALS_PER_TASK=2)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 trials in 2 tasks of 2; running tasks 0-1" in p.stdout
    assert regrets(tmp_path / "groups", 3) == regrets(tmp_path / "array", 3)
    p = job("merge.sh", tmp_path / "array", tmp_path / "array.h5")
    assert p.returncode == 0, p.stdout + p.stderr
    with h5py.File(tmp_path / "array.h5", "r") as f:
        assert len(f["trials"]) == 3 and len(f["missing"]) == 0 and len(f["failed"]) == 0


def test_a_failed_trial_then_tasks_failed(tmp_path):
    prepared = synth_prepared(tmp_path, 1500, 5)
    grid = tmp_path / "grid.ini"
    grid.write_text("[grid]\nfit-on = all, except-fold:9\nepisodes = 4000\nrefits = 0\nsync-every = 4000\n")
    sweep = tmp_path / "sweep"
    p = job("sweep.sh", prepared, grid, sweep, MODE="array", RANKS=1)
    assert p.returncode == 5, p.stdout + p.stderr
    p = job("merge.sh", sweep, tmp_path / "sweep.h5")
    assert p.returncode == 3, p.stdout + p.stderr
    assert "failed: 1\n" in p.stdout
    p = job("sweep.sh", prepared, grid, sweep, MODE="array", RANKS=1, TASKS="failed")
    assert p.returncode == 5 and "running tasks 1\n" in p.stdout, p.stdout + p.stderr
    assert "--trial-index 0" not in p.stdout


def test_train_on_two_ranks(tmp_path):
    prepared = synth_prepared(tmp_path, 1500, 5)
    options = ["--episodes", "8000", "--refits", "0", "--sync-every", "4000"]
    p = job("train.sh", prepared, tmp_path / "run.h5", *options, RANKS=2, THREADS=1)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not (tmp_path / "run.h5.checkpoint.h5").exists()
    subprocess.run([BIN, "train", str(prepared), "-o", str(tmp_path / "ref.h5"), "--threads", "2", *options],
                   check=True, capture_output=True)
    with h5py.File(tmp_path / "run.h5", "r") as a, h5py.File(tmp_path / "ref.h5", "r") as b:
        assert (a.attrs["ranks"], a.attrs["threads"]) == (2, 1)
        assert (a.attrs["regret"], a.attrs["learned_start_value"]) == (b.attrs["regret"], b.attrs["learned_start_value"])
