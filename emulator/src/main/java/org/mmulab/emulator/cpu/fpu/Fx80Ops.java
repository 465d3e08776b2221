package org.mmulab.emulator.cpu.fpu;

import static org.mmulab.emulator.cpu.fpu.Fx80.BIAS;
import static org.mmulab.emulator.cpu.fpu.Fx80.DE;
import static org.mmulab.emulator.cpu.fpu.Fx80.DENORMAL;
import static org.mmulab.emulator.cpu.fpu.Fx80.IE;
import static org.mmulab.emulator.cpu.fpu.Fx80.INF;
import static org.mmulab.emulator.cpu.fpu.Fx80.INT_BIT;
import static org.mmulab.emulator.cpu.fpu.Fx80.PE;
import static org.mmulab.emulator.cpu.fpu.Fx80.QNAN;
import static org.mmulab.emulator.cpu.fpu.Fx80.RC_DOWN;
import static org.mmulab.emulator.cpu.fpu.Fx80.RC_NEAREST;
import static org.mmulab.emulator.cpu.fpu.Fx80.RC_UP;
import static org.mmulab.emulator.cpu.fpu.Fx80.RC_ZERO;
import static org.mmulab.emulator.cpu.fpu.Fx80.SNAN;
import static org.mmulab.emulator.cpu.fpu.Fx80.UNSUPPORTED;
import static org.mmulab.emulator.cpu.fpu.Fx80.ZE;
import static org.mmulab.emulator.cpu.fpu.Fx80.ZERO;
import static org.mmulab.emulator.cpu.fpu.Fx80.classify;

/**
 * The x87 operations beyond the four rules and the square root, on an {@link Fx80} unit (results in its
 * fields, as there): FPREM/FPREM1 (SDM Vol. 2 FPREM, FPREM1), FSCALE, FRNDINT and the integer rounding
 * behind FIST/FBSTP, FXTRACT, and the FCOM/FUCOM comparison.
 */
public final class Fx80Ops {
    private Fx80Ops() {
    }

