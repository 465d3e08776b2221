package org.mmulab.emulator.debug;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.InstructionTrace;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.DebugWalk;

/**
 * Writes the registers after every retired instruction in the MMRT register-trace format, the same
 * format test-images' native tracer ({@code test-images/src/tracer/regtrace.c}, ptrace single-step)
 * writes, so that the interpreter can be compared instruction by instruction with the host CPU.
 * Attach with {@code vcpu.setTrace(writer)}; {@code mmulab boot --trace-regs FILE} does.
 *
 * <h2>Format (version 2, little-endian)</h2>
 * <pre>
 * header:  "MMRTRACE"  u8 version=2  u8 producer (1 ptrace, 2 mmulab)  u8 address bits (64|32)
 *          u8 flags (bit 0: rsp0 was inferred, not observed before the first instruction)
 *          u64 rsp0 (initial stack pointer)  u64 rip0 (initial RIP, 0 if unknown)
 *          u32 argc  u32 envc  then argc+envc times: u64 address, u32 length (without the NUL)
 *          of argv[0..] and envp[0..] strings as they lie in the guest's memory
 * records: uleb128 of a 128-bit mask of the register slots that differ from the previous record
 *          (only bits 0..71 are ever used: at most 11 bytes, 1 byte when only RIP changed),
 *          slot 0 RIP, 1 RFLAGS, 2..17 RAX RCX RDX RBX RSP RBP RSI RDI R8..R15, 18 FS_BASE,
 *          19..50 XMM0..XMM15 as 64-bit halves (19 = XMM0 bits 63:0, 20 = XMM0 bits 127:64, ...),
 *          51 FSW (x87 status word, TOP in bits 13:11), 52 FTW (the abridged tag byte as FXSAVE
 *          stores it: bit i set = physical register Ri not empty), 53 FCW, 54 MXCSR,
 *          55..62 significands of the physical x87 registers R0..R7 (bit 63 = the explicit
 *          integer bit), 63..70 their sign and exponent (bits 15:0 as FXSAVE stores them);
 *          then for each set bit, lowest first, zigzag-uleb128 of (new - old) mod 2^64.
 *          The state before the first record is all zeroes.
 * end:     uleb128 (1 &lt;&lt; 71), then zigzag-uleb128 of the exit status as a shell reports it,
 *          {@link #STATUS_UNKNOWN} or {@link #STATUS_TRUNCATED}. A file without an end record was cut
 *          short (the writer was never closed).
 * </pre>
 * The x87 registers are recorded by physical number R0-R7, not in stack order: ST(i) is
 * R((TOP + i) mod 8) with TOP from the FSW slot. A push or pop then changes one register and the
 * FSW instead of all eight, and ST(i) is recovered exactly; the native tracer converts ptrace's
 * PTRACE_GETFPREGS image (FXSAVE layout: ST(0)..ST(7) in stack order) to this numbering. Empty
 * registers are recorded too: FXSAVE stores their contents, so they are architectural. FIP, FDP
 * and FOP are not recorded (AMD's FXSAVE stores them only while an exception is pending).
 *
 * <p>Version 1 (readers still accept it) is the same format with slots 0..50 only and the end
 * record's mask 1 &lt;&lt; 51.
 *
 * A typical record is 3-6 bytes (RIP advances by a small delta, one or two registers change).
 *
 * <p>The initial stack pointer and the string table let a comparator treat stack addresses as
 * offsets from the initial RSP and pointers into argv/envp strings as (string, offset), since the
 * native and emulated stacks differ in position and in what lies above the pointer vectors.
 * Call {@link #begin(Vcpu)} after exec and before the first instruction to record them exactly;
 * otherwise the first {@link #retired(Vcpu)} infers them by finding the argc/argv/envp/auxv layout
 * near the current RSP (exact for startup code whose first instruction leaves the stack alone, like
 * mmulab's images and glibc's {@code _start}).
 *
 * <p>Only the first vCPU that reports is traced. Not thread-safe beyond that.
 */
