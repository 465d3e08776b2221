package org.mmulab.emulator.debug;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Exit;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.DebugWalk;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The debug API gdbstub uses (DESIGN §2 debug): all-stop run control of every vCPU, single step,
 * breakpoints and watchpoints held in the emulator (guest memory is never patched), memory access
 * through debug walks (no A/D updates, no TLB fills) or physically, and the monitor-command registry.
 *
 * <p>All-stop, as gdb's remote protocol assumes: when one vCPU stops (breakpoint, watchpoint, step)
 * or the debugger interrupts, every running vCPU parks at its next instruction boundary, and only then
 * is the {@link StopListener} told. Parked vCPUs wait on this controller's lock until {@link #resume}.
 */
public final class DebugController {
    /** What a vCPU does when the debugger resumes the machine. */
    public enum Action { CONTINUE, STEP, STAY }

    /**
     * Told once every running vCPU has stopped. Called on the vCPU (or debugger) thread that completed
     * the stop, while the controller's lock is held: queue the reply, do not block.
     */
    @FunctionalInterface
    public interface StopListener {
        void stopped(StopEvent event);
    }

    private record Watchpoint(long address, int length, WatchKind kind) {
        boolean overlaps(long va, int len) {
            return va < address + length && address < va + len;
        }
    }

    /** Instructions a vCPU runs between checks when nothing needs per-instruction attention. */
    private static final long COARSE_BUDGET = 4096;

    private final Machine machine;
    private final int cpus;
    private final MonitorRegistry monitor = new MonitorRegistry();
    private final Object lock = new Object();

    private volatile long[] breakpoints = new long[0]; // sorted
    private final List<Watchpoint> watchpoints = new CopyOnWriteArrayList<>();
    private volatile boolean haltRequested;
    private volatile boolean physicalMode;
    private volatile StopListener listener = e -> { };
    private volatile int selectedCpu;

    // Guarded by lock.
    private final Action[] actions;
    private final boolean[] parked;
    private final boolean[] inRun;
    private long resumeGeneration;
    private StopEvent pendingEvent;
    private StopEvent lastEvent;
    private volatile boolean exited;

    // Per-vCPU, touched only by that vCPU's thread (and by resume() while it is parked).
    private final long[] skipBreakpointAt;
    private final long[] watchHitAddress;
    private final WatchKind[] watchHitKind;

    public DebugController(Machine machine) {
        this.machine = machine;
        this.cpus = machine.vcpus().size();
        this.actions = new Action[cpus];
        Arrays.fill(actions, Action.CONTINUE);
        this.parked = new boolean[cpus];
        this.inRun = new boolean[cpus];
        this.skipBreakpointAt = new long[cpus];
        Arrays.fill(skipBreakpointAt, -1);
        this.watchHitAddress = new long[cpus];
        this.watchHitKind = new WatchKind[cpus];
        EmulatorMonitor.register(this, monitor);
        for (Vcpu v : machine.vcpus()) {
            v.setDebugController(this);
        }
    }

    public Machine machine() {
        return machine;
    }

    public int cpuCount() {
        return cpus;
    }

    public MonitorRegistry monitor() {
        return monitor;
    }

    public void setStopListener(StopListener l) {
        this.listener = l == null ? e -> { } : l;
    }

    /** The vCPU that register and memory requests and monitor commands refer to (gdb's Hg). */
    public void selectCpu(int cpu) {
        checkCpu(cpu);
        this.selectedCpu = cpu;
    }

    public int selectedCpu() {
        return selectedCpu;
    }

    /** Architectural state of a vCPU; only change it while the machine is stopped. */
    public CpuState state(int cpu) {
        checkCpu(cpu);
        return machine.vcpu(cpu).state;
    }

    /** System register {@code r} of a vCPU (control registers, EFER, segment bases). */
    public long readSystemRegister(int cpu, SystemRegister r) {
        return r.read(state(cpu));
    }

