"""slurm/train.sbatch on a real cluster: 2 ranks x 2 threads (SLURM_NTASKS x SLURM_CPUS_PER_TASK)
started by srun --mpi=pmix and by mpirun give the result of 1 rank x 4 threads (the same seed
and worker count give the same Q-table whatever the layout). The batch shell's USR1 (what
--signal=B:USR1@T sends before the time limit; here sent at once with scancel --batch) is
forwarded through mpirun to the ranks, which checkpoint; the job requeues itself and resumes
(--resume) to the result of an uninterrupted run."""
import time

import h5py

from conftest import SLURM_DIR, reference_result, train_reference

OPTIONS = {"episodes": 20000, "refits": 0, "sync-every": 5000}
LONGER = {"episodes": 40000, "refits": 0, "sync-every": 5000}
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_pml": "ob1",
           "OMPI_MCA_btl": "self,vader"}


def sbatch_train(cluster, prepared, out, options, launcher, threads=2):
    """Submits train.sbatch on 2 ranks x threads; returns the job id."""
    args = []
    for k, v in options.items():
        args += [f"--{k}", v]
    p = cluster.run("sbatch", "--parsable", "--nodes=1", "--ntasks-per-node=2", f"--cpus-per-task={threads}",
                    f"--output={out}.log", SLURM_DIR / "train.sbatch", prepared, out, *args,
                    env=dict(MPI_ENV, LAUNCHER=launcher))
    return p.stdout.strip().split(";")[0]


def result(path):
    with h5py.File(path, "r") as f:
        return (float(f.attrs["regret"]), float(f.attrs["learned_start_value"])), (int(f.attrs["ranks"]),
                                                                                  int(f.attrs["threads"]))


def test_hybrid_layouts_under_srun_and_mpirun(cluster, prepared, tmp_path):
    t0 = time.monotonic()
    jobs = {launcher: sbatch_train(cluster, prepared, tmp_path / f"{launcher}.h5", OPTIONS, launcher)
            for launcher in ("srun", "mpirun")}
    ref = train_reference(prepared, tmp_path / "reference.h5", OPTIONS, threads=4)
    expected = reference_result(ref, tmp_path / "reference.h5")
    cluster.wait_gone(*jobs.values(), timeout=120)
    for launcher, job in jobs.items():
        (j,) = cluster.jobs(job)
        log = (tmp_path / f"{launcher}.h5.log").read_text()
        assert j["JobState"] == "COMPLETED" and j["ExitCode"] == "0:0", (j, log)
        assert (launcher == "srun") == ("srun --mpi=pmix" in log), log
        assert result(tmp_path / f"{launcher}.h5") == (expected, (2, 2))
    print(f"srun and mpirun 2 x 2: {time.monotonic() - t0:.1f} s")


def test_usr1_checkpoints_requeues_and_resumes(cluster, prepared, tmp_path):
    t0 = time.monotonic()
    out = tmp_path / "run.h5"
    checkpoint = tmp_path / "run.h5.checkpoint.h5"
    job = sbatch_train(cluster, prepared, out, dict(LONGER, **{"checkpoint-every": 2}), "mpirun", threads=1)
    ref = train_reference(prepared, tmp_path / "reference.h5", LONGER, threads=2)
    deadline = time.monotonic() + 60
    while not checkpoint.exists():  # training has begun: its handlers are in place
        assert time.monotonic() < deadline and cluster.queued(job), (tmp_path / "run.h5.log").read_text()
        time.sleep(0.05)
    cluster.run("scancel", "--batch", "--signal=USR1", job)
    expected = reference_result(ref, tmp_path / "reference.h5")
    cluster.wait_gone(job, timeout=120)
    (j,) = cluster.jobs(job)
    log = (tmp_path / "run.h5.log").read_text()
    assert j["JobState"] == "COMPLETED" and j["ExitCode"] == "0:0" and j["Restarts"] == "1", (j, log)
    assert "SIGUSR1 received" in log and "requeued job" in log and "--resume" in log, log
    assert result(out) == (expected, (2, 1))
    assert not checkpoint.exists()  # a finished run's checkpoint is removed
    print(f"mpirun 2 x 1 interrupted and requeued: {time.monotonic() - t0:.1f} s")
