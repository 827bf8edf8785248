"""The golden cases, as program literals (spec/FORMAT.md) with their rules.

This file is the only place where golden programs are written. It holds no
expected outcome: spec/cases/record.py runs every program here on real
CPython (3.11.7, 3.12.1, 3.13.0, through the driver in
conformance/adapters/cpython/driver.py) and writes spec/cases/<name>.json
with what CPython did. To add a case: append a `case(...)` below and run
`python3 spec/cases/record.py`.

Conventions that keep the cases exact (spec/RULES.md "Freedom under ties"):
events that the cases are about happen at distinct virtual times unless the
case is about a tie (then its description says so), so that a conforming
runtime with another tie order still produces the recorded outcome.

The builders below mirror FORMAT.md one to one: `task(name, *body)` is a
TaskDef, steps are `sleep(d)`, `raise_(label)`, `ret(value)`, `create(t)`
(op "task"), `group(name, *body)`, `spawn(group, t)`, `gather(name, [t...],
rx)`, `timeout(name, d, *body)`, `reschedule(tm, d)`, `shield(name, t)`,
`wait_for(name, t, d)`, `cancel(target, msg)`, `await_(target)`,
`uncancel()`, `try_(name, body, handlers, fin)`, with handlers
`h(name, catch, *body, then=..., label=..., star=...)` and `fin(name, *body)`.
"""

CASES = []


def case(name, rules, description, *main):
    CASES.append({"name": name, "rules": list(rules), "description": description,
                  "program": {"asyncspec": 1, "name": name, "main": list(main)}})


# ---- builders (FORMAT.md) ----

def task(name, *body):
    return {"name": name, "body": list(body)}


def sleep(d):
    return {"op": "sleep", "d": d}


def raise_(label, base=False):
    st = {"op": "raise", "label": label}
    if base:
        st["base"] = True
    return st


def ret(value):
    return {"op": "return", "value": value}


def create(t):
    return {"op": "task", "task": t}


def group(name, *body):
    return {"op": "group", "name": name, "body": list(body)}


def spawn(g, t):
    return {"op": "spawn", "group": g, "task": t}


def gather(name, children, rx=False):
    return {"op": "gather", "name": name, "children": list(children), "return_exceptions": rx}


def timeout(name, d, *body):
    return {"op": "timeout", "name": name, "d": d, "body": list(body)}


def reschedule(tm, d):
    return {"op": "reschedule", "timeout": tm, "d": d}


def shield(name, t):
    return {"op": "shield", "name": name, "task": t}


def wait_for(name, t, d):
    return {"op": "wait_for", "name": name, "task": t, "d": d}


def cancel(target, msg=None):
    st = {"op": "cancel", "target": target}
    if msg is not None:
        st["msg"] = msg
    return st


def await_(target):
    return {"op": "await", "target": target}


def uncancel():
    return {"op": "uncancel"}


def h(name, catch, *body, then="swallow", label=None, star=False):
    d = {"name": name, "catch": catch, "star": star, "body": list(body), "then": then}
    if label is not None:
        d["label"] = label
    return d


def fin(name, *body):
    return {"name": name, "body": list(body)}


def try_(name, body, handlers=(), finally_=None):
    st = {"op": "try", "name": name, "body": list(body), "handlers": list(handlers)}
    if finally_ is not None:
        st["finally"] = finally_
    return st


def swallow_all(name, *body):
    """try: body / except BaseException: pass (keeps main alive so that the
    case shows what happens next). The handler is named name + '_h'."""
    return try_(name, body, [h(name + "_h", "any")])


# ===========================================================================
# SCHED: the event loop

case("sched_fifo_first_created_runs_first", ["SCHED-1", "CX-3", "INV-9"],
     "Tasks a and b are created in that order; a runs first (FIFO ready queue) and cancels b "
     "before b's first step, so b never starts.",
     create(task("a", cancel("b"), ret("A"))),
     create(task("b", cancel("a"), ret("B"))),
     sleep(1))

case("sched_timers_by_deadline", ["SCHED-2"],
     "a sleeps 3 then would cancel b; b sleeps 2 then cancels a. The earlier timer fires first, "
     "so b cancels a at 2 and a never reaches its cancel.",
     create(task("a", sleep(3), cancel("b"), ret("A"))),
     create(task("b", sleep(2), cancel("a"), ret("B"))),
     sleep(5))

case("sched_sleep0_yields_once", ["SCHED-3", "CX-2"],
     "sleep(0) yields for one loop iteration without moving time: a cancels b after its own "
     "sleep(0), which lands in b's second sleep(0), at time 0.",
     create(task("a", sleep(0), cancel("b"), ret("A"))),
     create(task("b", sleep(0), sleep(0), sleep(0), ret("B"))),
     sleep(1))

# ===========================================================================
# CX: cancellation

case("cx_cancel_is_a_request", ["CX-1", "CX-6"],
     "cancel() only requests: a catches the CancelledError, cleans up for 1 and returns a value; "
     "awaiting a gives that value.",
     create(task("a",
                 try_("a_try", [sleep(5)], [h("a_h", "cancelled", sleep(1))]),
                 ret("alive"))),
     sleep(1),
     cancel("a"),
     await_("a"))

case("cx_self_cancel_lands_at_next_await", ["CX-2", "INV-4"],
     "A task that cancels itself keeps running until its next suspension point, where the "
     "CancelledError arrives (in the try around sleep 2, at time 0).",
     create(task("a",
                 cancel("a"),
                 try_("a_try", [sleep(2)], [h("a_h", "cancelled")]),
                 ret("after"))),
     sleep(1))

case("cx_cancelled_before_start", ["CX-3", "CX-5"],
     "A task cancelled (with a message) before its first step never runs: start is null, it ends "
     "cancelled with that message.",
     create(task("a", sleep(1), ret("A"))),
     cancel("a", "early"),
     sleep(1))

