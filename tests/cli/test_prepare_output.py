"""prepare end to end: the report, the HDF5 file read back by h5dump and h5py, the same
table from xlsx and CSV, and the real export through an independent converter."""
import shutil
import subprocess

import h5py
import numpy as np
import pandas as pd

from conftest import CRM_XLSX, HEADER, leftovers, requires_real_export, run, sample_rows, write_csv, write_xlsx


def customers(path):
    with h5py.File(path, "r") as f:
        return f["customers"][()]


def assert_same_table(a, b):
    assert a.dtype.names == b.dtype.names
    assert len(a) == len(b)
    for name in a.dtype.names:
        assert np.array_equal(a[name], b[name]), name


def test_prepare_writes_a_documented_hdf5_file(tmp_path):
    src = write_csv(tmp_path / "input.csv", sample_rows())
    p = run("prepare", src, "-o", tmp_path / "p.h5", "--folds", "2", check=True)
    assert "Cells per column and class" in p.stdout
    assert "wrote" in p.stdout
    assert leftovers(tmp_path) == ["p.h5"]
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert f.attrs["format"] == "reinforcer-prepared"
        assert f.attrs["format_version"] == 1
        assert len(f.attrs["input_sha256"]) == 64
        assert "folds = 2" in f.attrs["config"]
        df = pd.DataFrame(f["customers"][()])
        cells = pd.DataFrame(f["quality/cells"][()])
        splits = pd.DataFrame(f["summary/splits"][()])
    assert list(df["id"]) == [1, 2, 3, 4]
    assert list(df["subscribed"]) == [0, 1, 0, 0]
    assert [c.decode() for c in df["cohort"]] == ["outbound", "outbound", "inbound", "outbound"]
    assert int(cells[(cells["column"] == b"Did sign up to the platform") & (cells["class"] == b"negative")]["count"].iloc[0]) == 1
    total = splits[(splits["split"] == b"all") & (splits["cohort"] == b"all")].iloc[0]
    assert (total["customers"], total["subscribed"]) == (4, 1)
    dump = subprocess.run(["h5dump", "-H", str(tmp_path / "p.h5")], capture_output=True, text=True, check=True).stdout
    assert 'DATASET "customers"' in dump
    assert 'DATASET "cells"' in dump and 'DATASET "splits"' in dump


def test_xlsx_and_csv_of_the_same_rows_give_the_same_table(tmp_path):
    rows = sample_rows()
    csv = write_csv(tmp_path / "input.csv", rows)
    # In xlsx, dates are numeric serials; text stays text.
    def serial(v):
        y, m, d = map(int, v.split("-"))
        return (np.datetime64(f"{y:04d}-{m:02d}-{d:02d}") - np.datetime64("1899-12-30")).astype(int).item()
    date_cols = {i for i, h in enumerate(HEADER) if i >= 3 and h not in ("Status", "Stage")}
    xrows = [[serial(v) if i in date_cols and v not in ("", "No") else (int(v) if i == 0 else v)
              for i, v in enumerate(r)] for r in rows]
    xlsx = write_xlsx(tmp_path / "input.xlsx", xrows)
    run("prepare", csv, "-o", tmp_path / "c.h5", check=True)
    run("prepare", xlsx, "-o", tmp_path / "x.h5", check=True)
    assert_same_table(customers(tmp_path / "c.h5"), customers(tmp_path / "x.h5"))


def test_headers_in_other_case_and_spacing_are_accepted(tmp_path):
    header = [h.upper() if i % 2 else f"  {h} " for i, h in enumerate(HEADER)]
    header[8] = "Signed up for a Demo"
    a = write_csv(tmp_path / "input-a.csv", sample_rows())
    b = write_csv(tmp_path / "input-b.csv", sample_rows(), header=header)
    run("prepare", a, "-o", tmp_path / "a.h5", check=True)
    run("prepare", b, "-o", tmp_path / "b.h5", check=True)
    assert_same_table(customers(tmp_path / "a.h5"), customers(tmp_path / "b.h5"))


@requires_real_export
def test_real_export_via_xlsx2csv_gives_the_same_customer_table(tmp_path):
    assert shutil.which("xlsx2csv"), "xlsx2csv (Debian package xlsx2csv) is required"
    csv = tmp_path / "input.csv"
    subprocess.run(["xlsx2csv", "-f", "%Y-%m-%d", CRM_XLSX, str(csv)], check=True, capture_output=True)
    x = run("prepare", CRM_XLSX, "-o", tmp_path / "x.h5", check=True)
    c = run("prepare", csv, "-o", tmp_path / "c.h5", check=True)
    assert_same_table(customers(tmp_path / "x.h5"), customers(tmp_path / "c.h5"))
    assert "customers: 11,032; blank rows skipped: 778" in x.stdout
    assert "customers: 11,032; blank rows skipped: 778" in c.stdout
    # The same export with the column names in another case.
    text = csv.read_text(encoding="utf-8").replace("Signed up for a demo", "Signed up for a Demo", 1)
    (tmp_path / "input-case.csv").write_text(text, encoding="utf-8")
    run("prepare", tmp_path / "input-case.csv", "-o", tmp_path / "k.h5", check=True)
    assert_same_table(customers(tmp_path / "x.h5"), customers(tmp_path / "k.h5"))


@requires_real_export
def test_real_export_folds_follow_the_seed(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        run("prepare", CRM_XLSX, "-o", tmp_path / f"{name}.h5", "--seed", seed, "-q", check=True)
    a, b, c = (customers(tmp_path / f"{n}.h5")["fold"] for n in "abc")
    assert np.array_equal(a, b)
    assert (a != c).mean() > 0.5
    t = pd.DataFrame(customers(tmp_path / "a.h5"))
    t = t[t["fold"] >= 0]
    for key in (["cohort", "subscribed"], ["cohort"], ["subscribed"]):
        counts = t.groupby(key + ["fold"]).size().unstack("fold")
        assert ((counts.max(axis=1) - counts.min(axis=1)) <= 1).all(), key


def test_error_cells_and_text_dates_in_xlsx(tmp_path):
    rows = [[1, "USA", "B1", 44300, ("error", "#VALUE!"), "", "", 44310, "", "", "", "", ""],
            [2, "usa", "", "03.05.2021", "", "", "", "2021-13-12", "", "", "No", "", ""],
            [3, "Canada", "", 44400, "", "", "", 44420, "", "", "", "", ""]]
    write_xlsx(tmp_path / "input.xlsx", rows)
    p = run("prepare", tmp_path / "input.xlsx", "-o", tmp_path / "p.h5", check=True)
    assert 'row 2 "#VALUE!" -> rejected: error cell' in p.stdout
    with h5py.File(tmp_path / "p.h5", "r") as f:
        rej = pd.DataFrame(f["quality/rejections"][()])
        cells = pd.DataFrame(f["quality/cells"][()])
    reasons = {(c.decode(), r.decode()): n for c, r, n in zip(rej["column"], rej["reason"], rej["count"])}
    assert reasons[("Last Contact", "error cell")] == 1
    assert reasons[("First Call", "impossible date")] == 1
    fc = cells[(cells["column"] == b"First Contact") & (cells["class"] == b"repaired")]
    assert int(fc["count"].iloc[0]) == 1  # 03.05.2021: 3 May, day first
    neg = cells[(cells["column"] == b"Did sign up to the platform") & (cells["class"] == b"negative")]
    assert int(neg["count"].iloc[0]) == 1
