#!/usr/bin/env python3
"""Writes the seeds of fuzz_hdf5_tables into corpus/hdf5_tables.

The target reads its choices from the end of the input (one byte each here) and takes 0 for
every choice an input does not hold, 0 being the well-formed file's answer; so a seed only
names what differs from the first kind's well-formed file. Each seed decodes to a file its
reader accepts (fuzz_hdf5_tables_seeds checks that).
"""
import os

KINDS = ["prepared", "run", "engagement", "checkpoint", "evaluation_checkpoint", "trial", "selection"]
# Choices in the order the target reads them: the kind, the library version bounds (0: the
# default), then the kind's own.
SEEDS = {name: [k] for k, name in enumerate(KINDS)}
SEEDS["run_version2"] = [1, 0, 1]   # a run file of format version 2 (its /states differ, not read)
SEEDS["evaluated"] = [1, 0, 2]      # an evaluated file: a run file with /evaluation

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hdf5_tables")
os.makedirs(here, exist_ok=True)
for name, choices in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(bytes(reversed(choices)))  # the last byte is read first
