#include "conformance/passed_trees.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

namespace asyncspec::conformance {
namespace {

// An unlinked file in $TMPDIR (else /tmp): O_TMPFILE where the file system
// has it, else mkostemp and unlink at once. -1 if neither works.
int OpenScratchFile() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string path = dir + "/asyncspec-passed.XXXXXX";
  fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) unlink(path.c_str());
  return fd;
}

// pwrite/pread of all `n` bytes at `offset`, EINTR retried.
bool WriteAt(int fd, const char* p, std::size_t n, off_t offset) {
  while (n > 0) {
    const ssize_t w = pwrite(fd, p, n, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
    offset += w;
  }
  return true;
}

bool ReadAt(int fd, char* p, std::size_t n, off_t offset) {
  while (n > 0) {
    const ssize_t r = pread(fd, p, n, offset);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
    offset += r;
  }
  return true;
}

}  // namespace

PassedTrees::PassedTrees(PassedTrees&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      file_failed_(other.file_failed_),
      spilled_(std::exchange(other.spilled_, 0)),
      buffer_(std::move(other.buffer_)) {
  other.buffer_.clear();
}

PassedTrees::PassedTrees(const PassedTrees& other) {
  other.ForEach([this](const PassedTree& t) { Add(t); });
}

PassedTrees& PassedTrees::operator=(const PassedTrees& other) {
  if (this != &other) *this = PassedTrees(other);
  return *this;
}

PassedTrees& PassedTrees::operator=(PassedTrees&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    file_failed_ = other.file_failed_;
    spilled_ = std::exchange(other.spilled_, 0);
    buffer_ = std::move(other.buffer_);
    other.buffer_.clear();
  }
  return *this;
}

PassedTrees::~PassedTrees() {
  if (fd_ >= 0) close(fd_);
}

void PassedTrees::Add(const PassedTree& tree) {
  buffer_.push_back(Record{tree.seed, tree.seconds, tree.ties ? 1u : 0u});
  if (buffer_.size() >= kBufferRecords && !file_failed_) Spill();
}

void PassedTrees::Spill() {
  if (fd_ < 0) fd_ = OpenScratchFile();
  const std::size_t bytes = buffer_.size() * sizeof(Record);
  if (fd_ < 0 || !WriteAt(fd_, reinterpret_cast<const char*>(buffer_.data()), bytes,
                          static_cast<off_t>(spilled_ * sizeof(Record)))) {
    // From here on everything stays in memory, after what the file holds.
    file_failed_ = true;
    return;
  }
  spilled_ += buffer_.size();
  buffer_.clear();
}

bool PassedTrees::ForEach(const std::function<void(const PassedTree&)>& f) const {
  std::vector<Record> chunk;
  for (std::size_t done = 0; done < spilled_;) {
    chunk.resize(std::min(kBufferRecords, spilled_ - done));
    if (!ReadAt(fd_, reinterpret_cast<char*>(chunk.data()), chunk.size() * sizeof(Record),
                static_cast<off_t>(done * sizeof(Record)))) {
      return false;
    }
    for (const Record& r : chunk) f(PassedTree{r.seed, r.seconds, r.ties != 0});
    done += chunk.size();
  }
  for (const Record& r : buffer_) f(PassedTree{r.seed, r.seconds, r.ties != 0});
  return true;
}

}  // namespace asyncspec::conformance
