"""Data that cannot support the analysis is said so: an error (exit 3, one line naming the file,
what it lacks and how to fix it, no output left) where no result could mean anything, and a
warning plus marked output where the rest still stands -- never a table of meaningless numbers
(docs/RELIABILITY.md, "Data that cannot support the analysis")."""
import os
import re
import shutil
import subprocess

import h5py
import pandas as pd
import pytest

from conftest import BIN, run, unseal

FAST_TRAIN = ["--episodes", 3000, "--progress", "none", "--refits", 0, "--features", "cohort"]  # a small model
GRID = "[grid]\nomega = 0.6, 0.8\nepisodes = 2000\nrefits = 0\n"


def subscribed(d):
    return (d["Subscribed"] != "") | (d["Stage"] == "subscribed already")


def unsubscribe(d, mask):
    """Makes the customers in mask non-subscribers (no Subscribed date, no 'subscribed already')."""
    d.loc[mask, "Subscribed"] = ""
    d.loc[mask & (d["Stage"] == "subscribed already"), "Stage"] = "interested"


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    """A synthetic export as a DataFrame (text cells) with outbound and inbound subscribers."""
    d = tmp_path_factory.mktemp("crm")
    run("synth", "-n", 2000, "--seed", 3, "-o", d / "s.csv", check=True)
    frame = pd.read_csv(d / "s.csv", dtype=str, keep_default_na=False)
    inbound = frame["First Contact"] == ""
    assert (subscribed(frame) & inbound).sum() >= 1 and (subscribed(frame) & ~inbound).sum() >= 3
    return frame


def write(frame, path):
    frame.to_csv(path, index=False)
    return path


def prepare(tmp_path, frame, *options):
    p = run("prepare", write(frame, tmp_path / "input.csv"), "-o", tmp_path / "p.h5", "-q", *options)
    assert p.returncode == 0, p.stderr
    return p


def assert_one_line_error(p, *parts):
    assert p.returncode == 3, (p.returncode, p.stderr)
    lines = [l for l in p.stderr.splitlines() if "error" in l]
    assert len(lines) == 1, p.stderr
    for part in parts:
        assert part in lines[0], p.stderr


def outputs_of_every_command(tmp_path):
    """Each command that learns from a prepared file, with its output path."""
    grid = tmp_path / "input-grid.ini"
    grid.write_text(GRID)
    p = tmp_path / "p.h5"
    return {
        "train": (["train", p, "-o", tmp_path / "run.h5", *FAST_TRAIN], tmp_path / "run.h5"),
        "select-features": (["select-features", p, "-o", tmp_path / "sel.h5", "--features", "cohort,country",
                             "--actions", "call", "--progress", "none"], tmp_path / "sel.h5"),
        "sweep": (["sweep", p, "--grid", grid, "-o", tmp_path / "sweep.d"], tmp_path / "sweep.d"),
    }


def test_zero_subscribers_prepare_warns_and_every_command_refuses(crm, tmp_path):
    frame = crm.copy()
    unsubscribe(frame, subscribed(frame))
    p = prepare(tmp_path, frame)
    warning = "p.h5 holds 0 subscribers among 1,932 dated customers: there is nothing to learn a subscription from"
    assert p.stderr.startswith("reinforcer prepare: warning: ") and warning in p.stderr
    with h5py.File(tmp_path / "p.h5", "r") as f:  # Python users see it too
        assert any(warning in w.decode() for w in f["warnings"][()])
    for command, (args, output) in outputs_of_every_command(tmp_path).items():
        p = run(*args)
        assert_one_line_error(p, f"reinforcer {command}: error:", "p.h5 holds 0 subscribers among 1,932 dated customers",
                              "nothing to learn a subscription from", "prepare an export that includes subscribed customers")
        assert not output.exists(), command
        assert "%" not in p.stdout and "nan" not in p.stdout, command


