#!/usr/bin/python3
"""The cost model of distributed `train` (docs/PERFORMANCE.md, "Cost model"), checked here.

  scripts/cost-model-check.py PREPARED.h5 [--ranks 1,2,4,8] [--repeat 3] [--episodes 40000]
                              [--sync-every 10000] [--build build]

Runs `mpirun -n R train` for each R (oversubscribed, 1 thread per rank, --refits 0), the
layouts interleaved --repeat times, and prints the model's prediction against the median:

  calibration  the 1-rank runs, under strace (timestamps of the input's opens, the last
               progress line, the output's create and rename), split into start, read + hash,
               fit (+ DP + Q-table setup), training, judging and writing; their learning
               curves give the cost per step and per synced row (medians of the runs).
               scripts/allreduce-latency.c (built with mpicc) gives the launch of R processes
               and the collectives' latency and bandwidth.
  checks       the 2..R-rank runs: whole-process wall time, the preamble (until training
               starts), the training, the end (judging, writing) and the sync per round, with
               the bytes of each round's sync from its learning curve (synced_rows).

Other developers share the machine. Linux shares the cores fairly between scheduling groups
(autogroups: one per session) and then between a group's processes, so R busy ranks of ours
get min(R, a max-min fair share of the C cores) given the other groups' runnable processes,
sampled every 50 ms during each run: they run o = R / share times slower than alone on a core
(o = max(1, R / C) on an idle machine). The prediction is made both for the idle machine and
with the o measured during the run (the calibration's constants are divided by its own o).
Needs h5py (Debian's python3-h5py) and the mpirun environment of docs/PERFORMANCE.md.
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import h5py
import numpy as np

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_pml": "ob1",
           "OMPI_MCA_btl": "self,vader"}
CUSTOMER_BYTES = 64  # broadcast per customer (docs/PERFORMANCE.md, "Loading a prepared file")
SYNC_ROW_BYTES = 2 * 7 * 8  # fixed-point numerators and counts per synced row


def autogroup_of(pid):
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            return f.read().split()[0]
    except (OSError, IndexError):  # gone meanwhile
        return None


class LoadSampler:
    """The other developers' demand for the cores while a run lasts, sampled every 50 ms: per
    scheduling group (Linux autogroups, one per session: the kernel shares the cores fairly
    between groups, then between a group's processes) the number of runnable processes that
    are not in this script's group."""

    def __init__(self):
        self.samples, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.ours = autogroup_of(os.getpid())

    def loop(self):
        while not self.stop.wait(0.05):
            demand = {}
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] != "R":
                            continue
                except (OSError, IndexError):
                    continue
                group = autogroup_of(pid)
                if group is not None and group != self.ours:
                    demand[group] = demand.get(group, 0) + 1
            self.samples.append(list(demand.values()))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def background(self):
        """Mean runnable processes of other groups (what uptime's load counts)."""
        return statistics.mean(sum(d) for d in self.samples) if self.samples else 0.0

    def slowdown(self, busy, cores):
        """How much longer `busy` processes of ours take than alone on a core each: the cores
        shared max-min fairly between the groups (ours demanding `busy`), averaged as speeds."""
        speeds = []
        for others in self.samples or [[]]:
            demands = sorted(others + [busy])
            left, share = float(cores), None
            mine_done = False
            for i, d in enumerate(demands):
                got = min(d, left / (len(demands) - i))
                left -= got
                if d == busy and not mine_done:
                    share, mine_done = got, True
            speeds.append(min(1.0, share / busy))
        return 1.0 / statistics.mean(speeds)


def curve_of(path):
    with h5py.File(path, "r") as f:
        c = f["learning_curve"][()]
    return {name: np.asarray(c[name]) for name in c.dtype.names}


def train_args(args, data, out, episodes):
    return [args.bin, "train", data, "-o", out, "--refits", "0", "--episodes", str(episodes), "--sync-every",
            str(args.sync_every), "--threads", "1", "--progress", "plain"]


