"""Figures of a selection.h5 (reinforcer select-features), drawn by analysis/plots.py.

| file | from | shows |
|---|---|---|
| selection_shapley.png | selection.h5 /elements | each element's exact Shapley value with its 95% bootstrap interval (when refits ran), features and actions coloured apart, members of the best subset marked; n customers stated |
| selection_best_subsets.png | selection.h5 /subsets, /rl_curve | the 15 best subsets by net score (the best and the RL search's find marked), and the RL search's best net score against its evaluations beside the exhaustive optimum |
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SELECTION_FORMAT = "reinforcer-selection"
KIND_COLOURS = {"feature": "#1f77b4", "action": "#ff7f0e"}
TOP_SUBSETS = 15


class Skip(Exception):
    """A figure that cannot be drawn from this file."""


def _score_label(attrs):
    if attrs["objective"] == "predictive":
        return "mean out-of-fold log-likelihood per customer"
    return "expected reward per prospect"


def plot_selection_shapley(data, outdir, save):
    elements = data.table("elements")
    if elements is None or elements.empty:
        raise Skip("no /elements table")
    if not int(data.attrs["exhaustive"]):
        raise Skip("no Shapley values: select-features ran without --exhaustive")
    e = elements.sort_values("shapley")
    y = np.arange(len(e))
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(e) + 1.8))
    colours = [KIND_COLOURS.get(k, "grey") for k in e["kind"]]
    ax.barh(y, e["shapley"], color=colours)
    has_ci = np.isfinite(e["shapley_low95"]).all() and int(data.attrs["bootstrap"]) > 0
    if has_ci:
        err = np.vstack([np.clip(e["shapley"] - e["shapley_low95"], 0, None),
                         np.clip(e["shapley_high95"] - e["shapley"], 0, None)])
        ax.errorbar(e["shapley"], y, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{n} *" if b else n for n, b in zip(e["name"], e["in_best"])])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"Shapley value ({_score_label(data.attrs)})")
    ci = (f"95% intervals from {int(data.attrs['bootstrap'])} bootstrap refits" if has_ci
          else "no intervals (run with --bootstrap B)")
    ax.set_title(f"Which attributes and actions matter ({data.attrs['objective']} score)\n"
                 f"n = {int(data.attrs['customers']):,} customers; {ci}; * = in the best subset", fontsize=10)
    for kind, colour in KIND_COLOURS.items():
        ax.barh([], [], color=colour, label=kind)
    ax.legend(loc="lower right", fontsize=8)
    return save(fig, outdir, "selection_shapley.png")


def plot_selection_best_subsets(data, outdir, save):
    subsets = data.table("subsets")
    if subsets is None or subsets.empty:
        raise Skip("no /subsets table")
    top = subsets.sort_values(["net", "size"], ascending=[False, True]).head(TOP_SUBSETS).iloc[::-1]
    curve = data.table("rl_curve")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 0.35 * len(top) + 2.2), gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(top))
    best = int(data.attrs["best_bits"])
    found = int(data.attrs["rl_best_bits"])
    colours = ["#2ca02c" if b == best else "#9ecae1" for b in top["bits"]]
    ax.barh(y, top["net"], color=colours)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{s}  (RL)" if b == found else s for s, b in zip(top["elements"], top["bits"])], fontsize=8)
    lo, hi = float(top["net"].min()), float(top["net"].max())
    pad = (hi - lo) * 0.1 or abs(hi) * 0.01 or 1e-6
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(f"net score ({_score_label(data.attrs)} - {data.attrs['element_cost']:g} per element)")
    kind = "all" if int(data.attrs["exhaustive"]) else "RL-evaluated"
    ax.set_title(f"The {len(top)} best of {len(subsets):,} {kind} subsets; green = best, (RL) = the RL search's find",
                 fontsize=9)
    if curve is not None and not curve.empty:
        ax2.step(curve["evaluations"], curve["best_net"], where="post", label="RL search: best net so far")
        if int(data.attrs["exhaustive"]):
            ax2.axhline(float(subsets.loc[subsets["bits"] == best, "net"].iloc[0]), color="#2ca02c", ls="--",
                        label="exhaustive optimum")
        ax2.set_xlabel(f"evaluations (of {int(data.attrs['lattice']):,} subsets)")
        ax2.set_ylabel("best net score")
        ax2.legend(fontsize=8)
        regret = data.attrs.get("rl_regret", float("nan"))
        ax2.set_title(f"RL search: {int(data.attrs['rl_evaluations']):,} evaluations, stopped by "
                      f"{data.attrs['rl_stop_reason']}" + ("" if np.isnan(regret) else f"; regret {regret:.3g}"),
                      fontsize=9)
    else:
        ax2.set_axis_off()
    return save(fig, outdir, "selection_best_subsets.png")


def selection_plots(data, outdir, save):
    """(name, thunk) pairs for plots.py's main loop."""
    return [("selection_shapley", lambda: plot_selection_shapley(data, outdir, save)),
            ("selection_best_subsets", lambda: plot_selection_best_subsets(data, outdir, save))]
