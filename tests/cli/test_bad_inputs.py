"""The bad-input catalogue: one list of distinct bad inputs over every command (options, INI
files, inputs of the wrong kind, damaged content, hostile output names), each with a stable
id. Every case runs in a fresh directory holding its inputs, and one checker asserts the exit
code, the one error line (what and where), that no file appeared (no partial output, no
temporary, no lock) and that every file already there is byte-identical with its mtime.

docs/RELIABILITY.md's section "Bad inputs: the catalogue" is this list as a table
(`python3 tests/cli/test_bad_inputs.py` prints it); a test keeps the two in step."""
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

from conftest import BIN, HEADER, SOURCE_DIR, run, sample_rows, write_csv, write_xlsx, column_letters

# Inputs built once per module and copied into every case's directory.
SHARED = ("s.csv", "s.xlsx", "p.h5", "run.h5", "ev.h5", "sw")


@dataclass
class Case:
    id: str
    args: list                       # the command line after `reinforcer`, run in the case's directory
    code: int                        # the exit code; negative: killed by that signal
    message: Optional[str]           # regex on the one error line, after "reinforcer CMD: error: "
    what: str                        # the bad input, for the table in docs/RELIABILITY.md
    says: str = ""                   # what the message tells, for the table
    setup: Optional[Callable] = None  # setup(directory) makes the case's own inputs; may return a cleanup
    creates: tuple = ()              # files the case must create (a correct outcome that writes)
    verify: Optional[Callable] = None  # verify(directory) checks what was created
    send: Optional[int] = None       # a signal sent once the output's lock or temporary appears
    peak_rss_mb: Optional[int] = None  # bounds on the run's own peak memory and time
    seconds: float = 120
    xfail: str = ""                  # a known defect not fixed here: the reason (strict)
    keeps: str = "every input"


# ----- inputs a case makes for itself -----