public final class RegisterTraceWriter implements InstructionTrace, Closeable {
    public static final byte[] MAGIC = "MMRTRACE".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 2;
    public static final int PRODUCER_PTRACE = 1, PRODUCER_MMULAB = 2;
    public static final int FLAG_RSP0_INFERRED = 1;
    /** Register slots in a record, in mask-bit order. */
    public static final int REG_RIP = 0, REG_RFLAGS = 1, REG_GPR0 = 2, REG_FS_BASE = 18, REG_XMM0 = 19;
    /** x87 status, abridged tag, control words, MXCSR, then the physical x87 registers R0..R7. */
    public static final int REG_FSW = 51, REG_FTW = 52, REG_FCW = 53, REG_MXCSR = 54, REG_FP_SIG0 = 55,
            REG_FP_SE0 = 63, NREGS = 71;
    /** Slots of a version-1 trace (RIP..XMM15), and its end record's mask bit. */
    public static final int NREGS_V1 = 51, END_SLOT_V1 = 51;
    /** The end record's mask bit (in version 2): the slot after the last register. */
    public static final int END_SLOT = NREGS;
    public static final long STATUS_UNKNOWN = -1, STATUS_TRUNCATED = -2;
    public static final List<String> REG_NAMES = names();

    private static List<String> names() {
        List<String> n = new ArrayList<>(List.of("rip", "rflags", "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi",
                "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "fs_base"));
        for (int i = 0; i < 16; i++) {
            n.add("xmm" + i + ".lo");
            n.add("xmm" + i + ".hi");
        }
        n.addAll(List.of("fsw", "ftw", "fcw", "mxcsr"));
        for (int i = 0; i < 8; i++) {
            n.add("r" + i + ".sig");
        }
        for (int i = 0; i < 8; i++) {
            n.add("r" + i + ".se");
        }
        return List.copyOf(n);
    }

    /** Bytes a record's mask takes at most (71 register bits plus the end bit, 7 bits a byte). */
    private static final int MASK_BYTES = 11;

    private static final int MAX_ARGS = 1 << 16;
    private static final long MAX_STRING = 1 << 20;

    private final OutputStream out;
    private final byte[] rec = new byte[MASK_BYTES + NREGS * 10];
    private final long[] prev = new long[NREGS];
    private Vcpu traced;
    private boolean ended;
    private long records;
    private long maxRecords = Long.MAX_VALUE;

    public RegisterTraceWriter(Path file) throws IOException {
        this.out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20);
    }

    /**
     * After {@code max} records the writer stops the machine (every vCPU) and ends the trace as
     * {@link #STATUS_TRUNCATED}, so a runaway guest cannot write forever.
     */
    public void setMaxRecords(long max) {
        if (max < 0) {
            throw new IllegalArgumentException("max < 0");
        }
        this.maxRecords = max;
    }

    /** Records written so far. */
    public long records() {
        return records;
    }

    /**
     * Writes the header from {@code cpu}'s current state, which must be the state before the first
     * guest instruction (after the kernel's exec). Optional: see the class comment.
     */
    public void begin(Vcpu cpu) {
        if (traced != null) {
            throw new IllegalStateException("trace already started");
        }
        traced = cpu;
        CpuState s = cpu.state;
        writeHeader(cpu, s.gpr[CpuState.RSP], s.rip, false);
    }

    @Override
    public void retired(Vcpu cpu) {
        if (traced == null) {
            traced = cpu;
            long rsp = cpu.state.gpr[CpuState.RSP];
            long rsp0 = findInitialStack(cpu, rsp);
            writeHeader(cpu, rsp0 >= 0 ? rsp0 : rsp, 0, true);
        } else if (cpu != traced || ended) {
            return;
        }
        CpuState s = cpu.state;
        long maskLo = 0, maskHi = 0;
        long v;
        // Encode straight into rec[]: the mask is only known after the scan, so values go to
        // rec[MASK_BYTES..] and the mask is placed right before them.
        int p = MASK_BYTES;
        for (int i = 0; i < NREGS; i++) {
            if (i < REG_XMM0) {
                v = switch (i) {
                    case REG_RIP -> s.rip;
                    case REG_RFLAGS -> s.getRflags();
                    case REG_FS_BASE -> s.fsBase;
                    default -> s.gpr[i - REG_GPR0];
                };
            } else if (i < REG_FSW) {
                v = s.xmm[i - REG_XMM0];
            } else {
                v = fpSlot(s, i);
            }
            if (v != prev[i]) {
                if (i < 64) {
                    maskLo |= 1L << i;
                } else {
                    maskHi |= 1L << (i - 64);
                }
                p = putZigzag(rec, p, v - prev[i]);
                prev[i] = v;
            }
        }
        int maskLen = ulebLength(maskLo, maskHi);
        int start = MASK_BYTES - maskLen;
        putUleb128(rec, start, maskLo, maskHi);
        write(rec, start, p - start);
        records++;
        if (records >= maxRecords) {
            end(STATUS_TRUNCATED);
            cpu.machine().shutdown();
        }
    }

    /** Ends the trace with the guest's exit status (as a shell reports it). Later records are dropped. */
    public void finish(int exitStatus) {
        end(exitStatus);
    }

    @Override
    public void close() throws IOException {
        try {
            if (traced == null) {
                // nothing retired: still a valid, empty trace
                writeHeaderRaw(64, 0, 0, true, List.of(), 0, 0);
            }
            end(STATUS_UNKNOWN);
        } catch (UncheckedIOException e) {
            out.close();
            throw e.getCause();
        }
        out.close();
    }

    // ------------------------------------------------------------------------------------------

    private void end(long status) {
        if (ended) {
            return;
        }
        ended = true;
        int p = putUleb128(rec, 0, 0, 1L << (END_SLOT - 64));
        p = putZigzag(rec, p, status);
        write(rec, 0, p);
    }

    private void write(byte[] b, int off, int len) {
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Str(long addr, int len) {
    }

    private void writeHeader(Vcpu cpu, long rsp0, long rip0, boolean inferred) {
        int bits = cpu.state.longMode64 ? 64 : 32;
        int word = bits / 8;
        List<Str> strings = new ArrayList<>();
        int argc = 0, envc = 0;
        Long argcWord = readWord(cpu, rsp0, word);
        if (argcWord != null && argcWord >= 0 && argcWord < MAX_ARGS) {
            argc = (int) (long) argcWord;
            long slot = rsp0 + word;
            boolean ok = true;
            for (int i = 0; i < argc && ok; i++, slot += word) {
                ok = addString(cpu, readWord(cpu, slot, word), strings);
            }
            slot += word; // NULL after argv
            for (int i = 0; ok && i < MAX_ARGS; i++, slot += word) {
                Long ptr = readWord(cpu, slot, word);
                if (ptr == null || ptr == 0) {
                    break;
                }
                ok = addString(cpu, ptr, strings);
                envc++;
            }
            if (!ok) {
                strings.clear();
                argc = envc = 0;
            }
        }
        writeHeaderRaw(bits, rsp0, rip0, inferred, strings, argc, envc);
    }

    private void writeHeaderRaw(int bits, long rsp0, long rip0, boolean inferred, List<Str> strings, int argc,
            int envc) {
        byte[] h = new byte[8 + 4 + 16 + 8 + strings.size() * 12];
        System.arraycopy(MAGIC, 0, h, 0, 8);
        h[8] = VERSION;
        h[9] = PRODUCER_MMULAB;
        h[10] = (byte) bits;
        h[11] = (byte) (inferred ? FLAG_RSP0_INFERRED : 0);
        putLe(h, 12, rsp0, 8);
        putLe(h, 20, rip0, 8);
        putLe(h, 28, argc, 4);
        putLe(h, 32, envc, 4);
        int p = 36;
        for (Str s : strings) {
            putLe(h, p, s.addr, 8);
            putLe(h, p + 8, s.len, 4);
            p += 12;
        }
        write(h, 0, h.length);
    }

    private static boolean addString(Vcpu cpu, Long ptr, List<Str> out) {
        if (ptr == null || ptr == 0) {
            return false;
        }
        long len = 0;
        while (len < MAX_STRING) {
            Long b = readByte(cpu, ptr + len);
            if (b == null) {
                return false;
            }
            if (b == 0) {
                out.add(new Str(ptr, (int) len));
                return true;
            }
            len++;
        }
        return false;
    }

    /**
     * Finds the initial stack pointer near {@code rsp}: the word holding argc, followed by argv
     * pointers, NULL, envp pointers, NULL and an auxiliary vector ending in AT_NULL that contains
     * AT_PAGESZ. Returns -1 when no candidate within 16 words fits.
     */
    static long findInitialStack(Vcpu cpu, long rsp) {
        int word = cpu.state.longMode64 ? 8 : 4;
        for (int d = 0; d <= 16; d++) {
            for (int sign = 1; sign >= -1; sign -= 2) {
                long q = rsp + (long) sign * d * word;
                if (looksLikeInitialStack(cpu, q, word)) {
                    return q;
                }
                if (d == 0) {
                    break;
                }
            }
        }
        return -1;
    }

    private static boolean looksLikeInitialStack(Vcpu cpu, long q, int word) {
        Long argc = readWord(cpu, q, word);
        if (argc == null || argc < 0 || argc > MAX_ARGS) {
            return false;
        }
        long limit = q + (64L << 20);
        long slot = q + word;
        for (long i = 0; i < argc; i++, slot += word) {
            Long p = readWord(cpu, slot, word);
            if (p == null || p <= q || p >= limit) {
                return false;
            }
        }
        Long nul = readWord(cpu, slot, word);
        if (nul == null || nul != 0) {
            return false;
        }
        slot += word;
        for (int i = 0;; i++, slot += word) {
            Long p = readWord(cpu, slot, word);
            if (p == null || i > MAX_ARGS) {
                return false;
            }
            if (p == 0) {
                break;
            }
            if (p <= q || p >= limit) {
                return false;
            }
        }
        slot += word;
        boolean pagesz = false;
        for (int i = 0; i < 64; i++, slot += 2L * word) {
            Long type = readWord(cpu, slot, word);
            Long val = readWord(cpu, slot + word, word);
            if (type == null || val == null) {
                return false;
            }
            if (type == 0) {
                return pagesz;
            }
            if (type == 6 && val == 4096) {
                pagesz = true;
            }
        }
        return false;
    }

    private static Long readWord(Vcpu cpu, long va, int word) {
        long v = 0;
        for (int i = 0; i < word; i++) {
            Long b = readByte(cpu, va + i);
            if (b == null) {
                return null;
            }
            v |= b << (8 * i);
        }
        return v;
    }

    /** One byte through a debug walk (no A/D updates, no TLB fills); null when unmapped. */
    private static Long readByte(Vcpu cpu, long va) {
        DebugWalk w = cpu.mmu().debugWalk(va);
        if (!w.translated()) {
            return null;
        }
        PhysicalMemory mem = cpu.mmu().memory();
        if (!mem.isRam(w.physical(), 1)) {
            return null;
        }
        return (long) mem.read8(w.physical());
    }

    private static void putLe(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    static int putUleb(byte[] b, int p, long v) {
        do {
            int x = (int) (v & 0x7f);
            v >>>= 7;
            b[p++] = (byte) (v != 0 ? x | 0x80 : x);
        } while (v != 0);
        return p;
    }

    /** Slot {@code i} (REG_FSW and above) of {@code s}: the x87 and MXCSR state as FXSAVE stores it. */
    private static long fpSlot(CpuState s, int i) {
        return switch (i) {
            case REG_FSW -> s.fpu.statusWord() & 0xffff;
            case REG_FTW -> s.fpu.abridgedTag() & 0xff;
            case REG_FCW -> s.fpu.fcw & 0xffff;
            case REG_MXCSR -> s.mxcsr & 0xffff_ffffL;
            default -> i < REG_FP_SE0 ? s.fpu.sig[i - REG_FP_SIG0] : s.fpu.se[i - REG_FP_SE0] & 0xffff;
        };
    }

    /** Bytes the uleb128 of the 128-bit value hi:lo takes. */
    static int ulebLength(long lo, long hi) {
        int bits = hi != 0 ? 128 - Long.numberOfLeadingZeros(hi) : 64 - Long.numberOfLeadingZeros(lo | 1);
        return (bits + 6) / 7;
    }

    /** uleb128 of the 128-bit value hi:lo at b[p]; returns the position after it. */
    static int putUleb128(byte[] b, int p, long lo, long hi) {
        do {
            int x = (int) (lo & 0x7f);
            lo = (lo >>> 7) | (hi << 57);
            hi >>>= 7;
            b[p++] = (byte) (lo != 0 || hi != 0 ? x | 0x80 : x);
        } while (lo != 0 || hi != 0);
        return p;
    }

    static int putZigzag(byte[] b, int p, long v) {
        return putUleb(b, p, (v << 1) ^ (v >> 63));
    }
}
