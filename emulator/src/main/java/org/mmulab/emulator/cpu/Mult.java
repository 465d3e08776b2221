package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.AF;
import static org.mmulab.emulator.cpu.CpuState.PF;
import static org.mmulab.emulator.cpu.CpuState.SF;
import static org.mmulab.emulator.cpu.CpuState.ZF;
import static org.mmulab.emulator.cpu.OperandAccess.RAX;
import static org.mmulab.emulator.cpu.OperandAccess.RDX;
import static org.mmulab.emulator.cpu.OperandAccess.sext;

/**
 * Multiplication and division (Bochs' {@code cpu/mult*.cc}): SDM Vol. 2 MUL, IMUL (one-, two- and
 * three-operand forms), DIV, IDIV. #DE for a zero divisor or a quotient that does not fit, raised before
 * anything is written; undefined flags follow the AMD Zen table in {@link Flags}.
 */
final class Mult {
    private Mult() {
    }

    static long umulHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    static void mulFlags(Interpreter cpu, boolean overflow) {
        // AMD leaves SF/ZF/AF/PF unchanged on MUL/IMUL (recorded on the host).
        cpu.fl.setCfOf(overflow, overflow);
    }

    static void muldiv(Interpreter cpu) {
        int sz = cpu.size();
        long src = cpu.readE(sz);
        switch (cpu.sub()) {
            case 4:
                mul(cpu, sz, src);
                break;
            case 5:
                imul1(cpu, sz, src);
                break;
            case 6:
                div(cpu, sz, src);
                break;
            default:
                idiv(cpu, sz, src);
                break;
        }
    }

    static void mul(Interpreter cpu, int sz, long src) {
        long a = cpu.getR(RAX, sz);
        if (sz < 3) {
            long p = a * src; // both below 2^32: the product fits in 64 bits
            storeProduct(cpu, sz, p);
            mulFlags(cpu, (p >>> (8 << sz)) != 0);
            return;
        }
        long hi = umulHigh(a, src);
        cpu.r[RAX] = a * src;
        cpu.r[RDX] = hi;
        mulFlags(cpu, hi != 0);
    }

    static void imul1(Interpreter cpu, int sz, long src) {
        long a = sext(cpu.getR(RAX, sz), sz);
        long b = sext(src, sz);
        if (sz < 3) {
            long p = a * b;
            storeProduct(cpu, sz, p);
            mulFlags(cpu, p != sext(p, sz));
            return;
        }
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        cpu.r[RAX] = lo;
        cpu.r[RDX] = hi;
        mulFlags(cpu, hi != (lo >> 63));
    }

    /**
     * The double-width product of an 8/16/32-bit MUL or IMUL: AX = the whole product for a byte operand,
     * else DX:AX or EDX:EAX (low half in the accumulator, high half in DX/EDX).
     */
    private static void storeProduct(Interpreter cpu, int sz, long p) {
        if (sz == 0) {
            cpu.setR(RAX, 1, p);
            return;
        }
        cpu.setR(RAX, sz, p);
        cpu.setR(RDX, sz, p >>> (8 << sz));
    }

    static void imul2(Interpreter cpu, long e, long b) {
        int sz = cpu.size();
        long x = sext(e, sz);
        long y = sext(b, sz);
        long lo = x * y;
        boolean ovf;
        if (sz == 3) {
            ovf = Math.multiplyHigh(x, y) != (lo >> 63);
        } else {
            ovf = lo != sext(lo, sz);
        }
        cpu.setR(cpu.reg(), sz, lo);
        mulFlags(cpu, ovf);
    }

    static GuestFault divideError(Interpreter cpu) {
        cpu.lastFault = "divide error at 0x" + Long.toHexString(cpu.s.rip);
        cpu.describing = true;
        return GuestFault.raise(cpu.s, Vectors.DE, 0);
    }

    static void divFlags(Interpreter cpu) {
        // AMD (recorded on the host): SF, ZF, PF cleared, AF set, CF and OF unchanged.
        cpu.fl.setBits(SF | ZF | PF | AF, AF);
    }

