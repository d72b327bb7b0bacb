"""engagement from the command line: the learned policy near the DP optimum, baselines far
from it, the file read back with h5py, and model mistakes reported without touching outputs."""
import re
import shutil
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import SOURCE_DIR, run

SHIPPED = SOURCE_DIR / "configs" / "engagement.ini"


def regret_of(stdout):
    m = re.search(r"regret \(V\* - V\)/V\* = ([\d.]+)% \(n = (\d+) start scores\)", stdout)
    assert m, stdout
    return float(m.group(1)) / 100, int(m.group(2))


def test_learned_policy_near_the_optimum_and_the_file_says_so(tmp_path):
    # From another directory, without --config: the compiled-in model.
    p = run("engagement", "-o", tmp_path / "e.h5", "--seed", 3, "--threads", 2, check=True, cwd=tmp_path)
    regret, n = regret_of(p.stdout)
    assert n == 61 and regret <= 0.01
    with h5py.File(tmp_path / "e.h5", "r") as f:
        assert f.attrs["format"] == "reinforcer-engagement" and f.attrs["format_version"] == 1
        assert f.attrs["agent"] == "tabular" and f.attrs["seed"] == 3 and f.attrs["workers"] == 2
        assert f["model"].attrs["text"] == SHIPPED.read_text()
        cells = pd.DataFrame(f["cells"][()])
        baselines = pd.DataFrame(f["baselines"][()])
        curve = pd.DataFrame(f["learning_curve"][()])
        assert abs(f.attrs["agent_regret"] - regret) < 5e-5
        v_star = f.attrs["optimum_start_value"]
    assert len(cells) == 201 and cells["terminal"].sum() == 1
    starts = cells[cells["start"] == 1]
    assert len(starts) == n
    assert abs(starts["optimum_value"].mean() - v_star) < 1e-12
    # The agent's exact values never beat the optimum's, and their gap at the starts is the regret.
    assert (cells["agent_value"] <= cells["optimum_value"] + 1e-9).all()
    assert abs((v_star - starts["agent_value"].mean()) / v_star - regret) < 5e-5
    # The optimum's action is the best of its Q-values.
    q = cells[["optimum_q_email", "optimum_q_webinar", "optimum_q_call"]].to_numpy()
    live = cells["terminal"] == 0
    assert (np.argmax(q[live.to_numpy()], axis=1) == cells.loc[live, "optimum_action"].to_numpy()).all()
    # Every baseline gives up far more than the agent.
    assert set(baselines["policy"].str.decode("utf-8")) == {"always_email", "always_webinar", "always_call", "random"}
    assert (baselines["regret"] > max(0.05, 20 * regret)).all()
    assert len(curve) == 10 and curve["episodes"].iloc[-1] == 2 * 100000
    assert abs(curve["regret"].iloc[-1] - regret) < 5e-5
    if shutil.which("h5dump"):  # the stage and action columns are enums h5dump names
        dump = subprocess.run(["h5dump", "-H", "-d", "/cells", str(tmp_path / "e.h5")], capture_output=True, text=True)
        assert dump.returncode == 0 and '"webinar"' in dump.stdout and '"hot"' in dump.stdout, dump.stderr


