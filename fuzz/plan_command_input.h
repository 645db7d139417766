// The input of plan_command_fuzzer: a sequence of PlanCommands requests as
// they arrive on the wire, each framed with its kind and length:
//
//   input   := command*
//   command := kind:u8 length:u16 (big-endian) bytes
//
// kind modulo kCommandKinds picks the request message (the commands of
// domain/plan_commands.h, which are the rpcs of plan_commands.proto in
// order); the bytes are that message's binary encoding. A last command shorter
// than its length takes what is left. seed_corpus.cc writes seeds in this form.
#ifndef PLANTRAIL_FUZZ_PLAN_COMMAND_INPUT_H_
#define PLANTRAIL_FUZZ_PLAN_COMMAND_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "domain/plan_commands.h"

namespace plantrail::fuzz {

inline constexpr int kCommandKinds =
    static_cast<int>(domain::kPlanCommandCount);

struct FramedCommand {
  // An index into domain::PlanCommandTypes.
  size_t kind;
  absl::string_view bytes;
};

// At most `max` commands: a long sequence teaches the fuzzer nothing a short
// one does not, and costs time.
inline std::vector<FramedCommand> SplitCommands(absl::string_view input,
                                                size_t max) {
  std::vector<FramedCommand> commands;
  while (input.size() >= 3 && commands.size() < max) {
    const size_t kind = static_cast<uint8_t>(input[0]) % kCommandKinds;
    const size_t length =
        static_cast<uint8_t>(input[1]) << 8 | static_cast<uint8_t>(input[2]);
    input.remove_prefix(3);
    const absl::string_view bytes = input.substr(0, length);
    input.remove_prefix(bytes.size());
    commands.push_back({kind, bytes});
  }
  return commands;
}

template <typename Request>
std::string FrameCommand(const Request& command) {
  const std::string bytes = command.SerializeAsString();
  std::string out;
  out += static_cast<char>(domain::PlanCommandIndex<Request>());
  out += static_cast<char>(bytes.size() >> 8 & 0xff);
  out += static_cast<char>(bytes.size() & 0xff);
  return out + bytes;
}

}  // namespace plantrail::fuzz

#endif  // PLANTRAIL_FUZZ_PLAN_COMMAND_INPUT_H_