    static void div(Interpreter cpu, int sz, long d) {
        if (d == 0) {
            throw divideError(cpu);
        }
        switch (sz) {
            case 0: {
                long n = cpu.r[RAX] & 0xffff;
                long q = n / d;
                if (q > 0xff) {
                    throw divideError(cpu);
                }
                cpu.setR(RAX, 1, q | ((n % d) << 8));
                break;
            }
            case 1: {
                long n = ((cpu.r[RDX] & 0xffff) << 16) | (cpu.r[RAX] & 0xffff);
                long q = n / d;
                if (q > 0xffff) {
                    throw divideError(cpu);
                }
                cpu.setR(RAX, 1, q);
                cpu.setR(RDX, 1, n % d);
                break;
            }
            case 2: {
                long n = ((cpu.r[RDX] & 0xffff_ffffL) << 32) | (cpu.r[RAX] & 0xffff_ffffL);
                long q = Long.divideUnsigned(n, d);
                if ((q >>> 32) != 0) {
                    throw divideError(cpu);
                }
                cpu.setR(RAX, 2, q);
                cpu.setR(RDX, 2, Long.remainderUnsigned(n, d));
                break;
            }
            default: {
                long hi = cpu.r[RDX];
                long lo = cpu.r[RAX];
                if (hi == 0) {
                    cpu.r[RAX] = Long.divideUnsigned(lo, d);
                    cpu.r[RDX] = Long.remainderUnsigned(lo, d);
                } else {
                    if (Long.compareUnsigned(hi, d) >= 0) {
                        throw divideError(cpu);
                    }
                    div128(cpu, hi, lo, d);
                    cpu.r[RAX] = cpu.divQ;
                    cpu.r[RDX] = cpu.divR;
                }
                break;
            }
        }
        divFlags(cpu);
    }

    /** Unsigned (hi:lo) / d with hi < d (so the quotient fits in 64 bits); restoring division. */
    static void div128(Interpreter cpu, long hi, long lo, long d) {
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
        cpu.divQ = q;
        cpu.divR = rem;
    }

    static void idiv(Interpreter cpu, int sz, long src) {
        long d = sext(src, sz);
        if (d == 0) {
            throw divideError(cpu);
        }
        switch (sz) {
            case 0: {
                long n = (short) cpu.r[RAX];
                long q = n / d;
                if (q != (byte) q) {
                    throw divideError(cpu);
                }
                cpu.setR(RAX, 1, (q & 0xff) | ((n % d & 0xff) << 8));
                break;
            }
            case 1: {
                long n = (int) (((cpu.r[RDX] & 0xffff) << 16) | (cpu.r[RAX] & 0xffff));
                long q = n / d;
                if (q != (short) q) {
                    throw divideError(cpu);
                }
                cpu.setR(RAX, 1, q);
                cpu.setR(RDX, 1, n % d);
                break;
            }
            case 2: {
                long n = ((cpu.r[RDX] & 0xffff_ffffL) << 32) | (cpu.r[RAX] & 0xffff_ffffL);
                if (n == Long.MIN_VALUE && d == -1) {
                    throw divideError(cpu);
                }
                long q = n / d;
                if (q != (int) q) {
                    throw divideError(cpu);
                }
                cpu.setR(RAX, 2, q);
                cpu.setR(RDX, 2, n % d);
                break;
            }
            default: {
                long hi = cpu.r[RDX];
                long lo = cpu.r[RAX];
                if (hi == (lo >> 63)) {
                    if (lo == Long.MIN_VALUE && d == -1) {
                        throw divideError(cpu);
                    }
                    cpu.r[RAX] = lo / d;
                    cpu.r[RDX] = lo % d;
                } else {
                    boolean negN = hi < 0;
                    if (negN) { // negate 128-bit
                        lo = -lo;
                        hi = ~hi + (lo == 0 ? 1 : 0);
                    }
                    long ad = d < 0 ? -d : d;
                    if (Long.compareUnsigned(hi, ad) >= 0) {
                        throw divideError(cpu);
                    }
                    div128(cpu, hi, lo, ad);
                    long q = cpu.divQ;
                    long rem = cpu.divR;
                    boolean negQ = negN != (d < 0);
                    if (negQ ? Long.compareUnsigned(q, 1L << 63) > 0 : q < 0) {
                        throw divideError(cpu);
                    }
                    cpu.r[RAX] = negQ ? -q : q;
                    cpu.r[RDX] = negN ? -rem : rem;
                }
                break;
            }
        }
        divFlags(cpu);
    }
}
