package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.PF;

import java.lang.invoke.MethodHandles;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.cpu.tier.Tier;
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
 * <p>Hot-path layout: the commonest forms run inline in {@link #run} and {@link FastMem}; the rest go
 * through {@link Dispatch}, one {@code switch} over dense op ids split into three methods, to one class
 * per instruction group as Bochs' {@code cpu/*.cc} files are split ({@link Arith}, {@link Mult},
 * {@link Shift}, {@link BitOps}, {@link DataXfer}, {@link StackOps}, {@link CtrlXfer}, {@link StringOps};
 * SSE and x87 in {@link SseExec}, {@link SseX}, {@link X87Exec}). The group methods are static and take
 * this interpreter, whose operand and memory access layer is {@link OperandAccess}: no interface call and
 * no allocation per instruction, each method well under the JIT's 8000-byte limit. Decoded fields are
 * copied into scalar fields per instruction; nothing allocates except fault-description and decode paths. 32-bit protected mode plugs in at {@code Decoder.mode64}
 * (no REX, 32-bit default address size, 40-4F as INC/DEC, PUSHA/POPA) and at the stack-width and
 * address-size masks, which are already parameters of the group methods.
 */
public final class Interpreter extends OperandAccess {
    /** Compile-time switch for internal consistency checks. */
    static final boolean DEBUG = false;

    static final long TSC_BASE = System.nanoTime();
    /** {@link #requestStop} takes effect within this many instructions. */
    private static final int STOP_POLL = 1024;

    final DecodedCodeCache cache;
    private final Decoder dec;
    /** Package-private: compiled blocks of the translation tier read both requests (cpu.tier.Tier). */
    volatile boolean stop;
    /** Set by {@link #interrupt}: {@link #run} returns {@link Exit#BUDGET} at the next poll. */
    volatile boolean interrupted;
    /** --engine: the translation tier for hot blocks (created on first use), or the interpreter alone. */
    private Engine engine = Engine.DEFAULT;
    private Tier tier;
    /** Per-instruction costs under --timing cycle; null under --timing fast (see InstructionTiming). */
    private InstructionTiming timing;

    private int decodeMode;

    public Interpreter(CpuState state, Mmu mmu, PhysicalMemory mem) {
        this(state, mmu, mem, DecodedCodeCache.forMemory(mem));
    }

    public Interpreter(CpuState state, Mmu mmu, PhysicalMemory mem, DecodedCodeCache cache) {
        super(state, mmu, mem);
        this.cache = cache;
        this.dec = new Decoder(state, mmu, mem);
    }

    public DecodedCodeCache codeCache() {
        return cache;
    }

    /** Cycle-mode instruction costs (null: --timing fast); set before {@link #run}, from the vCPU's thread. */
    public void setTiming(InstructionTiming t) {
        this.timing = t;
        if (tier != null) {
            tier.setTiming(t);
        }
    }

    /** Selects the engine ({@code --engine}); call from the vCPU's thread between {@link #run} calls. */
    public void setEngine(Engine e) {
        this.engine = e;
    }

    public Engine engine() {
        return engine;
    }

    /** The decoder's name of op id {@code op} (statistics: the tier's fallbacks by op), or "op N". */
    public static String opName(int op) {
        for (java.lang.reflect.Field f : Op.class.getDeclaredFields()) {
            try {
                if (f.getType() == int.class && !f.getName().equals("COUNT") && f.getInt(null) == op) {
                    return f.getName();
                }
            } catch (IllegalAccessException e) {
                break;
            }
        }
        return "op " + op;
    }

