// Write-ahead log files that are written with zeros before the log uses
// them, as PostgreSQL does with its WAL segments.
//
// Why: RocksDB appends to a growing WAL file, so every fdatasync also has
// to journal the file's new size (and, for fallocate'd space, the extent
// turning from unwritten to written): on ext4 that is a second write per
// commit. An fdatasync of bytes overwritten in place, in blocks already
// written, needs none of it. On the machines of docs/BENCHMARKS.md a
// synced 400-byte append costs about 180 µs on a growing file and 120 µs
// in a zeroed one.
//
// How: a FileSystem wrapper keeps one spare file in the database directory
// (kSpareName), `file_bytes` long, all zeros, synced. When RocksDB creates
// a WAL file (NNNNNN.log), the spare is renamed to that name and opened in
// place; a background thread then prepares the next spare. The WAL file is
// written from offset 0 as RocksDB appends, synced with fdatasync, and cut
// to the written length when RocksDB closes it. Past `file_bytes` it grows
// like any file (slower, still correct). With no spare ready (the first
// one is made when the wrapper is created, so only when the background
// thread falls behind or could not write one, on a full disk say), RocksDB
// gets an ordinary file.
//
// What a crash leaves: a WAL file whose records are followed by zeros.
// RocksDB's log reader reads a zero-filled block as padding (a zero-length
// record of type zero, which it skips without reporting corruption), so
// recovery ends after the last whole record, as at the end of a growing
// file. ZeroedWalTest and the crash tests check it.
//
// Thread safety: RocksDB may call the wrapper from any thread; the spare's
// state is guarded by a mutex. Each WAL file is written by one RocksDB
// writer at a time (RocksDB's rule) and may be synced from another thread.
#ifndef PLANTRAIL_EVENTSTORE_ZEROED_WAL_H_
#define PLANTRAIL_EVENTSTORE_ZEROED_WAL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "rocksdb/file_system.h"

namespace plantrail::eventstore {

inline constexpr char kSpareWalName[] = "plantrail-wal.spare";

// A FileSystem over `base` that gives WAL files created in `directory` a
// zeroed spare of `file_bytes`. Creating it makes the first spare (if the
// directory has none of that size from before) and starts the thread that
// makes the next ones; destroying it stops the thread and leaves the
// current spare for the next open.
std::shared_ptr<rocksdb::FileSystem> NewZeroedWalFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::string directory,
    uint64_t file_bytes);

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_ZEROED_WAL_H_