case("cx_must_cancel_then_return_or_raise", ["CX-4"],
     "a requests its own cancellation and returns without suspending: it ends cancelled. b does "
     "the same but raises E1: it ends raised (the pending cancel does not matter).",
     create(task("a", cancel("a", "ma"), ret("A"))),
     create(task("b", cancel("b"), raise_("E1"))),
     sleep(1),
     swallow_all("get_b", await_("b")))

case("cx_cancel_message_first_and_later_retrievals", ["CX-5"],
     "Awaiting a task cancelled with msg 'bye' raises CancelledError('bye') the first time and a "
     "CancelledError without message the second time.",
     create(task("a", sleep(5))),
     sleep(1),
     cancel("a", "bye"),
     sleep(1),
     try_("first", [try_("first_inner", [await_("a")], [h("first_inner_h", "cancelled", then="reraise")])],
          [h("first_h", "cancelled")]),
     try_("second", [try_("second_inner", [await_("a")], [h("second_inner_h", "cancelled", then="reraise")])],
          [h("second_h", "cancelled")]))

case("cx_cleanup_runs_handler_and_finally", ["CX-6", "INV-4"],
     "On cancel at 1, a's handler sleeps 1 and re-raises, then its finally sleeps 1; a ends "
     "cancelled at 3.",
     create(task("a", try_("a_try", [sleep(10)],
                           [h("a_h", "cancelled", sleep(1), then="reraise")],
                           fin("a_fin", sleep(1))))),
     sleep(1),
     cancel("a"),
     swallow_all("wait_a", await_("a")))

case("cx_second_cancel_interrupts_handler", ["CX-6"],
     "a's cancel handler wants to sleep 5; a second cancel at 2 interrupts it there (handler end "
     "null) and the finally block still runs.",
     create(task("a", try_("a_try", [sleep(10)],
                           [h("a_h", "cancelled", sleep(5), then="reraise")],
                           fin("a_fin", sleep(0))))),
     sleep(1),
     cancel("a", "first"),
     sleep(1),
     cancel("a", "second"),
     swallow_all("wait_a", await_("a")))

case("cx_cancel_passes_down_await_chain", ["CX-7"],
     "Cancelling a while it awaits b cancels b; b swallows and returns, so a resumes with b's "
     "value and is not cancelled.",
     create(task("b", try_("b_try", [sleep(5)], [h("b_h", "cancelled")]), ret("b_val"))),
     create(task("a", await_("b"), ret("a_done"))),
     sleep(1),
     cancel("a"),
     sleep(1))

case("cx_cancel_finished_task_marks_retrieved", ["CX-8", "RT-4"],
     "a raises E1 and nobody awaits it, but main calls cancel() on the finished task: that marks "
     "the exception retrieved, so a is not unretrieved (b, left alone, is).",
     create(task("a", raise_("E1"))),
     create(task("b", raise_("E2"))),
     sleep(1),
     cancel("a"))

case("cx_uncancel_withdraws_pending_request", ["CX-9"],
     "a cancels itself and uncancels before suspending. 3.13 withdraws the pending request and a "
     "returns; 3.11/3.12 still deliver it at the sleep.",
     create(task("a", cancel("a"), uncancel(), sleep(1), ret("ok"))),
     sleep(2))

case("cx_swallowed_cancel_keeps_count", ["CX-10", "TG-11"],
     "a swallows a cancel without uncancel (count stays 1), then a TaskGroup in a fails. 3.13 "
     "sees the raised count when raising the group and re-cancels a, which is then cancelled at "
     "its next sleep; 3.11/3.12 do not.",
     create(task("a",
                 try_("a_swallow", [sleep(5)], [h("a_swallow_h", "cancelled")]),
                 try_("a_try", [group("g", spawn("g", task("c", sleep(1), raise_("E1"))), sleep(5))],
                      [h("a_try_h", "exception")]),
                 sleep(1),
                 ret("end"))),
     sleep(1),
     cancel("a"),
     sleep(10))

case("cx_uncancel_handler_resets_count", ["CX-10", "CX-9"],
     "Like cx_swallowed_cancel_keeps_count but the handler calls uncancel(): the count is back to "
     "0 and a failing TaskGroup later does not re-cancel a.",
     create(task("a",
                 try_("a_swallow", [sleep(5)], [h("a_swallow_h", "cancelled", then="uncancel")]),
                 try_("a_try", [group("g", spawn("g", task("c", sleep(1), raise_("E1"))), sleep(5))],
                      [h("a_try_h", "exception")]),
                 sleep(1),
                 ret("end"))),
     sleep(1),
     cancel("a"),
     sleep(10))

# ===========================================================================
# TG: TaskGroup

case("tg_waits_for_all_children", ["TG-1", "INV-1", "INV-6"],
     "The group's block is exited only when its slowest child is done (at 3), although the body "
     "finished at 1.",
     group("g",
           spawn("g", task("a", sleep(3), ret("A"))),
           spawn("g", task("b", sleep(1), ret("B"))),
           sleep(1)))

case("tg_no_children_exits_without_suspending", ["TG-1"],
     "A group with no children exits at once; main goes on at time 0.",
     group("g"),
     sleep(0))

case("tg_child_failure_cancels_siblings_and_body", ["TG-2", "TG-9", "INV-4"],
     "a fails at 1: the group cancels sibling b (its handler runs) and the body (interrupted in "
     "its sleep 5 at 1), then raises ExceptionGroup([E1]).",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", sleep(1), raise_("E1"))),
                       spawn("g", task("b", try_("b_try", [sleep(5)], [h("b_h", "cancelled", then="reraise")]))),
                       try_("body", [sleep(5)], [h("body_h", "cancelled", then="reraise")]))))

case("tg_two_errors_in_completion_order", ["TG-3", "EG-1", "INV-3"],
     "b fails at 1; a, cancelled by the abort, raises E1 from its handler at 2. The group holds "
     "[E2, E1]: completion order, not creation order.",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", try_("a_try", [sleep(5)], [h("a_h", "cancelled", sleep(1), raise_("E1"))]))),
                       spawn("g", task("b", sleep(1), raise_("E2"))))))

