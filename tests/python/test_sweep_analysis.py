"""Tests of reinforcer_analysis.load_sweep and the sweep figures of analysis/plots.py.

A real sweep is run with the reinforcer binary (REINFORCER_BIN): 8 trials of 20,000 episodes,
omega x horizon x fit-on, where fit-on = except-fold:9 fails (there is no fold 9), so the odd
trials fail. It is merged three ways: as run; with one complete trial's file deleted (a
missing trial); and ranked by --objective learned. The expected values are read from the
files with h5py directly, or follow from the grid's numbering (the last key varies fastest).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import matplotlib
import numpy as np
import pytest

SOURCE_DIR = Path(os.environ.get("REINFORCER_SOURCE_DIR") or Path(__file__).resolve().parents[2])
BIN = os.environ.get("REINFORCER_BIN")
PLOTS = SOURCE_DIR / "analysis" / "plots.py"
sys.path.insert(0, str(SOURCE_DIR / "analysis"))

from reinforcer_analysis import load, load_sweep  # noqa: E402

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.patches  # noqa: E402

OMEGA, HORIZON, FIT_ON = [0.6, 0.8], [26, 52], ["all", "except-fold:9"]
EPISODES = 20000
GRID = f"""[grid]
omega = 0.6, 0.8
horizon = 26, 52
fit-on = all, except-fold:9
episodes = {EPISODES}
refits = 0
"""
TRIALS = 8
FAILED = [1, 3, 5, 7]  # fit-on = except-fold:9
MISSING = 2            # deleted from the copy: omega 0.6, horizon 52, fit-on all
HEATMAP = "sweep_heatmap_{}_{}.png"
SCATTER = "sweep_regret_vs_wall_time.png"


def parameters(t):
    """Trial t's grid values: the last key varies fastest."""
    return {"omega": OMEGA[t // 4], "horizon": HORIZON[t // 2 % 2], "fit-on": FIT_ON[t % 2]}


def reinforcer(*args, ok=(0,)):
    assert BIN, "REINFORCER_BIN must name the reinforcer executable (CTest sets it)"
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert p.returncode in ok, f"reinforcer {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}"
    return p


def plots(*args):
    return subprocess.run([sys.executable, str(PLOTS), *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, MPLBACKEND="Agg"))


def assert_png(path):
    assert path.is_file(), f"{path.name} not written"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert len(data) > 1024, f"{path.name} is only {len(data)} bytes"


def raw_trials(path):
    """/trials as h5py reads it (a numpy structured array, text as bytes)."""
    with h5py.File(path, "r") as f:
        return f["trials"][()], dict(f.attrs)


@pytest.fixture(scope="module")
def sweep_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    reinforcer("synth", "-n", 3000, "--seed", 3, "-o", d / "s.csv")
    reinforcer("prepare", d / "s.csv", "-o", d / "prepared.h5", "-q")
    (d / "grid.ini").write_text(GRID)
    p = reinforcer("sweep", d / "prepared.h5", "--grid", d / "grid.ini", "-o", d / "dir", "--threads", 1, ok=(5,))
    assert "4 complete, 4 failed (1,3,5,7), 0 missing of 8" in p.stdout, p.stdout
    reinforcer("merge", d / "dir", "-o", d / "sweep.h5")
    reinforcer("merge", d / "dir", "-o", d / "learned.h5", "--objective", "learned")
    shutil.copytree(d / "dir", d / "dir-missing")
    (d / "dir-missing" / f"trial-{MISSING:06d}.h5").unlink()
    reinforcer("merge", d / "dir-missing", "-o", d / "missing.h5")
    return d


@pytest.fixture(scope="module")
def sweep(sweep_files):
    return load_sweep(sweep_files / "sweep.h5")


# --- load_sweep ----------------------------------------------------------------------------

def test_counts_and_the_failed_list(sweep, sweep_files):
    t = sweep.trials
    assert len(t) == TRIALS and t["index"].tolist() == list(range(TRIALS))
    assert sweep.failed == FAILED and all(type(i) is int for i in sweep.failed)
    assert sweep.missing == []
    assert t["status"].tolist() == ["failed" if i in FAILED else "complete" for i in range(TRIALS)]
    assert len(sweep.complete) == TRIALS - len(FAILED)
    _, attrs = raw_trials(sweep_files / "sweep.h5")
    assert (attrs["trials"], attrs["complete"], attrs["failed"], attrs["missing"]) == (8, 4, 4, 0)
    assert sweep.attrs["format"] == "reinforcer-sweep"


def test_parameters_and_text_are_decoded(sweep):
    t = sweep.trials
    assert sweep.varied == ["omega", "horizon", "fit-on"]
    assert list(t.columns[:5]) == ["index", "omega", "horizon", "fit-on", "status"]
    for i, row in t.iterrows():
        expected = parameters(i)
        assert row["omega"] == pytest.approx(expected["omega"]) and row["horizon"] == pytest.approx(expected["horizon"])
        assert row["fit-on"] == expected["fit-on"], i
    assert t["omega"].dtype == np.float64 and t["horizon"].dtype == np.float64
    for column in ("fit-on", "status", "error", "host", "started_at", "finished_at"):
        assert t[column].map(type).eq(str).all(), column
        assert not t[column].str.contains("\0").any(), column
    failed = t[t["status"] == "failed"]
    assert failed["error"].str.contains("fold 9 does not exist").all()
    assert failed["regret"].isna().all()
    complete = sweep.complete
    assert (complete["error"] == "").all() and complete["regret"].notna().all()
    assert (complete["episodes"] == EPISODES).all()
    assert sweep.grid == {"omega": ["0.6", "0.8"], "horizon": ["26", "52"], "fit-on": FIT_ON,
                          "episodes": [str(EPISODES)], "refits": ["0"]}
    assert sweep.objective == "regret" and sweep.minimize


def test_best_is_the_least_regret_of_the_complete_trials(sweep, sweep_files):
    records, attrs = raw_trials(sweep_files / "sweep.h5")
    complete = records[records["status"] == b"complete"]
    least = complete[np.argmin(complete["regret"])]
    assert sweep.best is not None
    assert int(sweep.best["index"]) == int(least["index"]) == attrs["best_trial"]
    assert sweep.best["regret"] == least["regret"] == sweep.complete["regret"].min()
    assert sweep.best["status"] == "complete"
    expected = parameters(int(least["index"]))
    assert sweep.best["fit-on"] == expected["fit-on"] == "all"
    assert f"omega = {expected['omega']:g}" in sweep.best_config.splitlines()
    assert f"horizon = {expected['horizon']}" in sweep.best_config.splitlines()


def test_regret_by_cohort(sweep):
    r = sweep.regret_by_cohort
    complete = sweep.complete["index"].tolist()
    assert sorted(set(r["trial"])) == complete
    assert r["cohort"].map(type).eq(str).all()
    for trial in complete:
        rows = r[r["trial"] == trial]
        assert rows["cohort"].tolist() == ["all", "outbound", "inbound"]
        overall = sweep.trials.loc[sweep.trials["index"] == trial, "regret"].item()
        assert rows.loc[rows["cohort"] == "all", "regret"].item() == pytest.approx(overall)


def test_a_missing_trial(sweep_files):
    s = load_sweep(sweep_files / "missing.h5")
    assert s.missing == [MISSING] and s.failed == FAILED
    row = s.trials[s.trials["index"] == MISSING].iloc[0]
    assert row["status"] == "missing" and np.isnan(row["regret"])
    expected = parameters(MISSING)
    assert (row["omega"], row["horizon"], row["fit-on"]) == (expected["omega"], expected["horizon"], expected["fit-on"])
    assert len(s.complete) == TRIALS - len(FAILED) - 1
    assert s.attrs["missing"] == 1
    assert int(s.best["index"]) == int(s.complete.loc[s.complete["regret"].idxmin(), "index"])


def test_objective_learned_ranks_the_highest_value_first(sweep_files):
    s = load_sweep(sweep_files / "learned.h5")
    assert s.objective == "learned" and not s.minimize
    assert int(s.best["index"]) == int(s.complete.loc[s.complete["learned"].idxmax(), "index"])


def test_load_reads_a_sweep_file_too(sweep_files):
    data = load(sweep_files / "sweep.h5")
    assert data.format == "reinforcer-sweep"
    assert {"trials", "regret_by_cohort", "failed", "missing"} <= set(data.tables)
    assert data.group_attrs["best/parameters"]["fit-on"] == "all"


def test_load_sweep_refuses_other_files(sweep_files, tmp_path):
    with pytest.raises(ValueError, match="prepared.h5: is a reinforcer-prepared file, not a reinforcer-sweep file"):
        load_sweep(sweep_files / "prepared.h5")
    with pytest.raises(ValueError, match=r"trial-000000.h5: is a reinforcer-trial file.*reinforcer merge"):
        load_sweep(sweep_files / "dir" / "trial-000000.h5")
    with pytest.raises(ValueError, match=r"is a directory.*reinforcer merge"):
        load_sweep(sweep_files / "dir")
    with pytest.raises(ValueError, match="s.csv: not an HDF5 file"):
        load_sweep(sweep_files / "s.csv")
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        load_sweep(tmp_path / "nothing.h5")
    newer = tmp_path / "newer.h5"
    shutil.copy(sweep_files / "sweep.h5", newer)
    with h5py.File(newer, "r+") as f:
        f.attrs["format_version"] = np.int64(2)
    with pytest.raises(ValueError, match="format version 2"):
        load_sweep(newer)


def schema_section(title):
    """The text of docs/HDF5_SCHEMA.md's section whose heading starts with title."""
    doc = (SOURCE_DIR / "docs" / "HDF5_SCHEMA.md").read_text(encoding="utf-8")
    start = doc.index(f"\n## {title}")
    end = doc.find("\n## ", start + 1)
    return doc[start:end if end >= 0 else len(doc)]


def table_row(section, path):
    rows = [line for line in section.splitlines() if line.startswith(f"| `{path}` |")]
    assert len(rows) == 1, f"{path} is not documented once"
    return rows[0]


def test_the_trial_and_sweep_files_are_documented(sweep_files, sweep):
    trial = schema_section("Sweep trial files `trial-NNNNNN.h5`")
    with h5py.File(sweep_files / "dir" / "trial-000000.h5", "r") as f:
        for name in f.attrs:
            assert f"`{name}`" in trial, f"trial file attribute {name} not in the schema"
        assert sorted(f) == ["parameters", "regret"]
        row = table_row(trial, "/regret")
        for column in f["regret"].dtype.names:
            assert f"`{column}`" in row, column
    merged = schema_section("`sweep.h5`")
    with h5py.File(sweep_files / "sweep.h5", "r") as f:
        for name in f.attrs:
            assert f"`{name}`" in merged, f"sweep.h5 attribute {name} not in the schema"
        assert sorted(f) == ["best", "failed", "missing", "regret_by_cohort", "trials"]
        for path in ("regret_by_cohort", "failed", "missing"):
            row = table_row(merged, f"/{path}") if path == "regret_by_cohort" else table_row(merged, "/failed`, `/missing")
            for column in f[path].dtype.names:
                assert f"`{column}`" in row, (path, column)
        row = table_row(merged, "/trials")
        for column in f["trials"].dtype.names:
            if column not in sweep.varied:
                assert f"`{column}`" in row, column
        row = table_row(merged, "/best")
        for name in f["best"].attrs:
            assert f"`{name}`" in row, name


# --- plots.py on a sweep ---------------------------------------------------------------------

def test_plots_of_a_sweep_write_both_figures(sweep_files, tmp_path):
    p = plots(sweep_files / "sweep.h5", "--x", "omega", "--y", "fit-on", "-o", tmp_path / "out")
    assert p.returncode == 0, p.stderr
    written = sorted(x.name for x in (tmp_path / "out").iterdir())
    assert written == sorted([HEATMAP.format("omega", "fit-on"), SCATTER])
    for name in written:
        assert_png(tmp_path / "out" / name)
        assert name in p.stdout
    assert "wrote 2 files" in p.stdout


def test_the_heatmap_defaults_to_the_first_two_varied_parameters(sweep_files, tmp_path):
    p = plots(sweep_files / "sweep.h5", "-o", tmp_path)
    assert p.returncode == 0, p.stderr
    assert_png(tmp_path / HEATMAP.format("omega", "horizon"))


@pytest.mark.parametrize("args, message", [
    (["--x", "omegaa"], "--x omegaa: not a parameter of this sweep; the varied parameters are: omega, horizon, fit-on"),
    (["--x", "omega", "--y", "gamma"], "--y gamma: not a parameter of this sweep"),
    (["--x", "episodes"], "--x episodes: has one value in this grid (20000)"),
    (["--x", "horizon", "--y", "horizon"], "--x and --y are both horizon"),
])
def test_a_bad_parameter_name_is_a_clear_error(sweep_files, tmp_path, args, message):
    p = plots(sweep_files / "sweep.h5", *args, "-o", tmp_path / "out")
    assert p.returncode != 0
    assert "sweep.h5: " + message in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists(), "nothing is drawn when an axis is wrong"


def test_x_and_y_are_refused_for_a_file_that_is_not_a_sweep(sweep_files, tmp_path):
    p = plots(sweep_files / "prepared.h5", "--x", "omega", "-o", tmp_path)
    assert p.returncode != 0
    assert "--x and --y are for a sweep.h5" in p.stderr and "reinforcer-prepared" in p.stderr


def draw(monkeypatch, h5, outdir, *args):
    """Runs plots.main; returns {file name: Figure} of every figure written."""
    import plots as module
    figures = {}
    save = module._save

    def keep(fig, out, name):
        figures[name] = fig
        return save(fig, out, name)

    monkeypatch.setattr(module, "_save", keep)
    module.main([str(h5), "-o", str(outdir), *args])
    return figures


def heatmap_cells(fig):
    """The heatmap's axes, its cell values (masked where blank) and every text in it."""
    ax = fig.axes[0]
    (image,) = [a for a in ax.get_children() if isinstance(a, matplotlib.image.AxesImage)]
    return ax, image.get_array(), [t.get_text() for t in ax.texts]


def best_box(ax):
    boxes = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle) and p.get_edgecolor()[:3]
             == matplotlib.colors.to_rgb("tab:red")]
    assert len(boxes) == 1, "one red box: the best trial"
    x, y = boxes[0].get_xy()
    return round(x + 0.5), round(y + 0.5)


