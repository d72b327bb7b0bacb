"""Reads the HDF5 files reinforcer writes (prepared.h5, run.h5, evaluated.h5, sweep.h5, selection.h5) into pandas.

The file formats are described in docs/HDF5_SCHEMA.md. One function reads any of them:

    from reinforcer_analysis import load, dates
    data = load("run.h5")
    data.format                      # "reinforcer-run" (the root attribute `format`)
    customers = data.tables["customers"]
    targeting = data.tables["evaluation/targeting"]       # evaluated.h5 only
    q = data.arrays["q/values"]                           # numpy array [states, 7]
    data.attrs["dp_start_value"], data.group_attrs["model"]["gamma"]
    t0 = dates(customers, "t0_day")                       # datetime64, NaT where missing

A selection.h5 (``reinforcer select-features``) loads with ``load`` too: ``data.tables["elements"]``
(Shapley values and marginal gains with intervals), ``data.tables["subsets"]`` (every scored
subset), ``data.tables["rl_curve"]``, and the best subset and the RL search's figures in ``data.attrs``.

A merged sweep (``reinforcer merge SWEEP_DIR -o sweep.h5``) has its own reader:

    from reinforcer_analysis import load_sweep
    sweep = load_sweep("sweep.h5")
    sweep.trials                     # one row per trial: index, a column per varied parameter, status, metrics
    sweep.varied                     # ["omega", "fit-on"]: the varied parameters' columns, grid order
    sweep.failed, sweep.missing      # trial indices (lists of int)
    sweep.best                       # the best trial's row of sweep.trials (a Series), or None
    sweep.objective                  # "regret": what ranked the trials (merge --objective)

Functions and what they return:

- ``load(path) -> H5Data``: every 1-D compound dataset as a DataFrame in ``.tables`` (keyed
  by its path without the leading slash, e.g. ``"evaluation/descriptive/segments"``), with
  fixed-length (and variable-length) byte-string columns decoded to ``str`` (UTF-8, trailing
  NULs stripped; object dtype) and numeric columns keeping their stored dtype (ids int64,
  days int32, flags int8); every other dataset as a numpy array in ``.arrays``; the root
  attributes in ``.attrs`` and each group's attributes in ``.group_attrs`` (path -> dict),
  with bytes decoded to ``str`` and numpy scalars turned into Python ``int``/``float``.
  Raises ``ValueError`` naming the path when the file is not HDF5 or has no ``format``
  root attribute (``FileNotFoundError`` when it does not exist).
- ``load_sweep(path) -> Sweep``: a sweep.h5 (root attribute ``format`` = "reinforcer-sweep")
  with ``.trials`` (/trials: text columns -- a parameter whose values are not all numbers,
  ``status``, ``error``, ``host`` ... -- decoded to ``str``, numeric parameters float64;
  ``status`` is "complete", "failed" or "missing"), ``.regret_by_cohort`` (/regret_by_cohort),
  ``.failed`` and ``.missing`` (sorted lists of trial indices), ``.best`` (the row of
  ``.trials`` of the root attribute ``best_trial``; None when no trial is complete),
  ``.best_config`` (its every option, "key = value" lines), ``.varied`` (the parameter
  columns: those between ``index`` and ``status``), ``.grid`` (every grid key -> its list of
  values, as text, from the root attribute ``grid``), ``.objective`` and ``.attrs``.
  ``Sweep.minimize`` says whether a lower objective is better (regret, regret_p95) or a
  higher (learned, auc_fold); ``Sweep.complete`` is the complete trials' rows. Raises
  ``ValueError`` naming the path for any other file (a trial file or a sweep directory: merge
  it first), as ``load`` does.
- ``dates(df, column) -> pandas.Series``: the ``*_day`` column (whole days since
  1970-01-01) as ``datetime64[ns]``; the missing day ``-2147483648`` becomes ``NaT``.
- ``MISSING_DAY``: the value that stands for a missing date (also the root attribute
  ``missing_day`` of prepared.h5).
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

MISSING_DAY = -2147483648


@dataclass
class H5Data:
    """The contents of one reinforcer HDF5 file (see load())."""
    path: str
    tables: dict = field(default_factory=dict)       # path -> pandas.DataFrame
    arrays: dict = field(default_factory=dict)       # path -> numpy.ndarray
    attrs: dict = field(default_factory=dict)        # root attribute -> value
    group_attrs: dict = field(default_factory=dict)  # group path -> {attribute -> value}

    @property
    def format(self):
        """The root attribute `format`, e.g. "reinforcer-prepared"."""
        return self.attrs["format"]

    def table(self, path):
        """The table at path (e.g. "evaluation/policies"), or None when the file has none."""
        return self.tables.get(path.strip("/"))


def _decode_bytes(b):
    return b.decode("utf-8").rstrip("\0")


def _decode_value(v):
    """An attribute value as plain Python: str for bytes, int/float for numpy scalars,
    lists for arrays (their bytes decoded)."""
    if isinstance(v, bytes):
        return _decode_bytes(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return [_decode_value(x) for x in v.tolist()]
    return v


def _decode_attrs(attrs):
    return {k: _decode_value(v) for k, v in attrs.items()}


def _table(records):
    """A DataFrame from a 1-D structured numpy array, byte-string columns decoded to str and
    enum columns (codes that name their values, e.g. /states learned_action) to their names."""
    df = pd.DataFrame(records)
    for name in records.dtype.names:
        labels = h5py.check_enum_dtype(records.dtype[name])
        if labels is not None:
            names = {code: label for label, code in labels.items()}
            df[name] = pd.Series([names.get(int(c), "") for c in records[name].tolist()], index=df.index, dtype=object)
            continue
        kind = records.dtype[name].kind
        if kind == "S" or kind == "O":  # fixed-length, or variable-length strings (bytes)
            df[name] = pd.Series([_decode_bytes(x) if isinstance(x, bytes) else x
                                  for x in records[name].tolist()], index=df.index, dtype=object)
    return df


def load(path):
    """Reads a reinforcer HDF5 file (any format); returns an H5Data (see the module docstring)."""
    path = str(path)
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path}: not an HDF5 file")
    data = H5Data(path=path)
    with h5py.File(path, "r") as f:
        if "format" not in f.attrs:
            raise ValueError(f"{path}: no 'format' root attribute: not a file written by reinforcer")
        data.attrs = _decode_attrs(f.attrs)

        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                data.group_attrs[name] = _decode_attrs(obj.attrs)
            elif isinstance(obj, h5py.Dataset):
                if obj.dtype.names is not None and obj.ndim == 1:
                    data.tables[name] = _table(obj[()])
                else:
                    data.arrays[name] = obj[()]

        f.visititems(visit)
    return data


def dates(df, column):
    """df[column] (days since 1970-01-01, MISSING_DAY = missing) as a datetime64 Series."""
    days = df[column]
    return pd.to_datetime(days.where(days != MISSING_DAY), unit="D")


SWEEP_FORMAT = "reinforcer-sweep"
SWEEP_FORMAT_VERSION = 1
# How each objective (merge --objective) ranks trials: True when lower is better.
OBJECTIVE_MINIMIZE = {"regret": True, "regret_p95": True, "learned": False, "auc_fold": False}


@dataclass
class Sweep:
    """A merged sweep, sweep.h5 (see load_sweep())."""
    path: str
    trials: pd.DataFrame
    regret_by_cohort: pd.DataFrame
    failed: list
    missing: list
    best: object          # pandas.Series (a row of trials) or None
    best_config: str
    varied: list
    grid: dict            # grid key -> list of its values (text)
    objective: str
    attrs: dict = field(default_factory=dict)

    @property
    def minimize(self):
        """True when a lower objective is better (regret, regret_p95), False when higher."""
        return OBJECTIVE_MINIMIZE[self.objective]

    @property
    def complete(self):
        """The rows of the complete trials."""
        return self.trials[self.trials["status"] == "complete"]


def _grid_lists(text):
    """The [grid] section of a sweep directory's sweep.ini (the root attribute `grid`):
    key -> list of values. Values are written quoted: key = "a", "b,c"."""
    grid, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == "grid" and "=" in line:
            key, values = line.split("=", 1)
            grid[key.strip()] = re.findall(r'"([^"]*)"', values) or [v.strip() for v in values.split(",")]
    return grid


def load_sweep(path):
    """Reads a sweep.h5 written by `reinforcer merge`; returns a Sweep (see the module docstring)."""
    path = str(path)
    if Path(path).is_dir():
        raise ValueError(f"{path}: is a directory, not a sweep.h5; merge a sweep directory first: "
                         f"reinforcer merge {path} -o sweep.h5")
    data = load(path)
    if data.format != SWEEP_FORMAT:
        hint = (" (one trial of a sweep directory; merge the directory: reinforcer merge SWEEP_DIR -o sweep.h5)"
                if data.format == "reinforcer-trial" else "")
        raise ValueError(f"{path}: is a {data.format} file, not a {SWEEP_FORMAT} file "
                         f"(written by 'reinforcer merge'){hint}")
    version = data.attrs.get("format_version")
    if version != SWEEP_FORMAT_VERSION:
        raise ValueError(f"{path}: {SWEEP_FORMAT} format version {version}, this reads version "
                         f"{SWEEP_FORMAT_VERSION}; merge the sweep directory again")
    for name in ("trials", "regret_by_cohort", "failed", "missing"):
        if name not in data.tables:
            raise ValueError(f"{path}: no /{name} table: not a complete sweep file")
    trials = data.tables["trials"]
    columns = list(trials.columns)
    if columns[:1] != ["index"] or "status" not in columns:
        raise ValueError(f"{path}: /trials has no 'index' and 'status' columns")
    varied = columns[1:columns.index("status")]
    objective = data.attrs.get("objective", "regret")
    if objective not in OBJECTIVE_MINIMIZE:
        raise ValueError(f"{path}: unknown objective '{objective}' (not one of {', '.join(OBJECTIVE_MINIMIZE)})")
    best_index = data.attrs.get("best_trial", -1)
    best = None
    if best_index >= 0:
        rows = trials[trials["index"] == best_index]
        if len(rows) != 1:
            raise ValueError(f"{path}: best_trial {best_index} is not a row of /trials")
        best = rows.iloc[0]
    return Sweep(path=path, trials=trials, regret_by_cohort=data.tables["regret_by_cohort"],
                 failed=[int(t) for t in sorted(data.tables["failed"]["trial"])],
                 missing=[int(t) for t in sorted(data.tables["missing"]["trial"])],
                 best=best, best_config=data.group_attrs.get("best", {}).get("config", ""),
                 varied=varied, grid=_grid_lists(data.attrs.get("grid", "")), objective=objective,
                 attrs=data.attrs)
