"""Plots of a reinforcer HDF5 file (prepared.h5, run.h5, evaluated.h5, sweep.h5 or selection.h5), as PNG files.

    /usr/bin/python3 analysis/plots.py FILE.h5 -o OUTDIR
    /usr/bin/python3 analysis/plots.py sweep.h5 [--x omega --y alpha] -o OUTDIR

Writes a figure for each table the file contains, prints the path of every file written,
and prints a note for each figure skipped because its table is absent. Every figure states
its n (customers) and draws the 95% intervals the table has.

| file | from | shows |
|---|---|---|
| customers_subscribers_by_country.png | /customers | subscribers of the top 15 countries (dated customers) |
| customers_subscribers_by_education.png | /customers | subscribers by education (dated customers) |
| customers_high_value_country_education.png | /customers | high-value customers (subscribed, or reached an account manager): top countries x educations |
| learning_curve.png | /learning_curve | mean reward and regret to the DP optimum per sync round (one point each, the number stated; with few points, each one's exploration and how to get more), with the DP, learned and random start values |
| action_impact.png | /evaluation/action_impact | change in P(subscribe) of each action vs waiting, with its 95% interval and sensitivity range, for progress 0 and the three commonest other progress states (n customers at each) |
| policies.png | /evaluation/policies | every policy with its 95% interval (drawn, and written out), one panel per metric |
| lift_curve.png | /evaluation/lift_curve | share of subscribers captured vs share contacted, per scorer (cohort all) |
| calibration.png | /evaluation/calibration | observed / predicted (expected) events (O/E) per event with its exact 95% interval, O, E and n at risk, and a line at 1, one panel per cohort |
| sweep_heatmap_X_Y.png | sweep.h5 /trials | the sweep's objective (merge --objective) over two varied parameters, --x and --y (default: the first two); over the other varied parameters each cell holds the best value, and names its trial; cells with no complete trial are hatched and say why (failed, missing, not sampled); the best trial is boxed |
| sweep_regret_vs_wall_time.png | sweep.h5 /trials | regret to the DP optimum against wall time, one point per complete trial, the best trial marked; failed trials (grouped by their error) and missing ones in a footnote |

A selection.h5 (select-features) gets the figures of analysis/selection_plots.py: the Shapley
values with their intervals and the best subsets' scores. A sweep.h5 gets only the two sweep figures; --x or --y must name a varied parameter of its
grid (anything else, or the same for both, is an error naming the varied parameters).

Each plot_* function takes the loaded file (reinforcer_analysis.H5Data; a
reinforcer_analysis.Sweep for plot_sweep_*) and the output directory and returns the Path it
wrote, or raises Skip(reason). main(argv) returns the
list of Paths written.
"""
import argparse
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reinforcer_analysis import MISSING_DAY, SWEEP_FORMAT, load, load_sweep  # noqa: E402
import selection_plots  # noqa: E402

# Progress bit mask of the funnel state (docs/HDF5_SCHEMA.md, /states): bit i = milestone i reached.
MILESTONE_DAYS = ["first_call_day", "demo_day", "survey_day", "platform_signup_day", "account_manager_day"]
TOP_COUNTRIES = 15


Skip = selection_plots.Skip  # a figure that cannot be drawn from this file (its table is absent or empty)


def _n(k):
    return f"{int(k):,}"


def _pretty(name):
    """A table's identifier as words: 'always_wait' -> 'always wait',
    'first_call+platform_signup' -> 'first call + platform signup'."""
    return str(name).replace("_", " ").replace("+", " + ")


def _wrap(text, width):
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def _need(data, path):
    df = data.table(path)
    if df is None:
        raise Skip(f"no /{path} table")
    if df.empty:
        raise Skip(f"/{path} is empty")
    return df


def _save(fig, outdir, name):
    path = Path(outdir) / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _err(est, low, high):
    """Asymmetric error bar lengths (never negative) from an estimate and its interval."""
    est, low, high = (np.asarray(x, dtype=float) for x in (est, low, high))
    return np.vstack([np.clip(est - low, 0, None), np.clip(high - est, 0, None)])


def _dated_customers(data):
    c = _need(data, "customers")
    c = c[c["cohort"] != "undated"]
    if c.empty:
        raise Skip("no dated customers")
    return c


def _education_order(values):
    """B1, B2, ..., B30 in numeric order, then anything else, 'unknown' last."""
    def key(v):
        if v == "unknown":
            return (2, 0, v)
        if v[:1] == "B" and v[1:].isdigit():
            return (0, int(v[1:]), v)
        return (1, 0, v)
    return sorted(values, key=key)


