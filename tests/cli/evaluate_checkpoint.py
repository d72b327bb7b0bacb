"""Shared by the evaluate checkpoint tests (single process and mpirun): a run long enough to
stop (many cheap refits: a cohort-only funnel on small synthetic data), and the evaluated
file's tables compared bit for bit."""
import os
import signal
import subprocess

import h5py
import numpy as np

from conftest import rank_pids, run, synth_prepared

REFITS = 1000
EVALUATE_OPTIONS = ["--bootstrap", REFITS, "--seed", 4, "--progress", "plain"]


def cheap_run(directory):
    prepared = synth_prepared(directory, 3000, 8, "--folds", 3)
    run("train", prepared, "-o", directory / "run.h5", "--episodes", 5000, "--features", "cohort",
        "--progress", "none", "--refits", 0, check=True)
    return directory / "run.h5"


def stop_after_a_refit(command, stop=signal.SIGTERM, env=None, rank_marker=None):
    """Starts `command`, sends `stop` once its progress line shows a finished refit (and to every
    MPI rank whose command line holds `rank_marker`, when given); returns (exit code, stderr)."""
    proc = subprocess.Popen(list(map(str, command)), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.split("refit ")[-1].split("/")[0].isdigit() and int(line.split("refit ")[-1].split("/")[0]) >= 1:
            proc.send_signal(stop)
            if rank_marker is not None:
                ranks = rank_pids(rank_marker)
                assert ranks, "no rank of the command to signal"
                for pid in ranks.values():
                    os.kill(pid, stop)
            break
    _, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(seen) + err


def tables(path):
    """Every dataset of the evaluated file as bytes (NaN payloads included), by name; the
    provenance (times, command line) is left out."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("provenance"):
            v = obj[()]
            out[name] = repr(v.tolist()) if getattr(v, "dtype", np.dtype(float)).hasobject else np.asarray(v).tobytes()
    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def finished_refits(checkpoint):
    with h5py.File(checkpoint, "r") as f:
        return f.attrs["tasks"], f.attrs["tasks_finished"]