def write(name, content):
    def make(d):
        (d / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return make


def symlink(name, target):
    return lambda d: (d / name).symlink_to(target)


def fifo(name):
    return lambda d: os.mkfifo(d / name)


def char_device(name):
    """A character device made in the case's directory (the null device's numbers: writing to
    it is harmless), never a node under /dev itself."""
    def make(d):
        try:
            os.mknod(d / name, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("mknod is not permitted here")
    return make


def lock_held_by_another_run(output):
    """Another process holds the output's lock exactly as a running reinforcer does (flock on
    .NAME.lock, its pid written in it)."""
    def make(d):
        holder = subprocess.Popen(
            [sys.executable, "-c", "import fcntl, os, sys, time\n"
             f"f = open({str(d / ('.' + output + '.lock'))!r}, 'a+')\n"
             "fcntl.flock(f, fcntl.LOCK_EX)\nf.truncate(0)\nf.write(str(os.getpid()))\nf.flush()\n"
             "print('locked', flush=True)\ntime.sleep(600)\n"], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "locked"

        def release():
            holder.kill()
            holder.wait()
        return release
    return make


def both(*makers):
    def make(d):
        cleanups = [m(d) for m in makers]
        return lambda: [c() for c in cleanups if callable(c)]
    return make


def csv_with(edit):
    """The shared synthetic CSV with one textual edit, as x.csv."""
    return lambda d: (d / "x.csv").write_text(edit((d / "s.csv").read_text()))


col = column_letters


def xlsx_raw(name, rows_xml, shared_strings=None):
    """A workbook whose worksheet rows are given as XML (for references a writer would never
    make), with an optional shared-strings part."""
    def make(d):
        header = "".join(f'<c r="{col(i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADER))
        sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                 f'spreadsheetml/2006/main"><sheetData><row r="1">{header}</row>{rows_xml}</sheetData></worksheet>')
        with zipfile.ZipFile(d / name, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
            z.writestr("xl/workbook.xml", '<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="CRM" sheetId="1" r:id="rId1"/></sheets></workbook>')
            z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
            z.writestr("xl/worksheets/sheet1.xml", sheet)
            if shared_strings is not None:
                z.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                           'openxmlformats.org/spreadsheetml/2006/main">' +
                           "".join(f"<si><t>{s}</t></si>" for s in shared_strings) + "</sst>")
    return make


def dated_row(n, country_cell=None, subscribed="44020"):
    """A worksheet row of customer n with dates (Excel serials) on the pipeline steps."""
    country = country_cell or f'<c r="B{n}" t="inlineStr"><is><t>USA</t></is></c>'
    return (f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>{country}<c r="D{n}"><v>44000</v></c><c r="E{n}"><v>44005</v></c>'
            f'<c r="H{n}"><v>44010</v></c><c r="M{n}"><v>{subscribed}</v></c></row>')


def excel_serial(serial_text):
    """Customer 2's Subscribed cell holds serial_text; customer 3 subscribed on a real date."""
    return xlsx_raw("x.xlsx", dated_row(2, subscribed=serial_text) + dated_row(3))


def first_customer_not_subscribed(d):
    import h5py
    with h5py.File(d / "p2.h5", "r") as f:
        customers = f["customers"][()]
        rejections = {(c.decode(), r.decode()): n for c, r, n in f["quality/rejections"][()]}
    assert list(customers["id"]) == [2, 3]
    assert list(customers["subscribed"]) == [0, 1]  # the bad serial is no subscription
    assert rejections[("Subscribed", "out of range")] == 1


def country_rejected_as_too_long(d, name):
    """Before the fix these runs peaked at 2.2 GB (10 MB CSV cell) and 5.7 GB (50 MB shared
    string): every text column was stored fixed-width at its longest cell."""
    import h5py
    with h5py.File(d / name, "r") as f:
        rejections = {(c.decode(), r.decode()): n for c, r, n in f["quality/rejections"][()]}
    assert rejections[("Country", "too long")] == 1


def huge_shared_string(d):
    xlsx_raw("x.xlsx", dated_row(2, '<c r="B2" t="s"><v>13</v></c>') + dated_row(3),
             shared_strings=[*HEADER, "B" * (50 * 1024 * 1024)])(d)


def huge_csv_cell(d):
    rows = sample_rows()
    rows[0][1] = "A" * (10 * 1024 * 1024)
    write_csv(d / "x.csv", rows)


def grid(text):
    return write("g.ini", text)


LONG = "r" * 240 + ".h5"
TOO_LONG = "r" * 300 + ".h5"
CFG = ["--config", "c.ini"]
TRAIN = ["train", "p.h5", "-o", "o.h5", "--episodes", "10", "--refits", "0", "--progress", "none"]

CASES = [
    # ----- prepare: outputs -----
    Case("prepare-output-is-input", ["prepare", "s.csv", "-o", "s.csv", "-q"], 2,
         r"-o s\.csv is the same file as the INPUT s\.csv, which it would replace; name another output",
         "`prepare x.csv -o x.csv`", "the same file as the INPUT; name another output"),
    Case("prepare-output-is-input-by-link", ["prepare", "s.csv", "-o", "link.csv", "-q"], 2,
         r"-o link\.csv is the same file as the INPUT s\.csv", "`-o` a symbolic link to the input",
         "the same file as the INPUT", setup=symlink("link.csv", "s.csv")),
    Case("prepare-output-dash", ["prepare", "s.csv", "-o", "-", "-q"], 2,
         r"-o -: this output is a file format \(HDF5\) that cannot go to standard output; name a file",
         "`-o -` for an HDF5 output", "HDF5 cannot go to standard output"),
    Case("prepare-output-fifo", ["prepare", "s.csv", "-o", "pipe", "-q"], 4,
         r"pipe: is not a regular file \(a device, FIFO or socket\)", "`-o` a named pipe",
         "not a regular file", setup=fifo("pipe"), keeps="the FIFO, the input"),
    Case("prepare-output-char-device", ["prepare", "s.csv", "-o", "dev", "-q"], 4,
         r"dev: is not a regular file \(a device, FIFO or socket\)", "`-o` a character device (made with mknod)",
         "not a regular file", setup=char_device("dev"), keeps="the device node, the input"),
    Case("prepare-output-240-characters", ["prepare", "s.csv", "-o", LONG, "-q"], 0, None,
         "a 240-character output name (temporaries failed past ~125)", "(works)", creates=(LONG,)),
    Case("prepare-output-name-too-long", ["prepare", "s.csv", "-o", TOO_LONG, "-q"], 4,
         r"the file name is 303 bytes, more than the 255 this file system allows; name a shorter output",
         "a 303-byte output name (failed only at the final rename, after the work)", "the name's length and the limit"),
    Case("prepare-output-being-written", ["prepare", "s.csv", "-o", "o.h5", "-q"], 4,
         r"o\.h5: another run \(pid \d+\) is writing this output; wait for it to finish or name another output",
         "two runs writing one output (the other holds its lock)", "which pid is writing it",
         setup=lock_held_by_another_run("o.h5"), keeps="the other run's lock"),
    Case("prepare-output-directory-missing", ["prepare", "s.csv", "-o", "nodir/o.h5", "-q"], 4,
         r"nodir/o\.h5: output directory 'nodir' does not exist; create it first", "`-o` in a missing directory",
         "the directory to create"),
    Case("prepare-output-is-a-directory", ["prepare", "s.csv", "-o", "sw", "-q"], 4,
         r"sw: is a directory; name the output file \(e\.g\. sw/out\.h5\)", "`-o` an existing directory",
         "a file name to give"),
    Case("prepare-sigint", ["prepare", "big.csv", "-o", "o.h5", "-q"], -signal.SIGINT, None,
         "SIGINT mid-run (temporaries were left)", "(dies of the signal)", send=signal.SIGINT),
    Case("prepare-sigterm", ["prepare", "big.csv", "-o", "o.h5", "-q"], -signal.SIGTERM, None,
         "SIGTERM mid-run (temporaries were left)", "(dies of the signal)", send=signal.SIGTERM),
    # ----- prepare: options and input files -----
    Case("prepare-folds-0", ["prepare", "s.csv", "-o", "o.h5", "--folds", "0"], 2,
         r"--folds: 0 is out of range; give a value from 2 to 100", "`--folds 0`", "the range"),
    Case("prepare-seed-not-a-number", ["prepare", "s.csv", "-o", "o.h5", "--seed", "x"], 2,
         r"the argument \('x'\) for option '--seed' is invalid", "`--seed x`", "the option and its value"),
    Case("prepare-export-before-earliest", ["prepare", "s.csv", "-o", "o.h5", "--export-date", "1999-01-01"], 2,
         r"--export-date is before --earliest-date", "`--export-date` before `--earliest-date`", "the two options"),
    Case("prepare-two-inputs", ["prepare", "s.csv", "p.h5", "-o", "o.h5"], 2,
         r"give one INPUT file; found more than one positional argument", "two input files", "give one"),
    Case("prepare-input-missing", ["prepare", "none.csv", "-o", "o.h5"], 4,
         r"none\.csv: cannot open input: No such file or directory", "a missing input", "the path"),
    Case("prepare-input-hdf5", ["prepare", "p.h5", "-o", "o.h5"], 3,
         r"p\.h5: unknown input format '\.h5' \(give an \.xlsx or \.csv file\)", "a prepared .h5 as the export",
         "the formats it reads"),
    Case("prepare-aliases-bad-header", ["prepare", "s.csv", "-o", "o.h5", "--aliases", "a.csv"], 2,
         r"a\.csv: the alias table's header must be 'raw,country'", "an alias table without its header",
         "the header it needs", setup=write("a.csv", "nonsense\n")),
    Case("prepare-aliases-short-row", ["prepare", "s.csv", "-o", "o.h5", "--aliases", "a.csv"], 2,
         r"a\.csv: row 2: both 'raw' and 'country' must be given", "an alias row without a country",
         "the row", setup=write("a.csv", "raw,country\nfoo\n")),
    # ----- prepare: CSV content -----
    Case("csv-id-not-a-number", ["prepare", "x.csv", "-o", "o.h5"], 3,
         r"x\.csv: row 3, column ID: 'abc' is not a whole number", "an ID `abc`", "file, row, column",
         setup=csv_with(lambda t: t.replace("\n2,", "\nabc,", 1))),
    Case("csv-id-missing", ["prepare", "x.csv", "-o", "o.h5"], 3,
         r"x\.csv: row 3, column ID: the ID is missing", "an empty ID", "file, row, column",
         setup=csv_with(lambda t: t.replace("\n2,", "\n,", 1))),
    Case("csv-quote-never-closed", ["prepare", "x.csv", "-o", "o.h5"], 3,
         r"x\.csv: line 3: a quoted field is never closed", "an unclosed quote", "file, line",
         setup=csv_with(lambda t: t.replace("\n2,", '\n"2,', 1))),
    Case("csv-binary", ["prepare", "x.csv", "-o", "o.h5"], 3,
         r"x\.csv: header row: missing required column 'ID'", "binary bytes named .csv", "the missing columns",
         setup=write("x.csv", b"\x00\x01\x02binary")),
    Case("csv-latin1", ["prepare", "x.csv", "-o", "o.h5"], 3,
         r"x\.csv: line 3: byte 0xE9 is not UTF-8", "a Latin-1 byte", "file, line, byte",
         setup=lambda d: (d / "x.csv").write_bytes((d / "s.csv").read_bytes().replace(b"\n2,", b"\n2,\xe9", 1))),
    Case("csv-10-mb-cell", ["prepare", "x.csv", "-o", "o.h5", "-q"], 0, None,
         "a 10 MB cell in the CSV: memory stays under 1 GB", "(the cell is rejected: too long)", setup=huge_csv_cell,
         creates=("o.h5",), verify=lambda d: country_rejected_as_too_long(d, "o.h5"), peak_rss_mb=1000, seconds=60),
    # ----- prepare: xlsx content -----
    Case("xlsx-empty-file", ["prepare", "x.xlsx", "-o", "o.h5"], 3,
         r"x\.xlsx: not a valid xlsx file \(it is not a zip archive, or it is truncated\)", "an empty .xlsx",
         "not a zip archive", setup=write("x.xlsx", b"")),
    Case("xlsx-truncated", ["prepare", "x.xlsx", "-o", "o.h5"], 3,
         r"x\.xlsx: not a valid xlsx file", "half of a real workbook", "not a valid xlsx",
         setup=lambda d: (d / "x.xlsx").write_bytes((d / "s.xlsx").read_bytes()[:(d / "s.xlsx").stat().st_size // 2])),
    Case("xlsx-column-beyond-xfd", ["prepare", "x.xlsx", "-o", "o.h5"], 3,
         r"x\.xlsx: the worksheet 'xl/worksheets/sheet1\.xml' holds cell 'XFE2' in sheet row 2 that lies beyond Excel's "
         r"last column XFD: the xlsx is corrupt; save it again from Excel",
         "a cell reference `XFE2`", "file, sheet, cell, row",
         setup=xlsx_raw("x.xlsx", '<row r="2"><c r="A2"><v>1</v></c><c r="XFE2"><v>1</v></c></row>')),
    Case("xlsx-column-30-letters", ["prepare", "x.xlsx", "-o", "o.h5"], 3,
         r"x\.xlsx: the worksheet '[^']+' holds cell 'A{30}2' in sheet row 2 that lies beyond Excel's last column XFD",
         "a 30-letter column reference", "file, sheet, cell",
         setup=xlsx_raw("x.xlsx", '<row r="2"><c r="A2"><v>1</v></c><c r="' + "A" * 30 + '2"><v>1</v></c></row>')),
    Case("xlsx-row-beyond-1048576", ["prepare", "x.xlsx", "-o", "o.h5"], 3,
         r"x\.xlsx: the worksheet '[^']+' holds a row numbered '1048577', outside Excel's rows 1 to 1,048,576", "a row reference 1,048,577", "file, sheet, row",
         setup=xlsx_raw("x.xlsx", '<row r="1048577"><c r="A1048577"><v>1</v></c></row>')),
    Case("xlsx-row-23-digits", ["prepare", "x.xlsx", "-o", "o.h5"], 3,
         r"x\.xlsx: the worksheet '[^']+' holds a row numbered '12345678901234567890123', outside Excel's rows", "a 23-digit row reference (overflowed)",
         "file, sheet, row",
         setup=xlsx_raw("x.xlsx", '<row r="12345678901234567890123"><c r="A12345678901234567890123"><v>1</v></c></row>')),
    Case("xlsx-serial-4295010865", ["prepare", "x.xlsx", "-o", "p2.h5", "-q"], 0, None,
         "an Excel date serial 4,295,010,865 (wrapped to 2019, made a subscriber)", "(the cell is rejected: out of range)",
         setup=excel_serial("4295010865"), creates=("p2.h5",), verify=first_customer_not_subscribed),
    Case("xlsx-serial-1e308", ["prepare", "x.xlsx", "-o", "p2.h5", "-q"], 0, None,
         "an Excel date serial 1e308", "(the cell is rejected: out of range)",
         setup=excel_serial("1e308"), creates=("p2.h5",), verify=first_customer_not_subscribed),
    Case("xlsx-serial-nan", ["prepare", "x.xlsx", "-o", "p2.h5", "-q"], 0, None,
         "an Excel date serial NaN", "(the cell is rejected: out of range)",
         setup=excel_serial("NaN"), creates=("p2.h5",), verify=first_customer_not_subscribed),
    Case("xlsx-50-mb-shared-string", ["prepare", "x.xlsx", "-o", "o.h5", "-q"], 0, None,
         "a 50 MB cell in sharedStrings: memory stays under 1 GB", "(the cell is rejected: too long)",
         setup=huge_shared_string, creates=("o.h5",), verify=lambda d: country_rejected_as_too_long(d, "o.h5"),
         peak_rss_mb=1000, seconds=60),
    # ----- synth -----
    Case("synth-customers-0", ["synth", "-o", "o.csv", "-n", "0"], 2,
         r"--customers: 0 is out of range; give a value from 1 to 1000000000", "`-n 0`", "the range"),
    Case("synth-output-txt", ["synth", "-o", "o.txt"], 2,
         r"-o o\.txt: must end in \.csv or \.xlsx", "`-o o.txt` (the message named the temporary)",
         "the output as given, the extensions"),
    # ----- train -----
    Case("train-output-is-input", ["train", "p.h5", "-o", "p.h5"], 2,
         r"-o p\.h5 is the same file as the INPUT p\.h5", "`train p.h5 -o p.h5`", "the same file as the INPUT"),
    Case("train-output-is-config", ["train", "p.h5", "-o", "c.ini", *CFG], 2,
         r"-o c\.ini is the same file as --config c\.ini", "`-o` the `--config` file", "the option",
         setup=write("c.ini", "[train]\nepisodes = 10\n")),
    Case("train-checkpoint-is-input", [*TRAIN, "--checkpoint", "p.h5"], 2,
         r"--checkpoint p\.h5 is the input; name another file", "a `--checkpoint` naming the input",
         "the input; name another file"),
    Case("train-checkpoint-is-output", ["train", "p.h5", "-o", "run.h5", "--checkpoint", "run.h5"], 2,
         r"-o run\.h5 is the same file as --checkpoint run\.h5", "`--checkpoint` the output", "both names"),
    Case("train-output-dash", [*TRAIN[:3], "-", *TRAIN[4:]], 2, r"-o -: this output is a file format \(HDF5\)",
         "`train -o -`", "HDF5 cannot go to standard output"),
    Case("train-output-char-device", [*TRAIN[:3], "dev", *TRAIN[4:]], 4, r"dev: is not a regular file",
         "`-o` a character device", "not a regular file", setup=char_device("dev"), keeps="the device node"),
    Case("train-input-csv", ["train", "s.csv", "-o", "o.h5"], 3, r"s\.csv: not an HDF5 file",
         "a CSV as the prepared file", "not an HDF5 file"),
    Case("train-input-run-file", ["train", "run.h5", "-o", "o.h5"], 3,
         r"run\.h5: is not a reinforcer-prepared file \(its format attribute is 'reinforcer-run'\)",
         "a run file as the prepared file", "which kind of file it is"),
    Case("train-input-missing", ["train", "none.h5", "-o", "o.h5"], 4,
         r"none\.h5: cannot open input: No such file or directory", "a missing input", "the path"),
    Case("train-episodes-0", [*TRAIN[:4], "--episodes", "0"], 2, r"--episodes: 0 is out of range",
         "`--episodes 0`", "the range"),
    Case("train-gamma-2", [*TRAIN, "--gamma", "2"], 2, r"--gamma: 2 is out of range; give a value from 0 to 1",
         "`--gamma 2`", "the range"),
    Case("train-feature-unknown", [*TRAIN, "--features", "cohort,planet"], 2,
         r"--features: 'planet' is not a decision-time feature; choose from cohort, country, education, month",
         "`--features cohort,planet`", "the features to choose from"),
    Case("train-agent-unknown", [*TRAIN, "--agent", "foo"], 2, r"--agent: 'foo' is not tabular or dqn",
         "`--agent foo`", "the agents"),
    Case("train-resume-without-checkpoint", [*TRAIN, "--resume"], 4,
         r"o\.h5\.checkpoint\.h5: no checkpoint to resume from", "`--resume` with no checkpoint", "the checkpoint's path"),
    Case("train-unknown-option", [*TRAIN, "--bogus"], 2, r"unrecognised option '--bogus'", "`--bogus`",
         "the option"),
    # ----- INI configuration files -----
    Case("ini-misspelled-section", [*TRAIN, *CFG], 2, r"c\.ini line 1: unknown section \[trian\]",
         "a misspelled section `[trian]`", "file, line, section", setup=write("c.ini", "[trian]\nepisodes = 5\n")),
    Case("ini-duplicate-key", [*TRAIN, *CFG], 2,
         r"c\.ini line 3: episodes is given twice in \[train\] \(first at line 2\); keep one", "a key given twice",
         "file, both lines", setup=write("c.ini", "[train]\nepisodes = 5\nepisodes = 6\n")),
    Case("ini-duplicate-section", [*TRAIN, *CFG], 2,
         r"c\.ini line 3: section \[train\] repeats line 1; merge them into one", "a section given twice",
         "file, both lines", setup=write("c.ini", "[train]\nepisodes = 5\n[train]\nseed = 2\n")),
    Case("ini-unknown-key", [*TRAIN, *CFG], 2, r"c\.ini line 2: unknown option 'episodez' in section \[train\]",
         "a misspelled key", "file, line, key", setup=write("c.ini", "[train]\nepisodez = 5\n")),
    Case("ini-key-outside-section", [*TRAIN, *CFG], 2, r"c\.ini line 1: 'episodes = 5' is outside any \[section\]",
         "a key before any section", "file, line", setup=write("c.ini", "episodes = 5\n")),
    Case("ini-section-unclosed", [*TRAIN, *CFG], 2, r"c\.ini line 1: a section header needs '\]'",
         "`[train` without `]`", "file, line", setup=write("c.ini", "[train\nepisodes = 5\n")),
    Case("ini-line-without-value", [*TRAIN, *CFG], 2, r"c\.ini line 2: expected 'key = value', found 'episodes'",
         "a line without `=`", "file, line", setup=write("c.ini", "[train]\nepisodes\n")),
    Case("ini-value-not-a-number", [*TRAIN, *CFG], 2, r"c\.ini line 2: --horizon: 'abc' is not a whole number",
         "`horizon = abc`", "file, line, option and value", setup=write("c.ini", "[train]\nhorizon = abc\n")),
    Case("ini-value-out-of-range", [*TRAIN, *CFG], 2, r"c\.ini line 3: --alpha: 2 is out of range",
         "`alpha = 2`", "file, line, option and range", setup=write("c.ini", "[train]\nseed = 4\nalpha = 2\n")),
    Case("ini-unclosed-quote", [*TRAIN, *CFG], 2, r"c\.ini line 2: a double quote is not closed in '\"cohort'",
         "`features = \"cohort`", "file, line, value", setup=write("c.ini", "[train]\nfeatures = \"cohort\n")),
    Case("ini-not-utf8", [*TRAIN, *CFG], 2, r"c\.ini line 2: byte 0xE9 at column 12 is not UTF-8 text; save the file as UTF-8",
         "a Latin-1 byte in a value", "file, line, column, byte",
         setup=write("c.ini", b"[train]\nfeatures = \xe9ducation\n")),
    Case("ini-config-names-config", [*TRAIN, *CFG], 2, r"c\.ini line 2: unknown option 'config' in section \[train\]",
         "`config =` inside a config file", "file, line", setup=write("c.ini", "[train]\nconfig = other.ini\n")),
    Case("ini-missing", [*TRAIN, "--config", "none.ini"], 4, r"none\.ini: no such file; check the path",
         "a missing `--config` file", "the path"),
    Case("ini-is-a-directory", [*TRAIN, "--config", "sw"], 4, r"sw: is a directory, not a file",
         "`--config` a directory", "the path"),
    Case("ini-evaluate-out-of-range", ["evaluate", "run.h5", "-o", "o.h5", *CFG], 2,
         r"--bootstrap: 5 is out of range; give a value from 10 to 100000", "`bootstrap = 5` in [evaluate]",
         "the range", setup=write("c.ini", "[evaluate]\nbootstrap = 5\n")),
    # ----- evaluate -----
    Case("evaluate-checkpoint-is-input", ["evaluate", "run.h5", "-o", "o.h5", "--checkpoint", "run.h5",
                                          "--bootstrap", "10", "--progress", "none"], 2,
         r"--checkpoint run\.h5 is the input; name another file",
         "`--checkpoint` naming the input (the finished run deleted the input)", "the input; name another file"),
    Case("evaluate-output-is-input", ["evaluate", "run.h5", "-o", "./run.h5"], 2,
         r"-o \./run\.h5 is the same file as the INPUT run\.h5", "`-o ./run.h5` for input run.h5",
         "the same file as the INPUT"),
    Case("evaluate-input-prepared", ["evaluate", "p.h5", "-o", "o.h5"], 3,
         r"p\.h5: is not a reinforcer-run file \(its format attribute is 'reinforcer-prepared'\)",
         "a prepared file as the run", "which kind of file it is"),
    Case("evaluate-bootstrap-5", ["evaluate", "run.h5", "-o", "o.h5", "--bootstrap", "5"], 2,
         r"--bootstrap: 5 is out of range", "`--bootstrap 5`", "the range"),
    Case("evaluate-split-unknown", ["evaluate", "run.h5", "-o", "o.h5", "--split", "foo"], 2,
         r"--split: 'foo' is not cv, val or test", "`--split foo`", "the choices"),
    Case("evaluate-resume-without-checkpoint", ["evaluate", "run.h5", "-o", "o.h5", "--resume"], 4,
         r"o\.h5\.checkpoint\.h5: no checkpoint to resume from", "`--resume` with no checkpoint", "the checkpoint's path"),
    # ----- report -----
    Case("report-output-is-input", ["report", "ev.h5", "-o", "ev.h5"], 2,
         r"-o ev\.h5 is the same file as the INPUT ev\.h5", "`report ev.h5 -o ev.h5`", "the same file as the INPUT"),
    Case("report-output-is-a-run", ["report", "ev.h5", "--runs", "run.h5", "-o", "run.h5"], 2,
         r"-o run\.h5 is the same file as --runs run\.h5", "`-o` a file listed in `--runs`", "the option"),
    Case("report-input-prepared", ["report", "p.h5"], 3,
         r"p\.h5: is not a file report reads \(its format attribute is 'reinforcer-prepared'\)",
         "a prepared file", "what report reads"),
    Case("report-format-pdf", ["report", "ev.h5", "--format", "pdf"], 2, r"--format: 'pdf' is not text, markdown or csv",
         "`--format pdf`", "the formats"),
    Case("report-runs-prepared", ["report", "ev.h5", "--runs", "p.h5"], 3, r"p\.h5: is not a reinforcer-run file",
         "a prepared file in `--runs`", "which kind of file it is"),
    Case("report-selection-missing", ["report", "ev.h5", "--selection", "none.h5"], 4,
         r"none\.h5: cannot open input: No such file or directory", "a missing `--selection`", "the path"),
    # ----- recommend -----
    Case("recommend-output-is-input", ["recommend", "ev.h5", "-o", "ev.h5"], 2,
         r"-o ev\.h5 is the same file as the INPUT ev\.h5", "`recommend ev.h5 -o ev.h5`", "the same file as the INPUT"),
    Case("recommend-output-pdf", ["recommend", "ev.h5", "-o", "o.pdf"], 2, r"-o: 'o\.pdf' must end in \.csv or \.xlsx",
         "`-o o.pdf`", "the extensions"),
    Case("recommend-rank-by-unknown", ["recommend", "ev.h5", "-o", "o.csv", "--rank-by", "magic"], 2,
         r"--rank-by: 'magic' is not gain or probability", "`--rank-by magic`", "the choices"),
    Case("recommend-input-run", ["recommend", "run.h5", "-o", "o.csv"], 3,
         r"run\.h5: is not a reinforcer-evaluated file", "a run file, not evaluated", "which kind of file it is"),
    Case("recommend-capacity-negative", ["recommend", "ev.h5", "-o", "o.csv", "--capacity", "-3"], 2,
         r"--capacity: -3 is out of range", "`--capacity -3`", "the range"),
    # ----- sweep -----
    Case("sweep-grid-unknown-option", ["sweep", "p.h5", "--grid", "g.ini", "-o", "sw2"], 2,
         r"g\.ini line 2: planet: unknown option; a grid lists train options", "a grid key that is no train option",
         "file, line, key", setup=grid("[grid]\nplanet = 1, 2\n")),
    Case("sweep-grid-value-out-of-range", ["sweep", "p.h5", "--grid", "g.ini", "-o", "sw2"], 2,
         r"g\.ini line 2: omega = 7: 7 is out of range; give a value from 0\.5 to 1", "one bad value in a grid list",
         "file, line, value, range", setup=grid("[grid]\nomega = 0.5, 7\n")),
    Case("sweep-grid-misspelled-section", ["sweep", "p.h5", "--grid", "g.ini", "-o", "sw2"], 2,
         r"g\.ini line 1: unknown section \[grdi\]; a grid file has one section, \[grid\]", "`[grdi]`",
         "file, line, the section it needs", setup=grid("[grdi]\nomega = 0.5\n")),
    Case("sweep-grid-duplicate-key", ["sweep", "p.h5", "--grid", "g.ini", "-o", "sw2"], 2,
         r"g\.ini line 3: omega is given twice in \[grid\] \(first at line 2\)", "a grid key given twice",
         "file, both lines", setup=grid("[grid]\nomega = 0.5\nomega = 0.6\n")),
    Case("sweep-grid-empty-list", ["sweep", "p.h5", "--grid", "g.ini", "-o", "sw2"], 2,
         r"g\.ini line 2: omega: the list is empty", "`omega =` with no value", "file, line",
         setup=grid("[grid]\nomega = \n")),
    Case("sweep-grid-missing", ["sweep", "p.h5", "--grid", "none.ini", "-o", "sw2"], 4,
         r"none\.ini: no such file; check the path", "a missing grid", "the path"),
    Case("sweep-status-not-a-sweep", ["sweep", "--status", "none"], 4,
         r"none: no sweep here \(no sweep\.ini\)", "`--status` of a directory that is no sweep", "the directory"),
    # ----- merge -----
    Case("merge-output-in-sweep-directory", ["merge", "sw", "-o", "sw/trial-000000.h5"], 2,
         r"-o sw/trial-000000\.h5 is inside the sweep directory sw, which merge reads and leaves unchanged",
         "`-o` a trial file in SWEEP_DIR (it was replaced)", "inside the sweep directory; write it elsewhere",
         keeps="every trial file"),
    Case("merge-not-a-sweep", ["merge", "p.h5", "-o", "o.h5"], 4, r"p\.h5: no sweep here \(no sweep\.ini\)",
         "a file, not a sweep directory", "give the directory sweep wrote"),
    Case("merge-objective-unknown", ["merge", "sw", "-o", "o.h5", "--objective", "foo"], 2,
         r"--objective: 'foo' is not regret, regret_p95, learned or auc_fold", "`--objective foo`", "the choices"),
    Case("merge-output-dash", ["merge", "sw", "-o", "-"], 2, r"-o -: this output is a file format \(HDF5\)",
         "`merge -o -`", "HDF5 cannot go to standard output"),
    # ----- select-features -----
    Case("select-output-is-input", ["select-features", "p.h5", "-o", "p.h5"], 2,
         r"-o p\.h5 is the same file as the INPUT p\.h5", "`-o` the input", "the same file as the INPUT"),
    Case("select-input-run", ["select-features", "run.h5", "-o", "o.h5"], 3,
         r"run\.h5: is not a reinforcer-prepared file", "a run file as the prepared file", "which kind of file it is"),
    Case("select-objective-unknown", ["select-features", "p.h5", "-o", "o.h5", "--objective", "profit"], 2,
         r"--objective: 'profit' is not predictive or decision", "`--objective profit`", "the choices"),
    # ----- engagement -----
    Case("engagement-agent-unknown", ["engagement", "-o", "o.h5", "--agent", "foo"], 2,
         r"--agent: 'foo' is not an agent; give one of tabular, dqn", "`--agent foo`", "the agents"),
    Case("engagement-model-unknown-key", ["engagement", "-o", "o.h5", *CFG], 2,
         r"c\.ini line 2: \[cold\] email\.chance: unknown key; the keys of \[cold\] are email\.success",
         "a misspelled model key", "file, line, the keys", setup=write("c.ini", "[cold]\nemail.chance = 2\n")),
    Case("engagement-model-unknown-section", ["engagement", "-o", "o.h5", *CFG], 2,
         r"c\.ini line 1: unknown section \[grid\]; the sections are \[model\]", "a grid file as the model",
         "file, line, the sections", setup=write("c.ini", "[grid]\nomega = 0.5\n")),
    Case("engagement-output-dash", ["engagement", "-o", "-"], 2, r"-o -: this output is a file format \(HDF5\)",
         "`engagement -o -`", "HDF5 cannot go to standard output"),
    # ----- bench -----
    Case("bench-load-missing", ["bench", "--load", "none.h5"], 4,
         r"none\.h5: cannot open input: No such file or directory",
         "`--load` a missing file (said 'not an HDF5 file', exit 3)", "the path"),
    Case("bench-load-csv", ["bench", "--load", "s.csv"], 3, r"s\.csv: not an HDF5 file", "`--load` a CSV",
         "not an HDF5 file"),
    Case("bench-repeat-0", ["bench", "--repeat", "0"], 2, r"--repeat: 0 is out of range; give a value from 1 to 100",
         "`--repeat 0`", "the range"),
    Case("bench-threads-list-0", ["bench", "--threads-list", "0"], 2,
         r"--threads-list: '0' is not a whole number from 1 to 256", "`--threads-list 0`", "the range"),
    # ----- any command -----
    Case("unknown-command", ["prepar", "s.csv"], 2, None, "`reinforcer prepar`", "unknown command 'prepar'"),
]


# ----- building the shared inputs and running a case -----

@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-inputs")
    run("synth", "-n", 1500, "--seed", 5, "-o", d / "s.csv", check=True)
    run("synth", "-n", 200, "--seed", 3, "-o", d / "s.xlsx", check=True)
    run("prepare", d / "s.csv", "-o", d / "p.h5", "-q", "--folds", 3, check=True)
    run("train", d / "p.h5", "-o", d / "run.h5", "--episodes", 2000, "--refits", 0, "--features", "cohort",
        "--progress", "none", check=True)
    run("evaluate", d / "run.h5", "-o", d / "ev.h5", "--bootstrap", 10, "--progress", "none", check=True)
    (d / "g.ini").write_text('[grid]\nepisodes = 500, 600\nrefits = 0\nfeatures = "cohort"\n')
    run("sweep", d / "p.h5", "--grid", d / "g.ini", "-o", d / "sw", check=True)
    (d / "g.ini").unlink()
    return d


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """An export large enough that prepare is still running when a signal arrives."""
    d = tmp_path_factory.mktemp("bad-inputs-big")
    run("synth", "-n", 300000, "--seed", 2, "-o", d / "big.csv", check=True)
    return d / "big.csv"


def snapshot(directory):
    """Every entry under directory (hidden ones included): its kind, and for a regular file
    its content's hash and mtime."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            p = Path(root) / name
            st = os.lstat(p)
            rel = str(p.relative_to(directory))
            if stat.S_ISREG(st.st_mode):
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns)
            else:
                out[rel] = (stat.S_IFMT(st.st_mode), st.st_rdev, st.st_mtime_ns)
    return out


def exited(pid):
    """Whether the child has exited, without reaping it."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop_above(pid, megabytes):
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    while not exited(pid):
        try:
            with open(f"/proc/{pid}/statm") as f:
                if int(f.read().split()[1]) * page_mb > megabytes:
                    os.kill(pid, signal.SIGKILL)
                    return
        except (OSError, ValueError, IndexError):
            return
        time.sleep(0.01)


def run_case(case, d):
    """Runs the case's command in d; returns (exit code, stderr, peak RSS in MB, seconds)."""
    with open(d.parent / f"{d.name}.stdout", "w+") as out, open(d.parent / f"{d.name}.stderr", "w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen([BIN, *case.args], cwd=d, stdout=out, stderr=err)
        killer = threading.Timer(case.seconds * 3, proc.kill)  # a hang ends as a failure, not a stuck suite
        killer.start()
        if case.peak_rss_mb is not None:
            # A run over its memory bound is stopped at twice the bound, not left to exhaust the machine.
            threading.Thread(target=stop_above, args=(proc.pid, 2 * case.peak_rss_mb), daemon=True).start()
        try:
            if case.send is not None:
                output = case.args[case.args.index("-o") + 1]
                while not exited(proc.pid) and not (d / f".{output}.lock").exists():
                    time.sleep(0.001)
                proc.send_signal(case.send)
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        err.seek(0)
        return proc.returncode, err.read(), usage.ru_maxrss / 1024, seconds


def case_params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", case_params())
def test_bad_input(shared, big_csv, tmp_path, case):
    d = tmp_path / "case"
    d.mkdir()
    for name in SHARED:
        (shutil.copytree if (shared / name).is_dir() else shutil.copy2)(shared / name, d / name)
    if case.send is not None:
        shutil.copy2(big_csv, d / "big.csv")
    cleanup = case.setup(d) if case.setup else None
    cleanup = cleanup if callable(cleanup) else None
    try:
        before = snapshot(d)
        code, stderr, peak_mb, seconds = run_case(case, d)
        after = snapshot(d)
    finally:
        if cleanup:
            cleanup()
    assert code == case.code, stderr
    command = case.args[0]
    errors = [line for line in stderr.splitlines() if "error" in line]
    if case.message is not None:
        assert len(errors) == 1, stderr
        assert re.match(rf"reinforcer {re.escape(command)}: error: .*{case.message}", errors[0]), errors[0]
    elif case.id == "unknown-command":
        assert "unknown command 'prepar'" in stderr
    else:
        assert errors == [], stderr
    # Nothing appeared but what the case creates: no partial output, temporary or lock file.
    assert sorted(set(after) - set(before)) == sorted(case.creates)
    # Everything that was there is there, byte for byte, untouched.
    changed = [name for name in before if after.get(name) != before[name]]
    assert changed == []
    if case.verify:
        case.verify(d)
    if case.peak_rss_mb is not None:
        assert peak_mb < case.peak_rss_mb, f"peak RSS {peak_mb:.0f} MB"
        assert seconds < case.seconds, f"{seconds:.1f} s"


# ----- the table in docs/RELIABILITY.md -----

def markdown_table():
    def code(c):
        return f"killed by {signal.Signals(-c.code).name}" if c.code < 0 else str(c.code)

    def preserved(c):
        if c.creates:
            return "every input; writes " + ("the output" if len(c.creates) == 1 else ", ".join(c.creates))
        return c.keeps
    rows = ["| id | command | input | exit | message says | preserved |", "|---|---|---|---|---|---|"]
    for c in CASES:
        says = c.says + (" (KNOWN DEFECT: " + c.xfail.split(":")[0] + ")" if c.xfail else "")
        rows.append(f"| `{c.id}` | {c.args[0]} | {c.what} | {code(c)} | {says} | {preserved(c)} |")
    return "\n".join(rows)


def test_the_reliability_doc_lists_exactly_this_catalogue():
    doc = (SOURCE_DIR / "docs" / "RELIABILITY.md").read_text()
    section = doc.split("## Bad inputs: the catalogue", 1)
    assert len(section) == 2, "docs/RELIABILITY.md has no section 'Bad inputs: the catalogue'"
    body = section[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", body, re.M)
    assert documented == [c.id for c in CASES], "regenerate the table: python3 tests/cli/test_bad_inputs.py"
    assert f"{len(CASES)} cases" in body
    assert markdown_table() in body, "the table differs from the catalogue: python3 tests/cli/test_bad_inputs.py"


def test_the_catalogue_is_large_and_its_ids_are_distinct():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 60
    commands = {c.args[0] for c in CASES}
    assert commands >= {"prepare", "synth", "train", "evaluate", "report", "recommend", "sweep", "merge",
                        "select-features", "engagement", "bench"}


if __name__ == "__main__":
    print(f"{len(CASES)} cases\n")
    print(markdown_table())