    /**
     * FPREM ({@code ieee} false: quotient truncated) or FPREM1 (quotient rounded to nearest even) of
     * a by b (SDM Vol. 2 FPREM/FPREM1): the exact partial remainder; {@link Fx80#quot} and {@link Fx80#partial}
     * give C0/C3/C1 and C2. An exponent difference of 64 or more reduces by 2^N with N = 32..63 (the
     * difference's low five bits plus 32, as Bochs chooses) and reports an incomplete reduction.
     */
    public static void rem(Fx80 u, int aSe, long aSig, int bSe, long bSig, boolean ieee) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        u.quot = 0;
        u.partial = false;
        u.c1 = false;
        if (u.special2(aSe, aSig, ca, bSe, bSig, cb)) {
            return;
        }
        if (ca == INF || cb == ZERO) {
            if (ca == DENORMAL || cb == DENORMAL) {
                u.flags |= DE;
            }
            u.invalid();
            return;
        }
        u.denormalCheck(ca, cb);
        int sign = (aSe >>> 15) & 1;
        if (ca == ZERO || cb == INF) {
            if (ca == DENORMAL) {
                u.normalize(aSe, aSig);
                u.roundPackX(sign, u.nExp, u.nSig, 0, 64, true);
            } else {
                u.set(aSe, aSig);
            }
            return;
        }
        u.normalize(aSe, aSig);
        int ea = u.nExp;
        long ma = u.nSig;
        u.normalize(bSe, bSig);
        int eb = u.nExp;
        long mb = u.nSig;
        int d = ea - eb;
        long r;
        int re;
        if (d < 0) {
            r = ma;
            re = ea;
            if (ieee && d == -1 && Long.compareUnsigned(ma, mb) > 0) {
                r = mb - (ma - mb);
                sign ^= 1;
                u.quot = 1;
            }
        } else {
            int k = d;
            if (d >= 64) {
                k = (d & 31) | 32;
                u.partial = true;
            }
            r = ma;
            long q = 0;
            if (Long.compareUnsigned(r, mb) >= 0) {
                r -= mb;
                q = 1;
            }
            for (int i = 0; i < k; i++) {
                boolean carry = r < 0;
                r <<= 1;
                q <<= 1;
                if (carry || Long.compareUnsigned(r, mb) >= 0) {
                    r -= mb;
                    q |= 1;
                }
            }
            re = ea - k;
            if (ieee && !u.partial) {
                // r < mb; compare 2r with mb without overflow.
                int c = r < 0 ? 1 : Long.compareUnsigned(r << 1, mb);
                if (c > 0 || (c == 0 && (q & 1) != 0)) {
                    r = mb - r;
                    sign ^= 1;
                    q++;
                }
            }
            u.quot = u.partial ? 0 : (int) (q & 7);
        }
        if (r == 0) {
            u.set((aSe & 0x8000), 0);
            return;
        }
        int s = Long.numberOfLeadingZeros(r);
        u.roundPackX(sign, re - s, r << s, 0, 64, true);
    }

    /** FSCALE: a * 2^trunc(b). */
    public static void scale(Fx80 u, int aSe, long aSig, int bSe, long bSig) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        u.c1 = false;
        if (u.special2(aSe, aSig, ca, bSe, bSig, cb)) {
            return;
        }
        u.denormalCheck(ca, cb);
        boolean bNeg = (bSe & 0x8000) != 0;
        if (cb == INF) {
            if ((ca == ZERO && !bNeg) || (ca == INF && bNeg)) {
                u.invalid();
            } else if (ca == ZERO || ca == INF) {
                u.set(aSe, aSig);
            } else if (bNeg) {
                u.set(aSe & 0x8000, 0);
            } else {
                u.set((aSe & 0x8000) | 0x7fff, INT_BIT);
            }
            return;
        }
        if (ca == ZERO || ca == INF) {
            u.set(aSe, aSig);
            return;
        }
        int n = 0;
        if (cb != ZERO) {
            u.normalize(bSe, bSig);
            int ue = u.nExp - BIAS;
            if (ue > 20) {
                n = 1 << 20;
            } else if (ue >= 0) {
                n = (int) (u.nSig >>> (63 - ue));
            }
            if (bNeg) {
                n = -n;
            }
        }
        u.normalize(aSe, aSig);
        u.roundPackX((aSe >>> 15) & 1, u.nExp + n, u.nSig, 0, 64, true);
    }

    /**
     * Rounds a finite operand to an integer magnitude per {@code rc}: returns the magnitude, sets
     * {@link Fx80#c1} (rounded up in magnitude) and {@link Fx80#partial} to "does not fit in 64 bits";
     * PE in the flags when inexact.
     */
    public static long roundToInt(Fx80 u, int se, long sig, int rc) {
        u.partial = false;
        u.c1 = false;
        int c = classify(se, sig);
        if (c == ZERO) {
            return 0;
        }
        u.normalize(se, sig);
        int sign = (se >>> 15) & 1;
        int ue = u.nExp - BIAS;
        if (ue >= 64) {
            u.partial = true;
            return 0;
        }
        if (ue == 63) {
            return u.nSig;
        }
        long ip, rb;
        if (ue < 0) {
            ip = 0;
            rb = ue == -1 ? u.nSig : (ue > -64 ? (u.nSig >>> (-1 - ue)) | ((u.nSig << (65 + ue)) != 0 ? 1 : 0) : 1);
        } else {
            ip = u.nSig >>> (63 - ue);
            rb = u.nSig << (ue + 1);
        }
        boolean inc = switch (rc) {
            case RC_NEAREST -> rb < 0 && (rb != Long.MIN_VALUE || (ip & 1) != 0);
            case RC_DOWN -> sign != 0 && rb != 0;
            case RC_UP -> sign == 0 && rb != 0;
            default -> false;
        };
        if (rb != 0) {
            u.flags |= PE;
        }
        if (inc) {
            ip++;
            u.c1 = true;
            if (ip == 0) {
                u.partial = true;
            }
        }
        return ip;
    }

    /** FRNDINT: round to an integral value per RC. */
    public static void roundInt(Fx80 u, int se, long sig) {
        int c = classify(se, sig);
        u.c1 = false;
        if (u.special1(se, sig, c)) {
            return;
        }
        if (c == DENORMAL) {
            u.flags |= DE;
        }
        if (c == ZERO || c == INF || (se & 0x7fff) >= BIAS + 63) {
            u.set(se, sig);
            return;
        }
        long mag = roundToInt(u, se, sig, u.rc());
        int sign = (se >>> 15) & 1;
        if (u.partial) { // 2^64 after rounding up
            u.set((sign << 15) | (BIAS + 64), INT_BIT);
        } else {
            u.packInt(sign, mag);
        }
        u.partial = false;
    }

    /** FXTRACT: significand in u.rSe/u.rSig, exponent in u.xSe/u.xSig. */
    public static void extract(Fx80 u, int se, long sig) {
        int c = classify(se, sig);
        u.c1 = false;
        if (u.special1(se, sig, c)) {
            u.xSe = u.rSe;
            u.xSig = u.rSig;
            return;
        }
        if (c == ZERO) {
            u.flags |= ZE;
            u.xSe = 0xffff;
            u.xSig = INT_BIT;
            u.set(se, sig);
            return;
        }
        if (c == INF) {
            u.xSe = 0x7fff;
            u.xSig = INT_BIT;
            u.set(se, sig);
            return;
        }
        if (c == DENORMAL) {
            u.flags |= DE;
        }
        u.normalize(se, sig);
        int ue = u.nExp - BIAS;
        int sign = (se >>> 15) & 1;
        long m = u.nSig;
        u.packInt(ue < 0 ? 1 : 0, Math.abs(ue));
        u.xSe = u.rSe;
        u.xSig = u.rSig;
        u.set((sign << 15) | BIAS, m);
    }

    /**
     * Compares a with b: -1 less, 0 equal, 1 greater, 2 unordered. IE for an SNaN or unsupported
     * operand, and for any NaN unless {@code quiet} (FUCOM*, FUCOMI*); DE for a denormal operand.
     */
    public static int compare(Fx80 u, int aSe, long aSig, int bSe, long bSig, boolean quiet) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) {
            u.flags |= IE;
            return 2;
        }
        if (ca >= QNAN || cb >= QNAN) {
            if (!quiet || ca == SNAN || cb == SNAN) {
                u.flags |= IE;
            }
            return 2;
        }
        u.denormalCheck(ca, cb);
        if (ca == ZERO && cb == ZERO) {
            return 0;
        }
        int sa = (aSe >>> 15) & 1, sb = (bSe >>> 15) & 1;
        if (ca == ZERO) {
            return sb != 0 ? 1 : -1;
        }
        if (cb == ZERO) {
            return sa != 0 ? -1 : 1;
        }
        if (sa != sb) {
            return sa != 0 ? -1 : 1;
        }
        u.normalize(aSe, aSig);
        int ea = u.nExp;
        long ma = u.nSig;
        u.normalize(bSe, bSig);
        int mag = ea != u.nExp ? Integer.compare(ea, u.nExp) : Long.compareUnsigned(ma, u.nSig);
        return sa != 0 ? -mag : mag;
    }
}