def plot_subscribers_by_country(data, outdir):
    c = _dated_customers(data)
    country = c["country"].replace("", "unknown")
    g = pd.DataFrame({"customers": country.value_counts(), "subscribers": c.groupby(country)["subscribed"].sum()})
    g = g.sort_values(["subscribers", "customers"], ascending=False).head(TOP_COUNTRIES)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(g) + 1.5))
    ax.barh(g.index, g["subscribers"], color="tab:blue")
    for y, (s, n) in enumerate(zip(g["subscribers"], g["customers"])):
        ax.text(s, y, f" {int(s)} of {_n(n)}", va="center", fontsize=8)
    ax.set_xlabel("subscribers (bar labels: subscribers of the country's customers)")
    ax.set_xlim(0, max(1, g["subscribers"].max()) * 1.3)
    ax.set_title(f"Subscribers by country (top {len(g)})\n"
                 f"n = {_n(len(c))} dated customers, {_n(c['subscribed'].sum())} subscribers")
    return _save(fig, outdir, "customers_subscribers_by_country.png")


def plot_subscribers_by_education(data, outdir):
    c = _dated_customers(data)
    education = c["education"].replace("", "unknown")
    g = pd.DataFrame({"customers": education.value_counts(), "subscribers": c.groupby(education)["subscribed"].sum()})
    g = g.loc[_education_order(g.index)][::-1]  # B1 on top
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(g) + 1.6))
    ax.barh(g.index, g["subscribers"], color="tab:blue")
    for y, (s, n) in enumerate(zip(g["subscribers"], g["customers"])):
        ax.text(s, y, f" {int(s)} of {_n(n)} ({100 * s / n:.1f}%)", va="center", fontsize=8)
    ax.set_ylim(-0.6, len(g) - 0.4)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_xlabel("subscribers (bar labels: subscribers of the education's customers, and the rate)")
    ax.set_ylabel("education")
    ax.set_xlim(0, max(1, g["subscribers"].max()) * 1.45)
    ax.set_title(f"Subscribers by education\n"
                 f"n = {_n(len(c))} dated customers, {_n(c['subscribed'].sum())} subscribers")
    return _save(fig, outdir, "customers_subscribers_by_education.png")


def plot_high_value(data, outdir):
    c = _dated_customers(data)
    high = c[(c["subscribed"] == 1) | (c["account_manager_day"] != MISSING_DAY)]
    if high.empty:
        raise Skip("no high-value customers (subscribed or with an account manager)")
    country = high["country"].replace("", "unknown")
    education = high["education"].replace("", "unknown")
    counts = pd.crosstab(country, education)
    countries = country.value_counts().index[:TOP_COUNTRIES]
    educations = _education_order(education.value_counts().index[:20])
    counts = counts.loc[countries, educations]
    fig, ax = plt.subplots(figsize=(0.45 * len(educations) + 3, 0.4 * len(countries) + 2))
    im = ax.imshow(counts.values, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(educations)), educations, rotation=90)
    ax.set_yticks(range(len(countries)), countries)
    top = counts.values.max()
    for (y, x), v in np.ndenumerate(counts.values):
        if v:
            ax.text(x, y, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > top / 2 else "black")
    fig.colorbar(im, ax=ax, label="high-value customers")
    ax.set_xlabel("education")
    ax.set_ylabel("country")
    ax.set_title(f"High-value customers (subscribed, or reached account manager)\n"
                 f"n = {_n(len(high))} of {_n(len(c))} dated customers; "
                 f"{counts.values.sum():,} shown (top {len(countries)} countries)")
    return _save(fig, outdir, "customers_high_value_country_education.png")


def _fitting_n(data):
    n = data.attrs.get("fitting_customers", data.group_attrs.get("model", {}).get("fitting_customers"))
    return f"n = {_n(n)} fitting customers" if n is not None else "n not recorded"


FEW_CURVE_POINTS = 10


