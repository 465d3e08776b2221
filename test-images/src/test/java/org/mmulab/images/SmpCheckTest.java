package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The thread and fork images under {@code --check} with four vCPUs, PARALLEL and DETERMINISTIC: the
 * guest's output is the native run's and the mm's invariants hold (the PTE lock held at every PTE write,
 * no lock held at a return to user mode, no page leaked once every task has exited). A violation makes
 * mmulab print "--check:" lines and exit 70.
 */
class SmpCheckTest {
    static Stream<Arguments> runs() {
        List<Arguments> out = new ArrayList<>();
        for (String image : List.of("threads_fault-glibc", "fork_cow-glibc", "fork_many-musl", "munmap_race-glibc",
                "thread_segv-glibc")) {
            out.add(Arguments.of(image, List.of("--cpus", "4", "--check")));
            out.add(Arguments.of(image, List.of("--cpus", "4", "--check", "--deterministic", "--seed", "5")));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("runs")
    void invariantsHoldWithFourVcpus(String image, List<String> options) throws IOException {
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env"));
        args.addAll(options);
        args.add(Images.image("x86_64", image).toString());
        MmulabRun r = MmulabRun.execute(args);
        assertFalse(r.err().contains("--check:"), r.err());
        assertFalse(r.err().contains("internal error"), r.err());
        assertEquals(Files.readString(Images.expected("x86_64", image, "stdout")), r.out());
        assertEquals(Integer.parseInt(Files.readString(Images.expected("x86_64", image, "status")).trim()), r.status(), r.err());
    }
}
