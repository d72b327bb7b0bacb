"""evaluate, report and recommend end to end: the tables, the report's contents, the call
list's exclusions, and bad input."""
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import synth_prepared, CRM_XLSX, SOURCE_DIR, requires_real_export, run, unseal

sys.path.insert(0, str(SOURCE_DIR / "analysis"))
import reinforcer_analysis  # noqa: E402


EVENTS = ["first_call", "demo", "survey", "platform_signup", "account_manager", "subscribed"]
CALIBRATION_COLUMNS = ["cohort", "event", "customers", "expected", "observed", "o_e", "o_e_low95", "o_e_high95", "verdict"]
MISSING_DAY = reinforcer_analysis.MISSING_DAY
DEMO_SURVEY_RECORDED_FROM = int(np.datetime64("2021-08-31", "D").astype(np.int64))  # days since 1970-01-01


def at_risk_after_t0(customers, event):
    """Held-out customers at risk of `event` after t0, by the rule of docs/EVALUATION.md,
    computed here from the customer table alone."""
    def dated_by_t0(column):
        day = customers[f"{column}_day"]
        return (day != MISSING_DAY) & (day <= customers["t0_day"])
    risk = ~dated_by_t0("subscribed")  # subscribed on or before t0: no prospect
    if event != "subscribed":
        risk &= ~dated_by_t0(event)  # held at t0: cannot happen again
    if event in ("demo", "survey"):
        risk &= customers["t0_day"] >= DEMO_SURVEY_RECORDED_FROM
    return risk


def check_calibration_rows(cal):
    """The O/E arithmetic, interval and verdict of every calibration row."""
    assert cal["observed"].dtype.kind == "i"
    assert (cal["observed"] <= cal["customers"]).all()
    with_e = cal[cal["expected"] > 0]
    assert np.allclose(with_e["o_e"], with_e["observed"] / with_e["expected"])
    assert ((with_e["o_e_low95"] <= with_e["o_e"]) & (with_e["o_e"] <= with_e["o_e_high95"])).all()
    assert (with_e.loc[with_e["observed"] == 0, "o_e_low95"] == 0).all()
    for r in cal.itertuples():
        if r.expected < 10:
            assert r.verdict == "few events (E < 10)", r
        elif r.o_e_low95 > 1:
            assert r.verdict == "miscalibrated (under-predicts)", r
        elif r.o_e_high95 < 1:
            assert r.verdict == "miscalibrated (over-predicts)", r
        else:
            assert r.verdict == "consistent", r


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    d = tmp_path_factory.mktemp("evaluate")
    synth_prepared(d, 4000, 8, "--folds", 3)
    run("train", d / "p.h5", "-o", d / "run.h5", "--episodes", 20000, "--progress", "none", "--refits", 0, check=True)
    p = run("evaluate", d / "run.h5", "-o", d / "e.h5", "--bootstrap", 20, "--threads", 2, check=True)
    assert "customers scored out of fold in 3 folds" in p.stdout
    return d


