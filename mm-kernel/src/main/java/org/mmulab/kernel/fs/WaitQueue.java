package org.mmulab.kernel.fs;

import java.util.ArrayList;
import java.util.List;

/**
 * wait_queue_head_t (include/linux/wait.h) for pipes and poll: the kernel adds an entry that wakes a
 * blocked task; {@link #wakeAll} runs and removes every entry. Guarded by the kernel's scheduler
 * lock (every pipe operation runs under it), so a task checks readiness and queues itself atomically
 * with respect to the waker. An entry whose task was already woken by something else is harmless:
 * the waker checks that the task still waits in the same call.
 */
public final class WaitQueue {
    private final List<Runnable> entries = new ArrayList<>();

    public void add(Runnable wake) {
        entries.add(wake);
    }

    public void remove(Runnable wake) {
        entries.remove(wake);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public void wakeAll() {
        if (entries.isEmpty()) {
            return;
        }
        List<Runnable> w = new ArrayList<>(entries);
        entries.clear();
        for (Runnable r : w) {
            r.run();
        }
    }
}
