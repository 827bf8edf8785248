"""Tests of the Boost.Asio adapter (asio_adapter), run as the check runs it:
programs on standard input, one JSON line each way (conformance/ADAPTERS.md).

Every expected outcome below is derived by hand from Asio's documented or
source-level semantics (Boost 1.81 headers, cited per test) and the program
text; none is copied from the adapter's output. Each test names the rule of
spec/RULES.md it exercises: where Asio agrees with the rule, and where it
departs from it (the departure is then the expected value, with its cause).
"""

import json
import os
import subprocess
import time
import unittest


def _root():
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, os.environ.get("TEST_WORKSPACE", "asyncspec"))
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


ADAPTER = os.path.join(_root(), "conformance", "adapters", "asio", "asio_adapter")


def run_lines(lines, args=()):
    """Feeds the lines to a fresh adapter; returns (hello, answers, returncode)."""
    p = subprocess.run([ADAPTER, *args], input="".join(l + "\n" for l in lines),
                       capture_output=True, text=True, timeout=60)
    out = p.stdout.splitlines()
    assert out, p.stderr
    return json.loads(out[0])["hello"], [json.loads(l) for l in out[1:]], p.returncode


def run(main, args=()):
    _, answers, rc = run_lines([json.dumps({"asyncspec": 1, "main": main})], args)
    assert rc == 0 and len(answers) == 1, (rc, answers)
    return answers[0]


def sleep(d):
    return {"op": "sleep", "d": d}


def raise_(label):
    return {"op": "raise", "label": label}


def spawn(group, name, body):
    return {"op": "spawn", "group": group, "task": {"name": name, "body": body}}


def group(name, body):
    return {"op": "group", "name": name, "body": body}


def try_(name, body, handlers=(), finally_=None):
    t = {"op": "try", "name": name, "body": body, "handlers": list(handlers)}
    if finally_ is not None:
        t["finally"] = finally_
    return t


def handler(name, catch, body, then="swallow"):
    return {"name": name, "catch": catch, "star": False, "body": body, "then": then}


def gather(name, children, return_exceptions=False):
    return {"op": "gather", "name": name, "children": children, "return_exceptions": return_exceptions}


def child(name, body):
    return {"name": name, "body": body}


def task(name, body):
    return {"op": "task", "task": {"name": name, "body": body}}


def await_(target):
    return {"op": "await", "target": target}


def wait_for(name, task_name, body, d):
    return {"op": "wait_for", "name": name, "task": {"name": task_name, "body": body}, "d": d}


def timeout(name, d, body):
    return {"op": "timeout", "name": name, "d": d, "body": body}


ERR = lambda label: {"type": "error", "label": label}
CANCELLED = {"type": "cancelled"}
TIMEOUT = {"type": "timeout"}


def group_exc(*children):
    return {"type": "group", "base": False, "children": list(children)}