def test_heatmap_cells_are_the_best_over_the_other_parameters(sweep_files, tmp_path, monkeypatch):
    fig = draw(monkeypatch, sweep_files / "sweep.h5", tmp_path, "--x", "omega", "--y", "horizon")[
        HEATMAP.format("omega", "horizon")]
    ax, cells, texts = heatmap_cells(fig)
    records, attrs = raw_trials(sweep_files / "sweep.h5")
    assert cells.shape == (len(HORIZON), len(OMEGA)) and not np.ma.is_masked(cells)
    for i, horizon in enumerate(HORIZON):
        for j, omega in enumerate(OMEGA):
            here = records[(records["omega"] == omega) & (records["horizon"] == horizon) & (records["status"] == b"complete")]
            assert cells[i, j] == pytest.approx(100 * here["regret"].min()), (omega, horizon)
            trial = here["index"][np.argmin(here["regret"])]
            assert f"{100 * here['regret'].min():.3f}%\ntrial {trial}\n(+1 failed)" in texts, (omega, horizon)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.6", "0.8"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["26", "52"]
    assert ax.get_xlabel() == "omega" and ax.get_ylabel() == "horizon"
    assert "best over fit-on" in ax.get_title() and "n = 8 trials: 4 complete, 4 failed, 0 missing" in ax.get_title()
    best = parameters(attrs["best_trial"])
    assert best_box(ax) == (OMEGA.index(best["omega"]), HORIZON.index(best["horizon"]))


