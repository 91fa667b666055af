#!/usr/bin/env python3
# Self cost per function of a bench/icount.mjs pair: (run B − run A) ÷ FRAMES, the steady state's per-frame cost by
# function. Node's JIT code has no symbols for valgrind (callgrind names it by address); each run's perf map
# (--perf-basic-prof: perf-PID.map in the temp directory, PID from the callgrind file's `pid:` line) names it — the
# latest entry covering an address, since code is moved and its space reused. The map can still misname a range
# (bench/README "What "native" is (session 31)"): compare totals, not one file's split. A pair bench/icount.mjs made
# since session 37 holds each run in two parts — cg.N.1 up to the pair's first count, cg.N the rest — so that the
# capture's builders, which ran before the window at addresses the window's code reuses, are not in what is compared
# here (bench/README "The profile's window (session 37)"); pass the cg.N files as before.
#   python3 bench/cg-self.py DIR/cg.replay-loop.100000 DIR/cg.replay-loop.140000 40000 [TOPN=60] [--whole]
# Prints `all X JS Y` (the summary's difference; the JS functions' sum), the sum per compiled file, the functions whose
# difference is largest, then each run's calls of V8's StringEqual made by JIT code, a frame of that run (its frame
# count from the file name's suffix), flagged when the two runs differ (bench/README "The StringEqual trio is a state
# of one run (session 35)").
import os, re, sys, bisect, collections, tempfile
def perfmap(pid):
    ents = []
    try:
        for line in open(os.path.join(tempfile.gettempdir(), f'perf-{pid}.map')):
            p = line.rstrip('\n').split(' ', 2)
            if len(p) == 3: ents.append((int(p[0], 16), int(p[1], 16), p[2]))
    except FileNotFoundError:
        print(f'# no perf-{pid}.map in {tempfile.gettempdir()}: JIT code stays unnamed', file=sys.stderr)
    # latest entry covering an address wins: index by start, keep order
    return ents
def resolver(ents):
    starts = sorted(set(e[0] for e in ents))
    byaddr = {}
    for i, (s, z, n) in enumerate(ents): byaddr.setdefault(s, []).append((i, s + z, n))
    cache = {}
    def res(a):
        if a in cache: return cache[a]
        best = None
        k = bisect.bisect_right(starts, a)
        # scan back a bounded number of starts for the latest covering entry
        for j in range(k - 1, max(-1, k - 200), -1):
            for (i, end, n) in byaddr[starts[j]]:
                if a < end and (best is None or i > best[0]): best = (i, n)
        cache[a] = best[1] if best else None
        return cache[a]
    return res
def selfcost(path):
    pid = None; names = {}; obs = {}; fns = collections.Counter(); cur = None; after_calls = False; summary = 0
    # Calls of V8's StringEqual made by JIT code itself (a `===` compiled as a string compare, not a pointer compare).
    callee = None; str_eq = 0
    fnre = re.compile(r'^fn=\((\d+)\)(?: (.*))?$')
    for line in open(path, errors='replace'):
        if line.startswith('pid:'): pid = int(line.split()[1]); continue
        if line.startswith('summary:') or line.startswith('totals:'): summary = int(line.split()[1]); continue
        c = line[0] if line else ''
        if c == 'f' and line.startswith('fn='):
            m = fnre.match(line.rstrip('\n'))
            if m.group(2) is not None: names[m.group(1)] = m.group(2)
            cur = names[m.group(1)]; after_calls = False; continue
        if line.startswith('cfn='):
            m = re.match(r'^cfn=\((\d+)\)(?: (.*))?$', line.rstrip('\n'))
            if m and m.group(2) is not None: names[m.group(1)] = m.group(2)
            if m: callee = names.get(m.group(1))
            continue
        if line.startswith('calls='):
            after_calls = True
            if callee == 'Builtins_StringEqual' and cur is not None and cur.startswith('0x'): str_eq += int(line[6:].split()[0])
            continue
        if c.isdigit() or c in '+-*':
            if after_calls: after_calls = False; continue
            parts = line.split()
            if len(parts) >= 2 and cur is not None: fns[cur] += int(parts[1])
            continue
    res = resolver(perfmap(pid)) if pid else (lambda a: None)
    out = collections.Counter()
    for n, v in fns.items():
        # callgrind suffixes a recursive call's copy with 'N (its depth): the same code, named by its address too
        m = re.fullmatch(r"(0x[0-9a-f]+)(?:'\d+)?", n)
        if m:
            r = res(int(m.group(1), 16))
            n = r if r else 'native ' + n
        out[n] += v
    return summary, out, str_eq