def test_a_run_file_without_subscribers_is_refused_by_evaluate(crm, tmp_path):
    # A run file of an older version, or edited: evaluate's own check, not only train's.
    prepare(tmp_path, crm.copy(), "--folds", 2)
    run("train", tmp_path / "p.h5", "-o", tmp_path / "input-run.h5", *FAST_TRAIN, check=True)
    with h5py.File(tmp_path / "input-run.h5", "r+") as f:
        customers = f["customers"][()]
        customers["subscribed"] = 0
        f["customers"][...] = customers
    unseal(tmp_path / "input-run.h5")
    p = run("evaluate", tmp_path / "input-run.h5", "-o", tmp_path / "e.h5", "--bootstrap", 10, "--progress", "none")
    assert_one_line_error(p, "input-run.h5 holds 0 subscribers among", "nothing to learn a subscription from")
    assert not (tmp_path / "e.h5").exists() and not (tmp_path / "e.h5.checkpoint.h5").exists()


def test_exactly_one_customer_is_refused_with_the_reason(crm, tmp_path):
    frame = crm[subscribed(crm) & (crm["First Contact"] != "")].head(1)
    p = prepare(tmp_path, frame)
    assert "p.h5 holds 1 dated customer: train, evaluate and select-features need at least two" in p.stderr
    for command, (args, output) in outputs_of_every_command(tmp_path).items():
        p = run(*args)
        assert_one_line_error(p, "p.h5 holds 1 dated customer:", "fewer than two customers", "prepare the whole export")
        assert not output.exists(), command


def test_customers_who_all_subscribed_are_refused(crm, tmp_path):
    # One customer per cohort, both subscribed: nothing to tell a subscriber from anyone else.
    inbound = crm["First Contact"] == ""
    frame = pd.concat([crm[subscribed(crm) & ~inbound].head(1), crm[subscribed(crm) & inbound].head(1)])
    p = prepare(tmp_path, frame)
    assert "every one of its 2 dated customers subscribed" in p.stderr
    args, output = outputs_of_every_command(tmp_path)["train"]
    assert_one_line_error(run(*args), "p.h5: every one of its 2 dated customers subscribed",
                          "includes the customers who did not subscribe")
    assert not output.exists()


def test_one_customer_per_cohort_trains_with_a_warning_and_evaluate_refuses_the_empty_fold(crm, tmp_path):
    inbound = crm["First Contact"] == ""
    steps = crm[["First Call", "Signed up for a demo", "Filled in customer survey", "Did sign up to the platform",
                 "Account Manager assigned"]]
    undated = inbound & ~steps.apply(lambda c: c.str.match(r"^\d{4}-\d{2}-\d{2}$")).any(axis=1)
    frame = pd.concat([crm[subscribed(crm) & ~inbound].head(1), crm[~subscribed(crm) & inbound & ~undated].head(1),
                       crm[undated].head(1)])
    # The export date as the whole export has it (three rows alone would infer an earlier one).
    p = prepare(tmp_path, frame, "--folds", 2, "--export-date", "2022-04-28")
    assert "the inbound cohort holds 1 customer and no subscriber" in p.stderr
    assert "1 of 2 cross-validation folds hold out no subscriber" in p.stderr
    p = run("train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", *FAST_TRAIN)
    assert p.returncode == 0, p.stderr
    assert "reinforcer train: warning: " in p.stderr and "no subscriber among the 1 fitting inbound customers" in p.stderr
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert any("inbound" in w.decode() for w in f["warnings"][()])
    p = run("evaluate", tmp_path / "run.h5", "-o", tmp_path / "e.h5", "--bootstrap", 10, "--progress", "none")
    assert_one_line_error(p, "run.h5: fold ", "of 2 holds out no subscriber (1 held-out subscriber for 2 folds)",
                          "cross-validation needs at least 2 subscribers")
    assert not (tmp_path / "e.h5").exists()


@pytest.fixture(scope="module")
def no_inbound_subscriber(crm, tmp_path_factory):
    """Inbound customers without a subscriber while outbound ones have some: prepared, trained
    with too few refits, evaluated with too few bootstrap replicates."""
    d = tmp_path_factory.mktemp("no_inbound")
    frame = crm.copy()
    unsubscribe(frame, subscribed(frame) & (frame["First Contact"] == ""))
    outbound_subscribers = int(subscribed(frame).sum())
    prep = prepare(d, frame, "--folds", min(outbound_subscribers, 3))
    train = run("train", d / "p.h5", "-o", d / "run.h5", "--episodes", 3000, "--progress", "none", "--refits", 10,
                "--features", "cohort")
    assert train.returncode == 0, train.stderr
    ev = run("evaluate", d / "run.h5", "-o", d / "e.h5", "--bootstrap", 10, "--threads", 2, "--progress", "none")
    assert ev.returncode == 0, ev.stderr
    return d, prep, train, ev


