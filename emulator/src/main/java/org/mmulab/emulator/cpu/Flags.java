package org.mmulab.emulator.cpu;

/**
 * RFLAGS with lazily evaluated arithmetic flags.
 *
 * <p>An arithmetic instruction records only what it computed ({@link #op}, operand size, operands
 * and result); CF/PF/AF/ZF/SF/OF are derived when somebody asks ({@link #get()}, {@link #cond(int)},
 * {@link #cf()}). Bits other than the six arithmetic ones (DF, IF, AC, ID, TF...) always live in
 * {@link #value}. When {@link #op} is {@link #NONE}, {@link #value} holds the full architectural value.
 *
 * <p><b>Undefined flags.</b> Where the SDM (Vol. 2, each instruction's "Flags Affected") leaves a flag
 * undefined, Intel and AMD parts differ, and so do generations of one vendor. mmulab always gives the
 * AMD Zen (EPYC) result, one behaviour on every host, whatever the host CPU is:
 * <table>
 * <caption>Values mmulab gives flags the SDM leaves undefined</caption>
 * <tr><th>instruction</th><th>undefined (SDM)</th><th>mmulab</th></tr>
 * <tr><td>AND OR XOR TEST</td><td>AF</td><td>AF = 0</td></tr>
 * <tr><td>SHL/SAL SHR SAR, count != 0</td><td>AF; OF if count != 1; CF if count &ge; size</td>
 *     <td>AF = 1; SHL: OF = MSB(result) XOR CF for every count, SHR/SAR: OF = 0 when count != 1;
 *     CF = the last bit shifted out (0 once every bit is gone)</td></tr>
 * <tr><td>ROL ROR RCL RCR, count != 0</td><td>OF if count != 1</td><td>OF by the count-1 formula on the
 *     result (ROL: MSB XOR CF; ROR: the two top bits XORed)</td></tr>
 * <tr><td>SHLD SHRD, count != 0</td><td>AF; OF if count != 1; all if count &gt; size</td><td>AF = 1, OF by
 *     the count-1 formula, SF ZF PF from the result; 16-bit counts above 16 as a 48-bit funnel</td></tr>
 * <tr><td>MUL IMUL</td><td>SF ZF AF PF</td><td>unchanged</td></tr>
 * <tr><td>DIV IDIV</td><td>all six</td><td>SF ZF PF = 0, AF = 1, CF OF unchanged</td></tr>
 * <tr><td>BSF BSR</td><td>CF OF SF AF PF</td><td>unchanged (only ZF written)</td></tr>
 * <tr><td>LZCNT</td><td>OF SF AF PF</td><td>SF AF PF = 0, OF unchanged</td></tr>
 * <tr><td>BT BTS BTR BTC</td><td>OF SF AF PF</td><td>unchanged (only CF written)</td></tr>
 * </table>
 * The register oracle never depends on this choice: its comparator ignores undefined flags and every
 * register or branch they flow into (test-images {@code TraceComparator}), so the suite passes on
 * Intel and AMD hosts alike.
 */
public final class Flags {
    public static final long ARITH = CpuState.CF | CpuState.PF | CpuState.AF | CpuState.ZF | CpuState.SF | CpuState.OF;

    // Lazy operation kinds.
    public static final int NONE = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7, NEG = 8,
            SHL = 9, SHR = 10, SAR = 11, MUL = 12,
            /**
             * A logic op's SF/ZF/PF (from {@link #r}) and AF = 0, with CF = {@link #c} and OF = ({@link #b} != 0)
             * replaced by a later rotate or multiply ({@link #setCfOf}), so that pair needs no materialization.
             */
            LOGIC_CO = 13;

    private long value = CpuState.RFLAGS_FIXED | CpuState.IF;
    int op;
    /** Operand size in bits: 8, 16, 32 or 64. */
    int bits;
    /** First operand, second operand (or shift count, or carry-in), result; not truncated. */
    long a, b, r;
    /** Carry-in for ADC/SBB, preserved CF for INC/DEC, overflow for MUL. */
    boolean c;

    /** The architectural RFLAGS value. */
    public long get() {
        if (op == NONE) {
            return value;
        }
        return (value & ~ARITH) | arith();
    }

    /** Sets RFLAGS (bit 1 forced to 1); drops any lazy state. */
    public void set(long v) {
        value = v | CpuState.RFLAGS_FIXED;
        op = NONE;
    }

