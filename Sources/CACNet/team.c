/* A team of worker threads for one session (acnet_support.h, "Thread team").
 *
 * A run is a fixed list of tasks 0 … tasks−1, handed out in order from one shared ticket
 * counter: every thread of the team (the caller included) takes the next ticket, waits until
 * the tasks it depends on are done (`after[t]` tasks completed — the tasks of the earlier
 * steps), runs it, and counts it done. No thread is assigned a fixed share, so a worker that
 * the OS has descheduled (two vCPUs shared with other processes) delays the run only by the
 * task it holds, if any: the others take the rest. Outputs do not depend on which thread runs
 * which task (the session's tasks write disjoint outputs, each computed the same way).
 *
 * Waiting (for the start of a run, or for dependencies) spins for up to ACNET_TEAM_SPIN_NS,
 * then registers as a sleeper and blocks in futex(FUTEX_WAIT_PRIVATE) on the 32-bit word it
 * watches; whoever changes the word issues FUTEX_WAKE only when a sleeper is registered. The
 * sleeper count and the word are both accessed with sequentially consistent atomics (a Dekker
 * pattern: the waiter writes `sleepers` then reads the word, the waker writes the word then
 * reads `sleepers`, so at least one sees the other), and FUTEX_WAIT re-checks the word in the
 * kernel, so no wake-up is lost.
 *
 * Memory ordering: the caller's writes before acnet_support_team_run are visible to every
 * task (the ticket counter is reset with a seq_cst store after them and taken with seq_cst
 * read-modify-writes); a task's writes are visible to the tasks that wait for it and to the
 * caller after the run (the done counter is incremented with seq_cst read-modify-writes and
 * waited on with seq_cst loads). ThreadSanitizer sees these C11 atomics; it does not need to
 * understand the futex calls.
 *
 * A worker that wakes late may take a ticket of the next run: that is a valid task of that
 * run (the counter was reset for it, and the run's inputs were published before), and the run
 * cannot end before the task is done. Nothing here allocates after acnet_support_team_create,
 * and no mutex is taken.
 */
#define _GNU_SOURCE
#include "acnet_support.h"

#if defined(__linux__) || defined(__APPLE__)
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/** How long a waiting thread spins before it blocks: long enough to cover the gap between two
 *  steps of a run (and between back-to-back runs), short enough that an idle session costs no
 *  CPU and that a waiter whose peer was descheduled gives its core back soon. */
#define ACNET_TEAM_SPIN_NS 50000u

/** One futex word and the number of threads blocked on it, on its own cache line. */
typedef struct {
    _Alignas(64) atomic_uint word;
    atomic_int sleepers;
} signal_line;

struct acnet_support_team;
typedef struct {
    pthread_t thread;
    struct acnet_support_team *team;
    int worker;
} worker_slot;

struct acnet_support_team {
    int threads;
    uint32_t tasks;
    acnet_support_team_fn fn;
    void *context;
    /* after[t]: tasks that must be done before task t starts (a copy, in this allocation). */
    uint32_t *after;
    /* Set (before the last start bump) to make the workers leave their loop. */
    atomic_int stop;
    /* Bumped once per run (and by destroy): wakes the workers. */
    signal_line start;
    /* Tasks done in the current run. */
    signal_line done;
    /* The next task to hand out (values ≥ tasks: none left). */
    _Alignas(64) atomic_uint ticket;
    worker_slot workers[];
};

static void futex_wait(atomic_uint *word, unsigned expected) {
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)word;
    (void)expected;
    sched_yield();
#endif
}

static void futex_wake_all(atomic_uint *word) {
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
#endif
}

/** Returns once `s->word` differs from `seen` (differs = 1) or is ≥ `seen` (differs = 0). */
static void wait_on(signal_line *s, unsigned seen, int differs) {
#define ACNET_TEAM_READY(v) (differs ? (v) != seen : (v) >= seen)
    uint64_t deadline = 0;
    for (unsigned i = 0;; i++) {
        unsigned v = atomic_load(&s->word);
        if (ACNET_TEAM_READY(v)) return;
        CPU_RELAX();
        if ((i & 63u) == 63u) {
            uint64_t now = acnet_support_now_ns();
            if (deadline == 0) deadline = now + ACNET_TEAM_SPIN_NS;
            else if (now >= deadline) break;
        }
    }
    atomic_fetch_add(&s->sleepers, 1);
    for (;;) {
        unsigned v = atomic_load(&s->word);
        if (ACNET_TEAM_READY(v)) break;
        futex_wait(&s->word, v);
    }
    atomic_fetch_sub(&s->sleepers, 1);
#undef ACNET_TEAM_READY
}

/** Adds 1 to `s->word` and wakes the threads blocked on it, if any. */
static void bump(signal_line *s) {
    atomic_fetch_add(&s->word, 1u);
    if (atomic_load(&s->sleepers) > 0) futex_wake_all(&s->word);
}

