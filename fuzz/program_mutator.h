// A structure-aware mutator for fuzz targets whose input is a program in the
// JSON form (spec/FORMAT.md): it turns one valid program into another valid
// program, so that every input the differential target runs reaches the
// model and the runtime instead of dying in the JSON reader.
//
// Design. The issue asks for one program decoder shared with the RapidCheck
// generators, not a second program format. So the fuzzer's inputs *are* the
// project's JSON form (the golden cases are the seed corpus as they stand),
// and a mutation is made of the generators' own parts (spec/program_gen.h):
//   - a new step is drawn from gen::detail::StepGen with an rc::Random seeded
//     from libFuzzer's seed (replace a step, insert one);
//   - a step is removed, duplicated, or moved within its body; a whole
//     program is drawn from gen::RawProgram when the input does not read;
//   - crossover splices a step of one program into the other;
// and gen::MakeValid then names the new parts and resolves every reference
// ("#k" placeholders and references left dangling by a removal), exactly as
// it does for the property tests. The result is checked with spec::Validate:
// a mutation that MakeValid leaves invalid is a bug in MakeValid, and aborts.
//
// Contract: every function below reads `size` bytes of `data`, writes at
// most `max_size` bytes back and returns the new size; the bytes written
// always read as a valid program (spec::ProgramFromJson + spec::Validate)
// with at most kMaxFuzzSteps steps, whose timers never fall due at the same
// instant (so SCHED-2 tie order cannot matter). With the same bytes and seed the result
// is the same (libFuzzer's -seed reproduces a run).
#ifndef ASYNCSPEC_FUZZ_PROGRAM_MUTATOR_H_
#define ASYNCSPEC_FUZZ_PROGRAM_MUTATOR_H_

#include <cstddef>
#include <cstdint>

#include "spec/program.h"

namespace asyncspec::fuzz {

// Small programs keep the differential target fast (>= 10,000
// exec/s with small programs); a mutation that would pass this is not made.
// (Also what keeps MakeTieFree's delays, 2^0 .. 2^(kMaxFuzzSteps-1), within
// kMaxDelay.)
inline constexpr std::size_t kMaxFuzzSteps = 32;
static_assert((spec::Time{1} << (kMaxFuzzSteps - 1)) <= spec::kMaxDelay);

// The number of steps of `program`, counting every nested body.
std::size_t CountSteps(const spec::Program& program);

// The valid program that `data` holds in the JSON form, or null (does not
// read, or invalid). Memoised by the bytes, since libFuzzer hands the
// mutator the same corpus units over and over and then runs the mutant the
// mutator just wrote: reading JSON (nlohmann's DOM, under ASan) was the
// largest cost of an execution. The pointer is valid until the next call of
// a function of this header.
const spec::Program* ReadValidProgram(const std::uint8_t* data, std::size_t size);

std::size_t MutateProgram(std::uint8_t* data, std::size_t size, std::size_t max_size,
                          unsigned int seed);

// Splices a step of program 2 into program 1 and writes the result to `out`.
std::size_t CrossOverPrograms(const std::uint8_t* data1, std::size_t size1,
                              const std::uint8_t* data2, std::size_t size2, std::uint8_t* out,
                              std::size_t max_out_size, unsigned int seed);

}  // namespace asyncspec::fuzz

#endif  // ASYNCSPEC_FUZZ_PROGRAM_MUTATOR_H_
