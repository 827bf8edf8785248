// gather and shield: tasks.py gather (GA-1..GA-6) and shield (SH-1..SH-3).
//
// Design. Both are an outer future that the awaiting task waits on, tied to
// inner tasks by done callbacks, so what they do is decided by which
// callback runs first. gather's outer completes with the first error or
// cancelled child (unless return_exceptions), or with every outcome in
// argument order; cancelling it cancels the children and, once they are
// done, raises the last child's CancelledError (GA-5). shield's outer is a
// plain future: cancelling it leaves the inner task running, detached
// (SH-1, SH-3), and the inner's outcome reaches the outer only while the
// outer is not cancelled (SH-2). AwaitOuter is the `await outer` both share,
// recording the scope's exit.
#include <exception>
#include <memory>
#include <utility>

#include "spec/model/sim.h"

namespace asyncspec::spec::sim {

// tasks.py gather (GA-1..GA-6).
GatheringFuture* Sim::GatherFutures(std::vector<Future*> children, bool return_exceptions) {
  auto* outer = Make(new GatheringFuture(this, children));
  auto nfinished = std::make_shared<size_t>(0);
  const size_t nfuts = children.size();
  if (nfuts == 0) {
    outer->SetResult(Value{});
    return outer;
  }
  for (Future* child : children) {
    child->AddDoneCallback([this, outer, nfinished, nfuts, return_exceptions](Future* fut) {
      ++*nfinished;
      if (outer->cancel_requested) Hit(RuleId::GA_5, "child of a cancelled gather done");
      if (outer->done()) {
        Hit(RuleId::GA_6, "child done after gather");
        if (!fut->cancelled()) fut->Exception();  // GA-2/GA-6: mark retrieved
        return;
      }
      if (!return_exceptions) {
        if (fut->cancelled()) {
          Hit(RuleId::GA_3, "a child cancelled on its own");
          outer->SetException(fut->MakeCancelledError());  // GA-3
          return;
        }
        ExcP e = fut->Exception();
        if (e) {
          Hit(RuleId::GA_2, "first error propagates");
          outer->SetException(e);  // GA-2: first error propagates
          return;
        }
      }
      if (*nfinished == nfuts) {
        if (return_exceptions) Hit(RuleId::GA_4, "every outcome, in order");
        Value v;
        for (Future* c : outer->children) {
          GItem it;
          if (c->cancelled()) {
            // GA-3: CancelledError('' if fut._cancel_message is None else ...)
            Hit(RuleId::GA_3, "a cancelled child's item");
            it.error = NewCancelled(c->cancel_message().value_or(""));
          } else {
            it.error = c->Exception();
            if (!it.error) it.value = c->raw_result().str;
          }
          v.items.push_back(std::move(it));
        }
        if (outer->cancel_requested) {
          // GA-5: `exc = fut._make_cancelled_error()`, where `fut` is the
          // variable of the preceding `for fut in children` loop: the last
          // child in argument order.
          Hit(RuleId::GA_5, "gather cancelled: CancelledError of the last child");
          outer->SetException(outer->children.back()->MakeCancelledError());
        } else {
          outer->SetResult(std::move(v));
        }
      }
    });
  }
  return outer;
}

Co<Unit> Sim::DoGather(const Gather& g) {
  std::vector<Future*> children;
  Hit(RuleId::GA_1, "children in argument order");
  for (const TaskDef& c : g.children) children.push_back(NewTask(c.name, &c.body));  // GA-1
  GatheringFuture* outer = GatherFutures(children, g.return_exceptions);
  co_await Pass(AwaitOuter(g.name, outer, true));
  co_return Unit{};
}

Co<Unit> Sim::DoShield(const Shield& s) {
  Task* inner = NewTask(s.task.name, &s.task.body);
  Future* outer = NewFuture();
  int inner_cb = inner->AddDoneCallback([this, outer](Future* in) {
    if (outer->cancelled()) {
      // "Mark inner's result as retrieved." (3.14 dropped it: PR gh-134343.)
      if (!in->cancelled() && prof_.shield_leaves_error_to_rt4) in->Exception();
      return;
    }
    Hit(RuleId::SH_2, "inner's outcome reaches the outer");
    if (in->cancelled()) {
      outer->Cancel(std::nullopt);  // SH-2
    } else {
      ExcP e = in->Exception();
      if (e) outer->SetException(e);
      else outer->SetResult(in->raw_result());
    }
  });
  outer->AddDoneCallback([this, inner, inner_cb](Future*) {
    if (!inner->done()) Hit(RuleId::SH_1, "outer cancelled, inner keeps running");
    if (!inner->done() && Recording()) shield_orphans_.push_back(inner);
    if (!inner->done()) inner->RemoveDoneCallback(inner_cb);  // SH-3
    if (!inner->done() && !prof_.shield_leaves_error_to_rt4) {
      // 3.14+ (gh-134331): "Keep only one callback to log on cancel".
      auto [it, fresh] = shield_log_cb_.try_emplace(inner, 0);
      if (!fresh) inner->RemoveDoneCallback(it->second);
      it->second = inner->AddDoneCallback([this](Future* in) {  // tasks.py _log_on_exception
        if (in->cancelled()) return;
        if (ExcP e = in->Exception()) {
          handler_calls_.push_back(
              HandlerCall{HandlerCall::Kind::kShielded, static_cast<Task*>(in)->name, ToExc(e)});
        }
      });
    }
  });
  co_await Pass(AwaitOuter(s.name, outer, false));
  co_return Unit{};
}

// `await outer` for gather and shield: records the scope's exit (what the
// await raised or returned) and re-raises.
Co<Unit> Sim::AwaitOuter(const std::string& name, Future* outer, bool gather) {
  Caught<Value> r = co_await CatchFuture{{this, outer}};
  if (r.exc) {
    RecordScope(name, r.exc, std::nullopt, std::nullopt, gather);
    std::exception_ptr e = ProgramError(std::move(r.exc));
    co_await RaiseNow(std::move(e));
  }
  RecordScope(name, nullptr, r.value, std::nullopt, gather);
  co_return Unit{};
}

}  // namespace asyncspec::spec::sim
