package org.mmulab.gdbstub;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.fpu.X87State;
import org.mmulab.emulator.debug.DebugController;
import org.mmulab.emulator.debug.SystemRegister;
import org.mmulab.emulator.debug.WatchKind;
import org.mmulab.gdbstub.protocol.StubLog;
import org.mmulab.gdbstub.target.BreakpointType;
import org.mmulab.gdbstub.target.GdbTarget;
import org.mmulab.gdbstub.target.RegisterDef;
import org.mmulab.gdbstub.target.ResumePlan;
import org.mmulab.gdbstub.target.StopEvent;
import org.mmulab.gdbstub.target.StopListener;
import org.mmulab.gdbstub.target.TargetArch;

/**
 * {@link GdbTarget} on the emulator's debug API ({@link DebugController}): gdb thread {@code t} is vCPU
 * {@code t - 1}; all-stop run control, stop events and breakpoints come from the controller, which reports a
 * stop only once every running vCPU has parked.
 *
 * <p>Registers: the layout is chosen per connection from vCPU 0's mode ({@code longMode64}: AMD64, else I386).
 * Segment selectors are the flat user selectors Linux gives a process (64-bit: cs 0x33, ss 0x2b, the data
 * selectors 0; 32-bit: cs 0x23, ss/ds/es 0x2b, fs/gs 0) and can only be "written" with the value they have.
 * st0-7 and fctrl..fop are the vCPU's x87 state ({@code CpuState.fpu}): st(i) is physical register
 * (TOP + i) mod 8 as stored (10 bytes), ftag the full tag word computed from the contents as FNSTENV stores
 * it, fiseg/foseg 0, fioff/fooff the low bits of FIP/FDP; writes change exactly that state (a written ftag
 * only distinguishes empty from non-empty, as FLDENV does). The system registers (cr0, cr2, cr3, cr4, cr8,
 * efer, fs_base, gs_base, k_gs_base) are written through the CPU's MOV-to-CR / WRMSR checks
 * ({@link DebugController#writeSystemRegister}): what the CPU would refuse with #GP is refused ({@code E22}) and
 * changes nothing, and rewriting the current value is no write at all. Signals that gdb asks to deliver on resume
 * ({@code C}/{@code S}) are not delivered.
 *
 * <p>{@link #kill()} stops every vCPU for good ({@link org.mmulab.emulator.machine.Machine#shutdown()}); the
 * composition root asks {@link #killed()} to tell a killed guest from an exited one.
 */
public final class EmulatorTarget implements GdbTarget {
    /** How long {@link #attach} waits for a running machine to stop (a vCPU blocked in the kernel never parks). */
    static final long ATTACH_TIMEOUT_MS = 30_000;

    // gdb's amd64 order of the 16 GPRs, as x86 register numbers.
    private static final int[] AMD64_GPR = {CpuState.RAX, CpuState.RBX, CpuState.RCX, CpuState.RDX, CpuState.RSI,
        CpuState.RDI, CpuState.RBP, CpuState.RSP, 8, 9, 10, 11, 12, 13, 14, 15};
    private static final int[] FLAT64 = {0x33, 0x2b, 0, 0, 0, 0};
    private static final int[] FLAT32 = {0x23, 0x2b, 0x2b, 0x2b, 0, 0};
    /** The target-description names of the system registers. */
    private static final Map<String, SystemRegister> SYSTEM = Map.of("fs_base", SystemRegister.FS_BASE,
            "gs_base", SystemRegister.GS_BASE, "k_gs_base", SystemRegister.KERNEL_GS_BASE,
            "cr0", SystemRegister.CR0, "cr2", SystemRegister.CR2, "cr3", SystemRegister.CR3,
            "cr4", SystemRegister.CR4, "cr8", SystemRegister.CR8, "efer", SystemRegister.EFER);