    /**
     * Writes system register {@code r} as MOV to CRn / WRMSR would (only while the machine is stopped): false, with
     * nothing changed, where the CPU raises #GP. Writing the value the register already has does nothing at all (no
     * TLB flush), so a debugger that rewrites every register ({@code G}) leaves the TLBs alone.
     */
    public boolean writeSystemRegister(int cpu, SystemRegister r, long value) {
        checkCpu(cpu);
        Vcpu v = machine.vcpu(cpu);
        return r.read(v.state) == value || r.write(v.mmu(), value);
    }

    /** True when the vCPU runs 64-bit code (amd64 register layout) rather than 32-bit (i386). */
    public boolean is64Bit(int cpu) {
        return state(cpu).longMode64;
    }

    // ------------------------------------------------------------------------------------------
    // Run control.

    /** Keeps every vCPU at its first instruction until {@link #resume} ({@code --wait}). */
    public void haltAtStart() {
        synchronized (lock) {
            haltRequested = true;
            lastEvent = StopEvent.of(StopEvent.Reason.INTERRUPT, 0);
        }
    }

    /**
     * Asks every vCPU to stop (gdb's Ctrl-C); the listener hears INTERRUPT once all have stopped. A no-op when
     * the machine is already stopped and that stop was reported (or needs no report: the --wait halt with every
     * vCPU parked or not started), so one stop is never reported twice.
     */
    public void interrupt() {
        synchronized (lock) {
            if (exited || (haltRequested && pendingEvent == null && allRunningParkedLocked())) {
                return;
            }
            haltRequested = true;
            if (pendingEvent == null) {
                pendingEvent = StopEvent.of(StopEvent.Reason.INTERRUPT, selectedCpu);
            }
            maybeReportLocked();
        }
    }

    /** Resumes the machine: {@code perCpu} actions override {@code others} for the vCPUs they name. */
    public void resume(Action others, Map<Integer, Action> perCpu) {
        synchronized (lock) {
            for (int i = 0; i < cpus; i++) {
                actions[i] = perCpu.getOrDefault(i, others);
                skipBreakpointAt[i] = machine.vcpu(i).state.rip;
                watchHitKind[i] = null;
                if (actions[i] != Action.STAY) {
                    // Released now, not when its thread wakes up: a stop requested before then must wait
                    // for it to park again rather than be reported while it is about to run.
                    parked[i] = false;
                }
            }
            haltRequested = false;
            pendingEvent = null;
            resumeGeneration++;
            lock.notifyAll();
        }
    }

    /** The last stop reported (or the initial halt), for gdb's {@code ?} packet. */
    public StopEvent lastStop() {
        synchronized (lock) {
            return lastEvent;
        }
    }

    public boolean isStopped() {
        synchronized (lock) {
            return haltRequested && allRunningParkedLocked();
        }
    }

    /** The guest has exited with {@code status}: tells the listener and releases anything waiting. */
    public void machineExited(int status) {
        finish(new StopEvent(StopEvent.Reason.EXITED, 0, 0, null, status));
    }

    /**
     * The guest was killed by (Linux) signal {@code signal}: like {@link #machineExited}, reported as
     * {@link StopEvent.Reason#TERMINATED} with the signal in {@code exitStatus}.
     */
    public void machineTerminated(int signal) {
        finish(new StopEvent(StopEvent.Reason.TERMINATED, 0, 0, null, signal));
    }

    private void finish(StopEvent e) {
        synchronized (lock) {
            exited = true;
            lastEvent = e;
            pendingEvent = null;
            haltRequested = false;
            resumeGeneration++;
            lock.notifyAll();
        }
        listener.stopped(e);
    }

    // ------------------------------------------------------------------------------------------
    // Hooks called by Vcpu's run loop.

    /**
     * Entering the run loop. A vCPU that enters while the machine is stopped (or told to stay) counts as
     * parked at once: its next step is {@link #beforeInstructions}, which parks it before any instruction
     * runs. Counting it as running instead made a stop that was already reported (every running vCPU
     * parked, this one not yet started) look unfinished until the newcomer reached park().
     */
    public void vcpuStarted(Vcpu v) {
        int id = v.id();
        synchronized (lock) {
            inRun[id] = true;
            if (haltRequested || actions[id] == Action.STAY) {
                parked[id] = true;
            }
        }
        v.mmu().setAccessObserver((va, len, write) -> onAccess(v.id(), va, len, write));
    }

