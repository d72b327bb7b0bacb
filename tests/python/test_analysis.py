"""Tests of analysis/reinforcer_analysis.py (load, dates) and analysis/plots.py.

prepared.h5 and run.h5 are made by the reinforcer binary (REINFORCER_BIN); evaluated.h5 is
not yet written by it, so an evaluated-like file is built here with h5py: a copy of run.h5
with the /evaluation tables of docs/HDF5_SCHEMA.md (exactly the documented columns, text as
fixed-length byte strings), filled with made-up numbers.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import matplotlib
import numpy as np
import pandas as pd
import pytest

SOURCE_DIR = Path(os.environ.get("REINFORCER_SOURCE_DIR") or Path(__file__).resolve().parents[2])
BIN = os.environ.get("REINFORCER_BIN")
CRM_XLSX = os.environ.get("REINFORCER_CRM_XLSX") or str(SOURCE_DIR.parent / "shared" / "data" / "SalesCRM.xlsx")
PLOTS = SOURCE_DIR / "analysis" / "plots.py"
sys.path.insert(0, str(SOURCE_DIR / "analysis"))

from reinforcer_analysis import MISSING_DAY, dates, load  # noqa: E402

matplotlib.use("Agg")
import matplotlib.container  # noqa: E402

CUSTOMERS = 3000
DAY_COLUMNS = ["first_contact_day", "last_contact_day", "first_call_day", "demo_day", "survey_day",
               "platform_signup_day", "account_manager_day", "subscribed_day", "t0_day"]
CUSTOMER_COLUMNS = ["id", "sheet_row", "country", "education", "status", "stage", *DAY_COLUMNS[:8],
                    "platform_signup_declined", "subscribed", "cohort", "t0_day", "t0_month", "split", "fold"]
CUSTOMER_TEXT = ["country", "education", "status", "stage", "cohort", "split"]
CUSTOMER_PLOTS = ["customers_subscribers_by_country.png", "customers_subscribers_by_education.png",
                  "customers_high_value_country_education.png"]
EVALUATION_PLOTS = ["action_impact.png", "policies.png", "lift_curve.png", "calibration.png"]


def reinforcer(*args):
    assert BIN, "REINFORCER_BIN must name the reinforcer executable (CTest sets it)"
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"reinforcer {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}"
    return p


def plots(h5, outdir):
    p = subprocess.run([sys.executable, str(PLOTS), str(h5), "-o", str(outdir)],
                       capture_output=True, text=True, timeout=600, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 0, p.stderr
    return p


def assert_png(path):
    assert path.is_file(), f"{path.name} not written"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert len(data) > 1024, f"{path.name} is only {len(data)} bytes"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """prepared.h5 and run.h5 from `reinforcer synth -n CUSTOMERS`, in a temporary directory."""
    d = tmp_path_factory.mktemp("h5")
    reinforcer("synth", "-n", CUSTOMERS, "--seed", 3, "-o", d / "s.csv")
    reinforcer("prepare", d / "s.csv", "-o", d / "prepared.h5", "-q")
    reinforcer("train", d / "prepared.h5", "-o", d / "run.h5", "--episodes", 20000, "--sync-every", 5000,
               "--progress", "none")
    return d


# --- the evaluated-like file -------------------------------------------------------------

S = "S32"  # fixed-length byte strings, as reinforcer writes text columns
EVALUATION_TABLES = {
    "targeting": [("scorer", S), ("cohort", S), ("metric", S), ("estimate", "f8"), ("low95", "f8"),
                  ("high95", "f8"), ("customers", "i8"), ("subscribers", "i8")],
    "lift_curve": [("scorer", S), ("cohort", S), ("fraction", "f8"), ("captured", "f8")],
    "policies": [("policy", S), ("metric", S), ("estimate", "f8"), ("low95", "f8"), ("high95", "f8"),
                 ("customers", "i8")],
    "calibration": [("cohort", S), ("event", S), ("customers", "i8"), ("expected", "f8"), ("observed", "i8"),
                    ("o_e", "f8"), ("o_e_low95", "f8"), ("o_e_high95", "f8"), ("verdict", S)],
    "action_impact": [("progress", "i4"), ("milestones", "S64"), ("action", S), ("delta", "f8"), ("low95", "f8"),
                      ("high95", "f8"), ("sensitivity_low", "f8"), ("sensitivity_high", "f8")],
    "descriptive/segments": [("grouping", "S20"), ("cohort", S), ("segment", "S40"), ("country", S),
                             ("education", S), ("customers", "i8"), ("first_calls", "i8"), ("subscribers", "i8"),
                             ("rate", "f8"), ("low95", "f8"), ("high95", "f8"), ("lift", "f8"),
                             ("share_of_subscribers", "f8"), ("rank", "i4"), ("note", "S48")],
}
SCORERS = ["learned", "segment_rate", "cohort_rate", "random"]
POLICIES = ["learned", "optimal", "random", "always_wait", "always_message", "textbook", "historical"]
POLICY_METRICS = ["subscriptions_per_1000", "first_calls_per_1000", "reward_per_customer", "cost_per_acquisition"]
ACTIONS = ["message", "call", "demo", "survey", "signup", "account_manager", "wait"]
EVENTS = ["first_call", "demo", "survey", "platform_signup", "account_manager", "subscribed"]
MILESTONES = ["first_call", "demo", "survey", "platform_signup", "account_manager"]


def interval(rng, estimate, width):
    return estimate, estimate - width * rng.uniform(0.5, 1), estimate + width * rng.uniform(0.5, 1)


def evaluation_rows(rng):
    """Made-up rows for each table of EVALUATION_TABLES (tuples in column order)."""
    rows = {"targeting": [], "lift_curve": [], "policies": [], "calibration": [], "action_impact": []}
    sizes = {"all": (2900, 14), "outbound": (2820, 6), "inbound": (80, 8)}
    for scorer in SCORERS:
        for cohort, (n, s) in sizes.items():
            rows["targeting"].append((scorer, cohort, "auc", *interval(rng, rng.uniform(0.5, 0.8), 0.1), n, s))
            rows["targeting"].append((scorer, cohort, "lift@10", *interval(rng, rng.uniform(1, 3), 0.8), n, s))
        power = {"learned": 0.4, "segment_rate": 0.5, "cohort_rate": 0.7, "random": 1.0}[scorer]
        for cohort in ("all", "inbound"):
            for f in np.linspace(0.05, 1, 20):
                rows["lift_curve"].append((scorer, cohort, f, f ** power))
    for policy in POLICIES:
        for metric in POLICY_METRICS:
            rows["policies"].append((policy, metric, *interval(rng, rng.uniform(0, 50), 5), 2900))
    for cohort, (n, _) in sizes.items():
        for k, event in enumerate(EVENTS):
            # Customers at risk, expected events E and an observed count O near it; O = 0 and
            # E < 10 occur, as they do in small cohorts (O/E 0 with a lower bound of 0).
            at_risk = n // (k + 1)
            e = 0.3 * at_risk / (k + 1) ** 2
            o = int(rng.poisson(e))
            low, high = (0.0 if o == 0 else o * 0.6) / e, (o + 3.7) * 1.4 / e
            verdict = "few events (E < 10)" if e < 10 else "consistent" if low <= 1 <= high else "miscalibrated (under-predicts)"
            rows["calibration"].append((cohort, event, at_risk, e, o, o / e, low, high, verdict))
    for progress in range(32):
        text = ",".join(m for bit, m in enumerate(MILESTONES) if progress >> bit & 1) or "none"
        for action in ACTIONS:
            d = 0.0 if action == "wait" else rng.uniform(-0.01, 0.03)
            rows["action_impact"].append((progress, text, action, *interval(rng, d, 0.01), d - 0.02, d + 0.02))
    rows["descriptive/segments"] = [
        ("country", "all", "country=USA", "USA", "", 1700, 90, 8, 0.0047, 0.002, 0.009, 1.0, 0.57, 1, ""),
        ("education", "all", "education=B27", "", "B27", 600, 30, 4, 0.0067, 0.002, 0.017, 1.4, 0.29, 0,
         "fewer than 2 subscribers")]
    return rows


@pytest.fixture(scope="module")
def evaluated(files):
    """A copy of run.h5 with format reinforcer-evaluated and the /evaluation tables."""
    path = files / "evaluated.h5"
    shutil.copy(files / "run.h5", path)
    rows = evaluation_rows(np.random.default_rng(7))
    with h5py.File(path, "r+") as f:
        f.attrs["format"] = "reinforcer-evaluated"
        g = f.create_group("evaluation")
        for k, v in {"folds": 5, "bootstrap": 200, "seed": 1}.items():
            g.attrs[k] = np.int64(v)
        g.attrs["split"] = "cv"
        for name, columns in EVALUATION_TABLES.items():
            records = [tuple(x.encode() if isinstance(x, str) else x for x in r) for r in rows[name]]
            f.create_dataset(f"evaluation/{name}", data=np.array(records, dtype=columns))
    return path


def test_the_evaluated_like_file_has_the_documented_columns():
    doc = (SOURCE_DIR / "docs" / "HDF5_SCHEMA.md").read_text(encoding="utf-8").splitlines()
    for name, columns in EVALUATION_TABLES.items():
        row = [line for line in doc if line.startswith(f"| `/evaluation/{name}` |")]
        assert len(row) == 1, f"/evaluation/{name} is not documented once"
        for column, _ in columns:
            assert f"`{column}`" in row[0], f"/evaluation/{name}: column {column} not in the schema"


# --- load() ------------------------------------------------------------------------------

def test_load_prepared(files):
    data = load(files / "prepared.h5")
    assert data.attrs["format"] == data.format == "reinforcer-prepared"
    assert data.attrs["format_version"] == 1 and isinstance(data.attrs["format_version"], int)
    assert data.attrs["missing_day"] == MISSING_DAY
    assert {"customers", "summary/splits", "quality/cells", "quality/examples", "quality/rejections",
            "quality/row_warnings", "quality/row_warning_examples"} <= set(data.tables)
    assert data.arrays == {}
    assert data.group_attrs["quality"]["customers"] == CUSTOMERS
    assert data.group_attrs["quality"]["export_date"] == "2022-04-28"
    c = data.tables["customers"]
    assert list(c.columns) == CUSTOMER_COLUMNS
    assert len(c) == CUSTOMERS
    for column in CUSTOMER_TEXT:
        assert c[column].dtype == object, column
        assert all(type(v) is str for v in c[column]), column
        assert not c[column].str.contains("\0").any(), column
    for column in ("id", "sheet_row"):
        assert c[column].dtype == np.int64, column
    for column in DAY_COLUMNS:
        assert c[column].dtype == np.int32, column
    assert c["id"].is_unique
    assert set(c["cohort"]) <= {"outbound", "inbound", "undated"}
    assert set(c["split"]) <= {"train", "val", "test", "none"}
    splits = data.tables["summary/splits"]
    row = splits[(splits["split"] == "all") & (splits["cohort"] == "all")]
    assert row["customers"].item() == CUSTOMERS
    assert row["subscribed"].item() == c["subscribed"].sum()


def test_load_run(files):
    data = load(files / "run.h5")
    assert data.format == "reinforcer-run"
    assert {"customers", "summary/splits", "actions", "states", "learning_curve", "model/hazards",
            "model/shrinkage"} <= set(data.tables)
    assert len(data.tables["customers"]) == CUSTOMERS
    states, actions = data.tables["states"], data.tables["actions"]
    assert len(actions) == 7 and actions["action"].tolist()[-1] == "wait"
    assert data.arrays["q/values"].shape == (len(states), 7)
    assert data.arrays["q/values"].dtype == np.float64
    assert data.arrays["q/visits"].shape == (len(states), 7)
    assert data.arrays["dp/values"].shape == (len(states), 1)
    assert set(states["learned_action"]) <= set(actions["action"])
    assert set(states["dp_action"]) <= set(actions["action"])
    assert data.tables["segments"]["description"].map(type).eq(str).all()
    assert len(data.tables["learning_curve"]) == 4  # 20,000 episodes, a sync every 5,000
    assert data.group_attrs["model"]["horizon_weeks"] > 0
    assert isinstance(data.attrs["dp_start_value"], float)
    assert data.attrs["fitting_customers"] == (data.tables["customers"]["cohort"] != "undated").sum()
    hazards = data.tables["model/hazards"]
    assert "subscribed" in set(hazards["event"])


def test_load_evaluated_like(evaluated):
    data = load(evaluated)
    assert data.format == "reinforcer-evaluated"
    for name, columns in EVALUATION_TABLES.items():
        df = data.tables[f"evaluation/{name}"]
        assert list(df.columns) == [c for c, _ in columns], name
        for column, dtype in columns:
            if dtype.startswith("S"):
                assert df[column].dtype == object and df[column].map(type).eq(str).all(), (name, column)
    assert data.tables["evaluation/descriptive/segments"]["education"].tolist() == ["", "B27"]
    assert data.tables["evaluation/descriptive/segments"]["note"].tolist() == ["", "fewer than 2 subscribers"]
    assert data.group_attrs["evaluation"] == {"folds": 5, "bootstrap": 200, "seed": 1, "split": "cv"}
    assert "customers" in data.tables and "q/values" in data.arrays  # everything in run.h5 too


def test_load_refuses_a_file_that_is_not_hdf5(files):
    with pytest.raises(ValueError, match="s.csv.*not an HDF5 file"):
        load(files / "s.csv")


def test_load_refuses_hdf5_without_format(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ValueError, match="other.h5.*format"):
        load(path)


def test_load_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        load(tmp_path / "nothing.h5")


def test_dates(files):
    c = load(files / "prepared.h5").tables["customers"]
    for column in DAY_COLUMNS:
        d = dates(c, column)
        assert pd.api.types.is_datetime64_any_dtype(d), column
        missing = c[column] == MISSING_DAY
        assert d[missing].isna().all() and d[~missing].notna().all(), column
    d = dates(c, "t0_day")
    dated = c["cohort"] != "undated"
    assert d[~dated].isna().all() and d[dated].notna().all()
    first = c.index[dated][0]
    assert d[first] == pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(c["t0_day"][first]))
    small = pd.DataFrame({"x_day": np.array([0, MISSING_DAY, 19110], dtype=np.int32)})
    assert dates(small, "x_day").tolist()[0] == pd.Timestamp("1970-01-01")
    assert pd.isna(dates(small, "x_day")[1])
    assert dates(small, "x_day")[2] == pd.Timestamp("2022-04-28")


# --- plots.py ----------------------------------------------------------------------------

def test_plots_of_a_run_file(files, tmp_path):
    p = plots(files / "run.h5", tmp_path)
    for name in [*CUSTOMER_PLOTS, "learning_curve.png"]:
        assert_png(tmp_path / name)
        assert name in p.stdout
    for name in EVALUATION_PLOTS:
        assert not (tmp_path / name).exists()
    assert "skipped action_impact" in p.stdout and "skipped calibration" in p.stdout


def test_plots_of_a_prepared_file_skip_the_learning_curve(files, tmp_path):
    p = plots(files / "prepared.h5", tmp_path)
    for name in CUSTOMER_PLOTS:
        assert_png(tmp_path / name)
    assert "skipped learning_curve" in p.stdout
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(CUSTOMER_PLOTS)


def test_plots_of_an_evaluated_like_file(evaluated, tmp_path):
    p = plots(evaluated, tmp_path / "out")  # creates the directory
    for name in [*CUSTOMER_PLOTS, "learning_curve.png", *EVALUATION_PLOTS]:
        assert_png(tmp_path / "out" / name)
    assert "skipped" not in p.stdout


def test_plots_refuses_a_file_that_is_not_hdf5(files, tmp_path):
    p = subprocess.run([sys.executable, str(PLOTS), str(files / "s.csv"), "-o", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode != 0
    assert "not an HDF5 file" in p.stderr


@pytest.mark.skipif(not Path(CRM_XLSX).is_file(), reason=f"the real CRM export is absent ({CRM_XLSX})")
def test_customer_plots_of_the_real_export(tmp_path):
    reinforcer("prepare", CRM_XLSX, "-o", tmp_path / "real.h5", "-q")
    plots(tmp_path / "real.h5", tmp_path / "png")
    for name in CUSTOMER_PLOTS:
        assert_png(tmp_path / "png" / name)


# --- what the figures show (drawn in this process; plots._save is wrapped to keep each figure) --

def draw(monkeypatch, h5, outdir):
    """Runs plots.main on h5; returns {file name: matplotlib Figure} of every figure written."""
    import plots
    figures = {}
    save = plots._save

    def keep(fig, out, name):
        figures[name] = fig
        return save(fig, out, name)

    monkeypatch.setattr(plots, "_save", keep)
    plots.main([str(h5), "-o", str(outdir)])
    for fig in figures.values():
        fig.canvas.draw()  # lays out the text, so its extents are known
    return figures


def value(v):
    """As the policies plot writes numbers: 3 significant digits, thousands as whole numbers."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:#.3g}".rstrip(".")


