// A projection: a read model folded from the log, event by event.
//
// A projection owns a key space (one RocksDB column family per copy). It
// reads and writes its state only through the StateWriter it is given,
// which belongs to one batch: everything Apply() writes for a page of
// events is committed in one WriteBatch together with the checkpoint, so
// state and checkpoint never disagree, whatever crashes.
//
// Keys starting with a 0x00 byte are reserved for the runner.
#ifndef PLANTRAIL_PROJECTIONS_PROJECTION_H_
#define PLANTRAIL_PROJECTIONS_PROJECTION_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "eventstore/event.h"
#include "google/protobuf/message.h"

namespace plantrail::projections {

// Reads of one copy of a projection's state, as committed at one moment
// (a snapshot: the checkpoint and every key agree). Thread-safe; a reader
// pins its copy, so a rebuild that replaces it does not pull the data from
// under a query.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const = 0;
  // Entries whose key starts with `prefix`, in key order (reverse: from the
  // end), beginning at `from` (inclusive; empty: the first or last key of
  // the prefix), at most `limit` of them.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      absl::string_view prefix, absl::string_view from, size_t limit,
      bool reverse = false) const = 0;
  // Seeks over the same state, many in a row: one iterator for all of them
  // (a Scan makes one per call, which costs more than the seek). Not
  // thread-safe; it pins the reader's state while it lives.
  class Cursor {
   public:
    virtual ~Cursor() = default;
    // The entry with the greatest key <= `key` that starts with `prefix`,
    // or nullopt.
    virtual absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
    LastAtOrBefore(absl::string_view prefix, absl::string_view key) = 0;
  };
  virtual std::unique_ptr<Cursor> NewCursor() const = 0;

  // The last log position folded into this state.
  virtual uint64_t checkpoint() const = 0;
  // Which copy it reads (a rebuild makes a new one): with checkpoint(), it
  // names the state read, for readers that cache what they derive from it.
  virtual uint64_t generation() const = 0;
};

// Reads and writes of one copy within the batch being built: Get() sees
// the batch's own earlier Put()s. Not thread-safe (the runner's thread).
class StateWriter {
 public:
  virtual ~StateWriter() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) = 0;
  virtual void Put(absl::string_view key, absl::string_view value) = 0;

  // The message under `key`, decoded once per batch and kept decoded: it is
  // changed in place and written (serialized once) when the batch commits.
  // A page of a thousand events on one area then parses and serializes its
  // state once, not a thousand times. `prototype` gives the type; an absent
  // key starts empty. kDataLoss if the stored bytes do not parse. The
  // pointer lives until the batch commits; Get and Put of the key see and
  // replace it.
  virtual absl::StatusOr<google::protobuf::Message*> Staged(
      absl::string_view key, const google::protobuf::Message& prototype) = 0;
};

// Staged() for a message type.
template <typename Message>
absl::StatusOr<Message*> StagedMessage(StateWriter& state,
                                       absl::string_view key) {
  absl::StatusOr<google::protobuf::Message*> message =
      state.Staged(key, Message::default_instance());
  if (!message.ok()) return message.status();
  return static_cast<Message*>(*message);
}

// The message stored under `key`, or an empty one; kDataLoss if the bytes do
// not parse.
template <typename Message>
absl::StatusOr<Message> LoadMessage(StateWriter& state, absl::string_view key) {
  Message message;
  absl::StatusOr<std::optional<std::string>> bytes = state.Get(key);
  if (!bytes.ok()) return bytes.status();
  if (bytes->has_value() && !message.ParseFromString(**bytes)) {
    return absl::DataLossError(
        absl::StrCat("a stored ", Message::descriptor()->name(), " at \"",
                     absl::CEscape(key), "\" does not parse"));
  }
  return message;
}

class Projection {
 public:
  virtual ~Projection() = default;
  // [a-z_]+, unique; names its column families and its Admin entry.
  virtual std::string name() const = 0;
  // Folds one event. An error stops the projection (it is then FAILED and
  // answers from its last committed state) rather than skip an event.
  virtual absl::Status Apply(const eventstore::RecordedEvent& event,
                             StateWriter& state) = 0;
  // The layout of its state: a projection that changes what it keeps (new
  // keys, a new meaning) raises it. A copy kept under another layout is
  // rebuilt from the log when the server starts: a shadow folds it anew
  // while the old copy keeps answering (so queries must read an older
  // layout correctly, if slowly), then replaces it.
  virtual uint32_t layout() const { return 1; }
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_PROJECTION_H_
