"""merge of a grid that varies episodes, a trial option that is also a metric column: one
'episodes' column in /trials, holding each trial's episodes."""
import h5py

from conftest import run, synth_prepared


def test_merge_of_a_grid_varying_episodes(tmp_path):
    prepared = synth_prepared(tmp_path, 1500, 4)
    grid = tmp_path / "grid.ini"
    grid.write_text("[grid]\nepisodes = 4000, 8000\nrefits = 0\nsync-every = 4000\n")
    run("sweep", prepared, "--grid", grid, "-o", tmp_path / "sweep", check=True)
    run("merge", tmp_path / "sweep", "-o", tmp_path / "sweep.h5", check=True)
    with h5py.File(tmp_path / "sweep.h5", "r") as f:
        t = f["trials"][()]
        assert list(t.dtype.names).count("episodes") == 1
        assert list(t["episodes"]) == [4000, 8000]
        assert [s.decode() for s in t["status"]] == ["complete", "complete"]
