"""An array task with a time limit it cannot meet: SLURM's warning signal (B:USR1) reaches the
batch shell, which forwards it; reinforcer checkpoints the trial and exits 75; only that task
requeues itself, resumes from the checkpoint, and ends with the regret and learned value of the
same trial run without interruption. The other tasks are not requeued.

SLURM tests time limits (and sends the warning signals) only every 30 s (slurmctld's
PERIODIC_TIMEOUT), at a phase that is not ours to choose. A 1-minute limit with the signal 50 s
before it is signalled at the first check after the task starts. So that the trial need not
outlast a whole period, the long task is held, given its 1-minute limit, and released about 3 s
before slurmctld's next check, read from its log (debug2 logs every check)."""
import re
import time

import h5py

from conftest import (events, merged, reference_result, reinforcer, reinforcer_path, submit_sweep, train_reference,
                      trial_file, write_grid)

SECONDS_BEFORE_CHECK = 3.0


def training_steps_per_second(prepared, tmp_path):
    """One core's training speed here and now (one sync round, so one regret evaluation)."""
    out = tmp_path / "calibrate.h5"
    reinforcer("train", prepared, "-o", out, "--episodes", 100000, "--sync-every", 100000, "--refits", 0,
               "--threads", 1)
    with h5py.File(out, "r") as f:
        row = f["learning_curve"][-1]
        return float(row["steps"]) / float(row["wall_seconds"])


def test_time_limit_checkpoints_and_requeues_only_that_task(cluster, prepared, tmp_path):
    t0 = time.monotonic()
    rate = training_steps_per_second(prepared, tmp_path)
    # The long trial trains ~8 s on one core in 20 sync rounds (a checkpoint within ~0.4 s of
    # the signal); the others are one and two rounds.
    rounds = 20
    sync = max(1000, int(rate * 8.0 / 52 / rounds) // 1000 * 1000)
    long_episodes = sync * rounds
    grid = write_grid(tmp_path / "grid.ini", episodes=[sync, 2 * sync, long_episodes], omega=0.7, refits=0,
                      sync_every=sync)
    sweep_dir = tmp_path / "sweep"
    array, merge, out = submit_sweep(cluster, prepared, grid, sweep_dir, "--", "--hold", "--signal=B:USR1@50",
                                     env={"MAX_REQUEUES": "4", "REINFORCER": reinforcer_path()})
    cluster.run("scontrol", "update", f"JobId={array}_2", "TimeLimit=1")
    cluster.run("scontrol", "release", f"{array}_0,{array}_1")
    reference = train_reference(prepared, tmp_path / "reference.h5",
                                {"episodes": long_episodes, "omega": 0.7, "refits": 0, "sync-every": sync})

    check = cluster.next_time_limit_check(after=time.time() + SECONDS_BEFORE_CHECK + 0.5)
    time.sleep(max(0.0, check - SECONDS_BEFORE_CHECK - time.time()))
    released = time.time()
    cluster.run("scontrol", "release", f"{array}_2")

    expected = reference_result(reference, tmp_path / "reference.h5")
    cluster.wait_gone(array, merge, timeout=240)
    total = time.monotonic() - t0

    tasks = {j["ArrayTaskId"]: j for j in cluster.jobs(array)}
    assert sorted(tasks) == ["0", "1", "2"]
    assert all(j["JobState"] == "COMPLETED" and j["ExitCode"] == "0:0" for j in tasks.values()), tasks
    assert tasks["0"]["Restarts"] == tasks["1"]["Restarts"] == "0"
    restarts = int(tasks["2"]["Restarts"])
    assert 1 <= restarts <= 4, tasks["2"]
    assert tasks["2"]["TimeLimit"] == "00:01:00"
    (m,) = cluster.jobs(merge)
    assert m["JobState"] == "COMPLETED" and m["ExitCode"] == "0:0", m

    # Trial files: only the long trial was requeued; it ends as the uninterrupted run does.
    for t in (0, 1):
        f = trial_file(sweep_dir, t)
        assert f["status"] == "complete" and f["slurm_restart_count"] == 0, f
    f = trial_file(sweep_dir, 2)
    assert f["status"] == "complete" and f["slurm_array_task_id"] == "2"
    assert f["slurm_restart_count"] == restarts
    assert (f["regret"], f["learned"]) == expected
    assert sorted(p.name for p in sweep_dir.glob("trial-*")) == [f"trial-{t:06d}.h5" for t in range(3)]

    # events.log: the long trial was interrupted, then started again (restart > 0) and completed;
    # the others ran once, never interrupted.
    log = events(sweep_dir)
    for t in (0, 1):
        assert [e["event"] for e in log if e["trial"] == t] == ["start", "complete"]
        assert {e["restart"] for e in log if e["trial"] == t} == {"0"}
    mine = [e for e in log if e["trial"] == 2]
    assert [e["event"] for e in mine] == ["start", "interrupted"] * restarts + ["start", "complete"], mine
    assert [int(e["restart"]) for e in mine[::2]] == list(range(restarts + 1)), mine

    rows, failed, missing = merged(tmp_path / "sweep.h5")
    assert (failed, missing) == ([], [])
    assert [r["slurm_restart_count"] for r in rows] == [0, 0, restarts]

    # How SLURM's coarse timing played out, from the task's log.
    task_log = (sweep_dir / "logs" / f"sweep-{array}_2.out").read_text()
    signals = re.findall(r"SIGUSR1 received at ([^;\s]+)", task_log)
    assert len(signals) == restarts and task_log.count("requeued ") == restarts, task_log
    print(f"training {rate / 1e6:.1f} M steps/s: long trial {long_episodes} episodes; released "
          f"{check - released:.1f} s before the predicted check; USR1 at {signals}; {restarts} requeue(s); "
          f"{total:.1f} s in all")
