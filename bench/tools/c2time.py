#!/usr/bin/env python3
"""C2/C1 compile time per class from a -XX:+LogCompilation log. usage: c2time.py log [N]"""
import re, sys
log=open(sys.argv[1]).read()
n=int(sys.argv[2]) if len(sys.argv)>2 else 20
tasks=re.findall(r"<task (compile_id='\d+'[^>]*?)>(.*?)<task_done([^>]*)/>",log,re.S)
rows=[]
for attrs,body,done in tasks:
    m=re.search(r"method='([^']*)'",attrs).group(1)
    lvl=re.search(r"level='(\d)'",attrs); lvl=int(lvl.group(1)) if lvl else 4
    s=float(re.search(r"stamp='([\d.]+)'",attrs).group(1)); e=float(re.search(r"stamp='([\d.]+)'",done).group(1))
    rows.append((e-s,lvl,m,s))
tot={}
for d,l,m,s in rows: tot[l]=tot.get(l,0)+d
print('ms by level', {k:round(v*1000) for k,v in sorted(tot.items())}, len(rows), 'tasks')
agg={}
for d,l,m,s in rows:
    if l!=4: continue
    c=m.split(' ')[0]
    if 'TierBlock' in c: c='<TierBlock hidden classes>'
    agg[c]=agg.get(c,0)+d
for k,v in sorted(agg.items(),key=lambda x:-x[1])[:n]: print(round(v*1000,1),k)
