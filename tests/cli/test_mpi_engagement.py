"""engagement under mpirun: the same workers in any layout learn the same policy, and a model
mistake ends every rank with one message and exit code 2."""
import os
import shutil
import subprocess

import h5py
import numpy as np

from conftest import BIN, SOURCE_DIR, run

MPIEXEC = shutil.which("mpiexec") or "mpiexec"


def mpirun(n, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([MPIEXEC, "-n", str(n), "--bind-to", "none", BIN, *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)


def test_two_workers_in_any_layout_learn_the_same(tmp_path):
    args = ["engagement", "--episodes", 20000, "--sync-every", 4000, "--seed", 4]
    run(*args, "-o", tmp_path / "1x2.h5", "--threads", 2, check=True)
    p = mpirun(2, *args, "-o", tmp_path / "2x1.h5", "--threads", 1)
    assert p.returncode == 0, p.stderr
    assert "2 workers (2 ranks x 1 threads)" in p.stdout
    with h5py.File(tmp_path / "1x2.h5", "r") as a, h5py.File(tmp_path / "2x1.h5", "r") as b:
        for table, column in (("cells", "agent_action"), ("cells", "agent_visits_call"), ("learning_curve", "mean_reward")):
            assert np.array_equal(a[table][column][()], b[table][column][()]), column
        assert a.attrs["agent_regret"] == b.attrs["agent_regret"]
        assert b.attrs["ranks"] == 2 and b.attrs["workers"] == 2


def test_a_model_mistake_ends_every_rank_with_one_message(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text((SOURCE_DIR / "configs" / "engagement.ini").read_text().replace("grid = 201", "grid = 1"))
    p = mpirun(2, "engagement", "-o", tmp_path / "e.h5", "--config", bad)
    assert p.returncode == 2, p.stderr
    errors = [line for line in p.stderr.splitlines() if line.startswith("reinforcer engagement: error:")]
    assert len(errors) == 1 and "[model] grid = 1 is out of range" in errors[0], p.stderr
    assert not (tmp_path / "e.h5").exists()


def test_dqn_gradients_summed_over_ranks_give_the_layouts_one_network(tmp_path):
    """Synchronous data parallelism: 1 rank x 2 threads and 2 ranks x 1 thread train one network,
    bit for bit (the gradients are summed in fixed point, so the reduction order does not matter)."""
    args = ["engagement", "--agent", "dqn", "--dqn-steps", 20000, "--seed", 2]
    run(*args, "-o", tmp_path / "1x2.h5", "--threads", 2, check=True)
    p = mpirun(2, *args, "-o", tmp_path / "2x1.h5", "--threads", 1)
    assert p.returncode == 0, p.stderr
    with h5py.File(tmp_path / "1x2.h5", "r") as a, h5py.File(tmp_path / "2x1.h5", "r") as b:
        assert np.array_equal(a["dqn/weights"][()], b["dqn/weights"][()])
        assert np.array_equal(a["cells"]["agent_action"][()], b["cells"]["agent_action"][()])
        assert a.attrs["agent_regret"] == b.attrs["agent_regret"]