    private final DebugController dbg;
    /**
     * Guards the bookkeeping of what gdb inserted. Never held by the controller's stop callback, which runs under
     * the controller's lock: holding this one while calling into the controller is therefore deadlock-free.
     */
    private final Object lock = new Object();
    private volatile StopListener client;
    private volatile CompletableFuture<org.mmulab.emulator.debug.StopEvent> attaching;
    // address -> {software count, hardware count}; read without the lock by the stop callback
    private final Map<Long, int[]> breakpoints = new ConcurrentHashMap<>();
    private final List<long[]> watchpoints = new ArrayList<>();   // {address, length, WatchKind ordinal}
    private volatile boolean killed;
    private final StubLog log;

    public EmulatorTarget(DebugController dbg) {
        this(dbg, StubLog.SILENT);
    }

    /** @param log where diagnostics go (never the guest's stderr) */
    public EmulatorTarget(DebugController dbg, StubLog log) {
        this.dbg = Objects.requireNonNull(dbg);
        this.log = Objects.requireNonNull(log);
        dbg.setStopListener(this::stopped);
    }

    public DebugController controller() {
        return dbg;
    }

    /** True once gdb killed the guest. */
    public boolean killed() {
        return killed;
    }

    // ------------------------------------------------------------------------------------------ run control

    @Override
    public TargetArch arch() {
        return dbg.is64Bit(0) ? TargetArch.AMD64 : TargetArch.I386;
    }

    @Override
    public int threadCount() {
        return dbg.cpuCount();
    }