def plot_learning_curve(data, outdir):
    lc = _need(data, "learning_curve")
    points = len(lc)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True)
    ax1.plot(lc["episodes"], lc["mean_reward"], "o-", ms=6, label="mean reward per episode (with exploration)")
    if points <= FEW_CURVE_POINTS:  # few points: say what exploration each was made with
        for r in lc.itertuples():
            ax1.annotate(f"\u03b5 = {r.epsilon:.2f}", (r.episodes, r.mean_reward), xytext=(0, 8),
                         textcoords="offset points", ha="center", fontsize=8)
    lines = [("dp_start_value", "DP optimum", "tab:green", "-"),
             ("learned_start_value", "learned (greedy)", "tab:orange", "--"),
             ("random_start_value", "random", "tab:red", ":")]
    for attr, label, color, style in lines:
        if attr in data.attrs:
            v = data.attrs[attr]
            ax1.axhline(v, color=color, ls=style, label=f"{label}: {v:.2f} per customer ({_fitting_n(data)})")
    ax1.set_ylabel("reward per customer")
    ax1.legend(fontsize=8)
    judged = lc.dropna(subset=["regret"])
    ax2.plot(judged["episodes"], 100 * judged["regret"], "o-", ms=6, color="tab:purple",
             label=f"learned policy's regret to the DP ({len(judged)} points)")
    ax2.axhline(0, color="tab:green", label="DP optimum")
    ax2.set_ylabel("regret to DP (% of V*)")
    ax2.set_xlabel("episodes (global, all workers)")
    ax2.legend(fontsize=8)
    ax2.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    sync = data.attrs.get("sync_every")
    per_round = f" of {_n(sync)} episodes per worker" if sync is not None else ""
    fig.suptitle(f"Learning curve: {points} point{'s' if points != 1 else ''}, one per sync round{per_round}")
    if points <= FEW_CURVE_POINTS:
        budget = data.attrs.get("episodes_per_worker")
        finer = (f"; e.g. train --sync-every {_n(max(1, budget // 20))} for 20" if budget else "")
        fig.text(0.5, 0.005, f"Only {points} points: the curve is recorded once per sync round, and exploration "
                 f"\u03b5 is constant within a round.\nA finer curve needs a smaller --sync-every{finer} "
                 "(more syncs: a little more overhead, and a finer \u03b5 schedule).",
                 ha="center", va="bottom", fontsize=8, color="0.3")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    else:
        fig.tight_layout()
    return _save(fig, outdir, "learning_curve.png")


def _common_progress(data, available, k=3):
    """Progress 0 and the k commonest other progress masks among the dated customers'
    milestones (table order when there is no customer table), among `available`; and the
    dated customers at each progress mask ({} without a customer table)."""
    available = list(dict.fromkeys(available))
    order = available
    counts = {}
    c = data.table("customers")
    if c is not None and not c.empty:
        mask = np.zeros(len(c), dtype=np.int64)
        for bit, col in enumerate(MILESTONE_DAYS):
            mask |= (c[col].to_numpy() != MISSING_DAY).astype(np.int64) << bit
        mask = pd.Series(mask)[(c["cohort"] != "undated").to_numpy()]
        counts = mask.value_counts().to_dict()
        order = [p for p in mask.value_counts().index if p in available] + available
    chosen = [0] if 0 in available else []
    for p in order:
        if len(chosen) > k:
            break
        if p not in chosen:
            chosen.append(p)
    return chosen, counts


def plot_action_impact(data, outdir):
    ai = _need(data, "evaluation/action_impact")
    progress, counts = _common_progress(data, ai["progress"].tolist())
    cols = min(2, len(progress))
    rows = -(-len(progress) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.4 * rows + 1.0), squeeze=False)
    for ax, p in zip(axes.flat, progress):
        t = ai[ai["progress"] == p]
        y = np.arange(len(t))
        ax.hlines(y, 100 * t["sensitivity_low"], 100 * t["sensitivity_high"], color="0.75", lw=7)
        ax.errorbar(100 * t["delta"], y, xerr=100 * _err(t["delta"], t["low95"], t["high95"]),
                    fmt="o", color="tab:blue", capsize=3)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, [_pretty(a) for a in t["action"]], fontsize=9)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        stage = _pretty(t["milestones"].iloc[0] or "none")
        here = f"n = {_n(counts[p])} dated customers at this stage" if p in counts else f"progress {p}"
        ax.set_title(_wrap(f"reached: {stage}", 60) + f"\n({here})", fontsize=9)
        ax.set_xlabel("change in P(subscribe), percentage points", fontsize=9)
    for ax in axes.flat[len(progress):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color="0.75", lw=7, label="range over the sensitivity grid"),
               plt.Line2D([], [], color="tab:blue", marker="o", label="estimate with its 95% interval")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Action impact: acting this week vs waiting, then acting optimally\n"
                 f"at stage 'none' and the commonest other stages; {_fitting_n(data)}", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return _save(fig, outdir, "action_impact.png")


def _customers_label(values):
    values = sorted(set(int(v) for v in values))
    if len(values) == 1:
        return f"n = {_n(values[0])} customers"
    return f"n = {_n(values[0])} to {_n(values[-1])} customers"