def test_heatmap_hatches_cells_without_a_complete_trial(sweep_files, tmp_path, monkeypatch):
    fig = draw(monkeypatch, sweep_files / "sweep.h5", tmp_path, "--x", "omega", "--y", "fit-on")[
        HEATMAP.format("omega", "fit-on")]
    ax, cells, texts = heatmap_cells(fig)
    assert [t.get_text() for t in ax.get_yticklabels()] == FIT_ON
    assert not np.ma.is_masked(cells[0]) and cells.mask[1].all(), "the except-fold:9 row is blank"
    records, _ = raw_trials(sweep_files / "sweep.h5")
    for j, omega in enumerate(OMEGA):  # two complete trials (horizon 26, 52) in each cell: the lower regret
        here = records[(records["omega"] == omega) & (records["status"] == b"complete")]
        assert len(here) == 2 and here["regret"][0] != here["regret"][1]
        assert cells[0, j] == pytest.approx(100 * here["regret"].min()), omega
        assert f"{100 * here['regret'].min():.3f}%\ntrial {here['index'][np.argmin(here['regret'])]}" in texts
    assert sum(p.get_hatch() == "///" for p in ax.patches) == 2
    assert texts.count("2 failed") == 2  # each blank cell: its two trials (horizon 26 and 52) failed
    note = " ".join(t.get_text() for t in fig.texts)
    assert "Hatched: 2 cells with no complete trial" in note
    assert "Failed trials: 1, 3, 5, 7" in note
    assert "Fixed in every trial: episodes 20000, refits 0" in note


