#include "spec/model/profiles.h"

#include <cstdio>
#include <cstdlib>

namespace asyncspec::spec {

const std::vector<Departure>& Departures() {
  // One row per flag (RULES.md, "Where shipped releases depart from spec").
  static const std::vector<Departure> kTable = {
      {"uncancel_clears_must_cancel", &Profile::uncancel_clears_must_cancel, "CX-9",
       "https://github.com/python/cpython/issues/116720", nullptr, "fixed", {"3.11", "3.12"}, "3.13.0",
       "uncancel() to a count of 0 leaves _must_cancel set, so a withdrawn cancellation is still delivered"},
      {"tg_uncancel_after_wait", &Profile::tg_uncancel_after_wait, "TG-9",
       "https://github.com/python/cpython/issues/116720", nullptr, "fixed", {"3.11", "3.12"}, "3.13.0",
       "TaskGroup uncancels its parent at the top of __aexit__, before waiting for the children, so a "
       "cancel the group makes during the wait is never uncancelled"},
      {"tg_recancel_parent", &Profile::tg_recancel_parent, "TG-11",
       "https://github.com/python/cpython/issues/116720", nullptr, "fixed", {"3.11", "3.12"}, "3.13.0",
       "a TaskGroup raising its errors loses an outside cancellation of its parent (no re-cancel)"},
      {"wait_for_via_timeout", &Profile::wait_for_via_timeout, "WF-1",
       "https://github.com/python/cpython/issues/86296", nullptr, "fixed", {"3.11"}, "3.12.0",
       "wait_for is its own waiter loop instead of `async with timeout()`: it swallows a cancellation "
       "when the child is already done, and cancel(msg) reaches the child without its message"},
      {"tg_close_refused_coro", &Profile::tg_close_refused_coro, "TG-10",
       "https://github.com/python/cpython/issues/115957", nullptr, "fixed", {"3.11", "3.12"}, "3.13.0",
       "TaskGroup.create_task leaves the coroutine it refuses unawaited, so it warns \"coroutine ... was "
       "never awaited\" at collection (RT-8)"},
      {"run_reports_stopped_drain_errors", &Profile::run_reports_stopped_drain_errors, "RT-4",
       nullptr, "conformance/findings/drain-stopped-error-dropped.md", "candidate", {"3.11", "3.12", "3.13", "3.14", "3.15"}, "",
       "a leftover's error that asyncio.run's drain retrieved is neither reported nor listed when a base "
       "error stops the drain"},
      {"self_await_unmarks_task", &Profile::self_await_unmarks_task, "CX-11", nullptr,
       "conformance/findings/self-await-poisons-task.md", "candidate", {"3.11", "3.12", "3.13", "3.14", "3.15"}, "",
       "after a task awaited itself, the C Task leaves it marked _asyncio_future_blocking, so any later await "
       "of it raises RuntimeError(\"await wasn't used with future\") at once instead of waiting"},
      {"shield_leaves_error_to_rt4", &Profile::shield_leaves_error_to_rt4, "SH-3",
       "https://github.com/python/cpython/issues/156321", nullptr, "open", {"3.14", "3.15"}, "",
       "once a shield's outer future is cancelled, the inner's later exception is reported as \"exception in "
       "shielded future\" and marked retrieved (gh-134331), even when the program awaits and handles it; an "
       "inner that failed before its shield was cancelled is no longer marked retrieved"},
  };
  return kTable;
}

const Departure* FindDeparture(std::string_view id) {
  for (const Departure& d : Departures()) {
    if (id == d.id) return &d;
  }
  return nullptr;
}

const std::vector<std::string>& ShippedVersions() {
  static const std::vector<std::string> kVersions = {"3.11", "3.12", "3.13", "3.14", "3.15"};
  return kVersions;
}

std::vector<std::string> ProfileNames() {
  std::vector<std::string> out = {"spec"};
  for (const std::string& v : ShippedVersions()) out.push_back("shipped-" + v);
  return out;
}

Profile SpecProfile() { return Profile{}; }

Profile WithDepartures(const Profile& base, const std::vector<const Departure*>& departures) {
  static const Profile kSpec;
  Profile p = base;
  for (const Departure* d : departures) p.*(d->flag) = !(kSpec.*(d->flag));
  return p;
}

bool ShippedProfileForVersion(const std::string& version, Profile* out) {
  for (const std::string& v : ShippedVersions()) {
    if (version != v && version.rfind(v + ".", 0) != 0) continue;
    std::vector<const Departure*> here;
    for (const Departure& d : Departures()) {
      for (const std::string& dv : d.versions) {
        if (dv == v) here.push_back(&d);
      }
    }
    *out = WithDepartures(SpecProfile(), here);
    out->name = "shipped-" + v;
    out->version = v;
    return true;
  }
  return false;
}

Profile ShippedProfile(const std::string& version) {
  Profile p;
  if (!ShippedProfileForVersion(version, &p)) {
    std::fprintf(stderr, "ShippedProfile: no shipped profile for version '%s'\n", version.c_str());
    std::abort();
  }
  return p;
}

bool ProfileNamed(const std::string& name, Profile* out, std::string* error) {
  if (name == "spec") {
    *out = SpecProfile();
    return true;
  }
  const std::string kShipped = "shipped-";
  if (name.rfind(kShipped, 0) == 0) {
    const std::string v = name.substr(kShipped.size());
    for (const std::string& known : ShippedVersions()) {
      if (v == known) return ShippedProfileForVersion(v, out);
    }
  }
  std::string names;
  for (const std::string& n : ProfileNames()) names += (names.empty() ? "" : ", ") + n;
  if (error) {
    bool old = false;
    for (const std::string& v : ShippedVersions()) old |= name == v;
    *error = old ? "profile '" + name + "' no longer exists: use 'spec' (the intended semantics, the default) or 'shipped-" +
                       name + "' (CPython " + name + "'s shipped behaviour, its known bugs included)"
                 : "unknown profile '" + name + "' (profiles: " + names + ")";
  }
  return false;
}

}  // namespace asyncspec::spec