def run_train(args, R, data, episodes, work, cores):
    """One mpirun train: wall, preamble, training and end, the curve and the background load."""
    out = os.path.join(work, f"run-{R}.h5")
    cmd = ["mpirun", "-n", str(R), "--oversubscribe", "--bind-to", "none"] + train_args(args, data, out, episodes)
    env = dict(os.environ, **MPI_ENV)
    # The last progress line ends training; stdout's first line comes after the run file.
    t0 = time.monotonic()
    with LoadSampler() as load:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        last_round = None
        for line in p.stderr:
            if re.match(r"round (\d+)/\1 ", line):
                last_round = time.monotonic() - t0
        p.wait()
        wall = time.monotonic() - t0
    p.stdout.read()
    if p.returncode != 0 or last_round is None:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode})")
    c = curve_of(out)
    train = float(c["wall_seconds"][-1])
    return {"ranks": R, "wall": wall, "preamble": last_round - train, "train": train, "end": wall - last_round,
            "background": load.background(), "o": load.slowdown(R, cores), "o_root": load.slowdown(1, cores),
            "rounds": len(c["round"]),
            "sync": float(np.mean(c["sync_seconds"])), "wait": float(np.mean(c["wait_seconds"])),
            "episode": float(np.mean(c["episode_seconds"])), "synced_rows": [int(x) for x in c["synced_rows"]],
            "steps": [int(x) for x in c["steps"]], "regrets": int(np.sum(~np.isnan(c["regret"])))}


def calibration_run(args, data, episodes, work, cores):
    """One `mpirun -n 1 train` under strace: the constants (divided by this run's slowdown o)
    and the run's own figures as a 1-rank check."""
    out = os.path.join(work, "cal.h5")
    log = os.path.join(work, "strace.log")
    cmd = ["mpirun", "-n", "1", "strace", "-f", "-ttt", "-e", "trace=execve,openat,rename,write", "-o", log] + \
        train_args(args, data, out, episodes)
    with LoadSampler() as load:
        t0 = time.time()
        subprocess.run(cmd, env=dict(os.environ, **MPI_ENV), capture_output=True, check=True)
        wall = time.time() - t0
    ev = {}
    for line in open(log):
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        t, call = float(parts[1]), parts[2]
        ev.setdefault("start", t)
        if call.startswith("openat") and f'"{data}"' in call:
            ev.setdefault("opens", []).append(t)
        elif call.startswith("write(2") and re.search(r'"round (\d+)/\1 ', call):
            ev["last_round"] = t
        elif call.startswith("openat") and ".tmp-" in call and "O_CREAT" in call and "judge_end" not in ev:
            ev["judge_end"] = t
        elif call.startswith("rename"):
            ev["written"] = t
        elif call.startswith("+++ exited"):
            ev["exit"] = t
    c = curve_of(out)
    with h5py.File(out, "r") as f:
        table_rows = int(f["q/values"].shape[0])
    opens = [t for t in ev["opens"] if t < ev["last_round"]]  # judging opens it again
    # the read opens the file (HDF5: several opens within ms), then the hash opens it once more
    gaps = np.diff(opens)
    hash_open = opens[int(np.argmax(gaps)) + 1] if len(opens) > 1 else opens[0]
    train = float(c["wall_seconds"][-1])
    o1 = load.slowdown(1, cores)
    steps = float(np.sum(c["steps"]))
    rows = float(np.sum(c["synced_rows"]))
    regrets = int(np.sum(~np.isnan(c["regret"])))
    k = {
        "background": load.background(), "o": o1,
        "start": (opens[0] - ev["start"]) / o1,
        "read": (hash_open - opens[0]) / o1,
        "fit": (ev["last_round"] - train - hash_open) / o1,
        "step": float(np.sum(c["episode_seconds"])) / steps / o1,
        "sync_row": float(np.sum(c["sync_seconds"])) / rows / o1,
        "regret": (train - float(np.sum(c["episode_seconds"]) + np.sum(c["sync_seconds"]) + np.sum(c["wait_seconds"]))) /
                  max(1, regrets) / o1,
        "judge": (ev["judge_end"] - ev["last_round"]) / o1,
        "write": (ev["written"] - ev["judge_end"]) / o1,
        "exit": (ev["exit"] - ev["written"]) / o1,
        "table_rows": table_rows,
    }
    check = {"ranks": 1, "wall": wall, "preamble": ev["last_round"] - train - t0, "train": train,
             "end": t0 + wall - ev["last_round"], "background": load.background(), "o": o1, "o_root": o1,
             "rounds": len(c["round"]), "sync": float(np.mean(c["sync_seconds"])),
             "wait": float(np.mean(c["wait_seconds"])), "episode": float(np.mean(c["episode_seconds"])),
             "synced_rows": [int(x) for x in c["synced_rows"]], "steps": [int(x) for x in c["steps"]],
             "regrets": regrets}
    return k, check


