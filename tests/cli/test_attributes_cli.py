"""Declared attributes end to end: synth writes them with their truth, prepare keeps them,
train uses them as features, evaluate and recommend see them; bad declarations are usage errors."""
import json
import zipfile

import h5py

from conftest import run


def test_synth_records_which_attributes_are_informative(tmp_path):
    run("synth", "-n", 500, "--seed", 2, "--extra-attributes", 3, "-o", tmp_path / "s.xlsx", check=True)
    with zipfile.ZipFile(tmp_path / "s.xlsx") as z:
        custom = z.read("docProps/custom.xml").decode()
    assert "reinforcer.Attribute 1" in custom and "informative A=0.20 B=0.40 C=1.00 D=2.40" in custom
    assert "reinforcer.Attribute 3" in custom and "noise A=1.00" in custom
    run("synth", "-n", 500, "--seed", 2, "--extra-attributes", 3, "-o", tmp_path / "s.csv", check=True)
    truth = json.loads((tmp_path / "s.csv.attributes.json").read_text())
    assert [a["informative"] for a in truth["attributes"]] == [True, True, False]
    assert truth["attributes"][0]["factors"] == {"A": 0.2, "B": 0.4, "C": 1.0, "D": 2.4}
    # Without extra attributes: no custom properties, no side file.
    run("synth", "-n", 500, "--seed", 2, "-o", tmp_path / "plain.xlsx", check=True)
    run("synth", "-n", 500, "--seed", 2, "-o", tmp_path / "plain.csv", check=True)
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as z:
        assert "docProps/custom.xml" not in z.namelist()
    assert not (tmp_path / "plain.csv.attributes.json").exists()


def test_train_evaluate_recommend_with_an_attribute_feature(tmp_path):
    run("synth", "-n", 3000, "--seed", 4, "--extra-attributes", 2, "-o", tmp_path / "s.csv", check=True)
    p = run("prepare", tmp_path / "s.csv", "-o", tmp_path / "p.h5", "--attributes", "Attribute 1,Attribute 2",
            check=True)
    assert "attribute 'Attribute 1': 4 levels kept" in p.stdout
    with h5py.File(tmp_path / "p.h5", "r") as f:
        g = f["customer_attributes"]
        assert g.attrs["count"] == 2
        assert g["0"].attrs["name"] == "Attribute 1"
        assert list(g["0/levels"].asstr()[()]) == ["A", "B", "C", "D"]
        assert g["0/code"].shape == (3000,)
    run("train", tmp_path / "p.h5", "-o", tmp_path / "run.h5", "--features", "cohort,Attribute 1",
        "--episodes", 2000, "--refits", 2, check=True)
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert f["model"].attrs["features"] == "cohort,Attribute 1"
        assert "customer_attributes" in f
    run("evaluate", tmp_path / "run.h5", "-o", tmp_path / "ev.h5", "--bootstrap", 10, check=True)
    run("recommend", tmp_path / "ev.h5", "-o", tmp_path / "calls.csv", "--top", 20, check=True)
    # A feature that is not an attribute of the file: a usage error listing both kinds.
    bad = run("train", tmp_path / "p.h5", "-o", tmp_path / "bad.h5", "--features", "cohort,Attribute 3")
    assert bad.returncode == 2, bad.stderr
    assert "'Attribute 3' is not a decision-time feature" in bad.stderr
    assert "'Attribute 1' 'Attribute 2'" in bad.stderr


def test_prepare_refuses_bad_attribute_declarations(tmp_path):
    run("synth", "-n", 300, "--seed", 2, "--extra-attributes", 1, "-o", tmp_path / "s.csv", check=True)
    cases = [("Col A", "'Col A' is not a column of"),
             ("Stage", "not known at decision time"),
             ("Last Contact", "not known at decision time"),
             ("Education", "already the built-in feature 'education'"),
             ("Attribute 1,attribute 1", "given twice"),
             ("Attribute 1,", "is empty")]
    for value, message in cases:
        p = run("prepare", tmp_path / "s.csv", "-o", tmp_path / "p.h5", "--attributes", value)
        assert p.returncode == 2, (value, p.stderr)
        assert "--attributes" in p.stderr and message in p.stderr, (value, p.stderr)
        assert len([line for line in p.stderr.splitlines() if "error:" in line]) == 1, p.stderr
    assert not (tmp_path / "p.h5").exists()
