// The model's profiles: which semantics RunModel follows (RULES.md,
// "Profiles: spec and shipped-3.X").
//
//  * `spec`: the intended semantics, what a correct runtime does; the
//    default for every runtime, CPython included.
//  * `shipped-3.11` ... `shipped-3.15`: what CPython 3.11.7, 3.12.1, 3.13.0,
//    3.14.2 and 3.15.0rc1 (the last two as Pyodide 314.0.8 and
//    315.0.0-alpha.2 build them) do, bugs included. For the golden cases (recorded
//    from those interpreters) and for drop-in runtimes checked against their
//    host interpreter (uvloop on 3.11 runs 3.11's TaskGroup).
//
// Each place where a shipped release departs from `spec` is one flag of
// Profile and one row of Departures(): the rule it breaks, the upstream
// issue, and the releases it affects. A shipped profile is `spec` with the
// flag of every departure affecting its version set to the shipped value
// (the opposite of spec's), so adding a departure is adding its flag and its
// row; the profiles follow from the table.
#ifndef ASYNCSPEC_SPEC_MODEL_PROFILES_H_
#define ASYNCSPEC_SPEC_MODEL_PROFILES_H_

#include <string>
#include <string_view>
#include <vector>

namespace asyncspec::spec {

// One semantics of the model. Every flag's default is spec's value.
struct Profile {
  std::string name = "spec";  // "spec" | "shipped-3.11" ... "shipped-3.15"
  std::string version;        // shipped-X.Y: "X.Y"; spec: ""
  // TG-9: uncancel the parent after waiting for the children (gh-116720)
  // instead of at the top of __aexit__.
  bool tg_uncancel_after_wait = true;
  // TG-11: re-cancel a parent with outside cancellations when raising errors.
  bool tg_recancel_parent = true;
  // CX-9: uncancel() clears _must_cancel when the count reaches 0.
  bool uncancel_clears_must_cancel = true;
  // WF-1 vs WF-3: wait_for is `async with timeout()`, or 3.11's own loop.
  bool wait_for_via_timeout = true;
  // TG-10, RT-8: create_task closes the coroutine it refuses (gh-115957);
  // otherwise it is left unawaited and warns at collection.
  bool tg_close_refused_coro = true;
  // RT-4, INV-2: a leftover whose error the drain's gather retrieved is
  // reported even when a base error stops the drain.
  bool run_reports_stopped_drain_errors = true;
  // CX-11: a task that awaited itself can be awaited again (it waits), instead
  // of the C Task's stale _asyncio_future_blocking mark raising "await wasn't
  // used with future" at once.
  bool self_await_unmarks_task = true;
  // SH-3: once a shield's outer future is cancelled, the inner's later
  // exception is left to RT-4 (reported only if nobody retrieves it);
  // otherwise (3.14+, gh-134331) a done callback reports it to the exception
  // handler as "exception in shielded future" and marks it retrieved, even
  // when the program awaits and handles it (gh-156321).
  bool shield_leaves_error_to_rt4 = true;
};

// A place where a shipped CPython release departs from `spec`.
struct Departure {
  const char* id;         // the flag's name, as expectation files cite it
  bool Profile::*flag;    // the flag; spec's value is SpecProfile().*flag
  const char* rule;       // the one rule a departing outcome breaks
  const char* issue;      // upstream issue URL, or nullptr when none is filed yet
  const char* finding;    // without an issue: the drafted report (conformance/findings/...); else nullptr
  const char* status;     // upstream: "fixed" | "open" | "candidate" (no issue filed yet)
  std::vector<std::string> versions;  // the shipped profiles that depart ("3.11", ...)
  const char* fixed_in;   // first release with spec's behaviour ("" none yet)
  const char* description;
};

// Every departure, in a fixed order (the order RULES.md lists them).
const std::vector<Departure>& Departures();
// nullptr if `id` names no departure.
const Departure* FindDeparture(std::string_view id);

// The versions with a shipped profile: "3.11" ... "3.15".
const std::vector<std::string>& ShippedVersions();
// All profile names: "spec", "shipped-3.11", ...
std::vector<std::string> ProfileNames();

Profile SpecProfile();
// `base` with each of `departures` at its shipped value.
Profile WithDepartures(const Profile& base, const std::vector<const Departure*>& departures);
// shipped-<version>; version "3.12" or "3.12.1" (major.minor is used).
// Returns false for a version without a shipped profile.
bool ShippedProfileForVersion(const std::string& version, Profile* out);
// The same, for a version known to have one (one of ShippedVersions());
// aborts on any other, a caller's bug.
Profile ShippedProfile(const std::string& version);
// A profile by its name. On an unknown name returns false and says why in
// `error` (the old names "3.11" etc. get a message naming the new ones).
bool ProfileNamed(const std::string& name, Profile* out, std::string* error);

}  // namespace asyncspec::spec

#endif  // ASYNCSPEC_SPEC_MODEL_PROFILES_H_
