package org.mmulab.gdbstub;

import org.mmulab.gdbstub.target.BreakpointType;
import org.mmulab.gdbstub.target.GdbTarget;
import org.mmulab.gdbstub.target.RegisterDef;
import org.mmulab.gdbstub.target.ResumePlan;
import org.mmulab.gdbstub.target.StopEvent;
import org.mmulab.gdbstub.target.StopListener;
import org.mmulab.gdbstub.target.TargetArch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-memory {@link GdbTarget} for tests. Registers: per thread, PC = 0x1000, SP = 0x8000, the first GPR =
 * 0x1111 * thread, everything else zero. Memory: 4 KiB pages at 0x0000-0x2fff and 0x4000-0x4fff, a hole at
 * 0x3000; page 0x1000 holds bytes {@code i & 0xff}. Resume: a stepping thread advances PC by one and stops at
 * once; continue stops at the first breakpoint (PC := its address) or watchpoint (a write watchpoint first increments
 * the watched byte, so gdb sees the value change), whichever was inserted first, else
 * keeps "running" until {@link #interrupt()}. Stop events are delivered on a separate thread when
 * {@code asyncStops} is set (as the emulator will), else synchronously from resume/interrupt.
 */
public final class FakeTarget implements GdbTarget {
    public static final int PAGE = 4096;

    private final TargetArch arch;
    private final int threads;
    private final boolean asyncStops;
    private final byte[][][] regs;      // [thread-1][regnum] -> bytes
    private final TreeMap<Long, byte[]> pages = new TreeMap<>();
    private final Set<String> breakpoints = new LinkedHashSet<>();
    private final List<ResumePlan> resumes = new ArrayList<>();
    private StopListener listener;
    private boolean running;
    private int runningThread = 1;
    private int attaches;
    private int detaches;
    private int releases;
    private int kills;
    private int interrupts;

    public FakeTarget(TargetArch arch, int threads, boolean asyncStops) {
        this.arch = arch;
        this.threads = threads;
        this.asyncStops = asyncStops;
        regs = new byte[threads][arch.registers().size()][];
        for (int t = 1; t <= threads; t++) {
            for (RegisterDef r : arch.registers()) {
                regs[t - 1][r.regnum()] = new byte[r.bytes()];
            }
            setRegister(t, arch.pc().regnum(), 0x1000);
            setRegister(t, arch.register(arch == TargetArch.AMD64 ? "rsp" : "esp").regnum(), 0x8000);
            setRegister(t, 0, 0x1111L * t);
        }
        for (long p : new long[] {0x0000, 0x1000, 0x2000, 0x4000}) {
            pages.put(p, new byte[PAGE]);
        }
        byte[] code = pages.get(0x1000L);
        for (int i = 0; i < PAGE; i++) {
            code[i] = (byte) i;
        }
    }

    public FakeTarget() {
        this(TargetArch.AMD64, 2, false);
    }

    public synchronized void setRegister(int thread, int regnum, long value) {
        byte[] v = regs[thread - 1][regnum];
        for (int i = 0; i < v.length; i++) {
            v[i] = i < 8 ? (byte) (value >>> (8 * i)) : 0;
        }
    }

    public synchronized long register(int thread, int regnum) {
        byte[] v = regs[thread - 1][regnum];
        long x = 0;
        for (int i = Math.min(8, v.length) - 1; i >= 0; i--) {
            x = x << 8 | (v[i] & 0xff);
        }
        return x;
    }

    public synchronized long pc(int thread) {
        return register(thread, arch.pc().regnum());
    }

    public synchronized Set<String> breakpoints() {
        return new LinkedHashSet<>(breakpoints);
    }

    public synchronized List<ResumePlan> resumes() {
        return new ArrayList<>(resumes);
    }

    public synchronized boolean running() {
        return running;
    }

    public synchronized int attaches() {
        return attaches;
    }

    public synchronized int detaches() {
        return detaches;
    }

    public synchronized int kills() {
        return kills;
    }

    public synchronized int interrupts() {
        return interrupts;
    }

    /** Test access to memory regardless of the run state. */
    public synchronized byte[] peek(long address, int length) {
        boolean r = running;
        running = false;
        try {
            return readMemory(1, address, length);
        } finally {
            running = r;
        }
    }

    @Override
    public TargetArch arch() {
        return arch;
    }

    @Override
    public int threadCount() {
        return threads;
    }

    @Override
    public synchronized StopEvent attach(StopListener l) {
        attaches++;
        listener = l;
        running = false;
        return StopEvent.signal(1, StopEvent.SIGTRAP);
    }

    @Override
    public synchronized byte[] readRegister(int thread, int regnum) {
        check(thread);
        return regs[thread - 1][regnum].clone();
    }

    @Override
    public synchronized boolean writeRegister(int thread, int regnum, byte[] value) {
        check(thread);
        if (value.length != regs[thread - 1][regnum].length) {
            return false;
        }
        regs[thread - 1][regnum] = value.clone();
        return true;
    }

    @Override
    public synchronized byte[] readMemory(int thread, long address, int length) {
        check(thread);
        byte[] out = new byte[length];
        int n = 0;
        while (n < length) {
            long a = address + n;
            byte[] page = pages.get(a & -PAGE);
            if (page == null) {
                break;
            }
            int off = (int) (a & (PAGE - 1));
            int chunk = Math.min(length - n, PAGE - off);
            System.arraycopy(page, off, out, n, chunk);
            n += chunk;
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public synchronized int writeMemory(int thread, long address, byte[] data) {
        check(thread);
        int n = 0;
        while (n < data.length) {
            long a = address + n;
            byte[] page = pages.get(a & -PAGE);
            if (page == null) {
                break;
            }
            int off = (int) (a & (PAGE - 1));
            int chunk = Math.min(data.length - n, PAGE - off);
            System.arraycopy(data, n, page, off, chunk);
            n += chunk;
        }
        return n;
    }

    private void check(int thread) {
        if (thread < 1 || thread > threads) {
            throw new AssertionError("stub passed thread " + thread);
        }
        if (running) {
            throw new AssertionError("stub touched state while running");
        }
    }

    private static String key(BreakpointType type, long address, int kind) {
        return type + "@" + Long.toHexString(address) + "/" + kind;
    }

    @Override
    public synchronized boolean insertBreakpoint(BreakpointType type, long address, int kind) {
        if (type == BreakpointType.HARDWARE && kind != 1) {
            return false;
        }
        breakpoints.add(key(type, address, kind));
        return true;
    }

    @Override
    public synchronized boolean removeBreakpoint(BreakpointType type, long address, int kind) {
        return breakpoints.remove(key(type, address, kind));
    }

    @Override
    public synchronized void resume(ResumePlan plan) {
        if (running) {
            throw new AssertionError("resume while running");
        }
        resumes.add(plan);
        running = true;
        for (int t = 1; t <= threads; t++) {
            if (plan.action(t) == ResumePlan.Action.STEP) {
                setRegister(t, arch.pc().regnum(), pc(t) + 1);
                stop(StopEvent.stepped(t));
                return;
            }
        }
        int t = 1;
        while (plan.action(t) != ResumePlan.Action.CONTINUE) {
            t++;
        }
        runningThread = t;
        for (String bp : breakpoints) {
            String[] f = bp.split("[@/]");
            BreakpointType type = BreakpointType.valueOf(f[0]);
            long addr = Long.parseUnsignedLong(f[1], 16);
            if (type == BreakpointType.SOFTWARE || type == BreakpointType.HARDWARE) {
                setRegister(t, arch.pc().regnum(), addr);
                stop(StopEvent.breakpoint(t, type == BreakpointType.HARDWARE));
                return;
            }
            byte[] page = pages.get(addr & -PAGE);
            if (type == BreakpointType.WRITE_WATCHPOINT && page != null) {
                page[(int) (addr & (PAGE - 1))]++;   // the "guest" stored to the watched byte
            }
            stop(StopEvent.watchpoint(t, type, addr));
            return;
        }
    }

    @Override
    public synchronized void interrupt() {
        interrupts++;
        if (running) {
            stop(StopEvent.interrupted(runningThread));
        }
    }

    /** Reports a stop the way the emulator would for a spontaneous event (guest exit, fault). */
    public synchronized void fireStop(StopEvent ev) {
        stop(ev);
    }

    private void stop(StopEvent ev) {
        running = false;
        StopListener l = listener;
        if (l == null) {
            return;
        }
        if (asyncStops) {
            Thread th = new Thread(() -> l.onStop(ev), "fake-vcpu");
            th.setDaemon(true);
            th.start();
        } else {
            l.onStop(ev);
        }
    }

    @Override
    public String monitor(String command) {
        if (command.equals("help")) {
            return "help, echo TEXT, big N\n";
        }
        if (command.startsWith("echo ")) {
            return command.substring(5) + "\n";
        }
        if (command.startsWith("big ")) {
            int n = Integer.parseInt(command.substring(4));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append((char) ('a' + i % 26));
            }
            return sb.append('\n').toString();
        }
        if (command.equals("fail")) {
            throw new IllegalStateException("monitor failure on purpose");
        }
        return "unknown command: " + command + "\n";
    }

    @Override
    public synchronized void detach() {
        detaches++;
        listener = null;
        breakpoints.clear();
        running = true;   // the guest runs freely
    }

    @Override
    public synchronized void release() {
        releases++;
        listener = null;
        breakpoints.clear();
    }

    public synchronized int releases() {
        return releases;
    }

    @Override
    public synchronized void kill() {
        kills++;
        listener = null;
        running = false;
    }
}
