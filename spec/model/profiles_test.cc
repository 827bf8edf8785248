// The profiles and the departure table (spec/model/profiles.h): names, and
// how shipped profiles follow from the table. (That every departure changes
// some golden case's outcome is in golden_test.cc.)
#include "spec/model/profiles.h"

#include <set>
#include <string>

#include <gtest/gtest.h>


namespace asyncspec::spec {
namespace {

TEST(Profiles, SpecIsTheDefaultAndEveryFlagAtItsFixedValue) {
  Profile p;
  EXPECT_EQ(p.name, "spec");
  EXPECT_EQ(p.version, "");
  EXPECT_TRUE(p.tg_uncancel_after_wait && p.tg_recancel_parent && p.uncancel_clears_must_cancel &&
              p.wait_for_via_timeout);
}

TEST(Profiles, ShippedProfilesAreSpecWithTheirDeparturesFlipped) {
  const Profile spec = SpecProfile();
  for (const std::string& v : ShippedVersions()) {
    Profile p;
    ASSERT_TRUE(ShippedProfileForVersion(v + ".1", &p)) << v;
    EXPECT_EQ(p.name, "shipped-" + v);
    EXPECT_EQ(p.version, v);
    for (const Departure& d : Departures()) {
      bool affected = false;
      for (const std::string& dv : d.versions) affected |= dv == v;
      EXPECT_EQ(p.*(d.flag), affected ? !(spec.*(d.flag)) : spec.*(d.flag)) << d.id << " in " << p.name;
    }
  }
  // Today's table: 3.11 departs in all four flags, 3.12 in the three
  // TaskGroup/uncancel ones, 3.13.0 in none.
  Profile p11 = ShippedProfile("3.11"), p12 = ShippedProfile("3.12"), p13 = ShippedProfile("3.13");
  EXPECT_FALSE(p11.wait_for_via_timeout);
  EXPECT_TRUE(p12.wait_for_via_timeout);
  EXPECT_FALSE(p12.tg_uncancel_after_wait || p12.tg_recancel_parent || p12.uncancel_clears_must_cancel);
  EXPECT_TRUE(p13.tg_uncancel_after_wait && p13.tg_recancel_parent && p13.uncancel_clears_must_cancel &&
              p13.wait_for_via_timeout);
  // 3.14 and 3.15 (Pyodide builds) add the shield logging of gh-134331;
  // 3.11-3.13 have none.
  Profile p14 = ShippedProfile("3.14"), p15 = ShippedProfile("3.15");
  EXPECT_FALSE(p14.shield_leaves_error_to_rt4);
  EXPECT_FALSE(p15.shield_leaves_error_to_rt4);
  EXPECT_TRUE(p11.shield_leaves_error_to_rt4 && p12.shield_leaves_error_to_rt4 && p13.shield_leaves_error_to_rt4);
  EXPECT_TRUE(p14.tg_uncancel_after_wait && p14.tg_recancel_parent && p14.uncancel_clears_must_cancel &&
              p14.wait_for_via_timeout && p14.tg_close_refused_coro);
  EXPECT_EQ(ShippedProfile("3.15.0rc1").name, "shipped-3.15");
  Profile none;
  EXPECT_FALSE(ShippedProfileForVersion("3.10.13", &none));
  EXPECT_FALSE(ShippedProfileForVersion("3.1", &none));
}

TEST(Profiles, NamesAndOldNames) {
  Profile p;
  std::string error;
  for (const std::string& n : ProfileNames()) {
    ASSERT_TRUE(ProfileNamed(n, &p, &error)) << n << ": " << error;
    EXPECT_EQ(p.name, n);
  }
  EXPECT_FALSE(ProfileNamed("3.11", &p, &error));
  EXPECT_NE(error.find("shipped-3.11"), std::string::npos) << error;
  EXPECT_NE(error.find("'spec'"), std::string::npos) << error;
  EXPECT_FALSE(ProfileNamed("shipped-3.10", &p, &error));
  EXPECT_NE(error.find("spec, shipped-3.11, shipped-3.12, shipped-3.13"), std::string::npos) << error;
}

TEST(Profiles, TableRowsAreComplete) {
  std::set<std::string> ids;
  for (const Departure& d : Departures()) {
    EXPECT_TRUE(ids.insert(d.id).second) << "duplicate departure " << d.id;
    EXPECT_EQ(FindDeparture(d.id), &d);
    EXPECT_NE(std::string(d.rule).find('-'), std::string::npos) << d.id << ": rule " << d.rule;
    // An upstream issue, or (a candidate bug) a drafted report in its place.
    if (d.issue) {
      EXPECT_EQ(std::string(d.issue).rfind("https://github.com/python/cpython/issues/", 0), 0u) << d.id;
      EXPECT_EQ(d.finding, nullptr) << d.id;
      EXPECT_TRUE(std::string(d.status) == "fixed" || std::string(d.status) == "open") << d.id;
    } else {
      ASSERT_NE(d.finding, nullptr) << d.id << ": no issue and no finding";
      EXPECT_EQ(std::string(d.finding).rfind("conformance/findings/", 0), 0u) << d.id;
      EXPECT_EQ(std::string(d.status), "candidate") << d.id;
    }
    EXPECT_FALSE(d.versions.empty()) << d.id;
    EXPECT_EQ(std::string(d.status) == "fixed", std::string(d.fixed_in) != "") << d.id;
  }
  EXPECT_EQ(FindDeparture("no_such_flag"), nullptr);
}

}  // namespace
}  // namespace asyncspec::spec