def collectives(args, ranks, work):
    """Launch (mpirun of R processes that only start and end MPI) and the collectives' table."""
    exe = os.path.join(work, "allreduce-latency")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "allreduce-latency.c")
    subprocess.run(["mpicc", "-O2", src, "-o", exe], check=True)
    env = dict(os.environ, **MPI_ENV)
    out = {}
    for R in ranks:
        launch = []
        while len(launch) < 3:
            t0 = time.monotonic()
            p = subprocess.run(["mpirun", "-n", str(R), "--oversubscribe", "--bind-to", "none", exe, "0"], env=env,
                               capture_output=True)
            if p.returncode == 0:  # Open MPI 4.1 over vader, oversubscribed, now and then crashes in MPI_Finalize
                launch.append(time.monotonic() - t0)
        row = {"launch": statistics.median(launch)}
        if R > 1:
            text = subprocess.run(["mpirun", "-n", str(R), "--oversubscribe", "--bind-to", "none", exe, "21"], env=env,
                                  check=True, capture_output=True, text=True).stdout
            for line in text.splitlines():
                cells = [c.strip() for c in line.strip("|").split("|")]
                if len(cells) == 4 and cells[0] == "allreduce sum int64" and cells[1] == "3":
                    row["latency"] = float(cells[3])
                if len(cells) == 4 and cells[0] == "allreduce sum int64" and cells[1] == "1400000":
                    row["allreduce_bytes_per_s"] = float(cells[2]) / float(cells[3])
                if len(cells) == 4 and cells[0] == "broadcast" and cells[2] == str(64 << 20):
                    row["bcast_bytes_per_s"] = float(cells[2]) / float(cells[3])
        out[R] = row
    return out


def predict(k, net, R, o, o_root, rounds, synced_rows, steps_per_worker_round, regrets):
    """Seconds of `mpirun -n R train` (1 thread per rank) by the model; see docs/PERFORMANCE.md.
    o: the slowdown of R busy ranks (R / cores on an idle machine, at least 1); o_root: of rank
    0 busy alone (the others wait in a collective)."""
    bcast = 0.0 if R == 1 else CUSTOMER_BYTES * k["customers"] / net["bcast_bytes_per_s"]
    preamble = net["launch"] + k["start"] * o_root + k["read"] * o_root + bcast + k["fit"] * o
    train = 0.0
    syncs = []
    for r in range(rounds):
        m = synced_rows[r]
        sync = k["sync_row"] * m * o
        if R > 1:  # maxima, union (gather + broadcast of lists or OR of bits), sums, round statistics
            sync += 4 * net["latency"] + SYNC_ROW_BYTES * m / net["allreduce_bytes_per_s"]
        syncs.append(sync)
        train += k["step"] * steps_per_worker_round[r] * o + sync
    train += regrets * k["regret"] * o
    end = k["judge"] * o + (k["write"] + k["exit"]) * o_root
    return {"wall": preamble + train + end, "preamble": preamble, "train": train, "end": end,
            "sync": statistics.mean(syncs)}


