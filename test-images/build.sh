#!/usr/bin/env bash
# Builds mmulab's guest images and the native register tracer, and records expected outputs.
#
#   ./build.sh                      build every image in src/images/ for x86_64, and bin/host/regtrace
#   ./build.sh --arch i386          the same sources with -m32 into bin/i386/ (no gcc-multilib needed:
#                                   -nostdlib, and mmrt.h defines the few libgcc helpers i386 needs)
#   ./build.sh --arch all           every architecture
#   ./build.sh --record             build, then run every manifest entry natively and write
#                                   expected/<arch>/<name>.stdout and .status
#   ./build.sh --record hello ...   only these images (and their image@variant entries)
#   src/libc/*.c                    static glibc/musl programs: see "libc images" below
#
# The manifest images.tsv lists what the suite boots: name, arch, expected status, what to compare,
# guest arguments and environment (see the header of images.tsv). Expected outputs are recorded
# from the real binaries on the host, never written by hand; each entry is run twice and must
# give the same output both times. A run killed by a signal records 128+signal, as a shell does.
#
# Flags (same for every image and architecture):
#   -static -nostdlib -ffreestanding     no libc: src/include/mmrt.h is the whole runtime
#   -O2                                  what the interpreter must execute is what gcc -O2 emits
#   -fno-stack-protector                 no canary: there is no TLS (%fs) to hold it
#   -fno-pie -no-pie                     fixed addresses: traces compare RIP exactly
#   -fcf-protection=full                 keep ENDBR64 at function entries and NOTRACK-prefixed
#                                        indirect jumps, as distribution compilers emit by default;
#                                        the interpreter must decode them (as NOPs / a segment prefix)
#   per image: a " * build.sh cflags: ..." line in the source adds flags (sse42.c: -msse4.2 ...)
#   -lgcc (x86_64 only)                  __popcountdi2 without -mpopcnt; on i386 mmrt.h defines the
#                                        64-bit division/popcount/ctz helpers itself, so the build does
#                                        not depend on a 32-bit libgcc being installed
# Binaries keep their symbol table: the oracle's divergence report names the function.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

CC="${CC:-gcc}"
CFLAGS_COMMON=(-static -nostdlib -ffreestanding -O2 -fno-stack-protector -fno-pie -no-pie
               -fcf-protection=full -Wall -Wextra -Werror -Isrc/include)
ALL_ARCHES=(x86_64 i386)

arches=(x86_64)
record=0
only=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --arch)
            [[ $# -ge 2 ]] || { echo "build.sh: --arch needs x86_64, i386 or all" >&2; exit 2; }
            case "$2" in
                all) arches=("${ALL_ARCHES[@]}") ;;
                x86_64|i386) arches=("$2") ;;
                *) echo "build.sh: unknown arch '$2' (x86_64, i386, all)" >&2; exit 2 ;;
            esac
            shift 2 ;;
        --record) record=1; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        -*) echo "build.sh: unknown option '$1'" >&2; exit 2 ;;
        *) only+=("$1"); shift ;;
    esac
done

arch_flags() {
    case "$1" in
        x86_64) echo "-m64" ;;
        i386) echo "-m32" ;;
    esac
}

arch_libs() {
    case "$1" in
        x86_64) echo "-lgcc" ;;
        i386) echo "" ;;
    esac
}

check_toolchain() {
    local arch="$1" libgcc
    if [[ "$arch" == x86_64 ]]; then
        libgcc="$("$CC" -m64 -print-libgcc-file-name)"
        if [[ ! -f "$libgcc" ]]; then
            echo "build.sh: no x86_64 libgcc ($libgcc)" >&2
            exit 1
        fi
    fi
}