def test_a_cohort_without_subscribers_is_warned_and_marked_not_printed(no_inbound_subscriber):
    d, prep, train, ev = no_inbound_subscriber
    assert "p.h5: the inbound cohort holds 39 customers and no subscriber" in prep.stderr
    assert "no subscriber among the 39 fitting inbound customers" in train.stderr
    assert "reinforcer evaluate: warning: " in ev.stderr
    assert "run.h5: no subscriber in the inbound cohort (39 held-out customers): its targeting figures are n/a" in ev.stderr
    with h5py.File(d / "e.h5", "r") as f:
        assert any("no subscriber in the inbound cohort" in w.decode() for w in f["evaluation/warnings"][()])
    report = run("report", d / "e.h5", check=True).stdout
    assert "Warning: " in report and "run.h5: no subscriber in the inbound cohort" in report
    assert not re.search(r"\bnan\b", report, re.IGNORECASE)
    targeting = report[report.index("Whom to contact"):report.index("Segments worth contacting")]
    inbound_rows = [l for l in targeting.splitlines() if l.startswith("inbound ")]
    assert len(inbound_rows) == 5 + 6  # five rankings, six paired differences
    for row in inbound_rows:
        assert "n/a (no subscriber in this cohort)" in row
        assert "[" not in row, row  # no interval where the warning stands
    assert "The data cannot answer targeting for inbound customers here: no subscriber in this cohort" in targeting
    outbound_rows = [l for l in targeting.splitlines() if l.startswith("outbound  status_quo ")]
    assert outbound_rows and "[" in outbound_rows[0]  # the rest still stands
    # The call list does not rest on the cohort's targeting figures: it is written.
    assert run("recommend", d / "e.h5", "-o", d / "calls.csv", "--top", 5).returncode == 0
    csv = run("report", d / "e.h5", "--format", "csv", "-o", d)
    assert csv.returncode == 0, csv.stderr


def test_too_few_bootstrap_replicates_are_marked_as_rough_ranges(no_inbound_subscriber):
    d, _, _, ev = no_inbound_subscriber
    assert ("reinforcer evaluate: warning: 10 bootstrap replicates are too few for 95% percentile intervals "
            "(40 are needed") in ev.stderr
    with h5py.File(d / "e.h5", "r") as f:
        assert any("too few for 95%" in w.decode() for w in f["evaluation/warnings"][()])
    report = run("report", d / "e.h5", check=True).stdout
    header = report.splitlines()[1]
    assert "bootstrap intervals are rough ranges, not 95% intervals (only 10 resamples or refits" in header
    assert "intervals are 95% (10 bootstrap" not in report


def test_too_few_refits_print_no_interval(no_inbound_subscriber):
    d, _, train, _ = no_inbound_subscriber
    assert "reinforcer train: warning: 10 refits are too few for a 95% interval (40 are needed" in train.stderr
    table = train.stdout[train.stdout.index("cohort    n"):]
    for line in table.splitlines()[1:4]:
        assert "n/a (10 refits; a 95% interval needs 40)" in line and "[" not in line, line
    assert "always wait" in table and "n/a (10 refits; a 95% interval needs 40)" in table.split("always wait")[1].splitlines()[0]
    with h5py.File(d / "run.h5", "r") as f:
        assert any("10 refits are too few" in w.decode() for w in f["warnings"][()])
    report = run("report", d / "run.h5", check=True).stdout
    rows = [l for l in report.splitlines() if l.startswith("tabular (") and "run.h5)  " in l]
    assert rows and all("n/a (10 refits; a 95% interval needs 40)" in l and "[" not in l for l in rows)


def test_forty_refits_are_enough_for_the_interval(no_inbound_subscriber, tmp_path):
    d = no_inbound_subscriber[0]
    p = run("train", d / "p.h5", "-o", tmp_path / "run40.h5", "--episodes", 3000, "--progress", "none", "--refits", 40,
            "--features", "cohort")
    assert p.returncode == 0, p.stderr
    assert "refits are too few" not in p.stderr
    assert "(95% interval over 40 paired bootstrap refits of the funnel)" in p.stdout


