package org.mmulab.kernel;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;

/**
 * A small scheduler after kernel/sched/core.c (Linux 6.x): one FIFO run queue shared by every vCPU,
 * more tasks than vCPUs, a time slice counted in retired instructions (so that it is the same in
 * every run of a deterministic machine), preemption at the timer tick, and blocking as continuations.
 *
 * <p>A task that blocks in a system call (futex wait, wait4, a vfork parent) leaves a {@link Task.Resume}
 * and gives up its vCPU: the vCPU saves its registers and runs another task, or idles (costing no host
 * CPU) when none is runnable. A waker makes the task RUNNING and queues it; the vCPU that picks it up
 * loads its registers, switches mm and runs the continuation, whose result is the system call's
 * return value. A blocked task therefore holds no Java stack.
 *
 * <p>Locking: one lock (the role of the rq locks and tasklist_lock) guards the task list, the run queue,
 * the process tree, wait queues and futex buckets. Critical sections never reach a yield point of the
 * emulator (no page-table access, no user copy through an MMU, no IPI): they touch Java objects and at
 * most read guest physical memory directly. In DETERMINISTIC mode the baton therefore never changes
 * hands inside one, so the lock is never contended there; in PARALLEL it is an ordinary lock.
 *
 * <p>Like the on_cpu flag of try_to_wake_up, a task still on a vCPU that is switching it out is not
 * queued by its waker: the switching vCPU sees the state RUNNING again once it has saved the registers
 * and queues the task itself, so no other vCPU can run it with half-saved registers.
 *
 * <p>Deadlock: when no task is on a vCPU, none is queued and none waits with a timeout, nothing can
 * ever wake anyone: the run ends with a report of what each task waits for and status 137 (every
 * task is killed, as a watchdog would).
 */
final class Sched {
    /** A system call's "I blocked" result: the value comes from the continuation. */
    static final long BLOCK = Long.MIN_VALUE + 1;
    /** A time slice: retired instructions before a task with others waiting is preempted at a tick. */
    static final long SLICE_INSTRUCTIONS = 200_000;
    /** First tid handed out after the init process's (pid_max-style counter, never reused). */
    final Object lock = new Object();
    private final Kernel k;
    private final ArrayDeque<Task> runQueue = new ArrayDeque<>();
    /** Live tasks by tid (not yet DEAD). */
    private final TreeMap<Integer, Task> tasks = new TreeMap<>();
    /** Blocked tasks with a deadline (futex timeouts). */
    private final List<Task> timed = new ArrayList<>();
    /** mm_users of every mm a task runs in. */
    private final Map<MmStruct, Integer> mmUsers = new IdentityHashMap<>();
    private int nextPid;
    /** Tasks on a vCPU now. */
    private int running;
    /** Queued tasks, read by idle vCPUs without the lock. */
    private volatile int queued;
    /** Timed waiters, read at ticks without the lock. */
    private volatile int timedCount;
    /** Set when the last task is gone (or a deadlock ended the run): every vCPU stops. */
    volatile boolean stopping;
    /** The deadlock report, when the run ended in one. */
    volatile String deadlock;

    Sched(Kernel k) {
        this.k = k;
    }

    // ---- task list ------------------------------------------------------------------------------

    /** alloc_pid: the next tid above every one handed out (the first one is the configured pid). */
    int allocPid() {
        synchronized (lock) {
            while (nextPid == 0 || tasks.containsKey(nextPid)) {
                nextPid = nextPid == 0 ? k.config().pid() + 1 : nextPid + 1;
            }
            return nextPid++;
        }
    }

    /** Adds a new task (running on {@code cpu}, or -1 for a queued child). */
    void attach(Task t, int cpu) {
        synchronized (lock) {
            attachLocked(t, cpu);
        }
        k.kickIdle();
    }

    /** {@link #attach} with the lock held (the caller kicks idle vCPUs after dropping it). */
    void attachLocked(Task t, int cpu) {
        tasks.put(t.pid, t);
        stopping = false;
        if (t.mm != null) {
            mmUsers.merge(t.mm, 1, Integer::sum);
        }
        if (cpu >= 0) {
            t.onCpu = cpu;
            running++;
        } else {
            enqueueLocked(t);
        }
    }