def test_evaluated_file_has_every_table_with_its_intervals(evaluated):
    data = reinforcer_analysis.load(evaluated / "e.h5")
    assert data.attrs["format"] == "reinforcer-evaluated"
    assert data.group_attrs["evaluation"]["folds"] == 3
    t = data.tables
    customers = t["customers"]
    dated = customers[customers["cohort"] != "undated"]
    assert len(t["evaluation/scores"]) == len(dated)
    assert set(t["evaluation/scores"]["fold"]) == {0, 1, 2}
    tg = t["evaluation/targeting"]
    assert set(tg["scorer"]) == {"status_quo", "call_list", "segment_rate", "cohort_rate", "random"}
    assert {"auc", "auc_fold", "lift@20", "captured@20"} <= set(tg["metric"])
    # cohort_rate is constant within each (fold, cohort): within a cohort its fold-stratified
    # AUC is exactly 0.5, where pooling the folds' scores is not.
    for cohort in ("outbound", "inbound"):
        r = tg[(tg.scorer == "cohort_rate") & (tg.cohort == cohort) & (tg.metric == "auc_fold")].iloc[0]
        assert abs(r.estimate - 0.5) < 1e-12 and r.folds == 3, r
    td = t["evaluation/targeting_differences"]
    assert set(td["scorer"]) == {"status_quo", "call_list"} and set(td["baseline"]) == {"segment_rate", "cohort_rate", "random"}
    both = td.merge(tg, left_on=["scorer", "cohort", "metric"], right_on=["scorer", "cohort", "metric"])
    base = tg.rename(columns={"scorer": "baseline", "estimate": "base_estimate"})[["baseline", "cohort", "metric", "base_estimate"]]
    both = both.merge(base, on=["baseline", "cohort", "metric"])
    assert np.allclose(both["difference"], both["estimate"] - both["base_estimate"], equal_nan=True)
    assert (tg["low95"] <= tg["high95"]).all()
    pol = t["evaluation/policies"]
    assert set(pol["policy"]) == {"learned", "optimal", "random", "always_wait", "always_message", "textbook", "historical"}
    opt = pol[(pol.policy == "optimal") & (pol.metric == "reward_per_customer")].iloc[0]
    for name in ("random", "always_message", "textbook", "learned"):
        other = pol[(pol.policy == name) & (pol.metric == "reward_per_customer")].iloc[0]
        assert opt.estimate >= other.estimate - 1e-9, name  # the optimum is optimal
    # The historical process is waiting with no success and no known cost: always-wait's outcomes.
    hist = pol[pol.policy == "historical"].set_index("metric")
    wait = pol[pol.policy == "always_wait"].set_index("metric")
    for metric in ("subscriptions_per_1000", "first_calls_per_1000", "reward_per_customer"):
        assert hist.loc[metric, "estimate"] == wait.loc[metric, "estimate"], metric
        assert hist.loc[metric, "low95"] == wait.loc[metric, "low95"], metric
    assert np.isnan(hist.loc["cost_per_acquisition", "estimate"])
    assert len(t["evaluation/calibration"]) == 18  # 3 cohorts x 6 events
    assert list(t["evaluation/calibration"].columns) == CALIBRATION_COLUMNS
    assert len(t["evaluation/sensitivity"]) == 12  # the 3 success scales x 4 reward scales
    assert len(t["evaluation/descriptive/segments"]) > 0
    assert t["evaluation/lift_curve"]["captured"].between(0, 1).all()
    mix = t["evaluation/action_mix"]
    assert mix["share"].sum() == pytest.approx(1.0)  # every week of the optimal policy, once
    assert (mix["share"] > 0).all() and set(mix["action"]) <= set(t["actions"]["action"])
    assert ((mix["low95"] <= mix["share"]) & (mix["share"] <= mix["high95"])).all()
    assert (mix["high95"] > mix["low95"]).any()  # the refits do move it


def test_calibration_counts_only_events_after_t0(evaluated):
    data = reinforcer_analysis.load(evaluated / "e.h5")
    cal = data.tables["evaluation/calibration"].set_index(["cohort", "event"])
    customers = data.tables["customers"]
    held_out = customers[customers["id"].isin(data.tables["evaluation/scores"]["id"])]
    check_calibration_rows(cal.reset_index())
    inbound = held_out[held_out["cohort"] == "inbound"]
    # Every inbound customer holds a milestone at t0 (t0 is its earliest step), so for some
    # milestone fewer inbound customers are at risk than there are inbound customers.
    assert len(inbound) > 0
    assert min(cal.loc[("inbound", e), "customers"] for e in EVENTS[:5]) < len(inbound)
    # Exactly the customers the rule names are at risk, per cohort and event.
    for cohort in ("all", "outbound", "inbound"):
        group = held_out if cohort == "all" else held_out[held_out["cohort"] == cohort]
        for event in EVENTS:
            assert cal.loc[(cohort, event), "customers"] == at_risk_after_t0(group, event).sum(), (cohort, event)
    # The cohorts add up to "all".
    for event in EVENTS:
        for column in ("customers", "observed"):
            assert cal.loc[("all", event), column] == (cal.loc[("outbound", event), column] +
                                                       cal.loc[("inbound", event), column])
        assert cal.loc[("all", event), "expected"] == pytest.approx(cal.loc[("outbound", event), "expected"] +
                                                                    cal.loc[("inbound", event), "expected"])


NEGATIVE_STAGES = {"not interested", "declined/canceled call", "did not join the call"}
SECTIONS = ["act", "beyond capacity", "wait", "negative stage", "stale"]


