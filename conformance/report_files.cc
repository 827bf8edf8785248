#include "conformance/report_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <streambuf>

namespace asyncspec::conformance {
namespace {

std::string Errno() { return std::strerror(errno); }

bool WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

absl::Status PrepareReportDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("the report directory is empty");
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(dir + " exists and is not a directory");
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::InvalidArgumentError("cannot create " + dir + ": " + ec.message());
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) return absl::InvalidArgumentError(dir + " is not writable: " + Errno());
  return absl::OkStatus();
}

namespace {

// A streambuf over a file descriptor: what a writer streams goes out in 64 KiB
// writes, so a large report is never held in memory whole.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
  bool ok() const { return ok_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!Flush()) return traits_type::eof();
    if (ch != traits_type::eof()) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return Flush() ? 0 : -1; }

 private:
  bool Flush() {
    ok_ = ok_ && WriteAll(fd_, std::string_view(pbase(), pptr() - pbase()));
    setp(buf_, buf_ + sizeof buf_);
    return ok_;
  }
  int fd_;
  bool ok_ = true;
  char buf_[1 << 16];
};

}  // namespace

absl::Status WriteReportFileWith(const std::string& dir, const std::string& name,
                                 const std::function<void(std::ostream&)>& write, mode_t mode) {
  const std::string path = dir + "/" + name;
  std::string tmp = dir + "/." + name + ".XXXXXX";
  // mkostemp creates with O_EXCL: never an existing file or a symlink's target.
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return absl::InternalError("cannot write " + path + ": " + Errno());
  bool ok;
  {
    FdBuf buf(fd);
    std::ostream out(&buf);
    write(out);
    out.flush();
    ok = buf.ok() && out.good() && fchmod(fd, mode) == 0;
  }
  const std::string why = ok ? "" : Errno();
  if (close(fd) != 0 || !ok) {
    unlink(tmp.c_str());
    return absl::InternalError("cannot write " + path + ": " + why);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = Errno();
    unlink(tmp.c_str());
    return absl::InternalError("cannot write " + path + ": " + e);
  }
  return absl::OkStatus();
}

absl::Status WriteReportFile(const std::string& dir, const std::string& name, std::string_view content,
                             mode_t mode) {
  return WriteReportFileWith(dir, name, [&](std::ostream& out) { out.write(content.data(), content.size()); }, mode);
}

void RemoveOldReproducers(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    // repro-<k>-<rule>.<ext>: k a number, the rule an ID like TG-3 or
    // ADAPTER-ERROR, ext letters and digits (report.cc ReproducerFile).
    if (fnmatch("repro-[0-9]*-[A-Za-z0-9_]*.[a-z0-9]*", e->d_name, 0) == 0) unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

LineLog::~LineLog() {
  if (fd_ >= 0) close(fd_);
}

absl::Status LineLog::Open(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  // A file from an earlier run is replaced, never appended to; a symlink
  // at the name is removed, not followed.
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) unlink(path.c_str());
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0644);
  if (fd_ < 0) return absl::InternalError("cannot write " + path + ": " + Errno());
  return absl::OkStatus();
}

void LineLog::Append(std::string_view line) {
  if (fd_ < 0) return;
  std::string s(line);
  s += '\n';
  WriteAll(fd_, s);
}

}  // namespace asyncspec::conformance
