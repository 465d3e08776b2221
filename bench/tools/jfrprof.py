#!/usr/bin/env python3
"""Summarise `jfr print --stack-depth 80 --events jdk.ExecutionSample` output: top frames, inclusive mmulab frames, JDK subsystems."""
import re, sys
from collections import Counter
t=open(sys.argv[1]).read().split('jdk.ExecutionSample {')[1:]
n=int(sys.argv[2]) if len(sys.argv)>2 else 25
print(len(t), 'samples')
c=Counter(); inc=Counter(); sub=Counter()
for s in t:
    st=s[s.find('stackTrace'):]
    frames=[re.sub(r' line:.*','',l.strip()) for l in st.split('\n')[1:] if l.strip() not in (']','...','')]
    c[frames[0][:90]]+=1
    seen=set()
    for f in frames:
        if f.startswith('org.mmulab') and f not in seen:
            seen.add(f); inc[f[:110]]+=1
    j=' '.join(frames)
    for k in ('java.lang.invoke','jdk.internal.org.objectweb','java.lang.reflect.Proxy','ZipFile','ClassLoader.defineClass','picocli','org.objectweb.asm','TierBlock'):
        if k in j: sub[k]+=1
print('--- subsystems (inclusive)'); [print(v,k) for k,v in sub.most_common()]
print('--- top frames'); [print(v,k) for k,v in c.most_common(12)]
print('--- inclusive mmulab'); [print(v,k) for k,v in inc.most_common(n)]
