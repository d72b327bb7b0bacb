"""reinforcer bench: the tables docs/PERFORMANCE.md is made of (what they contain, not how fast:
speed is measured by running the benchmark, never asserted by a test)."""
import re

import pytest

from conftest import synth_prepared, run


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return synth_prepared(tmp_path_factory.mktemp("bench"), 3000, 4)


def rows(text, first_cell):
    return [line for line in text.splitlines() if line.startswith(f"| {first_cell} |")]


def test_bench_prints_throughput_scaling_and_sync_tables(prepared):
    p = run("bench", prepared, "--repeat", 1, "--episodes", 2000, "--threads-list", "1,2", "--sync-list", "500,1000",
            "--sync-episodes", 2000, "--quality-list", "300,600", "--sweep-trials", 3, check=True)
    out = p.stdout
    assert "ceiling: the same episode loop on a null environment" in out
    for env in ("funnel", "replay"):
        layouts = [r.split("|")[2].strip() for r in rows(out, env)]
        assert layouts == ["1 x 1", "1 x 2"], env
    for r in rows(out, "funnel") + rows(out, "replay"):
        cells = [c.strip() for c in r.strip("|").split("|")]
        assert float(cells[2].rstrip(" M")) > 0  # steps/s per worker
        steps_ns, ceiling_ns = float(cells[5]), float(cells[6])
        assert steps_ns == pytest.approx(1e3 / float(cells[2].rstrip(" M")), rel=0.01)  # ns per step
        assert ceiling_ns > 0
        assert re.fullmatch(r"\d+% \(\d+-\d+%\)", cells[7]), r  # share of the ceiling, with its range
    assert "| sync every E episodes | rounds | wall s | sync s | sync overhead | waiting for the slowest rank |" in out
    sync_part, rest = out.split("time to quality")
    quality_part, sweep_part = rest.split("sweep trial overhead")
    sync = {int(r.split("|")[1]): r for r in sync_part.splitlines() if re.match(r"\| \d+ \|", r)}
    assert sorted(sync) == [500, 1000]
    assert sync[500].split("|")[2].strip() == "4" and sync[1000].split("|")[2].strip() == "2"  # rounds
    # Time to quality: a row per budget, after the always-wait baseline, with regret per cohort.
    quality = {r.split("|")[1].strip(): [c.strip() for c in r.strip("|").split("|")] for r in quality_part.splitlines()
               if r.startswith("| ") and not r.startswith("| episodes")}
    assert list(quality) == ["always wait (baseline)", "300", "600"]
    for cells in quality.values():
        assert all(re.fullmatch(r"-?\d+\.\d\d%", c) for c in cells[2:5]), cells  # all, outbound, inbound
    assert float(quality["600"][1]) > 0  # wall seconds
    # A sweep's per-trial costs: one row of positive milliseconds, and the allreduce.
    header = "| read options | fit (fresh) | train 1 episode | judge (exact policy evaluation) | trial file |"
    assert header in sweep_part
    values = [r for r in sweep_part.splitlines() if re.match(r"\| \d", r)]
    assert len(values) == 1
    cells = [float(c) for c in values[0].strip("|").split("|")]
    assert len(cells) == 7 and all(c >= 0 for c in cells) and cells[1] > 0 and cells[3] > 0
    assert re.search(r"Q-table allreduce \(\d+ doubles, 1 ranks\): \d+\.\d+ ms median", sweep_part)


@pytest.mark.parametrize("option, value", [("--threads-list", "0"), ("--sync-list", "10,x"), ("--repeat", "0"),
                                           ("--quality-list", "5"),
                                           ("--success-scale", "-1")])
def test_bench_refuses_bad_options(prepared, option, value):
    p = run("bench", prepared, option, value)
    assert p.returncode == 2, p.stderr
    assert option in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_bench_dqn_prints_gradient_steps_per_second():
    p = run("bench", "--dqn", "--dqn-steps", 20, "--dqn-inputs", 12, "--repeat", 1, check=True)
    out = p.stdout
    assert "DQN gradient steps: 12 inputs, hidden 64x64, 7 outputs, batch 64, double DQN" in out
    (row,) = rows(out, "1")
    cells = [c.strip() for c in row.strip("|").split("|")]
    steps_per_s, mflop, gflops = float(cells[1]), float(cells[2]), float(cells[3])
    assert steps_per_s > 0
    # 3 forward passes of 12x64 + 64x64 + 64x7 multiply-adds per sample, the backward's weight
    # gradients and the deltas of all but the first layer, 64 samples
    layers = [(12, 64), (64, 64), (64, 7)]
    expected = 64 * (3 * sum(2 * a * b for a, b in layers) + sum(2 * a * b * (1 if i == 0 else 2) for i, (a, b) in enumerate(layers)))
    assert mflop == pytest.approx(expected / 1e6, abs=0.006)
    assert gflops == pytest.approx(steps_per_s * mflop / 1e3, rel=0.02, abs=0.01)
    assert cells[6] == "100%"


def test_bench_dqn_refuses_too_few_steps():
    p = run("bench", "--dqn", "--dqn-steps", 0)
    assert p.returncode != 0
    assert "--dqn-steps" in p.stderr
