package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.images.oracle.X86Insn.AF;
import static org.mmulab.images.oracle.X86Insn.ARITH;
import static org.mmulab.images.oracle.X86Insn.CF;
import static org.mmulab.images.oracle.X86Insn.OF;
import static org.mmulab.images.oracle.X86Insn.PF;
import static org.mmulab.images.oracle.X86Insn.SF;
import static org.mmulab.images.oracle.X86Insn.ZF;

import java.util.HexFormat;

import org.junit.jupiter.api.Test;

class X86InsnTest {
    private static X86Insn x64(String hex) {
        return X86Insn.decode(HexFormat.ofDelimiter(" ").parseHex(hex), true);
    }

    private static X86Insn x32(String hex) {
        return X86Insn.decode(HexFormat.ofDelimiter(" ").parseHex(hex), false);
    }

    @Test
    void multiplyAndDivide() {
        assertEquals(SF | ZF | AF | PF, x64("48 0f af c3").undefinedFlags(0), "imul rax,rbx");
        assertEquals(SF | ZF | AF | PF, x64("48 6b c0 0a").undefinedFlags(0), "imul rax,rax,10");
        assertEquals(SF | ZF | AF | PF, x64("69 c0 e8 03 00 00").undefinedFlags(0), "imul eax,eax,1000");
        assertEquals(SF | ZF | AF | PF, x64("48 f7 e2").undefinedFlags(0), "mul rdx");
        assertEquals(SF | ZF | AF | PF, x64("f6 eb").undefinedFlags(0), "imul bl");
        assertEquals(ARITH, x64("48 f7 f1").undefinedFlags(0), "div rcx");
        assertEquals(ARITH, x64("49 f7 f8").undefinedFlags(0), "idiv r8");
        assertEquals(0, x64("48 f7 d8").undefinedFlags(0), "neg rax");
        assertEquals(0, x64("48 f7 d0").undefinedFlags(0), "not rax");
        assertEquals(ARITH, x64("48 f7 d8").writtenFlags(0), "neg writes all");
        assertEquals(0, x64("48 f7 d0").writtenFlags(0), "not writes none");
    }

    @Test
    void logicOpsLeaveAfUndefined() {
        assertEquals(AF, x64("48 21 d8").undefinedFlags(0), "and rax,rbx");
        assertEquals(AF, x64("31 c0").undefinedFlags(0), "xor eax,eax");
        assertEquals(AF, x64("48 85 c0").undefinedFlags(0), "test rax,rax");
        assertEquals(AF, x64("a8 01").undefinedFlags(0), "test al,1");
        assertEquals(AF, x64("83 e0 0f").undefinedFlags(0), "and eax,15");
        assertEquals(AF, x64("f6 c3 01").undefinedFlags(0), "test bl,1");
        assertEquals(0, x64("48 01 d8").undefinedFlags(0), "add rax,rbx defines everything");
        assertEquals(0, x64("83 c0 0f").undefinedFlags(0), "add eax,15");
        assertEquals(0, x64("48 39 d8").undefinedFlags(0), "cmp");
    }

    @Test
    void shiftsDependOnTheCount() {
        assertEquals(AF, x64("48 d1 e0").undefinedFlags(0), "shl rax,1: OF defined");
        assertEquals(AF | OF, x64("48 c1 e0 04").undefinedFlags(0), "shl rax,4");
        assertEquals(0, x64("48 c1 e0 40").undefinedFlags(0), "shl rax,64: masked count 0, flags unchanged");
        assertEquals(0, x64("c1 e0 20").undefinedFlags(0), "shl eax,32: masked count 0");
        assertEquals(AF | OF, x64("48 d3 f8").undefinedFlags(5), "sar rax,cl with cl=5");
        assertEquals(AF, x64("48 d3 f8").undefinedFlags(0x101), "sar rax,cl with cl=1 (rcx=0x101)");
        assertEquals(0, x64("48 d3 f8").undefinedFlags(0x100), "cl=0");
        assertEquals(AF | OF | CF, x64("c0 e8 09").undefinedFlags(0), "shr al,9: count >= size");
        assertEquals(OF, x64("48 c1 c0 03").undefinedFlags(0), "rol rax,3");
        assertEquals(0, x64("48 d1 d0").undefinedFlags(0), "rcl rax,1");
        assertEquals(OF, x64("d3 d8").undefinedFlags(3), "rcr eax,cl");
        assertEquals(CF | OF, x64("48 c1 c0 03").writtenFlags(0), "rotates write CF and OF only");
        // the immediate is found after ModRM, SIB and displacement
        assertEquals(AF | OF, x64("48 c1 64 24 08 07").undefinedFlags(0), "shl qword [rsp+8],7");
        assertEquals(AF, x64("48 c1 a4 24 00 01 00 00 01").undefinedFlags(0), "shl qword [rsp+0x100],1");
        assertEquals(AF | OF, x64("48 c1 25 10 00 00 00 02").undefinedFlags(0), "shl qword [rip+0x10],2");
    }

