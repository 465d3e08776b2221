package org.mmulab.gdbstub.target;

/**
 * The debuggee as the GDB stub sees it: an all-stop machine of {@link #threadCount()} vCPUs, which gdb sees as
 * threads {@code 1..N}. One client at a time; the stub calls these methods from its single I/O thread.
 *
 * <p>Contract (all-stop): {@link #attach} stops every vCPU. After {@link #resume} the target runs the threads
 * the plan names; when any of them stops (step done, breakpoint, watchpoint, signal, {@link #interrupt()}), the
 * target stops <em>every</em> vCPU and only then calls {@link StopListener#onStop} exactly once, from any thread.
 * Methods other than {@code resume}, {@code interrupt}, {@code detach} and {@code kill} are only called while the
 * machine is stopped. Implementations report failure through return values; an unchecked exception becomes an
 * {@code E} reply (and {@link UnsupportedOperationException} an empty, "unsupported" reply where the protocol has
 * one), never a dropped connection.
 */
public interface GdbTarget {

    /** Register layout for this connection (AMD64 for long mode, I386 for 32-bit/PAE), read once at connect. */
    TargetArch arch();

    /** Number of vCPUs; gdb thread id {@code t} is vCPU {@code t - 1} (ids {@code 1..threadCount()}). */
    int threadCount();

    /**
     * A client connected: stop every vCPU (if not already stopped), remember {@code listener} for stop events,
     * and return why the machine is stopped now (e.g. {@link StopEvent#signal(int, int)} with SIGTRAP on vCPU 1).
     * May block the caller until every vCPU has stopped.
     */
    StopEvent attach(StopListener listener);

    /**
     * Reads register {@code regnum} (numbering of {@link #arch()}) of {@code thread}.
     *
     * @return exactly {@code arch().register(regnum).bytes()} bytes in target (little-endian) order, or
     *         {@code null} if the value is unavailable (sent as {@code xx..})
     */
    byte[] readRegister(int thread, int regnum);

    /** Writes register {@code regnum}; {@code value} has the register's size, little-endian. False = refused. */
    boolean writeRegister(int thread, int regnum, byte[] value);

    /**
     * Reads guest virtual memory as {@code thread} sees it, through a debug walk (no A/D updates, no TLB fills).
     *
     * @return the bytes read, from {@code address} up to the first unreadable page: between 0 and {@code length}
     */
    byte[] readMemory(int thread, long address, int length);

    /**
     * Writes guest memory as {@code thread} sees it.
     *
     * @return how many bytes were written before the first unwritable page
     */
    int writeMemory(int thread, long address, byte[] data);

    /**
     * Inserts a breakpoint or watchpoint held in the emulator (guest memory is never patched).
     *
     * @param kind for breakpoints gdb's kind (1 on x86); for watchpoints the length in bytes
     * @return false if it cannot be set (no resources, bad address); throw {@link UnsupportedOperationException}
     *         for a type the target does not support at all
     */
    boolean insertBreakpoint(BreakpointType type, long address, int kind);

    /** Removes what {@link #insertBreakpoint} set; false if there was nothing to remove. */
    boolean removeBreakpoint(BreakpointType type, long address, int kind);

    /** Resumes per {@code plan}; returns at once. The stop is reported through the attach listener. */
    void resume(ResumePlan plan);

    /** Asks a running machine to stop (gdb's Ctrl-C); the stop is reported with SIGINT. No-op when stopped. */
    void interrupt();

    /** Runs a {@code monitor} command and returns its output text (may be empty; should end with a newline). */
    String monitor(String command);

    /**
     * The client detached or disconnected: remove its breakpoints and watchpoints, forget the listener and let
     * every vCPU run again. Must be safe to call when already detached.
     */
    void detach();

    /**
     * The client went away without detaching while the machine is stopped: remove its breakpoints and watchpoints
     * and forget the listener, but leave every vCPU stopped (the next client finds the machine as this one left
     * it). Must be safe to call when already detached.
     */
    void release();

    /** The client asked to kill the debuggee. */
    void kill();
}