def check_call_list(path, customers):
    """The call list's rules, from the evaluated file and the customer table alone."""
    calls = reinforcer_analysis.load(path).tables["evaluation/call_list"]
    customers = customers.set_index("id")
    assert len(calls) > 0
    listed = customers.loc[calls["id"]]
    assert (listed["subscribed"] == 0).all()  # so none subscribed on or before t0 either
    assert (listed["stage"] != "do not contact").all() and (listed["cohort"] != "undated").all()
    # Every row's point estimate lies inside its interval.
    assert ((calls["low95"] <= calls["p_subscribe"]) & (calls["p_subscribe"] <= calls["high95"])).all()
    # Scored at the export date: weeks since t0, the band's week, milestones reached by then.
    export_day = int(np.datetime64(reinforcer_analysis.load(path).group_attrs["evaluation"]["export_date"], "D").astype(np.int64))
    weeks = (export_day - listed["t0_day"].to_numpy()) // 7
    assert (calls["weeks_since_t0"].to_numpy() == weeks).all()
    assert (calls["scored_week"] == np.minimum(calls["weeks_since_t0"], 52)).all()
    bands = np.searchsorted([4, 13, 26, 52], calls["weeks_since_t0"].to_numpy(), side="right")
    assert (calls["band"].to_numpy() == bands).all()
    steps = ["first_call", "demo", "survey", "platform_signup", "account_manager"]
    progress = np.zeros(len(calls), dtype=int)
    for bit, m in enumerate(steps):
        day = listed[f"{m}_day"].to_numpy()
        progress |= ((day != MISSING_DAY) & (day <= export_day)).astype(int) << bit
    assert (calls["progress"].to_numpy() == progress).all()
    # Sections.
    neg = calls["stage"].isin(NEGATIVE_STAGES).to_numpy()
    assert (calls.loc[neg, "section"] == "negative stage").all()
    rest = calls[~neg]
    assert ((rest["section"] == "act") == ((rest["next_action"] != "wait") & (rest["section"] != "stale"))).all()
    return calls


def test_call_list_is_scored_at_the_export_date(evaluated, tmp_path):
    customers = reinforcer_analysis.load(evaluated / "e.h5").tables["customers"]
    calls = check_call_list(evaluated / "e.h5", customers)
    # With 10 refits too, every point estimate lies inside its interval.
    run("evaluate", evaluated / "run.h5", "-o", tmp_path / "e10.h5", "--bootstrap", 10, check=True)
    check_call_list(tmp_path / "e10.h5", customers)
    with h5py.File(tmp_path / "e10.h5", "r") as f:
        assert f["evaluation/call_list_refits/p_subscribe"].shape == (len(calls), 10)


def test_recommend_sections_capacity_and_rank_stability(evaluated, tmp_path):
    calls = reinforcer_analysis.load(evaluated / "e.h5").tables["evaluation/call_list"]
    p = run("recommend", evaluated / "e.h5", "-o", tmp_path / "calls.csv", check=True)
    assert "open leads have an action that pays" in p.stdout
    csv = pd.read_csv(tmp_path / "calls.csv")
    assert len(csv) == len(calls) and set(csv["id"]) == set(calls["id"])
    order = [SECTIONS.index(x) for x in csv["section"]]
    assert order == sorted(order)  # act, beyond capacity, wait, negative stage, stale
    assert not (csv.head(100)["section"] == "negative stage").any() or (csv["section"].isin(["act", "wait"]).sum() < 100)
    for section, group in csv.groupby("section"):
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        key = group["gain_per_cost"] if section == "act" else group["p_subscribe"]
        assert list(key) == sorted(key, reverse=True), section
    assert csv["top_share"].between(0, 1).all()
    run("recommend", evaluated / "e.h5", "-o", tmp_path / "cap.csv", "--capacity", 2, "--top", 30,
        "--rank-by", "probability", check=True)
    cap = pd.read_csv(tmp_path / "cap.csv")
    assert len(cap) == 30 and (cap["section"] == "act").sum() <= 2
    acting = csv[csv["section"] == "act"]
    if len(acting) > 2:
        assert (cap["section"] == "beyond capacity").sum() == min(len(acting) - 2, 28)


