"""Bad input: each case exits with its code and one clear line, and leaves no output or
temporary file behind."""
import os
import zipfile

import h5py
import pytest

from conftest import HEADER, leftovers, run, sample_rows, write_csv, write_xlsx


def make_empty(d):
    p = d / "input.csv"
    p.write_bytes(b"")
    return p


def make_header_only(d):
    return write_csv(d / "input.csv", [])


def make_missing_column(d):
    return write_csv(d / "input.csv", [r[:6] for r in sample_rows()], header=HEADER[:6])


def make_not_a_zip(d):
    p = d / "input.xlsx"
    p.write_text("ID,Country\n1,USA\n")
    return p


def make_zip_without_sheet(d):
    p = d / "input.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("docProps/app.xml", "<Properties/>")
    return p


def make_truncated_xlsx(d):
    p = write_xlsx(d / "input.xlsx", sample_rows() * 200)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def make_ragged(d):
    rows = sample_rows()
    rows[2] = rows[2] + ["extra"]
    return write_csv(d / "input.csv", rows)


def make_latin1(d):
    p = write_csv(d / "input.csv", sample_rows())
    p.write_bytes(p.read_bytes().replace(b"Canada", b"Canad\xe1"))
    return p


def make_duplicate_id(d):
    rows = sample_rows()
    rows[3][0] = "2"
    return write_csv(d / "input.csv", rows)


CONTENT_ERRORS = [
    (make_empty, "the file is empty"),
    (make_header_only, "no customer rows below the header"),
    (make_missing_column, "missing required column 'Stage'"),
    (make_not_a_zip, "not a valid xlsx file"),
    (make_zip_without_sheet, "holds no worksheet"),
    (make_truncated_xlsx, "not a valid xlsx file"),
    (make_ragged, "row 4 (line 4) has 14 fields, the header has 13"),
    (make_latin1, "line 3: byte 0xE1 is not UTF-8"),
    (make_duplicate_id, "ID 2 appears twice, in rows 3 and 5"),
]


def assert_one_line_error(p, code, text):
    assert p.returncode == code, p.stderr
    lines = p.stderr.strip().splitlines()
    errors = [l for l in lines if "error" in l]
    assert len(errors) == 1, p.stderr
    assert errors[0].startswith("reinforcer prepare: error: "), errors[0]
    assert text in errors[0]


@pytest.mark.parametrize("make,text", CONTENT_ERRORS, ids=[m.__name__[5:] for m, _ in CONTENT_ERRORS])
def test_invalid_content_exits_3(tmp_path, make, text):
    src = make(tmp_path)
    p = run("prepare", src, "-o", tmp_path / "out.h5")
    assert_one_line_error(p, 3, text)
    assert leftovers(tmp_path) == []


def test_missing_input_exits_4(tmp_path):
    p = run("prepare", tmp_path / "input-missing.csv", "-o", tmp_path / "out.h5")
    assert_one_line_error(p, 4, "cannot open input: No such file or directory")
    assert leftovers(tmp_path) == []


def test_directory_as_input_exits_4(tmp_path):
    (tmp_path / "input-dir.csv").mkdir()
    p = run("prepare", tmp_path / "input-dir.csv", "-o", tmp_path / "out.h5")
    assert_one_line_error(p, 4, "is a directory, not an input file")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("out,text", [
    ("no-such-dir/out.h5", "output directory"),
    ("input.csv/out.h5", "is not a directory"),
])
def test_unwritable_output_exits_4(tmp_path, out, text):
    src = write_csv(tmp_path / "input.csv", sample_rows())
    p = run("prepare", src, "-o", tmp_path / out)
    assert_one_line_error(p, 4, text)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_output_directory_exits_4(tmp_path):
    src = write_csv(tmp_path / "input.csv", sample_rows())
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    p = run("prepare", src, "-o", ro / "out.h5")
    assert_one_line_error(p, 4, "is not writable")


@pytest.mark.parametrize("args,text", [
    (["--bogus"], "unrecognised option '--bogus'"),
    (["--folds", "abc"], "--folds"),
    (["--folds", "1"], "--folds: 1 is out of range"),
    (["--split-shares", "50,50,50"], "--split-shares"),
    (["--export-date", "2022-13-01"], "--export-date: '2022-13-01' is not a date"),
    (["--aliases", "input-none.csv"], "cannot open input"),
])
def test_bad_options_exit_2(tmp_path, args, text):
    src = write_csv(tmp_path / "input.csv", sample_rows())
    p = run("prepare", src, "-o", tmp_path / "out.h5", *args, cwd=tmp_path)
    expected = 4 if "--aliases" in args else 2
    assert_one_line_error(p, expected, text)
    assert leftovers(tmp_path) == []


def test_unknown_command_exits_2():
    p = run("prepar")
    assert p.returncode == 2
    assert "unknown command 'prepar'" in p.stderr


@pytest.mark.parametrize("serial", [4295010865, 1e308, 2958466, 0, -5])
def test_an_excel_serial_outside_excels_dates_is_rejected_not_wrapped(tmp_path, serial):
    """4,295,010,865 wrapped to a 2019 date and made the customer a subscriber; 1e308 overflowed."""
    base = [1, "USA", "B27", 44000, 44005, "1st message", "", 44010, "", "", "", ""]
    write_xlsx(tmp_path / "x.xlsx", [base + [serial], [2] + base[1:] + [44020]])
    run("prepare", tmp_path / "x.xlsx", "-o", tmp_path / "p.h5", "-q", check=True)
    with h5py.File(tmp_path / "p.h5", "r") as f:
        customers = f["customers"][()]
        cells = {(c.decode(), k.decode()): n for c, k, n in f["quality/cells"][()]}
        rejections = {(c.decode(), r.decode()): n for c, r, n in f["quality/rejections"][()]}
    assert list(customers["subscribed"]) == [0, 1]
    assert cells[("Subscribed", "rejected")] == 1 and cells[("Subscribed", "ok")] == 1
    assert rejections[("Subscribed", "out of range")] == 1
