"""slurm/submit-sweep.sh on a real cluster: a job array over the grid (two trials per task, the
last task a partial one), then the merge after the array; every trial is in the merged file,
complete, and equal to the same trial run directly with 'reinforcer train' (1 rank x 1 thread)."""
import time

from conftest import (grid_trials, merged, reference_result, submit_sweep, train_reference, trial_file,
                      write_grid)


def test_array_then_merge_equals_direct_training(cluster, prepared, tmp_path):
    t0 = time.monotonic()
    grid = write_grid(tmp_path / "grid.ini", omega=[0.6, 0.8, 0.9], episodes=20000, refits=0, sync_every=5000)
    trials = grid_trials(grid)
    assert len(trials) == 3
    sweep_dir = tmp_path / "sweep"
    array, merge, out = submit_sweep(cluster, "--trials-per-task", 2, prepared, grid, sweep_dir)
    assert "--array=0-1" in out, out  # ceil(3 / 2) tasks

    # The references run while the cluster works.
    refs = [train_reference(prepared, tmp_path / f"ref-{i}.h5", options) for i, options in enumerate(trials)]
    expected = [reference_result(p, tmp_path / f"ref-{i}.h5") for i, p in enumerate(refs)]
    waited = cluster.wait_gone(array, merge, timeout=180)

    tasks = cluster.jobs(array)
    assert sorted(j["ArrayTaskId"] for j in tasks) == ["0", "1"]
    assert all(j["JobState"] == "COMPLETED" and j["ExitCode"] == "0:0" for j in tasks), tasks
    (m,) = cluster.jobs(merge)
    assert m["JobState"] == "COMPLETED" and m["ExitCode"] == "0:0", m
    assert m["Dependency"] in ("(null)", "")

    rows, failed, missing = merged(tmp_path / "sweep.h5")  # submit-sweep's default: SWEEP_DIR.h5
    assert (failed, missing) == ([], [])
    assert [r["index"] for r in rows] == [0, 1, 2]
    for r, options, (regret, learned) in zip(rows, trials, expected):
        assert r["status"] == "complete"
        assert float(r["omega"]) == float(options["omega"])
        assert r["slurm_array_job_id"] == array
        assert r["slurm_array_task_id"] == str(r["index"] // 2)
        assert r["slurm_restart_count"] == 0
        assert (r["regret"], r["learned"]) == (regret, learned), (r["index"], r["regret"], regret)
        assert trial_file(sweep_dir, r["index"])["workers"] == 1
    print(f"slurm array of 3 trials (2 tasks) and merge: {waited:.1f} s after the references, "
          f"{time.monotonic() - t0:.1f} s in all")
