#!/usr/bin/env python3
"""Decode HotSpot's hex-only PrintAssembly (no hsdis) with objdump. usage: hex2asm.py print.txt Class::method  (the last C2 compile of that method in -XX:CompileCommand=print output)"""
import re, sys, subprocess, tempfile
text = open(sys.argv[1]).read().split('\n')
want = sys.argv[2]
blocks = []; cur = None
for line in text:
    if line.startswith('Compiled method'):
        cur = {'title': line, 'bytes': bytearray(), 'start': None, 'notes': {}} if want in line and '(c2)' in line else None
        if cur: blocks.append(cur)
        continue
    if cur is None: continue
    if line.startswith('[Stub Code]'): cur['done'] = True
    if cur.get('done'): continue
    m = re.match(r'\s+0x([0-9a-f]+): (.*)', line)
    if not m: continue
    addr = int(m.group(1), 16); rest = m.group(2)
    if rest.startswith(';'):
        cur['notes'].setdefault(addr, []).append(rest.strip()); continue
    hexs = rest.replace('|', '').replace(' ', '')
    if not re.fullmatch(r'[0-9a-f]*', hexs): continue
    if cur['start'] is None: cur['start'] = addr
    cur['bytes'] += bytes.fromhex(hexs)
b = blocks[-1]
with tempfile.NamedTemporaryFile(suffix='.bin') as f:
    f.write(b['bytes']); f.flush()
    out = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', '-M', 'intel', '--adjust-vma=%#x' % b['start'], f.name], capture_output=True, text=True).stdout
print(b['title'])
for l in out.split('\n'):
    m = re.match(r'\s*([0-9a-f]+):', l)
    if m:
        a = int(m.group(1), 16)
        for n in b['notes'].get(a, []): print('        ' + n)
        print(l)
