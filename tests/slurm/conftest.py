"""A real single-node SLURM cluster for the tests of slurm/*: munged, slurmctld and slurmd
(Debian's munge and slurm-wlm) started by this harness in a private directory, and stopped
(exactly the processes it started) when the test file is done.

Nothing here skips: a cluster that cannot start is a test error, with the daemons' logs.
The daemons run as root (SlurmUser=root), munged as the munge user; the tests must run as root.
Set REINFORCER_KEEP_SLURM=1 to keep the cluster's directory (config, logs, state).
"""
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import h5py
import pytest

BIN = os.environ.get("REINFORCER_BIN", "reinforcer")
SOURCE_DIR = Path(os.environ.get("REINFORCER_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SLURM_DIR = SOURCE_DIR / "slurm"

# Client and job environment: no variables of an enclosing SLURM job (CI may itself run in one).
_FOREIGN = ("SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SCONTROL_")


def _clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, lines=40):
    try:
        return "".join(Path(path).read_text(errors="replace").splitlines(True)[-lines:])
    except OSError as e:
        return f"({e})"


def _state(pid):
    """The process state letter from /proc/PID/stat (Z: exited, not yet reaped), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


class Cluster:
    """One node (this host, 4 CPUs declared over the real cores), one partition."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="reinforcer-slurm-"))
        os.chmod(self.root, 0o755)  # munged checks the path to its socket
        self.procs = []  # (name, Popen, log) in start order
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.ctld_log = self.root / "log" / "slurmctld.log"
        self.slurmd_log = self.root / "log" / "slurmd.log"
        self.env = _clean_env()
        self.env["SLURM_CONF"] = str(self.conf)
        bin_dir = str(Path(BIN).resolve().parent) if os.sep in BIN else ""
        if bin_dir:
            self.env["PATH"] = bin_dir + os.pathsep + self.env.get("PATH", "/usr/bin:/bin")

    # ---- start and stop

    def start(self):
        missing = [p for p in ("munged", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")
                   if not shutil.which(p, path=self.env["PATH"] + ":/usr/sbin:/sbin")]
        if missing:
            raise RuntimeError(f"SLURM test cluster: {', '.join(missing)} not installed "
                               "(scripts/install-deps.sh installs slurm-wlm and munge)")
        if os.geteuid() != 0:
            raise RuntimeError("SLURM test cluster: the daemons need root (slurmd runs jobs as their user)")
        self._start_munge()
        self._write_conf()
        self._spawn("slurmctld", ["slurmctld", "-D", "-c", "-f", str(self.conf)])
        self._until(lambda: "UP" in self.run("scontrol", "ping", check=False).stdout, 20, "slurmctld answers ping")
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.host])
        self._until(lambda: self.run("sinfo", "-h", "-n", self.host, "-o", "%t", check=False).stdout.strip() == "idle",
                    30, f"node {self.host} is idle")

    def _start_munge(self):
        d = self.root / "munge"
        d.mkdir()
        shutil.chown(d, "munge", "munge")
        os.chmod(d, 0o755)
        self._spawn("munged", ["munged", "-F", f"--socket={self.munge_socket}", f"--pid-file={d}/munged.pid",
                               f"--log-file={d}/munged.log", f"--seed-file={d}/munged.seed"],
                    user="munge", group="munge", extra_groups=[])

        def ok():
            enc = subprocess.run(["munge", "-n", "-S", str(self.munge_socket)], capture_output=True)
            return enc.returncode == 0 and subprocess.run(["unmunge", "-S", str(self.munge_socket)], input=enc.stdout,
                                                          capture_output=True).returncode == 0
        self._until(ok, 15, "munged encodes and decodes a credential")

    def _write_conf(self):
        for d in ("state", "spool", "log"):
            (self.root / d).mkdir()
        (self.root / "plugstack.conf").write_text("")
        node = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
        real = dict(kv.split("=", 1) for kv in node.split())
        # Four CPUs on however many cores there are (config_overrides): array tasks share cores.
        cpus = max(4, int(real["CPUs"]))
        self.conf.write_text(f"""\
ClusterName=reinforcer-test
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits cred_expire + 1 s before it may start again (default 120 s).
AuthInfo=cred_expire=5,socket={self.munge_socket}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
# Start batch jobs at once; look at pending (e.g. requeued) jobs every second, not every minute.
SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1
# An afterok dependency that can no longer be met cancels the job instead of leaving it pending.
DependencyParameters=kill_invalid_depend
ReturnToService=2
KillWait=5
MinJobAge=600
StateSaveLocation={self.root}/state
SlurmdSpoolDir={self.root}/spool
SlurmctldPidFile={self.root}/slurmctld.pid
SlurmdPidFile={self.root}/slurmd.pid
SlurmctldLogFile={self.ctld_log}
SlurmdLogFile={self.slurmd_log}
# debug2 logs every time-limit check ("Testing job time limits"): the time-limit test reads them.
SlurmctldDebug=debug2
SlurmdDebug=info
PlugStackConfig={self.root}/plugstack.conf
SlurmdParameters=config_overrides
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={cpus} Boards=1 SocketsPerBoard=1 CoresPerSocket={cpus} ThreadsPerCore=1 RealMemory={real.get("RealMemory", 1000)} State=UNKNOWN
PartitionName=test Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
""")

    def _spawn(self, name, argv, **kw):
        log = self.root / f"{name}.out"
        with open(log, "wb") as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=self.env, cwd=self.root, **kw)
        self.procs.append((name, p, log))

    def _until(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p, _ in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"SLURM test cluster: {name} exited {p.returncode} while waiting until "
                                       f"{what}\n{self.logs()}")
            if cond():
                return
            time.sleep(0.1)
        raise RuntimeError(f"SLURM test cluster: not within {timeout} s: {what}\n{self.logs()}")

    def logs(self):
        parts = [f"--- {log}\n{_tail(log)}" for _, _, log in self.procs]
        for log in (self.ctld_log, self.slurmd_log, self.root / "munge" / "munged.log"):
            parts.append(f"--- {log}\n{_tail(log, 60)}")
        return "\n".join(parts)

    def stop(self):
        """Cancels every job, waits for them to end, then stops the daemons it started (by PID)."""
        problems = []
        if any(n == "slurmctld" and p.poll() is None for n, p, _ in self.procs):
            ids = self.run("squeue", "-h", "-o", "%i", check=False).stdout.split()
            if ids:
                self.run("scancel", *ids, check=False)
                try:
                    self.wait_gone(*ids, timeout=30)
                except AssertionError as e:
                    problems.append(str(e))
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    problems.append(f"{name} (pid {p.pid}) ignored SIGTERM for 15 s; killed")
                    p.kill()
                    p.wait(timeout=15)
            if _state(p.pid) not in (None, "Z"):
                problems.append(f"{name} (pid {p.pid}) still runs after its stop")
        if os.environ.get("REINFORCER_KEEP_SLURM"):
            print(f"SLURM test cluster kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        return problems

    # ---- use

    def run(self, *argv, check=True, timeout=60, env=None):
        e = dict(self.env, **(env or {}))
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=e, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, argv))} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    def queued(self, *ids):
        """Lines of squeue for these jobs (pending, running, completing)."""
        out = self.run("squeue", "-h", "-j", ",".join(map(str, ids)), "-o", "%i %T", check=False).stdout
        return [l for l in out.splitlines() if l.strip()]

    def wait_gone(self, *ids, timeout=120):
        """Polls squeue until none of the jobs is pending, running or completing; returns seconds."""
        t0 = time.monotonic()
        while self.queued(*ids):
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"jobs {ids} still queued after {timeout} s: {self.queued(*ids)}\n{self.logs()}")
            time.sleep(0.25)
        return time.monotonic() - t0

    def jobs(self, job_id):
        """scontrol's records of a job (one per array task), as dicts."""
        out = self.run("scontrol", "-o", "show", "job", job_id).stdout
        return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines() if line.strip()]

    def next_time_limit_check(self, after, period=30.0):
        """When slurmctld will next test the jobs' time limits (and send their warning signals)
        after the epoch time 'after': it does every 30 s (PERIODIC_TIMEOUT), counted from its
        start; debug2 logs each test. Read from its log: the last test (or its start) + 30 s."""
        last = None
        for line in self.ctld_log.read_text(errors="replace").splitlines():
            if "Testing job time limits" in line or re.search(r"slurmctld version \S+ started", line):
                last = datetime.datetime.strptime(line[1:line.index("]")], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
        assert last is not None, f"no time-limit test nor start in {self.ctld_log}\n{self.logs()}"
        nxt = last + period
        while nxt < after:
            nxt += period
        return nxt


@pytest.fixture(scope="session")
def cluster():
    c = Cluster()
    try:
        c.start()
    except BaseException:
        logs = c.logs()
        problems = c.stop()
        raise RuntimeError(f"the SLURM test cluster did not start; {problems}\n{logs}") from None
    yield c
    problems = c.stop()
    assert not problems, problems


# ---- reinforcer, sweeps and their files

def reinforcer_path():
    """The executable's absolute path (for the REINFORCER knob)."""
    return str(Path(BIN).resolve()) if os.sep in BIN else (shutil.which(BIN) or BIN)


def reinforcer(*args, check=True, timeout=600):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"reinforcer {' '.join(map(str, args))} exited {p.returncode}: {p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    reinforcer("synth", "-n", 4000, "--seed", 3, "-o", d / "s.csv")
    reinforcer("prepare", d / "s.csv", "-o", d / "p.h5", "-q")
    return d / "p.h5"


def write_grid(path, **keys):
    """A [grid] file; each keyword is an option (underscores for dashes), a value or a list."""
    lines = ["[grid]"]
    for k, v in keys.items():
        values = v if isinstance(v, (list, tuple)) else [v]
        lines.append(f"{k.replace('_', '-')} = {', '.join(map(str, values))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def grid_trials(grid):
    """The grid's trials as reinforcer lists them: [{option: value}] in trial order."""
    rows = [l.split() for l in reinforcer("sweep", "--grid", grid, "--list").stdout.splitlines() if l.strip()]
    header = rows[0]
    assert header[0] == "trial"
    return [dict(zip(header[1:], r[1:])) for r in rows[1:]]


def submit_sweep(cluster, *args, env=None):
    """Runs slurm/submit-sweep.sh; returns (array job id or None, merge job id, its output)."""
    p = cluster.run(SLURM_DIR / "submit-sweep.sh", *args, env=env)
    array = re.search(r"^array job: (\d+)", p.stdout, re.M)
    merge = re.search(r"^merge job: (\d+)", p.stdout, re.M)
    assert merge, p.stdout + p.stderr
    return (array.group(1) if array else None), merge.group(1), p.stdout


def trial_file(sweep_dir, t):
    with h5py.File(Path(sweep_dir) / f"trial-{t:06d}.h5", "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def events(sweep_dir):
    """events.log as dicts (time, host, job, task, restart, pid, trial, event, ...), in order."""
    out = []
    for line in (Path(sweep_dir) / "events.log").read_text().splitlines():
        when, rest = line.split(" ", 1)
        e = {"time": when}
        for m in re.finditer(r"(\w+)=(\S*)", rest):
            e.setdefault(m.group(1), m.group(2))
        e["trial"] = int(e["trial"])
        out.append(e)
    return out


def merged(path):
    """The merged sweep file: (trials as a list of dicts, failed indices, missing indices)."""
    with h5py.File(path, "r") as f:
        t = f["trials"][()]
        rows = [{n: (r[n].decode() if isinstance(r[n], bytes) else r[n].item()) for n in t.dtype.names} for r in t]
        return rows, [int(x) for x in f["failed"]["trial"]], [int(x) for x in f["missing"]["trial"]]


def train_reference(prepared, out, options, threads=1):
    """Starts the trial run directly with 'reinforcer train' (1 rank x 1 thread, unless told);
    reference_result() waits for it."""
    args = []
    for k, v in options.items():
        args += [f"--{k}", str(v)]
    return subprocess.Popen([BIN, "train", str(prepared), "-o", str(out), "--threads", str(threads), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def reference_result(proc, out):
    """(regret, learned value) of a finished train_reference."""
    log, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, log
    with h5py.File(out, "r") as f:
        return float(f.attrs["regret"]), float(f.attrs["learned_start_value"])
