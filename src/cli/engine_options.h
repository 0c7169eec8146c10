#pragma once
// Command-line options shared by the commands that run the engine.
#include <CLI/CLI.hpp>

#include "arrowembed/engine/precision.h"

namespace arrowembed::cli {

// --precision f32|bf16 into *precision.
void add_precision_option(CLI::App* cmd, MatmulPrecision* precision);

}  // namespace arrowembed::cli
