package org.mmulab.gdbstub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.debug.GuestLoop;
import org.mmulab.gdbstub.target.BreakpointType;
import org.mmulab.gdbstub.target.ResumePlan;
import org.mmulab.gdbstub.target.StopEvent;
import org.mmulab.gdbstub.target.TargetArch;

/**
 * {@link EmulatorTarget} on a machine built directly through the emulator API ({@link GuestLoop}: real guest
 * code on 1 or 2 vCPUs, each on its own thread): register layout, all-stop events, breakpoints and watchpoints,
 * detach, kill; and the real gdb's {@code info threads} / {@code thread 2} on the 2-vCPU machine.
 */
class EmulatorTargetTest {
    private static final long WAIT_S = 20;
    private GuestLoop g;
    private EmulatorTarget target;
    private final BlockingQueue<StopEvent> events = new LinkedBlockingQueue<>();

    private void machine(int cpus) {
        g = new GuestLoop(cpus);
        target = new EmulatorTarget(g.dbg);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (g != null) {
            g.close();
            assertTrue(g.traps.isEmpty(), "unexpected traps: " + g.traps);
        }
    }

    private StopEvent next() throws InterruptedException {
        StopEvent e = events.poll(WAIT_S, TimeUnit.SECONDS);
        assertNotNull(e, "no stop event within " + WAIT_S + " s");
        return e;
    }