case("tg_two_errors_same_iteration", ["TG-3", "SCHED-2"],
     "Tie case: a and b both fail at time 1 in the same loop iteration (a's timer first). CPython "
     "groups them as [E1, E2]; other orders are a permitted freedom (RULES 'Freedom under ties').",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", sleep(1), raise_("E1"))),
                       spawn("g", task("b", sleep(1), raise_("E2"))))))

case("tg_body_error_joins_group", ["TG-4"],
     "The body raises E0 at 1 while child a still sleeps: a is cancelled, and the group raises "
     "ExceptionGroup([E0]) (a group even for one error).",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", sleep(5))),
                       sleep(1),
                       raise_("E0"))))

case("tg_body_error_after_child_error", ["TG-4", "TG-2"],
     "Child b fails at 1 and cancels the body, whose handler raises E0 instead: the group holds "
     "[E1, E0], the body's error last.",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("b", sleep(1), raise_("E1"))),
                       try_("body", [sleep(5)], [h("body_h", "cancelled", raise_("E0"))]))))

case("tg_base_error_from_body_alone", ["TG-5"],
     "The body raises base error K at 1: child a is cancelled and the group raises K by itself, "
     "not in a group; run raises K.",
     group("g",
           spawn("g", task("a", try_("a_try", [sleep(5)], [h("a_h", "cancelled", then="reraise")]))),
           sleep(1),
           raise_("K", base=True)))

case("tg_base_error_from_child", ["TG-5", "RT-5"],
     "Child a raises base error K at 1: it escapes the event loop at once (RT-5), run cancels the "
     "rest and the group (still waiting) raises K alone; child b's E1 at 1 is dropped.",
     group("g",
           spawn("g", task("a", sleep(1), raise_("K", base=True))),
           spawn("g", task("b", try_("b_try", [sleep(5)], [h("b_h", "cancelled", raise_("E1"))]))),
           sleep(5)))

case("tg_cancelled_child_is_not_an_error", ["TG-6"],
     "b cancels sibling a; a's cancellation is not an error and does not abort the group, which "
     "exits normally when b is done.",
     group("g",
           spawn("g", task("a", sleep(5))),
           spawn("g", task("b", sleep(1), cancel("a"), sleep(1), ret("B")))))

case("tg_external_cancel_of_parent", ["TG-7"],
     "main cancels p at 1 while p's group body sleeps: the group cancels child a, waits, and "
     "re-raises the CancelledError; p ends cancelled.",
     create(task("p",
                 group("g",
                       spawn("g", task("a", try_("a_try", [sleep(5)], [h("a_h", "cancelled", sleep(1), then="reraise")]))),
                       sleep(5)))),
     sleep(1),
     cancel("p", "stop"),
     sleep(5))

case("tg_external_cancel_errors_have_priority", ["TG-7", "TG-11"],
     "As tg_external_cancel_of_parent, but child a answers the cancellation by raising E1: the "
     "group raises ExceptionGroup([E1]) instead of CancelledError. p catches it and sleeps: 3.13 "
     "re-cancels p (TG-11), so p ends cancelled; 3.11/3.12 lose the outer cancel and p returns.",
     create(task("p",
                 try_("p_try",
                      [group("g",
                             spawn("g", task("a", try_("a_try", [sleep(5)], [h("a_h", "cancelled", raise_("E1"))]))),
                             sleep(5))],
                      [h("p_h", "exception")]),
                 sleep(1),
                 ret("p_done"))),
     sleep(1),
     cancel("p"),
     sleep(5))

case("tg_parent_cancelled_in_aexit", ["TG-8"],
     "p's group body is done and p waits in __aexit__ for child a; main cancels p at 1: the group "
     "aborts (a cancelled) and propagates the CancelledError.",
     create(task("p",
                 group("g", spawn("g", task("a", sleep(3), ret("A")))))),
     sleep(1),
     cancel("p", "outer"),
     sleep(5))

case("tg_parent_cancelled_while_aborting", ["TG-8", "TG-9", "TG-11"],
     "Child a fails at 1, the group aborts and waits for b's slow cleanup (1..3); main cancels p "
     "at 2 meanwhile. The group raises ExceptionGroup([E1]) (errors have priority); p catches it "
     "and sleeps, where 3.13 delivers the outer cancel (TG-11).",
     create(task("p",
                 try_("p_try",
                      [group("g",
                             spawn("g", task("a", sleep(1), raise_("E1"))),
                             spawn("g", task("b", try_("b_try", [sleep(5)], [h("b_h", "cancelled", sleep(2), then="reraise")]))),
                             sleep(5))],
                      [h("p_h", "exception")]),
                 sleep(1),
                 ret("p_done"))),
     sleep(2),
     cancel("p"),
     sleep(10))

case("tg_nested_groups_inner_failure", ["TG-2", "EG-2"],
     "Inner group g2 (in g1's body) fails with E1: g2 raises ExceptionGroup([E1]) into g1's body, "
     "g1 cancels its other child and raises ExceptionGroup([ExceptionGroup([E1])]).",
     swallow_all("outer",
                 group("g1",
                       spawn("g1", task("a", sleep(5))),
                       group("g2", spawn("g2", task("b", sleep(1), raise_("E1")))))))

case("tg_nested_groups_swallow_parent_cancel", ["TG-9", "TG-8"],
     "gh-116720 shape: outer g1's child c1 fails at 2 while main waits in inner g2's __aexit__ "
     "for c3's slow cleanup (g2's own child c2 failed at 1). 3.11/3.12 uncancel at the top of "
     "__aexit__, 3.13 after the wait; in this shape the outcome is the same in all three.",
     swallow_all("outer",
                 group("g1",
                       spawn("g1", task("c1", sleep(2), raise_("E1"))),
                       group("g2",
                             spawn("g2", task("c2", sleep(1), raise_("E2"))),
                             spawn("g2", task("c3", try_("c3_try", [sleep(10)],
                                                         [h("c3_h", "cancelled", sleep(3), then="reraise")]))),
                             sleep(10)),
                       sleep(10))),
     sleep(1))

