"""A sweep cancelled part-way (scancel of the array while tasks are done, running and pending),
then slurm/submit-sweep.sh --resubmit-failed: no trial is lost, duplicated or run twice, and
the merge reports none missing."""
import collections
import re
import time

from conftest import events, merged, submit_sweep, trial_file, write_grid


def complete_files(sweep_dir):
    return sorted(int(m.group(1)) for p in sweep_dir.iterdir() if (m := re.fullmatch(r"trial-(\d{6})\.h5", p.name)))


def ranges(indices):
    """Indices in --array syntax, as 'reinforcer sweep --status' writes them (e.g. 2,4-5)."""
    out, i = [], 0
    while i < len(indices):
        j = i
        while j + 1 < len(indices) and indices[j + 1] == indices[j] + 1:
            j += 1
        out.append(str(indices[i]) if j == i else f"{indices[i]}-{indices[j]}")
        i = j + 1
    return ",".join(out)


def test_cancel_part_way_then_resubmit_failed(cluster, prepared, tmp_path):
    t0 = time.monotonic()
    grid = write_grid(tmp_path / "grid.ini", omega=[0.6, 0.7, 0.8], seed=[1, 2], episodes=60000, refits=0,
                      sync_every=5000)
    sweep_dir = tmp_path / "sweep"
    first, first_merge, out = submit_sweep(cluster, "--throttle", 1, prepared, grid, sweep_dir)
    assert "--array=0-5%1" in out, out

    # Cancel once two trials are complete and a third has started, while the rest wait (%1).
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, f"the sweep did not get going: {cluster.queued(first)}"
        done = complete_files(sweep_dir) if sweep_dir.is_dir() else []
        started = {e["trial"] for e in events(sweep_dir) if e["event"] == "start"} if done else set()
        if len(done) >= 2 and len(started) > len(done):
            break
        time.sleep(0.05)
    states = cluster.queued(first)
    cluster.run("scancel", first)
    cluster.wait_gone(first, first_merge, timeout=60)
    status = cluster.run("reinforcer", "sweep", "--status", sweep_dir).stdout
    complete_before = complete_files(sweep_dir)
    assert 2 <= len(complete_before) < 6, (states, status)
    assert any(" PENDING" in s for s in states), states  # the throttle held tasks back
    # The cancelled task was not requeued, and did not end as if it had finished.
    cancelled = [j for j in cluster.jobs(first) if j["JobState"] == "CANCELLED"]
    assert cancelled and all(j["Restarts"] == "0" for j in cluster.jobs(first)), cluster.jobs(first)
    (m,) = cluster.jobs(first_merge)
    assert m["JobState"] == "CANCELLED", m  # its afterok can no longer be met

    second, second_merge, out = submit_sweep(cluster, "--resubmit-failed", prepared, grid, sweep_dir)
    rerun = [t for t in range(6) if t not in complete_before]
    assert f"submitted --array={ranges(rerun)}\n" in out, out
    cluster.wait_gone(second, second_merge, timeout=120)
    assert all(j["JobState"] == "COMPLETED" for j in cluster.jobs(second)), cluster.jobs(second)
    (m,) = cluster.jobs(second_merge)
    assert m["JobState"] == "COMPLETED" and m["ExitCode"] == "0:0", m

    # Exactly one complete file per trial: those done before the cancel untouched, the rest
    # from the second array.
    for t in range(6):
        f = trial_file(sweep_dir, t)
        assert f["status"] == "complete" and f["index"] == t
        assert f["slurm_array_job_id"] == (first if t in complete_before else second), (t, f["slurm_array_job_id"])
        assert f["slurm_restart_count"] == 0
    assert sorted(p.name for p in sweep_dir.glob("trial-*")) == [f"trial-{t:06d}.h5" for t in range(6)]

    # events.log: one complete per trial, and no start after it.
    log = events(sweep_dir)
    completes = collections.Counter(e["trial"] for e in log if e["event"] == "complete")
    assert completes == {t: 1 for t in range(6)}, completes
    for t in range(6):
        mine = [e["event"] for e in log if e["trial"] == t]
        assert mine[-1] == "complete" and "failed" not in mine, (t, mine)
        assert mine.count("start") == 1 + mine.count("interrupted"), (t, mine)
    interrupted = [e["trial"] for e in log if e["event"] == "interrupted"]
    for t in interrupted:  # the running trial: checkpointed on SIGTERM, resumed by the second array
        assert t not in complete_before and trial_file(sweep_dir, t)["slurm_array_job_id"] == second

    rows, failed, missing = merged(tmp_path / "sweep.h5")
    assert (failed, missing) == ([], [])
    assert [r["status"] for r in rows] == ["complete"] * 6
    print(f"cancel after {len(complete_before)} complete trials (interrupted: {interrupted}), "
          f"resubmitted {rerun}: {time.monotonic() - t0:.1f} s")
