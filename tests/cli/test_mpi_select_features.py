"""select-features under mpirun: the same selection.h5 tables on 1, 2 and 4 ranks, on
synthetic data and on the real export (skipped, visibly, when it is absent); on the real
export the report lists the best subset, Shapley values with intervals and the RL search's
regret and evaluations."""
import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from conftest import BIN, CRM_XLSX, run

MPIEXEC = shutil.which("mpiexec") or "mpiexec"


def mpirun(n, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run([MPIEXEC, "-n", str(n), "--bind-to", "none", BIN, *map(str, args)], capture_output=True,
                       text=True, env=env, timeout=900)
    assert p.returncode == 0, p.stderr
    return p


def contents(path):
    """Every table and the result attributes (not when/where it ran)."""
    with h5py.File(path, "r") as f:
        # Values, not raw bytes: a text column holding a value over 128 bytes is variable-length,
        # read as pointers. repr keeps NaN equal to NaN and every float's bits.
        out = {name: repr(f[name][()].tolist()) for name in ("elements", "subsets", "rl_curve")}
        for k, v in f.attrs.items():
            if k not in ("seconds", "ranks", "threads", "started_at", "finished_at", "command_line", "config"):
                out["@" + k] = v
        return out


def same_for_1_2_4_ranks(prepared, tmp_path, *options):
    results = []
    for n in (1, 2, 4):
        out = tmp_path / f"sel{n}.h5"
        mpirun(n, "select-features", prepared, "-o", out, "--progress", "none", *options)
        results.append(contents(out))
    for r in results[1:]:
        assert r.keys() == results[0].keys()
        for k in r:
            assert np.array_equal(r[k], results[0][k]) if not isinstance(r[k], bytes) else r[k] == results[0][k], k
    return tmp_path / "sel2.h5"


def test_synthetic_selection_is_the_same_on_1_2_and_4_ranks(tmp_path):
    run("synth", "-n", 3000, "--seed", 5, "--extra-attributes", 2, "-o", tmp_path / "s.csv", check=True)
    run("prepare", tmp_path / "s.csv", "-o", tmp_path / "p.h5", "-q", "--folds", 3, "--attributes",
        "Attribute 1,Attribute 2", check=True)
    same_for_1_2_4_ranks(tmp_path / "p.h5", tmp_path, "--features", "cohort,Attribute 1,Attribute 2", "--actions",
                         "call,demo", "--exhaustive", "--bootstrap", 2, "--objective", "decision")


@pytest.mark.skipif(not CRM_XLSX or not os.path.exists(CRM_XLSX), reason="the real export is absent")
def test_real_export_exhaustive_and_rl_search_on_1_2_and_4_ranks(tmp_path):
    run("prepare", CRM_XLSX, "-o", tmp_path / "p.h5", "-q", "--folds", 5, check=True)
    out = same_for_1_2_4_ranks(tmp_path / "p.h5", tmp_path, "--exhaustive", "--bootstrap", 3)
    with h5py.File(out, "r") as f:
        assert f.attrs["lattice"] == 1024 and len(f["subsets"]) == 1024
        assert np.isfinite(f["elements"]["shapley_low95"]).all()
    p = run("report", out)
    assert p.returncode == 0, p.stderr
    for words in ("Which attributes and actions matter", "Best subset:", "95% percentile over 3 bootstrap refits",
                  "RL search", "evaluations", "regret to the exhaustive best"):
        assert words in p.stdout, words
    shapley_rows = [line for line in p.stdout.splitlines() if line.startswith(("cohort ", "country ", "education ", "month "))]
    assert len(shapley_rows) >= 4 and all("[" in line for line in shapley_rows[:4]), shapley_rows
    # The decision objective runs too.
    dec = tmp_path / "dec.h5"
    mpirun(2, "select-features", tmp_path / "p.h5", "-o", dec, "--objective", "decision", "--exhaustive", "--progress", "none")
    p = run("report", dec)
    assert p.returncode == 0 and "Best subset:" in p.stdout