def test_recommend_xlsx_is_a_working_sheet(evaluated, tmp_path):
    import openpyxl  # python3-openpyxl (scripts/install-deps.sh): the sheet is checked as users open it
    run("recommend", evaluated / "e.h5", "-o", tmp_path / "calls.xlsx", "--top", 50, check=True)
    wb = openpyxl.load_workbook(tmp_path / "calls.xlsx")
    assert wb.sheetnames == ["Call list", "About"]
    ws = wb["Call list"]
    header = [c.value for c in ws[1]]
    assert {"country", "education", "p_subscribe", "low95", "high95", "next_action", "break_even_success"} <= set(header)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1")
    for name in ("p_subscribe", "low95", "high95", "top_share"):
        col = header.index(name) + 1
        assert "%" in ws.cell(row=2, column=col).number_format, name
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width for i in range(len(header))]
    assert all(w and w >= len(h) for w, h in zip(widths, header))
    about = [r[0].value for r in wb["About"].iter_rows()]
    assert set(header) <= set(about) and "Assumptions" in about


def test_recommend_bad_input(evaluated, tmp_path):
    out = tmp_path / "c.csv"
    for args, message in ((["--capacity", 0], "--capacity"), (["--top", -1], "--top"),
                          (["--rank-by", "luck"], "--rank-by: 'luck' is not gain or probability")):
        p = run("recommend", evaluated / "e.h5", "-o", out, *args)
        assert p.returncode == 2 and message in p.stderr, p.stderr
    p = run("recommend", evaluated / "run.h5", "-o", out)
    assert p.returncode == 3 and "is not a reinforcer-evaluated file" in p.stderr
    broken = tmp_path / "no-list.h5"
    broken.write_bytes((evaluated / "e.h5").read_bytes())
    with h5py.File(broken, "r+") as f:
        del f["evaluation/call_list"]
    unseal(broken)
    p = run("recommend", broken, "-o", out)
    assert p.returncode == 3 and "no call list" in p.stderr, p.stderr
    assert not out.exists()


def test_report_in_text_markdown_and_csv(evaluated, tmp_path):
    text = run("report", evaluated / "e.h5", check=True).stdout
    for section in ("Base rates", "Whom to contact", "Which actions pay", "Best actions by stage",
                    "How far to trust the simulator", "Call list"):
        assert section in text
    assert "AUC within folds" in text and "[" in text and "paired difference" in text
    # The whole calibration table, after a line saying what it is; no Wilson verdict line.
    trust = text[text.index("How far to trust the simulator"):text.index("Call list")]
    assert "held-out customers (3-fold cross-validation)" in trust and "only events after t0 count" in trust
    assert "historical process" in trust
    table = [line.split() for line in trust.splitlines() if line.split()[:1] in (["all"], ["outbound"], ["inbound"])]
    assert {(r[0], r[1]) for r in table} == {(c, e) for c in ("all", "outbound", "inbound") for e in EVENTS}
    assert "Wilson" not in trust  # O/E with exact Poisson intervals, not a prediction inside a Wilson interval
    md = run("report", evaluated / "e.h5", "--format", "markdown", "-o", tmp_path / "r.md", check=True)
    assert (tmp_path / "r.md").read_text().startswith("# SalesReinforcer report")
    (tmp_path / "csv").mkdir()
    run("report", evaluated / "e.h5", "--format", "csv", "-o", tmp_path / "csv", check=True)
    assert (tmp_path / "csv" / "targeting.csv").exists() and (tmp_path / "csv" / "segments.csv").exists()
    assert "wrote" in md.stdout


