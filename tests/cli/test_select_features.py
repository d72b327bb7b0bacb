"""reinforcer select-features end to end: on synthetic data with known informative attributes
the exhaustive search ranks them above the noise and the RL search finds its best subset with
at most 5% of the evaluations; Shapley values add up; bad input is a clear error; the report
and the plots read the file."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import BIN, SOURCE_DIR, run

ATTRIBUTES = ["Attribute 1", "Attribute 2", "Attribute 3", "Attribute 4"]
FEATURES = "cohort,education," + ",".join(ATTRIBUTES)
ACTIONS = "message,call,demo,survey,signup,account_manager"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("select")
    run("synth", "-n", 10000, "--seed", 3, "--extra-attributes", 4, "-o", d / "s.csv", check=True)
    run("prepare", d / "s.csv", "-o", d / "p.h5", "-q", "--folds", 5, "--attributes", ",".join(ATTRIBUTES), check=True)
    truth = json.loads((d / "s.csv.attributes.json").read_text())
    informative = [a["column"] for a in truth["attributes"] if a["informative"]]
    return d, d / "p.h5", informative


@pytest.fixture(scope="module")
def exhaustive(synthetic):
    d, prepared, _ = synthetic
    out = d / "sel.h5"
    p = run("select-features", prepared, "-o", out, "--features", FEATURES, "--actions", ACTIONS, "--exhaustive",
            "--element-cost", "1e-5", "--threads", 2, "--progress", "plain")
    assert p.returncode == 0, p.stderr
    return out, p


def tables(path):
    with h5py.File(path, "r") as f:
        elements = {k: f["elements"][k] for k in f["elements"].dtype.names}
        subsets = {k: f["subsets"][k] for k in f["subsets"].dtype.names}
        return elements, subsets, dict(f.attrs)


def names(column):
    return [x.decode() for x in column]


def test_shapley_values_add_up_and_rank_informative_above_noise(synthetic, exhaustive):
    _, _, informative = synthetic
    elements, subsets, attrs = tables(exhaustive[0])
    assert attrs["lattice"] == 2 ** 12 and len(subsets["bits"]) == 2 ** 12
    score = dict(zip(subsets["bits"].tolist(), subsets["score"].tolist()))
    # Efficiency: the values share out score(all) - score(empty) exactly.
    assert abs(elements["shapley"].sum() - (score[2 ** 12 - 1] - score[0])) < 1e-9
    shapley = dict(zip(names(elements["name"]), elements["shapley"].tolist()))
    noise = [a for a in ATTRIBUTES if a not in informative]
    assert informative and noise
    assert min(shapley[a] for a in informative) > max(shapley[a] for a in noise), shapley
    # The predictive score does not depend on actions: their Shapley values are 0.
    for a in ACTIONS.split(","):
        assert shapley[a] == 0
    best = names(elements["name"])
    in_best = {n for n, b in zip(best, elements["in_best"]) if b}
    assert set(informative) <= in_best, in_best
    assert not in_best & set(ACTIONS.split(","))  # an action only costs here


def test_the_rl_search_finds_the_exhaustive_best_with_at_most_5_percent_of_the_evaluations(exhaustive):
    _, _, attrs = tables(exhaustive[0])
    assert attrs["rl_best_bits"] == attrs["best_bits"]
    assert attrs["rl_regret"] == 0
    assert attrs["rl_evaluations"] <= 0.05 * attrs["lattice"], attrs["rl_evaluations"]
    assert "RL search:" in exhaustive[1].stdout and "regret to the exhaustive best" in exhaustive[1].stdout


def test_report_and_plots_read_the_selection(exhaustive, tmp_path):
    out, _ = exhaustive
    p = run("report", out)
    assert p.returncode == 0, p.stderr
    assert "Which attributes and actions matter" in p.stdout
    assert "Best subset:" in p.stdout and "Shapley" in p.stdout and "RL search" in p.stdout
    plots = subprocess.run([sys.executable, str(SOURCE_DIR / "analysis" / "plots.py"), str(out), "-o", str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert plots.returncode == 0, plots.stderr
    for name in ("selection_shapley.png", "selection_best_subsets.png"):
        assert (tmp_path / name).stat().st_size > 10000


def test_decision_objective_corners(synthetic, tmp_path):
    """No action: the status quo for every feature subset; the full set is the best there is."""
    _, prepared, _ = synthetic
    out = tmp_path / "dec.h5"
    p = run("select-features", prepared, "-o", out, "--objective", "decision", "--features", "cohort,Attribute 1",
            "--actions", "call,account_manager", "--exhaustive", "--threads", 2, "--progress", "none")
    assert p.returncode == 0, p.stderr
    _, subsets, attrs = tables(out)
    score = dict(zip(subsets["bits"].tolist(), subsets["score"].tolist()))
    actions = 0b11
    no_action = [s for b, s in score.items() if b & actions == 0]
    assert max(no_action) - min(no_action) < 1e-9
    assert max(score.values()) <= score[0b1111] + 1e-9


def test_bad_input_is_a_clear_error(synthetic, tmp_path):
    d, prepared, _ = synthetic
    out = tmp_path / "x.h5"
    cases = [
        (["--features", "cohort,Attribute 9"], "Attribute 9"),
        (["--actions", "wait"], "wait"),
        (["--actions", "fax"], "fax"),
        (["--features", "none", "--actions", "none"], "no candidate"),
        (["--objective", "profit"], "--objective"),
        (["--bootstrap", "5"], "--exhaustive"),
    ]
    for args, words in cases:
        p = run("select-features", prepared, "-o", out, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert words in p.stderr and p.stderr.count("\n") == 1, (args, p.stderr)
        assert not out.exists()
    p = run("select-features", prepared, "-o", prepared)
    assert p.returncode == 2 and "is the same file as the INPUT" in p.stderr
    # More elements than the exhaustive limit: refused without --force.
    run("synth", "-n", 300, "--seed", 1, "--extra-attributes", 12, "-o", tmp_path / "wide.csv", check=True)
    wide = ",".join(f"Attribute {i}" for i in range(1, 13))
    run("prepare", tmp_path / "wide.csv", "-o", tmp_path / "wide.h5", "-q", "--folds", 2, "--attributes", wide, check=True)
    p = run("select-features", tmp_path / "wide.h5", "-o", out, "--exhaustive")
    assert p.returncode == 2 and "--force" in p.stderr, p.stderr
    assert not out.exists()
    # A declared attribute that is not known at decision time is refused by prepare.
    p = run("prepare", d / "s.csv", "-o", tmp_path / "y.h5", "--attributes", "Stage")
    assert p.returncode == 2 and "decision time" in p.stderr