    /** exec over a task that never exited (tests exec twice): forget it without an exit. */
    void forget(Task t) {
        synchronized (lock) {
            if (tasks.get(t.pid) == t) {
                tasks.remove(t.pid);
                if (t.onCpu >= 0) {
                    running--;
                }
                runQueue.remove(t);
                queued = runQueue.size();
                timed.remove(t);
                timedCount = timed.size();
            }
            t.onCpu = -1;
            t.state = Task.DEAD;
            if (t.mm != null) {
                mmUsers.remove(t.mm);
            }
        }
    }

    /** The next pid after an exec'd init (pids of children follow it). */
    void resetPids(int first) {
        synchronized (lock) {
            nextPid = first;
        }
    }

    Task findTaskLocked(int tid) {
        return tasks.get(tid);
    }

    int liveTasksCount() {
        synchronized (lock) {
            return tasks.size();
        }
    }

    List<Task> liveTasksLocked() {
        return new ArrayList<>(tasks.values());
    }

    /** Every live process (by its first live thread), in pid order. */
    List<SignalStruct> processesLocked() {
        List<SignalStruct> out = new ArrayList<>();
        for (Task t : tasks.values()) {
            if (!out.contains(t.sig)) {
                out.add(t.sig);
            }
        }
        return out;
    }

    /** mmget: one more task uses {@code mm}. */
    void mmget(MmStruct mm) {
        synchronized (lock) {
            mmUsers.merge(mm, 1, Integer::sum);
        }
    }

    /** mm_users of {@code mm}. */
    int mmUsers(MmStruct mm) {
        synchronized (lock) {
            return mmUsers.getOrDefault(mm, 0);
        }
    }

    /** mmput: true when that was the last user (the caller then tears the mm down, outside the lock). */
    boolean mmput(MmStruct mm) {
        synchronized (lock) {
            int n = mmUsers.getOrDefault(mm, 1) - 1;
            if (n <= 0) {
                mmUsers.remove(mm);
                return true;
            }
            mmUsers.put(mm, n);
            return false;
        }
    }

    /** The task is dead: off the task list (its process may live on as a zombie). */
    void detachLocked(Task t) {
        t.state = Task.DEAD;
        tasks.remove(t.pid);
        timed.remove(t);
        timedCount = timed.size();
        if (tasks.isEmpty()) {
            stopping = true;
        }
    }

    // ---- blocking and waking --------------------------------------------------------------------

    /**
     * Blocks the current task {@code t} (caller holds the lock): it leaves its vCPU at the end of the
     * system call and {@code resume} completes the call once it is woken. {@code deadline} is an absolute
     * guest-monotonic time in ns, or Long.MAX_VALUE.
     */
    long blockLocked(Task t, Task.Resume resume, long deadline, String what) {
        return blockLocked(t, resume, deadline, what, true);
    }

    /** {@link #blockLocked(Task, Task.Resume, long, String)}; {@code interruptible} false: only a kill ends it early. */
    long blockLocked(Task t, Task.Resume resume, long deadline, String what, boolean interruptible) {
        t.interruptible = interruptible;
        t.state = Task.BLOCKED;
        t.resume = resume;
        t.wakeResult = 0;
        t.deadline = deadline;
        t.waitingFor = what;
        if (deadline != Long.MAX_VALUE) {
            timed.add(t);
            timedCount = timed.size();
        }
        return BLOCK;
    }

    /**
     * try_to_wake_up (caller holds the lock): a BLOCKED task becomes RUNNING with {@code result} for its
     * continuation; it is queued unless still on the vCPU that is switching it out. False when it was
     * not blocked.
     */
    boolean wakeLocked(Task t, long result) {
        if (t.state != Task.BLOCKED) {
            return false;
        }
        t.state = Task.RUNNING;
        t.wakeResult = result;
        if (t.resume instanceof Futex.Wait w) {
            k.futex().dequeueLocked(w);
        }
        t.deadline = Long.MAX_VALUE;
        timed.remove(t);
        timedCount = timed.size();
        if (t.onCpu < 0) {
            enqueueLocked(t);
        }
        return true;
    }

