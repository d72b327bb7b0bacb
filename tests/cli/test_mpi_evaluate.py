"""evaluate under mpirun -n 2 stopped by SIGUSR1 (which mpirun forwards to the ranks): exit 75,
the finished tasks of both ranks in the checkpoint; resumed under mpirun, the tables equal a
single-process run's bit for bit."""
import os
import shutil
import signal
import subprocess

from conftest import BIN, run
from evaluate_checkpoint import EVALUATE_OPTIONS, cheap_run, finished_refits, stop_after_a_refit, tables

MPIEXEC = shutil.which("mpiexec") or "mpiexec"


def test_sigusr1_to_mpirun_checkpoints_and_resume_matches_one_process(tmp_path):
    run_file = cheap_run(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    mpi = [MPIEXEC, "-n", 2, "--bind-to", "none", BIN, "evaluate", run_file, "-o", tmp_path / "cut.h5",
           *EVALUATE_OPTIONS, "--threads", 1]
    code, err = stop_after_a_refit(mpi, signal.SIGUSR1, env)
    assert code == 75, err
    assert "rank 0 of 2: refit" in err and "continue with --resume" in err
    tasks, finished = finished_refits(tmp_path / "cut.h5.checkpoint.h5")
    assert 1 <= finished < tasks  # how many depends on timing: at least the refit the progress line showed
    p = subprocess.run(list(map(str, mpi + ["--resume"])), capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "cut.h5.checkpoint.h5").exists()
    run("evaluate", run_file, "-o", tmp_path / "full.h5", *EVALUATE_OPTIONS, "--threads", 2, check=True)
    full, cut = tables(tmp_path / "full.h5"), tables(tmp_path / "cut.h5")
    assert full.keys() == cut.keys() and "evaluation/policies" in full
    assert [k for k in full if full[k] != cut[k]] == []