selected() {
    local name="$1"
    [[ ${#only[@]} -eq 0 ]] && return 0
    local o
    for o in "${only[@]}"; do
        [[ "$o" == "$name" ]] && return 0
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# build

mkdir -p bin/host
"$CC" -O2 -Wall -Wextra -Werror -o bin/host/regtrace src/tracer/regtrace.c
echo "built bin/host/regtrace"

for arch in "${arches[@]}"; do
    check_toolchain "$arch"
    mkdir -p "bin/$arch"
    for src in src/images/*.c; do
        name="$(basename "$src" .c)"
        selected "$name" || continue
        # Per-image extra flags: a source line " * build.sh cflags: -msse4.2 ..." (e.g. ISA extensions).
        extra="$(sed -n 's|^ \* build.sh cflags: ||p' "$src" | head -n 1)"
        # shellcheck disable=SC2046,SC2086
        "$CC" $(arch_flags "$arch") "${CFLAGS_COMMON[@]}" $extra -o "bin/$arch/$name" "$src" $(arch_libs "$arch")
        echo "built bin/$arch/$name"
        if ! grep -q "^$name[@"$'\t'"]" images.tsv; then
            echo "build.sh: warning: $name is not in images.tsv, the suite will not boot it" >&2
        fi
    done
done

# libc images: src/libc/NAME.c is an ordinary C program linked statically against the distribution's
# libc (glibc 2.36 with gcc -static; musl 1.2.3 with Debian musl-tools' musl-gcc -static, x86_64 only):
#   bin/x86_64/NAME-glibc      gcc -static -O2                      (SSE2; glibc's ifuncs by CPUID)
#   bin/x86_64/NAME-glibc-v2   gcc -static -O3 -march=x86-64-v2     (SSE4.2/POPCNT code from gcc too)
#   bin/x86_64/NAME-musl       musl-gcc -static -O2
#   bin/i386/NAME-glibc        gcc -m32 -static -O2                 (x87 floating point, int 0x80, %gs TLS)
# plus a source's own " * build.sh cflags: ..." line (libc_vec.c: -O3). Needs gcc-multilib for i386
# and musl-tools. These keep their symbol table too (the oracle names libc functions).
# The SMP images are libc images too (pthreads, fork, raw futex): threads_fault, fork_cow, fork_many,
# munmap_race, futex_pingpong, thread_segv, sig_threads, sharing src/libc/smp_check.h (fail fast, never hang); their
# sources add -pthread by the cflags line. Their output does not depend on the CPU count or the
# interleaving, so one native recording serves every run; like every libc image, the i386 build is
# checked against the x86_64 recording.
LIBC_CFLAGS=(-static -O2 -Wall -Wextra -Werror)
for arch in "${arches[@]}"; do
    for src in src/libc/*.c; do
        [[ -e "$src" ]] || continue
        name="$(basename "$src" .c)"
        selected "$name" || selected "$name-glibc" || selected "$name-glibc-v2" || selected "$name-musl" || continue
        extra="$(sed -n 's|^ \* build.sh cflags: ||p' "$src" | head -n 1)"
        # shellcheck disable=SC2046,SC2086
        "$CC" $(arch_flags "$arch") "${LIBC_CFLAGS[@]}" $extra -o "bin/$arch/$name-glibc" "$src" -lm
        echo "built bin/$arch/$name-glibc"
        if [[ "$arch" == x86_64 ]]; then
            # shellcheck disable=SC2086
            "$CC" -m64 "${LIBC_CFLAGS[@]}" $extra -O3 -march=x86-64-v2 -o "bin/$arch/$name-glibc-v2" "$src" -lm
            echo "built bin/$arch/$name-glibc-v2"
            # shellcheck disable=SC2086
            musl-gcc "${LIBC_CFLAGS[@]}" $extra -o "bin/$arch/$name-musl" "$src" -lm
            echo "built bin/$arch/$name-musl"
        fi
    done
done

# dynamic images: bin/dynamic/NAME-musl-dyn is src/libc/NAME.c built by musl-gcc without -static: a PIE
# (ET_DYN) whose PT_INTERP is the host's /lib/ld-musl-x86_64.so.1, so exec maps the program at
# ELF_ET_DYN_BASE and the interpreter below mmap_base, and musl's loader maps libc.so itself.
# DynamicImageTest boots them when the host has that loader. (A glibc dynamic build would need MMX in
# CPUID: Debian's libc.so.6 requires x86-64-baseline, which includes MMX, and mmulab has no MMX.)
DYNAMIC=(libc_vfs libc_pipeline)
if [[ " ${arches[*]} " == *" x86_64 "* ]]; then
    mkdir -p bin/dynamic
    for name in "${DYNAMIC[@]}"; do
        selected "$name" || selected "$name-musl-dyn" || continue
        musl-gcc -O2 -Wall -Wextra -Werror -o "bin/dynamic/$name-musl-dyn" "src/libc/$name.c" -lm
        echo "built bin/dynamic/$name-musl-dyn"
    done
fi

[[ $record -eq 1 ]] || exit 0

# ---------------------------------------------------------------------------------------------
# record: run each manifest entry natively

# Runs bin/$arch/$name with args/env from the manifest; stdout to $2; prints the shell status.
run_native() {
    local arch="$1" out="$2" name="$3" args="$4" env="$5"
    local -a argv=() envv=()
    [[ "$args" != "-" ]] && read -r -a argv <<< "$args"
    [[ "$env" != "-" ]] && read -r -a envv <<< "$env"
    local status=0
    # The braces send bash's own "Segmentation fault" job message to /dev/null as well.
    { env -i "${envv[@]}" "bin/$arch/$name" "${argv[@]}" > "$out" 2> /dev/null || status=$?; } 2> /dev/null
    echo "$status"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
for arch in "${arches[@]}"; do
    mkdir -p "expected/$arch"
    while IFS=$'\t' read -r name img_arch status check args env _modes; do
        [[ -z "$name" || "$name" == \#* ]] && continue
        base="${name%%@*}"
        base="${base%-glibc-v2}"; base="${base%-glibc}"; base="${base%-musl}"
        selected "${name%%@*}" || selected "$name" || selected "$base" || continue
        if [[ "$img_arch" != "*" && ",$img_arch," != *",$arch,"* ]]; then
            continue
        fi
        image="${name%%@*}"
        s1="$(run_native "$arch" "$tmp/1" "$image" "$args" "$env")"
        s2="$(run_native "$arch" "$tmp/2" "$image" "$args" "$env")"
        if [[ "$check" == "stdout" ]] && ! cmp -s "$tmp/1" "$tmp/2"; then
            echo "build.sh: $arch/$name: output differs between two native runs; not recorded" >&2
            failed=1
            continue
        fi
        if [[ "$s1" != "$s2" ]]; then
            echo "build.sh: $arch/$name: status differs between two native runs ($s1, $s2)" >&2
            failed=1
            continue
        fi
        if [[ "$s1" != "$status" ]]; then
            echo "build.sh: $arch/$name: native status $s1, but images.tsv expects $status" >&2
            failed=1
        fi
        cp "$tmp/1" "expected/$arch/$name.stdout"
        echo "$s1" > "expected/$arch/$name.status"
        echo "recorded expected/$arch/$name (status $s1, $(wc -c < "$tmp/1") bytes)"
    done < images.tsv
done
if [[ " ${arches[*]} " == *" x86_64 "* ]]; then
    mkdir -p expected/dynamic
    for name in "${DYNAMIC[@]}"; do
        selected "$name" || selected "$name-musl-dyn" || continue
        s1="$(run_native dynamic "$tmp/1" "$name-musl-dyn" - -)"
        s2="$(run_native dynamic "$tmp/2" "$name-musl-dyn" - -)"
        if ! cmp -s "$tmp/1" "$tmp/2" || [[ "$s1" != "$s2" ]]; then
            echo "build.sh: dynamic/$name-musl-dyn: output differs between two native runs; not recorded" >&2
            failed=1
            continue
        fi
        cp "$tmp/1" "expected/dynamic/$name-musl-dyn.stdout"
        echo "$s1" > "expected/dynamic/$name-musl-dyn.status"
        echo "recorded expected/dynamic/$name-musl-dyn (status $s1, $(wc -c < "$tmp/1") bytes)"
    done
fi
exit $failed