def short(n):
    m = re.match(r'^(JS|LazyCompile|Function):([*~^+]?)(.*?) ?(?:file://)?\S*/([^/:\s]+\.m?js):(\d+)', n)
    if m: return f'JS {(m.group(3) or "(anon)").replace(" ", "_")} {m.group(4)}:{m.group(5)}'
    m = re.match(r'^(JS|LazyCompile|Function):([*~^+]?)(\S*) (\S+)', n)
    if m: return f'JS {m.group(3) or "(anon)"} {m.group(4)}'
    return n
def main():
    if len(sys.argv) < 4:
        sys.exit('usage: python3 bench/cg-self.py CALLGRIND_A CALLGRIND_B FRAMES [TOPN] [--whole]')
    # --whole: each run's two parts added (the figure the tool gave before the window's dump, misnamed ranges and all).
    whole = '--whole' in sys.argv
    argv = [x for x in sys.argv if x != '--whole']
    a, b, frames = argv[1], argv[2], float(argv[3])
    # TOPN is the last argument when there is one past FRAMES.
    topn = int(argv[-1]) if len(argv) > 4 else 60
    def runOf(x):
        # A run in two parts (cg.N.1, cg.N): its StringEqual calls are both parts' (the suffix counts the whole run's
        # frames); its costs the second part's, or with --whole both.
        s, c, e = selfcost(x)
        if os.path.exists(x + '.1'):
            s1, c1, e1 = selfcost(x + '.1')
            e += e1
            if whole:
                s += s1
                c.update(c1)
        return s, c, e
    sa, ca, ea = runOf(a); sb, cb, eb = runOf(b)
    da = collections.Counter(); db = collections.Counter()
    for n, v in ca.items(): da[short(n)] += v
    for n, v in cb.items(): db[short(n)] += v
    keys = set(da) | set(db)
    diff = {k: (db[k] - da[k]) / frames for k in keys}
    js = sum(v for k, v in diff.items() if k.startswith('JS '))
    print(f'all {(sb - sa) / frames:.1f} JS {js:.1f}')
    files = collections.Counter()
    for k, v in diff.items():
        if k.startswith('JS '): files[k.split(' ')[2].split(':')[0]] += v
        elif k.startswith('Builtin:') or k.startswith('Builtins_'): files['(builtins)'] += v
        else: files['(native)'] += v
    print('by file:', ', '.join(f'{f} {v:.1f}' for f, v in files.most_common() if abs(v) >= 1))
    for k, v in sorted(diff.items(), key=lambda kv: -abs(kv[1]))[:topn]:
        print(f'{v:10.1f}  {k}')
    # A whole-run state, not a per-frame cost: in some runs TurboFan compiles the switch's and the hop's name compares
    # as StringEqual calls (≈ 2.2 + 1.2 a frame, all through the run), in others as pointer compares (≈ 0.2 a frame
    # left). When only one run of a pair is such a run, the difference ÷ FRAMES counts its whole run's extra as the
    # window's (×3.5 or ×−2.5 for 100000,140000): bench/README "The StringEqual trio is a state of one run (session 35)".
    na = re.search(r'\.(\d+)$', a); nb = re.search(r'\.(\d+)$', b)
    if na and nb and int(na.group(1)) > 0 and int(nb.group(1)) > 0:
        ra = ea / int(na.group(1)); rb = eb / int(nb.group(1))
        print(f'# StringEqual calls from JIT code a frame of each run: {ra:.2f}, {rb:.2f}' + (' — NOT THE SAME STATE: the pair holds the trio of one run' if abs(ra - rb) > 0.5 else ''))
try:
    main()
except BrokenPipeError:
    pass
