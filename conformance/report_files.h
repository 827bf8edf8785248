// How the check puts files into its report directory (--out).
//
// The directory is checked (and made) before any program runs, so that a
// bad --out is found at once rather than after the run. Files are written
// to a fresh temporary file in the directory and renamed over their name:
// rename(2) replaces a symlink planted at that name instead of writing
// through it, and a reader never sees a half-written report.
#ifndef ASYNCSPEC_CONFORMANCE_REPORT_FILES_H_
#define ASYNCSPEC_CONFORMANCE_REPORT_FILES_H_

#include <sys/types.h>

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace asyncspec::conformance {

// Makes `dir` (and its parents) if needed; an error naming the problem if it
// is empty, exists and is not a directory, cannot be made, or is not writable.
absl::Status PrepareReportDir(const std::string& dir);

// Writes `content` to dir/name through a temporary file and rename(2):
// never follows a symlink at dir/name.
absl::Status WriteReportFile(const std::string& dir, const std::string& name, std::string_view content,
                             mode_t mode = 0644);

// The same for a file too large to build in memory first: `write` streams
// it (report.xml of a long run).
absl::Status WriteReportFileWith(const std::string& dir, const std::string& name,
                                 const std::function<void(std::ostream&)>& write, mode_t mode = 0644);

// Removes the reproducers an earlier run left in `dir` (files named
// repro-<n>-<rule>.<ext>), so that the directory holds only this run's.
void RemoveOldReproducers(const std::string& dir);

// report.jsonl: one line per program, appended and flushed as the run goes,
// so that what was checked survives even a SIGKILL of the check. Opened
// with O_NOFOLLOW (a symlink at its name is an error, not a target).
class LineLog {
 public:
  LineLog() = default;
  LineLog(const LineLog&) = delete;
  LineLog& operator=(const LineLog&) = delete;
  ~LineLog();
  absl::Status Open(const std::string& dir, const std::string& name);
  // Appends `line` and a newline with one write(2).
  void Append(std::string_view line);
  bool is_open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_REPORT_FILES_H_
