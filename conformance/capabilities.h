// What a runtime can run: the capabilities of conformance/ADAPTERS.md.
//
// An adapter's hello names the constructs it can run: the `op` names of
// spec/FORMAT.md and three features (`except_star`: a handler with "star";
// `catch_group`: a handler catching `group`; `base`: a raise with "base").
// The check sends a program only if every construct it uses is declared;
// the others are counted n/a, never failed.
//
// Generating random programs and throwing most of them away would waste a
// run on a runtime with few capabilities, so GenerateFor() draws programs
// (TreeProgram) from the generator of spec/program_gen.h with the undeclared ops weighted
// 0 and the undeclared features stripped from the raw tree before MakeValid.
// MakeValid can still turn one construct into another (a spawn with no group
// to go to becomes a task); such a draw is repeated (up to 8 times, from
// seeds derived from the tree seed, so the tree seed alone still replays the
// program), and the caller filters with Missing() all the same; what is
// left over is counted n/a.
#ifndef ASYNCSPEC_CONFORMANCE_CAPABILITIES_H_
#define ASYNCSPEC_CONFORMANCE_CAPABILITIES_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "spec/program.h"

namespace asyncspec::conformance {

using Capabilities = std::set<std::string>;

// Every op and feature the program language has, in FORMAT.md order.
const Capabilities& AllCapabilities();

// The ops and features `program` uses.
Capabilities UsedCapabilities(const spec::Program& program);

// The capabilities `program` uses that `declared` lacks (empty: runnable).
// `declared` == nullopt means everything.
Capabilities Missing(const spec::Program& program, const std::optional<Capabilities>& declared);

// Random program i of a run with seed S is generated from its own tree seed
// TreeSeed(S, i), so any one of them can be replayed alone (--replay).
std::uint64_t TreeSeed(std::uint64_t run_seed, int index);
// The schedule seed of perturbed run k (1-based, --schedules) of every
// program: the same for all programs, so --replay and the shrinker see the
// same schedules.
std::uint64_t ScheduleSeed(int k);

// The random program of `tree_seed` for a runtime declaring `declared`
// (size 10..100, a function of the seed). With every capability declared (or
// nullopt) this is exactly the program the unrestricted generator gives, so
// tree seeds replay the same program on every full runtime.
// `ties`: the generator's tie mode (Options::ties of engine.h: "", "free"
// or "heavy", spec::gen::GenOptions::TieFree / TieHeavy).
spec::Program TreeProgram(std::uint64_t tree_seed,
                          const std::optional<Capabilities>& declared = std::nullopt,
                          const std::string& ties = "");

}  // namespace asyncspec::conformance

#endif  // ASYNCSPEC_CONFORMANCE_CAPABILITIES_H_