    /** Leaving the run loop (the vCPU stopped for good). */
    public void vcpuFinished(Vcpu v) {
        v.mmu().setAccessObserver(null);
        synchronized (lock) {
            inRun[v.id()] = false;
            maybeReportLocked();
        }
    }

    /** Before the interpreter runs: parks on a halt request or a breakpoint. Returns the budget to use. */
    public long beforeInstructions(Vcpu v, long budget) {
        int id = v.id();
        while ((haltRequested || actions[id] == Action.STAY) && !exited && !Thread.currentThread().isInterrupted()) {
            park(v, null); // also a vCPU that entered its run loop after a resume that told it to stay
        }
        long rip = v.state.rip;
        long skip = skipBreakpointAt[id];
        skipBreakpointAt[id] = -1;
        if (rip != skip && isBreakpoint(rip)) {
            park(v, new StopEvent(StopEvent.Reason.BREAKPOINT, id, rip, null, 0));
        }
        if (breakpoints.length > 0 || !watchpoints.isEmpty() || actions[id] == Action.STEP) {
            return 1;
        }
        return Math.min(budget, COARSE_BUDGET);
    }

    /** After the interpreter returned {@code exit} and the kernel handled it. */
    public void afterInstructions(Vcpu v, int exit) {
        int id = v.id();
        boolean retired = exit == Exit.BUDGET || exit == Exit.SYSCALL || exit == Exit.INT80;
        if (!retired) {
            watchHitKind[id] = null; // the instruction did not complete; it will run again
            return;
        }
        WatchKind hit = watchHitKind[id];
        if (hit != null) {
            watchHitKind[id] = null;
            park(v, new StopEvent(StopEvent.Reason.WATCHPOINT, id, watchHitAddress[id], hit, 0));
        } else if (actions[id] == Action.STEP) {
            park(v, StopEvent.of(StopEvent.Reason.STEP, id));
        }
    }

    private void onAccess(int cpu, long va, int len, boolean write) {
        if (watchHitKind[cpu] != null) {
            return;
        }
        for (Watchpoint w : watchpoints) {
            if (w.kind().matches(write) && w.overlaps(va, len)) {
                watchHitAddress[cpu] = w.address();
                watchHitKind[cpu] = write && w.kind() == WatchKind.ACCESS ? WatchKind.ACCESS
                        : write ? WatchKind.WRITE : w.kind();
                return;
            }
        }
    }

