package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;

/**
 * Threads (clone with CLONE_VM|CLONE_THREAD...), the scheduler's context switch and continuations, and
 * futexes, driven through the kernel's trap entry on one vCPU: a syscall that blocks or yields leaves
 * the vCPU running another task, so the registers a test sees after {@code sys} are the new task's.
 * Before this, clone/futex were -ENOSYS and there was one task.
 */
class ThreadTest {
    static final int RW = 3, ANON = 0x22;
    static final long THREAD_FLAGS = SysClone.CLONE_VM | SysClone.CLONE_FS | SysClone.CLONE_FILES | SysClone.CLONE_SIGHAND
            | SysClone.CLONE_THREAD | SysClone.CLONE_SYSVSEM | SysClone.CLONE_SETTLS | SysClone.CLONE_PARENT_SETTID
            | SysClone.CLONE_CHILD_CLEARTID;

    static Fixture boot() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        return f;
    }

    static long futex(Fixture f, long addr, int op, long val, long timeout, long addr2, long val3) {
        return f.sys(Futex.NR_FUTEX, addr, op, val, timeout, addr2, val3);
    }

    /** A thread as glibc's pthread_create makes it; returns its tid (the caller keeps running). */
    static long spawn(Fixture f, long page, long stack, long tls) {
        return f.sys(SysClone.NR_CLONE, THREAD_FLAGS, stack, page, page + 4, tls);
    }

    @Test
    void aThreadSharesTheProcessAndStartsWhereTheParentWas() throws Exception {
        Fixture f = boot();
        Task parent = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        f.cpu.state.rip = 0x401100;
        f.cpu.state.gpr[CpuState.R12] = 0x1234;
        long tid = spawn(f, page, 0x7000_0000L, 0x5555_0000L);
        assertTrue(tid > parent.pid, "tid " + tid);
        assertEquals(tid, f.read32(page), "CLONE_PARENT_SETTID");
        assertSame(parent, f.kernel.current(), "the parent goes on running");
        assertEquals(0, f.sys(Syscalls.NR_SCHED_YIELD), "the child's clone() returns 0");
        Task child = f.kernel.current();
        assertEquals(tid, child.pid);
        assertEquals(0x401100, f.cpu.state.rip);
        assertEquals(0x1234, f.cpu.state.gpr[CpuState.R12]);
        assertEquals(0x7000_0000L, f.cpu.state.gpr[CpuState.RSP], "the new stack");
        assertEquals(0x5555_0000L, f.cpu.state.fsBase, "CLONE_SETTLS: the FS base");
        assertEquals(parent.pid, f.sys(Syscalls.NR_GETPID), "same thread group");
        assertEquals(tid, f.sys(Syscalls.NR_GETTID));
        assertSame(parent.mm, child.mm, "CLONE_VM");
        assertSame(parent.sigactions, child.sigactions, "CLONE_SIGHAND");
        // The thread exits: clear_child_tid writes 0 and the parent carries on.
        f.sys(Syscalls.NR_EXIT, 0);
        assertSame(parent, f.kernel.current());
        assertEquals(0, f.read32(page + 4), "CLONE_CHILD_CLEARTID");
        assertEquals(0, f.cpu.state.gpr[CpuState.RAX], "the parent's sched_yield returned 0");
        assertTrue(!parent.exited() && child.exited());
    }

    @Test
    void futexWaitBlocksUntilAnotherThreadWakesIt() throws Exception {
        Fixture f = boot();
        Task parent = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        long word = page + 64;
        long tid = spawn(f, page, 0, 0);
        f.cpu.state.rip = 0x401200;
        // The parent waits on word == 0: it blocks and the child runs (its clone() result is 0).
        assertEquals(0, futex(f, word, Futex.FUTEX_WAIT | Futex.FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
        assertEquals(tid, f.kernel.current().pid, "the vCPU went on with the child");
        assertEquals(-Errno.EAGAIN, futex(f, word, Futex.FUTEX_WAIT | Futex.FUTEX_PRIVATE_FLAG, 1, 0, 0, 0),
                "the value is not the expected one");
        f.writeBytes(word, new byte[] {1, 0, 0, 0});
        assertEquals(1, futex(f, word, Futex.FUTEX_WAKE, 1, 0, 0, 0),
                "a shared wake in a private mapping has the private key (mm, address): it meets the waiter");
        // The child yields: the parent resumes after its FUTEX_WAIT, which returns 0.
        f.sys(Syscalls.NR_SCHED_YIELD);
        assertSame(parent, f.kernel.current());
        assertEquals(0x401200, f.cpu.state.rip);
        assertEquals(0, f.cpu.state.gpr[CpuState.RAX], "FUTEX_WAIT's result");
    }

    @Test
    void wakeBitsetsSelectWaitersAndRequeueMovesThem() throws Exception {
        Fixture f = boot();
        long page = f.mmap(0, 4096, RW, ANON);
        long a = page + 128, b = page + 256;
        int waitBs = Futex.FUTEX_WAIT_BITSET | Futex.FUTEX_PRIVATE_FLAG;
        long t1 = spawn(f, page, 0, 0);
        long t2 = spawn(f, page + 8, 0, 0);
        // init waits with bitset 1, t1 with bitset 2, t2 plain: each block hands the vCPU to the next.
        futex(f, a, waitBs, 0, 0, 0, 1);
        assertEquals(t1, f.kernel.current().pid);
        futex(f, a, waitBs, 0, 0, 0, 2);
        assertEquals(t2, f.kernel.current().pid);
        assertEquals(0, futex(f, a, Futex.FUTEX_WAKE_BITSET | Futex.FUTEX_PRIVATE_FLAG, 10, 0, 0, 4), "no waiter has bit 2");
        assertEquals(1, futex(f, a, Futex.FUTEX_WAKE_BITSET | Futex.FUTEX_PRIVATE_FLAG, 10, 0, 0, 2), "t1 only");
        assertEquals(-Errno.EAGAIN, futex(f, a, Futex.FUTEX_CMP_REQUEUE | Futex.FUTEX_PRIVATE_FLAG, 0, 1, b, 7),
                "CMP_REQUEUE compares *uaddr with val3");
        assertEquals(1, futex(f, a, Futex.FUTEX_CMP_REQUEUE | Futex.FUTEX_PRIVATE_FLAG, 0, 5, b, 0), "init moved to b");
        assertEquals(0, futex(f, a, Futex.FUTEX_WAKE | Futex.FUTEX_PRIVATE_FLAG, 10, 0, 0, 0), "nobody left on a");
        assertEquals(1, futex(f, b, Futex.FUTEX_WAKE | Futex.FUTEX_PRIVATE_FLAG, 10, 0, 0, 0), "init is on b");
    }

    @Test
    void futexErrorPaths() throws Exception {
        Fixture f = boot();
        long page = f.mmap(0, 4096, RW, ANON);
        int priv = Futex.FUTEX_PRIVATE_FLAG;
        assertEquals(-Errno.EINVAL, futex(f, page + 2, Futex.FUTEX_WAIT | priv, 0, 0, 0, 0), "misaligned");
        assertEquals(-Errno.EINVAL, futex(f, page + 1, Futex.FUTEX_WAKE | priv, 1, 0, 0, 0), "misaligned");
        assertEquals(-Errno.EFAULT, futex(f, 0x1000, Futex.FUTEX_WAIT | priv, 0, 0, 0, 0), "unmapped");
        assertEquals(-Errno.EFAULT, futex(f, 0x1000, Futex.FUTEX_WAKE, 1, 0, 0, 0), "unmapped, shared");
        assertEquals(-Errno.EINVAL, futex(f, page, Futex.FUTEX_WAIT_BITSET | priv, 0, 0, 0, 0), "empty bitset");
        assertEquals(-Errno.EINVAL, futex(f, page, Futex.FUTEX_WAKE_BITSET | priv, 1, 0, 0, 0), "empty bitset");
        assertEquals(-Errno.ENOSYS, futex(f, page, Futex.FUTEX_WAIT | Futex.FUTEX_CLOCK_REALTIME, 0, 0, 0, 0),
                "CLOCK_REALTIME only with WAIT_BITSET");
        assertEquals(-Errno.ENOSYS, futex(f, page, 6 /* FUTEX_LOCK_PI */, 0, 0, 0, 0));
        assertEquals(-Errno.EINVAL, futex(f, page, Futex.FUTEX_REQUEUE | priv, -1, 1, page + 4, 0), "negative count");
        assertEquals(-Errno.EFAULT, futex(f, page, Futex.FUTEX_WAIT | priv, 0, 0x1000, 0, 0), "unreadable timeout");
        f.writeBytes(page + 64, new byte[16]);
        f.write64(page + 72, 1_000_000_000L);
        assertEquals(-Errno.EINVAL, futex(f, page, Futex.FUTEX_WAIT | priv, 0, page + 64, 0, 0), "tv_nsec out of range");
        assertEquals(0, futex(f, page, Futex.FUTEX_WAKE | priv, 1, 0, 0, 0), "no waiters");
        assertTrue(!f.kernel.task().exited());
    }

    @Test
    void aTimedWaitEndsWithEtimedoutInVirtualTime() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.machine.setDeterministic(1);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        long page = f.mmap(0, 4096, RW, ANON);
        f.write64(page + 64, 0);
        f.write64(page + 72, 5_000_000); // 5 ms
        long before = f.machine.guestTime().monotonicNanos(f.cpu);
        assertEquals(-Errno.ETIMEDOUT, futex(f, page, Futex.FUTEX_WAIT | Futex.FUTEX_PRIVATE_FLAG, 0, page + 64, 0, 0));
        long slept = f.machine.guestTime().monotonicNanos(f.cpu) - before;
        assertTrue(slept >= 5_000_000, "the idle vCPU's clock moved to the deadline: " + slept);
        // An absolute WAIT_BITSET deadline in the past times out at once.
        assertEquals(-Errno.ETIMEDOUT, futex(f, page, Futex.FUTEX_WAIT_BITSET | Futex.FUTEX_PRIVATE_FLAG, 0, page + 64, 0, -1));
    }

    @Test
    void everyTaskBlockedForeverIsADeadlockThatEndsTheRun() throws Exception {
        Fixture f = boot();
        long page = f.mmap(0, 4096, RW, ANON);
        spawn(f, page, 0, 0);
        futex(f, page + 64, Futex.FUTEX_WAIT | Futex.FUTEX_PRIVATE_FLAG, 0, 0, 0, 0); // init blocks, the thread runs
        futex(f, page + 64, Futex.FUTEX_WAIT | Futex.FUTEX_PRIVATE_FLAG, 0, 0, 0, 0); // and blocks too
        assertTrue(f.kernel.initTask().exited());
        assertEquals(137, f.kernel.initTask().exitStatus());
        assertTrue(f.stderr().contains("deadlock"), f.stderr());
        assertTrue(f.kernel.deadlockReport().contains("futex wait on 0x" + Long.toHexString(page + 64)), f.kernel.deadlockReport());
        assertNull(f.kernel.current(), "the vCPU is idle: nothing is left to run");
    }

    @Test
    void cloneRejectsWhatItDoesNotSupport() throws Exception {
        Fixture f = boot();
        long vm = SysClone.CLONE_VM, sighand = SysClone.CLONE_SIGHAND, thread = SysClone.CLONE_THREAD;
        assertEquals(-Errno.EINVAL, f.sys(SysClone.NR_CLONE, vm | thread, 0, 0, 0, 0), "THREAD without SIGHAND");
        assertEquals(-Errno.EINVAL, f.sys(SysClone.NR_CLONE, sighand, 0, 0, 0, 0), "SIGHAND without VM");
        assertEquals(-Errno.EINVAL, f.sys(SysClone.NR_CLONE, 0x20000 /* CLONE_NEWNS */ | 17, 0, 0, 0, 0), "namespaces");
        assertEquals(-Errno.EINVAL, f.sys(SysClone.NR_CLONE, 0x1000 /* CLONE_PIDFD */ | 17, 0, 0, 0, 0), "pidfd");
        assertEquals(-Errno.EINVAL, f.sys(SysClone.NR_CLONE, 65, 0, 0, 0, 0), "exit signal above 64");
        assertEquals(-Errno.EINVAL, f.sys(SysClone.NR_CLONE, SysClone.CLONE_PARENT | 17, 0, 0, 0, 0), "CLONE_PARENT from init");
        assertEquals(-Errno.EPERM, f.sys(SysClone.NR_CLONE, vm | sighand | thread | SysClone.CLONE_SETTLS, 0, 0, 0,
                0x8000_0000_0000L), "a non-canonical FS base");
        assertEquals(-Errno.ENOSYS, f.sys(SysClone.NR_CLONE3, 0, 0), "clone3: glibc falls back to clone");
        assertEquals(1, f.kernel.sched().liveTasksCount(), "nothing was created");
    }

    @Test
    void aFatalSignalInOneThreadKillsTheGroup() throws Exception {
        Fixture f = boot();
        Task parent = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        spawn(f, page, 0, 0);
        f.sys(Syscalls.NR_SCHED_YIELD);
        Task child = f.kernel.current();
        assertNotEquals(parent, child);
        f.sys(SignalQueue.NR_TGKILL, parent.pid, child.pid, Kernel.SIGSEGV);
        assertTrue(child.exited() && parent.exited(), "the whole group is gone");
        assertEquals(139, parent.exitStatus());
        assertEquals(139, f.kernel.run(), "the run's status");
    }

    @Test
    void robustListMarksHeldLocksOwnerDiedAtExit() throws Exception {
        Fixture f = boot();
        long page = f.mmap(0, 4096, RW, ANON);
        spawn(f, page, 0, 0);
        f.sys(Syscalls.NR_SCHED_YIELD);
        Task child = f.kernel.current();
        // struct robust_list_head at page+256: next -> entry at page+512, futex_offset 16, pending 0.
        long head = page + 256, entry = page + 512;
        f.write64(head, entry);
        f.write64(head + 8, 16);
        f.write64(head + 16, 0);
        f.write64(entry, head); // the list is circular through the head
        f.writeBytes(entry + 16, le32(child.pid | Futex.FUTEX_WAITERS));
        assertEquals(-Errno.EINVAL, f.sys(273, head, 23), "set_robust_list: wrong size");
        assertEquals(0, f.sys(273, head, 24));
        f.sys(Syscalls.NR_EXIT, 0);
        assertEquals(Futex.FUTEX_OWNER_DIED | Futex.FUTEX_WAITERS, (int) f.read32(entry + 16));
    }

    @Test
    void affinityIsAMaskOfTheMachinesVcpus() throws Exception {
        Fixture f = boot();
        long page = f.mmap(0, 4096, RW, ANON);
        f.write64(page, 0b10);
        assertEquals(-Errno.EINVAL, f.sys(203, 0, 8, page), "vCPU 1 does not exist: empty mask");
        f.write64(page, 0b11);
        assertEquals(0, f.sys(203, 0, 8, page));
        assertEquals(-Errno.ESRCH, f.sys(203, 99999, 8, page));
        assertEquals(-Errno.ESRCH, f.sys(204, -1, 8, page));
        assertEquals(-Errno.EFAULT, f.sys(203, 0, 8, 0x1000));
        assertEquals(8, f.sys(204, 0, 8, page));
        assertEquals(1, f.read64(page));
    }

    @Test
    void ia32CloneTakesTlsBeforeChildTidAndTlsIsAUserDesc() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.PAE);
        Task parent = f.kernel.current();
        long page = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        long desc = page + 256;
        // struct user_desc {entry_number 6 (GDT_ENTRY_TLS_MIN of a 32-bit kernel), base, limit, seg_32bit|limit_in_pages|useable}
        f.writeBytes(desc, le32(6));
        f.writeBytes(desc + 4, le32(0x1234_5000L));
        f.writeBytes(desc + 8, le32(0xfffff));
        f.writeBytes(desc + 12, le32(0x51));
        long tid = f.sys32(SysClone.NR32_CLONE, THREAD_FLAGS, 0x0800_0000L, page, desc, page + 4);
        assertTrue(tid > parent.pid, "tid " + tid);
        assertEquals(tid, f.read32(page), "CLONE_PARENT_SETTID");
        assertEquals(0, parent.tls[0], "the parent's TLS is untouched");
        assertEquals(0, f.sys32(Syscalls.NR32_SCHED_YIELD));
        Task child = f.kernel.current();
        assertEquals(tid, child.pid);
        assertEquals(page + 4, child.clearChildTid, "the fifth argument is child_tid (CLONE_BACKWARDS)");
        assertEquals(0x1234_5000L, org.mmulab.emulator.cpu.Segments.base(f.cpu.state.segs.gdt[6]), "the child's TLS descriptor");
        assertEquals(0x0800_0000L, f.cpu.state.gpr[CpuState.RSP]);
        assertEquals(parent.pid, f.sys32(Syscalls.NR32_GETPID));
        assertEquals(-Errno.ECHILD, f.sys32(SysExit.NR32_WAITPID, -1, 0, 0), "a thread is not a child");
        assertEquals(-Errno.EFAULT, f.sys32(Futex.NR32_FUTEX_TIME64, 0x1000, Futex.FUTEX_WAIT, 0, 0, 0, 0));
    }

    static byte[] le32(long v) {
        byte[] b = new byte[4];
        Le.put32(b, 0, v);
        return b;
    }
}