def test_segments_recommend_only_known_segments_with_two_subscribers(evaluated):
    """Ranked exactly when the note is empty; unknown country or education never ranked; the
    report's recommended table has no unknown segment, which is listed apart after a note."""
    seg = reinforcer_analysis.load(evaluated / "e.h5").tables["evaluation/descriptive/segments"]
    unknown = (seg["country"] == "unknown") | (seg["education"] == "unknown")
    assert ((seg["rank"] > 0) == (seg["note"] == "")).all()
    assert (seg.loc[unknown, "note"] == "unknown country/education (data quality)").all()
    known = seg[~unknown]
    assert (known.loc[known["customers"] < 30, "note"] == "too small").all()
    assert (known.loc[(known["customers"] >= 30) & (known["subscribers"] < 2), "note"] == "fewer than 2 subscribers").all()
    assert (seg.loc[seg["rank"] > 0, "subscribers"] >= 2).all()
    text = run("report", evaluated / "e.h5", check=True).stdout
    section = text[text.index("Segments worth contacting"):text.index("Which actions pay: break-even answers")]
    shown = seg[seg["grouping"].isin(["country x education", "country"]) & seg["cohort"].isin(["outbound", "inbound"])]
    recommended = section.split("Data quality:")[0]
    table = [line for line in recommended.splitlines() if line.startswith(("country ", "country x education "))]
    ranked = shown[shown["rank"] > 0].groupby(["grouping", "cohort"]).size()
    assert len(table) == sum(min(5, n) for n in ranked)
    assert not any("unknown" in line for line in table)
    if unknown[shown.index].any():
        assert "Data quality:" in section
        apart = section.split("Data quality:")[1]
        assert "unknown" in apart
    md = run("report", evaluated / "e.h5", "--format", "markdown", check=True).stdout
    md_section = md[md.index("Segments worth contacting"):md.index("Which actions pay: break-even answers")]
    for line in md_section.splitlines():
        if line.startswith("Data quality:") or line.startswith("Recommended:"):
            assert "|" not in line
    # A note after a table needs a blank line before it, or Markdown reads it as a table row.
    lines = md_section.splitlines()
    for i, line in enumerate(lines[1:], 1):
        if line.startswith("Data quality:"):
            assert lines[i - 1] == ""


def check_break_even_section(h5_path, text):
    """The report leads its action section with the break-even table and the flip points, its
    grids span the break-evens they are read against, 'at least' never rounds up, and no
    conclusion is said to 'survive'."""
    be = pd.DataFrame(h5py.File(h5_path, "r")["evaluation/break_even"][()])
    share = pd.DataFrame(h5py.File(h5_path, "r")["evaluation/action_share"][()])
    for df in (be, share):
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = df[c].str.decode("utf-8")
    head = text.index("Which actions pay: break-even answers")
    assert head < text.index("Which actions pay: policies") < text.index("Best actions by stage")
    section = text[head:text.index("Which actions pay: policies")]
    assert "survive" not in text
    # The break-even arithmetic: s* = cost / G, and "pays" exactly when the assumed chance is above it.
    costs = {"message": 1, "call": 5, "demo": 10, "survey": 2, "signup": 3, "account_manager": 20}
    with_gain = be[be["gain_per_success"] > 0]
    assert np.allclose(with_gain["break_even_success"], with_gain["action"].map(costs) / with_gain["gain_per_success"])
    shown = be[be["customers"] >= 20]
    for r in shown.itertuples():
        assert f"{r.cohort}" in section and r.action in section
    # Each grid spans the finite break-evens of the stages shown (and the reward grid the reward).
    finite_s = shown.loc[shown["break_even_success"] <= 1, "break_even_success"]
    success = share[share["axis"] == "success"]["value"]
    if len(finite_s):
        assert success.min() <= finite_s.min() and success.max() >= min(1.0, finite_s.max())
    finite_r = shown.loc[np.isfinite(shown["break_even_reward"]), "break_even_reward"]
    reward = share[share["axis"] == "reward"]["value"]
    assert reward.min() <= min(100.0, finite_r.min() if len(finite_r) else 100.0)
    assert reward.max() >= max(100.0, finite_r.max() if len(finite_r) else 100.0)
    # "at least X%": X never above the value it bounds.
    import re
    for cohort in ("outbound", "inbound"):
        top = share[share["axis"] == "reward"]
        top = top[top["cohort"] == cohort]
        if top.empty:
            continue
        printed = re.findall(rf"at the top it acts for ([0-9.]+)% of the [0-9,]+ {cohort}", section)
        assert printed and float(printed[-1]) <= 100 * top.sort_values("value")["share_acting"].iloc[-1] + 1e-9


def test_report_leads_actions_with_break_even_answers(evaluated):
    text = run("report", evaluated / "e.h5", check=True).stdout
    check_break_even_section(evaluated / "e.h5", text)


