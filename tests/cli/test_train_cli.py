"""train end to end (single process): the run file read back by h5py and h5dump, bad input,
and the checkpoint-on-signal-then-resume cycle."""
import signal
import shutil
import subprocess
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import synth_prepared, BIN, CRM_XLSX, SOURCE_DIR, requires_real_export, run, sample_rows, write_csv, unseal


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return synth_prepared(tmp_path_factory.mktemp("train"), 6000, 4)


def q_table(path):
    with h5py.File(path, "r") as f:
        return f["q/values"][()]


def test_train_writes_a_documented_run_file(prepared, tmp_path):
    p = run("train", prepared, "-o", tmp_path / "run.h5", "--episodes", 40000, "--sync-every", 10000,
            "--progress", "plain", check=True)
    assert "regret" in p.stdout and "V* (DP)" in p.stdout and "Break-even" in p.stdout and "closes" not in p.stdout
    assert "round 4/4" in p.stderr
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert f.attrs["format"] == "reinforcer-run"
        assert f.attrs["format_version"] == 3
        assert f.attrs["workers"] == 1 and f.attrs["rounds"] == 4
        assert len(f.attrs["prepared_sha256"]) == 64
        q = f["q/values"][()]
        visits = f["q/visits"][()]
        states = pd.DataFrame(f["states"][()])
        curve = pd.DataFrame(f["learning_curve"][()])
        actions = pd.DataFrame(f["actions"][()])
        hazards = pd.DataFrame(f["model/hazards"][()])
        assert f["dp/q"].shape == q.shape
        # no string per state: actions are enum codes named in the type, segments index /segments
        assert h5py.check_enum_dtype(f["states"].dtype["learned_action"]) == {
            name: code for code, name in enumerate(["message", "call", "demo", "survey", "signup", "account_manager", "wait"])}
        assert all(f["states"].dtype[c].kind != "S" for c in f["states"].dtype.names)
        segments = pd.DataFrame(f["segments"][()])
        assert len(f["customers"]) == 6000
        assert "folds" not in f.attrs or True
    assert q.shape[1] == 7 and visits.shape == q.shape
    assert len(states) == q.shape[0]
    assert set(states["segment"]) == set(segments["segment"]) and segments["description"].str.len().min() > 0
    assert visits.sum() > 0 and (states["visits"] == visits.sum(axis=1)).all()
    assert list(curve["round"]) == [1, 2, 3, 4]
    assert list(curve["episodes"]) == [10000, 20000, 30000, 40000]
    # rank 0 judges the policy within 2% of the wall time: after the first round and the last
    assert curve["regret"].iloc[[0, -1]].notna().all()
    assert [a.decode() for a in actions["action"]] == ["message", "call", "demo", "survey", "signup", "account_manager", "wait"]
    assert (hazards["weekly_hazard"] >= 0).all()
    dump = subprocess.run(["h5dump", "-H", str(tmp_path / "run.h5")], capture_output=True, text=True, check=True).stdout
    for name in ("values", "visits", "states", "learning_curve", "hazards"):
        assert f'DATASET "{name}"' in dump


def test_same_seed_same_q_table_other_seed_other(prepared, tmp_path):
    args = ["--episodes", 20000, "--sync-every", 5000, "--threads", 2, "--progress", "none", "--refits", 0]
    run("train", prepared, "-o", tmp_path / "a.h5", *args, check=True)
    run("train", prepared, "-o", tmp_path / "b.h5", *args, check=True)
    run("train", prepared, "-o", tmp_path / "c.h5", *args, "--seed", 9, check=True)
    assert np.array_equal(q_table(tmp_path / "a.h5"), q_table(tmp_path / "b.h5"))
    assert not np.array_equal(q_table(tmp_path / "a.h5"), q_table(tmp_path / "c.h5"))