case("tg_nested_inner_cancel_swallowed_after_wait", ["TG-9", "TG-11"],
     "Inner group g2 waits for a slow child while main is cancelled from outside by task k at 2: "
     "the cancel must not be lost by g2 (3.13); shows the uncancel-once bookkeeping of TG-9.",
     create(task("k", sleep(2), cancel("main", "k"))),
     swallow_all("outer",
                 group("g2",
                       spawn("g2", task("c2", sleep(1), raise_("E2"))),
                       spawn("g2", task("c3", try_("c3_try", [sleep(10)],
                                                   [h("c3_h", "cancelled", sleep(3), then="reraise")]))),
                       sleep(10))),
     sleep(5))

case("tg_create_task_after_finished", ["TG-10"],
     "Spawning into a group that has exited raises RuntimeError ('is finished'); the task is not "
     "created.",
     group("g", spawn("g", task("a", ret("A")))),
     try_("late", [try_("late_in", [spawn("g", task("x", ret("X")))], [h("late_in_h", "runtime", then="reraise")])],
          [h("late_h", "runtime")]))

case("tg_create_task_not_entered", ["TG-10"],
     "Spawning into a group that was not entered yet raises RuntimeError ('has not been entered').",
     try_("early", [try_("early_in", [spawn("g", task("x", ret("X")))], [h("early_in_h", "runtime", then="reraise")])],
          [h("early_h", "runtime")]),
     group("g"))

case("tg_create_task_while_shutting_down", ["TG-10"],
     "After child a fails, the body's cancel handler spawns b into the aborting group: "
     "RuntimeError ('is shutting down'), b is not created. Same in 3.11.7, 3.12.1 and 3.13.0 "
     "(all three have the _aborting check in TaskGroup.create_task).",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", sleep(1), raise_("E1"))),
                       try_("body", [sleep(5)],
                            [h("body_h", "cancelled",
                               try_("late", [try_("late_in", [spawn("g", task("b", sleep(2), ret("B")))],
                                                  [h("late_in_h", "runtime", then="reraise")])],
                                    [h("late_h", "runtime")]),
                               then="reraise")]))))

case("tg_spawn_from_child", ["TG-12", "TG-1"],
     "Child a spawns b into the same group; the group waits for b too.",
     group("g", spawn("g", task("a", sleep(1), spawn("g", task("b", sleep(2), ret("B"))), ret("A")))))

case("tg_spawn_from_free_task", ["TG-12"],
     "A free task f (not a child) spawns b into main's group; b is a child of the group, which "
     "waits for it.",
     group("g",
           create(task("f", spawn("g", task("b", sleep(3), ret("B"))))),
           sleep(1)))

case("tg_cancel_during_wait_is_uncancelled", ["TG-9", "TG-2", "TO-3"],
     "p's group body is done and the group waits in __aexit__ when child a fails at 1: the group "
     "cancels p (TG-2) and, after the wait, uncancels it once (TG-9). p catches the "
     "ExceptionGroup and sleeps; its timeout expires at 5 and, p's cancelling() count being "
     "the timeout's own, raises TimeoutError, which p catches. 3.11/3.12 uncancel at the top of "
     "__aexit__, before the cancel: the count stays one too high, the timeout lets the "
     "CancelledError through and p ends cancelled (gh-116720, gh-133747).",
     create(task("p",
                 try_("p_to",
                      [timeout("tm", 5,
                               try_("p_try", [group("g", spawn("g", task("a", sleep(1), raise_("E1"))))],
                                    [h("p_h", "exception")]),
                               sleep(10))],
                      [h("p_to_h", "timeout")]),
                 ret("p_done"))),
     sleep(20))

# ===========================================================================
# GA: gather

case("ga_results_in_argument_order", ["GA-1", "INV-5"],
     "gather returns results in argument order, not completion order.",
     gather("G", [task("a", sleep(2), ret("A")), task("b", sleep(1), ret("B"))]))

case("ga_first_error_others_keep_running", ["GA-2", "GA-6"],
     "return_exceptions=False: a's E1 at 1 propagates at once; b is not cancelled, runs on and "
     "fails at 3, and its E2 is marked retrieved by gather (not unretrieved).",
     try_("T", [gather("G", [task("a", sleep(1), raise_("E1")), task("b", sleep(3), raise_("E2"))])],
          [h("T_h", "error")]),
     sleep(5))

case("ga_child_cancelled_alone_rx_false", ["GA-3"],
     "A child that cancels itself (msg 'self') makes gather raise CancelledError('self') in main, "
     "which was not cancelled and goes on.",
     try_("T", [gather("G", [task("a", cancel("a", "self"), sleep(1)), task("b", sleep(2), ret("B"))])],
          [h("T_h", "cancelled")]),
     sleep(3))

case("ga_child_cancelled_alone_rx_true", ["GA-3", "GA-4"],
     "return_exceptions=True: the cancelled child's entry is a CancelledError with an empty "
     "message although it was cancelled with 'self'.",
     gather("G", [task("a", cancel("a", "self"), sleep(1)), task("b", sleep(2), ret("B"))], rx=True))

case("ga_rx_true_every_outcome", ["GA-4", "GA-1"],
     "return_exceptions=True: values and exceptions in argument order; gather raises nothing.",
     gather("G", [task("a", sleep(1), ret("A")), task("b", sleep(2), raise_("E1")),
                  task("c", sleep(3), raise_("E2"))], rx=True))

case("ga_cancel_gather_cancels_children", ["GA-5"],
     "Cancelling p while it awaits gather cancels both children; gather raises CancelledError "
     "even with return_exceptions=True.",
     create(task("p", gather("G", [task("a", sleep(5)), task("b", sleep(5))], rx=True))),
     sleep(1),
     cancel("p", "stop"),
     sleep(2))

