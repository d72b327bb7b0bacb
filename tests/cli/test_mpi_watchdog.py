"""Faults under mpirun end the job with a clear message instead of hanging it: a stopped rank
(standing for a hung node) is named by the watchdog, a killed rank by mpirun, a rank that runs
out of memory by itself; ranks waiting for a stopped one do not spin; the previous output file
is left as it was."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BIN, rank_pids, run, synth_prepared

MPIEXEC = shutil.which("mpiexec") or "mpiexec"
PREVIOUS = b"the previous run's output\n"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return synth_prepared(tmp_path_factory.mktemp("watchdog"), 8000, 11)


def long_train(prepared, output, *extra, wrapper=()):
    """A train run of many short sync rounds, far longer than any test waits; a checkpoint
    every 20 rounds tells the test that training has started."""
    return [MPIEXEC, "-n", "2", "--bind-to", "none", *wrapper, BIN, "train", str(prepared), "-o", str(output),
            "--episodes", "5000000", "--sync-every", "1000", "--refits", "0", "--progress", "none", "--threads", "1",
            "--checkpoint-every", "20", *map(str, extra)]


class Job:
    """An mpirun job with its output in files, and its ranks' pids (from their environment)."""

    def __init__(self, cmd, tmp_path, marker, env=None):
        self.marker = marker
        self.out = open(tmp_path / "stdout.txt", "w+")
        self.err = open(tmp_path / "stderr.txt", "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, text=True,
                                     env=dict(os.environ, OMP_NUM_THREADS="1", **(env or {})))

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def rank_pids(self):
        return rank_pids(self.marker)

    def wait_for(self, text, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.stderr():
                return
            assert self.proc.poll() is None, self.stderr()
            time.sleep(0.05)
        raise AssertionError(f"no '{text}' after {timeout} s: {self.stderr()}")

    def ended_within(self, seconds):
        """Waits up to `seconds` for the job to end; True if it did."""
        try:
            self.proc.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def clean_up(self, pids):
        for pid in pids:  # a rank the test stopped must not outlive it
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def started_job(prepared, tmp_path, *extra):
    output = tmp_path / "run.h5"
    output.write_bytes(PREVIOUS)
    return Job(long_train(prepared, output, *extra), tmp_path, str(output)), output


def test_a_stopped_rank_is_named_and_the_job_ends(prepared, tmp_path):
    config = tmp_path / "run.ini"
    config.write_text("[train]\nwatchdog = 3\n")  # like every option, settable in the INI file
    job, output = started_job(prepared, tmp_path, "--config", config)
    pids = {}
    try:
        job.wait_for("checkpoint written")
        pids = job.rank_pids()
        assert sorted(pids) == [0, 1]
        os.kill(pids[1], signal.SIGSTOP)
        stopped = time.monotonic()
        assert job.ended_within(3 + 10), "the job still runs 13 s after rank 1 stopped (--watchdog 3)"
        took = time.monotonic() - stopped
    finally:
        job.clean_up(pids.values())
    err = job.stderr()
    assert job.proc.returncode != 0
    assert took >= 3, err  # not before the watchdog's time
    line = f"reinforcer train: error: rank 1 (host {os.uname().nodename}, pid {pids[1]}) made no progress for"
    assert line in err, err
    assert err.count("made no progress") == 1, err
    assert "ending the job (--watchdog 3)" in err
    assert output.read_bytes() == PREVIOUS


def test_ranks_waiting_for_a_stopped_rank_do_not_spin(prepared, tmp_path):
    job, _ = started_job(prepared, tmp_path, "--watchdog", 20)
    pids = {}
    try:
        job.wait_for("checkpoint written")
        pids = job.rank_pids()
        os.kill(pids[1], signal.SIGSTOP)
        time.sleep(2.0)  # rank 0 ends its round, finishes a checkpoint in flight and reaches the sync
        before, t0 = cpu_seconds(pids[0]), time.monotonic()
        time.sleep(1.0)
        share = (cpu_seconds(pids[0]) - before) / (time.monotonic() - t0)
        assert job.proc.poll() is None, job.stderr()
    finally:
        job.clean_up(pids.values())
    assert share < 0.3, f"rank 0 used {100 * share:.0f}% of a core waiting for a stopped rank"


def test_the_watchdog_option_is_checked(prepared, tmp_path):
    p = run("train", prepared, "-o", tmp_path / "x.h5", "--watchdog", "-1")
    assert p.returncode == 2
    assert "--watchdog: -1 is out of range; give a value from 0 to" in p.stderr, p.stderr


def test_a_killed_rank_ends_the_job(prepared, tmp_path):
    job, output = started_job(prepared, tmp_path)
    pids = {}
    try:
        job.wait_for("checkpoint written")
        pids = job.rank_pids()
        os.kill(pids[1], signal.SIGKILL)
        assert job.ended_within(10), "the job still runs 10 s after rank 1 was killed"
    finally:
        job.clean_up(pids.values())
    err = job.stderr()
    assert job.proc.returncode != 0
    # What the user sees is mpirun's own report (Open MPI 4 prints "with PID 0").
    assert "noticed that process rank 1 with PID" in err and "exited on signal 9 (Killed)" in err, err
    assert output.read_bytes() == PREVIOUS


@pytest.mark.skipif(os.environ.get("REINFORCER_SANITIZED") == "1",
                    reason="AddressSanitizer reserves terabytes of address space: an address-space limit stops it at start-up")
def test_a_rank_out_of_memory_aborts_the_job(prepared, tmp_path):
    """Rank 1 alone runs under an address-space limit (600 MB) that its Q-table and model do not
    fit in (with month as a fourth feature, 3.6 M states: 1.2 GB by --dry-run; the default three
    now need 449 MB, which fits); std::bad_alloc is not one of the tool's own errors."""
    wrapper = tmp_path / "rank1-limited.sh"
    wrapper.write_text('#!/bin/sh\n[ "$OMPI_COMM_WORLD_RANK" = 1 ] && ulimit -v "$LIMIT_KB"\nexec "$@"\n')
    wrapper.chmod(0o755)
    output = tmp_path / "run.h5"
    output.write_bytes(PREVIOUS)
    job = Job(long_train(prepared, output, "--features", "cohort,country,education,month", wrapper=[str(wrapper)]),
              tmp_path, str(output), env={"LIMIT_KB": "600000"})
    try:
        assert job.ended_within(25), "the job still runs 25 s after starting"
    finally:
        job.clean_up([])
    err = job.stderr()
    assert job.proc.returncode != 0, err
    assert err.count("reinforcer train: error (rank 1): out of memory") == 1, err
    # The job ended (within 25 s, not after the 600 s watchdog) because rank 1 aborted it;
    # mpirun's own report of the abort may itself fail for want of memory on rank 1.
    assert "MPI_ABORT was invoked on rank 1" in err or "show_help" in err, err
    assert output.read_bytes() == PREVIOUS