class ProtocolTest(unittest.TestCase):
    def test_hello(self):
        hello, answers, rc = run_lines([])
        self.assertEqual(rc, 0)
        self.assertEqual(answers, [])
        self.assertEqual(hello["protocol"], 2)
        self.assertEqual(hello["runtime"], "asio")
        self.assertIn("asio 1.26.0", hello["version"])  # Boost 1.81 ships Asio 1.26.0
        self.assertEqual(hello["clock"], "virtual")
        self.assertEqual(hello["rules"], "structured")
        for op in ["reschedule", "except_star", "base"]:
            self.assertNotIn(op, hello["capabilities"])

    def test_bad_lines_get_an_input_error_and_the_run_goes_on(self):
        good = json.dumps({"asyncspec": 1, "main": [sleep(1)]})
        _, answers, rc = run_lines([
            "not json",
            "",
            '{"asyncspec": 1, "main": [{"op": "sleep", "d": "x"}]}',  # wrong type
            '{"asyncspec": 1, "main": [{"op": "await", "target": "nobody"}, '
            '{"op": "group", "name": "main", "body": [{"op": "sleep", "d": 0}]}]}',  # name "main" taken
            '[1, 2',
            good,
        ])
        self.assertEqual(rc, 0)
        self.assertEqual(len(answers), 6)
        for i, a in enumerate(answers[:5]):
            self.assertEqual(a.get("kind"), "input", a)
            self.assertEqual(a.get("line"), i + 1)
            self.assertTrue(a["error"])
        self.assertEqual(answers[5]["end_time"], 1)

    def test_unsupported_ops_are_refused_with_where(self):
        a = run([sleep(1), {"op": "group", "name": "g", "body": [{"op": "raise", "label": "K", "base": True}]}])
        self.assertEqual(a["kind"], "unsupported")
        self.assertIn("main/1", a["where"])
        a = run([{"op": "reschedule", "timeout": "tm", "d": 1}])
        self.assertEqual(a["kind"], "input")  # not inside its timeout: invalid before unsupported
        a = run([timeout("tm", 5, [{"op": "reschedule", "timeout": "tm", "d": 1}])])
        self.assertEqual(a["kind"], "unsupported")
        a = run([try_("t", [raise_("E")], [{"name": "h", "catch": "error", "star": True,
                                             "body": [sleep(0)], "then": "swallow"}])])
        self.assertEqual(a["kind"], "unsupported")

    def test_virtual_clock_costs_no_wall_time(self):
        # SCHED-2 / SCHED-3: time jumps to the next deadline when nothing is ready.
        t0 = time.monotonic()
        a = run([sleep(1000), sleep(1000000)])
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(a["end_time"], 1001000)
        self.assertEqual(a["tasks"]["main"], {"start": 0, "end": 1001000, "state": "returned", "value": None})


