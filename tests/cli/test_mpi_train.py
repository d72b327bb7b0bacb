"""train under mpirun: bit-identical Q-tables for every layout of the same workers, and on the
real export's fitted funnel, the learned policy's regret to the exact DP is reported with one
worker and under mpiexec -n 2 and -n 4."""
import os
import signal
import shutil
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import synth_prepared, BIN, CRM_XLSX, requires_real_export, run

MPIEXEC = shutil.which("mpiexec") or "mpiexec"


def mpirun(n, *args, threads=1):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [MPIEXEC, "-n", str(n), "--bind-to", "none", BIN, *map(str, args), "--threads", str(threads)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    return p


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return synth_prepared(tmp_path_factory.mktemp("mpi"), 8000, 11)


def q_and_visits(path):
    with h5py.File(path, "r") as f:
        return f["q/values"][()], f["q/visits"][()], dict(f.attrs)


def test_four_workers_in_any_layout_give_the_same_q_table(prepared, tmp_path):
    args = ["train", prepared, "--episodes", 30000, "--sync-every", 5000, "--progress", "none", "--seed", 5, "--refits", 0]
    run(*args, "-o", tmp_path / "1x4.h5", "--threads", 4, check=True)
    mpirun(2, *args, "-o", tmp_path / "2x2.h5", threads=2)
    mpirun(4, *args, "-o", tmp_path / "4x1.h5", threads=1)
    mpirun(4, *args, "-o", tmp_path / "4x1-again.h5", threads=1)
    q, n, attrs = q_and_visits(tmp_path / "1x4.h5")
    assert (attrs["ranks"], attrs["threads"], attrs["workers"]) == (1, 4, 4)
    for layout in ("2x2", "4x1", "4x1-again"):
        q2, n2, a2 = q_and_visits(tmp_path / f"{layout}.h5")
        assert a2["workers"] == 4
        assert np.array_equal(q, q2), layout  # bit for bit
        assert np.array_equal(n, n2), layout


def regret_table(path):
    with h5py.File(path, "r") as f:
        t = pd.DataFrame(f["quality/regret"][()])
        t["cohort"] = t["cohort"].str.decode("utf-8")
        return t.set_index("cohort"), dict(f["quality"].attrs), dict(f.attrs)


@requires_real_export
@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_real_funnel_default_train_meets_the_regret_bar(tmp_path, ranks):
    """The funnel-model issue's bar, for the default run: regret <= 5% overall and per cohort,
    the 95th percentile of per-start regret <= 1 reward unit, and the learned policy minus the
    best constant policy not wholly below 0 (a learner worse than waiting fails here: the
    earlier trainer scored -0.24 [-0.28, -0.20])."""
    run("prepare", CRM_XLSX, "-o", tmp_path / "p.h5", "-q", check=True)
    args = ["train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", "--progress", "none", "--refits", 20]
    p = run(*args, check=True) if ranks == 1 else mpirun(ranks, *args)
    t, q, attrs = regret_table(tmp_path / "run.h5")
    assert attrs["ranks"] == ranks
    assert set(t.index) == {"all", "outbound", "inbound"}
    assert t.loc["outbound", "customers"] + t.loc["inbound", "customers"] == t.loc["all", "customers"]
    # The exact DP is the optimum: no learned policy is worth more, so regret >= 0.
    assert (t["learned"] <= t["optimum"] + 1e-9).all(), p.stdout
    assert (t["regret"] >= -1e-12).all()
    assert (t["regret"] <= 0.05).all(), p.stdout
    assert (t["p95_start_regret"] <= 1.0).all(), p.stdout
    assert q["learned_minus_best_constant_high95"] >= 0, p.stdout
    assert q["learned_minus_best_constant_low95"] <= q["learned_minus_best_constant_high95"]
    assert "regret" in p.stdout and "gap" not in p.stdout


def test_sigusr1_to_mpirun_checkpoints_every_rank_and_exits_75(prepared, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    args = [MPIEXEC, "-n", "2", BIN, "train", str(prepared), "-o", str(tmp_path / "run.h5"), "--episodes", "5000000",
            "--sync-every", "20000", "--progress", "none", "--checkpoint-every", "1"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        if "checkpoint written" in line:
            proc.send_signal(signal.SIGUSR1)  # mpirun forwards SIGUSR1 to the ranks
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 75, err
    assert (tmp_path / "run.h5.checkpoint.h5").exists()
    assert not (tmp_path / "run.h5").exists()
