package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** {@code mmulab boot --paging}: the default per ELF class, the explicit modes, and the refusals. */
class CliPagingTest {
    private static MmulabRun boot(String... args) {
        List<String> all = new ArrayList<>(List.of("boot"));
        all.addAll(List.of(args));
        return MmulabRun.execute(all);
    }

    private static String pagingLine(MmulabRun r) {
        return r.err().lines().filter(l -> l.trim().startsWith("paging ")).findFirst().orElse("(no paging line)\n" + r.err());
    }

    @Test
    void i386DefaultsToPaeAndAlsoRunsUnderFourLevel() {
        String hello = Images.image("i386", "hello").toString();
        MmulabRun byDefault = boot("--stats", hello, "x");
        assertEquals(0, byDefault.status(), byDefault.err());
        assertTrue(pagingLine(byDefault).endsWith("pae"), pagingLine(byDefault));
        MmulabRun compat = boot("--stats", "--paging", "4level", hello, "x");
        assertEquals(0, compat.status(), compat.err());
        assertTrue(pagingLine(compat).endsWith("4level"), pagingLine(compat));
        assertEquals(byDefault.out(), compat.out());
    }

    @Test
    void x86_64DefaultsToFourLevelAndRefusesPae() {
        String hello = Images.image("x86_64", "hello").toString();
        MmulabRun byDefault = boot("--stats", hello);
        assertEquals(0, byDefault.status(), byDefault.err());
        assertTrue(pagingLine(byDefault).endsWith("4level"), pagingLine(byDefault));
        MmulabRun pae = boot("--paging", "pae", hello);
        assertEquals(2, pae.status());
        assertEquals(1, pae.err().lines().count(), pae.err());
        assertTrue(pae.err().contains("64-bit image needs --paging 4level"), pae.err());
    }

    @Test
    void anUnknownModeIsAUsageError() {
        MmulabRun r = boot("--paging", "5level", Images.image("x86_64", "hello").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("unknown paging mode '5level'"), r.err());
    }
}