    private void enqueueLocked(Task t) {
        runQueue.addLast(t);
        queued = runQueue.size();
        lock.notifyAll();
        k.kickIdle(); // kick: a flag and an unpark per vCPU, no yield point
    }

    /** Whether some task waits on the run queue (read without the lock at ticks and by idle vCPUs). */
    boolean hasQueued() {
        return queued > 0;
    }

    // ---- schedule -------------------------------------------------------------------------------

    /**
     * __schedule for {@code ctx}'s vCPU: the current task (if any) gives up the vCPU, then tasks are
     * picked until one can return to user mode; the vCPU idles while none is runnable and stops once
     * every task is gone.
     */
    void schedule(CpuContext ctx) {
        Vcpu cpu = ctx.cpu;
        for (;;) {
            switchOut(ctx);
            Task next = pickNext(ctx);
            if (next == null) {
                cpu.stop();
                return;
            }
            switchIn(ctx, next);
            if (next.resume != null && !next.killPending) {
                long r = next.resume.resume(k, cpu, next);
                if (r == BLOCK) {
                    continue;
                }
                next.resume = null;
                cpu.state.gpr[org.mmulab.emulator.cpu.CpuState.RAX] = r;
            }
            next.resume = null;
            if (k.returnToUser(ctx)) {
                return;
            }
        }
    }

    /** Saves the current task's registers and requeues it if it is still runnable. */
    private void switchOut(CpuContext ctx) {
        Task prev = ctx.curr;
        if (prev == null) {
            return;
        }
        if (prev.state == Task.BLOCKED) {
            // Outside the lock: under DETERMINISTIC scheduling another vCPU may act before this one switches.
            k.machine().yieldPoint(org.mmulab.emulator.machine.YieldKind.BLOCK);
        }
        synchronized (lock) {
            if (prev.state != Task.DEAD) {
                prev.regs.copyFrom(ctx.cpu.state);
                prev.regs.cpl = ctx.cpu.state.cpl;
                accountLocked(prev, ctx.cpu);
            }
            prev.onCpu = -1;
            running--;
            ctx.curr = null;
            ctx.needResched = false;
            if (prev.state == Task.RUNNING) {
                enqueueLocked(prev);
            }
        }
    }

    /** update_curr: the task's time on {@code cpu} since it was switched in (or last accounted) is added to it. */
    static void accountLocked(Task t, Vcpu cpu) {
        long now = SysTime.cpuTimeNanos(cpu);
        t.cpuNanos += now - t.onCpuSinceNanos;
        t.onCpuSinceNanos = now;
    }

    /** The next task allowed on this vCPU, idling until there is one; null when the machine stops. */
    private Task pickNext(CpuContext ctx) {
        int id = ctx.cpu.id();
        for (;;) {
            long deadline;
            synchronized (lock) {
                if (stopping || !k.machineRunning(ctx.cpu)) {
                    return null;
                }
                for (Iterator<Task> it = runQueue.iterator(); it.hasNext();) {
                    Task t = it.next();
                    if ((t.cpusAllowed & (1L << (id & 63))) != 0 || id >= 64) {
                        it.remove();
                        queued = runQueue.size();
                        t.onCpu = id;
                        running++;
                        ctx.curr = t;
                        return t;
                    }
                }
                deadline = Long.MAX_VALUE;
                for (Task t : timed) {
                    deadline = Math.min(deadline, t.deadline);
                }
                if (running == 0 && runQueue.isEmpty() && deadline == Long.MAX_VALUE && !tasks.isEmpty()
                        && !waitsOnHostLocked()) {
                    deadlockLocked();
                    continue;
                }
            }
            k.memory().tlbFlush.enterLazyTlb(ctx.cpu); // idle: keep the last mm loaded, lazily
            idle(ctx, deadline);
            expireTimeouts(ctx.cpu);
        }
    }

    /** What a task blocked on the host's stdin waits for: the host, not another task, can wake it. */
    static final String HOST_INPUT = "console read";

    private boolean waitsOnHostLocked() {
        for (Task t : tasks.values()) {
            if (t.state == Task.BLOCKED && t.waitingFor == HOST_INPUT) {
                return true;
            }
        }
        return false;
    }