def test_heatmap_with_a_missing_trial(sweep_files, tmp_path, monkeypatch):
    fig = draw(monkeypatch, sweep_files / "missing.h5", tmp_path, "--x", "omega", "--y", "horizon")[
        HEATMAP.format("omega", "horizon")]
    ax, cells, texts = heatmap_cells(fig)
    missing = parameters(MISSING)
    i, j = HORIZON.index(missing["horizon"]), OMEGA.index(missing["omega"])
    assert cells.mask[i, j] and cells.mask.sum() == 1
    assert "1 failed, 1 missing" in texts
    assert "Missing trials (no trial file): 2" in " ".join(t.get_text() for t in fig.texts)


def test_regret_against_wall_time(sweep, sweep_files, tmp_path, monkeypatch):
    fig = draw(monkeypatch, sweep_files / "sweep.h5", tmp_path)[SCATTER]
    ax = fig.axes[0]
    points, star = ax.collections
    complete = sweep.complete
    assert np.allclose(points.get_offsets(), np.c_[complete["wall_seconds"], 100 * complete["regret"]])
    assert np.allclose(star.get_offsets(), [[sweep.best["wall_seconds"], 100 * sweep.best["regret"]]])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"best by regret: trial {int(sweep.best['index'])}" in t for t in legend), legend
    assert sorted(int(t.get_text()) for t in ax.texts) == complete["index"].tolist()
    note = " ".join(t.get_text() for t in fig.texts)
    assert "Failed: 4 trials, not drawn" in note
    assert "trials 1, 3, 5, 7: --fit-on: fold 9 does not exist" in note
    assert "wall time" in ax.get_xlabel() and "regret" in ax.get_ylabel()
    assert "n = 4 complete of 8 trials; 4 failed, 0 missing" in ax.get_title()