    private static long le(byte[] b) {
        long v = 0;
        for (int i = b.length - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    @Test
    void attachStopsARunningMachineAndRegistersFollowGdbsAmd64Order() throws Exception {
        machine(1);
        g.start();
        assertEquals(TargetArch.AMD64, target.arch());
        StopEvent now = target.attach(events::add);
        assertEquals(StopEvent.Reason.SIGNAL, now.reason());
        assertEquals(1, now.thread());
        assertTrue(g.dbg.isStopped());
        CpuState s = g.state(0);
        TargetArch a = TargetArch.AMD64;
        assertEquals(s.gpr[CpuState.RAX], le(target.readRegister(1, a.register("rax").regnum())));
        assertEquals(GuestLoop.data(0), le(target.readRegister(1, a.register("rbx").regnum())), "rbx is gdb's 1");
        assertEquals(s.rip, le(target.readRegister(1, a.register("rip").regnum())));
        assertEquals(0x33, le(target.readRegister(1, a.register("cs").regnum())));
        assertEquals(0x2b, le(target.readRegister(1, a.register("ss").regnum())));
        assertEquals(0, le(target.readRegister(1, a.register("ds").regnum())));
        assertEquals(0x37f, le(target.readRegister(1, a.register("fctrl").regnum())));
        assertEquals(0x1f80, le(target.readRegister(1, a.register("mxcsr").regnum())));
        assertEquals(s.getRflags(), le(target.readRegister(1, a.register("eflags").regnum())));
        for (var r : a.registers()) {
            assertEquals(r.bytes(), target.readRegister(1, r.regnum()).length, r.name());
        }
        // Writes: GPRs, xmm halves, fs_base; segments only with the value they have.
        byte[] v = new byte[8];
        v[0] = 0x42;
        assertTrue(target.writeRegister(1, a.register("r9").regnum(), v));
        assertEquals(0x42, s.gpr[9]);
        byte[] x = new byte[16];
        x[0] = 1;
        x[15] = (byte) 0x80;
        assertTrue(target.writeRegister(1, a.register("xmm3").regnum(), x));
        assertEquals(1, s.xmm[6]);
        assertEquals(0x8000_0000_0000_0000L, s.xmm[7]);
        assertArrayEquals(x, target.readRegister(1, a.register("xmm3").regnum()));
        assertTrue(target.writeRegister(1, a.register("fs_base").regnum(), v));
        assertEquals(0x42, s.fsBase);
        // x87: st(i) follows TOP; ftag is computed from the contents.
        s.fpu.push(0x3fff, Long.MIN_VALUE); // 1.0 in R7
        byte[] st0 = target.readRegister(1, a.register("st0").regnum());
        assertEquals(Long.MIN_VALUE, le(java.util.Arrays.copyOf(st0, 8)));
        assertEquals(0x3fff, (st0[8] & 0xff) | (st0[9] & 0xff) << 8);
        assertEquals(0x3fff, le(target.readRegister(1, a.register("ftag").regnum())), "R7 valid, rest empty");
        assertEquals(7 << 11, le(target.readRegister(1, a.register("fstat").regnum())), "TOP 7");
        byte[] two = new byte[10];
        two[8] = 0x00;
        two[9] = 0x40;
        two[7] = (byte) 0x80; // 2.0
        assertTrue(target.writeRegister(1, a.register("st0").regnum(), two));
        assertEquals(0x4000, s.fpu.stSe(0));
        assertTrue(target.writeRegister(1, a.register("fctrl").regnum(), new byte[] {0x7f, 0x0f, 0, 0}));
        assertEquals(0x0f7f, s.fpu.fcw);
        assertFalse(target.writeRegister(1, a.register("cs").regnum(), new byte[] {0x10, 0, 0, 0}));
        assertTrue(target.writeRegister(1, a.register("cs").regnum(), new byte[] {0x33, 0, 0, 0}));
        // Memory through the debug walk: the code bytes, nothing at an unmapped page.
        assertArrayEquals(new byte[] {0x48, (byte) 0xff, (byte) 0xc0}, target.readMemory(1, GuestLoop.INC, 3));
        assertEquals(0, target.readMemory(1, 0x50_0000L, 16).length);
        assertEquals(4096, target.readMemory(1, GuestLoop.DATA, 8192).length, "stops at the unmapped page");
        target.detach();
    }

    private static byte[] bytes(long v, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    @Test
    void systemRegistersReadTheCpuAndWriteThroughItsMovToCrChecks() throws Exception {
        machine(1);
        g.start();
        target.attach(events::add);
        CpuState s = g.state(0);
        TargetArch a = TargetArch.AMD64;
        assertEquals(s.cr0, le(target.readRegister(1, a.register("cr0").regnum())));
        assertEquals(s.cr3, le(target.readRegister(1, a.register("cr3").regnum())));
        assertEquals(s.cr4, le(target.readRegister(1, a.register("cr4").regnum())));
        assertEquals(s.efer, le(target.readRegister(1, a.register("efer").regnum())));
        long cr3 = s.cr3;
        long cr4 = s.cr4;
        long flushes = g.machine.vcpu(0).mmu().counters.cr3Flushes + g.machine.vcpu(0).mmu().counters.fullFlushes;
        // Rewriting what is there (gdb's G does) is no MOV at all: no flush.
        assertTrue(target.writeRegister(1, a.register("cr3").regnum(), bytes(cr3, 8)));
        assertTrue(target.writeRegister(1, a.register("cr4").regnum(), bytes(cr4, 8)));
        assertEquals(flushes, g.machine.vcpu(0).mmu().counters.cr3Flushes + g.machine.vcpu(0).mmu().counters.fullFlushes);
        // What the CPU refuses with #GP is refused and changes nothing.
        assertFalse(target.writeRegister(1, a.register("cr4").regnum(), bytes(cr4 | (1L << 12), 8)), "LA57");
        assertFalse(target.writeRegister(1, a.register("cr0").regnum(), bytes(s.cr0 & ~CpuState.CR0_PG, 8)));
        assertFalse(target.writeRegister(1, a.register("cr3").regnum(), bytes(1L << 52, 8)));
        assertFalse(target.writeRegister(1, a.register("cr8").regnum(), bytes(0x10, 8)));
        assertFalse(target.writeRegister(1, a.register("efer").regnum(), bytes(s.efer | 2, 8)));
        assertFalse(target.writeRegister(1, a.register("k_gs_base").regnum(), bytes(1L << 47, 8)), "non-canonical");
        assertEquals(cr3, s.cr3);
        assertEquals(cr4, s.cr4);
        assertEquals(0, s.cr8);
        // Legal writes land.
        assertTrue(target.writeRegister(1, a.register("cr8").regnum(), bytes(7, 8)));
        assertEquals(7, s.cr8);
        assertTrue(target.writeRegister(1, a.register("k_gs_base").regnum(), bytes(0xffff_8000_0000_0000L, 8)));
        assertEquals(0xffff_8000_0000_0000L, s.kernelGsBase);
        assertTrue(target.writeRegister(1, a.register("cr2").regnum(), bytes(0x1234_5678_9000L, 8)));
        assertEquals(0x1234_5678_9000L, s.cr2);
        // The i386 view of a register wider than 32 bits: writing back what it shows keeps the high half.
        s.longMode64 = false;
        try {
            TargetArch i = TargetArch.I386;
            assertEquals(i, target.arch());
            assertEquals(0x5678_9000L, le(target.readRegister(1, i.register("cr2").regnum())));
            assertTrue(target.writeRegister(1, i.register("cr2").regnum(), bytes(0xdead_b000L, 4)));
            assertEquals(0x1234_dead_b000L, s.cr2);
            assertTrue(target.writeRegister(1, i.register("cr3").regnum(), bytes(cr3, 4)));
            assertEquals(cr3, s.cr3);
        } finally {
            s.longMode64 = true;
        }
        target.detach();
    }

    @Test
    void breakpointStepWatchpointAndDetachOnTwoVcpus() throws Exception {
        machine(2);
        g.start();
        assertEquals(2, target.threadCount());
        target.attach(events::add);
        assertTrue(target.insertBreakpoint(BreakpointType.HARDWARE, GuestLoop.STORE, 1));
        target.resume(ResumePlan.continueAll(2));
        StopEvent e = next();
        assertEquals(StopEvent.Reason.HARDWARE_BREAKPOINT, e.reason());
        assertTrue(g.dbg.isStopped(), "both vCPUs stopped before the report");
        int t = e.thread();
        assertEquals(GuestLoop.STORE, g.state(t - 1).rip);
        assertTrue(target.removeBreakpoint(BreakpointType.HARDWARE, GuestLoop.STORE, 1));
        assertFalse(target.removeBreakpoint(BreakpointType.HARDWARE, GuestLoop.STORE, 1));

        // vCont;s:t (the other thread stays): exactly one instruction on t.
        long otherBefore = g.state(2 - t).instructions;
        target.resume(ResumePlan.builder(2).set(t, ResumePlan.Action.STEP, 0).build());
        e = next();
        assertEquals(StopEvent.Reason.SIGNAL, e.reason());
        assertEquals(StopEvent.SIGTRAP, e.signal());
        assertEquals(t, e.thread());
        assertEquals(GuestLoop.JMP, g.state(t - 1).rip);
        assertEquals(otherBefore, g.state(2 - t).instructions);

        // A write watchpoint on thread 2's slot: reported on thread 2, after the store.
        assertTrue(target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, GuestLoop.data(1), 8));
        target.resume(ResumePlan.continueAll(2));
        e = next();
        assertEquals(StopEvent.Reason.WRITE_WATCHPOINT, e.reason());
        assertEquals(2, e.thread());
        assertEquals(GuestLoop.data(1), e.address());
        assertEquals(GuestLoop.JMP, g.state(1).rip);
        assertEquals(g.state(1).gpr[CpuState.RAX], g.stored(1));

        // Ctrl-C while both spin.
        assertTrue(target.removeBreakpoint(BreakpointType.WRITE_WATCHPOINT, GuestLoop.data(1), 8));
        target.resume(ResumePlan.continueAll(2));
        target.interrupt();
        e = next();
        assertEquals(StopEvent.SIGINT, e.signal());
        assertTrue(g.dbg.isStopped());

        // Detach with a breakpoint still inserted: it is removed and the guest runs on.
        assertTrue(target.insertBreakpoint(BreakpointType.SOFTWARE, GuestLoop.STORE, 1));
        target.detach();
        long before = g.state(0).instructions;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (g.state(0).instructions < before + 100_000 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(g.state(0).instructions >= before + 100_000, "the guest runs after detach");
        assertFalse(g.dbg.isBreakpoint(GuestLoop.STORE));
        assertNull(events.poll(), "no events after detach");
    }

    @Test
    void killStopsEveryVcpuForGood() throws Exception {
        machine(2);
        g.start();
        target.attach(events::add);
        target.kill();
        assertTrue(target.killed());
        g.close();   // joins both vCPU threads: they left their run loops
        for (var v : g.machine.vcpus()) {
            assertFalse(v.isRunning());
        }
    }

    @Test
    void a32BitVcpuGetsTheI386LayoutWithLinuxsFlatSelectors() throws Exception {
        machine(1);   // not started: registers only
        CpuState s = g.state(0);
        s.longMode64 = false;
        s.gpr[CpuState.RAX] = 0x1_2345_6789L;   // upper half is not part of eax
        s.gpr[CpuState.RSP] = 0xbfff_f000L;
        s.rip = 0x0804_9000L;
        assertEquals(TargetArch.I386, target.arch());
        target.attach(events::add);
        TargetArch a = TargetArch.I386;
        assertEquals(4, target.readRegister(1, a.register("eax").regnum()).length);
        assertEquals(0x2345_6789L, le(target.readRegister(1, a.register("eax").regnum())));
        assertEquals(GuestLoop.data(0), le(target.readRegister(1, a.register("ebx").regnum())), "ebx is i386's 3");
        assertEquals(0xbfff_f000L, le(target.readRegister(1, a.register("esp").regnum())));
        assertEquals(0x0804_9000L, le(target.readRegister(1, a.register("eip").regnum())));
        assertEquals(0x23, le(target.readRegister(1, a.register("cs").regnum())));
        for (String seg : new String[] {"ss", "ds", "es"}) {
            assertEquals(0x2b, le(target.readRegister(1, a.register(seg).regnum())), seg);
        }
        assertEquals(0, le(target.readRegister(1, a.register("gs").regnum())));
        assertEquals(0x1f80, le(target.readRegister(1, a.register("mxcsr").regnum())));
        for (var r : a.registers()) {
            assertEquals(r.bytes(), target.readRegister(1, r.regnum()).length, r.name());
        }
        assertTrue(target.writeRegister(1, a.register("eax").regnum(), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
        assertEquals(0xffff_ffffL, s.gpr[CpuState.RAX], "a 32-bit write zero-extends");
        target.detach();
    }

    @Test
    void linuxSignalsBecomeGdbSignals() {
        assertEquals(StopEvent.SIGSEGV, EmulatorTarget.gdbSignal(11));
        assertEquals(StopEvent.SIGBUS, EmulatorTarget.gdbSignal(7), "Linux SIGBUS is 7, gdb's 10");
        assertEquals(StopEvent.SIGKILL, EmulatorTarget.gdbSignal(9));
        assertEquals(30, EmulatorTarget.gdbSignal(10), "SIGUSR1");
        assertEquals(143, EmulatorTarget.gdbSignal(64), "unknown");
    }

    @Test
    void aGuestKilledBySignalIsTerminatedForAnAttachingGdb() throws Exception {
        machine(1);
        g.machine.shutdown();
        g.dbg.machineTerminated(11);
        StopEvent now = target.attach(events::add);
        assertEquals(StopEvent.Reason.TERMINATED, now.reason());
        assertEquals(StopEvent.SIGSEGV, now.signal());
    }

    static boolean gdbInstalled() {
        return RealGdbSmokeTest.gdbInstalled();
    }

    @Test
    @EnabledIf("gdbInstalled")
    void realGdbSeesEveryVcpuAsAThread() throws Exception {
        machine(2);
        g.state(1).gpr[CpuState.RAX] = 0x1000;   // tell the threads apart
        g.start();
        try (GdbServer server = new GdbServer(target, 0).start()) {
            String out = RealGdbSmokeTest.runGdb(server,
                    "target remote 127.0.0.1:PORT",
                    "info threads",
                    "thread 2",
                    "p/x $rbx",
                    "stepi",
                    "thread 1",
                    "p/x $rbx",
                    "info registers cs ss",
                    "monitor cpus",
                    "detach");
            assertTrue(out.contains("Thread 1 (vCPU 0)"), out);
            assertTrue(out.contains("Thread 2 (vCPU 1)"), out);
            assertTrue(out.contains("[Switching to thread 2 (Thread 2)]"), out);
            assertTrue(out.contains("$1 = 0x402008"), out);
            assertTrue(out.contains("$2 = 0x402000"), out);
            assertTrue(out.contains("cs             0x33"), out);
            assertTrue(out.contains("ss             0x2b"), out);
            assertTrue(out.contains("cpu 1"), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) detached]"), out);
        }
    }
}
