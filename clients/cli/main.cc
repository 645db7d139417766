// plantrail: the administrators' CLI. Everything lives in plantrail::cli so
// that tests can run the same code in-process.
#include <iostream>

#include "clients/cli/context.h"

int main(int argc, char** argv) {
  return plantrail::cli::RunCli(argc, argv, std::cout, std::cerr);
}
