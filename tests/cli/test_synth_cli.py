"""synth from the command line: deterministic bytes, and prepare recovers its truth."""
import re

import h5py
import numpy as np
import pandas as pd

from conftest import run


def truth(stdout):
    m = re.search(r"([\d,]+) customers, ([\d,]+) subscribed; cohorts outbound ([\d,]+), inbound ([\d,]+), "
                  r"undated ([\d,]+); blank rows ([\d,]+)", stdout)
    assert m, stdout
    return [int(g.replace(",", "")) for g in m.groups()]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for ext in ("csv", "xlsx"):
        run("synth", "-n", 3000, "--seed", 5, "-o", tmp_path / f"a.{ext}", check=True)
        run("synth", "-n", 3000, "--seed", 5, "-o", tmp_path / f"b.{ext}", check=True)
        run("synth", "-n", 3000, "--seed", 6, "-o", tmp_path / f"c.{ext}", check=True)
        a, b, c = ((tmp_path / f"{n}.{ext}").read_bytes() for n in "abc")
        assert a == b, ext
        assert a != c, ext


def test_prepare_recovers_the_true_label_and_cohorts(tmp_path):
    for ext in ("csv", "xlsx"):
        s = run("synth", "-n", 5000, "--seed", 3, "-o", tmp_path / f"s.{ext}", check=True)
        customers, subscribed, outbound, inbound, undated, blank = truth(s.stdout)
        run("prepare", tmp_path / f"s.{ext}", "-o", tmp_path / f"p{ext}.h5", "-q", check=True)
        with h5py.File(tmp_path / f"p{ext}.h5", "r") as f:
            df = pd.DataFrame(f["customers"][()])
            cells = pd.DataFrame(f["quality/cells"][()])
            assert f["quality"].attrs["blank_rows_skipped"] == blank
        assert len(df) == customers == 5000
        assert int(df["subscribed"].sum()) == subscribed
        cohorts = df["cohort"].str.decode("utf-8").value_counts()
        assert (cohorts.get("outbound", 0), cohorts.get("inbound", 0), cohorts.get("undated", 0)) == (outbound, inbound, undated)
        assert int(cells[cells["class"] == b"rejected"]["count"].sum()) == 0, ext


def test_dirty_output_shows_every_kind_of_dirt(tmp_path):
    run("synth", "-n", 5000, "--seed", 2, "--dirty", "-o", tmp_path / "d.xlsx", check=True)
    run("prepare", tmp_path / "d.xlsx", "-o", tmp_path / "d.h5", "-q", check=True)
    with h5py.File(tmp_path / "d.h5", "r") as f:
        cells = pd.DataFrame(f["quality/cells"][()])
        reasons = pd.DataFrame(f["quality/rejections"][()])
        warnings = pd.DataFrame(f["quality/row_warnings"][()])
        blank = f["quality"].attrs["blank_rows_skipped"]
    by_class = cells.groupby("class")["count"].sum()
    for cls in (b"normalised", b"aliased", b"repaired", b"negative", b"rejected"):
        assert by_class[cls] > 0, cls
    by_reason = reasons.groupby("reason")["count"].sum()
    for reason in (b"impossible date", b"out of range", b"text in a date column", b"not a country",
                   b"ambiguous (Canada or California)"):
        assert by_reason.get(reason, 0) > 0, reason
    assert (warnings["count"] > 0).all(), warnings
    assert blank > 0


def test_synth_refuses_bad_sizes(tmp_path):
    p = run("synth", "-n", 0, "-o", tmp_path / "x.csv")
    assert p.returncode == 2 and "--customers: 0 is out of range" in p.stderr
    p = run("synth", "-n", 1048576, "-o", tmp_path / "x.xlsx")
    assert p.returncode == 2 and "1048575" in p.stderr
    assert list(tmp_path.iterdir()) == []
