"""Shared helpers for the end-to-end tests of the reinforcer executable."""
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

BIN = os.environ.get("REINFORCER_BIN", "reinforcer")
CRM_XLSX = os.environ.get("REINFORCER_CRM_XLSX", "")
SOURCE_DIR = Path(os.environ.get("REINFORCER_SOURCE_DIR", Path(__file__).resolve().parents[2]))

HEADER = ["ID", "Country", "Education", "First Contact", "Last Contact", "Status", "Stage", "First Call",
          "Signed up for a demo", "Filled in customer survey", "Did sign up to the platform",
          "Account Manager assigned", "Subscribed"]


def run(*args, check=False, cwd=None):
    """Runs reinforcer with args; returns the CompletedProcess (text mode)."""
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError(f"reinforcer {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def unseal(path):
    """Removes the seal (length and CRC-32 in the HDF5 user block) of a file this tool wrote, as
    after an edit with h5py: the file is then read unchecked, like one written before seals, so
    a test can reach the reader's own checks. An edited sealed file is refused as damaged."""
    with open(path, "r+b") as f:
        head = f.read(16)
        assert head.startswith(b"reinforcer-seal "), head
        f.seek(0)
        f.write(b"\0" * 64)


def sweep_trials(path):
    """The /trials table of a merged sweep file (strings decoded), its root attributes, and the
    /failed and /missing trial lists."""
    import h5py
    import pandas as pd
    with h5py.File(path, "r") as f:
        t = pd.DataFrame(f["trials"][()])
        for c in t.columns:
            if t[c].dtype == object:
                t[c] = t[c].str.decode("utf-8")
        return t, dict(f.attrs), f["failed"]["trial"][()].tolist(), f["missing"]["trial"][()].tolist()


def rank_pids(marker):
    """The MPI ranks whose command line holds `marker`, by rank (from their environment)."""
    pids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{d}/environ", "rb") as f:
                for v in f.read().split(b"\0"):
                    if v.startswith(b"OMPI_COMM_WORLD_RANK="):
                        pids[int(v.split(b"=")[1])] = int(d)
        except OSError:
            pass
    return pids


def synth_prepared(directory, customers, seed, *prepare_options):
    """Synthetic CRM data prepared into directory/p.h5; returns that path."""
    run("synth", "-n", customers, "--seed", seed, "-o", directory / "s.csv", check=True)
    run("prepare", directory / "s.csv", "-o", directory / "p.h5", "-q", *prepare_options, check=True)
    return directory / "p.h5"


def write_csv(path, rows, header=HEADER):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    return path


def column_letters(i):
    """A spreadsheet's column name of 0-based column i: 0 -> A, 25 -> Z, 26 -> AA."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_xlsx(path, rows, header=HEADER):
    """A minimal xlsx written with Python's zipfile (inline strings, numbers as <v>), an
    independent writer for the reader to face."""
    def cell(ref, v):
        if isinstance(v, tuple) and v[0] == "error":  # an error cell, e.g. ("error", "#VALUE!")
            return f'<c r="{ref}" t="e"><v>{v[1]}</v></c>'
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"><v>{v}</v></c>'
        if v == "":
            return ""
        esc = v.replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{esc}</t></is></c>'

    col = column_letters

    body = []
    for n, r in enumerate([header, *rows], start=1):
        body.append(f'<row r="{n}">' + "".join(cell(f"{col(i)}{n}", v) for i, v in enumerate(r)) + "</row>")
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + "".join(body) + "</sheetData></worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", '<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="CRM" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def sample_rows():
    return [
        ["1", "USA", "B27", "2021-03-01", "2021-03-05", "1st message", "", "2021-03-10", "", "", "", "", ""],
        ["2", "Canada", "", "2021-04-01", "", "2nd message", "subscribed already", "2021-04-03", "", "", "", "", "2021-04-20"],
        ["3", "", "", "", "", "", "", "2021-05-02", "", "", "No", "", ""],
        ["4", "UK", "B2", "2021-06-01", "", "", "", "2021-06-05", "", "", "", "", ""],
    ]


def leftovers(directory):
    """Files in a directory other than the inputs a test made (no output, no temporary file)."""
    return sorted(p.name for p in Path(directory).iterdir() if not p.name.startswith("input"))


requires_real_export = pytest.mark.skipif(not CRM_XLSX or not os.path.exists(CRM_XLSX),
                                          reason=f"the real CRM export is not present ({CRM_XLSX or 'unset'})")