/** Takes and runs tasks until none is left. */
static void work(acnet_support_team *team, int worker) {
    for (;;) {
        unsigned t = atomic_fetch_add(&team->ticket, 1u);
        if (t >= team->tasks) return;
        wait_on(&team->done, team->after[t], 0);
        team->fn(team->context, t, worker);
        bump(&team->done);
    }
}

static void *worker_main(void *argument) {
    acnet_support_team *team = ((worker_slot *)argument)->team;
    int worker = ((worker_slot *)argument)->worker;
    unsigned seen = 0;
    for (;;) {
        wait_on(&team->start, seen, 1);
        seen = atomic_load(&team->start.word);
        if (atomic_load(&team->stop)) return NULL;
        work(team, worker);
    }
}

acnet_support_team *acnet_support_team_create(int threads, acnet_support_team_fn fn, void *context,
                                              uint32_t tasks, const uint32_t *after) {
    if (threads < 1 || threads > ACNET_SUPPORT_TEAM_MAX_THREADS || fn == NULL || tasks >= UINT32_MAX / 2 ||
        (tasks > 0 && after == NULL))
        return NULL;
    for (uint32_t t = 0; t < tasks; t++)
        if (after[t] > t || (t > 0 && after[t] < after[t - 1])) return NULL;
    size_t head = sizeof(acnet_support_team) + (size_t)(threads - 1) * sizeof(worker_slot);
    size_t size = (head + (size_t)tasks * sizeof(uint32_t) + 63) / 64 * 64;
    acnet_support_team *team = aligned_alloc(64, size);
    if (team == NULL) return NULL;
    memset(team, 0, size);
    team->tasks = tasks;
    team->fn = fn;
    team->context = context;
    team->after = (uint32_t *)((char *)team + head);
    if (tasks > 0) memcpy(team->after, after, (size_t)tasks * sizeof(uint32_t));
    atomic_init(&team->stop, 0);
    atomic_init(&team->start.word, 0u);
    atomic_init(&team->start.sleepers, 0);
    atomic_init(&team->done.word, 0u);
    atomic_init(&team->done.sleepers, 0);
    atomic_init(&team->ticket, tasks); /* none to take before the first run */
    team->threads = 1;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) {
        free(team);
        return NULL;
    }
    /* Release kernels use under 16 KiB of stack (the largest frame, a row-tile driver, is
     * ~14 KiB). Debug (-Onone) builds keep the locals of every inlined tile apart: the same
     * driver takes ~130 KiB there, and a frame larger than the guard page can step over it
     * into other memory instead of faulting. Address space is cheap (only touched pages are
     * committed): 1 MiB of stack behind a 256 KiB guard. */
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    pthread_attr_setguardsize(&attr, 256 * 1024);
    for (int w = 1; w < threads; w++) {
        worker_slot *slot = &team->workers[w - 1];
        slot->team = team;
        slot->worker = w;
        if (pthread_create(&slot->thread, &attr, worker_main, slot) != 0) break;
        team->threads = w + 1;
    }
    pthread_attr_destroy(&attr);
    if (team->threads != threads) {
        acnet_support_team_destroy(team);
        return NULL;
    }
    return team;
}

void acnet_support_team_run(acnet_support_team *team) {
    if (team->threads == 1) {
        for (uint32_t t = 0; t < team->tasks; t++) team->fn(team->context, t, 0);
        return;
    }
    /* The previous run is over: every task was done, so no thread holds a ticket below
     * `tasks`; a late worker may still take a (void) ticket before the reset below. */
    atomic_store(&team->done.word, 0u);
    atomic_store(&team->ticket, 0u);
    bump(&team->start);
    work(team, 0);
    wait_on(&team->done, team->tasks, 0);
}

int acnet_support_team_threads(const acnet_support_team *team) { return team->threads; }

void acnet_support_team_destroy(acnet_support_team *team) {
    if (team == NULL) return;
    atomic_store(&team->stop, 1);
    bump(&team->start);
    for (int w = 1; w < team->threads; w++) pthread_join(team->workers[w - 1].thread, NULL);
    free(team);
}

#else /* no POSIX threads (bare metal): only one-thread teams */

#include <stdlib.h>

struct acnet_support_team {
    acnet_support_team_fn fn;
    void *context;
    uint32_t tasks;
};

acnet_support_team *acnet_support_team_create(int threads, acnet_support_team_fn fn, void *context,
                                              uint32_t tasks, const uint32_t *after) {
    (void)after;
    if (threads != 1 || fn == NULL) return NULL;
    acnet_support_team *team = malloc(sizeof *team);
    if (team == NULL) return NULL;
    team->fn = fn;
    team->context = context;
    team->tasks = tasks;
    return team;
}
void acnet_support_team_run(acnet_support_team *team) {
    for (uint32_t t = 0; t < team->tasks; t++) team->fn(team->context, t, 0);
}
int acnet_support_team_threads(const acnet_support_team *team) { (void)team; return 1; }
void acnet_support_team_destroy(acnet_support_team *team) { free(team); }

#endif