def test_same_seed_same_policy_other_seed_other_run(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        run("engagement", "-o", tmp_path / f"{name}.h5", "--seed", seed, "--episodes", 5000, check=True)
    def learned(name):
        with h5py.File(tmp_path / f"{name}.h5", "r") as f:
            return f["cells"]["agent_value"][()], f["learning_curve"]["mean_reward"][()]
    a, b, c = learned("a"), learned("b"), learned("c")
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_a_config_file_is_used_and_its_mistakes_are_one_line(tmp_path):
    text = SHIPPED.read_text()
    good = tmp_path / "cheap_calls.ini"
    good.write_text(text.replace("call = 0.03", "call = 0.001"))
    run("engagement", "-o", tmp_path / "g.h5", "--config", good, "--episodes", 2000, check=True)
    with h5py.File(tmp_path / "g.h5", "r") as f:
        assert "call = 0.001" in f["model"].attrs["text"]
    out = tmp_path / "e.h5"
    out.write_bytes(b"earlier results")
    for mistake, expect in ((text.replace("gamma = 0.95", "gamma = 2"), r"line 11: \[model\] gamma = 2 is out of range"),
                            (text.replace("email.success = 0.7", "email.sucess = 0.7"),
                             r"\[cold\] email.sucess: unknown key; the keys of \[cold\] are"),
                            (text.replace("[hot]", "[hot]\nemail.success = 0.5"), r"given twice")):
        bad = tmp_path / "bad.ini"
        bad.write_text(mistake)
        p = run("engagement", "-o", out, "--config", bad)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and str(bad) in lines[0] and re.search(expect, lines[0]), p.stderr
        assert out.read_bytes() == b"earlier results"
    p = run("engagement", "-o", out, "--config", tmp_path / "missing.ini")
    assert p.returncode == 4 and out.read_bytes() == b"earlier results"
    p = run("engagement", "-o", out, "--agent", "dqm")
    assert p.returncode == 2 and "give one of tabular" in p.stderr
    assert out.read_bytes() == b"earlier results"
    assert [x.name for x in tmp_path.iterdir() if x.name.startswith(".") or "tmp" in x.name] == []


def test_help_explains_the_model_option():
    p = run("engagement", "--help", check=True)
    assert "--config" in p.stdout and "the engagement model" in p.stdout and "--agent" in p.stdout


def test_main_help_lists_the_command():
    # The list once padded names to 10 characters and threw on longer ones.
    p = run("--help", check=True)
    assert re.search(r"^  engagement +the engagement-score funnel", p.stdout, re.M), p.stdout
    assert re.search(r"^  select-features +", p.stdout, re.M)


def test_dqn_reaches_the_optimum_within_ten_percent_and_stores_its_network(tmp_path):
    """Acceptance: the DQN's greedy policy, valued exactly on the grid, within 10% of V*; the
    tabular agent and the baselines beside it; the network and its curve in the file."""
    p = run("engagement", "-o", tmp_path / "dqn.h5", "--agent", "dqn", "--seed", 1, check=True)
    regret, n = regret_of(p.stdout)
    assert n == 61 and regret <= 0.10
    tabular, _ = regret_of(run("engagement", "-o", tmp_path / "tab.h5", "--seed", 1, check=True).stdout)
    with h5py.File(tmp_path / "dqn.h5", "r") as f:
        assert f.attrs["agent"] == "dqn" and abs(f.attrs["agent_regret"] - regret) < 5e-5
        sizes = list(f["dqn/layer_sizes"][()])
        weights = f["dqn/weights"][()]
        curve = pd.DataFrame(f["learning_curve"][()])
        baselines = pd.DataFrame(f["baselines"][()])
    assert sizes == [4, 64, 64, 7]
    assert weights.size == sum((a + 1) * b for a, b in zip(sizes, sizes[1:])) and np.isfinite(weights).all()
    # The curve: regret measured exactly along the way, ending at the final policy's; the loss falls.
    assert len(curve) == 20 and np.isfinite(curve["regret"]).all() and np.isfinite(curve["loss"]).all()
    assert abs(curve["regret"].iloc[-1] - regret) < 5e-5
    assert curve["loss"].iloc[-5:].mean() < curve["loss"].iloc[1:5].mean()
    assert curve["regret"].iloc[0] > regret
    # Both agents far better than every baseline.
    assert (baselines["regret"] > max(0.05, 5 * regret, 5 * tabular)).all()
    # The report puts both side by side, each row its file's regret.
    p = run("report", tmp_path / "tab.h5", "--runs", tmp_path / "dqn.h5", check=True)
    assert "On the engagement funnel" in p.stdout
    shown = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[0] in ("tabular", "dqn") and parts[2] == "all":
            assert parts[3] == "61" and parts[7] == "n/a"
            shown[parts[0]] = float(parts[6].rstrip("%")) / 100
    assert shown["dqn"] == pytest.approx(regret, abs=5e-5) and shown["tabular"] == pytest.approx(tabular, abs=5e-5)