def _metric_title(metric):
    """'subscriptions_per_1000' -> 'subscriptions per 1,000 customers'."""
    return _pretty(metric.replace("_per_1000", " per 1,000 customers"))


def _value(v):
    """Three significant digits (9.55, 12.0, 509), thousands as whole numbers (3,727)."""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:#.3g}".rstrip(".")


def plot_policies(data, outdir):
    pol = _need(data, "evaluation/policies")
    metrics = list(dict.fromkeys(pol["metric"]))
    cols = min(2, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 0.42 * pol["policy"].nunique() * rows + 1.2 * rows + 0.8),
                             squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        t = pol[pol["metric"] == metric].reset_index(drop=True)
        y = np.arange(len(t))
        ax.errorbar(t["estimate"], y, xerr=_err(t["estimate"], t["low95"], t["high95"]),
                    fmt="o", color="tab:blue", ecolor="tab:blue", elinewidth=1.5, capsize=4)
        finite = np.r_[t["estimate"], t["low95"], t["high95"]].astype(float)
        finite = finite[np.isfinite(finite)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        span = max(hi - lo, 1e-9 * max(1.0, abs(hi)), 1e-12)
        # Room on the right for each row's value and interval, written out: many intervals are
        # narrower than the marker at this scale.
        ax.set_xlim(lo - 0.04 * span, hi + 0.6 * span)
        for yi, r in t.iterrows():
            if np.isfinite(r["estimate"]):
                text = f"{_value(r['estimate'])} [{_value(r['low95'])}, {_value(r['high95'])}]"
                x = r["high95"] if np.isfinite(r["high95"]) else r["estimate"]
                ax.annotate(text, (x, yi), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7.5)
            else:
                ax.annotate("not defined", (lo, yi), xytext=(2, 0), textcoords="offset points", va="center",
                            fontsize=7.5, color="0.4")
        ax.set_yticks(y, [_pretty(p) for p in t["policy"]], fontsize=9)
        ax.set_ylim(len(t) - 0.5, -0.5)
        ax.set_title(_metric_title(metric), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(f"Policies compared in the fitted model: estimate and 95% interval [low, high]\n"
                 f"{_customers_label(pol['customers'])}", fontsize=11)
    fig.tight_layout()
    return _save(fig, outdir, "policies.png")


def plot_lift_curve(data, outdir):
    lift = _need(data, "evaluation/lift_curve")
    lift = lift[lift["cohort"] == "all"]
    if lift.empty:
        raise Skip("/evaluation/lift_curve has no cohort 'all'")
    targeting = data.table("evaluation/targeting")
    auc = {}
    n = "n not recorded"
    if targeting is not None:
        t = targeting[targeting["cohort"] == "all"]
        if not t.empty:
            n = f"n = {_n(t['customers'].max())} customers, {_n(t['subscribers'].max())} subscribers"
        for r in t[t["metric"] == "auc"].itertuples():
            auc[r.scorer] = f" (AUC {r.estimate:.2f} [{r.low95:.2f}, {r.high95:.2f}])"
    elif data.table("evaluation/scores") is not None:
        s = data.table("evaluation/scores")
        n = f"n = {_n(len(s))} customers, {_n(s['subscribed'].sum())} subscribers"
    fig, ax = plt.subplots(figsize=(6, 5.5))
    for scorer, t in lift.groupby("scorer", sort=False):
        t = t.sort_values("fraction")
        ax.plot(np.r_[0, t["fraction"]], np.r_[0, t["captured"]], label=f"{scorer}{auc.get(scorer, '')}")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="random order")
    ax.set_xlabel("share of customers contacted (best first)")
    ax.set_ylabel("share of subscribers captured")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Lift curve, out of fold, cohort all\n{n}")
    return _save(fig, outdir, "lift_curve.png")


def _ratio_limits(cal):
    """Log-scale x limits that show every O/E and its interval, and always 1/2 to 2."""
    rows = cal[cal["expected"] > 0]
    values = np.r_[rows["o_e"], rows["o_e_low95"], rows["o_e_high95"]].astype(float)
    positive = values[np.isfinite(values) & (values > 0)]
    lo = min(0.5, positive.min() / 1.5) if positive.size else 0.5
    hi = max(2.0, positive.max() * 1.5) if positive.size else 2.0
    return lo, hi


def _ratio_ticks(lo, hi):
    """Plain-number ticks for a log axis from lo to hi: 1/8, 1/4, 1/2, 1, 2, 4, 8, ..."""
    return [2.0 ** k for k in range(-10, 11) if lo <= 2.0 ** k <= hi]


def plot_calibration(data, outdir):
    cal = _need(data, "evaluation/calibration")
    cohorts = list(dict.fromkeys(cal["cohort"]))
    events = list(dict.fromkeys(cal["event"]))
    lo, hi = _ratio_limits(cal)
    ticks = _ratio_ticks(lo, hi)
    fig, axes = plt.subplots(1, len(cohorts), figsize=(5.8 * len(cohorts), 0.62 * len(events) + 2.6), squeeze=False)
    y = np.arange(len(events))[::-1]
    for ax, cohort in zip(axes[0], cohorts):
        t = cal[cal["cohort"] == cohort].set_index("event")
        labels = []
        for yi, event in zip(y, events):
            if event not in t.index:
                labels.append(_pretty(event))
                continue
            r = t.loc[event]
            labels.append(f"{_pretty(event)}\nobserved {_n(r['observed'])}, predicted {r['expected']:.1f}\n"
                          f"n = {_n(r['customers'])} at risk")
            if not r["expected"] > 0:
                ax.annotate("nothing predicted (E = 0)", (lo, yi), fontsize=7, xytext=(4, 0),
                            textcoords="offset points", va="center")
                continue
            # O = 0 has O/E = 0 and a lower bound of 0: drawn from the axis' left edge.
            x = max(r["o_e"], lo)
            judged = r["expected"] >= 10
            ax.errorbar([x], [yi], xerr=_err([x], [max(r["o_e_low95"], lo)], [r["o_e_high95"]]), fmt="o", capsize=3,
                        color="C0" if judged else "0.55", mfc="C0" if judged else "white")
            # Above the point, clear of the marker and the bar.
            ax.annotate(f"{r['o_e']:.2f} [{r['o_e_low95']:.2f}, {r['o_e_high95']:.2f}]", (x, yi), fontsize=7,
                        xytext=(0, 7), textcoords="offset points", ha="center", va="bottom",
                        bbox=dict(fc="white", ec="none", alpha=0.85, pad=0.3))
        ax.axvline(1.0, color="k", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_ylim(-0.6, len(events) - 0.25)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("observed / predicted events (O/E, log scale)\n"
                      "1 = as predicted; > 1: more happened than predicted", fontsize=9)
        ax.set_title(f"{cohort}: {_customers_label(t['customers'])} at risk (held out)", fontsize=9)
    handles = [plt.Line2D([], [], color="C0", marker="o", label="O/E with its exact Poisson 95% interval"),
               plt.Line2D([], [], color="0.55", mfc="white", marker="o",
                          label="fewer than 10 predicted events: too few to judge"),
               plt.Line2D([], [], color="k", ls="--", lw=0.8, label="O/E = 1: observed as predicted")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Calibration of the fitted funnel (historical process): events observed after t0 vs the number "
                 "it predicts,\nper event and cohort, held-out customers", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _save(fig, outdir, "calibration.png")


PLOTS = [plot_subscribers_by_country, plot_subscribers_by_education, plot_high_value,
         plot_learning_curve, plot_action_impact, plot_policies, plot_lift_curve, plot_calibration]


# --- sweep.h5 ------------------------------------------------------------------------------

# The sweep's objective as the figures show it: axis label, scale, format.
OBJECTIVE_DISPLAY = {
    "regret": ("regret to the DP optimum (% of V*)", 100.0, "{:.3f}%"),
    "regret_p95": ("95th percentile of the start-state regret V* - V (reward units)", 1.0, "{:.4g}"),
    "learned": ("learned policy's value per customer (reward units)", 1.0, "{:.4g}"),
    "auc_fold": ("status-quo targeting AUC (mean over folds)", 1.0, "{:.3f}"),
}
FOOTNOTE_ERRORS = 6


def _ranges(indices):
    """[1, 3, 4, 5, 9] -> '1, 3-5, 9' (the trial lists of `reinforcer sweep --status`, spaced)."""
    indices = sorted(set(int(i) for i in indices))
    out, i = [], 0
    while i < len(indices):
        j = i
        while j + 1 < len(indices) and indices[j + 1] == indices[j] + 1:
            j += 1
        out.append(str(indices[i]) if i == j else f"{indices[i]}-{indices[j]}")
        i = j + 1
    return ", ".join(out)


def _level(v):
    """A parameter value as text: 0.6, 8, except-fold:9."""
    return f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)


def _levels(column):
    """A parameter column's distinct values: ascending if numeric, else in trial (grid) order."""
    values = list(dict.fromkeys(column.dropna().tolist()))
    return sorted(values) if pd.api.types.is_numeric_dtype(column) else values


def _objective(sweep):
    label, scale, fmt = OBJECTIVE_DISPLAY[sweep.objective]
    better = "lower" if sweep.minimize else "higher"
    return label, scale, fmt, better


def sweep_axes(sweep, x=None, y=None):
    """The heatmap's (x, y) parameters: those given, else the first two varied parameters.
    ValueError for a name that is not a varied parameter, or the same name twice; Skip when
    none is given and the grid varies fewer than two."""
    varied = ", ".join(sweep.varied) or "none"
    if x is None and y is None and len(sweep.varied) < 2:
        raise Skip(f"the grid varies {len(sweep.varied)} parameter{'s' if len(sweep.varied) != 1 else ''} "
                   f"({varied}); a heatmap needs two")
    chosen = {}
    for axis, name in (("x", x), ("y", y)):
        if name is None:
            rest = [p for p in sweep.varied if p not in chosen.values() and p not in (x, y)]
            if not rest:
                raise ValueError(f"--{axis}: no other varied parameter left (varied: {varied})")
            name = rest[0]
        elif name not in sweep.varied:
            if name in sweep.grid:
                raise ValueError(f"--{axis} {name}: has one value in this grid ({', '.join(sweep.grid[name])}), "
                                 f"so it is not a heatmap axis; the varied parameters are: {varied}")
            raise ValueError(f"--{axis} {name}: not a parameter of this sweep; the varied parameters are: {varied}")
        chosen[axis] = name
    if chosen["x"] == chosen["y"]:
        raise ValueError(f"--x and --y are both {chosen['x']}; give two different varied parameters ({varied})")
    return chosen["x"], chosen["y"]


def _why_blank(cell):
    """Why a cell has no value: its trials' statuses ('2 failed, 1 missing'), or not sampled."""
    if cell.empty:
        return "not sampled"
    counts = cell["status"].value_counts()
    parts = [f"{counts[s]} {s}" for s in ("failed", "missing") if s in counts]
    rest = int(counts.sum() - sum(counts.get(s, 0) for s in ("failed", "missing")))
    if rest:
        parts.append(f"{rest} without a value")
    return ", ".join(parts)


def plot_sweep_heatmap(sweep, outdir, x=None, y=None):
    x, y = sweep_axes(sweep, x, y)
    label, scale, fmt, better = _objective(sweep)
    t = sweep.trials
    xs, ys = _levels(t[x]), _levels(t[y])
    others = [p for p in sweep.varied if p not in (x, y)]
    values = np.full((len(ys), len(xs)), np.nan)
    cells = {}
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            cell = t[(t[x] == xv) & (t[y] == yv)]
            done = cell[(cell["status"] == "complete") & np.isfinite(cell[sweep.objective])]
            cells[i, j] = cell, done
            if not done.empty:
                k = done[sweep.objective].idxmin() if sweep.minimize else done[sweep.objective].idxmax()
                values[i, j] = done.loc[k, sweep.objective]
                cells[i, j] = cell, done.loc[[k]]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.25 * len(xs) + 3.2), max(3.6, 0.8 * len(ys) + 2.8)))
    ax.set_facecolor("white")
    shown = np.ma.masked_invalid(values * scale)
    cmap = plt.get_cmap("viridis_r" if sweep.minimize else "viridis").copy()
    cmap.set_bad("white")
    numeric_y = pd.api.types.is_numeric_dtype(t[y])
    im = ax.imshow(shown, cmap=cmap, aspect="auto", origin="lower" if numeric_y else "upper")
    finite = shown.compressed()
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    size = 9 if len(xs) * len(ys) <= 36 else 7
    for (i, j), (cell, done) in cells.items():
        if done.empty:
            ax.add_patch(matplotlib.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                                      edgecolor="0.7", lw=0))
            ax.text(j, i, _why_blank(cell), ha="center", va="center", fontsize=size, color="0.25",
                    bbox=dict(fc="white", ec="none", alpha=0.9, pad=1.5))
            continue
        v = values[i, j] * scale
        dark = (v - lo) / (hi - lo) if hi > lo else 0.5
        if not sweep.minimize:
            dark = 1 - dark
        lines = [fmt.format(v), f"trial {int(done['index'].iloc[0])}"]
        lost = _why_blank(cell[cell["status"] != "complete"]) if (cell["status"] != "complete").any() else ""
        if lost:
            lines.append(f"(+{lost})")
        ax.text(j, i, "\n".join(lines), ha="center", va="center", fontsize=size,
                color="white" if dark > 0.5 else "black")
    best = sweep.best
    if best is not None:
        i, j = ys.index(best[y]), xs.index(best[x])
        ax.add_patch(matplotlib.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="tab:red", lw=3))
    ax.set_xticks(range(len(xs)), [_level(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_level(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(im, ax=ax, label=_wrap(f"{label}; {better} is better", 40))
    over = f"each cell: the best over {', '.join(others)}" if others else "each cell: one trial"
    n = f"n = {_n(len(t))} trials: {_n(len(sweep.complete))} complete, {_n(len(sweep.failed))} failed, " \
        f"{_n(len(sweep.missing))} missing"
    ax.set_title(_wrap(f"Sweep: {sweep.objective} by {x} and {y}; {over}", 80) + f"\n{n}", fontsize=10)
    notes = []
    if best is not None:
        notes.append(f"Red box: the best trial by {sweep.objective}, trial {int(best['index'])} "
                     f"({', '.join(f'{p} {_level(best[p])}' for p in sweep.varied)}).")
    blank = sum(1 for _, done in cells.values() if done.empty)
    if blank:
        notes.append(f"Hatched: {blank} cell{'s' if blank != 1 else ''} with no complete trial (the cell says why).")
    if sweep.failed:
        notes.append(f"Failed trials: {_ranges(sweep.failed)} (their errors: sweep_regret_vs_wall_time.png).")
    if sweep.missing:
        notes.append(f"Missing trials (no trial file): {_ranges(sweep.missing)}.")
    fixed = [f"{k} {v[0]}" for k, v in sweep.grid.items() if len(v) == 1]
    if fixed:
        notes.append("Fixed in every trial: " + ", ".join(fixed) + ".")
    note = "\n".join(_wrap(line, 110) for line in notes)
    fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=8, color="0.3")
    fig.tight_layout(rect=(0, 0.03 * (note.count("\n") + 1) + 0.01 if note else 0, 1, 1))
    return _save(fig, outdir, f"sweep_heatmap_{_file_part(x)}_{_file_part(y)}.png")


def _file_part(name):
    """A parameter name as part of a file name: 'reward.subscription' stays, 'a/b' -> 'a_b'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _failure_lines(sweep):
    """The footnote: failed trials grouped by their error, then the missing ones."""
    t = sweep.trials
    failed = t[t["status"] == "failed"]
    lines = []
    if not failed.empty:
        groups = list(failed.groupby("error", sort=False)["index"])
        groups.sort(key=lambda g: (-len(g[1]), g[1].min()))
        lines.append(f"Failed: {len(failed)} trial{'s' if len(failed) != 1 else ''}, not drawn:")
        for error, idx in groups[:FOOTNOTE_ERRORS]:
            lines.append(_wrap(f"  trial{'s' if len(idx) != 1 else ''} {_ranges(idx)}: {error or '(no message)'}", 120))
        if len(groups) > FOOTNOTE_ERRORS:
            lines.append(f"  ... and {len(groups) - FOOTNOTE_ERRORS} other errors (sweep.trials['error'])")
    if sweep.missing:
        lines.append(f"Missing (no trial file; run the sweep again): trials {_ranges(sweep.missing)}")
    if not lines:
        lines.append("No failed or missing trials.")
    fit = sweep.complete["fit_seconds"]
    if len(fit) > 1 and fit.max() > 0 and fit.min() < 0.1 * fit.max():
        lines.append(_wrap(f"Fit times range from {fit.min():.2f} s to {fit.max():.2f} s: a trial whose model an earlier "
                           "trial in the same process fitted reuses it, so its wall time leaves the fit out.", 120))
    return lines


def plot_sweep_regret_vs_wall_time(sweep, outdir):
    t = sweep.complete
    t = t[np.isfinite(t["regret"]) & np.isfinite(t["wall_seconds"])]
    if t.empty:
        raise Skip("no complete trial with a regret")
    fig, ax = plt.subplots(figsize=(8, 5.5))
    rungs = sorted(t["rung"].unique())
    for k, rung in enumerate(rungs):
        r = t[t["rung"] == rung]
        what = (f"rung {rung}: {_n(len(r))} trials, {_n(r['episodes'].max())} episodes per worker"
                if len(rungs) > 1 else f"complete trials (n = {_n(len(r))})")
        ax.scatter(r["wall_seconds"], 100 * r["regret"], s=36, color=f"C{k % 10}", alpha=0.8, label=what, zorder=2)
    if len(t) <= 40:
        for r in t.itertuples():
            ax.annotate(str(r.index), (r.wall_seconds, 100 * r.regret), xytext=(4, 3), textcoords="offset points",
                        fontsize=7, color="0.35")
    best = sweep.best
    if best is not None and np.isfinite(best["regret"]):
        params = ", ".join(f"{p} {_level(best[p])}" for p in sweep.varied)
        ax.scatter([best["wall_seconds"]], [100 * best["regret"]], s=260, marker="*", color="tab:red",
                   edgecolor="black", lw=0.6, zorder=3,
                   label=_wrap(f"best by {sweep.objective}: trial {int(best['index'])} ({params}), regret "
                               f"{100 * best['regret']:.3f}%, {best['wall_seconds']:.3g} s", 70))
    if t["wall_seconds"].min() > 0 and t["wall_seconds"].max() / t["wall_seconds"].min() > 30:
        ax.set_xscale("log")
    # Room above the highest point for the legend, so it covers no point.
    y = 100 * t["regret"]
    span = max(y.max() - y.min(), 0.05 * abs(y.max()), 1e-6)
    entries = len(rungs) + (best is not None) + 1
    ax.set_ylim(y.min() - 0.08 * span, y.max() + (0.12 + 0.1 * entries) * span)
    ax.margins(x=0.08)
    ax.set_xlabel("wall time of the trial, seconds (fit + train + judge)")
    ax.set_ylabel("regret to the DP optimum (% of V*)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    ax.set_title(f"Sweep: regret against wall time, one point per complete trial (labelled by index)\n"
                 f"n = {_n(len(t))} complete of {_n(len(sweep.trials))} trials; {_n(len(sweep.failed))} failed, "
                 f"{_n(len(sweep.missing))} missing (listed below)", fontsize=10)
    note = "\n".join(_failure_lines(sweep))
    fig.text(0.01, 0.005, note, ha="left", va="bottom", fontsize=8, color="0.3")
    fig.tight_layout(rect=(0, 0.03 * (note.count("\n") + 1) + 0.01, 1, 1))
    return _save(fig, outdir, "sweep_regret_vs_wall_time.png")


def sweep_plots(sweep, outdir, x=None, y=None):
    """The sweep figures: [(name, function of no arguments)]; the heatmap's axes are checked
    first (ValueError), so a wrong name fails before anything is drawn."""
    try:
        axes = sweep_axes(sweep, x, y)
        heatmap = lambda: plot_sweep_heatmap(sweep, outdir, *axes)  # noqa: E731
    except Skip as why:
        reason = why

        def heatmap():
            raise Skip(reason)
    return [("sweep_heatmap", heatmap),
            ("sweep_regret_vs_wall_time", lambda: plot_sweep_regret_vs_wall_time(sweep, outdir))]


def main(argv=None):
    """Draws every plot the file allows into OUTDIR; returns the list of Paths written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="prepared.h5, run.h5, evaluated.h5, sweep.h5 or selection.h5")
    parser.add_argument("-o", "--output", required=True, help="directory for the PNG files (created)")
    parser.add_argument("--x", help="sweep.h5: the heatmap's x parameter, a varied one (default: the first)")
    parser.add_argument("--y", help="sweep.h5: the heatmap's y parameter, a varied one (default: the next)")
    args = parser.parse_args(argv)
    outdir = Path(args.output)
    try:
        data = load(args.file)
        if data.format == SWEEP_FORMAT:
            sweep = load_sweep(args.file)
            try:
                plots = sweep_plots(sweep, outdir, args.x, args.y)
            except ValueError as e:
                raise ValueError(f"{args.file}: {e}") from None
        elif data.format == selection_plots.SELECTION_FORMAT:
            plots = selection_plots.selection_plots(data, outdir, _save)
        elif args.x is not None or args.y is not None:
            raise ValueError(f"{args.file}: --x and --y are for a sweep.h5 (reinforcer merge); "
                             f"this is a {data.format} file")
        else:
            plots = [(plot.__name__[len("plot_"):], lambda plot=plot: plot(data, outdir)) for plot in PLOTS]
    except (OSError, ValueError) as e:
        sys.exit(f"plots.py: {e}")
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, plot in plots:
        try:
            written.append(plot())
        except Skip as why:
            print(f"skipped {name}: {why}")
    print(f"wrote {len(written)} files:")
    for path in written:
        print(f"  {path}")
    return written


if __name__ == "__main__":
    main()
