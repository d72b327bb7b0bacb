#pragma once
// A lower layer reaching up: check_layers.py must refuse this tree.
#include "reinforcer/eval/evaluation.hpp"
