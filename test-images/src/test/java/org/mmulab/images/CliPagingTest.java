package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.cli.Mmulab;

/** {@code mmulab boot --paging}: the default per ELF class, the explicit modes, and the refusals. */
class CliPagingTest {
    private record Result(int status, String out, String err) {
    }

    private static Result boot(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = "boot";
        System.arraycopy(args, 0, all, 1, args.length);
        int status = Mmulab.execute(all, new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String pagingLine(Result r) {
        return r.err().lines().filter(l -> l.trim().startsWith("paging ")).findFirst().orElse("(no paging line)\n" + r.err());
    }

    @Test
    void i386DefaultsToPaeAndAlsoRunsUnderFourLevel() {
        String hello = Images.image("i386", "hello").toString();
        Result byDefault = boot("--stats", hello, "x");
        assertEquals(0, byDefault.status(), byDefault.err());
        assertTrue(pagingLine(byDefault).endsWith("pae"), pagingLine(byDefault));
        Result compat = boot("--stats", "--paging", "4level", hello, "x");
        assertEquals(0, compat.status(), compat.err());
        assertTrue(pagingLine(compat).endsWith("4level"), pagingLine(compat));
        assertEquals(byDefault.out(), compat.out());
    }

    @Test
    void x86_64DefaultsToFourLevelAndRefusesPae() {
        String hello = Images.image("x86_64", "hello").toString();
        Result byDefault = boot("--stats", hello);
        assertEquals(0, byDefault.status(), byDefault.err());
        assertTrue(pagingLine(byDefault).endsWith("4level"), pagingLine(byDefault));
        Result pae = boot("--paging", "pae", hello);
        assertEquals(2, pae.status());
        assertEquals(1, pae.err().lines().count(), pae.err());
        assertTrue(pae.err().contains("64-bit image needs --paging 4level"), pae.err());
    }

    @Test
    void anUnknownModeIsAUsageError() {
        Result r = boot("--paging", "5level", Images.image("x86_64", "hello").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("unknown paging mode '5level'"), r.err());
    }
}