class RulesTest(unittest.TestCase):
    def test_run_raises_what_main_raised(self):
        # RT-3: the handler bound to main's co_spawn receives its exception_ptr.
        a = run([sleep(1), raise_("E1")])
        self.assertEqual(a["run"], ERR("E1"))
        self.assertEqual(a["tasks"]["main"]["state"], "raised")
        self.assertEqual(a["end_time"], 1)

    def test_group_exit_waits_for_all_children(self):
        # TG-1: the parallel group completes only when both operations did,
        # and the group exit then drains its children.
        a = run([group("g", [spawn("g", "a", [sleep(3)]), spawn("g", "b", [sleep(5)])]), sleep(1)])
        self.assertEqual(a["scopes"]["g"], {"end": 5})
        self.assertEqual(a["tasks"]["a"]["end"], 3)
        self.assertEqual(a["tasks"]["b"]["end"], 5)
        self.assertEqual(a["end_time"], 6)

    def test_first_failure_cancels_siblings_and_body(self):
        # TG-2, TG-3: wait_for_one_error cancels the other operation (the body,
        # asleep on a timer: operation_aborted at once) on the first error;
        # b's timer wait is cancelled through its signal at the same instant.
        a = run([group("g", [spawn("g", "a", [sleep(1), raise_("E1")]),
                             spawn("g", "b", [sleep(5)]),
                             sleep(3)])])
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 1, "state": "raised", "error": ERR("E1")})
        self.assertEqual(a["tasks"]["b"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})
        self.assertEqual(a["scopes"]["g"], {"end": 1, "raised": group_exc(ERR("E1"))})
        self.assertEqual(a["run"], group_exc(ERR("E1")))
        self.assertEqual(a["unretrieved"], [])

    def test_body_error_joins_the_group_last(self):
        # TG-4: the body operation fails first; the parallel group cancels the
        # supervisor, which cancels the child; the body's error is the group's.
        a = run([group("g", [spawn("g", "a", [sleep(5)]), sleep(1), raise_("E0")])])
        self.assertEqual(a["scopes"]["g"], {"end": 1, "raised": group_exc(ERR("E0"))})
        self.assertEqual(a["tasks"]["a"]["state"], "cancelled")

    def test_two_errors_in_completion_order(self):
        # TG-3: both children fail at different times; the second one ends
        # before the group is aborted only if it fails first, so here a second
        # child that raises at the same instant as the first, after being
        # signalled, is still collected: b raises at 1 without suspending
        # again, because its handler catches the cancellation and raises.
        a = run([group("g", [
            spawn("g", "a", [sleep(1), raise_("E1")]),
            spawn("g", "b", [try_("bt", [sleep(5)], [handler("bh", "cancelled", [raise_("E2")])])]),
        ])])
        self.assertEqual(a["scopes"]["g"], {"end": 1, "raised": group_exc(ERR("E1"), ERR("E2"))})
        self.assertEqual(a["blocks"]["bh"], {"start": 1, "end": None})

    def test_spawn_into_a_closed_group(self):
        # TG-10: the adapter's group refuses children once exited, or before entered.
        a = run([group("g", [sleep(1)]),
                 try_("t", [spawn("g", "late", [sleep(1)])], [handler("h", "runtime", [])]),
                 try_("t2", [spawn("g2", "early", [sleep(1)])], [handler("h2", "runtime", [])]),
                 group("g2", [sleep(0)])])
        self.assertEqual(a["scopes"]["t"]["end"], 1)
        self.assertEqual(a["blocks"]["h"], {"start": 1, "end": 1})
        self.assertEqual(a["blocks"]["h2"], {"start": 1, "end": 1})
        self.assertNotIn("late", a["tasks"])
        self.assertNotIn("early", a["tasks"])
        self.assertIsNone(a["run"])

    def test_group_not_entered_after_a_latched_cancel(self):
        # TG-10, CX-2: t cancels itself, so the co_await of its group's
        # parallel group throws before the group is entered; a later spawn
        # into it is refused as "not entered". (Regression: the group's
        # wakeup timer used to dangle here; found under ASan.)
        a = run([task("t", [{"op": "cancel", "target": "t"}, group("g", [sleep(1)])]),
                 try_("T", [spawn("g", "x", [sleep(1)])],
                      [handler("h", "runtime", [])])])
        self.assertEqual(a["tasks"]["t"], {"start": 0, "end": 0, "state": "cancelled", "error": CANCELLED})
        self.assertNotIn("g", a["scopes"])
        self.assertNotIn("x", a["tasks"])
        self.assertEqual(a["blocks"]["h"], {"start": 0, "end": 0})

    def test_cleanup_cannot_suspend_after_cancellation(self):
        # CX-6 departs: Asio latches the cancellation in the coroutine's
        # cancellation_state, and with this_coro::throw_if_cancelled on (the
        # default) the handler's own `sleep 1` throws operation_aborted again
        # before it starts (awaitable_frame_base::await_transform). The
        # handler starts at 1 and never ends; the task ends cancelled at 1.
        a = run([group("g", [
            spawn("g", "a", [try_("at", [sleep(5)], [handler("ah", "cancelled", [sleep(1)])])]),
            sleep(1), {"op": "cancel", "target": "a"}])])
        self.assertEqual(a["blocks"]["ah"], {"start": 1, "end": None})
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})
        self.assertEqual(a["scopes"]["g"], {"end": 1})

    def test_uncancel_is_reset_cancellation_state(self):
        # CX-10 / CX-9: `then uncancel` is this_coro::reset_cancellation_state(),
        # after which the task's later sleep runs (1 unit) and it returns.
        a = run([group("g", [
            spawn("g", "a", [try_("at", [sleep(5)], [handler("ah", "cancelled", [], then="uncancel")]),
                             sleep(1), {"op": "return", "value": "ok"}]),
            sleep(1), {"op": "cancel", "target": "a"}])])
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 2, "state": "returned", "value": "ok"})
        self.assertEqual(a["scopes"]["g"], {"end": 2})

    def test_swallowed_cancellation_stays_latched(self):
        # CX-10: the cancellation is swallowed without uncancel; Asio's latched
        # state makes the next co_await (sleep 1) throw at once.
        a = run([group("g", [
            spawn("g", "a", [try_("at", [sleep(5)], [handler("ah", "cancelled", [])]), sleep(1)]),
            sleep(1), {"op": "cancel", "target": "a"}])])
        self.assertEqual(a["blocks"]["ah"], {"start": 1, "end": 1})
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})

    def test_cancel_message_is_lost(self):
        # CX-5 departs: cancellation_signal::emit takes only a cancellation_type.
        a = run([{"op": "cancel", "target": "main", "msg": "why"}, sleep(1)])
        self.assertEqual(a["run"], CANCELLED)
        self.assertEqual(a["tasks"]["main"], {"start": 0, "end": 0, "state": "cancelled", "error": CANCELLED})

    def test_co_spawn_starts_the_child_at_once(self):
        # CX-3 / TG-12 depart: co_spawn_entry_point begins with
        # `co_await dispatch(...)`, which, called from inside the io_context,
        # runs the child inline up to its first suspension. A child cancelled
        # right after its spawn has already started (start 0, not null), and
        # the cancel reaches its timer wait.
        a = run([group("g", [spawn("g", "a", [sleep(1)]), {"op": "cancel", "target": "a"}])])
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 0, "state": "cancelled", "error": CANCELLED})

    def test_cancel_during_yield_lands_at_the_next_co_await(self):
        # CX-2: post() has no cancellation slot, so a cancel that arrives while
        # the child yields (`sleep 0`) is latched and thrown at its next
        # co_await (the `sleep 5`), at time 0.
        a = run([group("g", [spawn("g", "a", [sleep(0), sleep(5)]), {"op": "cancel", "target": "a"}])])
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 0, "state": "cancelled", "error": CANCELLED})
        # ... and a child that has no further co_await ends normally.
        a = run([group("g", [spawn("g", "a", [sleep(0)]), {"op": "cancel", "target": "a"}])])
        self.assertEqual(a["tasks"]["a"], {"start": 0, "end": 0, "state": "returned", "value": None})

    def test_timeout_expires(self):
        # TO-2, TO-3, TO-4: the timer wins `body || timer`; the body's timer
        # wait is cancelled; the adapter raises TimeoutError.
        a = run([timeout("tm", 2, [sleep(5)])])
        self.assertEqual(a["scopes"]["tm"], {"end": 2, "expired": True, "raised": TIMEOUT})
        self.assertEqual(a["run"], TIMEOUT)

    def test_timeout_not_reached(self):
        # TO-1, TO-4: the body wins; the timer is cancelled.
        a = run([timeout("tm", 5, [sleep(2)]), sleep(1)])
        self.assertEqual(a["scopes"]["tm"], {"end": 2, "expired": False})
        self.assertEqual(a["end_time"], 3)

    def test_timeout_or_waits_for_one_success(self):
        # TO-3 departs: awaitable_operators `||` is
        # make_parallel_group(...).async_wait(wait_for_one_success(), ...):
        # a body that raises E1 at 1 is not a success, so the group waits for
        # the timer (4), which wins, and the E1 is lost.
        a = run([timeout("tm", 4, [sleep(1), raise_("E1")])])
        self.assertEqual(a["scopes"]["tm"], {"end": 4, "expired": True, "raised": TIMEOUT})
        self.assertEqual(a["run"], TIMEOUT)

    def test_gather_results_in_argument_order(self):
        # GA-1: the ranged parallel group's result vectors are indexed by
        # argument position (the completion order is a separate vector).
        a = run([gather("G", [child("x", [sleep(3), {"op": "return", "value": "X"}]),
                              child("y", [sleep(1), {"op": "return", "value": "Y"}])])])
        self.assertEqual(a["scopes"]["G"], {"end": 3, "value": [{"value": "X"}, {"value": "Y"}]})
        self.assertEqual(a["tasks"]["y"]["end"], 1)

    def test_gather_return_exceptions(self):
        # GA-4: wait_for_all() never cancels; every outcome, in argument order.
        a = run([gather("G", [child("x", [sleep(2), raise_("E1")]),
                              child("y", [sleep(1), {"op": "return", "value": "Y"}])],
                        return_exceptions=True)])
        self.assertEqual(a["scopes"]["G"], {"end": 2, "value": [{"error": ERR("E1")}, {"value": "Y"}]})
        self.assertIsNone(a["run"])

    def test_gather_first_error_cancels_the_others(self):
        # GA-2 departs: wait_for_one_error() cancels the other children on
        # the first error (asyncio lets them run on); gather raises that error
        # once they have all completed, here at the same instant.
        a = run([gather("G", [child("x", [sleep(1), raise_("E1")]), child("y", [sleep(5)])]), sleep(1)])
        self.assertEqual(a["scopes"]["G"], {"end": 1, "raised": ERR("E1")})
        self.assertEqual(a["tasks"]["y"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})
        self.assertEqual(a["run"], ERR("E1"))
        self.assertEqual(a["end_time"], 1)

    def test_await_a_free_task(self):
        # CX-7 departs: the awaiter waits on an event; cancelling it cancels
        # that wait (operation_aborted at 1), not the awaited task, which runs
        # on to 5. RT-2 departs too: io_context::run() returns only when no
        # work is left, so end_time is 5, not main's end.
        # (q first: a co_spawned task runs at once, and `await` of a task
        # not yet created is `sleep 0` by FORMAT.md.)
        a = run([task("q", [sleep(5), {"op": "return", "value": "Q"}]), task("p", [await_("q")]),
                 sleep(1), {"op": "cancel", "target": "p"}])
        self.assertEqual(a["tasks"]["p"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})
        self.assertEqual(a["tasks"]["q"], {"start": 0, "end": 5, "state": "returned", "value": "Q"})
        self.assertEqual(a["tasks"]["main"]["end"], 1)
        self.assertEqual(a["end_time"], 5)

    def test_await_propagates_and_retrieves(self):
        # RT-4: an awaited task's error is retrieved; a free task whose error
        # nobody awaits (Asio's completion handler is the only one to see it)
        # is listed unretrieved.
        a = run([task("x", [sleep(1), raise_("E1")]), task("y", [raise_("E2")]),
                 try_("t", [await_("x")], [handler("h", "error", [])])])
        self.assertEqual(a["blocks"]["h"], {"start": 1, "end": 1})
        self.assertEqual(a["unretrieved"], [{"task": "y", "error": ERR("E2")}])

    def test_shield_keeps_the_inner_task_running(self):
        # SH-1: the awaiter's cancellation ends only its wait.
        a = run([task("p", [{"op": "shield", "name": "S", "task": {"name": "i", "body": [sleep(3)]}}]),
                 sleep(1), {"op": "cancel", "target": "p"}])
        self.assertEqual(a["scopes"]["S"], {"end": 1, "raised": CANCELLED})
        self.assertEqual(a["tasks"]["i"], {"start": 0, "end": 3, "state": "returned", "value": None})

    def test_wait_for_is_or_around_a_spawned_child(self):
        # WF-1: the timer wins, the child is cancelled and awaited.
        a = run([wait_for("W", "c", [sleep(5)], 2)])
        self.assertEqual(a["scopes"]["W"], {"end": 2, "raised": TIMEOUT})
        self.assertEqual(a["tasks"]["c"], {"start": 0, "end": 2, "state": "cancelled", "error": CANCELLED})
        # ... and `||` waits for one success: a child raising at 1 is not
        # one, so the timer (4) wins and the E1 is dropped.
        a = run([wait_for("W", "c", [sleep(1), raise_("E1")], 4)])
        self.assertEqual(a["scopes"]["W"], {"end": 4, "raised": TIMEOUT})
        self.assertEqual(a["unretrieved"], [])
        # d null: co_await co_spawn(ex, child, use_awaitable); the value comes back.
        a = run([wait_for("W", "c", [sleep(1), {"op": "return", "value": "v"}], None)])
        self.assertEqual(a["scopes"]["W"], {"end": 1, "value": "v"})

    def test_cancel_a_gather_child_by_name(self):
        # GA-3: c1's operation_aborted is an error to wait_for_one_error(),
        # which cancels c2 (asyncio would let c2 run on); gather raises the
        # first error in completion order, c1's CancelledError.
        a = run([task("k", [sleep(1), {"op": "cancel", "target": "c1"}]),
                 gather("G", [child("c1", [sleep(5)]), child("c2", [sleep(5)])])])
        self.assertEqual(a["scopes"]["G"], {"end": 1, "raised": CANCELLED})
        self.assertEqual(a["tasks"]["c1"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})
        self.assertEqual(a["tasks"]["c2"], {"start": 0, "end": 1, "state": "cancelled", "error": CANCELLED})
        self.assertEqual(a["run"], CANCELLED)
        # With wait_for_all() (return_exceptions) c2 is not cancelled.
        a = run([task("k", [sleep(1), {"op": "cancel", "target": "c1"}]),
                 gather("G", [child("c1", [sleep(5)]), child("c2", [sleep(5)])], return_exceptions=True)])
        self.assertEqual(a["scopes"]["G"], {"end": 5, "value": [{"error": CANCELLED}, {"value": None}]})

    def test_try_finally(self):
        # CX-6 (no cancellation here): the finally block may suspend.
        a = run([try_("t", [sleep(1), raise_("E1")], [handler("h", "error", [sleep(1)])],
                      {"name": "f", "body": [sleep(1)]})])
        self.assertEqual(a["blocks"], {"h": {"start": 1, "end": 2}, "f": {"start": 2, "end": 3}})
        self.assertEqual(a["scopes"]["t"], {"end": 3})
        self.assertIsNone(a["run"])