    @Override
    public StopEvent attach(StopListener listener) {
        CompletableFuture<org.mmulab.emulator.debug.StopEvent> stop = new CompletableFuture<>();
        client = null;
        attaching = stop;
        // Reports INTERRUPT once every running vCPU parked; a no-op if the machine is already stopped (--wait).
        dbg.interrupt();
        org.mmulab.emulator.debug.StopEvent e = null;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ATTACH_TIMEOUT_MS);
        while (e == null && System.nanoTime() < deadline) {
            e = stop.getNow(null);
            if (e != null) {
                break;
            }
            org.mmulab.emulator.debug.StopEvent last = dbg.lastStop();
            if (last != null && (last.reason() == org.mmulab.emulator.debug.StopEvent.Reason.EXITED
                    || last.reason() == org.mmulab.emulator.debug.StopEvent.Reason.TERMINATED)) {
                e = last;
                break;
            }
            if (dbg.isStopped()) {
                e = new org.mmulab.emulator.debug.StopEvent(org.mmulab.emulator.debug.StopEvent.Reason.INTERRUPT,
                        dbg.selectedCpu(), 0, null, 0);
                break;
            }
            try {
                e = stop.get(50, TimeUnit.MILLISECONDS);
            } catch (TimeoutException again) {
                // poll for exit, then wait on
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException ee) {
                throw new IllegalStateException(ee.getCause());
            }
        }
        attaching = null;
        client = listener;
        if (e == null) {
            log.log("attach: the machine did not stop within " + ATTACH_TIMEOUT_MS + " ms");
            return StopEvent.signal(dbg.selectedCpu() + 1, StopEvent.SIGTRAP);
        }
        if (e.reason() == org.mmulab.emulator.debug.StopEvent.Reason.EXITED
                || e.reason() == org.mmulab.emulator.debug.StopEvent.Reason.TERMINATED) {
            return translate(e);
        }
        dbg.selectCpu(e.cpu());
        return StopEvent.signal(e.cpu() + 1, StopEvent.SIGTRAP);
    }

    /** The controller's stop listener: runs on a vCPU thread (or the caller of interrupt) under its lock. */
    private void stopped(org.mmulab.emulator.debug.StopEvent e) {
        CompletableFuture<org.mmulab.emulator.debug.StopEvent> a = attaching;
        if (a != null) {
            a.complete(e);
            return;
        }
        StopListener l = client;
        if (l != null) {
            l.onStop(translate(e));
        }
    }

    private StopEvent translate(org.mmulab.emulator.debug.StopEvent e) {
        int t = e.cpu() + 1;
        return switch (e.reason()) {
            case BREAKPOINT -> {
                int[] c = breakpoints.get(e.address());
                boolean hardware = c != null && c[0] == 0 && c[1] > 0;
                yield StopEvent.breakpoint(t, hardware);
            }
            case WATCHPOINT -> StopEvent.watchpoint(t, switch (e.watchKind()) {
                case WRITE -> BreakpointType.WRITE_WATCHPOINT;
                case READ -> BreakpointType.READ_WATCHPOINT;
                case ACCESS -> BreakpointType.ACCESS_WATCHPOINT;
            }, e.address());
            case STEP -> StopEvent.stepped(t);
            case INTERRUPT -> StopEvent.interrupted(t);
            case EXITED -> StopEvent.exited(e.exitStatus());
            case TERMINATED -> StopEvent.terminated(gdbSignal(e.exitStatus()));
        };
    }

    /** Linux x86 signal number to gdb's (include/gdb/signals.def); they differ from SIGBUS on. */
    static int gdbSignal(int linux) {
        return switch (linux) {
            case 7 -> StopEvent.SIGBUS;    // GDB_SIGNAL_BUS 10
            case 10 -> 30;                 // SIGUSR1
            case 12 -> 31;                 // SIGUSR2
            case 17 -> 20;                 // SIGCHLD
            case 18 -> 19;                 // SIGCONT
            case 19 -> 17;                 // SIGSTOP
            case 20 -> 18;                 // SIGTSTP
            case 1, 2, 3, 4, 5, 6, 8, 9, 11, 13, 14, 15 -> linux;
            default -> 143;                // GDB_SIGNAL_UNKNOWN
        };
    }

    @Override
    public void resume(ResumePlan plan) {
        Map<Integer, DebugController.Action> per = new HashMap<>();
        for (int t = 1; t <= Math.min(plan.threadCount(), dbg.cpuCount()); t++) {
            per.put(t - 1, switch (plan.action(t)) {
                case STAY -> DebugController.Action.STAY;
                case CONTINUE -> DebugController.Action.CONTINUE;
                case STEP -> DebugController.Action.STEP;
            });
        }
        dbg.resume(DebugController.Action.STAY, per);
    }

    @Override
    public void interrupt() {
        dbg.interrupt();
    }

    @Override
    public void detach() {
        forgetClient();
        dbg.resume(DebugController.Action.CONTINUE, Map.of());
    }

    /** Stays stopped: only what the departed client set is removed. */
    @Override
    public void release() {
        forgetClient();
    }

    private void forgetClient() {
        client = null;
        synchronized (lock) {
            for (Map.Entry<Long, int[]> b : breakpoints.entrySet()) {
                dbg.removeBreakpoint(b.getKey());
            }
            breakpoints.clear();
            for (long[] w : watchpoints) {
                dbg.removeWatchpoint(w[0], (int) w[1], WatchKind.values()[(int) w[2]]);
            }
            watchpoints.clear();
        }
        dbg.setPhysicalMode(false);
    }

    @Override
    public void kill() {
        killed = true;
        client = null;
        dbg.machine().shutdown();   // every run loop returns at its next check...
        dbg.resume(DebugController.Action.CONTINUE, Map.of());   // ...including the parked ones
    }

    @Override
    public String monitor(String command) {
        return dbg.monitor().execute(command);
    }

    // ------------------------------------------------------------------------------------------ breakpoints

    @Override
    public boolean insertBreakpoint(BreakpointType type, long address, int kind) {
        synchronized (lock) {
            switch (type) {
                case SOFTWARE, HARDWARE -> {
                    int[] c = breakpoints.computeIfAbsent(address, a -> new int[2]);
                    c[type == BreakpointType.SOFTWARE ? 0 : 1]++;
                    dbg.addBreakpoint(address);
                }
                default -> {
                    if (kind <= 0) {
                        return false;
                    }
                    WatchKind k = watchKind(type);
                    dbg.addWatchpoint(address, kind, k);
                    watchpoints.add(new long[] {address, kind, k.ordinal()});
                }
            }
            return true;
        }
    }

    @Override
    public boolean removeBreakpoint(BreakpointType type, long address, int kind) {
        synchronized (lock) {
            switch (type) {
                case SOFTWARE, HARDWARE -> {
                    int[] c = breakpoints.get(address);
                    int i = type == BreakpointType.SOFTWARE ? 0 : 1;
                    if (c == null || c[i] == 0) {
                        return false;
                    }
                    c[i]--;
                    if (c[0] + c[1] == 0) {
                        breakpoints.remove(address);
                        dbg.removeBreakpoint(address);
                    }
                    return true;
                }
                default -> {
                    WatchKind k = watchKind(type);
                    for (int i = 0; i < watchpoints.size(); i++) {
                        long[] w = watchpoints.get(i);
                        if (w[0] == address && w[1] == kind && w[2] == k.ordinal()) {
                            watchpoints.remove(i);
                            return dbg.removeWatchpoint(address, kind, k);
                        }
                    }
                    return false;
                }
            }
        }
    }

    private static WatchKind watchKind(BreakpointType type) {
        return switch (type) {
            case WRITE_WATCHPOINT -> WatchKind.WRITE;
            case READ_WATCHPOINT -> WatchKind.READ;
            case ACCESS_WATCHPOINT -> WatchKind.ACCESS;
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    // ------------------------------------------------------------------------------------------ memory

    @Override
    public byte[] readMemory(int thread, long address, int length) {
        int cpu = cpu(thread);
        byte[] buf = new byte[length];
        int n = dbg.readMemory(cpu, address, buf, 0, length);
        return n == length ? buf : Arrays.copyOf(buf, n);
    }

    @Override
    public int writeMemory(int thread, long address, byte[] data) {
        return dbg.writeMemory(cpu(thread), address, data, 0, data.length);
    }

    /** The vCPU for a gdb thread; also makes it the one monitor commands refer to. */
    private int cpu(int thread) {
        int cpu = thread - 1;
        if (cpu < 0 || cpu >= dbg.cpuCount()) {
            throw new IllegalArgumentException("no thread " + thread);
        }
        dbg.selectCpu(cpu);
        return cpu;
    }

    // ------------------------------------------------------------------------------------------ registers

    @Override
    public byte[] readRegister(int thread, int regnum) {
        TargetArch arch = arch();
        RegisterDef r = arch.register(regnum);
        if (r == null) {
            return null;
        }
        CpuState s = dbg.state(cpu(thread));
        boolean amd64 = arch == TargetArch.AMD64;
        int gprs = amd64 ? 16 : 8;
        byte[] b = new byte[r.bytes()];
        if (regnum < gprs) {
            put(b, s.gpr[amd64 ? AMD64_GPR[regnum] : regnum]);
        } else if (regnum == gprs) {
            put(b, s.rip);
        } else if (regnum == gprs + 1) {
            put(b, s.getRflags());
        } else if (regnum < gprs + 8) {
            put(b, (amd64 ? FLAT64 : FLAT32)[regnum - gprs - 2]);
        } else if (regnum < gprs + 16) {
            X87State f = s.fpu;
            int p = f.phys(regnum - gprs - 8);
            put(b, 0, f.sig[p]);
            put(b, 8, f.se[p]);
        } else if (regnum < gprs + 24) {
            put(b, x87Control(s.fpu, regnum - gprs - 16));
        } else if (regnum < gprs + 24 + (amd64 ? 16 : 8)) {
            int x = regnum - gprs - 24;
            put(b, 0, s.xmm[2 * x]);
            put(b, 8, s.xmm[2 * x + 1]);
        } else if (r.name().equals("mxcsr")) {
            put(b, s.mxcsr);
        } else if (SYSTEM.containsKey(r.name())) {
            put(b, dbg.readSystemRegister(cpu(thread), SYSTEM.get(r.name())));
        } else {
            return null;
        }
        return b;
    }

    @Override
    public boolean writeRegister(int thread, int regnum, byte[] value) {
        TargetArch arch = arch();
        RegisterDef r = arch.register(regnum);
        if (r == null || value.length != r.bytes()) {
            return false;
        }
        CpuState s = dbg.state(cpu(thread));
        boolean amd64 = arch == TargetArch.AMD64;
        int gprs = amd64 ? 16 : 8;
        long v = get(value);
        if (regnum < gprs) {
            s.gpr[amd64 ? AMD64_GPR[regnum] : regnum] = v;
        } else if (regnum == gprs) {
            s.rip = v;
        } else if (regnum == gprs + 1) {
            s.setRflags(v);
        } else if (regnum < gprs + 8) {
            return Arrays.equals(value, readRegister(thread, regnum));   // segments: only the value they have
        } else if (regnum < gprs + 16) {
            X87State f = s.fpu;
            int p = f.phys(regnum - gprs - 8);
            f.sig[p] = v;
            f.se[p] = (int) get(value, 8) & 0xffff;
        } else if (regnum < gprs + 24) {
            setX87Control(s.fpu, regnum - gprs - 16, v);
        } else if (regnum < gprs + 24 + (amd64 ? 16 : 8)) {
            int x = regnum - gprs - 24;
            s.xmm[2 * x] = v;
            s.xmm[2 * x + 1] = get(value, 8);
        } else if (r.name().equals("mxcsr")) {
            s.mxcsr = (int) v;
        } else if (SYSTEM.containsKey(r.name())) {
            SystemRegister sr = SYSTEM.get(r.name());
            int cpu = cpu(thread);
            if (r.bytes() < 8) {
                // A 32-bit view (i386 layout): the bits above it keep their value, so writing back what was read
                // changes nothing even when the register is wider (a compatibility-mode process under 4-level paging).
                v = (dbg.readSystemRegister(cpu, sr) & ~0xffff_ffffL) | (v & 0xffff_ffffL);
            }
            return dbg.writeSystemRegister(cpu, sr, v);
        } else {
            return false;
        }
        return true;
    }

    /** fctrl fstat ftag fiseg fioff foseg fooff fop. */
    private static long x87Control(X87State f, int i) {
        return switch (i) {
            case 0 -> f.fcw;
            case 1 -> f.statusWord();
            case 2 -> f.tagWord();
            case 3 -> f.fcs;
            case 4 -> f.fip;
            case 5 -> f.fds;
            case 6 -> f.fdp;
            default -> f.fop;
        };
    }

    private static void setX87Control(X87State f, int i, long v) {
        switch (i) {
            case 0 -> f.fcw = (int) v & 0xffff;
            case 1 -> f.setStatusWord((int) v);
            case 2 -> f.setTagWord((int) v);
            case 3 -> f.fcs = (int) v & 0xffff;
            case 4 -> f.fip = v;
            case 5 -> f.fds = (int) v & 0xffff;
            case 6 -> f.fdp = v;
            default -> f.fop = (int) v & 0x7ff;
        }
        if (i <= 1) {
            f.updateSummary(); // ES/B follow the unmasked pending exceptions
        }
    }

    private static void put(byte[] b, long v) {
        put(b, 0, v);
    }

    private static void put(byte[] b, int off, long v) {
        for (int i = 0; i < 8 && off + i < b.length; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long get(byte[] b) {
        return get(b, 0);
    }

    /** Up to 8 little-endian bytes from {@code off}, zero-extended. */
    private static long get(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8 && off + i < b.length; i++) {
            v |= (b[off + i] & 0xffL) << (8 * i);
        }
        return v;
    }
}
