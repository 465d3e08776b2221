package org.mmulab.images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The image manifest {@code images.tsv}: one line per run of an image that the suite boots and that
 * {@code build.sh --record} runs natively. Columns (tab-separated, "-" for empty): name, arch ("*" or
 * a comma-separated list), expected status, check ("stdout" or "status"), guest args, guest env, and
 * an optional seventh, modes: "-" (or absent) boots the entry in the base mode only (one vCPU,
 * parallel scheduling, each paging mode of its architecture), "smp" in every mode (--cpus 1 and 4,
 * parallel and --deterministic).
 * A name is an image name, or {@code image@variant} for a further run of the same image with other
 * arguments; expected outputs are stored under the name.
 */
public record ImageManifest(List<Entry> entries) {
    public enum Check { STDOUT, STATUS }

    /**
     * One manifest line.
     *
     * @param arches  empty: every architecture
     * @param args    guest arguments after argv[0]
     * @param env     the whole guest environment, NAME=VALUE
     * @param smp     booted in every SMP mode, not only the base mode
     */
    public record Entry(String name, Set<String> arches, int status, Check check, List<String> args, List<String> env,
            boolean smp, int line) {
        /** The image file name in bin/&lt;arch&gt;/. */
        public String image() {
            int at = name.indexOf('@');
            return at < 0 ? name : name.substring(0, at);
        }

        /** A variant named {@code @slow...}: booted only by the slow profile. */
        public boolean slow() {
            return name.contains("@slow");
        }

        public boolean appliesTo(String arch) {
            return arches.isEmpty() || arches.contains(arch);
        }

        @Override
        public String toString() {
            return name + (args.isEmpty() ? "" : " " + String.join(" ", args));
        }
    }

    public static ImageManifest load(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
    }

    public static ImageManifest load() throws IOException {
        return load(Images.moduleDir().resolve("images.tsv"));
    }

    public static ImageManifest parse(List<String> lines, String source) {
        List<Entry> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\t", -1);
            String where = source + ":" + (i + 1);
            if (f.length != 6 && f.length != 7) {
                throw new IllegalArgumentException(where + ": expected 6 or 7 tab-separated fields, found " + f.length);
            }
            boolean smp = false;
            if (f.length == 7) {
                smp = switch (f[6]) {
                    case "smp" -> true;
                    case "-" -> false;
                    default -> throw new IllegalArgumentException(where + ": modes must be smp or -, got '" + f[6] + "'");
                };
            }
            String name = f[0];
            if (!name.matches("[A-Za-z0-9_.-]+(@[A-Za-z0-9_.-]+)?")) {
                throw new IllegalArgumentException(where + ": bad image name '" + name + "'");
            }
            Set<String> arches = f[1].equals("*") ? Set.of() : Set.copyOf(Arrays.asList(f[1].split(",")));
            int status;
            try {
                status = Integer.parseInt(f[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": status must be a number, got '" + f[2] + "'");
            }
            Check check = switch (f[3]) {
                case "stdout" -> Check.STDOUT;
                case "status" -> Check.STATUS;
                default -> throw new IllegalArgumentException(where + ": check must be stdout or status, got '" + f[3] + "'");
            };
            List<String> args = words(f[4]);
            List<String> env = words(f[5]);
            for (String kv : env) {
                if (kv.indexOf('=') <= 0) {
                    throw new IllegalArgumentException(where + ": env entries are NAME=VALUE, got '" + kv + "'");
                }
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException(where + ": duplicate name '" + name + "' (use image@variant)");
            }
            out.add(new Entry(name, arches, status, check, args, env, smp, i + 1));
        }
        return new ImageManifest(List.copyOf(out));
    }

    private static List<String> words(String field) {
        if (field.equals("-") || field.isBlank()) {
            return List.of();
        }
        return List.of(field.trim().split(" +"));
    }
}
