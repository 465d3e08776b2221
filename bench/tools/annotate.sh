#!/usr/bin/env bash
# Where the time goes inside one C2-compiled method, instruction by instruction, on a machine without hardware
# performance counters (a VM): perf's software cpu-clock samples mapped onto the method's compiled code.
#
#   bench/tools/annotate.sh JAR 'org.mmulab.emulator.mmu.Mmu::translate' 'Mmu::translate' stlbHit
#
# runs CpuTimeRunner's operation OP (default stlbHit) from the benchmark JAR under `perf record -e cpu-clock`,
# has HotSpot print the method's code (hex: JDK 17 finds no working hsdis here) and decodes it with hex2asm.py,
# then writes annotated.s: each instruction with its sample count. Needs perf and objdump. Files go to the
# current directory.
set -euo pipefail
jar=$1; pattern=$2; name=$3; op=${4:-stlbHit}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
perf record -q -e cpu-clock -c 100000 -o perf.data -- java -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit \
  -XX:CompileCommand=quiet -XX:CompileCommand=print,"$pattern" -cp "$jar" org.mmulab.bench.CpuTimeRunner 60 2000000 "$op" \
  > print.txt 2>perf.err
grep "^$op" print.txt | tail -1
perf script -i perf.data -F ip 2>/dev/null | awk '{print $1}' | sort | uniq -c > ips.txt
python3 "$here/hex2asm.py" print.txt "$name" > method.s
python3 - <<'PY'
import re
ips = {}
for line in open('ips.txt'):
    count, ip = line.split()
    ips[int(ip, 16)] = int(count)
out, total, hot = [], 0, 0
for line in open('method.s').read().split('\n'):
    m = re.match(r'\s*([0-9a-f]+):', line)
    if m:
        c = ips.get(int(m.group(1), 16), 0)
        total += c
        hot += c > 0
        out.append('%5d %s' % (c, re.sub(r'\t[0-9a-f ]*\t', '  ', line.strip())[:120]))
    else:
        out.append('      ' + line.strip()[:120])
open('annotated.s', 'w').write('\n'.join(out) + '\n')
print('annotated.s: %d samples in the method, %d instructions sampled' % (total, hot))
PY