    /** Materializes the lazy flags into {@link #value} (before an instruction edits single bits). */
    void materialize() {
        if (op != NONE) {
            value = (value & ~ARITH) | arith();
            op = NONE;
        }
    }

    long raw() {
        return value;
    }

    /** Replaces the arithmetic bits selected by {@code mask} (lazy state is materialized first). */
    void setBits(long mask, long bitsValue) {
        materialize();
        value = (value & ~mask) | (bitsValue & mask);
    }

    /**
     * Replaces CF and OF, keeping SF/ZF/AF/PF (ROL/ROR, MUL/IMUL). After a logic op (the usual case: XOR,
     * AND, TEST before a rotate or multiply) the state stays lazy as {@link #LOGIC_CO}; otherwise the lazy
     * state is materialized first, as {@link #setBits}.
     */
    void setCfOf(boolean cf, boolean of) {
        int o = op;
        if (o == LOGIC || o == LOGIC_CO) {
            op = LOGIC_CO;
            c = cf;
            b = of ? 1 : 0;
            return;
        }
        setBits(CpuState.CF | CpuState.OF, (cf ? CpuState.CF : 0) | (of ? CpuState.OF : 0));
    }

    boolean df() {
        return (value & CpuState.DF) != 0;
    }

    void setDf(boolean on) {
        value = on ? value | CpuState.DF : value & ~CpuState.DF;
    }

    void lazy(int op, int bits, long a, long b, long r) {
        this.op = op;
        this.bits = bits;
        this.a = a;
        this.b = b;
        this.r = r;
    }

    void lazy(int op, int bits, long a, long b, long r, boolean c) {
        this.op = op;
        this.bits = bits;
        this.a = a;
        this.b = b;
        this.r = r;
        this.c = c;
    }

    static long mask(int bits) {
        return bits == 64 ? -1L : (1L << bits) - 1;
    }

    private static long parity(long r) {
        return (Integer.bitCount((int) r & 0xff) & 1) == 0 ? CpuState.PF : 0;
    }

    public boolean cf() {
        switch (op) {
            case NONE:
                return (value & CpuState.CF) != 0;
            case ADD: {
                long m = mask(bits);
                return Long.compareUnsigned(r & m, a & m) < 0;
            }
            case SUB: {
                long m = mask(bits);
                return Long.compareUnsigned(a & m, b & m) < 0;
            }
            case LOGIC:
                return false;
            default:
                return (arith() & CpuState.CF) != 0;
        }
    }

    public boolean zf() {
        if (op == NONE) {
            return (value & CpuState.ZF) != 0;
        }
        if (op == MUL) {
            return (arith() & CpuState.ZF) != 0;
        }
        return (r & mask(bits)) == 0;
    }

    /**
     * Evaluates condition code {@code cc} (SDM Vol. 1 appendix B, table B-1). Kept small so the JIT inlines
     * it into the run loop's Jcc: E/NE/S/NS (what most loop branches test) come straight from the lazy
     * result for every kind except MUL (AMD keeps SF/ZF there); the rest is {@link #condLazy}.
     */
    public boolean cond(int cc) {
        int k = cc >> 1;
        int o = op;
        if ((k == 2 || k == 4) && o != NONE && o != MUL) {
            int sh = 64 - bits;
            boolean v = k == 2 ? (r << sh) == 0 : (r << sh) < 0;
            return ((cc & 1) != 0) != v;
        }
        return condLazy(cc);
    }

    private boolean condLazy(int cc) {
        boolean v;
        int o = op;
        if (o == SUB || o == LOGIC) {
            long m = mask(bits);
            int sh = 64 - bits;
            switch (cc >> 1) {
                case 2: // E
                    v = (r & m) == 0;
                    break;
                case 3: // BE
                    v = (r & m) == 0 || (o == SUB && Long.compareUnsigned(a & m, b & m) < 0);
                    break;
                case 6: // L: signed a < b
                    v = o == SUB ? (a << sh) < (b << sh) : (r << sh) < 0;
                    break;
                case 7: // LE
                    v = o == SUB ? (a << sh) <= (b << sh) : (r << sh) <= 0;
                    break;
                case 1: // B
                    v = o == SUB && Long.compareUnsigned(a & m, b & m) < 0;
                    break;
                case 4: // S
                    v = (r << sh) < 0;
                    break;
                default:
                    return condSlow(cc);
            }
            return ((cc & 1) != 0) != v;
        }
        return condSlow(cc);
    }

