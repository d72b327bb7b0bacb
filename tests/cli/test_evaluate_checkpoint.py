"""evaluate stopped by SIGTERM or SIGINT (Ctrl-C): exit 75 with its finished tasks in a checkpoint; --resume
gives the uninterrupted run's tables bit for bit and removes the checkpoint."""
import signal

import pytest

from conftest import BIN, run, unseal
from evaluate_checkpoint import EVALUATE_OPTIONS, REFITS, cheap_run, finished_refits, stop_after_a_refit, tables


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    return cheap_run(tmp_path_factory.mktemp("evaluate-checkpoint"))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_stop_signal_checkpoints_finished_refits_and_resume_matches(run_file, tmp_path, stop):
    run("evaluate", run_file, "-o", tmp_path / "full.h5", *EVALUATE_OPTIONS, "--threads", 2, check=True)
    assert not (tmp_path / "full.h5.checkpoint.h5").exists()
    code, err = stop_after_a_refit([BIN, "evaluate", run_file, "-o", tmp_path / "cut.h5", *EVALUATE_OPTIONS, "--threads", 2],
                                   stop)
    assert code == 75, err
    assert "continue with --resume" in err and "checkpoint written" in err
    assert not (tmp_path / "cut.h5").exists()
    tasks, finished = finished_refits(tmp_path / "cut.h5.checkpoint.h5")
    assert tasks == 1 + 3 + 2 + REFITS  # break-even answers, folds, sensitivity, main fit, refits
    assert 6 <= finished < tasks  # the folds, the sensitivity grid, the main fit and a refit at least
    # Resumed with another thread count: the tasks' results do not depend on it.
    p = run("evaluate", run_file, "-o", tmp_path / "cut.h5", *EVALUATE_OPTIONS, "--threads", 1, "--resume", check=True)
    assert f"{finished} tasks already finished" in p.stderr
    assert not (tmp_path / "cut.h5.checkpoint.h5").exists()
    full, cut = tables(tmp_path / "full.h5"), tables(tmp_path / "cut.h5")
    assert full.keys() == cut.keys() and "evaluation/policies" in full
    assert [k for k in full if full[k] != cut[k]] == []


def test_resume_refuses_another_evaluations_checkpoint(run_file, tmp_path):
    code, err = stop_after_a_refit([BIN, "evaluate", run_file, "-o", tmp_path / "cut.h5", *EVALUATE_OPTIONS])
    assert code == 75, err
    p = run("evaluate", run_file, "-o", tmp_path / "cut.h5", *EVALUATE_OPTIONS[:3], 5, "--resume")
    assert p.returncode == 3
    assert "seed was '4', now '5'" in p.stderr
    p = run("evaluate", run_file, "-o", tmp_path / "other.h5", "--resume")
    assert p.returncode == 4 and "no checkpoint to resume from" in p.stderr


def test_resume_refuses_a_checkpoint_of_the_earlier_task_layout(run_file, tmp_path):
    # Version 1 numbered the folds from task 0; version 2 puts the break-even answers there;
    # version 3 packs a fold's events as bit masks. An older checkpoint is refused, not misread.
    import h5py
    import numpy as np
    code, err = stop_after_a_refit([BIN, "evaluate", run_file, "-o", tmp_path / "cut.h5", *EVALUATE_OPTIONS])
    assert code == 75, err
    with h5py.File(tmp_path / "cut.h5.checkpoint.h5", "r+") as f:
        assert f.attrs["format_version"] == 3
        f.attrs["format_version"] = np.int64(2)
    unseal(tmp_path / "cut.h5.checkpoint.h5")
    p = run("evaluate", run_file, "-o", tmp_path / "cut.h5", *EVALUATE_OPTIONS, "--resume")
    assert p.returncode == 3, p.stderr
    assert "format version 2, this tool reads version 3 (start afresh without --resume)" in p.stderr
    assert not (tmp_path / "cut.h5").exists()
