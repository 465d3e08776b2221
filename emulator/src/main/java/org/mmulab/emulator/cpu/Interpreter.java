package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.AF;
import static org.mmulab.emulator.cpu.CpuState.CF;
import static org.mmulab.emulator.cpu.CpuState.OF;
import static org.mmulab.emulator.cpu.CpuState.PF;
import static org.mmulab.emulator.cpu.CpuState.SF;
import static org.mmulab.emulator.cpu.CpuState.ZF;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The x86-64 user-mode interpreter: fetch through the MMU, decode once per physical code frame
 * ({@link DecodedCodeCache}), dispatch on dense {@link Op} ids to small group methods.
 *
 * <p>Contracts:
 * <ul>
 * <li>{@link #run(long)} retires at most {@code budget} instructions, each incrementing
 *     {@code state.instructions}, and returns an {@link Exit} code.</li>
 * <li>Exceptions are precise: a faulting instruction commits nothing (memory writes happen before
 *     register write-back; read-modify-write translates for write first), RIP stays at it, and the
 *     vector/error code are in the state. A REP string instruction commits its completed
 *     iterations (RCX/RSI/RDI) before a fault, as hardware does.</li>
 * <li>Every guest access goes through {@link Mmu}; the decoded-code cache is keyed by the physical
 *     address of an instruction-fetch translation done at least once per page per {@code run} call.
 *     Within one {@code run} call the fetch translation of the current page is reused while RIP stays
 *     in it. That is sound under SMP because a translation of this vCPU changes only by a flush run on
 *     this vCPU's thread between two {@code run} calls: its own kernel's (after a trap, which ends
 *     {@code run}) or one another vCPU requested with an IPI, which first ends {@code run} through
 *     {@link #interrupt} (the machine's IPI mailbox runs calls only at instruction boundaries outside
 *     {@code run}). While a quantum runs, the cached frame is published to
 *     {@link Mmu#setFetchFrame} so that {@code --check} sees it ({@link Mmu#mayReach}).</li>
 * <li>Decoded code is dropped when its frame is written (by any vCPU or the kernel) and, for
 *     cross-modifying code racing with a first decode, at CPUID ({@link DecodedCodeCache#serialize}).</li>
 * <li>The hot loop allocates nothing; faults use the shared {@link GuestFault#INSTANCE}.</li>
 * </ul>
 * Undefined flag results are AMD Zen's on every host (the table is in {@link Flags}). F3 0F BD is LZCNT
 * (ABM advertised); F3 0F BC runs as BSF because BMI1 is not advertised (a host with BMI1 runs it as
 * TZCNT: same result for a non-zero source, other flags).
 *
 * <p>Hot-path layout: one {@code switch} over dense op ids split into {@code exec}/{@code exec2}/
 * {@code exec3} and one group method per instruction family, each well under the JIT's 8000-byte
 * limit; decoded fields are copied into scalar fields per instruction; no allocation except on
 * fault-description and decode paths. 32-bit protected mode plugs in at {@code Decoder.mode64}
 * (no REX, 32-bit default address size, 40-4F as INC/DEC, PUSHA/POPA) and at the stack-width and
 * address-size masks, which are already parameters of the group methods.
 */
public final class Interpreter {
    /** Compile-time switch for internal consistency checks. */
    static final boolean DEBUG = false;

    private static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    private static final Object SPLIT_LOCK = new Object();
    private static final long TSC_BASE = System.nanoTime();
    /** {@link #requestStop} takes effect within this many instructions. */
    private static final int STOP_POLL = 1024;
    private static final long M32 = 0xffff_ffffL;

    private final CpuState s;
    private final long[] r;
    private final Flags fl;
    private final Mmu mmu;
    private final PhysicalMemory mem;
    private final DecodedCodeCache cache;
    private final Decoder dec;
    private volatile boolean stop;
    /** Set by {@link #interrupt}: {@link #run} returns {@link Exit#BUDGET} at the next poll. */
    private volatile boolean interrupted;
    /** Per-instruction costs under --timing cycle; null under --timing fast (see InstructionTiming). */
    private InstructionTiming timing;

    // Mode of the current run() call (CpuState.longMode64): 32-bit protected/compatibility mode wraps
    // linear addresses, ESP and EIP at 4 GiB.
    private boolean m32;
    /** -1 in 64-bit mode, 0xffff_ffff in 32-bit mode: applied to RIP, RSP and segment-relative addresses. */
    private long addrMask = -1L;
    private int decodeMode;

    // Current instruction.
    private int op, info, memw, disp;
    private long imm;
    private long next;

    // Read-modify-write scratch.
    private long rmwPa, rmwVa;
    private boolean rmwSplit;
    /** 128-bit scratch for SseExec (no allocation per instruction). */
    final long[] scratch128 = new long[2];
    /** SSE floating-point environment (MXCSR rounding, DAZ/FTZ, exception flags) of this vCPU. */
    final SoftFloat sf = new SoftFloat();

    private String lastFault = "";
    /** lastFault describes the current fault; describing: an instruction just wrote lastFault. */
    private boolean described = true, describing;
    private int lastFaultVector = -1;
    private long lastFaultError, lastFaultRip, lastFaultCr2;

    public Interpreter(CpuState state, Mmu mmu, PhysicalMemory mem) {
        this(state, mmu, mem, DecodedCodeCache.forMemory(mem));
    }

    public Interpreter(CpuState state, Mmu mmu, PhysicalMemory mem, DecodedCodeCache cache) {
        this.s = state;
        this.r = state.gpr;
        this.fl = state.flags;
        this.mmu = mmu;
        this.mem = mem;
        this.cache = cache;
        this.dec = new Decoder(state, mmu, mem);
    }

    public DecodedCodeCache codeCache() {
        return cache;
    }

    /** Cycle-mode instruction costs (null: --timing fast); set before {@link #run}, from the vCPU's thread. */
    public void setTiming(InstructionTiming t) {
        this.timing = t;
    }

    /**
     * Asks {@link #run} to return {@link Exit#HALT} at an instruction boundary, within 1024 instructions
     * (immediately if {@code run} has not started yet); safe from any thread.
     */
    public void requestStop() {
        stop = true;
    }

    /**
     * Asks {@link #run} to return {@link Exit#BUDGET} at an instruction boundary, within 1024 instructions
     * (immediately if {@code run} has not started yet); safe from any thread. An IPI uses it so that the
     * target leaves its quantum, and with it the cached fetch translation, before running the call.
     */
    public void interrupt() {
        interrupted = true;
    }

    /**
     * Human description of the last exception {@link #run} returned, for SIGILL/SIGFPE/SIGSEGV reports:
     * e.g. "undefined opcode 0f 0b at 0x401123" (opcode bytes and address) for #UD, or
     * "#PF (error 0x6) at 0x401000, address 0x0" for faults raised by the MMU. Built lazily.
     */
    public String lastFaultDescription() {
        if (!described && lastFaultVector >= 0) {
            StringBuilder sb = new StringBuilder(Vectors.name(lastFaultVector));
            sb.append(" (error 0x").append(Long.toHexString(lastFaultError)).append(") at 0x")
                    .append(Long.toHexString(lastFaultRip));
            if (lastFaultVector == Vectors.PF) {
                sb.append(", address 0x").append(Long.toHexString(lastFaultCr2));
            }
            lastFault = sb.toString();
            described = true;
        }
        return lastFault;
    }

    /**
     * Executes up to {@code budget} instructions; returns an {@link Exit} code.
     *
     * <p>Hot-loop layout (why it looks like this): the current instruction's decoded fields, RIP, the
     * retired count and the page's arrays live in locals, so straight-line code touches the heap only for
     * guest registers, lazy flags and guest memory. The commonest register forms and branches ({@link
     * FastOps}) run inline in {@link #run}'s switch, the commonest memory forms in {@link #fastMem} (one
     * call, kept out of this method); everything else goes through {@link #exec} with the fields set.
     * {@code state.instructions} is brought up to date whenever {@code run} returns or throws (nobody
     * reads it while {@code run} is executing: tracing, debugging and the kernel all run between calls).
     * {@link #requestStop} is polled once per {@link #STOP_POLL} instructions: stop requests come from
     * other threads (machine shutdown) or from trap handlers between calls, never from inside an
     * instruction, and the debugger bounds its budgets itself.
     */
    public int run(long budget) {
        if (stop) {
            stop = false;
            return Exit.HALT;
        }
        m32 = !s.longMode64;
        addrMask = m32 ? 0xffff_ffffL : -1L;
        decodeMode = m32 ? DecodedCodeCache.MODE32 : DecodedCodeCache.MODE64;
        dec.mode64 = !m32;
        final long[] r = this.r;
        final Flags fl = this.fl;
        final CpuState s = this.s;
        final long amask = addrMask;
        final InstructionTiming timing = this.timing;
        long n = 0; // retired in this call, not yet added to s.instructions
        long rip = s.rip;
        DecodedPage p = null;
        // The current fetch page: translated afresh on every call (the kernel may have changed
        // translations since the last one), then reused while RIP stays in it.
        long vpage = 1; // never a page address
        // The page's arrays, re-read from p after each slot lookup (they may have grown since).
        int[] fasts = null, ops = null, infos = null, mems = null, disps = null;
        long[] imms = null;
        // Slot of the instruction at rip in p when known without a lookup (straight-line successor), else -1.
        int slot = -1;
        try {
            while (n < budget) {
                if (stop) {
                    stop = false;
                    s.rip = rip;
                    s.instructions += n;
                    return Exit.HALT;
                }
                if (interrupted) {
                    interrupted = false;
                    s.rip = rip;
                    s.instructions += n;
                    return Exit.BUDGET;
                }
                final long end = Math.min(budget, n + STOP_POLL);
                while (n < end) {
                    // s.rip is the current instruction's address while it executes (faults, RIP-relative).
                    s.rip = rip;
                    if (slot < 0 || !p.valid) {
                        if ((rip & ~0xfffL) != vpage || p == null || !p.valid) {
                            p = enterPage(rip);
                            vpage = rip & ~0xfffL;
                        }
                        int off = (int) rip & 0xfff;
                        slot = (short) DecodedPage.SLOT.getAcquire(p.slotOf, off) - 1;
                        if (slot < 0) {
                            slot = decodeAt(p, rip, off); // -1: decoded into the fields but not cached
                        }
                        fasts = p.fast;
                        ops = p.op;
                        infos = p.info;
                        mems = p.mem;
                        disps = p.disp;
                        imms = p.imm;
                    }
                    // The fast word: a FastOps id with pre-extracted operands (0 = generic), the length,
                    // and the FALL link. Acquire: FALL is set (release) after the successor slot is complete.
                    final int fw = slot >= 0 ? (int) DecodedPage.FAST.getAcquire(fasts, slot)
                            : (info & Decoder.LEN_MASK) << FastOps.LEN_SHIFT;
                    if (DEBUG && slot >= 0) {
                        verifyCached(p, rip, (int) rip & 0xfff, slot);
                    }
                    final long fall = rip + ((fw >>> FastOps.LEN_SHIFT) & 15);
                    long nxt = fall;
                    int x = Exit.BUDGET;
                    // Cycle timing: the instruction's base cost by class (null under --timing fast).
                    if (timing != null) {
                        timing.issue(slot >= 0 ? ops[slot] : op, slot >= 0 ? infos[slot] : info, s.instructions + n);
                    }
                    switch (fw & FastOps.ID_MASK) {
                        case FastOps.ADD: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a + b;
                            fl.lazy(Flags.ADD, bits(fw), a, b, res);
                            r[d] = res & m;
                            break;
                        }
                        case FastOps.OR: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a | b;
                            fl.lazy(Flags.LOGIC, bits(fw), a, b, res);
                            r[d] = res & m;
                            break;
                        }
                        case FastOps.AND: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a & b;
                            fl.lazy(Flags.LOGIC, bits(fw), a, b, res);
                            r[d] = res & m;
                            break;
                        }
                        case FastOps.SUB: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a - b;
                            fl.lazy(Flags.SUB, bits(fw), a, b, res);
                            r[d] = res & m;
                            break;
                        }
                        case FastOps.XOR: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a ^ b;
                            fl.lazy(Flags.LOGIC, bits(fw), a, b, res);
                            r[d] = res & m;
                            break;
                        }
                        case FastOps.CMP: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a - b;
                            fl.lazy(Flags.SUB, bits(fw), a, b, res);
                            break;
                        }
                        case FastOps.TEST: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final long a = r[d] & m, b = source(fw, slot, imms) & m, res = a & b;
                            fl.lazy(Flags.LOGIC, bits(fw), a, b, res);
                            break;
                        }
                        case FastOps.MOV:
                            r[(fw >>> FastOps.A_SHIFT) & 31] = source(fw, slot, imms) & sizeMask(fw);
                            break;
                        case FastOps.LEA:
                            r[(fw >>> FastOps.A_SHIFT) & 31] = fastEa(fw, mems[slot], disps[slot], fall) & sizeMask(fw);
                            break;
                        case FastOps.JCC:
                            if (fl.cond((fw >>> FastOps.B_SHIFT) & 31)) { // small: inlined, see Flags.cond
                                nxt = fall + imms[slot];
                            }
                            break;
                        case FastOps.JMP:
                            nxt = fall + imms[slot];
                            break;
                        case FastOps.INC:
                        case FastOps.DEC: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final boolean inc = (fw & FastOps.ID_MASK) == FastOps.INC;
                            final long a = r[d] & m, res = inc ? a + 1 : a - 1;
                            fl.lazy(inc ? Flags.INC : Flags.DEC, bits(fw), a, 1, res, fl.cf());
                            r[d] = res & m;
                            break;
                        }
                        case FastOps.SHL:
                        case FastOps.SHR:
                        case FastOps.SAR: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final int bits = bits(fw);
                            final int c = (int) imms[slot] & (bits - 1); // non-zero (FastOps.classify)
                            final long a = r[d] & m;
                            final int id = fw & FastOps.ID_MASK;
                            final long res;
                            if (id == FastOps.SHL) {
                                res = (a << c) & m;
                                fl.lazy(Flags.SHL, bits, a, c, res);
                            } else if (id == FastOps.SHR) {
                                res = a >>> c;
                                fl.lazy(Flags.SHR, bits, a, c, res);
                            } else {
                                res = (((a << (64 - bits)) >> (64 - bits)) >> c) & m;
                                fl.lazy(Flags.SAR, bits, a, c, res);
                            }
                            r[d] = res;
                            break;
                        }
                        case FastOps.ROL:
                        case FastOps.ROR: {
                            // Flags: only CF and OF change (shift(): the rest are preserved).
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final long m = sizeMask(fw);
                            final int bits = bits(fw);
                            final int c = (int) imms[slot] & (bits - 1); // non-zero (FastOps.classify)
                            final long a = r[d] & m;
                            final long res;
                            final boolean cf, of;
                            if ((fw & FastOps.ID_MASK) == FastOps.ROL) {
                                res = ((a << c) | (a >>> (bits - c))) & m;
                                cf = (res & 1) != 0;
                                of = (((res >>> (bits - 1)) & 1) != 0) != cf;
                            } else {
                                res = ((a >>> c) | (a << (bits - c))) & m;
                                cf = ((res >>> (bits - 1)) & 1) != 0;
                                of = cf != (((res >>> (bits - 2)) & 1) != 0);
                            }
                            fl.setCfOf(cf, of);
                            r[d] = res;
                            break;
                        }
                        case FastOps.IMUL: {
                            // Flags: CF = OF = overflow, SF/ZF/AF/PF preserved (mulFlags).
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            final int sh = 64 - bits(fw);
                            final long f1 = (r[(fw >>> FastOps.B_SHIFT) & 31] << sh) >> sh;
                            final long f2 = (((fw & FastOps.IMM) != 0 ? imms[slot] : r[d]) << sh) >> sh;
                            final long lo = f1 * f2;
                            final boolean ovf = sh == 0 ? Math.multiplyHigh(f1, f2) != (lo >> 63) : lo != (int) lo;
                            r[d] = lo & sizeMask(fw);
                            fl.setCfOf(ovf, ovf);
                            break;
                        }
                        case FastOps.MOVX: {
                            final int sh = 64 - (8 << ((fw >>> FastOps.X_SHIFT) & 3)); // source width 8, 16 or 32
                            final long v = r[(fw >>> FastOps.B_SHIFT) & 31] << sh;
                            r[(fw >>> FastOps.A_SHIFT) & 31] = ((fw & FastOps.X_SIGN) != 0 ? v >> sh : v >>> sh) & sizeMask(fw);
                            break;
                        }
                        case FastOps.SETCC: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            r[d] = (r[d] & ~0xffL) | (fl.cond((fw >>> FastOps.B_SHIFT) & 31) ? 1 : 0);
                            break;
                        }
                        case FastOps.CMOVCC: {
                            final int d = (fw >>> FastOps.A_SHIFT) & 31;
                            // A 32-bit CMOV always writes (zero-extends) its destination.
                            r[d] = (fl.cond((fw >>> FastOps.X_SHIFT) & 15) ? r[(fw >>> FastOps.B_SHIFT) & 31] : r[d]) & sizeMask(fw);
                            break;
                        }
                        case FastOps.NOP:
                            break;
                        case FastOps.LOAD:
                        case FastOps.LOADX:
                        case FastOps.STORE:
                        case FastOps.ALUM:
                        case FastOps.PUSH:
                        case FastOps.POP:
                        case FastOps.CALL:
                        case FastOps.RET:
                            nxt = fastMem(fw, mems[slot], disps[slot], imms[slot], fall); // out of line
                            break;
                        default:
                            nxt = slow(slot, ops, infos, mems, disps, imms, fall);
                            x = exitCode;
                            break;
                    }
                    rip = nxt & amask;
                    n++;
                    if (x != Exit.BUDGET) {
                        s.rip = rip;
                        s.instructions += n;
                        // A far transfer changed CS.L: run() must be re-entered to decode in the new mode.
                        return x == MODE_SWITCH ? Exit.BUDGET : x;
                    }
                    slot = rip == fall && (fw & DecodedPage.FALL) != 0 ? slot + 1 : -1; // FALL implies slot >= 0
                }
            }
            s.rip = rip;
            s.instructions += n;
            return Exit.BUDGET;
        } catch (GuestFault f) {
            // s.rip is the faulting instruction (INT3, a trap, already moved it past and counted itself).
            s.instructions += n;
            s.exceptionRip = s.rip;
            if (describing) {
                describing = false;
                described = true;
            } else {
                described = false; // described lazily by lastFaultDescription()
            }
            lastFaultVector = s.exceptionVector;
            lastFaultError = s.exceptionErrorCode;
            lastFaultRip = s.rip;
            lastFaultCr2 = s.cr2;
            return Exit.EXCEPTION;
        } finally {
            if (vpage != 1) {
                mmu.setFetchFrame(-1); // the cached fetch page ends with the quantum
            }
        }
    }

    /**
     * Whether instructions this interpreter decodes get {@link FastOps} forms; tests clear it to run the
     * same code through the group methods only (decoded pages are shared per memory: use separate memories).
     */
    boolean fastForms = true;

    /** Exit code of the instruction {@link #slow} just ran (BUDGET for most). */
    private int exitCode;

    /**
     * Runs the current instruction through the group methods: sets the decoded fields they read (from
     * the page's slot, or already set by the decoder when {@code slot} is -1) and returns the next RIP;
     * the exit code is left in {@link #exitCode}.
     */
    private long slow(int slot, int[] ops, int[] infos, int[] mems, int[] disps, long[] imms, long fall) {
        if (slot >= 0) {
            op = ops[slot];
            info = infos[slot];
            memw = mems[slot];
            disp = disps[slot];
            imm = imms[slot];
        }
        next = fall;
        exitCode = exec();
        return next;
    }

    /**
     * The memory forms of {@link FastOps} (loads, stores, ALU with a memory operand, PUSH/POP, CALL/RET):
     * one method the run loop calls and the JIT compiles on its own (too large to inline), so the MMU's
     * access paths are not inlined at each case of {@link #run} (see the FastOps class comment), yet the
     * operands come from the fast word instead of the group methods' decoding of the info word. No
     * segment override, LOCK or REP reaches here ({@link FastOps#classify}); semantics are the group
     * methods' ({@link #movEG}, {@link #aluMem}, {@link #push}, {@link #popR}, {@link #call}, {@link #ret}).
     * Returns the next RIP.
     */
    private long fastMem(int fw, int m, int dsp, long immv, long fall) {
        final int sz = (fw >>> FastOps.SIZE_SHIFT) & 3;
        final int a = (fw >>> FastOps.A_SHIFT) & 31;
        switch (fw & FastOps.ID_MASK) {
            case FastOps.LOAD:
                r[a] = rd(fastEa(fw, m, dsp, fall), sz);
                return fall;
            case FastOps.LOADX: {
                final int w = (fw >>> FastOps.X_SHIFT) & 3;
                final long v = rd(fastEa(fw, m, dsp, fall), w);
                r[a] = ((fw & FastOps.X_SIGN) != 0 ? sext(v, w) : v) & sizeMask(fw);
                return fall;
            }
            case FastOps.STORE:
                wr(fastEa(fw, m, dsp, fall), sz, (fw & FastOps.IMM) != 0 ? immv : r[a]);
                return fall;
            case FastOps.ALUM: {
                final int kind = (fw >>> FastOps.X_SHIFT) & 15;
                final long va = fastEa(fw, m, dsp, fall);
                if ((fw & FastOps.TO_REG) != 0) { // ALU r, m
                    final long res = alu(kind, sz, r[a], rd(va, sz));
                    if (kind != 7 && kind != 8) {
                        r[a] = res; // alu() masks to the operand size: a 32-bit result is zero-extended
                    }
                    return fall;
                }
                final long src = (fw & FastOps.IMM) != 0 ? immv : r[a];
                if (kind == 7 || kind == 8) { // CMP/TEST m, r/imm: a plain read
                    alu(kind, sz, rd(va, sz), src);
                    return fall;
                }
                rmwWrite(sz, alu(kind, sz, rmwRead(va, sz), src));
                return fall;
            }
            case FastOps.PUSH: {
                final long v = r[a];
                final long sp = (r[RSP] - (1L << sz)) & addrMask;
                wr(sp, sz, v);
                r[RSP] = sp;
                return fall;
            }
            case FastOps.POP: {
                final long sp = r[RSP] & addrMask;
                final long v = rd(sp, sz);
                r[RSP] = (sp + (1L << sz)) & addrMask;
                r[a] = v; // after the RSP update: POP %rsp loads the popped value
                return fall;
            }
            case FastOps.CALL: {
                final int ssz = m32 ? sz : 3;
                final long sp = (r[RSP] - (1L << ssz)) & addrMask;
                wr(sp, ssz, fall);
                r[RSP] = sp;
                return fall + immv;
            }
            default: { // RET
                final long sp = r[RSP] & addrMask;
                final long target = rd(sp, sz);
                r[RSP] = (sp + (1L << sz)) & addrMask;
                return target;
            }
        }
    }

    /**
     * Effective address of a fast-path memory operand (no segment override): base (or RIP-relative:
     * {@code fall} is the next instruction's address) + index * scale + displacement, as {@link #eaNoSeg}.
     */
    private long fastEa(int fw, int m, int dsp, long fall) {
        long a = dsp;
        int base = m & 31;
        if (base < 16) {
            a += r[base];
        } else if (base == Decoder.RIPREL) {
            a += fall;
        }
        int idx = (m >>> 5) & 31;
        if (idx < 16) {
            a += r[idx] << ((m >>> 10) & 3);
        }
        return (fw & FastOps.A32) != 0 ? a & M32 : a;
    }

    /** Operand-size mask of a fast word: 32 bits (size 2) or 64 (size 3), without a branch. */
    private static long sizeMask(int fw) {
        return -1L >>> ((3 - ((fw >>> FastOps.SIZE_SHIFT) & 3)) << 5);
    }

    /** Operand width in bits of a fast word (32 or 64). */
    private static int bits(int fw) {
        return 8 << ((fw >>> FastOps.SIZE_SHIFT) & 3);
    }

    /** Source operand of a fast ALU/MOV form: the immediate or register B. */
    private long source(int fw, int slot, long[] imms) {
        return (fw & FastOps.IMM) != 0 ? imms[slot] : r[(fw >>> FastOps.B_SHIFT) & 31];
    }

    private DecodedPage enterPage(long rip) {
        long pa = mmu.translateFetch(rip);
        mmu.setFetchFrame(pa);
        DecodedPage p = cache.page(pa >>> 12, decodeMode);
        if (p == null) {
            p = new DecodedPage(pa >>> 12, 1); // fetch from outside RAM: decode, never cache
            p.valid = false;
        }
        return p;
    }

    /** DEBUG only: a cached entry must equal a fresh decode of the bytes now in memory. */
    private void verifyCached(DecodedPage p, long rip, int off, int slot) {
        dec.decode(rip, p.pfn << 12, off);
        if (!dec.crossed && (dec.dOp != p.op[slot] || dec.dInfo != p.info[slot]
                || dec.dMem != p.mem[slot] || dec.dDisp != p.disp[slot] || dec.dImm != p.imm[slot])) {
            throw new IllegalStateException("stale decoded instruction at 0x" + Long.toHexString(rip));
        }
    }

    /**
     * Decodes the instruction at {@code rip} into the fields and caches it in {@code p}; returns its slot,
     * or -1 when it is not cached (it crosses the frame end, or {@code p} is not cacheable).
     */
    private int decodeAt(DecodedPage p, long rip, int off) {
        dec.decode(rip, p.pfn << 12, off);
        op = dec.dOp;
        info = dec.dInfo;
        memw = dec.dMem;
        disp = dec.dDisp;
        imm = dec.dImm;
        if (dec.crossed || !p.valid) {
            return -1;
        }
        // Pages are shared by every vCPU on this memory: insert under the page lock and publish the slot
        // with a release store after its fields, so a concurrent reader sees a complete entry.
        synchronized (p) {
            int existing = p.slotOf[off];
            if (existing != 0) {
                return existing - 1; // another vCPU decoded it meanwhile (same bytes: same entry)
            }
            int slot = p.newSlot();
            p.op[slot] = op;
            p.info[slot] = info;
            p.mem[slot] = memw;
            p.disp[slot] = disp;
            p.imm[slot] = imm;
            p.fast[slot] = (fastForms ? FastOps.classify(op, info, imm) : FastOps.GENERIC)
                    | (info & Decoder.LEN_MASK) << FastOps.LEN_SHIFT;
            p.offOf[slot] = (short) off;
            DecodedPage.SLOT.setRelease(p.slotOf, off, (short) (slot + 1));
            // Link the previous slot to this one when this instruction directly follows it. The FALL bit
            // is published (release) after this slot, so a reader that sees it sees the complete
            // successor. Instructions are decoded in execution order, so straight-line code gets
            // consecutive slots.
            if (slot > 0) {
                int prev = slot - 1;
                if (p.offOf[prev] + (p.info[prev] & Decoder.LEN_MASK) == off) {
                    DecodedPage.FAST.setRelease(p.fast, prev, p.fast[prev] | DecodedPage.FALL);
                }
            }
            return slot;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Field accessors of the current instruction.

    private int size() {
        return (info >>> Decoder.SIZE_SHIFT) & 3;
    }

    private int reg() {
        return (info >>> Decoder.REG_SHIFT) & 31;
    }

    private int rm() {
        return (info >>> Decoder.RM_SHIFT) & 31;
    }

    private int sub() {
        return (info >>> Decoder.SUB_SHIFT) & 0xff;
    }

    private boolean hasMem() {
        return (info & Decoder.HASMEM) != 0;
    }

    private boolean locked() {
        return (info & Decoder.LOCK) != 0;
    }

    private int rep() {
        return (info >>> Decoder.REP_SHIFT) & 3;
    }

    private static long mask(int sz) {
        return sz == 3 ? -1L : (1L << (8 << sz)) - 1;
    }

    private static long sext(long v, int sz) {
        int sh = 64 - (8 << sz);
        return (v << sh) >> sh;
    }

    // ------------------------------------------------------------------------------------------
    // Registers and memory.

    // getR/setR: the 32/64-bit cases are small enough for the JIT to inline everywhere; 8/16-bit
    // registers take the out-of-line path.
    private long getR(int reg, int sz) {
        if (sz >= 2) {
            long v = r[reg];
            return sz == 3 ? v : v & 0xffff_ffffL;
        }
        return getRNarrow(reg, sz);
    }

    private long getRNarrow(int reg, int sz) {
        if (sz == 1) {
            return r[reg] & 0xffff;
        }
        return reg < 16 ? r[reg] & 0xff : (r[reg - 16] >>> 8) & 0xff;
    }

    private void setR(int reg, int sz, long v) {
        if (sz >= 2) {
            r[reg] = sz == 3 ? v : v & 0xffff_ffffL;
            return;
        }
        setRNarrow(reg, sz, v);
    }

    private void setRNarrow(int reg, int sz, long v) {
        switch (sz) {
            case 1:
                r[reg] = (r[reg] & ~0xffffL) | (v & 0xffff);
                return;
            default:
                if (reg < 16) {
                    r[reg] = (r[reg] & ~0xffL) | (v & 0xff);
                } else {
                    r[reg - 16] = (r[reg - 16] & ~0xff00L) | ((v & 0xff) << 8);
                }
        }
    }

    private long eaNoSeg() {
        int m = memw;
        int base = m & 31;
        int idx = (m >>> 5) & 31;
        long a = disp;
        if (base < 16) {
            a += r[base];
        } else if (base == Decoder.RIPREL) {
            a += s.rip + (info & Decoder.LEN_MASK);
        }
        if (idx < 16) {
            a += r[idx] << ((m >>> 10) & 3);
        }
        if ((info & Decoder.ASZ32) != 0) {
            a &= 0xffff_ffffL;
        }
        return a;
    }

    private long segBase() {
        int seg = (info >>> Decoder.SEG_SHIFT) & 3;
        if (seg != 0 && m32) {
            checkSeg32(seg, 0);
        }
        return seg == 0 ? 0 : seg == 1 ? s.fsBase : s.gsBase;
    }

    /**
     * Linear address of offset {@code a} in the instruction's data segment (FS/GS base or 0). In 32-bit
     * code FS/GS must hold a usable selector and the offset must be within the hidden limit (#GP(0)).
     */
    private long linear(long a) {
        int seg = (info >>> Decoder.SEG_SHIFT) & 3;
        if (seg != 0) {
            if (m32) {
                checkSeg32(seg, a);
            }
            // 32-bit mode: flat segments except FS/GS (i386 TLS lives at %gs:), wrapping at 4 GiB.
            a = (a + (seg == 1 ? s.fsBase : s.gsBase)) & addrMask;
        }
        return a;
    }

    private void checkSeg32(int seg, long offset) {
        if (!s.segs.usable32(seg, offset)) {
            lastFault = String.format("%%%s:0x%x with selector 0x%x (null or beyond the limit) at 0x%x",
                    seg == 1 ? "fs" : "gs", offset, s.segs.sel[seg == 1 ? Segments.FS : Segments.GS], s.rip);
            describing = true;
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
    }

    private long ea() {
        return linear(eaNoSeg());
    }

    private long rd(long va, int sz) {
        switch (sz) {
            case 3:
                return mmu.read64(va);
            case 2:
                return mmu.read32(va) & 0xffff_ffffL;
            case 1:
                return mmu.read16(va);
            default:
                return mmu.read8(va);
        }
    }

    private void wr(long va, int sz, long v) {
        switch (sz) {
            case 3:
                mmu.write64(va, v);
                return;
            case 2:
                mmu.write32(va, (int) v);
                return;
            case 1:
                mmu.write16(va, (int) v);
                return;
            default:
                mmu.write8(va, (int) v);
        }
    }

    private long physRd(long pa, int sz) {
        switch (sz) {
            case 3:
                return mem.read64(pa);
            case 2:
                return mem.read32(pa) & 0xffff_ffffL;
            case 1:
                return mem.read16(pa);
            default:
                return mem.read8(pa);
        }
    }

    private void physWr(long pa, int sz, long v) {
        switch (sz) {
            case 3:
                mem.write64(pa, v);
                return;
            case 2:
                mem.write32(pa, (int) v);
                return;
            case 1:
                mem.write16(pa, (int) v);
                return;
            default:
                mem.write8(pa, (int) v);
        }
    }

    /** Reads the E operand (register or memory). */
    private long readE(int sz) {
        return hasMem() ? rd(ea(), sz) : getR(rm(), sz);
    }

    /** Begins a read-modify-write of memory at {@code va}: checks write access first, then reads. */
    private long rmwRead(long va, int sz) {
        int n = 1 << sz;
        if ((va & 0xfff) + n > 0x1000) {
            mmu.translateWrite(va);
            mmu.translateWrite((va | 0xfff) + 1); // CR2 = first byte on the second page, as Mmu.writeSplit
            rmwSplit = true;
            rmwVa = va;
            return rd(va, sz);
        }
        rmwSplit = false;
        rmwPa = mmu.translateWrite(va);
        return physRd(rmwPa, sz);
    }

    private void rmwWrite(int sz, long v) {
        if (rmwSplit) {
            wr(rmwVa, sz, v);
        } else {
            physWr(rmwPa, sz, v);
        }
    }

    /**
     * Atomic compare-and-exchange of {@code sz} bytes at physical {@code pa} (naturally aligned 32/64-bit
     * words directly, bytes and words through their containing aligned dword). Returns false if memory
     * no longer held {@code expect}.
     */
    private boolean cas(long pa, int sz, long expect, long update) {
        if (sz == 3) {
            return mem.compareAndExchange64(pa, expect, update) == expect;
        }
        if (sz == 2) {
            return mem.compareAndExchange32(pa, (int) expect, (int) update) == (int) expect;
        }
        long word = pa & ~3L;
        int sh = (int) (pa & 3) * 8;
        int m = (int) mask(sz);
        for (;;) {
            int w = mem.read32Acquire(word);
            if (((w >>> sh) & m) != (int) expect) {
                return false;
            }
            int nw = (w & ~(m << sh)) | (((int) update & m) << sh);
            if (mem.compareAndExchange32(word, w, nw) == w) {
                return true;
            }
        }
    }

    /** Whether a locked access of {@code sz} bytes at {@code va} can use {@link #cas}. */
    private static boolean casAble(long va, int sz) {
        int n = 1 << sz;
        if (sz >= 2) {
            return (va & (n - 1)) == 0;
        }
        return (va & 3) + n <= 4;
    }

    // ------------------------------------------------------------------------------------------
    // Dispatch.

    private int exec() {
        switch (op) {
            case Op.NOP:
                return Exit.BUDGET;
            case Op.ALU_EG:
                aluEG();
                return Exit.BUDGET;
            case Op.ALU_GE:
                aluGE();
                return Exit.BUDGET;
            case Op.ALU_EI:
                aluEI();
                return Exit.BUDGET;
            case Op.MOV_EG:
            case Op.MOVNTI:
                movEG();
                return Exit.BUDGET;
            case Op.MOV_GE:
                setR(reg(), size(), readE(size()));
                return Exit.BUDGET;
            case Op.MOV_EI:
                movEI();
                return Exit.BUDGET;
            case Op.MOV_RI:
                setR(rm(), size(), imm);
                return Exit.BUDGET;
            case Op.JCC:
                if (fl.cond(sub())) {
                    next += imm;
                }
                return Exit.BUDGET;
            case Op.JMP:
                next += imm;
                return Exit.BUDGET;
            case Op.CALL:
                call(next + imm);
                return Exit.BUDGET;
            case Op.RET:
                ret(0);
                return Exit.BUDGET;
            case Op.LEA:
                setR(reg(), size(), eaNoSeg());
                return Exit.BUDGET;
            case Op.PUSH_R:
                push(getR(rm(), size()));
                return Exit.BUDGET;
            case Op.POP_R:
                popR();
                return Exit.BUDGET;
            case Op.MOVZX_B:
                setR(reg(), size(), readE(0));
                return Exit.BUDGET;
            case Op.MOVZX_W:
                setR(reg(), size(), readE(1));
                return Exit.BUDGET;
            case Op.MOVSX_B:
                setR(reg(), size(), sext(readE(0), 0));
                return Exit.BUDGET;
            case Op.MOVSX_W:
                setR(reg(), size(), sext(readE(1), 1));
                return Exit.BUDGET;
            case Op.MOVSXD:
                setR(reg(), size(), size() == 3 ? sext(readE(2), 2) : readE(size()));
                return Exit.BUDGET;
            case Op.CMOVCC:
                cmov();
                return Exit.BUDGET;
            case Op.SETCC:
                setcc();
                return Exit.BUDGET;
            default:
                return exec2();
        }
    }

    private int exec2() {
        switch (op) {
            case Op.PUSH_I:
                push(imm);
                return Exit.BUDGET;
            case Op.PUSH_E:
                push(readE(size()));
                return Exit.BUDGET;
            case Op.POP_E:
                popE();
                return Exit.BUDGET;
            case Op.XCHG_EG:
                xchg();
                return Exit.BUDGET;
            case Op.UNARY:
                unary();
                return Exit.BUDGET;
            case Op.MULDIV:
                muldiv();
                return Exit.BUDGET;
            case Op.IMUL_GE:
                imul2(readE(size()), getR(reg(), size()));
                return Exit.BUDGET;
            case Op.IMUL_GEI:
                imul2(readE(size()), imm);
                return Exit.BUDGET;
            case Op.SHIFT_I:
                shift((int) imm);
                return Exit.BUDGET;
            case Op.SHIFT_CL:
                shift((int) r[RCX]);
                return Exit.BUDGET;
            case Op.SHLD_I:
            case Op.SHLD_CL:
            case Op.SHRD_I:
            case Op.SHRD_CL:
                shiftDouble();
                return Exit.BUDGET;
            case Op.BT_G:
            case Op.BT_I:
                bt();
                return Exit.BUDGET;
            case Op.BSF:
            case Op.BSR:
            case Op.POPCNT:
                bitScan();
                return Exit.BUDGET;
            case Op.BSWAP:
                bswap();
                return Exit.BUDGET;
            case Op.CBW:
                cbw();
                return Exit.BUDGET;
            case Op.CWD:
                cwd();
                return Exit.BUDGET;
            case Op.JMP_E:
                next = readE(size());
                return Exit.BUDGET;
            case Op.CALL_E:
                call(readE(size()));
                return Exit.BUDGET;
            case Op.RET_I:
                ret(imm);
                return Exit.BUDGET;
            case Op.RETF:
                return retf(imm);
            case Op.JRCXZ:
                if (((info & Decoder.ASZ32) != 0 ? r[RCX] & 0xffff_ffffL : r[RCX]) == 0) {
                    next += imm;
                }
                return Exit.BUDGET;
            case Op.LOOP:
                loop();
                return Exit.BUDGET;
            case Op.MOVS:
            case Op.STOS:
            case Op.LODS:
            case Op.CMPS:
            case Op.SCAS:
                strings();
                return Exit.BUDGET;
            case Op.MOV_AO:
                setR(RAX, size(), rd(linear(imm), size()));
                return Exit.BUDGET;
            case Op.MOV_OA:
                wr(linear(imm), size(), getR(RAX, size()));
                return Exit.BUDGET;
            case Op.CMPXCHG:
                cmpxchg();
                return Exit.BUDGET;
            case Op.XADD:
                xadd();
                return Exit.BUDGET;
            case Op.SSE:
                SseExec.exec(this);
                return Exit.BUDGET;
            case Op.X87:
                X87Exec.exec(this);
                return Exit.BUDGET;
            case Op.SSEX:
                SseX.exec(this);
                return Exit.BUDGET;
            default:
                return exec3();
        }
    }

    private int exec3() {
        switch (op) {
            case Op.CLD:
                fl.setDf(false);
                return Exit.BUDGET;
            case Op.STD:
                fl.setDf(true);
                return Exit.BUDGET;
            case Op.CLC:
                fl.setBits(CF, 0);
                return Exit.BUDGET;
            case Op.STC:
                fl.setBits(CF, CF);
                return Exit.BUDGET;
            case Op.CMC:
                fl.setBits(CF, fl.cf() ? 0 : CF);
                return Exit.BUDGET;
            case Op.LEAVE:
                leave();
                return Exit.BUDGET;
            case Op.ENTER:
                enter();
                return Exit.BUDGET;
            case Op.PUSHF:
                push(s.getRflags() & ~0x30000L);
                return Exit.BUDGET;
            case Op.POPF:
                popf();
                return Exit.BUDGET;
            case Op.SAHF: {
                long ah = (r[RAX] >>> 8) & 0xff;
                fl.setBits(SF | ZF | AF | PF | CF, ah);
                return Exit.BUDGET;
            }
            case Op.LAHF:
                setR(16, 0, (s.getRflags() & 0xd5) | 2);
                return Exit.BUDGET;
            case Op.XLAT:
                setR(RAX, 0, rd(linear((info & Decoder.ASZ32) != 0 ? (r[RBX] + (r[RAX] & 0xff)) & 0xffff_ffffL
                        : r[RBX] + (r[RAX] & 0xff)), 0));
                return Exit.BUDGET;
            case Op.CPUID:
                // Serializing (SDM Vol. 3A §8.3): after it, code another vCPU modified is run as modified.
                cache.serialize();
                Cpuid.execute(s, mmu.model(), r);
                return Exit.BUDGET;
            case Op.FENCE:
                PhysicalMemory.fence();
                return Exit.BUDGET;
            case Op.RDTSC: {
                long tsc = Cpuid.tsc(s, TSC_BASE);
                r[RAX] = tsc & 0xffff_ffffL;
                r[RDX] = tsc >>> 32;
                return Exit.BUDGET;
            }
            case Op.SYSCALL:
                r[RCX] = next;
                r[11] = s.getRflags();
                return Exit.SYSCALL;
            case Op.INT3:
                s.rip = next; // a trap: RIP past INT3
                s.instructions++;
                throw GuestFault.raise(s, Vectors.BP, 0);
            case Op.INT_N:
                if (imm == 0x80) {
                    return Exit.INT80;
                }
                lastFault = String.format("int 0x%x at 0x%x: no user-accessible gate", imm, s.rip);
                describing = true;
                throw GuestFault.raise(s, Vectors.GP, imm * 8 + 2);
            case Op.PRIV:
                lastFault = String.format("privileged instruction %s at 0x%x", bytesAt(s.rip, info & 15), s.rip);
                describing = true;
                throw GuestFault.raise(s, Vectors.GP, 0);
            case Op.CMPXCHG8B:
                cmpxchg8b();
                return Exit.BUDGET;
            case Op.SEG:
                segOp();
                return Exit.BUDGET;
            case Op.XSTATE:
                XState.execute(this, (info >>> Decoder.SUB_SHIFT) & 0xff);
                return Exit.BUDGET;
            case Op.PUSHA:
                pusha();
                return Exit.BUDGET;
            case Op.POPA:
                popa();
                return Exit.BUDGET;
            case Op.UD:
            default:
                throw undefined();
        }
    }

    /**
     * MOV r/m16,Sreg (sub 0), MOV Sreg,r/m16 (1), PUSH Sreg (2), POP Sreg (3); the segment register is
     * the reg field. A register destination of MOV from Sreg is zero-extended to the operand size; a
     * memory one is a 16-bit store. PUSH writes the selector with a 16-bit move into an operand-size
     * slot (recent Intel cores; the slot's upper bytes keep their value). Loads follow {@link Segments#load}.
     */
    private void segOp() {
        int sub = (info >>> Decoder.SUB_SHIFT) & 0xff;
        int sreg = (info >>> Decoder.REG_SHIFT) & 7;
        int sz = size();
        switch (sub) {
            case 0 -> {
                int v = s.segs.sel[sreg];
                if ((info & Decoder.HASMEM) != 0) {
                    wr(ea(), 1, v);
                } else {
                    setR((info >>> Decoder.RM_SHIFT) & 31, sz, v);
                }
            }
            case 1 -> loadSeg(sreg, (int) ((info & Decoder.HASMEM) != 0 ? rd(ea(), 1)
                    : getR((info >>> Decoder.RM_SHIFT) & 31, 1)));
            case 2 -> {
                long sp = (r[RSP] - (1L << sz)) & addrMask;
                wr(sp, 1, s.segs.sel[sreg]);
                r[RSP] = sp;
            }
            default -> {
                long sp = r[RSP] & addrMask;
                int v = (int) rd(sp, sz);
                loadSeg(sreg, v);
                r[RSP] = (sp + (1L << sz)) & addrMask;
            }
        }
    }

    private void loadSeg(int sreg, int selector) {
        String why = s.segs.load(s, sreg, selector);
        if (why != null) {
            lastFault = why + " at 0x" + Long.toHexString(s.rip);
            describing = true;
            throw GuestFault.INSTANCE;
        }
    }

    private GuestFault undefined() {
        long at = s.rip;
        int n = info & Decoder.LEN_MASK;
        lastFault = "undefined opcode " + bytesAt(at, n == 0 ? 1 : n) + " at 0x" + Long.toHexString(at);
        describing = true;
        return GuestFault.raise(s, Vectors.UD, 0);
    }

    /** Instruction bytes as hex for messages; slow path, never faults. */
    private String bytesAt(long va, int n) {
        StringBuilder sb = new StringBuilder();
        int vec = s.exceptionVector;
        long err = s.exceptionErrorCode;
        long cr2 = s.cr2;
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            try {
                sb.append(String.format("%02x", mmu.fetch8(va + i)));
            } catch (GuestFault f) {
                sb.append("??");
            }
        }
        s.exceptionVector = vec;
        s.exceptionErrorCode = err;
        s.cr2 = cr2;
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------
    // ALU.

    /** Computes ALU operation {@code kind} (0 ADD..7 CMP, 8 TEST), sets lazy flags, returns the result. */
    private long alu(int kind, int sz, long a, long b) {
        int bits = 8 << sz;
        long m = mask(sz);
        a &= m;
        b &= m;
        long res;
        switch (kind) {
            case 0:
                res = a + b;
                fl.lazy(Flags.ADD, bits, a, b, res);
                break;
            case 1:
                res = a | b;
                fl.lazy(Flags.LOGIC, bits, a, b, res);
                break;
            case 2: {
                boolean c = fl.cf();
                res = a + b + (c ? 1 : 0);
                fl.lazy(Flags.ADC, bits, a, b, res, c);
                break;
            }
            case 3: {
                boolean c = fl.cf();
                res = a - b - (c ? 1 : 0);
                fl.lazy(Flags.SBB, bits, a, b, res, c);
                break;
            }
            case 4:
            case 8:
                res = a & b;
                fl.lazy(Flags.LOGIC, bits, a, b, res);
                break;
            case 5:
            case 7:
                res = a - b;
                fl.lazy(Flags.SUB, bits, a, b, res);
                break;
            default:
                res = a ^ b;
                fl.lazy(Flags.LOGIC, bits, a, b, res);
                break;
        }
        return res & m;
    }

    private void aluEG() {
        int sz = size();
        int kind = sub();
        long src = getR(reg(), sz);
        if (!hasMem()) {
            int d = rm();
            long res = alu(kind, sz, getR(d, sz), src);
            if (kind != 7 && kind != 8) {
                setR(d, sz, res);
            }
            return;
        }
        aluMem(kind, sz, src);
    }

    private void aluEI() {
        int sz = size();
        int kind = sub();
        long src = imm;
        if (!hasMem()) {
            int d = rm();
            long res = alu(kind, sz, getR(d, sz), src);
            if (kind != 7 && kind != 8) {
                setR(d, sz, res);
            }
            return;
        }
        aluMem(kind, sz, src);
    }

    private void aluMem(int kind, int sz, long src) {
        long va = ea();
        if (kind == 7 || kind == 8) {
            alu(kind, sz, rd(va, sz), src);
            return;
        }
        if (locked()) {
            lockedRmw(0, kind, sz, va, src);
            return;
        }
        long old = rmwRead(va, sz);
        long res = alu(kind, sz, old, src);
        rmwWrite(sz, res);
    }

    /**
     * A LOCK-prefixed read-modify-write: {@code what} 0 = ALU kind, 1 = unary kind, 2 = BT kind
     * ({@code src} is the bit number), 3 = XADD, 4 = XCHG. Returns the old memory value.
     */
    private long lockedRmw(int what, int kind, int sz, long va, long src) {
        if (casAble(va, sz)) {
            long pa = mmu.translateWrite(va);
            for (;;) {
                long old = physRd(pa, sz);
                long res = rmwCompute(what, kind, sz, old, src);
                if (cas(pa, sz, old, res)) {
                    return old;
                }
            }
        }
        synchronized (SPLIT_LOCK) { // split lock: serialized against other split locks only
            long old = rmwRead(va, sz);
            rmwWrite(sz, rmwCompute(what, kind, sz, old, src));
            return old;
        }
    }

    private long rmwCompute(int what, int kind, int sz, long old, long src) {
        switch (what) {
            case 0:
                return alu(kind, sz, old, src);
            case 1:
                return unaryCompute(kind, sz, old);
            case 2:
                return btCompute(kind, old, src);
            case 3:
                return alu(0, sz, old, src);
            default:
                return src;
        }
    }

    private void aluGE() {
        int sz = size();
        int kind = sub();
        int d = reg();
        long res = alu(kind, sz, getR(d, sz), readE(sz));
        if (kind != 7 && kind != 8) {
            setR(d, sz, res);
        }
    }

    private void movEG() {
        int sz = size();
        long v = getR(reg(), sz);
        if (hasMem()) {
            wr(ea(), sz, v);
        } else {
            setR(rm(), sz, v);
        }
    }

    private void movEI() {
        int sz = size();
        if (hasMem()) {
            wr(ea(), sz, imm);
        } else {
            setR(rm(), sz, imm);
        }
    }

    private void cmov() {
        int sz = size();
        long v = readE(sz);
        int d = reg();
        if (fl.cond(sub())) {
            setR(d, sz, v);
        } else if (sz == 2) {
            r[d] &= 0xffff_ffffL; // a 32-bit CMOV always writes (zero-extends) its destination
        }
    }

    private void setcc() {
        int v = fl.cond(sub()) ? 1 : 0;
        if (hasMem()) {
            wr(ea(), 0, v);
        } else {
            setR(rm(), 0, v);
        }
    }

    private void xchg() {
        int sz = size();
        int g = reg();
        long v = getR(g, sz);
        if (!hasMem()) {
            int e = rm();
            long ev = getR(e, sz);
            setR(e, sz, v);
            setR(g, sz, ev);
            return;
        }
        // XCHG with memory is always locked (SDM Vol. 2 XCHG).
        long old = lockedRmw(4, 0, sz, ea(), v);
        setR(g, sz, old);
    }

    private long unaryCompute(int kind, int sz, long a) {
        int bits = 8 << sz;
        long m = mask(sz);
        a &= m;
        long res;
        switch (kind) {
            case 0: {
                boolean c = fl.cf();
                res = a + 1;
                fl.lazy(Flags.INC, bits, a, 1, res, c);
                break;
            }
            case 1: {
                boolean c = fl.cf();
                res = a - 1;
                fl.lazy(Flags.DEC, bits, a, 1, res, c);
                break;
            }
            case 2:
                res = ~a;
                break;
            default:
                res = -a;
                fl.lazy(Flags.NEG, bits, a, a, res);
                break;
        }
        return res & m;
    }

    private void unary() {
        int sz = size();
        int kind = sub();
        if (!hasMem()) {
            int d = rm();
            setR(d, sz, unaryCompute(kind, sz, getR(d, sz)));
            return;
        }
        long va = ea();
        if (locked()) {
            lockedRmw(1, kind, sz, va, 0);
            return;
        }
        long old = rmwRead(va, sz);
        rmwWrite(sz, unaryCompute(kind, sz, old));
    }

    // ------------------------------------------------------------------------------------------
    // Multiply and divide.

    private static long umulHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    private void mulFlags(boolean overflow) {
        // AMD leaves SF/ZF/AF/PF unchanged on MUL/IMUL (recorded on the host).
        fl.setCfOf(overflow, overflow);
    }

    private void muldiv() {
        int sz = size();
        long src = readE(sz);
        switch (sub()) {
            case 4:
                mul(sz, src);
                break;
            case 5:
                imul1(sz, src);
                break;
            case 6:
                div(sz, src);
                break;
            default:
                idiv(sz, src);
                break;
        }
    }

    private void mul(int sz, long src) {
        long a = getR(RAX, sz);
        switch (sz) {
            case 0: {
                long p = a * src;
                setR(RAX, 1, p);
                mulFlags((p >>> 8) != 0);
                break;
            }
            case 1: {
                long p = a * src;
                setR(RAX, 1, p);
                setR(RDX, 1, p >>> 16);
                mulFlags((p >>> 16) != 0);
                break;
            }
            case 2: {
                long p = a * src;
                setR(RAX, 2, p);
                setR(RDX, 2, p >>> 32);
                mulFlags((p >>> 32) != 0);
                break;
            }
            default: {
                long hi = umulHigh(a, src);
                r[RAX] = a * src;
                r[RDX] = hi;
                mulFlags(hi != 0);
                break;
            }
        }
    }

    private void imul1(int sz, long src) {
        long a = sext(getR(RAX, sz), sz);
        long b = sext(src, sz);
        switch (sz) {
            case 0: {
                long p = a * b;
                setR(RAX, 1, p);
                mulFlags(p != (byte) p);
                break;
            }
            case 1: {
                long p = a * b;
                setR(RAX, 1, p);
                setR(RDX, 1, p >>> 16);
                mulFlags(p != (short) p);
                break;
            }
            case 2: {
                long p = a * b;
                setR(RAX, 2, p);
                setR(RDX, 2, p >>> 32);
                mulFlags(p != (int) p);
                break;
            }
            default: {
                long hi = Math.multiplyHigh(a, b);
                long lo = a * b;
                r[RAX] = lo;
                r[RDX] = hi;
                mulFlags(hi != (lo >> 63));
                break;
            }
        }
    }

    private void imul2(long e, long b) {
        int sz = size();
        long x = sext(e, sz);
        long y = sext(b, sz);
        long lo = x * y;
        boolean ovf;
        if (sz == 3) {
            ovf = Math.multiplyHigh(x, y) != (lo >> 63);
        } else {
            ovf = lo != sext(lo, sz);
        }
        setR(reg(), sz, lo);
        mulFlags(ovf);
    }

    private GuestFault divideError() {
        lastFault = "divide error at 0x" + Long.toHexString(s.rip);
        describing = true;
        return GuestFault.raise(s, Vectors.DE, 0);
    }

    private void divFlags() {
        // AMD (recorded on the host): SF, ZF, PF cleared, AF set, CF and OF unchanged.
        fl.setBits(SF | ZF | PF | AF, AF);
    }

    private void div(int sz, long d) {
        if (d == 0) {
            throw divideError();
        }
        switch (sz) {
            case 0: {
                long n = r[RAX] & 0xffff;
                long q = n / d;
                if (q > 0xff) {
                    throw divideError();
                }
                setR(RAX, 1, q | ((n % d) << 8));
                break;
            }
            case 1: {
                long n = ((r[RDX] & 0xffff) << 16) | (r[RAX] & 0xffff);
                long q = n / d;
                if (q > 0xffff) {
                    throw divideError();
                }
                setR(RAX, 1, q);
                setR(RDX, 1, n % d);
                break;
            }
            case 2: {
                long n = ((r[RDX] & 0xffff_ffffL) << 32) | (r[RAX] & 0xffff_ffffL);
                long q = Long.divideUnsigned(n, d);
                if ((q >>> 32) != 0) {
                    throw divideError();
                }
                setR(RAX, 2, q);
                setR(RDX, 2, Long.remainderUnsigned(n, d));
                break;
            }
            default: {
                long hi = r[RDX];
                long lo = r[RAX];
                if (hi == 0) {
                    r[RAX] = Long.divideUnsigned(lo, d);
                    r[RDX] = Long.remainderUnsigned(lo, d);
                } else {
                    if (Long.compareUnsigned(hi, d) >= 0) {
                        throw divideError();
                    }
                    div128(hi, lo, d);
                    r[RAX] = divQ;
                    r[RDX] = divR;
                }
                break;
            }
        }
        divFlags();
    }

    private long divQ, divR;

    /** Unsigned (hi:lo) / d with hi < d (so the quotient fits in 64 bits); restoring division. */
    private void div128(long hi, long lo, long d) {
        long rem = hi;
        long q = 0;
        for (int i = 63; i >= 0; i--) {
            boolean top = rem < 0;
            rem = (rem << 1) | ((lo >>> i) & 1);
            q <<= 1;
            if (top || Long.compareUnsigned(rem, d) >= 0) {
                rem -= d;
                q |= 1;
            }
        }
        divQ = q;
        divR = rem;
    }

    private void idiv(int sz, long src) {
        long d = sext(src, sz);
        if (d == 0) {
            throw divideError();
        }
        switch (sz) {
            case 0: {
                long n = (short) r[RAX];
                long q = n / d;
                if (q != (byte) q) {
                    throw divideError();
                }
                setR(RAX, 1, (q & 0xff) | ((n % d & 0xff) << 8));
                break;
            }
            case 1: {
                long n = (int) (((r[RDX] & 0xffff) << 16) | (r[RAX] & 0xffff));
                long q = n / d;
                if (q != (short) q) {
                    throw divideError();
                }
                setR(RAX, 1, q);
                setR(RDX, 1, n % d);
                break;
            }
            case 2: {
                long n = ((r[RDX] & 0xffff_ffffL) << 32) | (r[RAX] & 0xffff_ffffL);
                if (n == Long.MIN_VALUE && d == -1) {
                    throw divideError();
                }
                long q = n / d;
                if (q != (int) q) {
                    throw divideError();
                }
                setR(RAX, 2, q);
                setR(RDX, 2, n % d);
                break;
            }
            default: {
                long hi = r[RDX];
                long lo = r[RAX];
                if (hi == (lo >> 63)) {
                    if (lo == Long.MIN_VALUE && d == -1) {
                        throw divideError();
                    }
                    r[RAX] = lo / d;
                    r[RDX] = lo % d;
                } else {
                    boolean negN = hi < 0;
                    if (negN) { // negate 128-bit
                        lo = -lo;
                        hi = ~hi + (lo == 0 ? 1 : 0);
                    }
                    long ad = d < 0 ? -d : d;
                    if (Long.compareUnsigned(hi, ad) >= 0) {
                        throw divideError();
                    }
                    div128(hi, lo, ad);
                    long q = divQ;
                    long rem = divR;
                    boolean negQ = negN != (d < 0);
                    if (negQ ? Long.compareUnsigned(q, 1L << 63) > 0 : q < 0) {
                        throw divideError();
                    }
                    r[RAX] = negQ ? -q : q;
                    r[RDX] = negN ? -rem : rem;
                }
                break;
            }
        }
        divFlags();
    }

    // ------------------------------------------------------------------------------------------
    // Shifts and rotates.

    private static long szpFlags(long res, int sz) {
        long m = mask(sz);
        long v = res & m;
        long f = (Integer.bitCount((int) v & 0xff) & 1) == 0 ? PF : 0;
        if (v == 0) {
            f |= ZF;
        }
        if (((v >>> ((8 << sz) - 1)) & 1) != 0) {
            f |= SF;
        }
        return f;
    }

    private void shift(int rawCount) {
        int sz = size();
        int bits = 8 << sz;
        int count = rawCount & (sz == 3 ? 63 : 31);
        if (count == 0) {
            // Flags untouched; a 32-bit register destination is still written (zero-extended), as on hardware.
            if (sz == 2 && !hasMem()) {
                r[rm()] &= 0xffff_ffffL;
            }
            return;
        }
        int kind = sub();
        boolean memOp = hasMem();
        long va = 0;
        long a;
        if (memOp) {
            va = ea();
            a = rmwRead(va, sz);
        } else {
            a = getR(rm(), sz);
        }
        long m = mask(sz);
        long res;
        switch (kind) {
            case 0: { // ROL
                int c = count % bits;
                res = c == 0 ? a : ((a << c) | (a >>> (bits - c))) & m;
                boolean cf = (res & 1) != 0;
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                fl.setCfOf(cf, msb != cf);
                break;
            }
            case 1: { // ROR
                int c = count % bits;
                res = c == 0 ? a : ((a >>> c) | (a << (bits - c))) & m;
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                boolean msb1 = ((res >>> (bits - 2)) & 1) != 0;
                fl.setCfOf(msb, msb != msb1);
                break;
            }
            case 2: { // RCL
                int c = sz >= 2 ? count : count % (bits + 1);
                boolean cf = fl.cf();
                res = a;
                for (int i = 0; i < c; i++) {
                    boolean out = ((res >>> (bits - 1)) & 1) != 0;
                    res = ((res << 1) | (cf ? 1 : 0)) & m;
                    cf = out;
                }
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                fl.setBits(CF | OF, (cf ? CF : 0) | (msb != cf ? OF : 0));
                break;
            }
            case 3: { // RCR
                int c = sz >= 2 ? count : count % (bits + 1);
                boolean cf = fl.cf();
                res = a;
                for (int i = 0; i < c; i++) {
                    boolean out = (res & 1) != 0;
                    res = (res >>> 1) | ((cf ? 1L : 0L) << (bits - 1));
                    cf = out;
                }
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                boolean msb1 = ((res >>> (bits - 2)) & 1) != 0;
                fl.setBits(CF | OF, (cf ? CF : 0) | (msb != msb1 ? OF : 0));
                break;
            }
            case 4:
            case 6: // SHL/SAL
                res = count >= 64 ? 0 : (a << count) & m;
                fl.lazy(Flags.SHL, bits, a, count, res);
                break;
            case 5: // SHR
                res = count >= 64 ? 0 : a >>> count;
                fl.lazy(Flags.SHR, bits, a, count, res);
                break;
            default: { // SAR
                long sa = sext(a, sz);
                res = (sa >> Math.min(count, 63)) & m;
                fl.lazy(Flags.SAR, bits, a, count, res);
                break;
            }
        }
        if (memOp) {
            rmwWrite(sz, res);
        } else {
            setR(rm(), sz, res);
        }
    }

    private void shiftDouble() {
        int sz = size();
        int bits = 8 << sz;
        int raw = (op == Op.SHLD_CL || op == Op.SHRD_CL) ? (int) r[RCX] : (int) imm;
        int count = raw & (sz == 3 ? 63 : 31);
        if (count == 0) {
            if (sz == 2 && !hasMem()) {
                r[rm()] &= 0xffff_ffffL;
            }
            return;
        }
        boolean left = op == Op.SHLD_I || op == Op.SHLD_CL;
        long src = getR(reg(), sz);
        boolean memOp = hasMem();
        long a = memOp ? rmwRead(ea(), sz) : getR(rm(), sz);
        long m = mask(sz);
        long res;
        boolean cf;
        if (sz == 1 && count > 16) {
            // Undefined result for 16-bit operands with count > 16: model as a 48-bit funnel shift.
            count -= 16;
            a = src;
        }
        if (left) {
            res = ((a << count) | (src >>> (bits - count))) & m;
            cf = ((a >>> (bits - count)) & 1) != 0;
        } else {
            res = ((a >>> count) | (src << (bits - count))) & m;
            cf = ((a >>> (count - 1)) & 1) != 0;
        }
        boolean msb = ((res >>> (bits - 1)) & 1) != 0;
        boolean ofl = left ? msb != cf : msb != (((res >>> (bits - 2)) & 1) != 0);
        fl.setBits(Flags.ARITH, szpFlags(res, sz) | AF | (cf ? CF : 0) | (ofl ? OF : 0));
        if (memOp) {
            rmwWrite(sz, res);
        } else {
            setR(rm(), sz, res);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Bit operations.

    private long btCompute(int kind, long old, long bit) {
        long m = 1L << bit;
        fl.setBits(CF, (old & m) != 0 ? CF : 0);
        switch (kind) {
            case 1:
                return old | m;
            case 2:
                return old & ~m;
            case 3:
                return old ^ m;
            default:
                return old;
        }
    }

    private void bt() {
        int sz = size();
        int bits = 8 << sz;
        int kind = sub();
        long offset = op == Op.BT_G ? getR(reg(), sz) : imm;
        if (!hasMem()) {
            int d = rm();
            long v = getR(d, sz);
            long res = btCompute(kind, v, offset & (bits - 1));
            if (kind != 0) {
                setR(d, sz, res);
            }
            return;
        }
        long va = ea();
        long bit;
        if (op == Op.BT_G) {
            long so = sext(offset, sz); // bit string addressing: signed offset from the base
            va += (so >> (3 + sz)) << sz;
            bit = so & (bits - 1);
        } else {
            bit = offset & (bits - 1);
        }
        if (kind == 0) {
            btCompute(0, rd(va, sz), bit);
            return;
        }
        if (locked()) {
            lockedRmw(2, kind, sz, va, bit);
            return;
        }
        long old = rmwRead(va, sz);
        rmwWrite(sz, btCompute(kind, old, bit));
    }

    private void bitScan() {
        int sz = size();
        long v = readE(sz);
        if (op == Op.POPCNT) {
            setR(reg(), sz, Long.bitCount(v));
            fl.setBits(Flags.ARITH, v == 0 ? ZF : 0);
            return;
        }
        if (op == Op.BSR && sub() == 1) { // LZCNT: CF = source zero, ZF = result zero; AMD clears SF/AF/PF, keeps OF
            int bits = 8 << sz;
            long n = v == 0 ? bits : Long.numberOfLeadingZeros(v) - (64 - bits);
            setR(reg(), sz, n);
            fl.setBits(CF | ZF | SF | AF | PF, (v == 0 ? CF : 0) | (n == 0 ? ZF : 0));
            return;
        }
        if (v == 0) {
            fl.setBits(ZF, ZF); // destination unchanged (AMD documents it; Intel hardware does it)
            return;
        }
        long idx = op == Op.BSF ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
        setR(reg(), sz, idx);
        fl.setBits(ZF, 0); // AMD: the other flags are unchanged (recorded on the host)
    }

    private void bswap() {
        int sz = size();
        int d = rm();
        if (sz == 3) {
            r[d] = Long.reverseBytes(r[d]);
        } else if (sz == 2) {
            r[d] = Integer.reverseBytes((int) r[d]) & 0xffff_ffffL;
        } else {
            r[d] &= ~0xffffL; // BSWAP r16 is undefined; hardware clears the low word
        }
    }

    private void cbw() {
        switch (size()) {
            case 1 -> setR(RAX, 1, (byte) r[RAX]);
            case 2 -> setR(RAX, 2, (short) r[RAX]);
            default -> r[RAX] = (int) r[RAX];
        }
    }

    private void cwd() {
        switch (size()) {
            case 1 -> setR(RDX, 1, ((short) r[RAX]) >> 15);
            case 2 -> setR(RDX, 2, ((int) r[RAX]) >> 31);
            default -> r[RDX] = r[RAX] >> 63;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Stack and control transfer.

    // Stack pointer arithmetic wraps at 4 GiB in 32-bit mode (flat SS, 32-bit ESP): addrMask.

    private void push(long v) {
        int sz = size();
        long sp = (r[RSP] - (1L << sz)) & addrMask;
        wr(sp, sz, v);
        r[RSP] = sp;
    }

    private void popR() {
        int sz = size();
        long sp = r[RSP] & addrMask;
        long v = rd(sp, sz);
        r[RSP] = (sp + (1L << sz)) & addrMask;
        setR(rm(), sz, v);
    }

    private void popE() {
        int sz = size();
        long sp = r[RSP] & addrMask;
        long v = rd(sp, sz);
        if (!hasMem()) {
            r[RSP] = (sp + (1L << sz)) & addrMask;
            setR(rm(), sz, v);
            return;
        }
        long va = ea();
        if ((memw & 31) == RSP) {
            va = (va + (1L << sz)) & addrMask; // RSP as base is used after the increment (SDM Vol. 2 POP)
        }
        wr(va, sz, v);
        r[RSP] = (sp + (1L << sz)) & addrMask;
    }

    /**
     * Near CALL: pushes the return address, 8 bytes in 64-bit mode (66 ignored, as the recorded host
     * behaviour was never exercised: unchanged from before 32-bit support), 4 in 32-bit mode, 2 with 66.
     */
    private void call(long target) {
        int sz = m32 ? size() : 3;
        long sp = (r[RSP] - (1L << sz)) & addrMask;
        wr(sp, sz, next);
        r[RSP] = sp;
        next = sz == 1 ? target & 0xffff : target;
    }

    private void ret(long extra) {
        int sz = size();
        long sp = r[RSP] & addrMask;
        long target = rd(sp, sz);
        r[RSP] = (sp + (1L << sz) + extra) & addrMask;
        next = target;
    }

    /** Internal exit code of {@link #retf} after a change between 64-bit and compatibility mode. */
    private static final int MODE_SWITCH = -1;

    /**
     * RETF / RETF imm16 (SDM Vol. 2 RET, far return to the same privilege level): pops the offset and,
     * from a slot of the same operand size, the CS selector. A null selector is #GP(0); a selector whose
     * RPL is not the CPL (a return to an outer level cannot happen from CPL 3, the only level the
     * interpreter runs at), or that is not one of the GDT's user code segments ({@link CpuState#userCs64},
     * {@link CpuState#userCs32}: a data segment, a kernel segment, an LDT selector) is #GP(selector). The
     * new RIP must be canonical (64-bit target) or within the 4 GiB limit (32-bit target), else #GP(0).
     * Nothing is committed before the checks pass. Returning to the other code segment switches between
     * 64-bit and compatibility mode (only under long mode: a 32-bit kernel's GDT has one user code segment).
     */
    private int retf(long extra) {
        int sz = size();
        int slot = 1 << sz;
        long sp = r[RSP] & addrMask;
        long offset = rd(sp, sz);
        int sel = (int) rd((sp + slot) & addrMask, sz) & 0xffff;
        if ((sel & 0xfffc) == 0) {
            lastFault = String.format("far return to the null selector at 0x%x", s.rip);
            describing = true;
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        boolean to64;
        if ((sel & 3) == s.cpl && sel == s.userCs64) {
            to64 = true;
        } else if ((sel & 3) == s.cpl && sel == s.userCs32) {
            to64 = false;
        } else {
            lastFault = String.format("far return to selector 0x%x (not a user code segment) at 0x%x", sel, s.rip);
            describing = true;
            throw GuestFault.raise(s, Vectors.GP, sel & 0xfffc);
        }
        if (to64 ? (offset << 16) >> 16 != offset : (offset >>> 32) != 0) {
            lastFault = String.format("far return to 0x%x:0x%x outside the code segment at 0x%x", sel, offset, s.rip);
            describing = true;
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        r[RSP] = (sp + 2L * slot + extra) & addrMask;
        next = sz == 1 ? offset & 0xffff : offset;
        if (to64 == m32) {
            s.longMode64 = to64;
            return MODE_SWITCH;
        }
        return Exit.BUDGET;
    }

    private void leave() {
        int sz = size();
        long bp = r[RBP] & addrMask;
        long v = rd(bp, sz);
        r[RSP] = (bp + (1L << sz)) & addrMask;
        setR(RBP, sz, v);
    }

    /** PUSHA/PUSHAD (32-bit mode): EAX, ECX, EDX, EBX, original ESP, EBP, ESI, EDI; commits after all stores. */
    private void pusha() {
        int sz = size();
        int n = 1 << sz;
        long sp0 = r[RSP] & addrMask;
        long low = (sp0 - 8L * n) & addrMask;
        // Check the whole area is writable first so a fault commits nothing (precise).
        mmu.translateWrite(low);
        mmu.translateWrite((low + 8L * n - 1) & addrMask);
        long sp = sp0;
        for (int i = 0; i < 8; i++) {
            sp = (sp - n) & addrMask;
            wr(sp, sz, i == RSP ? sp0 : r[i]);
        }
        r[RSP] = sp;
    }

    /** POPA/POPAD: EDI, ESI, EBP, (ESP skipped), EBX, EDX, ECX, EAX; registers written after all loads. */
    private void popa() {
        int sz = size();
        int n = 1 << sz;
        long sp = r[RSP] & addrMask;
        long[] v = scratchPopa;
        for (int i = 7; i >= 0; i--) {
            v[i] = rd(sp, sz);
            sp = (sp + n) & addrMask;
        }
        for (int i = 0; i < 8; i++) {
            if (i != RSP) {
                setR(i, sz, v[i]);
            }
        }
        r[RSP] = sp;
    }

    private final long[] scratchPopa = new long[8];

    private void enter() {
        int alloc = (int) (imm & 0xffff);
        int level = (int) (imm >>> 16) & 0x1f;
        int sz = size();
        int n = 1 << sz;
        long sp = (r[RSP] - n) & addrMask;
        wr(sp, sz, r[RBP]);
        long frame = sp;
        long bp = r[RBP];
        for (int i = 1; i < level; i++) {
            bp = (bp - n) & addrMask;
            sp = (sp - n) & addrMask;
            wr(sp, sz, rd(bp, sz));
        }
        if (level > 0) {
            sp = (sp - n) & addrMask;
            wr(sp, sz, frame);
        }
        mmu.translateWrite((sp - alloc) & addrMask); // the new frame's lowest byte must be writable (#PF before commit)
        setR(RBP, sz, frame);
        r[RSP] = (sp - alloc) & addrMask;
    }

    private void popf() {
        int sz = size();
        long sp = r[RSP] & addrMask;
        long v = rd(sp, sz);
        r[RSP] = (sp + (1L << sz)) & addrMask;
        // CPL 3, IOPL 0: IF and IOPL are left alone; VM/RF/VIF/VIP cannot be set by POPF.
        long changeable = CF | PF | AF | ZF | SF | CpuState.TF | CpuState.DF | OF | (1L << 14) | CpuState.AC | CpuState.ID;
        if (sz == 1) {
            changeable &= 0xffff;
        }
        long old = s.getRflags();
        s.setRflags((old & ~changeable) | (v & changeable));
    }

    private void loop() {
        boolean a32 = (info & Decoder.ASZ32) != 0;
        long c = r[RCX] - 1;
        if (a32) {
            c &= 0xffff_ffffL;
        }
        r[RCX] = c;
        boolean take = c != 0;
        int k = sub();
        if (k == 0) {
            take &= !fl.zf();
        } else if (k == 1) {
            take &= fl.zf();
        }
        if (take) {
            next += imm;
        }
    }

    // ------------------------------------------------------------------------------------------
    // String instructions.

    private void strings() {
        int sz = size();
        long step = fl.df() ? -(1L << sz) : (1L << sz);
        boolean a32 = (info & Decoder.ASZ32) != 0;
        long am = a32 ? 0xffff_ffffL : -1L;
        int rep = rep();
        long seg = segBase();
        if (rep == 0) {
            stringStep(sz, step, am, seg);
            return;
        }
        boolean cmp = op == Op.CMPS || op == Op.SCAS;
        for (;;) {
            long c = r[RCX] & am;
            if (c == 0) {
                return;
            }
            stringStep(sz, step, am, seg);
            r[RCX] = a32 ? (c - 1) & am : c - 1;
            if (cmp) {
                boolean z = fl.zf();
                if ((rep == 1 && !z) || (rep == 2 && z)) {
                    return;
                }
            }
        }
    }

    /** One iteration; commits RSI/RDI (and RAX for LODS) only after its memory accesses succeeded. */
    private void stringStep(int sz, long step, long am, long seg) {
        long si = r[RSI] & am;
        long di = r[RDI] & am;
        switch (op) {
            case Op.MOVS: {
                long v = rd((si + seg) & addrMask, sz);
                wr(di, sz, v);
                r[RSI] = (si + step) & am;
                r[RDI] = (di + step) & am;
                break;
            }
            case Op.STOS:
                wr(di, sz, getR(RAX, sz));
                r[RDI] = (di + step) & am;
                break;
            case Op.LODS: {
                long v = rd((si + seg) & addrMask, sz);
                setR(RAX, sz, v);
                r[RSI] = (si + step) & am;
                break;
            }
            case Op.CMPS: {
                long a = rd((si + seg) & addrMask, sz);
                long b = rd(di, sz);
                alu(7, sz, a, b);
                r[RSI] = (si + step) & am;
                r[RDI] = (di + step) & am;
                break;
            }
            default: { // SCAS
                long b = rd(di, sz);
                alu(7, sz, getR(RAX, sz), b);
                r[RDI] = (di + step) & am;
                break;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Atomics.

    private void cmpxchg() {
        int sz = size();
        long acc = getR(RAX, sz);
        long src = getR(reg(), sz);
        if (!hasMem()) {
            int d = rm();
            long dv = getR(d, sz);
            alu(7, sz, acc, dv);
            if (acc == dv) {
                setR(d, sz, src);
            } else {
                setR(RAX, sz, dv);
            }
            return;
        }
        long va = ea();
        long old;
        if (locked() && casAble(va, sz)) {
            long pa = mmu.translateWrite(va);
            for (;;) {
                old = physRd(pa, sz);
                if (old != acc) {
                    PhysicalMemory.fence(); // a failed LOCK CMPXCHG is still a locked (fencing) instruction
                    break;
                }
                if (cas(pa, sz, acc, src)) {
                    break;
                }
            }
        } else if (locked()) {
            synchronized (SPLIT_LOCK) {
                old = rmwRead(va, sz);
                rmwWrite(sz, old == acc ? src : old);
            }
        } else {
            old = rmwRead(va, sz);
            rmwWrite(sz, old == acc ? src : old); // the destination is always written
        }
        alu(7, sz, acc, old);
        if (old != acc) {
            setR(RAX, sz, old);
        }
    }

    private void xadd() {
        int sz = size();
        int g = reg();
        long src = getR(g, sz);
        if (!hasMem()) {
            int d = rm();
            long dv = getR(d, sz);
            long sum = alu(0, sz, dv, src);
            setR(g, sz, dv);
            setR(d, sz, sum);
            return;
        }
        long va = ea();
        long old;
        if (locked()) {
            old = lockedRmw(3, 0, sz, va, src);
        } else {
            old = rmwRead(va, sz);
            rmwWrite(sz, alu(0, sz, old, src));
        }
        alu(0, sz, old, src);
        setR(g, sz, old);
    }

    private void cmpxchg8b() {
        if (size() == 3) {
            IntExt.cmpxchg16b(this);
            return;
        }
        long va = ea();
        long expect = ((r[RDX] & 0xffff_ffffL) << 32) | (r[RAX] & 0xffff_ffffL);
        long update = ((r[RCX] & 0xffff_ffffL) << 32) | (r[RBX] & 0xffff_ffffL);
        long old;
        if ((va & 7) == 0) {
            long pa = mmu.translateWrite(va);
            old = mem.compareAndExchange64(pa, expect, update);
        } else {
            synchronized (SPLIT_LOCK) {
                old = rmwRead(va, 3);
                rmwWrite(3, old == expect ? update : old);
            }
        }
        if (old == expect) {
            fl.setBits(ZF, ZF);
        } else {
            fl.setBits(ZF, 0);
            r[RAX] = old & 0xffff_ffffL;
            r[RDX] = old >>> 32;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Package access for SseExec.

    CpuState state() {
        return s;
    }

    Mmu mmu() {
        return mmu;
    }

    int curSize() {
        return size();
    }

    int curSub() {
        return sub();
    }

    int curReg() {
        return reg();
    }

    int curRm() {
        return rm();
    }

    boolean curHasMem() {
        return hasMem();
    }

    long curImm() {
        return imm;
    }

    long curEa() {
        return ea();
    }

    /** Linear address of offset {@code a} under the current instruction's segment override. */
    long curLinear(long a) {
        return linear(a);
    }

    int curInfo() {
        return info;
    }

    long gpr(int reg, int sz) {
        return getR(reg, sz);
    }

    void setGpr(int reg, int sz, long v) {
        setR(reg, sz, v);
    }

    long readOperand(int sz) {
        return readE(sz);
    }

    void writeOperand(int sz, long v) {
        if (hasMem()) {
            wr(ea(), sz, v);
        } else {
            setR(rm(), sz, v);
        }
    }

    GuestFault undefinedOpcode() {
        return undefined();
    }

    PhysicalMemory memory() {
        return mem;
    }

    Flags flagsReg() {
        return fl;
    }
}