def cluster(k, results, P, args):
    """`train` on P ranks of a cluster, one core each (o = 1), by the model with the constants
    measured here and the network's assumed: allreduce 2 log2(P) a + 2 n / b (Rabenseifner),
    broadcast log2(P) a + 2 n / b (scatter + allgather), the union of updated rows extrapolated
    per round as a power of the workers fitted to the runs here, at most the table."""
    a, b, lg = args.net_latency, args.net_bandwidth, math.log2(P)
    allreduce = lambda n: 2 * lg * a + 2 * n / b  # noqa: E731
    measured = {runs[0]["ranks"]: sorted(runs, key=lambda r: r["wall"])[len(runs) // 2] for runs in results}
    ranks = sorted(measured)
    rounds = measured[1]["rounds"]
    launch = args.launch_per_rank * P
    preamble = launch + k["start"] + k["read"] + lg * a + 2 * CUSTOMER_BYTES * k["customers"] / b + k["fit"]
    episodes = syncs = 0.0
    union = []
    for r in range(rounds):
        rows = [measured[R]["synced_rows"][r] for R in ranks]
        slope, log_m1 = np.polyfit(np.log(ranks), np.log(rows), 1) if len(ranks) > 1 else (1.0, math.log(rows[0]))
        m = min(k["table_rows"], math.exp(log_m1) * P ** slope)
        union.append(int(m))
        per_worker = measured[1]["steps"][r]
        episodes += k["step"] * per_worker * (1 + args.imbalance)
        exchange = min(2 * P * rows[0] * 4 / b, allreduce(k["table_rows"] / 8))  # lists or the bit set
        syncs += k["sync_row"] * m + 3 * allreduce(24) + exchange + allreduce(SYNC_ROW_BYTES * m)
    regrets = measured[1]["regrets"] * k["regret"]
    end = k["judge"] + k["write"] + k["exit"]
    return {"ranks": P, "launch": launch, "preamble": preamble, "episodes": episodes, "sync": syncs,
            "regret": regrets, "end": end, "wall": preamble + episodes + syncs + regrets + end, "union": union,
            "bcast": lg * a + 2 * CUSTOMER_BYTES * k["customers"] / b}


def measure(args, ranks, cores):
    with tempfile.TemporaryDirectory() as work:
        net = collectives(args, sorted(set(ranks) | {1, 2}), work)
        data = os.path.abspath(args.data)
        results, cal = [[] for _ in ranks], []
        for _ in range(args.repeat):  # interleaved: a burst of load spreads over the layouts
            for i, R in enumerate(ranks):
                if R == 1:  # the calibration
                    constants, check = calibration_run(args, data, args.episodes, work, cores)
                    cal.append(constants)
                    results[i].append(check)
                else:
                    results[i].append(run_train(args, R, data, args.episodes, work, cores))
        k = {name: statistics.median(c[name] for c in cal) for name in cal[0]}
        with h5py.File(data, "r") as f:
            k["customers"] = int(f["customers"].shape[0])
        net[1].update(latency=0.0, allreduce_bytes_per_s=1.0, bcast_bytes_per_s=1.0)  # at 1 rank only the launch
        return k, net, results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--ranks", default="1,2,4,8")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=40000)
    ap.add_argument("--sync-every", type=int, default=10000)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    ap.add_argument("--json", help="also write the constants and the runs here")
    ap.add_argument("--from-json", help="no runs: report the constants and runs a --json file holds")
    ap.add_argument("--predict", default="64,1024", help="cluster ranks to predict (one core each)")
    ap.add_argument("--net-latency", type=float, default=2e-6, help="assumed: seconds per message (InfiniBand)")
    ap.add_argument("--net-bandwidth", type=float, default=10e9, help="assumed: bytes/s per link (HDR100)")
    ap.add_argument("--launch-per-rank", type=float, default=0.003, help="assumed: launcher seconds per rank")
    ap.add_argument("--imbalance", type=float, default=0.05,
                    help="assumed: the slowest rank's episodes take this much longer than the mean")
    args = ap.parse_args()
    args.bin = os.path.abspath(os.path.join(args.build, "reinforcer"))
    ranks = [int(x) for x in args.ranks.split(",")]
    if 1 not in ranks:
        ap.error("--ranks must include 1: the 1-rank runs are the calibration")
    cores = os.cpu_count()
    if args.from_json:
        with open(args.from_json) as f:
            dump = json.load(f)
        k, results = dump["constants"], dump["runs"]
        net = {int(R): v for R, v in dump["collectives"].items()}
    else:
        k, net, results = measure(args, ranks, cores)
        dump = {"constants": k, "collectives": net, "runs": results}
    print(f"{os.path.basename(args.data)}: {k['customers']:,} customers, {cores} cores, "
          f"uptime: {open('/proc/loadavg').read().split()[:3]}")
    print("constants (1 rank, per unit of a whole core): " + ", ".join(
        f"{n} {k[n]:.4g}" for n in ["start", "read", "fit", "step", "sync_row", "regret", "judge", "write", "exit",
                                    "background", "o"]))
    print("collectives: " + "; ".join(f"R={R}: " + ", ".join(f"{a} {b:.3g}" for a, b in v.items())
                                      for R, v in sorted(net.items())))
    print("\n| ranks | background load b | slowdown o | predicted wall s (idle: o = R / C) | predicted (o measured) | measured wall s "
          "(median) | error | preamble pred / meas | training pred / meas | end pred / meas | "
          "sync per round pred / meas | wait per round (meas) | synced rows per round |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for runs in results:
        R = runs[0]["ranks"]
        med = {key: statistics.median(r[key] for r in runs) for key in
               ["wall", "preamble", "train", "end", "sync", "wait", "background", "o", "o_root"]}
        ref = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
        shape = (ref["rounds"], ref["synced_rows"], [s // R for s in ref["steps"]], ref["regrets"])
        idle = predict(k, net[R], R, max(1.0, R / cores), 1.0, *shape)
        loaded = predict(k, net[R], R, med["o"], med["o_root"], *shape)
        err = 100 * (loaded["wall"] - med["wall"]) / med["wall"]
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
        rows = ", ".join(f"{m:,}" for m in ref["synced_rows"])
        print(f"| {R} | {med['background']:.1f} | {med['o']:.2f} | {idle['wall']:.2f} | {loaded['wall']:.2f} | {med['wall']:.2f} "
              f"({walls}) | {err:+.0f}% | "
              f"{loaded['preamble']:.2f} / {med['preamble']:.2f} | {loaded['train']:.2f} / {med['train']:.2f} | "
              f"{loaded['end']:.2f} / {med['end']:.2f} | {1e3 * loaded['sync']:.1f} / {1e3 * med['sync']:.1f} ms | {1e3 * med['wait']:.1f} ms | "
              f"{rows} |")
    print(f"\ncluster prediction (one core per rank; assumed: latency {args.net_latency:g} s, bandwidth "
          f"{args.net_bandwidth:g} B/s, launch {args.launch_per_rank:g} s per rank, imbalance {args.imbalance:g}; "
          f"table rows {k['table_rows']:,}):\n")
    print("| ranks | wall s | launch | preamble (incl. launch) | broadcast of the customers | episodes | sync (all "
          "rounds) | regret | end | union rows per round |\n|---|---|---|---|---|---|---|---|---|---|")
    dump["cluster"] = []
    for P in [int(x) for x in args.predict.split(",")]:
        c = cluster(k, results, P, args)
        dump["cluster"].append(c)
        print(f"| {P:,} | {c['wall']:.2f} | {c['launch']:.2f} | {c['preamble']:.2f} | {c['bcast']:.3f} | "
              f"{c['episodes']:.2f} | {c['sync']:.3f} | {c['regret']:.2f} | {c['end']:.2f} | "
              f"{', '.join(f'{m:,}' for m in c['union'])} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dump, f, indent=1)


if __name__ == "__main__":
    main()
