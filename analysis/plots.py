"""Plots of a reinforcer HDF5 file (prepared.h5, run.h5 or evaluated.h5), as PNG files.

    /usr/bin/python3 analysis/plots.py FILE.h5 -o OUTDIR

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

Each plot_* function takes the loaded file (reinforcer_analysis.H5Data) and the output
directory and returns the Path it wrote, or raises Skip(reason). main(argv) returns the
list of Paths written.
"""
import argparse
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reinforcer_analysis import MISSING_DAY, load  # noqa: E402

# Progress bit mask of the funnel state (docs/HDF5_SCHEMA.md, /states): bit i = milestone i reached.
MILESTONE_DAYS = ["first_call_day", "demo_day", "survey_day", "platform_signup_day", "account_manager_day"]
TOP_COUNTRIES = 15


class Skip(Exception):
    """A figure that cannot be drawn from this file (its table is absent or empty)."""


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


def main(argv=None):
    """Draws every plot the file allows into OUTDIR; returns the list of Paths written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="prepared.h5, run.h5 or evaluated.h5")
    parser.add_argument("-o", "--output", required=True, help="directory for the PNG files (created)")
    args = parser.parse_args(argv)
    try:
        data = load(args.file)
    except (OSError, ValueError) as e:
        sys.exit(f"plots.py: {e}")
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for plot in PLOTS:
        try:
            written.append(plot(data, outdir))
        except Skip as why:
            print(f"skipped {plot.__name__[len('plot_'):]}: {why}")
    print(f"wrote {len(written)} files:")
    for path in written:
        print(f"  {path}")
    return written


if __name__ == "__main__":
    main()