    private void park(Vcpu v, StopEvent cause) {
        int id = v.id();
        synchronized (lock) {
            if (exited) {
                return;
            }
            if (cause == null && !haltRequested && actions[id] != Action.STAY) {
                // It came to park for a halt that a resume cancelled before it got the lock. Parking
                // now would set haltRequested again behind the debugger's back: the machine would sit
                // stopped with nothing reported, and the next interrupt would find it "already
                // stopped" and report nothing either (seen as a lost stop under load).
                return;
            }
            if (cause != null && pendingEvent == null) {
                pendingEvent = cause;
            }
            haltRequested = true;
            parked[id] = true;
            maybeReportLocked();
            long gen = resumeGeneration;
            try {
                while (!exited) {
                    if (gen != resumeGeneration) {
                        gen = resumeGeneration;
                        if (actions[id] != Action.STAY) {
                            break;
                        }
                        // Told to stay (an earlier resume may have released it before it woke up).
                        parked[id] = true;
                        maybeReportLocked();
                    }
                    lock.wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                parked[id] = false;
            }
        }
    }

    private boolean allRunningParkedLocked() {
        for (int i = 0; i < cpus; i++) {
            if (inRun[i] && !parked[i]) {
                return false;
            }
        }
        return true;
    }

    private void maybeReportLocked() {
        if (pendingEvent == null || !allRunningParkedLocked()) {
            return;
        }
        StopEvent e = pendingEvent;
        pendingEvent = null;
        lastEvent = e;
        // The listener only queues a reply (gdbstub writes to a Netty channel); calling it under the
        // lock keeps the report ordered before any resume that follows.
        listener.stopped(e);
    }

    // ------------------------------------------------------------------------------------------
    // Breakpoints and watchpoints.

    public void addBreakpoint(long va) {
        synchronized (lock) {
            long[] b = breakpoints;
            if (Arrays.binarySearch(b, va) >= 0) {
                return;
            }
            long[] n = Arrays.copyOf(b, b.length + 1);
            n[b.length] = va;
            Arrays.sort(n);
            breakpoints = n;
        }
    }

    public boolean removeBreakpoint(long va) {
        synchronized (lock) {
            long[] b = breakpoints;
            int i = Arrays.binarySearch(b, va);
            if (i < 0) {
                return false;
            }
            long[] n = new long[b.length - 1];
            System.arraycopy(b, 0, n, 0, i);
            System.arraycopy(b, i + 1, n, i, b.length - i - 1);
            breakpoints = n;
            return true;
        }
    }

    public boolean isBreakpoint(long va) {
        long[] b = breakpoints;
        return b.length > 0 && Arrays.binarySearch(b, va) >= 0;
    }

    public void addWatchpoint(long va, int length, WatchKind kind) {
        if (length <= 0) {
            throw new IllegalArgumentException("watchpoint length must be positive");
        }
        watchpoints.add(new Watchpoint(va, length, kind));
    }

    public boolean removeWatchpoint(long va, int length, WatchKind kind) {
        return watchpoints.remove(new Watchpoint(va, length, kind));
    }

    // ------------------------------------------------------------------------------------------
    // Memory.

    /** When on, gdb's memory addresses are physical (monitor {@code phys on}). */
    public boolean physicalMode() {
        return physicalMode;
    }

    public void setPhysicalMode(boolean on) {
        this.physicalMode = on;
    }

    /**
     * Reads guest memory as the selected vCPU sees it (debug walk, no side effects) or physically.
     * Stops at the first unreadable page; returns the number of bytes read (0: nothing readable).
     */
    public int readMemory(int cpu, long addr, byte[] dst, int off, int len) {
        PhysicalMemory mem = machine.memory();
        return forEachPage(cpu, addr, len, false, (pa, done, n) -> mem.readBytes(pa, dst, off + done, n));
    }

    /**
     * Writes guest memory like ptrace's POKE would, but only into pages the guest could write itself
     * (writable, present), so a debugger never scribbles on the shared zero page or a COW-shared frame.
     * Returns the number of bytes written before the first page that refused.
     */
    public int writeMemory(int cpu, long addr, byte[] src, int off, int len) {
        PhysicalMemory mem = machine.memory();
        return forEachPage(cpu, addr, len, true, (pa, done, n) -> mem.writeBytes(pa, src, off + done, n));
    }

    @FunctionalInterface
    private interface PageChunk {
        void run(long pa, int done, int n);
    }

    /**
     * Splits [addr, addr+len) at page boundaries, translates each piece as the debugger sees it and
     * hands it to {@code chunk}; stops at the first piece that is unmapped, outside RAM, or (for
     * {@code write}) not writable by the guest. Returns the bytes handled.
     */
    private int forEachPage(int cpu, long addr, int len, boolean write, PageChunk chunk) {
        Mmu mmu = machine.vcpu(cpu).mmu();
        PhysicalMemory mem = machine.memory();
        int done = 0;
        while (done < len) {
            long a = addr + done;
            int n = (int) Math.min(len - done, 0x1000 - (a & 0xfff));
            long pa;
            if (physicalMode) {
                pa = a;
            } else {
                DebugWalk w = mmu.debugWalk(a);
                pa = w.translated() && (!write || leafWritable(w)) ? w.physical() : -1;
            }
            if (pa < 0 || !mem.isRam(pa, n)) {
                break;
            }
            chunk.run(pa, done, n);
            done += n;
        }
        return done;
    }

    private static boolean leafWritable(DebugWalk w) {
        for (DebugWalk.Level l : w.levels()) {
            if (l.entryAddress() >= 0 && (l.entry() & org.mmulab.emulator.mmu.Pte.RW) == 0) {
                return false;
            }
        }
        return true;
    }

    void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IllegalArgumentException("no vCPU " + cpu + " (machine has " + cpus + ")");
        }
    }
}