def test_plots_from_an_evaluated_file(evaluated, tmp_path):
    p = subprocess.run([sys.executable if sys.executable.startswith("/usr/bin") else "/usr/bin/python3",
                        str(SOURCE_DIR / "analysis" / "plots.py"), str(evaluated / "e.h5"), "-o", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    for name in ("lift_curve.png", "policies.png", "calibration.png", "action_impact.png", "learning_curve.png"):
        png = tmp_path / name
        assert png.exists() and png.stat().st_size > 1000, name


def test_bad_input(evaluated, tmp_path):
    broken = tmp_path / "missing.h5"
    broken.write_bytes((evaluated / "e.h5").read_bytes())
    with h5py.File(broken, "r+") as f:
        del f["evaluation/targeting"]
    unseal(broken)
    p = run("report", broken)
    assert p.returncode == 3 and "has no table 'targeting'" in p.stderr
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes((evaluated / "e.h5").read_bytes()[:4096])
    p = run("report", truncated)
    assert p.returncode == 3, p.stderr
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    assert run("evaluate", text, "-o", tmp_path / "x.h5").returncode == 3
    p = run("evaluate", evaluated / "run.h5", "-o", tmp_path / "x.h5", "--split", "holdout")
    assert p.returncode == 2 and "--split: 'holdout' is not cv, val or test" in p.stderr
    # A run file alone is reported as its learned-policy section; a prepared file is refused.
    p = run("report", evaluated / "run.h5")
    assert p.returncode == 0 and "Learned policies against the DP optimum" in p.stdout, p.stderr
    assert "no refits" in p.stdout and "nan" not in p.stdout
    p = run("report", evaluated / "p.h5")
    assert p.returncode == 3 and "is not a file report reads (its format attribute is 'reinforcer-prepared')" in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_scratch_dir_holds_the_refit_scores_elsewhere(evaluated, tmp_path):
    # The refits' scores wait in --scratch-dir instead of the output's directory: the same
    # evaluated file, nothing left behind; a missing directory is refused before any work.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    p = run("evaluate", evaluated / "run.h5", "-o", tmp_path / "e.h5", "--bootstrap", 20, "--threads", 2,
            "--scratch-dir", scratch, "--progress", "none")
    assert p.returncode == 0, p.stderr
    assert list(scratch.iterdir()) == [] and sorted(x.name for x in tmp_path.iterdir()) == ["e.h5", "scratch"]
    def same(x, y):  # field by field: NaN equals NaN, variable-length text compares as text
        if x.dtype.names is None:
            return np.array_equal(x, y, equal_nan=True)
        return all(np.array_equal(x[f], y[f], equal_nan=x[f].dtype.kind == "f") for f in x.dtype.names)
    with h5py.File(evaluated / "e.h5", "r") as a, h5py.File(tmp_path / "e.h5", "r") as b:
        for name in ["call_list", "call_list_refits/p_subscribe", "call_list_refits/gain", "policies", "scores"]:
            assert same(a["evaluation"][name][()], b["evaluation"][name][()]), name
    p = run("evaluate", evaluated / "run.h5", "-o", tmp_path / "x.h5", "--bootstrap", 20,
            "--scratch-dir", tmp_path / "no-such-dir", "--progress", "none")
    assert p.returncode == 4, p.stderr
    assert "cannot create a scratch file in " + str(tmp_path / "no-such-dir") in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_more_folds_than_subscribers_is_refused(tmp_path):
    run("synth", "-n", 2500, "--seed", 3, "-o", tmp_path / "s.csv", check=True)
    run("prepare", tmp_path / "s.csv", "-o", tmp_path / "p.h5", "-q", "--folds", 40, check=True)
    with h5py.File(tmp_path / "p.h5", "r") as f:
        c = f["customers"][()]
        subscribers = int(((c["subscribed"] == 1) & (c["cohort"] != b"undated")).sum())
    assert subscribers < 40
    run("train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", "--episodes", 2000, "--progress", "none", "--refits", 0, check=True)
    p = run("evaluate", tmp_path / "run.h5", "-o", tmp_path / "e.h5", "--bootstrap", 10)
    assert p.returncode == 3  # the prepared data lack subscribers for the folds: bad input
    assert f"({subscribers} held-out subscribers for 40 folds)" in p.stderr
    assert f"prepare again with --folds {subscribers} or fewer" in p.stderr


@pytest.fixture(scope="module")
def real_evaluated(tmp_path_factory):
    """The real export prepared, trained at the defaults (no refits: nothing here reads them)
    and evaluated once for the tests below."""
    d = tmp_path_factory.mktemp("real")
    run("prepare", CRM_XLSX, "-o", d / "p.h5", "-q", check=True)
    run("train", d / "p.h5", "-o", d / "run.h5", "--progress", "none", "--refits", 0, check=True)
    run("evaluate", d / "run.h5", "-o", d / "e.h5", "--bootstrap", 40, "--threads", 2, check=True)
    return d


@requires_real_export
def test_real_export_evaluation(real_evaluated, tmp_path):
    data = reinforcer_analysis.load(real_evaluated / "e.h5")
    customers = data.tables["customers"].set_index("id")
    calls = data.tables["evaluation/call_list"]
    # Every subscriber and every "do not contact" customer of the real file is excluded.
    subscribers = set(customers.index[customers["subscribed"] == 1])
    do_not_contact = set(customers.index[customers["stage"] == "do not contact"])
    assert len(subscribers) == 50 and len(do_not_contact) == 28
    assert not (set(calls["id"]) & (subscribers | do_not_contact))
    # The customer subscribed on or before t0 (CONTRACT.md: 1, outbound) is no prospect: not targeted.
    sub_day, t0 = customers["subscribed_day"], customers["t0_day"]
    no_prospect = set(customers.index[(sub_day != MISSING_DAY) & (sub_day <= t0) & (t0 != MISSING_DAY)])
    assert len(no_prospect) == 1
    assert not (no_prospect & set(data.tables["evaluation/scores"]["id"]))
    report = run("report", real_evaluated / "e.h5", check=True).stdout
    assert "outbound  10316      23" in report and "inbound   281        27" in report
    for scorer in ("status_quo", "call_list", "segment_rate", "cohort_rate", "random"):
        assert f"all       {scorer}" in report
    assert "learned - random" in report and "learned - historical" in report
    check_break_even_section(real_evaluated / "e.h5", report)
    # The targeting score, out of fold and fold-stratified (issue: >= 0.85 overall, >= 0.72
    # within outbound), not wholly below the shrunk segment-rate baseline in any cohort.
    tg = data.tables["evaluation/targeting"].set_index(["scorer", "cohort", "metric"])
    assert tg.loc[("status_quo", "all", "auc_fold"), "estimate"] >= 0.85
    assert tg.loc[("status_quo", "outbound", "auc_fold"), "estimate"] >= 0.72
    td = data.tables["evaluation/targeting_differences"].set_index(["scorer", "baseline", "cohort", "metric"])
    for cohort in ("all", "outbound", "inbound"):
        assert td.loc[("status_quo", "segment_rate", cohort, "auc_fold"), "high95"] >= 0, cohort
        assert f"{cohort:<10}status_quo - segment_rate" in report
    assert "AUC within folds" in report
    # The call list: its rules, a top 100 without negative-stage leads, and the one-line answer.
    check_call_list(real_evaluated / "e.h5", data.tables["customers"])
    run("recommend", real_evaluated / "e.h5", "-o", tmp_path / "calls.csv", "--top", 100, check=True)
    top = pd.read_csv(tmp_path / "calls.csv")
    assert len(top) == 100 and not (top["section"] == "negative stage").any()
    assert ((top["next_action"] != "wait") == (top["section"] == "act")).all()
    assert "An action pays for " in report and "at the break-even" in report


@requires_real_export
def test_real_export_calibration_contains_one(real_evaluated):
    """The simulator's acceptance on the real export: held-out observed/expected events per
    cohort and event (5 folds, historical process, only events after t0); every row with
    E >= 10 must have an exact 95% interval that contains 1 (it depends on neither the learned
    policy nor the refits)."""
    data = reinforcer_analysis.load(real_evaluated / "e.h5")
    assert data.group_attrs["evaluation"]["folds"] == 5
    cal = data.tables["evaluation/calibration"]
    assert len(cal) == 18
    check_calibration_rows(cal)
    # At risk of subscribing: the 10,597 dated customers but the 1 (outbound) who subscribed on
    # or before t0 (CONTRACT.md).
    at_risk = cal[cal["event"] == "subscribed"].set_index("cohort")["customers"]
    assert dict(at_risk) == {"all": 10596, "outbound": 10315, "inbound": 281}
    judged = cal[cal["expected"] >= 10]
    assert len(judged) > 0
    outside = judged[(judged["o_e_low95"] > 1) | (judged["o_e_high95"] < 1)]
    assert outside.empty, "O/E interval excludes 1:\n" + outside.to_string(index=False)
