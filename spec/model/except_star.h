// The exception-group algebra of try/except/except* (EG-3..EG-5).
//
// Design. What leaves a `try` with except* clauses is decided by CPython's
// bytecode, not by a rule one can state in a sentence: CHECK_EG_MATCH splits
// the group clause by clause (BaseExceptionGroup.split: a subgroup that
// matches as a whole goes whole, else leaves are tested and groups rebuilt
// with derive()), and PREP_RERAISE_STAR rebuilds what is re-raised: the
// leaves of orig that some clause re-raised keep orig's nesting, anything
// newly raised is grouped beside them, and "re-raised" is a question of
// object identity and traceback metadata (StarExc). These are pure
// functions of exception objects; running the handlers (Sim::DoTry,
// except_star.cc) is the interpreter's part.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_EXCEPT_STAR_H_
#define ASYNCSPEC_SPEC_MODEL_EXCEPT_STAR_H_

#include <functional>
#include <set>
#include <vector>

#include "spec/model/exceptions.h"
#include "spec/program.h"

namespace asyncspec::spec::sim {

// Plain `except K` (EG-5): matches the exception object itself.
bool PlainMatches(const Handler& h, const ExcP& e);

// `except* K`: isinstance(e, K) for one leaf or (sub)group.
bool StarMatches(const Handler& h, const ExcP& e);

// BaseExceptionGroup.split(type) (EG-3): the whole (sub)group matches if it
// is an instance of the type; else leaves are tested and subgroups rebuilt
// with derive(); empty parts are null.
void Split(const ExcP& e, const std::function<bool(const ExcP&)>& match, ExcP* m, ExcP* r);

// What one except* clause (or the unmatched rest) contributes to
// PREP_RERAISE_STAR, and whether CPython counts it as a re-raise.
// is_same_exception_metadata (Objects/exceptions.c) calls an exception a
// re-raise when its traceback, context, cause and notes are *the same
// objects* as orig's, compared when the try statement ends. The split
// products (bare `raise`, the rest) copied orig's metadata when the first
// clause split it (exceptiongroup_subset), so they are re-raises as long as
// orig's own metadata has not changed since; orig itself always is. Anything
// else a handler raises is new, even a subgroup of orig that comes back
// through `await` of the task that raised it (its traceback is its own). And
// orig's metadata does change when orig is raised again after the split, by
// `await` of the task that holds it, in the handler or in any other task
// (Future.result() sets its __traceback__): then the split products no longer
// match orig and count as newly raised, next to orig's projection (found
// twice by //fuzz:differential_fuzz, checked against CPython 3.11-3.13).
struct StarExc {
  ExcP exc;
  bool split;  // a split product of orig
};

// Objects/exceptions.c _PyExc_PrepReraiseStar (EG-4). `orig_reraised` is
// orig->reraised when the first clause split orig.
ExcP PrepReraiseStar(const ExcP& orig, unsigned orig_reraised, const std::vector<StarExc>& excs);

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_EXCEPT_STAR_H_
