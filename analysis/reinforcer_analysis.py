"""Reads the HDF5 files reinforcer writes (prepared.h5, run.h5, evaluated.h5) into pandas.

The file formats are described in docs/HDF5_SCHEMA.md. One function reads any of them:

    from reinforcer_analysis import load, dates
    data = load("run.h5")
    data.format                      # "reinforcer-run" (the root attribute `format`)
    customers = data.tables["customers"]
    targeting = data.tables["evaluation/targeting"]       # evaluated.h5 only
    q = data.arrays["q/values"]                           # numpy array [states, 7]
    data.attrs["dp_start_value"], data.group_attrs["model"]["gamma"]
    t0 = dates(customers, "t0_day")                       # datetime64, NaT where missing

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
- ``dates(df, column) -> pandas.Series``: the ``*_day`` column (whole days since
  1970-01-01) as ``datetime64[ns]``; the missing day ``-2147483648`` becomes ``NaT``.
- ``MISSING_DAY``: the value that stands for a missing date (also the root attribute
  ``missing_day`` of prepared.h5).
"""
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
    """A DataFrame from a 1-D structured numpy array, byte-string columns decoded to str."""
    df = pd.DataFrame(records)
    for name in records.dtype.names:
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