def test_folds_without_a_subscriber_are_refused_where_folds_are_scored(crm, tmp_path):
    frame = crm.copy()
    s = subscribed(frame)
    unsubscribe(frame, s & ~frame.index.isin(s[s].index[:3]))  # three subscribers for five folds
    p = prepare(tmp_path, frame, "--folds", 5)
    assert "p.h5: 2 of 5 cross-validation folds hold out no subscriber (3 dated subscribers)" in p.stderr
    assert "prepare with --folds 3 or fewer" in p.stderr
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert any("folds hold out no subscriber" in w.decode() for w in f["warnings"][()])
    commands = outputs_of_every_command(tmp_path)
    args, output = commands["select-features"]
    assert_one_line_error(run(*args), "p.h5: fold ", "of 5 holds out no subscriber (3 held-out subscribers for 5 folds)",
                          "prepare again with --folds 3 or fewer")
    assert not output.exists()
    args, output = commands["sweep"]  # ranked by the fold AUC, a sweep scores folds too
    assert_one_line_error(run(*args, "--objective", "auc_fold"), "p.h5: fold ", "of 5 holds out no subscriber")
    assert not output.exists()
    run("train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", *FAST_TRAIN, check=True)  # folds play no part in it
    p = run("evaluate", tmp_path / "run.h5", "-o", tmp_path / "e.h5", "--bootstrap", 10, "--progress", "none")
    assert_one_line_error(p, "run.h5: fold ", "of 5 holds out no subscriber", "prepare again with --folds 3 or fewer")
    assert not (tmp_path / "e.h5").exists()
    # The fix the message names works.
    prepare(tmp_path, frame, "--folds", 3)
    run("train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", *FAST_TRAIN, check=True)
    p = run("evaluate", tmp_path / "run.h5", "-o", tmp_path / "e.h5", "--bootstrap", 10, "--progress", "none")
    assert p.returncode == 0, p.stderr


MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_pml": "ob1",
           "OMPI_MCA_btl": "self,vader", "OMPI_MCA_rmaps_base_oversubscribe": "1", "OMP_NUM_THREADS": "1",
           # LeakSanitizer (sanitizer builds) reports Open MPI's own allocations in the ranks.
           "ASAN_OPTIONS": "detect_leaks=0"}


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="no mpiexec")
def test_under_mpirun_every_rank_stops_with_one_message_and_exit_3(crm, tmp_path):
    # Every rank holds the same customers: they stop together, rank 0 says why once, no MPI_Abort.
    frame = crm.copy()
    s = subscribed(frame)
    unsubscribe(frame, s & ~frame.index.isin(s[s].index[:3]))
    prepare(tmp_path, frame, "--folds", 5)
    run("train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", *FAST_TRAIN, check=True)
    unsubscribe(frame, subscribed(frame))
    write(frame, tmp_path / "input-zero.csv")
    run("prepare", tmp_path / "input-zero.csv", "-o", tmp_path / "zero.h5", "-q", check=True)
    for args, output in [(["train", tmp_path / "zero.h5", "-o", tmp_path / "mrun.h5", *FAST_TRAIN], tmp_path / "mrun.h5"),
                         (["evaluate", tmp_path / "run.h5", "-o", tmp_path / "me.h5", "--bootstrap", 10, "--progress", "none"],
                          tmp_path / "me.h5")]:
        p = subprocess.run(["mpiexec", "-n", "2", "--bind-to", "none", BIN, *map(str, args)], capture_output=True,
                           text=True, timeout=300, env=dict(os.environ, **MPI_ENV))
        assert p.returncode == 3, p.stderr
        errors = [l for l in p.stderr.splitlines() if l.startswith("reinforcer ") and ": error" in l]
        assert len(errors) == 1 and ": error: " in errors[0], p.stderr  # rank 0's, not "error (rank 1)"
        assert "holds 0 subscribers" in errors[0] or "holds out no subscriber" in errors[0]
        assert "MPI_ABORT" not in p.stderr
        assert not output.exists()
