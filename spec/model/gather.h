// gather's outer future (tasks.py _GatheringFuture).
//
// Design. gather, shield and wait_for are all "an outer future the caller
// awaits, tied to inner tasks by done callbacks"; only gather needs a future
// class of its own, because cancelling its outer cancels the children and
// remembers that it did (GA-5), where shield's outer is a plain Future (SH-1)
// and wait_for is a timeout (WF-1). The callbacks themselves are Sim's, in
// gather.cc.
//
// Internal to //spec/model (see model.h for the API).
#ifndef ASYNCSPEC_SPEC_MODEL_GATHER_H_
#define ASYNCSPEC_SPEC_MODEL_GATHER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spec/model/futures.h"

namespace asyncspec::spec::sim {

// _GatheringFuture (GA-5).
class GatheringFuture : public Future {
 public:
  GatheringFuture(Loop* loop, std::vector<Future*> children) : Future(loop), children(std::move(children)) {}
  bool Cancel(std::optional<std::string> msg) override {
    if (done()) return false;
    bool ret = false;
    for (Future* child : children)
      if (child->Cancel(msg)) ret = true;
    if (ret) cancel_requested = true;  // GA-5: "propagate the cancellation request"
    return ret;
  }
  std::vector<Future*> children;
  bool cancel_requested = false;
};

}  // namespace asyncspec::spec::sim

#endif  // ASYNCSPEC_SPEC_MODEL_GATHER_H_
