#pragma once
// `streamlearn bench predict` (bench_predict.cpp), a subcommand of `bench`.

#include <functional>

namespace CLI {
class App;
}

namespace streamlearn::cli {

// Adds `predict` under `bench`. The function returned runs it when it was given on the
// command line and returns its exit status; otherwise it returns -1 without doing anything.
std::function<int()> AddBenchPredictCommand(CLI::App& bench);

}  // namespace streamlearn::cli