    private boolean condSlow(int cc) {
        long f = get();
        boolean v;
        switch (cc >> 1) {
            case 0:
                v = (f & CpuState.OF) != 0;
                break;
            case 1:
                v = (f & CpuState.CF) != 0;
                break;
            case 2:
                v = (f & CpuState.ZF) != 0;
                break;
            case 3:
                v = (f & (CpuState.CF | CpuState.ZF)) != 0;
                break;
            case 4:
                v = (f & CpuState.SF) != 0;
                break;
            case 5:
                v = (f & CpuState.PF) != 0;
                break;
            case 6:
                v = ((f & CpuState.SF) != 0) != ((f & CpuState.OF) != 0);
                break;
            default:
                v = (f & CpuState.ZF) != 0 || (((f & CpuState.SF) != 0) != ((f & CpuState.OF) != 0));
                break;
        }
        return ((cc & 1) != 0) != v;
    }

    /** The six arithmetic flags implied by the lazy state. */
    private long arith() {
        final long m = mask(bits);
        final long sb = 1L << (bits - 1);
        final long rm = r & m;
        long f = parity(rm);
        if (rm == 0) {
            f |= CpuState.ZF;
        }
        if ((rm & sb) != 0) {
            f |= CpuState.SF;
        }
        switch (op) {
            case ADD:
            case ADC: {
                long am = a & m;
                boolean carry = op == ADC && c ? Long.compareUnsigned(rm, am) <= 0 : Long.compareUnsigned(rm, am) < 0;
                if (carry) {
                    f |= CpuState.CF;
                }
                if (((a ^ r) & (b ^ r) & sb) != 0) {
                    f |= CpuState.OF;
                }
                f |= (a ^ b ^ r) & CpuState.AF;
                break;
            }
            case SUB:
            case SBB: {
                long am = a & m;
                long bm = b & m;
                boolean borrow = op == SBB && c ? Long.compareUnsigned(am, bm) <= 0 : Long.compareUnsigned(am, bm) < 0;
                if (borrow) {
                    f |= CpuState.CF;
                }
                if (((a ^ b) & (a ^ r) & sb) != 0) {
                    f |= CpuState.OF;
                }
                f |= (a ^ b ^ r) & CpuState.AF;
                break;
            }
            case LOGIC:
                break;
            case LOGIC_CO:
                if (c) {
                    f |= CpuState.CF;
                }
                if (b != 0) {
                    f |= CpuState.OF;
                }
                break;
            case INC:
                if (c) {
                    f |= CpuState.CF;
                }
                if (rm == sb) {
                    f |= CpuState.OF;
                }
                f |= (a ^ 1 ^ r) & CpuState.AF;
                break;
            case DEC:
                if (c) {
                    f |= CpuState.CF;
                }
                if (rm == sb - 1) {
                    f |= CpuState.OF;
                }
                f |= (a ^ 1 ^ r) & CpuState.AF;
                break;
            case NEG:
                if (rm != 0) {
                    f |= CpuState.CF;
                }
                if (rm == sb) {
                    f |= CpuState.OF;
                }
                f |= (a ^ r) & CpuState.AF;
                break;
            case SHL: {
                // b = count (1..31 or 1..63), a = original value.
                int n = (int) b;
                boolean cf = n <= bits && ((a >>> (bits - n)) & 1) != 0;
                if (cf) {
                    f |= CpuState.CF;
                }
                if (((rm & sb) != 0) != cf) {
                    f |= CpuState.OF;
                }
                f |= CpuState.AF; // AMD sets AF on every non-zero shift
                break;
            }
            case SHR: {
                int n = (int) b;
                long am = a & m;
                if (n <= 64 && ((am >>> (n - 1)) & 1) != 0) {
                    f |= CpuState.CF;
                }
                if (((a ^ r) & sb) != 0 && n == 1) {
                    f |= CpuState.OF;
                }
                f |= CpuState.AF; // AMD sets AF on every non-zero shift
                break;
            }
            case SAR: {
                int n = (int) b;
                long as = (a << (64 - bits)) >> (64 - bits);
                if (((as >> Math.min(n - 1, 63)) & 1) != 0) {
                    f |= CpuState.CF;
                }
                f |= CpuState.AF; // AMD sets AF on every non-zero shift
                break;
            }
            case MUL:
                // b carries the AMD-observed extra flags already computed by the instruction.
                f = b;
                break;
            default:
                throw new IllegalStateException("lazy flag op " + op);
        }
        return f;
    }
}