    /** The translation tier, or null while it has not run (statistics, tests). */
    public Tier tier() {
        return tier;
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
     * FastOps}) run inline in {@link #run}'s switch, the commonest memory forms in {@link FastMem#fastMem} (one
     * call, kept out of this method); everything else goes through {@link Dispatch#exec} with the fields set.
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
        // The translation tier runs hot blocks in 64-bit and in 32-bit mode, under either timing
        // (cpu.tier.Tier: under cycle timing its blocks charge what this loop charges through InstructionTiming).
        final Tier tier = engine == Engine.TIER ? tierOf() : null;
        if (tier != null) {
            tier.setMode32(m32); // the decoded pages it is handed are this mode's (decodeMode)
        }
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
                // Poll points at fixed counts (multiples of STOP_POLL) even when the tier ran past one.
                final long end = Math.min(budget, (n | (STOP_POLL - 1)) + 1);
                while (n < end) {
                    // s.rip is the current instruction's address while it executes (faults, RIP-relative).
                    s.rip = rip;
                    if (slot < 0 || !p.valid) {
                        if ((rip & ~0xfffL) != vpage || p == null || !p.valid) {
                            p = enterPage(rip);
                            vpage = rip & ~0xfffL;
                        }
                        int off = (int) rip & 0xfff;
                        if (tier != null && p.valid) {
                            final long k = tier.run(p, off, vpage, budget - n, end - n);
                            if (k != 0 || tier.faulted()) {
                                n += k;
                                rip = tier.rip();
                                if (tier.faulted()) {
                                    s.rip = rip;
                                    throw GuestFault.INSTANCE; // raised by the MMU, recorded in the state
                                }
                                slot = -1;
                                continue;
                            }
                        }
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
                        timing.fetch((p.pfn << 12) | (rip & 0xfff)); // instruction fetch by line through L1I
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
                            r[(fw >>> FastOps.A_SHIFT) & 31] = FastMem.fastEa(this, fw, mems[slot], disps[slot], fall) & sizeMask(fw);
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
                            nxt = FastMem.fastMem(this, fw, mems[slot], disps[slot], imms[slot], fall); // out of line
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
                        return x == CtrlXfer.MODE_SWITCH ? Exit.BUDGET : x;
                    }
                    // FALL implies slot >= 0. With the tier on, the successor of an instruction the tier does
                    // not translate is a block start too (a trace may start right after it).
                    slot = rip == fall && (fw & DecodedPage.FALL) != 0
                            && (tier == null || (fw & FastOps.ID_MASK) != FastOps.GENERIC) ? slot + 1 : -1;
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

    /**
     * The translation tier's call for an instruction it has no bytecode for ({@link FastOps#tierCall}): runs
     * it through {@link Dispatch} exactly as {@link #slow} does from {@link #run} (decoded fields, s.rip =
     * the instruction, next = its fall-through) and returns the next RIP. The block has written its
     * registers and flags back before the call and reloads them after it; a {@link GuestFault} leaves what
     * the instruction committed (a REP string's completed iterations) as it does in {@link #run}. Under
     * cycle timing the block has charged what it retired, recorded the issue point and fetched the
     * instruction, and charges its base cost after it retires; a REP string's elements are charged here.
     */
    long execForTier(int op, int info, int memw, int disp, long imm, long rip, long fall) {
        this.op = op;
        this.info = info;
        this.memw = memw;
        this.disp = disp;
        this.imm = imm;
        s.rip = rip;
        next = fall;
        final InstructionTiming tm = timing; // non-null: the calling block charges cycle timing
        if (tm == null || op < Op.MOVS || op > Op.SCAS) {
            Dispatch.exec(this); // Exit.BUDGET on every path of the callable ops (FastOps.tierCall)
            return next;
        }
        // A string op: its REP elements are charged whether it retires or faults part-way (as settle does).
        final long rcx = tm.calledStringStarts(info);
        try {
            Dispatch.exec(this);
        } finally {
            tm.calledStringEnded(op, info, rcx);
        }
        return next;
    }

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
        exitCode = Dispatch.exec(this);
        return next;
    }

    /** Operand-size mask of a fast word: 32 bits (size 2) or 64 (size 3), without a branch. */
    static long sizeMask(int fw) {
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

    private Tier tierOf() {
        if (tier == null) {
            tier = new Tier(s, r, fl, mmu, this, MethodHandles.lookup());
            tier.setTiming(timing);
        }
        return tier;
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
        int fast = (fastForms ? FastOps.classify(op, info, imm) : FastOps.GENERIC)
                | (info & Decoder.LEN_MASK) << FastOps.LEN_SHIFT;
        return p.insert(off, op, info, memw, disp, imm, fast);
    }
}