def test_replay_environment_trains(prepared, tmp_path):
    p = run("train", prepared, "-o", tmp_path / "r.h5", "--env", "replay", "--episodes", 20000,
            "--replay-rewards", "legacy", "--progress", "none", check=True)
    with h5py.File(tmp_path / "r.h5", "r") as f:
        assert f.attrs["environment"] == "replay"
        assert f["q/visits"][()].sum() > 0
        assert f["states"].shape[0] == f["q/values"].shape[0]
    assert "wrote" in p.stdout


def test_dry_run_prints_the_plan_and_writes_nothing(prepared, tmp_path):
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--dry-run", "--threads", 2, check=True)
    assert "states" in p.stdout and "workers 2 = 1 ranks x 2 threads" in p.stdout and "memory estimate" in p.stdout
    assert list(tmp_path.iterdir()) == []


def test_sigterm_writes_a_checkpoint_exits_75_and_resume_matches(prepared, tmp_path):
    args = ["--episodes", 600000, "--sync-every", 6000, "--progress", "none", "--refits", 0, "--seed", 3]
    run("train", prepared, "-o", tmp_path / "full.h5", *args, check=True)
    proc = subprocess.Popen([BIN, "train", str(prepared), "-o", str(tmp_path / "cut.h5"), *map(str, args),
                             "--checkpoint-every", "1"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "checkpoint written" in line:
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 75, err
    assert "continue with --resume" in err
    assert (tmp_path / "cut.h5.checkpoint.h5").exists()
    assert not (tmp_path / "cut.h5").exists()
    with h5py.File(tmp_path / "cut.h5.checkpoint.h5", "r") as f:
        assert 1 <= f.attrs["rounds_done"] < 100
    shutil.copy(tmp_path / "cut.h5.checkpoint.h5", tmp_path / "kept.checkpoint.h5")
    run("train", prepared, "-o", tmp_path / "cut.h5", *args, "--resume", check=True)
    assert not (tmp_path / "cut.h5.checkpoint.h5").exists()  # a finished run leaves no checkpoint behind
    assert np.array_equal(q_table(tmp_path / "full.h5"), q_table(tmp_path / "cut.h5"))
    with h5py.File(tmp_path / "full.h5", "r") as a, h5py.File(tmp_path / "cut.h5", "r") as b:
        assert np.array_equal(a["q/visits"][()], b["q/visits"][()])
        assert len(b["learning_curve"]) == 100
    # A checkpoint from another config is refused, naming what differs.
    p = run("train", prepared, "-o", tmp_path / "cut.h5", *args[:-1], "4", "--resume",
            "--checkpoint", tmp_path / "kept.checkpoint.h5")
    assert p.returncode == 3
    assert "seed was '3', now '4'" in p.stderr


def test_resume_without_a_checkpoint_is_a_path_error(prepared, tmp_path):
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--resume")
    assert p.returncode == 4 and "no checkpoint to resume from" in p.stderr


@pytest.mark.parametrize("args,code,text", [
    (["--features", ""], 2, "the feature mask is empty"),
    (["--features", "stage"], 2, "'stage' is not a decision-time feature"),
    (["--sync-every", "0"], 2, "--sync-every: 0 is out of range"),
    (["--cost.call", "-1"], 2, "--cost.call: -1 is out of range; give a value from 0"),
    (["--cost.fax", "3"], 2, "unknown action 'fax'"),
    (["--env", "gym"], 2, "--env: 'gym' is not funnel or replay"),
    (["--fit-on", "except-fold:9"], 2, "fold 9 does not exist"),
    (["--effect.act", "2"], 2, "effect multipliers were replaced by success.<action> probabilities"),
    (["--success.wait", "0.5"], 2, "wait has no success: it is the status quo"),
    (["--success.call", "1.5"], 2, "--success.call: 1.5 is out of range; give a value from 0 to 1"),
    (["--step-size", "adam"], 2, "--step-size: 'adam' is not visits or constant"),
    (["--omega", "0.3"], 2, "--omega: 0.3 is out of range"),
    (["--oversample", "-0.1"], 2, "--oversample: -0.1 is out of range"),
])
def test_bad_options(prepared, tmp_path, args, code, text):
    p = run("train", prepared, "-o", tmp_path / "x.h5", *args)
    assert p.returncode == code, p.stderr
    assert text in p.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_action_in_a_config_file(prepared, tmp_path):
    ini = tmp_path / "r.ini"
    ini.write_text("[train]\nepisodes = 1000\ncost.fax = 2\n")
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--config", ini)
    assert p.returncode == 2
    assert "line 3: unknown action 'fax' in 'cost.fax'" in p.stderr


def test_a_config_value_in_double_quotes_is_the_text_between_them(prepared, tmp_path):
    ini = tmp_path / "q.ini"
    ini.write_text('[train]\nfeatures = "cohort, country"   # a comment after the quotes\n')
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--config", ini, "--dry-run")
    assert p.returncode == 0, p.stderr
    assert "features cohort,country;" in p.stdout
    # The command line still wins over the file, and a value error then names the option alone.
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--config", ini, "--features", "cohort,nope", "--dry-run")
    assert p.returncode == 2 and p.stderr.startswith("reinforcer train: error: --features:"), p.stderr


def test_a_config_file_section_that_names_no_command_is_refused(prepared, tmp_path):
    # A misspelt section would otherwise be skipped without a word, and its options lost.
    ini = tmp_path / "r.ini"
    ini.write_text("[evaluate]\nbootstrap = 50\n\n[trian]\nepisodes = 1000\n")
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--config", ini)
    assert p.returncode == 2
    assert "r.ini line 4: unknown section [trian]; a section is named after a command" in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_more_workers_than_customers(tmp_path):
    src = write_csv(tmp_path / "input.csv", sample_rows())
    run("prepare", src, "-o", tmp_path / "p.h5", "-q", check=True)
    p = run("train", tmp_path / "p.h5", "-o", tmp_path / "x.h5", "--threads", 8)
    assert p.returncode == 2
    assert "8 workers (1 ranks x 8 threads) but only 4 fitting customers" in p.stderr


def test_prepared_file_of_another_format_or_version(prepared, tmp_path):
    run("train", prepared, "-o", tmp_path / "run.h5", "--episodes", 2000, "--progress", "none", "--refits", 0, check=True)
    p = run("train", tmp_path / "run.h5", "-o", tmp_path / "x.h5")
    assert p.returncode == 3 and "is not a reinforcer-prepared file (its format attribute is 'reinforcer-run')" in p.stderr
    old = tmp_path / "old.h5"
    old.write_bytes(prepared.read_bytes())
    with h5py.File(old, "r+") as f:
        f.attrs["format_version"] = np.int64(0)
    unseal(old)
    p = run("train", old, "-o", tmp_path / "x.h5")
    assert p.returncode == 3 and "format version 0, this tool reads version 1" in p.stderr
    not_h5 = tmp_path / "text.h5"
    not_h5.write_text("hello")
    p = run("train", not_h5, "-o", tmp_path / "x.h5")
    assert p.returncode == 3 and "not an HDF5 file" in p.stderr


def test_the_shipped_config_lists_valid_options(prepared, tmp_path):
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--config", SOURCE_DIR / "configs" / "train.ini", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert "sync rounds of 100,000" in p.stdout


def test_rewards_in_other_units_scale_q_exactly_and_never_wrap(prepared, tmp_path):
    # Rewards and costs x1e6: the fixed-point sums of the averaging passed 2^63 with a fixed
    # 2^24 scale and wrapped cells silently (account manager -20 became +10.8). Now the scale
    # follows the round's largest |Q|, so Q scales with the units to within its resolution.
    costs = {"message": 1, "call": 5, "demo": 10, "survey": 2, "signup": 3, "account_manager": 20}
    args = ["--episodes", 200000, "--sync-every", 200000, "--threads", 2, "--progress", "none", "--refits", 0]
    run("train", prepared, "-o", tmp_path / "units.h5", *args, check=True)
    scaled = [f"--cost.{a}={c * 1e6:g}" for a, c in costs.items()] + ["--reward.subscription=1e8"]
    run("train", prepared, "-o", tmp_path / "micro.h5", *args, *scaled, check=True)
    with h5py.File(tmp_path / "units.h5", "r") as a, h5py.File(tmp_path / "micro.h5", "r") as b:
        q, q_micro = a["q/values"][()], b["q/values"][()]
        visited = a["q/visits"][()] > 0
        assert np.array_equal(visited, b["q/visits"][()] > 0)
    assert visited.sum() > 1000
    # resolution: 2^-24 of the unscaled sums (x1e6), the scaled run's own below it
    tolerance = 2.0 ** -24 * 1e6 * 2 + 1e-12 * np.abs(q_micro)
    err = np.abs(q_micro - q * 1e6)
    assert (err[visited] <= tolerance[visited]).all(), f"{(err[visited] > tolerance[visited]).sum()} cells differ"


def test_report_compares_learned_policies_by_regret(prepared, tmp_path):
    """report run.h5 --runs other.h5: each funnel run's regret per cohort, read from its file; a
    briefly trained policy shows a larger regret; a replay run is listed as not judged."""
    good, brief, replay = tmp_path / "good.h5", tmp_path / "brief.h5", tmp_path / "replay.h5"
    # At a reward where actions pay, a policy trained briefly is far from the optimum.
    paying = ("--reward.subscription", 3000, "--refits", 5, "--progress", "none")
    run("train", prepared, "-o", good, "--episodes", 40000, *paying, check=True)
    run("train", prepared, "-o", brief, "--episodes", 50, "--seed", 3, *paying, check=True)
    run("train", prepared, "-o", replay, "--env", "replay", "--episodes", 2000, "--replay-rewards", "legacy",
        "--progress", "none", check=True)
    p = run("report", good, "--runs", f"{brief},{replay}", check=True)
    assert "Learned policies against the DP optimum" in p.stdout
    rows = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "tabular" and parts[2] in ("all", "outbound", "inbound"):
            rows[(parts[1].strip("()"), parts[2])] = float(parts[6].rstrip("%")) / 100
    for path in (good, brief):
        with h5py.File(path, "r") as f:
            stored = pd.DataFrame({k: f["quality/regret"][k][()] for k in ("cohort", "regret")})
        for cohort, regret in zip(stored["cohort"], stored["regret"]):
            cohort = cohort.decode() if isinstance(cohort, bytes) else cohort
            assert rows[(str(path), cohort)] == pytest.approx(regret, abs=5e-5)
    assert rows[(str(brief), "all")] > rows[(str(good), "all")] + 0.2
    assert f"{replay}): environment replay, not judged" in p.stdout
    p = run("report", good, "--runs", tmp_path / "missing.h5")
    assert p.returncode != 0 and "missing.h5" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run("report", good, "--runs", prepared)
    assert p.returncode == 3 and "reinforcer-prepared" in p.stderr


def test_dqn_agent_is_judged_like_the_tabular_one(prepared, tmp_path):
    """train --agent dqn: the network's Q-values tabulated into /q, judged against the DP with
    refit intervals like the tabular agent's, the network and its curve in /dqn, and both agents
    side by side in the report."""
    common = ("--features", "cohort,education", "--refits", 5, "--progress", "none")
    p = run("train", prepared, "-o", tmp_path / "dqn.h5", "--agent", "dqn", "--dqn.steps", 30000, "--dqn.hidden", "32,32",
            *common, check=True)
    assert "trained a DQN (" in p.stdout and "-32-32-7) for 30,000 steps per worker" in p.stdout
    run("train", prepared, "-o", tmp_path / "tab.h5", *common, check=True)
    with h5py.File(tmp_path / "dqn.h5", "r") as f:
        assert f.attrs["agent"] == "dqn" and f.attrs["dqn_steps_per_worker"] == 30000
        sizes = list(f["dqn/layer_sizes"][()])
        weights = f["dqn/weights"][()]
        curve = pd.DataFrame(f["dqn/curve"][()])
        q = f["q/values"][()]
        states = f["states"].shape[0]
        regret = pd.DataFrame({k: f["quality/regret"][k][()] for k in ("cohort", "regret", "regret_low95", "regret_high95")})
        assert "dqn.hidden = 32,32" in f.attrs["config"]
    assert sizes[1:] == [32, 32, 7] and weights.size == sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    assert q.shape[0] == states and np.isfinite(q).all()
    assert len(curve) == 20 and np.isfinite(curve["regret"]).all() and (curve["regret"] >= -1e-12).all()
    assert curve["gradient_steps"].iloc[-1] > 0 and np.isfinite(curve["loss"].iloc[-1])
    overall = regret[regret["cohort"] == b"all"].iloc[0]
    assert 0 <= overall["regret"] and overall["regret_low95"] <= overall["regret_high95"]
    p = run("report", tmp_path / "tab.h5", "--runs", tmp_path / "dqn.h5", check=True)
    assert f"dqn ({tmp_path / 'dqn.h5'})" in p.stdout and f"tabular ({tmp_path / 'tab.h5'})" in p.stdout
    assert "1 workers x 30000 steps" in p.stdout


@pytest.mark.parametrize("args,text", [
    (("--agent", "dqn", "--env", "replay"), "--agent: dqn trains on the funnel environment only"),
    (("--agent", "deep"), "--agent: 'deep' is not tabular or dqn"),
    (("--agent", "dqn", "--dqn.hidden", "64,,64"), "--dqn.hidden: '' is not a whole number"),
    (("--agent", "dqn", "--dqn.steps", 0), "--dqn.steps: 0 is out of range"),
])
def test_bad_dqn_options(prepared, tmp_path, args, text):
    p = run("train", prepared, "-o", tmp_path / "x.h5", *args)
    assert p.returncode == 2 and text in p.stderr, p.stderr
    assert not (tmp_path / "x.h5").exists()


@requires_real_export
def test_real_export_both_agents_in_the_report_with_refit_intervals(tmp_path):
    """The real export's funnel: the tabular and the DQN policy, each judged against the DP per
    cohort with refit intervals, side by side in one report; the rows are the files' own."""
    run("prepare", CRM_XLSX, "-o", tmp_path / "p.h5", "-q", check=True)
    common = ("--refits", 40, "--progress", "none", "--threads", 2)  # 40: the fewest that print a 95% interval
    run("train", tmp_path / "p.h5", "-o", tmp_path / "tab.h5", "--episodes", 50000, *common, check=True)
    run("train", tmp_path / "p.h5", "-o", tmp_path / "dqn.h5", "--agent", "dqn", "--dqn.steps", 50000, *common, check=True)
    p = run("report", tmp_path / "tab.h5", "--runs", tmp_path / "dqn.h5", check=True)
    rows = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 9 and parts[0] in ("tabular", "dqn") and parts[2] in ("all", "outbound", "inbound"):
            rows[(parts[0], parts[2])] = (int(parts[3]), float(parts[6].rstrip("%")) / 100,
                                          float(parts[7].strip("[,%")) / 100, float(parts[8].strip("]%")) / 100)
    assert len(rows) == 6, p.stdout
    for agent, path in (("tabular", "tab.h5"), ("dqn", "dqn.h5")):
        with h5py.File(tmp_path / path, "r") as f:
            assert f.attrs["agent"] == agent
            stored = f["quality/regret"][()]
        for r in stored:
            n, regret, low, high = rows[(agent, r["cohort"].decode())]
            assert n == r["customers"] and regret == pytest.approx(r["regret"], abs=5e-5)
            assert low == pytest.approx(r["regret_low95"], abs=5e-5) and high == pytest.approx(r["regret_high95"], abs=5e-5)
            assert 0 <= low <= high
    # n: the fitting customers of each cohort, the same for both agents (one fitted funnel).
    assert rows[("tabular", "all")][0] == rows[("dqn", "all")][0] == rows[("dqn", "outbound")][0] + rows[("dqn", "inbound")][0]
