#include "clients/cli/context.h"
namespace plantrail::cli {
void AddImportCommands(CLI::App& app, Context& context) {}
}  // namespace plantrail::cli