case("ga_cancel_gather_rx_false_slow_child", ["GA-5", "GA-3"],
     "return_exceptions=False: p is cancelled at 1; child a ends cancelled at once and completes "
     "gather with CancelledError while child b still runs its cleanup until 3.",
     create(task("p", gather("G", [task("a", sleep(5)),
                                   task("b", try_("b_try", [sleep(5)], [h("b_h", "cancelled", sleep(2), then="reraise")]))]))),
     sleep(1),
     cancel("p"),
     sleep(5))

# ===========================================================================
# TO: timeout

case("to_fires", ["TO-1", "TO-2", "TO-3", "INV-7"],
     "timeout(1) around sleep 5: at 1 the task is cancelled and the block raises TimeoutError; "
     "expired() is true.",
     try_("T", [timeout("tm", 1, sleep(5))], [h("T_h", "timeout")]))

case("to_does_not_fire", ["TO-1", "TO-4"],
     "timeout(5) around sleep 1: the block ends normally at 1, expired() false.",
     timeout("tm", 5, sleep(1)))

case("to_none_no_deadline", ["TO-1"],
     "timeout(None): no deadline.",
     timeout("tm", None, sleep(3)))

case("to_outer_cancel_stays_cancelled", ["TO-3"],
     "main cancels p at 1 inside p's timeout(5): the CancelledError passes through unchanged and "
     "expired() is false.",
     create(task("p", timeout("tm", 5, sleep(10)))),
     sleep(1),
     cancel("p", "outer"),
     sleep(1))

case("to_expired_then_foreign_cancel", ["TO-3", "TO-4"],
     "p's timeout(1) fires; p's handler cleans up until 4 but main cancels p again at 2. The "
     "block exits at 2 with CancelledError (another cancel is pending), expired() true.",
     create(task("p", timeout("tm", 1, try_("p_try", [sleep(10)], [h("p_h", "cancelled", sleep(3), then="reraise")])))),
     sleep(2),
     cancel("p"),
     sleep(5))

case("to_expired_but_body_swallowed", ["TO-4"],
     "The body swallows the timeout's CancelledError and ends normally: no TimeoutError, but "
     "expired() is true.",
     timeout("tm", 1, try_("T", [sleep(5)], [h("T_h", "cancelled")])),
     sleep(1))

case("to_reschedule_later", ["TO-5"],
     "reschedule at 1 moves the deadline from 2 to 6: the body's sleep until 4 completes.",
     timeout("tm", 2, sleep(1), reschedule("tm", 5), sleep(3)))

case("to_reschedule_none", ["TO-5"],
     "reschedule(None) removes the deadline.",
     timeout("tm", 1, reschedule("tm", None), sleep(3)))

case("to_reschedule_earlier", ["TO-5", "TO-2"],
     "reschedule to now+1 at 1 brings the deadline from 10 to 2.",
     try_("T", [timeout("tm", 10, sleep(1), reschedule("tm", 1), sleep(5))], [h("T_h", "timeout")]))

case("to_reschedule_after_expiry", ["TO-5"],
     "reschedule in the cancel handler after expiry raises RuntimeError ('Cannot change state of "
     "expiring Timeout'); it leaves the block unconverted.",
     try_("T", [timeout("tm", 1, try_("in", [sleep(5)], [h("in_h", "cancelled", reschedule("tm", 3), then="reraise")]))],
          [h("T_h", "runtime")]))

case("to_nested_outer_first", ["TO-6"],
     "outer timeout(1) around inner timeout(5): the outer fires; the inner lets CancelledError "
     "through (not its own), the outer converts it to TimeoutError.",
     try_("T", [timeout("outer", 1, timeout("inner", 5, sleep(10)))], [h("T_h", "timeout")]))

case("to_nested_inner_first", ["TO-6"],
     "outer timeout(5) around inner timeout(1): the inner fires and raises TimeoutError, which the "
     "body catches; the outer does not expire.",
     timeout("outer", 5, try_("T", [timeout("inner", 1, sleep(10))], [h("T_h", "timeout")]), sleep(1)))

case("to_nested_both_expire", ["TO-6", "TO-3", "INV-3", "INV-7"],
     "inner timeout(1) fires, the body's cancel handler cleans up until 3, and the outer "
     "timeout(2) fires meanwhile: the inner sees another pending cancel and lets CancelledError "
     "through; the outer converts it.",
     try_("T", [timeout("outer", 2,
                        timeout("inner", 1, try_("b", [sleep(10)], [h("b_h", "cancelled", sleep(2), then="reraise")])))],
          [h("T_h", "timeout")]))

case("to_nested_foreign_cancel", ["TO-6", "TO-3"],
     "Nested timeouts in p (outer 3, inner 1) and a foreign cancel of p at 2 during the inner's "
     "cleanup: CancelledError leaves both timeouts; p ends cancelled.",
     create(task("p", timeout("outer", 3,
                              timeout("inner", 1, try_("b", [sleep(10)], [h("b_h", "cancelled", sleep(5), then="reraise")]))))),
     sleep(2),
     cancel("p", "foreign"),
     sleep(5))

case("to_zero", ["TO-7"],
     "timeout(0) expires at the body's first suspension point.",
     try_("T", [timeout("tm", 0, sleep(1))], [h("T_h", "timeout")]))

case("to_zero_no_suspension", ["TO-7"],
     "timeout(0) around a body that does not suspend: exited before the handler runs, "
     "expired() false.",
     timeout("tm", 0),
     sleep(1))

case("to_zero_swallows_pending_cancel", ["TO-7", "CX-2"],
     "Known issue gh-134471: a cancel pending when timeout(0) is entered is converted into "
     "TimeoutError by the timeout.",
     create(task("a", cancel("a", "pending"),
                 try_("T", [timeout("tm", 0, sleep(1))], [h("T_h", "timeout")]),
                 sleep(1), ret("A"))),
     sleep(3))