def test_regret_against_wall_time_lists_missing_trials(sweep_files, tmp_path, monkeypatch):
    fig = draw(monkeypatch, sweep_files / "missing.h5", tmp_path)[SCATTER]
    assert len(fig.axes[0].collections[0].get_offsets()) == TRIALS - len(FAILED) - 1
    assert "Missing (no trial file; run the sweep again): trials 2" in " ".join(t.get_text() for t in fig.texts)


def test_a_sweep_of_one_parameter_skips_the_heatmap(sweep_files, tmp_path):
    (tmp_path / "grid.ini").write_text("[grid]\nomega = 0.6, 0.8\nepisodes = 5000\nrefits = 0\n")
    reinforcer("sweep", sweep_files / "prepared.h5", "--grid", tmp_path / "grid.ini", "-o", tmp_path / "dir",
               "--threads", 1)
    reinforcer("merge", tmp_path / "dir", "-o", tmp_path / "one.h5")
    s = load_sweep(tmp_path / "one.h5")
    assert s.varied == ["omega"] and s.failed == [] and s.missing == [] and len(s.complete) == 2
    p = plots(tmp_path / "one.h5", "-o", tmp_path / "out")
    assert p.returncode == 0, p.stderr
    assert "skipped sweep_heatmap: the grid varies 1 parameter (omega); a heatmap needs two" in p.stdout
    assert sorted(x.name for x in (tmp_path / "out").iterdir()) == [SCATTER]