    /** Every live task is blocked for good: report what each waits for and kill them all. */
    private void deadlockLocked() {
        StringBuilder sb = new StringBuilder("mmulab: deadlock: every task is blocked and nothing can wake one:");
        for (Task t : tasks.values()) {
            sb.append(String.format("%n  %s (process %d): %s", t, t.tgid(), t.waitingFor));
        }
        deadlock = sb.toString();
        k.stderrLine(deadlock);
        for (Task t : tasks.values()) {
            t.killPending = true;
            t.sig.groupExit = true;
            if (t.sig.exitStatus == 0 && t.sig.termSignal == 0) {
                t.sig.exitStatus = 128 + Kernel.SIGKILL;
                t.sig.termSignal = Kernel.SIGKILL;
            }
            wakeLocked(t, -Errno.EINTR);
        }
    }

    /** Whether some task waits with a timeout (checked at every tick without the lock). */
    boolean hasTimed() {
        return timedCount > 0;
    }

    /**
     * Wakes every timed waiter whose deadline has passed on {@code cpu}'s clock with -ETIMEDOUT: after an
     * idle wait, and at every tick of a busy vCPU (under virtual time each vCPU has its own clock, and a
     * waiter's deadline must not wait for its own idle vCPU to be picked).
     */
    void expireTimeouts(Vcpu cpu) {
        long now = k.machine().guestTime().monotonicNanos(cpu);
        synchronized (lock) {
            for (Task t : new ArrayList<>(timed)) {
                if (t.deadline <= now) {
                    wakeLocked(t, -Errno.ETIMEDOUT);
                }
            }
        }
    }

    /**
     * The idle loop: returns when a task is queued, the machine stops, or {@code deadline} (guest
     * monotonic ns) has come. Under virtual time a deadline with nothing else runnable is reached by
     * letting the vCPU's clock idle forward (nothing else could happen first).
     */
    private void idle(CpuContext ctx, long deadline) {
        Vcpu cpu = ctx.cpu;
        org.mmulab.emulator.machine.GuestTime time = k.machine().guestTime();
        if (deadline != Long.MAX_VALUE) {
            long now = time.monotonicNanos(cpu);
            if (time.isVirtual() && k.machine().vcpus().size() == 1) {
                if (deadline > now) {
                    cpu.clock().idle(cpu.clock().model().nanosToCycles(deadline - now));
                }
                return;
            }
        }
        k.idleWait(ctx, deadline);
    }

    /** Waits (host time) until a task is queued, stopping, or the deadline passes; used by {@link Kernel#idleWait}. */
    void waitForWork(Vcpu cpu, long deadline) {
        org.mmulab.emulator.machine.GuestTime time = k.machine().guestTime();
        synchronized (lock) {
            while (queued == 0 && !stopping && k.machineRunning(cpu)) {
                long now = time.monotonicNanos(cpu);
                if (deadline <= now) {
                    return;
                }
                long ms = deadline == Long.MAX_VALUE ? 50 : Math.max(1, Math.min(50, (deadline - now) / 1_000_000));
                try {
                    lock.wait(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (running == 0 && queued == 0 && timed.isEmpty() && !waitsOnHostLocked()) {
                    return; // let pickNext see the deadlock
                }
            }
        }
    }

    /** Loads {@code next} onto the vCPU: registers, the mm (switch_mm), the slice start. */
    private void switchIn(CpuContext ctx, Task next) {
        Vcpu cpu = ctx.cpu;
        cpu.state.copyFrom(next.regs);
        cpu.state.cpl = 3;
        cpu.state.exceptionVector = -1;
        ctx.sliceStart = cpu.state.instructions;
        next.onCpuSinceNanos = SysTime.cpuTimeNanos(cpu);
        if (next.mm != null) {
            next.mm.setOwner(next);
            k.switchMm(cpu, next.mm);
        }
    }

    /** The time slice of the vCPU's task is used up and another task waits. */
    boolean sliceExpired(CpuContext ctx) {
        return queued > 0 && ctx.cpu.state.instructions - ctx.sliceStart >= SLICE_INSTRUCTIONS;
    }

    /** Ends the run: every vCPU stops at its next boundary and idle ones return. */
    void stopAll() {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
        k.kickIdle();
    }
}
