#pragma once
/// pexec's futures library, the C++ counterpart of Python's concurrent.futures: Future, wait,
/// as_completed, ThreadPoolExecutor, ProcessPoolExecutor (with PEXEC_REGISTER and
/// freeze_support), and their exceptions. One header per concept; this one includes them all.

#include "pexec/cpu_count.hpp"
#include "pexec/errors.hpp"
#include "pexec/future.hpp"
#include "pexec/logging.hpp"
#include "pexec/map_results.hpp"
#include "pexec/process_pool.hpp"
#include "pexec/process_worker.hpp"
#include "pexec/registry.hpp"
#include "pexec/thread_pool.hpp"
#include "pexec/wait.hpp"
#include "pexec/worker_identity.hpp"
