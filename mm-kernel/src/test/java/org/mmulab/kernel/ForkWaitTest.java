package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.kernel.mm.MmStruct;

/**
 * fork, vfork, exit, wait4/waitid, getppid and signals between processes, on one vCPU driven through
 * the trap entry (see {@link ThreadTest}). Before this, fork/wait4 were -ENOSYS and getppid was 0.
 */
class ForkWaitTest {
    static final int RW = 3, ANON = 0x22;

    static Fixture boot(long ram) throws Exception {
        Fixture f = new Fixture(ram);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        return f;
    }

    static long wait4(Fixture f, long pid, long status, long options) {
        return f.sys(SysExit.NR_WAIT4, pid, status, options, 0);
    }

    @Test
    void forkGivesTheChildACopyOnWriteAddressSpace() throws Exception {
        Fixture f = boot(64L << 20);
        Task parent = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        f.write64(page, 0x1111);
        long pid = f.sys(SysClone.NR_FORK);
        assertTrue(pid > parent.pid);
        f.write64(page, 0x2222); // the parent's write after the fork: COW copy
        f.sys(Syscalls.NR_SCHED_YIELD);
        Task child = f.kernel.current();
        assertEquals(pid, child.pid);
        assertEquals(0, f.cpu.state.gpr[CpuState.RAX], "fork() returns 0 in the child");
        assertNotSame(parent.mm, child.mm);
        assertEquals(pid, f.sys(Syscalls.NR_GETPID));
        assertEquals(parent.pid, f.sys(Syscalls.NR_GETPPID));
        assertEquals(0x1111, f.read64(page), "the child sees the value at fork time");
        f.write64(page, 0x3333);
        f.sys(Syscalls.NR_EXIT_GROUP, 7);
        assertSame(parent, f.kernel.current());
        assertEquals(0x2222, f.read64(page), "the child's write stays in the child");
        long status = page + 512;
        assertEquals(pid, wait4(f, -1, status, 0));
        assertEquals(7 << 8, f.read32(status), "WEXITSTATUS 7");
        assertEquals(-Errno.ECHILD, wait4(f, -1, status, 0), "reaped: no children left");
    }

    @Test
    void waitBlocksUntilTheChildExitsAndReportsItsSignal() throws Exception {
        Fixture f = boot(64L << 20);
        Task parent = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        long pid = f.sys(SysClone.NR_FORK);
        assertEquals(0, wait4(f, pid, page, SysExit.WNOHANG), "WNOHANG: the child still runs");
        f.cpu.state.rip = 0x401300;
        // wait4 blocks; the child runs and dies of SIGSEGV (default action)
        assertEquals(0, wait4(f, pid, page, 0), "the child's fork() result");
        assertEquals(pid, f.kernel.current().pid);
        f.sys(SignalQueue.NR_KILL, pid, Kernel.SIGSEGV);
        assertSame(parent, f.kernel.current(), "the parent's wait4 completed");
        assertEquals(0x401300, f.cpu.state.rip);
        assertEquals(pid, f.cpu.state.gpr[CpuState.RAX]);
        assertEquals(Kernel.SIGSEGV, f.read32(page), "WTERMSIG 11: a shell shows 139");
        assertEquals(0, (parent.pending.signal | parent.sig.sharedPending.signal) & (1L << (SignalQueue.SIGCHLD - 1)),
                "SIGCHLD is ignored by default: dropped, never pending");
        assertTrue(!parent.exited());
    }

    @Test
    void waitErrorPaths() throws Exception {
        Fixture f = boot(64L << 20);
        long page = f.mmap(0, 4096, RW, ANON);
        assertEquals(-Errno.ECHILD, wait4(f, -1, page, 0), "no children");
        assertEquals(-Errno.EINVAL, wait4(f, -1, page, 0x10), "unknown option bit");
        assertEquals(-Errno.EINVAL, f.sys(SysExit.NR_WAITID, SysExit.P_ALL, 0, page, 0, 0), "no WEXITED/WSTOPPED/WCONTINUED");
        assertEquals(-Errno.EINVAL, f.sys(SysExit.NR_WAITID, SysExit.P_PID, 0, page, SysExit.WEXITED, 0), "P_PID 0");
        assertEquals(-Errno.EINVAL, f.sys(SysExit.NR_WAITID, 9, 0, page, SysExit.WEXITED, 0), "idtype");
        long pid = f.sys(SysClone.NR_FORK);
        assertEquals(-Errno.ECHILD, wait4(f, pid + 100, page, 0), "not a child");
        assertEquals(-Errno.ECHILD, wait4(f, -1, page, SysExit.WCLONE), "a SIGCHLD child is not a clone child");
        assertEquals(0, f.sys(SysExit.NR_WAITID, SysExit.P_PID, pid, page, SysExit.WEXITED | SysExit.WNOHANG, 0));
        assertEquals(0, f.read32(page), "nothing to report: si_signo 0");
        // The child exits; waitid with WNOWAIT reports it and leaves it waitable.
        f.sys(Syscalls.NR_SCHED_YIELD);
        f.sys(Syscalls.NR_EXIT_GROUP, 3);
        assertEquals(0, f.sys(SysExit.NR_WAITID, SysExit.P_ALL, 0, page, SysExit.WEXITED | SysExit.WNOWAIT, 0));
        assertEquals(SignalQueue.SIGCHLD, f.read32(page), "si_signo");
        assertEquals(SysExit.CLD_EXITED, f.read32(page + 8), "si_code");
        assertEquals(pid, f.read32(page + 16), "si_pid");
        assertEquals(3, f.read32(page + 24), "si_status");
        assertEquals(-Errno.EFAULT, wait4(f, pid, 0x1000, 0), "an unwritable status (the child is reaped anyway)");
        assertEquals(-Errno.ECHILD, wait4(f, pid, page, 0));
    }