WAIT_ONE = ["--deadline=wait_for_one"]


class WaitForOneDeadlineTest(unittest.TestCase):
    """--deadline=wait_for_one: make_parallel_group(body, timer) with
    wait_for_one(), whichever completes first cancels the other."""

    def test_hello_and_bad_flag(self):
        hello, _, rc = run_lines([], WAIT_ONE)
        self.assertEqual((hello["runtime"], rc), ("asio-wait-one", 0))
        p = subprocess.run([ADAPTER, "--deadline=sometimes"], input="", capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--deadline must be or or wait_for_one", p.stderr)

    def test_body_error_ends_the_race(self):
        # TO-3: the body's E1 at 1 completes the group's first operation,
        # wait_for_one() cancels the timer, E1 propagates; not expired.
        a = run([timeout("tm", 4, [sleep(1), raise_("E1")])], WAIT_ONE)
        self.assertEqual(a["scopes"]["tm"], {"end": 1, "expired": False, "raised": ERR("E1")})
        a = run([wait_for("W", "c", [sleep(1), raise_("E1")], 4)], WAIT_ONE)
        self.assertEqual(a["scopes"]["W"], {"end": 1, "raised": ERR("E1")})

    def test_expiry(self):
        # TO-2, TO-3: the timer completes first; the body's operation_aborted
        # becomes TimeoutError.
        a = run([timeout("tm", 2, [sleep(5)])], WAIT_ONE)
        self.assertEqual(a["scopes"]["tm"], {"end": 2, "expired": True, "raised": TIMEOUT})

    def test_body_swallows_the_expiry(self):
        # TO-4: the timer won (expired), but the body caught the cancellation
        # and ended normally, so nothing is raised.
        a = run([timeout("tm", 1, [try_("t", [sleep(5)], [handler("h", "cancelled", [])])]), sleep(1)],
                WAIT_ONE)
        self.assertEqual(a["scopes"]["tm"], {"end": 1, "expired": True})
        self.assertEqual(a["end_time"], 2)


if __name__ == "__main__":
    unittest.main()