# ===========================================================================
# WF: wait_for

case("wf_timeout_cancels_child", ["WF-1", "WF-3"],
     "wait_for(child, 1) with a child sleeping 5: the child is cancelled and TimeoutError raised.",
     try_("T", [wait_for("W", task("c", sleep(5), ret("C")), 1)], [h("T_h", "timeout")]))

case("wf_child_in_time", ["WF-1", "WF-3"],
     "The child returns before the deadline: its value is returned.",
     wait_for("W", task("c", sleep(1), ret("C")), 5))

case("wf_none", ["WF-1", "WF-3"],
     "wait_for(child, None): no deadline.",
     wait_for("W", task("c", sleep(2), ret("C")), None))

case("wf_child_swallows_cancel_returns_value", ["WF-1", "WF-3"],
     "On timeout the child swallows the cancellation and returns a value: that value is returned, "
     "no TimeoutError.",
     wait_for("W", task("c", try_("c_try", [sleep(5)], [h("c_h", "cancelled", sleep(1))]), ret("late")), 1))

case("wf_zero_never_runs_child", ["WF-2"],
     "wait_for(child, 0): the child is cancelled before it runs (start null); TimeoutError.",
     try_("T", [wait_for("W", task("c", sleep(1), ret("C")), 0)], [h("T_h", "timeout")]))

case("wf_zero_takes_child_cancel_message", ["WF-2", "CX-5"],
     "Random tree 11735130087614439520 (seed 1), shrunk: wait_for(t12, 0) cancels t12, then t13 "
     "cancels it again with '#hash' before it starts; wait_for's fut.result() is the first "
     "retrieval of t12's CancelledError('#hash'), so t5's later await of t12 raises a "
     "CancelledError without message.",
     try_("try0", [gather("ga0", [task("t5", try_("try1", [sleep(1), await_("t12")])),
                                  task("t8", raise_("E"))])],
          [h("h2", "exception",
             create(task("t10", wait_for("wf0", task("t12"), 0))),
             shield("sh1", task("t13", cancel("t12", "#hash"), sleep(2))))]))

case("wf_outer_cancel_with_child_done", ["WF-3", "WF-1"],
     "Child c cancels p (its awaiter) and returns in the same step. 3.11: wait_for's waiter is "
     "cancelled, c is done, so c's value is returned and the cancellation swallowed (bpo-42130). "
     "3.12+: p awaits c directly, so p.cancel passes down to the running c (CX-7), which returns "
     "with the request pending and ends cancelled (CX-4); p gets CancelledError('pc').",
     create(task("p", wait_for("W", task("c", sleep(1), cancel("p", "pc"), ret("C")), 5), ret("p_done"))),
     sleep(3))

case("wf_outer_cancel_child_running", ["WF-1", "WF-3"],
     "p is cancelled (msg 'stop') while waiting: the child is cancelled, waited for, and p ends "
     "cancelled. 3.12+ pass the message down to the child (CX-7); 3.11's wait_for cancels the "
     "child without it.",
     create(task("p", wait_for("W", task("c", try_("c_try", [sleep(5)], [h("c_h", "cancelled", sleep(1), then="reraise")])), 5))),
     sleep(1),
     cancel("p", "stop"),
     sleep(5))

case("wf_child_raises", ["WF-1", "WF-3"],
     "The child's exception propagates through wait_for.",
     try_("T", [wait_for("W", task("c", sleep(1), raise_("E1")), 5)], [h("T_h", "error")]))

# ===========================================================================
# SH: shield

case("sh_outer_cancelled_inner_runs", ["SH-1"],
     "Cancelling p (awaiting shield) raises CancelledError in p at 1; the shielded c runs on and "
     "returns at 3.",
     create(task("p", shield("S", task("c", sleep(3), ret("C"))))),
     sleep(1),
     cancel("p"),
     sleep(5))

case("sh_inner_value_and_error", ["SH-2"],
     "Not cancelled: the shield returns the inner value; an inner error propagates.",
     shield("S1", task("c1", sleep(1), ret("C1"))),
     try_("T", [shield("S2", task("c2", sleep(1), raise_("E1")))], [h("T_h", "error")]))

case("sh_inner_cancelled_on_its_own", ["SH-2"],
     "The inner task cancels itself: the awaiter gets CancelledError.",
     try_("T", [shield("S", task("c", cancel("c"), sleep(1)))], [h("T_h", "cancelled")]),
     sleep(1))

case("sh_inner_fails_after_shield_cancelled", ["SH-3", "RT-4"],
     "p's shield is cancelled at 1; the inner c fails at 3 and nobody retrieves E1: c is "
     "unretrieved.",
     create(task("p", shield("S", task("c", sleep(3), raise_("E1"))))),
     sleep(1),
     cancel("p"),
     sleep(5))

case("sh_inner_fails_after_shield_cancelled_awaited", ["SH-3"],
     "p's shield is cancelled at 1; main then awaits the inner t, which fails at 2, and "
     "handles E1: retrieved, so nothing is reported.",
     create(task("p", shield("S", task("t", sleep(2), raise_("E1"))))),
     sleep(1),
     cancel("p"),
     try_("y", [await_("t")], [h("h", "error")]))

# ===========================================================================
# EG: exception groups and except*

case("eg_base_group_from_except_star", ["EG-1", "EG-4"],
     "A group [E1, E2] meets `except* E1` whose handler raises base error K: the result is "
     "BaseExceptionGroup('', [K, ExceptionGroup([E2])]).",
     try_("T",
          [group("g",
                 spawn("g", task("a", raise_("E1"))),
                 spawn("g", task("b", raise_("E2"))))],
          [h("h1", "error", raise_("K", base=True), label="E1", star=True)]))