    @Test
    void vforkParentSleepsUntilTheChildExits() throws Exception {
        Fixture f = boot(64L << 20);
        Task parent = f.kernel.current();
        assertEquals(0, f.sys(SysClone.NR_VFORK), "the parent blocked at once: the child runs, its vfork() is 0");
        Task child = f.kernel.current();
        long pid = child.pid;
        assertSame(parent.mm, child.mm, "vfork shares the mm");
        assertEquals(0, f.cpu.state.gpr[CpuState.RAX]);
        assertEquals(0, f.sys(Syscalls.NR_SCHED_YIELD), "the parent is not runnable: the child keeps the vCPU");
        assertSame(child, f.kernel.current());
        f.sys(Syscalls.NR_EXIT, 0);
        assertSame(parent, f.kernel.current());
        assertEquals(pid, f.cpu.state.gpr[CpuState.RAX], "vfork() returns the child's pid in the parent");
        assertTrue(parent.mm != null && !parent.exited(), "the shared mm outlives the child");
    }

    @Test
    void forkWithRamExhaustedIsEnomemAndHarmsNothing() throws Exception {
        Fixture f = boot(16L << 20);
        MmStruct mm = f.mm();
        long len = 64L << 20;
        long big = f.mmap(0, len, RW, ANON | 0x4000 /* MAP_NORESERVE */);
        long touched = 0;
        while (f.memory().frames().freePages() > 8 && touched < len) {
            if (f.touch(big + touched, true) < 0) {
                break;
            }
            touched += 4096;
        }
        long free = f.memory().frames().freePages();
        assertEquals(-Errno.ENOMEM, f.sys(SysClone.NR_FORK));
        assertEquals(free, f.memory().frames().freePages(), "the half-built child gave everything back");
        assertEquals(-Errno.ECHILD, wait4(f, -1, 0, SysExit.WNOHANG), "no child was made");
        assertSame(mm, f.mm());
        assertTrue(!f.kernel.task().exited());
    }

    @Test
    void killReachesOtherProcessesAndInitsDeathEndsThemAll() throws Exception {
        Fixture f = boot(64L << 20);
        Task parent = f.kernel.current();
        long c1 = f.sys(SysClone.NR_FORK);
        long c2 = f.sys(SysClone.NR_FORK);
        assertEquals(-Errno.ESRCH, f.sys(SignalQueue.NR_KILL, 99999, Kernel.SIGKILL));
        assertEquals(0, f.sys(SignalQueue.NR_KILL, c1, 0), "signal 0: it exists");
        assertEquals(0, f.sys(SignalQueue.NR_KILL, c1, Kernel.SIGKILL));
        long status = f.mmap(0, 4096, RW, ANON);
        assertEquals(0, wait4(f, c1, status, 0), "the parent blocks; c1 runs only to die, then c2 runs");
        assertEquals(c2, f.kernel.current().pid);
        f.sys(Syscalls.NR_SCHED_YIELD);
        assertSame(parent, f.kernel.current());
        assertEquals(c1, f.cpu.state.gpr[CpuState.RAX], "wait4 reaped c1");
        assertEquals(Kernel.SIGKILL, f.read32(status));
        assertEquals(-Errno.ESRCH, f.sys(SignalQueue.NR_TGKILL, c2 + 1, c2, 0), "tgkill checks the group");
        // init exits: c2 is killed with it, and the run is over.
        f.sys(Syscalls.NR_EXIT_GROUP, 5);
        assertTrue(parent.exited());
        assertEquals(0, f.kernel.sched().liveTasksCount(), "c2 went with init");
        assertEquals(5, f.kernel.run());
    }

    @Test
    void aSignalFromAnotherProcessInterruptsAWaitAndNamesItsSender() throws Exception {
        Fixture f = boot(64L << 20);
        Task parent = f.kernel.current();
        long act = f.mmap(0, 4096, RW, ANON);
        f.write64(act, 0x401000); // handler
        f.write64(act + 8, 0x04000000L | 4); // SA_RESTORER | SA_SIGINFO
        f.write64(act + 16, 0x401001); // restorer
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, 10, act, 0, 8));
        long pid = f.sys(SysClone.NR_FORK);
        assertEquals(0, wait4(f, pid, 0, 0), "the parent blocks, the child runs");
        assertEquals(0, f.sys(SignalQueue.NR_KILL, parent.pid, 10), "SIGUSR1 to the parent");
        assertEquals(pid, f.kernel.current().pid, "the child goes on");
        f.sys(Syscalls.NR_SCHED_YIELD);
        assertSame(parent, f.kernel.current(), "the signal cut the wait short");
        assertEquals(0x401000, f.cpu.state.rip, "the parent runs its handler");
        long info = f.cpu.state.gpr[CpuState.RSI];
        assertEquals(pid, (int) f.read64(info + 16), "si_pid: the sender");
        assertEquals(SignalQueue.SI_USER, (int) f.read64(info + 8));
        assertEquals(0, wait4(f, pid, 0, SysExit.WNOHANG), "the child still lives");
    }
}
