"""Under mpirun, rank 0 alone reads and hashes the prepared file and broadcasts it: every rank
holds the same customer table and hash as a single process reads, and a bad file ends every
rank with rank 0's one message and its exit code, without a hang."""
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from conftest import synth_prepared, BIN, run

MPIEXEC = shutil.which("mpiexec") or "mpiexec"


def mpirun(n, *args, timeout=300):
    cmd = [MPIEXEC, "-n", str(n), "--bind-to", "none", BIN, *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
                          timeout=timeout)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return synth_prepared(tmp_path_factory.mktemp("mpi-load"), 20000, 7)


def digests(out):
    """rank -> (digest of the rank's customer table, the file's SHA-256 as the rank holds it)."""
    found = re.findall(r"^rank (\d+) table digest and file sha256: ([0-9a-f]{64}) ([0-9a-f]{64})$", out, re.M)
    return {int(r): (table, sha) for r, table, sha in found}


def test_every_rank_holds_the_table_and_hash_a_single_process_reads(prepared):
    alone = run("bench", "--load", prepared, "--repeat", 1, check=True)
    p = mpirun(2, "bench", "--load", prepared, "--repeat", 1)
    assert p.returncode == 0, p.stderr
    single, ranks = digests(alone.stdout), digests(p.stdout)
    assert list(single) == [0] and sorted(ranks) == [0, 1], p.stdout
    assert ranks[0] == ranks[1] == single[0], p.stdout
    with open(prepared, "rb") as f:
        assert single[0][1] == hashlib.sha256(f.read()).hexdigest()  # hashed once, on rank 0, and broadcast
    assert "read, hash and broadcast to 2 ranks" in p.stdout


@pytest.mark.parametrize("command", [["train", "-o", "run.h5", "--episodes", 1000], ["bench", "--repeat", 1]])
def test_a_bad_prepared_file_ends_every_rank_with_rank_0s_message(tmp_path, command):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an HDF5 file at all\n" * 100)
    args = [command[0], bad, *command[1:]] if command[0] == "train" else ["bench", bad, *command[1:]]
    p = mpirun(2, *args, timeout=120)  # a rank left waiting for the table would hang here
    assert p.returncode == 3, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.startswith("reinforcer")]
    assert lines == [f"reinforcer {command[0]}: error: {bad}: not an HDF5 file"], p.stderr
    assert "rank 1" not in p.stderr