def words(name):
    return name.replace("_", " ").replace("+", " + ")


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def tick_texts(labels):
    return [t.get_text() for t in labels]


def assert_no_overlap(texts, what):
    """No two of the (drawn, non-empty) Text artists' boxes overlap."""
    boxes = [(t.get_text(), t.get_window_extent()) for t in texts if t.get_visible() and t.get_text().strip()]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            assert not box_a.overlaps(box_b), f"{what}: {a!r} overlaps {b!r}"


def assert_legible(fig, name):
    """Tick labels at 7 points or more, not overlapping one another, nor the panels' titles and
    axis labels overlapping one another."""
    titles = []
    for ax in visible_axes(fig):
        for labels in (ax.get_yticklabels(), ax.get_xticklabels()):
            assert all(t.get_fontsize() >= 7 for t in labels if t.get_text()), name
            assert_no_overlap(labels, name)
        titles += [ax.title, ax.xaxis.label, ax.yaxis.label]
    assert_no_overlap(titles, name)


@pytest.fixture(scope="module")
def tables(evaluated):
    return load(evaluated).tables


@pytest.fixture()
def figures(evaluated, tmp_path, monkeypatch):
    return draw(monkeypatch, evaluated, tmp_path)


def test_policies_draw_every_interval_as_error_bars(figures, tables):
    fig = figures["policies.png"]
    pol = tables["evaluation/policies"]
    axes = visible_axes(fig)
    assert len(axes) == len(POLICY_METRICS)
    for ax, metric in zip(axes, POLICY_METRICS):
        t = pol[pol["metric"] == metric].reset_index(drop=True)
        assert tick_texts(ax.get_yticklabels()) == [words(p) for p in POLICIES]
        assert words(metric.replace("_per_1000", " per 1,000 customers")) == ax.get_title()
        bars = [c for c in ax.containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
        assert len(bars) == 1, metric
        segments = bars[0].lines[2][0].get_segments()  # one horizontal segment per policy
        assert len(segments) == len(t)
        for seg, r in zip(segments, t.itertuples()):
            assert seg[0][0] == pytest.approx(r.low95) and seg[1][0] == pytest.approx(r.high95), (metric, r.policy)
        written = [x.get_text() for x in ax.texts]
        for r in t.itertuples():  # every estimate and interval is also written out
            assert f"{value(r.estimate)} [{value(r.low95)}, {value(r.high95)}]" in written, (metric, r.policy)
    assert "n = 2,900 customers" in fig._suptitle.get_text()
    assert "95% interval" in fig._suptitle.get_text()
    assert_legible(fig, "policies.png")


def test_action_impact_names_actions_and_stages_in_words(figures, tables, evaluated):
    fig = figures["action_impact.png"]
    ai = tables["evaluation/action_impact"]
    axes = visible_axes(fig)
    assert len(axes) == 4  # stage 'none' and the three commonest others
    customers = load(evaluated).tables["customers"]
    dated = (customers["cohort"] != "undated").sum()
    for ax in axes:
        assert tick_texts(ax.get_yticklabels()) == [words(a) for a in ACTIONS]
        title = ax.get_title()
        assert "_" not in title and "n = " in title and "dated customers at this stage" in title
        bars = [c for c in ax.containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
        assert len(bars) == 1 and len(bars[0].lines[2][0].get_segments()) == len(ACTIONS)
        assert "percentage points" in ax.get_xlabel()
    at_none = int(axes[0].get_title().split("n = ")[1].split()[0].replace(",", ""))
    assert 0 < at_none <= dated
    assert "reached: none" in axes[0].get_title()
    assert len(ai["progress"].unique()) == 32
    assert "n = " in fig._suptitle.get_text()
    assert_legible(fig, "action_impact.png")


def test_calibration_says_what_is_observed_and_predicted(figures, tables):
    fig = figures["calibration.png"]
    cal = tables["evaluation/calibration"]
    axes = visible_axes(fig)
    assert len(axes) == 3
    for ax, cohort in zip(axes, ["all", "outbound", "inbound"]):
        t = cal[cal["cohort"] == cohort]
        assert "observed" in ax.get_xlabel() and "predicted" in ax.get_xlabel()
        labels = tick_texts(ax.get_yticklabels())
        assert len(labels) == len(EVENTS)
        for label, r in zip(labels, t.itertuples()):
            assert label.startswith(words(r.event)), label
            assert f"observed {r.observed:,}" in label and f"predicted {r.expected:.1f}" in label, label
            assert f"n = {r.customers:,} at risk" in label, label
        bars = [c for c in ax.containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
        assert len(bars) == (t["expected"] > 0).sum()
        written = [x.get_text() for x in ax.texts]
        for r in t[t["expected"] > 0].itertuples():
            assert f"{r.o_e:.2f} [{r.o_e_low95:.2f}, {r.o_e_high95:.2f}]" in written
        assert "customers at risk" in ax.get_title() and "n = " in ax.get_title()
        assert all(x.get_text().replace(".", "").isdigit() for x in ax.get_xticklabels() if x.get_text()), \
            "log-axis ticks as plain numbers"
    assert_legible(fig, "calibration.png")


def test_education_bars_are_labelled_with_their_n(figures, evaluated):
    fig = figures["customers_subscribers_by_education.png"]
    (ax,) = visible_axes(fig)
    c = load(evaluated).tables["customers"]
    c = c[c["cohort"] != "undated"]
    education = c["education"].replace("", "unknown")
    labels = tick_texts(ax.get_yticklabels())
    assert sorted(labels) == sorted(education.unique())
    assert labels[-1] != "unknown" or len(labels) == 1  # B1 ... on top, 'unknown' at the bottom
    written = {x.get_text().split(" of ")[1].split(" (")[0] for x in ax.texts}
    assert written == {f"{n:,}" for n in education.value_counts()}, "every bar states its customers"
    assert len(ax.texts) == len(labels)
    assert f"n = {len(c):,} dated customers" in ax.get_title()
    assert_legible(fig, "customers_subscribers_by_education.png")


def test_learning_curve_marks_and_counts_its_points(files, tmp_path, monkeypatch):
    fig = draw(monkeypatch, files / "run.h5", tmp_path)["learning_curve.png"]
    lc = load(files / "run.h5").tables["learning_curve"]
    reward, regret = visible_axes(fig)
    line = reward.get_lines()[0]
    assert len(line.get_xdata()) == len(lc) == 4
    assert line.get_marker() not in (None, "", "None") and line.get_markersize() >= 5
    assert "4 points, one per sync round of 5,000 episodes per worker" in fig._suptitle.get_text()
    note = " ".join(t.get_text() for t in fig.texts)
    assert "Only 4 points" in note and "--sync-every" in note
    assert sum("\u03b5 = " in t.get_text() for t in reward.texts) == 4
    assert len(regret.get_lines()[0].get_xdata()) == lc["regret"].notna().sum()