case("eg_nesting_kept_by_except_star", ["EG-2", "EG-3"],
     "except* E2 on [E1, [E2, E3]] (a nested group from an inner TaskGroup) sees [[E2]]; the "
     "unmatched rest [E1, [E3]] is re-raised with its nesting.",
     try_("T",
          [group("g1",
                 spawn("g1", task("a", raise_("E1"))),
                 spawn("g1", task("n", group("g2",
                                           spawn("g2", task("b", raise_("E2"))),
                                           spawn("g2", task("c", raise_("E3")))))))],
          [h("h2", "error", label="E2", star=True)]))

case("eg_except_star_clauses_in_order", ["EG-3"],
     "Two clauses `except* error` then `except* error E2`: the first takes every Err, the second "
     "runs not at all.",
     try_("T",
          [group("g", spawn("g", task("a", raise_("E1"))), spawn("g", task("b", raise_("E2"))))],
          [h("h1", "error", star=True), h("h2", "error", label="E2", star=True)]))

case("eg_naked_reraised_wrapped", ["EG-3", "EG-4"],
     "A naked E1 caught by `except* E1` and re-raised leaves as ExceptionGroup('', [E1]).",
     try_("T", [raise_("E1")], [h("h1", "error", label="E1", star=True, then="reraise")]))

case("eg_handler_raises_plus_unmatched", ["EG-4"],
     "Group [E1, E2]; `except* E1` raises E3: the result is ExceptionGroup('', [E3, "
     "ExceptionGroup([E2])]).",
     try_("T",
          [group("g", spawn("g", task("a", raise_("E1"))), spawn("g", task("b", raise_("E2"))))],
          [h("h1", "error", raise_("E3"), label="E1", star=True)]))

case("eg_plain_except_on_group", ["EG-5"],
     "A plain `except error` does not match an ExceptionGroup of errors; `except group` does.",
     try_("T",
          [group("g", spawn("g", task("a", raise_("E1"))))],
          [h("h1", "error"), h("h2", "group")]))

# ===========================================================================
# RT: asyncio.run

case("rt_run_waits_for_main", ["RT-1", "RT-3"],
     "run returns main's value when main returns; end_time is main's end.",
     sleep(3),
     ret("done"))

case("rt_leftovers_cancelled_and_drained", ["RT-2", "INV-8"],
     "main returns at 1 with a still sleeping: run cancels a and waits for its cleanup until 3.",
     create(task("a", try_("a_try", [sleep(10)], [h("a_h", "cancelled", sleep(2), then="reraise")]))),
     sleep(1))

case("rt_leftover_survives_cancel", ["RT-2"],
     "A leftover that swallows run's cancellation and returns is simply drained.",
     create(task("a", try_("a_try", [sleep(10)], [h("a_h", "cancelled", sleep(1))]), ret("A"))),
     sleep(1))

case("rt_main_raises", ["RT-3"],
     "main raises E1: run raises E1.",
     sleep(1),
     raise_("E1"))

case("rt_main_cancelled", ["RT-3"],
     "main cancels itself: run raises CancelledError.",
     cancel("main", "me"),
     sleep(1))

case("rt_unretrieved", ["RT-4", "INV-2"],
     "a raises E1 and nobody retrieves it: listed. b's E2 is awaited: not listed.",
     create(task("a", raise_("E1"))),
     create(task("b", sleep(1), raise_("E2"))),
     swallow_all("T", await_("b")))

case("rt_leftover_raises_during_drain", ["RT-4", "RT-2"],
     "Leftover a answers run's cancellation with E1: asyncio reports it ('unhandled exception "
     "during asyncio.run() shutdown'); it is listed.",
     create(task("a", try_("a_try", [sleep(10)], [h("a_h", "cancelled", raise_("E1"))]))),
     sleep(1))

case("rt_base_error_after_main_returned", ["RT-5", "RT-3", "RT-4"],
     "main creates a (whose group body raises base error K) and b, and returns. main's "
     "run_until_complete stop callback is already queued when a's K escapes the loop; run's "
     "drain then runs that stale callback, which stops the drain before its gather is done, so "
     "asyncio.run raises RuntimeError('Event loop stopped before Future completed.') (with K as "
     "its context) instead of K. b was cancelled before it started; a's K is never retrieved.",
     create(task("a", group("g", raise_("K", base=True)))),
     create(task("b")))

case("rt_drain_stopped_by_base_error_reports_leftover_error", ["RT-4", "RT-2", "RT-5", "INV-2"],
     "main returns leaving t2 asleep. run's drain cancels it; t2's handler creates b (which "
     "creates k) and raises E3, which the drain's gather retrieves. Then k raises base error K, "
     "which stops the loop before run reports the leftovers' errors: spec reports E3 all the "
     "same (exception handler, listed); CPython 3.11-3.13 drop it, neither reported nor listed "
     "(conformance/findings/drain-stopped-error-dropped.md).",
     create(task("t2", try_("t2_try", [sleep(1)],
                            [h("t2_h", "cancelled", create(task("b", create(task("k", raise_("K", base=True))))),
                               raise_("E3"))]))))

case("rt_base_error_stops_loop", ["RT-5"],
     "Free task a raises base error K at 1: it escapes the loop at once; run cancels main and "
     "raises K.",
     create(task("a", sleep(1), raise_("K", base=True))),
     try_("m", [sleep(5)], [h("m_h", "cancelled", then="reraise")]))

# ===========================================================================
# Combinations

case("to_around_taskgroup", ["TO-2", "TO-3", "TG-7", "INV-1"],
     "timeout(1) around a TaskGroup: the expiry cancels the body, the group cancels child a, "
     "waits for its cleanup until 2 and re-raises the CancelledError, which the timeout turns "
     "into TimeoutError at 2.",
     try_("T", [timeout("tm", 1,
                        group("g",
                              spawn("g", task("a", try_("a_try", [sleep(5)], [h("a_h", "cancelled", sleep(1), then="reraise")]))),
                              sleep(5)))],
          [h("T_h", "timeout")]))

