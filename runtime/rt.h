// asyncspec's reference runtime: one include for everything.
// The concepts live one per header: core.h (Coro, TaskRef, create_task,
// cancellation), sleep.h, try_await.h, task_group.h, gather.h, timeout.h
// (timeout, timeout_at, wait_for), shield.h, run.h, errors.h.
#ifndef ASYNCSPEC_RUNTIME_RT_H_
#define ASYNCSPEC_RUNTIME_RT_H_

#include "runtime/core.h"
#include "runtime/errors.h"
#include "runtime/gather.h"
#include "runtime/loop.h"
#include "runtime/run.h"
#include "runtime/shield.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/timeout.h"
#include "runtime/try_await.h"

#endif  // ASYNCSPEC_RUNTIME_RT_H_
