#include "spec/model/model.h"
#include <gtest/gtest.h>
namespace asyncspec::spec { TEST(Smoke, Builds) { Program p; Outcome o = RunModel(p, Profile::Py313()); EXPECT_EQ(o.tasks.size(), 1u); } }
