// The random trees a run passed, kept for report.xml (one testcase per
// program) without holding them in memory.
//
// Why. A long run passes nearly every tree, and report.xml names each one.
// Kept in a vector, 16 bytes a tree (plus the vector's doubling) were the
// one thing in the check's memory that grew with --trees: ~170 MB at five
// million trees. Here records are buffered 4,096 at a time and appended to
// an unlinked temporary file (in $TMPDIR, else /tmp), so memory is flat and
// the file vanishes with the process however it ends.
//
// Never a reason to lose a run: if no temporary file can be made or
// written (a full disk), the records stay in memory, in order, as before.
#ifndef ASYNCSPEC_CONFORMANCE_PASSED_TREES_H_
#define ASYNCSPEC_CONFORMANCE_PASSED_TREES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace asyncspec::conformance {

// A random tree that passed (Options::keep_passed_results false).
struct PassedTree {
  std::uint64_t seed = 0;
  float seconds = 0;
  bool ties = false;  // passed only up to tie freedom
};

class PassedTrees {
 public:
  PassedTrees() = default;
  PassedTrees(PassedTrees&& other) noexcept;
  PassedTrees& operator=(PassedTrees&& other) noexcept;
  // A copy has a file of its own (the records are read and added again):
  // correct, but a whole pass over the records; Reports are moved.
  PassedTrees(const PassedTrees& other);
  PassedTrees& operator=(const PassedTrees& other);
  ~PassedTrees();

  void Add(const PassedTree& tree);
  std::size_t size() const { return spilled_ + buffer_.size(); }
  bool empty() const { return size() == 0; }
  // Calls `f` on every record in the order they were added. A record that
  // cannot be read back (the file shrank under us) ends the walk early:
  // returns false then.
  bool ForEach(const std::function<void(const PassedTree&)>& f) const;
  // Records written to the file so far (the rest are in memory).
  std::size_t spilled() const { return spilled_; }

  static constexpr std::size_t kBufferRecords = 4096;

 private:
  // The on-disk form: 16 bytes, no padding, so nothing uninitialised is
  // ever written.
  struct Record {
    std::uint64_t seed;
    float seconds;
    std::uint32_t ties;
  };
  static_assert(sizeof(Record) == 16);
  void Spill();

  int fd_ = -1;
  bool file_failed_ = false;  // no file, or a write failed: keep in memory
  std::size_t spilled_ = 0;
  std::vector<Record> buffer_;
};

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_PASSED_TREES_H_
