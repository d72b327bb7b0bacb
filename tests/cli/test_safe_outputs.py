"""Outputs never destroy files: an output that is an input (by any name), "-", devices and
FIFOs, long names, two runs on one output or checkpoint, a signal mid-run, repeated config
sections and keys. Each case: the exit code, the one-line message, the inputs byte for byte,
and no file left behind."""
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import threading
import time

import pytest

from conftest import BIN, run


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def names(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("safe")
    run("synth", "-n", 3000, "--seed", 5, "-o", d / "input.csv", check=True)
    run("prepare", d / "input.csv", "-o", d / "input.h5", "-q", check=True)
    run("train", d / "input.h5", "-o", d / "input-run.h5", "--episodes", 2000, "--refits", 0, "--progress", "none",
        check=True)
    return d


@pytest.fixture
def work(inputs, tmp_path):
    for name in ("input.csv", "input.h5", "input-run.h5"):
        shutil.copy(inputs / name, tmp_path / name)
    before = {n: digest(tmp_path / n) for n in names(tmp_path)}
    yield tmp_path
    # Whatever a case did, no input changed.
    for n, h in before.items():
        assert digest(tmp_path / n) == h, f"{n} changed"


def one_line_error(p, code, text):
    assert p.returncode == code, (p.returncode, p.stderr)
    assert text in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


@pytest.mark.parametrize("command", [
    ("prepare", "input.csv", "-o", "input.csv", "-q"),
    ("prepare", "input.csv", "-o", "./input.csv", "-q"),
    ("prepare", "input.csv", "-o", "link.csv", "-q"),          # a symbolic link to the input
    ("train", "input.h5", "-o", "input.h5", "--episodes", "10"),
    ("train", "input.h5", "-o", "cfg.ini", "--config", "cfg.ini"),
    ("report", "input-run.h5", "-o", "input-run.h5"),
    ("report", "input-run.h5", "--runs", "input-run.h5,input-run.h5", "-o", "input-run.h5"),
    ("evaluate", "input-run.h5", "-o", "input-run.h5"),
    ("select-features", "input.h5", "-o", "input.h5"),
])
def test_an_output_that_is_an_input_is_refused(work, command):
    (work / "link.csv").symlink_to(work / "input.csv")
    (work / "cfg.ini").write_text("[train]\nepisodes = 10\n")
    kept = digest(work / "cfg.ini")
    p = run(*command, cwd=work)
    one_line_error(p, 2, "is the same file as")
    assert "name another output" in p.stderr
    assert digest(work / "cfg.ini") == kept
    assert names(work) == ["cfg.ini", "input-run.h5", "input.csv", "input.h5", "link.csv"]


def test_dash_is_stdout_for_text_and_refused_for_hdf5(work):
    p = run("prepare", "input.csv", "-o", "-", "-q", cwd=work)
    one_line_error(p, 2, "-o -: this output is a file format (HDF5)")
    p = run("report", "input-run.h5", "-o", "-", cwd=work)
    assert p.returncode == 0 and "Learned policies against the DP optimum" in p.stdout
    assert not (work / "-").exists()


def test_a_fifo_is_written_directly_or_refused_never_replaced(work):
    fifo = work / "pipe"
    os.mkfifo(fifo)
    p = run("prepare", "input.csv", "-o", fifo, "-q", cwd=work)
    one_line_error(p, 4, "is not a regular file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    p = run("report", "input-run.h5", "-o", fifo, cwd=work)
    reader.join(timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Learned policies against the DP optimum" in got[0]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert names(work) == ["input-run.h5", "input.csv", "input.h5", "pipe"]


def test_a_long_output_name_works_and_leaves_no_temporary(work):
    long_name = "r" * 240 + ".h5"
    run("prepare", "input.csv", "-o", long_name, "-q", check=True, cwd=work)
    assert names(work) == ["input-run.h5", "input.csv", "input.h5", long_name]


def start_long_train(work, output, *extra):
    return subprocess.Popen([BIN, "train", "input.h5", "-o", output, "--episodes", "100000000", "--progress", "none",
                             "--refits", "0", *extra], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(predicate, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_two_runs_cannot_write_one_output_or_checkpoint(work):
    first = start_long_train(work, "out.h5", "--checkpoint", "ck.h5")
    try:
        wait_for(lambda: (work / ".out.h5.lock").exists() and (work / ".ck.h5.lock").exists())
        p = run("train", "input.h5", "-o", "out.h5", "--episodes", 10, "--progress", "none", cwd=work)
        one_line_error(p, 4, f"out.h5: another run (pid {first.pid}) is writing this output")
        p = run("train", "input.h5", "-o", "other.h5", "--checkpoint", "ck.h5", "--episodes", 10, "--progress", "none",
                cwd=work)
        one_line_error(p, 4, f"ck.h5: another run (pid {first.pid}) is writing this output")
        time.sleep(1)  # past the model fit (0.1 s here): SIGTERM then checkpoints
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=120)
    assert first.returncode == 75  # checkpointed
    assert not (work / ".out.h5.lock").exists() and not (work / ".ck.h5.lock").exists()
    # The lock is gone with its holder: the next run writes the output.
    run("train", "input.h5", "-o", "out.h5", "--episodes", 10, "--progress", "none", "--refits", 0,
        "--checkpoint", "ck2.h5", check=True, cwd=work)
    assert names(work) == ["ck.h5", "input-run.h5", "input.csv", "input.h5", "out.h5"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_a_signal_mid_run_leaves_no_temporary_or_lock(work, sig):
    first = start_long_train(work, "out.h5", "--checkpoint", "ck.h5")
    wait_for(lambda: (work / ".out.h5.lock").exists())
    time.sleep(0.5)
    first.send_signal(sig)
    first.communicate(timeout=60)
    if sig == signal.SIGINT:  # Ctrl-C keeps the work, as SIGTERM does: a checkpoint, exit 75
        assert first.returncode == 75
        assert names(work) == ["ck.h5", "input-run.h5", "input.csv", "input.h5"]
        return
    assert first.returncode == -sig
    assert names(work) == ["input-run.h5", "input.csv", "input.h5"]


@pytest.mark.parametrize("text,message", [
    ("[train]\nepisodes = 5\nepisodes = 6\n", "cfg.ini line 3: episodes is given twice in [train] (first at line 2); keep one"),
    ("[train]\nepisodes = 5\n[train]\nseed = 2\n", "cfg.ini line 3: section [train] repeats line 1; merge them into one"),
    ("[trian]\nepisodes = 5\n", "cfg.ini line 1: unknown section [trian]"),
])
def test_repeated_or_unknown_config_sections_and_keys(work, text, message):
    (work / "cfg.ini").write_text(text)
    p = run("train", "input.h5", "-o", "out.h5", "--config", "cfg.ini", cwd=work)
    one_line_error(p, 2, message)
    assert not (work / "out.h5").exists()