    @Test
    void doubleShiftsBitScansBitTests() {
        assertEquals(AF | OF, x64("48 0f a4 d0 0d").undefinedFlags(0), "shld rax,rdx,13");
        assertEquals(AF, x64("48 0f ac d0 01").undefinedFlags(0), "shrd rax,rdx,1");
        assertEquals(AF | OF, x64("48 0f a5 d0").undefinedFlags(7), "shld rax,rdx,cl");
        assertEquals(ARITH, x64("66 0f a5 d0").undefinedFlags(20), "shld ax,dx,cl with cl=20 > 16");
        assertEquals(CF | OF | SF | AF | PF, x64("48 0f bc c2").undefinedFlags(0), "bsf rax,rdx");
        assertEquals(CF | OF | SF | AF | PF, x64("0f bd c2").undefinedFlags(0), "bsr eax,edx");
        assertEquals(OF | SF | AF | PF, x64("f3 48 0f bc c2").undefinedFlags(0), "tzcnt rax,rdx");
        assertEquals(OF | SF | AF | PF, x64("48 0f a3 c2").undefinedFlags(0), "bt rdx,rax");
        assertEquals(OF | SF | AF | PF, x64("48 0f ba e8 03").undefinedFlags(0), "bts rax,3");
        assertEquals(CF | OF | SF | AF | PF, x64("48 0f ab c2").writtenFlags(0), "bts leaves ZF alone");
        assertEquals(ARITH, x64("f3 48 0f bc c9").modelDependentFlags(), "tzcnt/rep bsf depends on BMI1");
        assertEquals(0, x64("48 0f bc c9").modelDependentFlags(), "plain bsf does not");
        assertEquals(0, x64("f3 48 0f bd c2").modelDependentFlags(), "lzcnt: ABM is advertised");
        assertEquals(OF | SF | AF | PF, x64("f3 48 0f bd c2").undefinedFlags(0), "lzcnt rax,rdx");
    }

    @Test
    void flagsOfTheX8664V2Instructions() {
        assertEquals(ARITH, x64("66 0f 38 17 ca").writtenFlags(0), "ptest writes all six");
        assertEquals(0, x64("66 0f 38 17 ca").undefinedFlags(0), "ptest leaves none undefined");
        for (String op : new String[] {"60", "61", "62", "63"}) {
            assertEquals(ARITH, x64("66 0f 3a " + op + " ca 0c").writtenFlags(0), "pcmp?str? " + op);
            assertEquals(ARITH, x64("66 48 0f 3a " + op + " ca 0c").writtenFlags(0), "pcmp?str?q " + op);
            assertEquals(0, x64("66 0f 3a " + op + " ca 0c").undefinedFlags(0));
        }
        assertEquals(0, x64("66 0f 3a 0f ca 05").writtenFlags(0), "palignr writes none");
        assertEquals(0, x64("f2 48 0f 38 f1 c2").writtenFlags(0), "crc32 writes none");
        assertEquals(0, x64("0f 38 f0 02").writtenFlags(0), "movbe writes none");
        assertEquals(ARITH, x64("f3 48 0f b8 c2").writtenFlags(0), "popcnt");
        assertEquals(0, x64("f3 48 0f b8 c2").undefinedFlags(0));
        assertEquals(ZF, x64("f0 48 0f c7 0e").writtenFlags(0), "lock cmpxchg16b");
    }

    @Test
    void prefixesAndSpecialInstructions() {
        assertTrue(x64("f3 a4").isRepString(), "rep movsb");
        assertTrue(x64("f3 48 ab").isRepString(), "rep stosq");
        assertTrue(x64("f2 ae").isRepString(), "repne scasb");
        assertFalse(x64("a4").isRepString(), "movsb without rep");
        assertFalse(x64("f3 0f 1e fa").isRepString(), "endbr64");
        assertTrue(x64("0f 05").isSyscall());
        assertFalse(x64("0f 0b").isSyscall());
        assertEquals(0, x64("c5 f9 ef c0").undefinedFlags(0), "VEX is not classified");
        assertEquals(AF, x64("3e 48 21 d8").undefinedFlags(0), "segment prefix before REX");
        assertEquals(OF, x32("27").undefinedFlags(0), "daa in 32-bit mode");
        assertEquals(0, x64("27").undefinedFlags(0), "0x27 is invalid in 64-bit mode");
        assertEquals(AF | OF, x32("67 c1 26 34 12 05").undefinedFlags(0), "16-bit addressing: shl dword [0x1234],5");
        assertEquals(0, x64("").undefinedFlags(0), "no bytes: nothing masked");
    }
}