case("tg_abort_passes_through_timeout", ["TG-2", "TG-9", "TO-3"],
     "A timeout(5) in the group body; child a fails at 1 and the group cancels the body. The "
     "timeout did not expire, so the CancelledError passes through it; the group uncancels its "
     "own cancel and raises ExceptionGroup([E1]).",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", sleep(1), raise_("E1"))),
                       timeout("tm", 5, sleep(10)))))

case("sh_in_group_body_abort", ["SH-1", "TG-2", "RT-2"],
     "The group body awaits shield(s); child a fails at 1, the group cancels the body, which "
     "leaves the shield at once; s is no child of the group and runs on until main returns at 2, "
     "then run cancels it.",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("a", sleep(1), raise_("E1"))),
                       shield("S", task("s", try_("s_try", [sleep(10)], [h("s_h", "cancelled", then="reraise")]))))),
     sleep(1))

case("ga_inside_group_child", ["GA-2", "GA-6", "TG-2"],
     "A group child awaits gather; a gather child fails at 1: gather raises E1 in the group "
     "child (the other gather child keeps running), which fails and aborts the group.",
     swallow_all("outer",
                 group("g",
                       spawn("g", task("p", gather("G", [task("x", sleep(1), raise_("E1")),
                                                         task("y", sleep(2), ret("Y"))]))),
                       spawn("g", task("q", sleep(5))))),
     sleep(3))

case("wf_inside_timeout", ["WF-1", "WF-3", "TO-6"],
     "wait_for(child, 5) inside timeout(1): the outer timeout fires first; wait_for's child is "
     "cancelled and the CancelledError leaves wait_for unconverted; the timeout converts it.",
     try_("T", [timeout("tm", 1, wait_for("W", task("c", sleep(3), ret("C")), 5))], [h("T_h", "timeout")]))

case("cx_await_group_child_from_outside", ["CX-7", "TG-6", "TG-12"],
     "Free task f awaits group child a; cancelling f cancels a through the await chain (CX-7); "
     "a's cancellation is not a group error and the group exits normally.",
     group("g",
           spawn("g", task("a", sleep(5))),
           create(task("f", await_("a"))),
           sleep(1),
           cancel("f")))

# ===========================================================================
# Talk programs (Junya Fukuda, "Asyncio Evolved", PyConTW 2023), with
# coro_success / coro_value_err / coro_type_err / coro_long as tasks.

case("talk_gather_rx_false_only_value_error", ["GA-2", "GA-6"],
     "Talk 1: gather(success, value_err, type_err): only ValueError is caught; TypeError (later) "
     "is suppressed (retrieved by gather, never seen).",
     try_("T", [gather("G", [task("coro_success", sleep(1), ret("success")),
                             task("coro_value_err", sleep(1), raise_("ValueError")),
                             task("coro_type_err", sleep(2), raise_("TypeError"))])],
          [h("except_value", "error", label="ValueError"), h("except_type", "error", label="TypeError")]),
     sleep(2))

case("talk_gather_rx_true_all_results", ["GA-4", "GA-1"],
     "Talk 2: return_exceptions=True returns ['success', ValueError(), TypeError()].",
     gather("G", [task("coro_success", sleep(1), ret("success")),
                  task("coro_value_err", sleep(1), raise_("ValueError")),
                  task("coro_type_err", sleep(1), raise_("TypeError"))], rx=True))

case("talk_taskgroup_except_star", ["TG-3", "EG-3"],
     "Talk 3: TaskGroup with ValueError and TypeError raised in the same iteration; except* "
     "ValueError and except* TypeError both run, each with its part.",
     try_("T", [group("tg",
                      spawn("tg", task("coro_success", ret("success"))),
                      spawn("tg", task("coro_value_err", raise_("ValueError"))),
                      spawn("tg", task("coro_type_err", raise_("TypeError"))))],
          [h("except_value", "error", label="ValueError", star=True),
           h("except_type", "error", label="TypeError", star=True)]))

case("talk_gather_leaves_long_task_running", ["GA-2", "GA-6"],
     "Talk 4: after ValueError leaves gather, coro_long keeps running and returns 'DONE?' while "
     "main goes on ('coro_long: Task is still running.').",
     try_("T", [gather("G", [task("coro_success", ret("success")),
                             task("coro_value_err", raise_("ValueError")),
                             task("coro_long", sleep(1), ret("DONE?"))])],
          [h("except_value", "error", label="ValueError"), h("except_type", "error", label="TypeError")]),
     sleep(2))

case("talk_manual_cancel_fix", ["CX-1", "CX-6", "GA-2"],
     "Talk 5: after the ValueError, main cancels the unfinished coro_long and sleeps 1; "
     "coro_long's handler ('Task was cancelled.') runs and re-raises.",
     try_("T", [gather("G", [task("coro_success", ret("success")),
                             task("coro_value_err", raise_("ValueError")),
                             task("coro_long", try_("long_try", [sleep(1)],
                                                    [h("long_cancelled", "cancelled", then="reraise")]),
                                  ret("DONE?"))])],
          [h("except_value", "error", label="ValueError"), h("except_type", "error", label="TypeError")]),
     cancel("coro_long"),
     sleep(1))

case("talk_taskgroup_cancels_itself", ["TG-2", "TG-6", "EG-3"],
     "Talk 6: the TaskGroup cancels coro_long by itself when coro_value_err fails; except* "
     "ValueError gets ExceptionGroup([ValueError]).",
     try_("T", [group("g",
                      spawn("g", task("coro_success", ret("success"))),
                      spawn("g", task("coro_value_err", raise_("ValueError"))),
                      spawn("g", task("coro_long", try_("long_try", [sleep(1)],
                                                        [h("long_cancelled", "cancelled", then="reraise")]),
                                      ret("DONE?"))))],
          [h("except_value", "error", label="ValueError", star=True),
           h("except_type", "error", label="TypeError", star=True)]))
