#!/bin/bash
# compose.sh - the container build and compose files, checked without Docker
#
# There may be no Docker engine where the tests run, so nothing is built or
# started in a container. Instead: docker-compose (Debian's 1.29) renders
# deploy/docker-compose.yml (alone, with the notifier profile and with
# deploy/docker-compose.shards.yml), and a checker reads the render and
# deploy/Dockerfile against the repository and the built binaries:
#   - every service in services/ has a Dockerfile target and (but txwctl) a
#     compose service; every final stage runs as a non-root USER, has a
#     HEALTHCHECK on the admin port its binary defaults to, EXPOSEs the ports
#     its binary binds by default, installs no -dev package, pins no
#     `latest` image, and cleans its apt lists;
#   - the libraries each binary needs (ldd build/bin/...) belong, via dpkg -S,
#     to packages its stage installs (direct NEEDED: named in the stage;
#     the rest: their Depends closure or the base image);
#   - COPY sources exist and pass .dockerignore, which keeps build/, var/
#     and node_modules out of the context;
#   - compose: no fixed host port, container_name, hostname or TXW_ID on the
#     validator (so --scale validator=N works), a health check everywhere,
#     non-root everywhere, depends_on conditions that can be met, TXW_*
#     variables that the binary knows, endpoints naming services that bind
#     those ports, shard numbers matching their position in the upstream's list;
#   - secrets (deploy/README.md, "Secrets"): the one-shot `keys` makes the
#     pseudonym key and the webhook signing secret only where missing, in a
#     named volume that every service mounts read-only, all naming the same
#     key file and waiting for `keys`; only the notifier reads the signing
#     secret; `bootstrap` makes the first admin key as the owner, --if-none,
#     into a volume, after migrate; the folders those volumes start from are
#     owned by the images' user;
#   - CURVE: `keys` also makes the certificates (txw-keygen --all into
#     keys/curve); every ZeroMQ service has its role's client certificate and
#     the servers' public key, those that bind the server certificate and the
#     allowed folder; query and the one-shots set no TXW_CURVE_* variable;
#   - browser access: no TXW_AUTH off, the API's CORS origins are the
#     dashboard's (never *); no admin port reachable from outside a container.
# Then deploy/txw-healthcheck (the images' health check) is run against a
# real service's admin port, and the checker is run on broken copies of the
# files to show it catches each kind of mistake. Last, the rendered suite is
# played on this host (see that section): the one-shots and every service
# with the command and environment of its render; every service must log the
# fingerprint of the key `keys` made, the API must refuse a request without a
# key and take the one `bootstrap` wrote, answer the dashboard's origin with
# CORS, and the notifier's webhooks must carry a valid signature; every
# ZeroMQ service runs with CURVE on, the aggregator counts admitted
# handshakes and a producer with a key not in the allowed folder is refused.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

P=191   # port prefix for this suite (loopback only)
DOCKERFILE=$ROOT/deploy/Dockerfile
COMPOSE=$ROOT/deploy/docker-compose.yml
SHARDS=$ROOT/deploy/docker-compose.shards.yml

# checker DOCKERFILE RENDERED_YAML [RENDERED_YAML...]: prints TAP lines
checker() {
    DPKG_OWNERS=$WORK/dpkg-owners.json python3 - "$ROOT" "$BIN" "$@" <<'PY'
import fnmatch, json, os, re, subprocess, sys
import yaml

root, dockerfile, renders = sys.argv[1], sys.argv[3], sys.argv[4:]
BIN = os.path.join(root, sys.argv[2])    # lib.sh's $BIN: TXW_BIN's build
BASE_IMAGE = 'debian:bookworm-slim'
KNOWN = {'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT',
         'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'}
BUILD_TOOLS = {'build-essential', 'gcc', 'g++', 'make', 'pkg-config', 'nodejs', 'npm'}

def check(ok, what, why=''):
    print(('ok - ' if ok else 'not ok - ') + what)
    if not ok and why:
        print('# ' + str(why)[:600])

def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)

# ------------------------------------------------------------ the Dockerfile
def parse_dockerfile(path):
    lines, cur = [], ''
    for raw in open(path):
        s = raw.rstrip('\n')
        if s.lstrip().startswith('#'):
            continue                     # comments, also inside continuations
        if s.endswith('\\'):
            cur += s[:-1] + ' '
            continue
        cur += s
        if cur.strip():
            lines.append(cur.strip())
        cur = ''
    if cur.strip():
        lines.append(cur.strip())
    args, stages, bad = {}, [], []
    for line in lines:
        word, _, rest = line.partition(' ')
        kw = word.upper()
        if kw not in KNOWN:
            bad.append(word)
            continue
        if kw == 'ARG' and not stages:
            name, _, default = rest.strip().partition('=')
            args[name] = default
            continue
        if kw == 'FROM':
            m = re.match(r'(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$', rest.strip(), re.I)
            image = re.sub(r'\$\{?(\w+)\}?', lambda g: args.get(g.group(1), ''), m.group(1))
            stages.append({'name': m.group(2) or str(len(stages)), 'from': image, 'ins': []})
            continue
        stages[-1]['ins'].append((kw, rest.strip()))
    return stages, bad

def apt_packages(run_text):
    """Packages named by apt-get install in one RUN (options dropped)."""
    pkgs = []
    for part in re.split(r'&&|;|\|\|', run_text):
        words = part.split()
        if 'apt-get' in words and 'install' in words:
            after = words[words.index('install') + 1:]
            pkgs += [w for w in after if not w.startswith('-')]
    return pkgs

stages, bad_words = parse_dockerfile(dockerfile)
by_name = {s['name']: s for s in stages}
check(not bad_words, 'Dockerfile: every instruction is a Dockerfile instruction', bad_words)

def lineage(stage):
    chain = [stage]
    while chain[-1]['from'] in by_name:
        chain.append(by_name[chain[-1]['from']])
    return chain[::-1]                          # root first

def effective(stage):
    e = {'user': None, 'health': None, 'entry': None, 'expose': set(), 'env': {},
         'apt': [], 'runs': [], 'copies': [], 'root': lineage(stage)[0]['from']}
    for st in lineage(stage):
        for kw, rest in st['ins']:
            if kw == 'USER': e['user'] = rest
            elif kw == 'HEALTHCHECK': e['health'] = rest
            elif kw == 'ENTRYPOINT': e['entry'] = rest
            elif kw == 'EXPOSE': e['expose'] |= {p.split('/')[0] for p in rest.split()}
            elif kw == 'ENV':
                for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', rest):
                    e['env'][k] = v.strip('"')
            elif kw == 'RUN':
                e['runs'].append(rest)
                e['apt'] += apt_packages(rest)
            elif kw == 'COPY': e['copies'].append(rest)
    return e

parents = {s['from'] for s in stages}
BUILD_STAGES = ('builder', 'dashboard')      # compile; copied from, never run
finals = [s for s in stages if s['name'] not in parents and s['name'] not in BUILD_STAGES]
final_names = {s['name'] for s in finals}
builder = by_name.get('builder')
check(builder is not None, 'Dockerfile: has a builder stage')

# Every service in services/ has a target; its binary is copied and run
# (an operator tool is copied into the tools image, which runs txwctl).
OPERATOR_TOOLS = ('txwctl', 'keygen', 'train')
def binary_of(service):
    return 'txwctl' if service == 'txwctl' else 'txw-' + service
def target_of(service):
    return 'tools' if service in OPERATOR_TOOLS else service
services = sorted(d for d in os.listdir(os.path.join(root, 'services'))
                  if os.path.isdir(os.path.join(root, 'services', d)))
for svc in services:
    t, b = target_of(svc), binary_of(svc)
    st = by_name.get(t)
    e = effective(st) if st else None
    ok = (st is not None and t in final_names
          and any(c.startswith('--from=builder') and '/build/bin/' + b + ' ' in c + ' ' for c in e['copies'])
          and e['entry'] is not None and (b in e['entry'] or svc in OPERATOR_TOOLS))
    check(ok, f'Dockerfile: services/{svc} has target {t} that copies and runs {b}')

# Images: tagged, never latest, Debian 12 slim at the root of every stage.
for st in stages:
    img = st['from']
    if img in by_name:
        continue
    name = img.split('@')[0]
    tagged = '@' in img or ':' in name.rsplit('/', 1)[-1]
    check(tagged and not name.endswith(':latest'),
          f'Dockerfile: stage {st["name"]} pins its image ({img}) by tag, not latest')
for st in [by_name[b] for b in BUILD_STAGES if b in by_name] + finals:
    root_img = effective(st)['root']
    check(root_img.split('@')[0] == BASE_IMAGE,
          f'Dockerfile: stage {st["name"]} is based on {BASE_IMAGE}', root_img)

# The builder installs what `make all` needs from the Makefile's list.
mk = open(os.path.join(root, 'Makefile')).read()
m = re.search(r'DEBIAN_PACKAGES\s*:=((?:.*\\\n)*.*)', mk)
deb = m.group(1).replace('\\\n', ' ').split() if m else []
need = {p for p in deb if (p.endswith('-dev') and p != 'libcmocka-dev')
        or p in ('build-essential', 'pkg-config')} | {'nodejs', 'npm'}
have = set(effective(builder)['apt']) if builder else set()
if 'dashboard' in by_name:
    have |= set(effective(by_name['dashboard'])['apt'])
check(deb and need <= have, 'Dockerfile: builder installs the build packages of the Makefile, the dashboard stage node/npm',
      sorted(need - have))

# Defaults of each binary, from its --help: the ports it binds and its options.
def help_of(binary):
    r = run(os.path.join(BIN, binary), '--help')
    return r.stdout + r.stderr
def default_of(help_text, flag):
    m = re.search(r'--' + flag + r' \S+\s+TXW_\w+\s+default: (\S+)', help_text)
    return m.group(1) if m else None
def ports_of(help_text):
    ports = set()
    for flag in ('bind', 'publish', 'listen', 'admin-port'):
        v = default_of(help_text, flag)
        for item in (v or '').split(','):
            m = re.search(r'(\d+)$', item)
            if m and m.group(1) != '0':
                ports.add(m.group(1))
    return ports

helps = {svc: help_of(binary_of(svc)) for svc in services}
help_vars = {svc: set(re.findall(r'\bTXW_\w+', h)) for svc, h in helps.items()}

def non_root(user):
    if not user:
        return False
    name = str(user).split(':')[0]
    return name not in ('root', '0', '')

for st in finals:
    e = effective(st)
    n = st['name']
    check(non_root(e['user']), f'Dockerfile: {n} runs as a non-root USER', e['user'])
    svc = 'txwctl' if n == 'tools' else n
    hlp = helps.get(svc, '')
    admin = default_of(hlp, 'admin-port')
    if admin:
        ok = (e['health'] is not None and e['health'].upper().lstrip().startswith(('CMD', '--'))
              and 'NONE' not in e['health'].split()
              and e['env'].get('TXW_ADMIN_PORT') == admin and 'txw-healthcheck' in e['health'])
        check(ok, f'Dockerfile: {n} has a HEALTHCHECK on its admin port {admin}',
              (e['health'], e['env'].get('TXW_ADMIN_PORT')))
        want = ports_of(hlp)
        check(want and want <= e['expose'], f'Dockerfile: {n} EXPOSEs the ports it binds ({" ".join(sorted(want))})',
              sorted(want - e['expose']))
    else:
        check(e['health'] is not None, f'Dockerfile: {n} declares its HEALTHCHECK (NONE: a command without a port)')
    devs = [p for p in e['apt'] if p.endswith('-dev') or p in BUILD_TOOLS]
    check(not devs, f'Dockerfile: {n} installs no -dev package or build tool', devs)
    tidy = all('--no-install-recommends' in r and 'rm -rf /var/lib/apt/lists' in r
               for r in e['runs'] if apt_packages(r))
    check(tidy, f'Dockerfile: {n} uses --no-install-recommends and cleans the apt lists')

gw, sc = by_name.get('gateway'), by_name.get('scorer')
ge = effective(gw) if gw else {'env': {}, 'copies': []}
check(ge['env'].get('TXW_DOCUMENT_ROOT') == '/usr/share/txwatch/dashboard'
      and any('/src/build/dashboard /usr/share/txwatch/dashboard' in c for c in ge['copies']),
      'Dockerfile: gateway carries the dashboard at /usr/share/txwatch/dashboard (TXW_DOCUMENT_ROOT)')
se = effective(sc) if sc else {'copies': []}
check(any(c.startswith('services/scorer/default-rules.json ') for c in se['copies']),
      'Dockerfile: scorer carries services/scorer/default-rules.json')

# ------------------------------------------------ runtime libraries → packages
status = run('dpkg-query', '-W', '-f=${Package}\t${Status}\t${Priority}\t${Essential}\t'
             '${Provides}\t${Pre-Depends}\t${Depends}\n').stdout
installed, provides, deps, base = set(), {}, {}, set()
def names(field):
    out = []
    for group in field.split(','):
        alts = [re.sub(r'[\s(].*$', '', a.strip()).split(':')[0] for a in group.split('|')]
        out.append([a for a in alts if a])
    return [g for g in out if g]
for row in status.splitlines():
    f = row.split('\t')
    if len(f) < 7 or not f[1].endswith(' installed'):
        continue
    installed.add(f[0])
    for alt in names(f[4]):
        for p in alt:
            provides.setdefault(p, set()).add(f[0])
    deps[f[0]] = names(f[5]) + names(f[6])
    if f[2] == 'required' or f[3] == 'yes':
        base.add(f[0])
def closure(pkgs):
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        for real in ({p} if p in installed else set()) | provides.get(p, set()):
            if real in seen:
                continue
            seen.add(real)
            for group in deps.get(real, []):
                todo += group
    return seen
base = closure(base | {'apt'})       # what debian:bookworm-slim already holds

def owners(paths):
    """Maps each library path to its package, trying /lib and /usr/lib forms."""
    cands = {}
    for p in paths:
        real = os.path.realpath(p)
        forms = {p, real}
        for f in list(forms):
            forms.add(f[4:] if f.startswith('/usr/') else '/usr' + f)
        cands[p] = forms
    allforms = sorted({f for fs in cands.values() for f in fs})
    # dpkg -S reads every package's file list (about half a second here);
    # the mutants below run this checker thirty times over the same
    # libraries, so what it answered is kept for the suite (DPKG_OWNERS).
    cache = os.environ.get('DPKG_OWNERS')
    known = {}
    if cache and os.path.exists(cache):
        with open(cache) as f:
            known = {k: set(v) for k, v in json.load(f).items()}
    ask = [f for f in allforms if f not in known]
    if ask:
        out = run('dpkg', '-S', *ask).stdout
        for f in ask:
            known[f] = set()
        for line in out.splitlines():
            pk, _, path = line.partition(': ')
            for pkg in pk.split(', '):
                known.setdefault(path, set()).add(pkg.split(':')[0])
        if cache:
            with open(cache + '.tmp', 'w') as f:
                json.dump({k: sorted(v) for k, v in known.items()}, f)
            os.replace(cache + '.tmp', cache)
    return {p: set().union(*[known.get(f, set()) for f in fs]) for p, fs in cands.items()}

for svc in services:
    b, t = binary_of(svc), target_of(svc)
    st = by_name.get(t)
    path = os.path.join(BIN, b)
    if not st or not os.path.exists(path):
        check(False, f'runtime libraries of {b} are installed by target {t}', 'no target or no binary')
        continue
    stage_pkgs = set(effective(st)['apt'])
    ldd = run('ldd', path).stdout
    missing = [l for l in ldd.splitlines() if 'not found' in l]
    libs = re.findall(r'=>\s+(/\S+)', ldd)
    needed = re.findall(r'\(NEEDED\)\s+Shared library: \[(\S+)\]', run('readelf', '-d', path).stdout)
    own = owners(libs)
    unowned = [l for l in libs if not own[l]]
    direct = {os.path.basename(l): own[l] for l in libs if os.path.basename(l) in needed}
    named = stage_pkgs | base
    not_named = {lib: sorted(p) for lib, p in direct.items() if not (p & named)}
    avail = closure(stage_pkgs) | base
    not_avail = {l: sorted(own[l]) for l in libs if own[l] and not (own[l] & avail)}
    unknown = sorted(p for p in stage_pkgs if p not in installed and p not in provides)
    why = {'unresolved': missing, 'no package': unowned, 'NEEDED not installed by the stage': not_named,
           'not in the stage closure': not_avail, 'stage packages unknown here': unknown}
    check(libs and not missing and not unowned and not not_named and not not_avail and not unknown
          and len(direct) == len(needed),
          f'runtime libraries of {b} ({len(needed)} needed, {len(libs)} with theirs) come from packages target {t} installs',
          {k: v for k, v in why.items() if v})

# Every library the Makefile links (LDLIBS) has its runtime package in every
# final stage, so a binary that starts needing one still runs.
m = re.search(r'^LDLIBS\s*:?=(.*)$', mk, re.M)
ldlibs = re.findall(r'-l(\S+)', m.group(1)) if m else []
lib_pkgs, unmapped = {}, []
for lib in ldlibs:
    so = run('gcc', '-print-file-name=lib' + lib + '.so').stdout.strip()
    real = os.path.realpath(so) if os.path.isabs(so) else ''
    pk = owners([real]).get(real, set()) if real else set()
    if lib in ('pthread', 'm', 'dl', 'rt'):      # libc6 (libm.so is a linker script)
        pk = {'libc6'}
    if pk:
        lib_pkgs[lib] = pk
    else:
        unmapped.append(lib)
short = {}
for st in [f for f in finals if f['name'] != 'postgres']:   # the database links none of them
    have = set(effective(st)['apt']) | base
    miss = [l for l, pk in lib_pkgs.items() if not (pk & have)]
    if miss:
        short[st['name']] = miss
check(ldlibs and not unmapped and not short,
      f'every final stage installs the runtime package of each LDLIBS library ({" ".join(ldlibs)})',
      {'unmapped': unmapped, 'missing': short})

# ------------------------------------------------ build context: COPY sources
def ignore_patterns():
    p = os.path.join(root, '.dockerignore')
    if not os.path.exists(p):
        return None
    pats = []
    for line in open(p):
        line = line.strip()
        if line and not line.startswith('#'):
            neg = line.startswith('!')
            pats.append((neg, line.lstrip('!').strip('/')))
    return pats
def ignored(rel, pats):
    parts, result = rel.split('/'), False
    for neg, pat in pats:
        rx = re.escape(pat).replace(r'\*\*/', '(?:.*/)?').replace(r'\*\*', '.*') \
                            .replace(r'\*', '[^/]*').replace(r'\?', '[^/]')
        for i in range(1, len(parts) + 1):          # the path or a folder above it
            if re.fullmatch(rx, '/'.join(parts[:i])):
                result = not neg
                break
    return result
pats = ignore_patterns()
check(pats is not None, '.dockerignore exists at the context root (the repository)')
pats = pats or []
for rel in ('build/bin/txw-validator', 'build/dashboard/index.html', 'var/log/x.log',
            'dashboard/node_modules/esbuild/package.json', 'tests/js/node_modules/ws/index.js', '.git/HEAD'):
    check(ignored(rel, pats), f'.dockerignore keeps {rel} out of the context')
srcs = []
for st in stages:
    for kw, rest in st['ins']:
        if kw in ('COPY', 'ADD') and '--from=' not in rest:
            words = [w for w in rest.split() if not w.startswith('--')]
            srcs += [w for w in words[:-1] if w != '.']
bad = [s for s in srcs if not os.path.exists(os.path.join(root, s)) or ignored(s.rstrip('/'), pats)]
check(srcs and not bad, f'Dockerfile: its {len(srcs)} COPY sources exist and pass .dockerignore', bad)

# ------------------------------------------------------------ compose renders
stage_of_target = {s['name']: effective(s) for s in finals}
def target(svc_def):
    b = svc_def.get('build') or {}
    return b.get('target') if isinstance(b, dict) else None
def ports_of_target(t):
    return stage_of_target.get(t, {}).get('expose', set())

for render in renders:
    label = os.path.basename(render)
    cfg = yaml.safe_load(open(render))
    svcs = cfg.get('services', {})
    check(str(cfg.get('version')) == '3.8', f'{label}: compose file format 3.8', cfg.get('version'))
    want = {'postgres', 'migrate'} | {s for s in services if s not in OPERATOR_TOOLS}
    check(want <= set(svcs), f'{label}: has every service ({" ".join(sorted(want))})', sorted(want - set(svcs)))

    bad_build = []
    for n, d in svcs.items():
        b = d.get('build')
        if b is None:
            continue
        ok = (os.path.realpath(b.get('context', '')) == os.path.realpath(root)
              and b.get('dockerfile') == 'deploy/Dockerfile' and b.get('target') in final_names
              and ':' in str(d.get('image', '')) and not str(d.get('image')).endswith(':latest'))
        if not ok:
            bad_build.append(n)
    for n, d in svcs.items():
        if 'build' not in d and (':' not in str(d.get('image', '')) or str(d.get('image')).endswith(':latest')):
            bad_build.append(n)
    check(not bad_build, f'{label}: images are tagged (not latest) and built from deploy/Dockerfile targets at the repo root', bad_build)

    v = svcs.get('validator', {})
    scale_bad = [k for k in ('ports', 'container_name', 'hostname') if v.get(k)]
    if 'TXW_ID' in (v.get('environment') or {}):
        scale_bad.append('TXW_ID')
    scale_bad += [n + ':container_name' for n, d in svcs.items() if d.get('container_name')]
    check(not scale_bad, f'{label}: --scale validator=N works (no host port, container_name, hostname or TXW_ID on the validator)', scale_bad)

    # One-shots (restart "no": migrate, keys, bootstrap) run and exit; the
    # others run for good and need a health check.
    one_shots = [n for n, d in svcs.items() if str(d.get('restart', 'no')) == 'no']
    no_health = []
    for n, d in svcs.items():
        if n in one_shots:
            continue
        hc = d.get('healthcheck') or {}
        img = (stage_of_target.get(target(d)) or {}).get('health') or ''
        if hc.get('disable') or not (hc.get('test') or (img and 'NONE' not in img.split())):
            no_health.append(n)
    check(not no_health, f'{label}: every long-running service has a health check', no_health)
    m = svcs.get('migrate', {})
    check(target(m) == 'aggregator' and '--migrate-only' in (m.get('command') or [])
          and str(m.get('restart', 'no')) == 'no',
          f'{label}: migrate is a one-shot `txw-aggregator --migrate-only`')

    rooted = [n for n, d in svcs.items()
              if not (non_root(d.get('user')) or (not d.get('user') and non_root((stage_of_target.get(target(d)) or {}).get('user'))))]
    check(not rooted, f'{label}: every service runs as a non-root user (its own or its image\'s)', rooted)

    dep_bad = []
    for n, d in svcs.items():
        for dep, cond in (d.get('depends_on') or {}).items():
            c = (cond or {}).get('condition', 'service_started')
            if dep not in svcs:
                dep_bad.append(f'{n}->{dep} (no such service)')
            elif c == 'service_healthy' and dep in no_health + one_shots:
                dep_bad.append(f'{n}->{dep} (never healthy)')
            elif c == 'service_completed_successfully' and str(svcs[dep].get('restart', 'no')) != 'no':
                dep_bad.append(f'{n}->{dep} (restarts, never completes)')
        env = d.get('environment') or {}
        if 'TXW_DATABASE_URL' in env and n != 'migrate':
            if (d.get('depends_on') or {}).get('migrate', {}).get('condition') != 'service_completed_successfully' \
               or str(env.get('TXW_MIGRATE', 'true')) != 'false' and n not in ('query', 'gateway', 'notifier', 'maint', 'rescore'):
                dep_bad.append(f'{n} (uses the database: must wait for migrate and run with TXW_MIGRATE=false)')
    check(not dep_bad, f'{label}: depends_on conditions can be met; database users wait for the migration', dep_bad)

    env_bad, ep_bad = [], []
    svc_ports = {n: ports_of_target(target(d)) for n, d in svcs.items()}
    for n, d in svcs.items():
        t = target(d)
        svc = 'txwctl' if t == 'tools' else t
        if svc not in helps:
            continue
        env = d.get('environment') or {}
        for k, val in env.items():
            if k.startswith('TXW_') and k not in help_vars[svc]:
                env_bad.append(f'{n}:{k}')
            for host, port in re.findall(r'tcp://([^:/,]+):(\d+)', str(val)):
                if host not in svcs or port not in svc_ports.get(host, set()):
                    ep_bad.append(f'{n}:{k} -> {host}:{port}')
            if k == 'TXW_DATABASE_URL':
                h = re.search(r'@([^:/]+)', str(val))
                if not h or h.group(1) not in svcs:
                    ep_bad.append(f'{n}:{k}')
    check(not env_bad, f'{label}: every TXW_* variable is an option of its service\'s binary', env_bad)
    check(not ep_bad, f'{label}: every endpoint names a compose service that binds that port', ep_bad)

    # Shards: item i of the upstream's list is the service with TXW_SHARD=i.
    shard_bad = []
    for tgt, listvar, upstream in (('scorer', 'TXW_SCORER_ENDPOINTS', 'validator'),
                                   ('aggregator', 'TXW_AGGREGATOR_ENDPOINTS', 'scorer')):
        shards = {n: str((d.get('environment') or {}).get('TXW_SHARD', '0'))
                  for n, d in svcs.items() if target(d) == tgt and n != 'migrate'}
        lists = {n: str((d.get('environment') or {}).get(listvar, ''))
                 for n, d in svcs.items() if target(d) == upstream}
        if not lists:
            shard_bad.append(f'no {upstream}')
        for up, lst in lists.items():
            hosts = re.findall(r'tcp://([^:/,]+):', lst)
            if sorted(hosts) != sorted(shards) or len(set(lists.values())) != 1:
                shard_bad.append(f'{up}:{listvar} lists {hosts}, shards are {sorted(shards)}')
            for i, h in enumerate(hosts):
                if shards.get(h) != str(i):
                    shard_bad.append(f'{h} is item {i} of {up}:{listvar} but TXW_SHARD={shards.get(h)}')
    check(not shard_bad, f'{label}: scorer and aggregator shards match their place in the upstream lists', shard_bad)

    # Acknowledgements: a sender that keeps batches until they are stored
    # must hear every aggregator shard (and the validators, for dead
    # letters); one it does not hear has its records sent again and again.
    aggs = sorted(n for n, d in svcs.items() if target(d) == 'aggregator' and n != 'migrate')
    ack_bad = []
    for n, d in svcs.items():
        acks = str((d.get('environment') or {}).get('TXW_ACK_ENDPOINTS', ''))
        if not acks:
            continue
        hosts = re.findall(r'tcp://([^:/,]+):7022', acks)
        if sorted(hosts) != aggs or 'tcp://validator:7002' not in acks:
            ack_bad.append(f'{n} hears {hosts}, the aggregator shards are {aggs}')
    check(not ack_bad and any('TXW_ACK_ENDPOINTS' in (d.get('environment') or {}) for d in svcs.values()),
          f'{label}: every sender waiting for acknowledgements hears every aggregator shard', ack_bad)

    published = {n: [str(p.get('published') if isinstance(p, dict) else p) for p in d.get('ports') or []]
                 for n, d in svcs.items()}
    pub_ok = (any('8080' in p for p in published.get('query', []))
              and any('8081' in p for p in published.get('gateway', []))
              and not published.get('postgres'))
    check(pub_ok, f'{label}: query (8080) and gateway (8081) are published, PostgreSQL is not', published)
    pg = svcs.get('postgres', {})
    check(str(pg.get('image', '')).startswith('txwatch/postgres:') and target(pg) == 'postgres'
          and pg.get('volumes') and pg.get('healthcheck') and non_root(pg.get('user')),
          f'{label}: postgres is txwatch/postgres (target postgres) with a volume, a health check and a non-root user')

    # ---- secrets: made once by the one-shots `keys` and `bootstrap`, read
    # from their named volumes (deploy/README.md, "Secrets")
    def mounts(d):
        """(source, target, read_only) of each volume, short or long syntax."""
        out = []
        for v in d.get('volumes') or []:
            if isinstance(v, dict):
                out.append((v.get('source'), v.get('target'), bool(v.get('read_only'))))
            else:
                parts = str(v).split(':')
                out.append((parts[0], parts[1] if len(parts) > 1 else parts[0],
                            len(parts) > 2 and 'ro' in parts[2].split(',')))
        return out
    def completed(d, dep):
        return ((d.get('depends_on') or {}).get(dep) or {}).get('condition') == 'service_completed_successfully'
    def text(d, key):
        v = d.get(key)
        return ' '.join(v) if isinstance(v, list) else str(v or '')
    named = set(cfg.get('volumes') or {})
    keys = svcs.get('keys', {})
    key_dirs = [t for src, t, ro in mounts(keys) if src in named and not ro]
    script = text(keys, 'entrypoint') + ' ' + text(keys, 'command')
    check(target(keys) == 'tools' and str(keys.get('restart', 'no')) == 'no' and len(key_dirs) == 1
          and re.search(r'\[ -f pseudonym\.key \] \|\| txw-keygen --pseudonym-key pseudonym\.key', script)
          and re.search(r'\[ ! -f webhook\.secret \]', script) and keys.get('network_mode') == 'none',
          f'{label}: keys is a one-shot of the tools image that makes pseudonym.key and webhook.secret '
          'only where missing, in a writable named volume, without a network', (key_dirs, script[:200]))
    key_vol = next((src for src, t, ro in mounts(keys) if src in named and not ro), None)
    key_dir = key_dirs[0] if key_dirs else '/nonexistent'

    # Every service (a target of services/ but the tools, and txw-maint,
    # which handles no ids) reads the one key, from the keys volume mounted
    # read-only, once keys has completed.
    pseudo_bad, files = [], set()
    for n, d in svcs.items():
        if target(d) in (None, 'tools', 'maint', 'postgres') or n in one_shots:
            continue
        env = d.get('environment') or {}
        f = str(env.get('TXW_PSEUDONYM_KEY_FILE') or '')
        files.add(f)
        ro = [t for src, t, r in mounts(d) if src == key_vol and r]
        rw = [t for src, t, r in mounts(d) if src == key_vol and not r]
        if not f:
            pseudo_bad.append(f'{n}: no TXW_PSEUDONYM_KEY_FILE')
        elif f != key_dir.rstrip('/') + '/pseudonym.key' or key_dir not in ro:
            pseudo_bad.append(f'{n}: {f} is not pseudonym.key of the volume {key_vol} mounted read-only at {key_dir}')
        if rw:
            pseudo_bad.append(f'{n}: mounts {key_vol} writable')
        if not completed(d, 'keys'):
            pseudo_bad.append(f'{n}: does not wait for keys to complete')
    check(not pseudo_bad and len(files) == 1,
          f'{label}: every service reads the same pseudonym key, from the keys volume mounted read-only, after keys',
          pseudo_bad or files)

    sign_bad = []
    for n, d in svcs.items():
        f = (d.get('environment') or {}).get('TXW_WEBHOOK_SECRET_FILE')
        if target(d) == 'notifier':
            if f != key_dir.rstrip('/') + '/webhook.secret':
                sign_bad.append(f'{n}: TXW_WEBHOOK_SECRET_FILE is {f}, not webhook.secret of {key_dir}')
        elif f:
            sign_bad.append(f'{n}: TXW_WEBHOOK_SECRET_FILE set (the notifier\'s alone)')
    check(not sign_bad, f'{label}: only the notifier reads the webhook signing secret (webhook.secret of the keys volume)',
          sign_bad)

    # CURVE (ARCHITECTURE.md, "CURVE: who may talk to whom"): keys makes the
    # set with `txw-keygen --all KEYS/curve`; every ZeroMQ service connects
    # with its role's client certificate and the servers' public key, those
    # that bind serve with the server certificate and admit curve/allowed;
    # nothing else (query: it would not start) sets a TXW_CURVE_* variable.
    curve = key_dir.rstrip('/') + '/curve'
    curve_bad = []
    if not re.search(r'txw-keygen --all ' + re.escape(curve) + r'(\s|$)', script):
        curve_bad.append(f'keys: no `txw-keygen --all {curve}`')
    for n, d in svcs.items():
        env = {k: str(v) for k, v in (d.get('environment') or {}).items() if k.startswith('TXW_CURVE_')}
        # txw-ingest sends as a producer, with that role's certificate.
        role = {'ingest': 'producer'}.get(target(d), target(d))
        if role not in ('producer', 'validator', 'scorer', 'aggregator', 'gateway', 'notifier') or n in one_shots:
            if env:
                curve_bad.append(f'{n}: sets {sorted(env)} but speaks no ZeroMQ')
            continue
        binds = role in ('validator', 'scorer', 'aggregator')
        want = {'TXW_CURVE_CLIENT_KEY': f'{curve}/{role}/{role}.key_secret',
                'TXW_CURVE_SERVER_KEY': f'{curve}/public/cluster.key'}
        if binds:
            want['TXW_CURVE_SECRET_KEY'] = f'{curve}/server/cluster.key_secret'
            want['TXW_CURVE_ALLOWED'] = f'{curve}/allowed'
        if env != want:
            curve_bad.append(f'{n}: {env}, not {want}')
        if key_dir not in [t for src, t, r in mounts(d) if src == key_vol and r]:
            curve_bad.append(f'{n}: does not mount {key_vol} read-only at {key_dir}')
    check(not curve_bad, f'{label}: CURVE on every ZeroMQ service with its role\'s certificate (server certificate '
          'and allowed folder where it binds), from keys\' `txw-keygen --all`; none in query', curve_bad)

    # bootstrap: `txwctl keys create NAME admin --database-url OWNER
    # --if-none --out FILE`, FILE in a writable named volume, after migrate.
    b = svcs.get('bootstrap', {})
    argv = [str(a) for a in (b.get('command') or [])] if isinstance(b.get('command'), list) else []
    def after(flag):
        return argv[argv.index(flag) + 1] if flag in argv[:-1] else ''
    owner = (svcs.get('postgres', {}).get('environment') or {}).get('POSTGRES_USER')
    url = re.match(r'postgresql://([^:@/]+)[:@]', after('--database-url'))
    out = after('--out')
    out_dirs = [t for src, t, ro in mounts(b) if src in named and not ro and out.startswith(t.rstrip('/') + '/')]
    check(target(b) == 'tools' and not b.get('entrypoint') and argv[:2] == ['keys', 'create']
          and argv[3:4] == ['admin'] and '--if-none' in argv and url and url.group(1) == owner
          and out_dirs and completed(b, 'migrate') and str(b.get('restart', 'no')) == 'no',
          f'{label}: bootstrap makes the first admin key as the owner ({owner}) only while none is active, '
          'into a named volume, after migrate', argv)

    # The Dockerfile makes every folder a one-shot writes into (a new volume
    # copies its owner) owned by the images' user.
    runs = ' '.join(effective(by_name['tools'])['runs']) if 'tools' in by_name else ''
    unowned = [t for n in ('keys', 'bootstrap') for src, t, ro in mounts(svcs.get(n, {}))
               if src in named and not ro
               and not re.search(r'install -d -o 10001 -g 10001 -m 07[05]0 [^&;]*' + re.escape(t.rstrip('/')) + r'(\s|$)', runs)]
    check(not unowned, f'{label}: the folders the one-shots write (new named volumes) are owned by uid 10001 in the images',
          unowned)

    # Browser access: the API takes keys (TXW_AUTH never off), CORS lists
    # the dashboard's origins and never *.
    web_bad = []
    for n, d in svcs.items():
        env = d.get('environment') or {}
        if re.fullmatch(r'(?i)off|false|no|0', str(env.get('TXW_AUTH', 'true'))):
            web_bad.append(f'{n}: TXW_AUTH={env.get("TXW_AUTH")}')
        if any(o.strip() == '*' for o in str(env.get('TXW_CORS_ORIGINS') or '').split(',')):
            web_bad.append(f'{n}: TXW_CORS_ORIGINS allows *')
    cors = [o.strip() for o in str((svcs.get('query', {}).get('environment') or {}).get('TXW_CORS_ORIGINS') or '').split(',')]
    gw_port = None                      # the dashboard's port on the host
    for p in svcs.get('gateway', {}).get('ports') or []:
        if isinstance(p, dict):
            host, tp = str(p.get('published')), str(p.get('target'))
        else:
            parts = str(p).split(':')
            host, tp = parts[-2] if len(parts) > 1 else parts[-1], parts[-1]
        if tp.split('/')[0] == '8081':
            gw_port = host
    for origin in (f'http://localhost:{gw_port}', f'http://127.0.0.1:{gw_port}'):
        if origin not in cors:
            web_bad.append(f'query: TXW_CORS_ORIGINS {cors} lacks the dashboard\'s origin {origin}')
    check(not web_bad, f'{label}: the API and /ws need a key, and CORS lists the dashboard\'s origins (never *)', web_bad)

    # Admin ports (/metrics, /readyz) stay inside the containers: loopback
    # (the default; the health checks run inside) and never published.
    adm_bad = []
    for n, d in svcs.items():
        env = d.get('environment') or {}
        addr = str(env.get('TXW_ADMIN_ADDRESS', '127.0.0.1'))
        if addr not in ('127.0.0.1', 'localhost', '::1'):
            adm_bad.append(f'{n}: TXW_ADMIN_ADDRESS={addr}')
        admin = str(env.get('TXW_ADMIN_PORT') or (stage_of_target.get(target(d)) or {}).get('env', {}).get('TXW_ADMIN_PORT') or '')
        for p in d.get('ports') or []:
            tp = str(p.get('target') if isinstance(p, dict) else str(p).split(':')[-1]).split('/')[0]
            if admin and tp == admin:
                adm_bad.append(f'{n}: publishes its admin port {admin}')
    check(not adm_bad, f'{label}: no admin port is reachable from outside its container (loopback, not published)', adm_bad)
PY
}

# ------------------------------------------------------------------ renders
if ! command -v docker-compose >/dev/null; then
    not_ok "docker-compose is installed (Debian package docker-compose)"
    exit 1
fi
note "$(docker-compose version --short 2>/dev/null || docker-compose version | head -1)"
for bin in txw-producer txw-validator txw-scorer txw-aggregator txw-query txw-gateway txw-notifier txwctl; do
    [ -x "$BIN/$bin" ] || { not_ok "build/bin/$bin is built (make all)"; exit 1; }
done

render() {   # OUT ARGS...: docker-compose ARGS config > OUT
    local out=$1; shift
    # The rendered file must not depend on the caller's shell.
    env -u POSTGRES_PASSWORD -u TXW_TAG -u PRODUCER_RATE -u TXW_CORS_ORIGINS -u TXW_WEBHOOK_URL \
        -u TXW_WEBHOOK_HEADER docker-compose "$@" config >"$out" 2>"$out.err"
}
check "docker-compose config renders deploy/docker-compose.yml" \
    render "$WORK/compose.yml" -f "$COMPOSE"
check "docker-compose config renders it with the notifier profile" \
    render "$WORK/compose-notifier.yml" -f "$COMPOSE" --profile notifier
check "docker-compose config renders it with deploy/docker-compose.shards.yml" \
    render "$WORK/compose-shards.yml" -f "$COMPOSE" -f "$SHARDS"
# The same file from another folder (so `..` is still the repo root), then
# with an unknown depends_on condition: the first renders, the second must not.
cp "$COMPOSE" "$WORK/same.yml"
sed 's/condition: service_healthy/condition: service_ready/' "$COMPOSE" >"$WORK/broken.yml"
check "docker-compose config renders a copy of it" \
    render "$WORK/same.out" -f "$WORK/same.yml" --project-directory "$ROOT/deploy"
check "docker-compose config rejects it with an unknown depends_on condition" \
    bash -c "! docker-compose -f '$WORK/broken.yml' --project-directory '$ROOT/deploy' config >/dev/null 2>&1"
for f in compose.yml compose-notifier.yml compose-shards.yml; do
    [ -s "$WORK/$f" ] || { note "$(cat "$WORK/$f.err")"; exit 1; }
done

checker "$DOCKERFILE" "$WORK/compose.yml" "$WORK/compose-shards.yml" | tee "$WORK/checker.out"
check "the checker ran to the end" grep -q 'no admin port is reachable' "$WORK/checker.out"

# ------------------------------------------------- the images' health check
start validator ${P}91 "$BIN/txw-validator" --bind tcp://127.0.0.1:${P}01 \
    --publish tcp://127.0.0.1:${P}02 --scorer-endpoints tcp://127.0.0.1:${P}11 --admin-port ${P}91
HC=$ROOT/deploy/txw-healthcheck
check "txw-healthcheck passes on a live admin port (/healthz)" env TXW_ADMIN_PORT=${P}91 bash "$HC"
check "txw-healthcheck passes on /readyz" env TXW_ADMIN_PORT=${P}91 bash "$HC" /readyz
check "txw-healthcheck fails on a 404" bash -c "! TXW_ADMIN_PORT=${P}91 bash '$HC' /nowhere 2>/dev/null"
check "txw-healthcheck fails on a closed port" bash -c "! TXW_ADMIN_PORT=${P}99 bash '$HC' 2>/dev/null"
check "txw-healthcheck fails without TXW_ADMIN_PORT" bash -c "! env -u TXW_ADMIN_PORT bash '$HC' 2>/dev/null"
# shellcheck disable=SC2154 # PID_<name> is set by start() in lib.sh (eval)
check "validator stops cleanly" stop_clean "$PID_validator"
PIDS=()

# ---------------------------------- the checker catches each kind of mistake
# mutate NAME PATTERN FILE-KIND SED-SCRIPT: the checker must print a
# "not ok" line matching PATTERN for a copy of the file changed by SED-SCRIPT.
mutate() {
    local what=$1 pattern=$2 kind=$3 script=$4 df=$DOCKERFILE cy=$WORK/compose.yml
    if [ "$kind" = dockerfile ]; then
        df=$WORK/Dockerfile.mutant; sed "$script" "$DOCKERFILE" >"$df"
        cmp -s "$df" "$DOCKERFILE" && { not_ok "mutant '$what' differs from the original"; return; }
    else
        cy=$WORK/compose.mutant.yml; sed "$script" "$WORK/compose.yml" >"$cy"
        cmp -s "$cy" "$WORK/compose.yml" && { not_ok "mutant '$what' differs from the original"; return; }
    fi
    if checker "$df" "$cy" | grep -E "^not ok - .*$pattern" >/dev/null; then
        ok "the checker catches: $what"
    else
        not_ok "the checker catches: $what"
    fi
}
mutate "a final stage without USER" "validator runs as a non-root USER" dockerfile \
    '/^FROM runtime AS validator/,/^ENTRYPOINT/{/^USER/d}'
mutate "USER root" "query runs as a non-root USER" dockerfile \
    '/^FROM runtime AS query/,/^ENTRYPOINT/s/^USER .*/USER root/'
mutate "a final stage without HEALTHCHECK" "scorer has a HEALTHCHECK" dockerfile \
    '/^FROM runtime AS scorer/,/^ENTRYPOINT/{/^HEALTHCHECK/,/CMD/d}'
mutate "a latest tag" "pins its image" dockerfile 's/^ARG BASE=.*/ARG BASE=debian:latest/'
mutate "an untagged image" "pins its image" dockerfile 's/^ARG BASE=.*/ARG BASE=debian/'
RT='/^FROM ${BASE} AS runtime/,/^STOPSIGNAL/'
mutate "a -dev package in a runtime stage" "aggregator installs no -dev" dockerfile "$RT"'s/ libpq5 / libpq-dev /'
mutate "a build tool in a runtime stage" "query installs no -dev package or build tool" dockerfile \
    "$RT"'s/ ca-certificates / ca-certificates make /'
mutate "a runtime library missing (libjansson4)" "runtime libraries of txw-gateway" dockerfile "$RT"'s/ libjansson4//'
mutate "a directly linked library only there by dependency (libzmq5)" "runtime libraries of txw-producer" dockerfile \
    "$RT"'s/ libzmq5//'
mutate "an LDLIBS library without its runtime package (libmsgpackc2)" "each LDLIBS library" dockerfile \
    "$RT"'s/ libmsgpackc2//'
mutate "a service without a target" "services/notifier has target" dockerfile \
    's/^FROM runtime AS notifier/FROM runtime AS notify/'
mutate "apt lists left in the image" "tools uses --no-install-recommends" dockerfile \
    "$RT"'{/rm -rf \/var\/lib\/apt\/lists/d}'
mutate "the wrong admin port" "query has a HEALTHCHECK on its admin port" dockerfile \
    's/^ENV TXW_ADMIN_PORT=9104/ENV TXW_ADMIN_PORT=9105/'
mutate "a bound port not exposed" "validator EXPOSEs" dockerfile 's/^EXPOSE 7001 7002 9101/EXPOSE 9101/'
mutate "the dashboard not copied" "gateway carries the dashboard" dockerfile \
    '/build\/dashboard \/usr\/share\/txwatch\/dashboard/d'
mutate "a COPY of a missing file" "COPY sources exist" dockerfile \
    's#^COPY deploy/txw-healthcheck#COPY deploy/healthcheck.sh#'
mutate "a misspelt instruction" "every instruction is a Dockerfile" dockerfile 's/^EXPOSE 9106/EXPOSES 9106/'
mutate "a fixed host port on the validator" "scale validator" compose \
    '/^  validator:/a\    ports: ["7001:7001"]'
mutate "a container_name" "scale validator" compose '/^  query:/a\    container_name: txw-query'
mutate "a misspelt TXW_ variable" "is an option of its service" compose \
    's/TXW_SCORER_ENDPOINTS:/TXW_SCORER_ENDPOINT:/'
mutate "an endpoint on a port nobody binds" "every endpoint names" compose 's#tcp://scorer:7011#tcp://scorer:7111#'
mutate "a service run as root" "runs as a non-root user" compose 's/^    user: .*999:999.*/    user: root/'
mutate "a health check disabled" "has a health check" compose \
    '/^  gateway:/,/^  [a-z]/s/^    healthcheck:/    healthcheck:\n      disable: true/'
mutate "a wrong shard number" "shards match" compose 's/TXW_SHARD: .0./TXW_SHARD: "1"/'
mutate "a sender deaf to the aggregator's acknowledgements" "hears every aggregator shard" compose \
    's#TXW_ACK_ENDPOINTS: \(.*\)tcp://aggregator:7022,#TXW_ACK_ENDPOINTS: \1#'
mutate "a database user not waiting for the migration" "database users wait" compose \
    's/TXW_MIGRATE: .false./TXW_MIGRATE: "true"/'
mutate "a service without the pseudonym key" "the same pseudonym key" compose \
    '/^  gateway:/,/^  [a-z]/{/TXW_PSEUDONYM_KEY_FILE:/d}'
mutate "a service with a pseudonym key of its own" "the same pseudonym key" compose \
    '/^  query:/,/^  [a-z]/s#TXW_PSEUDONYM_KEY_FILE: .*#TXW_PSEUDONYM_KEY_FILE: /tmp/pseudonym.key#'
mutate "the key volume mounted writable in a service" "the same pseudonym key" compose \
    '0,/keys:\/var\/lib\/txwatch\/keys:ro/s//keys:\/var\/lib\/txwatch\/keys:rw/'
mutate "a service not waiting for keys" "the same pseudonym key" compose \
    '/^  scorer:/,/^  [a-z]/{/^      keys:/{N;d}}'
mutate "keys making a new pseudonym key at every up" "keys is a one-shot" compose \
    's/\[ -f pseudonym.key \] || txw-keygen/txw-keygen --force/'
mutate "the signing secret given to the gateway" "only the notifier reads the webhook signing secret" compose \
    '/^  gateway:/,/^  [a-z]/s#^\(      TXW_PSEUDONYM_KEY_FILE: .*\)#\1\n      TXW_WEBHOOK_SECRET_FILE: /var/lib/txwatch/keys/webhook.secret#'
mutate "keys making no CURVE certificates" "CURVE on every ZeroMQ service" compose \
    's#txw-keygen --all /var/lib/txwatch/keys/curve#true#'
mutate "the gateway without CURVE" "CURVE on every ZeroMQ service" compose \
    '/^  gateway:/,/^  [a-z]/{/TXW_CURVE_CLIENT_KEY:/d}'
mutate "the scorer admitting any key (no allowed folder)" "CURVE on every ZeroMQ service" compose \
    '/^  scorer:/,/^  [a-z]/{/TXW_CURVE_ALLOWED:/d}'
mutate "the producer with the validator's certificate" "CURVE on every ZeroMQ service" compose \
    's#keys/curve/producer/producer.key_secret#keys/curve/validator/validator.key_secret#'
mutate "the gateway given the server secret" "CURVE on every ZeroMQ service" compose \
    '/^  gateway:/,/^  [a-z]/s#^\(      TXW_CURVE_SERVER_KEY: .*\)#\1\n      TXW_CURVE_SECRET_KEY: /var/lib/txwatch/keys/curve/server/cluster.key_secret#'
mutate "query given a CURVE variable" "CURVE on every ZeroMQ service" compose \
    '/^  query:/,/^  [a-z]/s#^\(      TXW_CORS_ORIGINS: .*\)#\1\n      TXW_CURVE_SERVER_KEY: /var/lib/txwatch/keys/curve/public/cluster.key#'
mutate "bootstrap without --if-none" "bootstrap makes the first admin key" compose '/^    - --if-none$/d'
mutate "bootstrap as a service's login" "bootstrap makes the first admin key" compose \
    '/^  bootstrap:/,/^  [a-z]/s#postgresql://txwatch:#postgresql://txw_query:#'
mutate "the keys folder not owned by the images' user" "owned by uid 10001" dockerfile \
    's#install -d -o 10001 -g 10001 -m 0700 /var/lib/txwatch/keys#install -d /var/lib/txwatch/keys#'
mutate "CORS for every origin" "CORS lists the dashboard" compose 's#TXW_CORS_ORIGINS: .*#TXW_CORS_ORIGINS: "*"#'
mutate "the gateway's /ws open to anyone" "need a key" compose \
    '/^  gateway:/,/^  [a-z]/s#^\(      TXW_API_URL: .*\)#\1\n      TXW_AUTH: "false"#'
mutate "an admin port published" "no admin port is reachable" compose \
    '/^  query:/,/^  [a-z]/s#^      target: 8080#      target: 8080\n    - published: 9104\n      target: 9104#'
mutate "an admin port on every address" "no admin port is reachable" compose \
    '/^  query:/,/^  [a-z]/s#^\(      TXW_CORS_ORIGINS: .*\)#\1\n      TXW_ADMIN_ADDRESS: 0.0.0.0#'

# ---------------------------------- the rendered suite, played on this host
# No Docker engine runs here, so compose's own `up` cannot. Instead every
# service of the render runs as its binary on this host, with the
# entrypoint, command and environment compose would give its container;
# only what a container has of its own is moved: each named volume becomes
# a folder under $LIVE/volumes, the service names and container ports of
# endpoints become 127.0.0.1 and ports of this suite (each service told to
# bind those), and postgres a private server (the render's owner, txwatch,
# made there; it trusts local connections, so passwords do not matter).
# The notifier posts to a local receiver that checks the signatures, and
# the producer runs at 200 tx/s, both set as an operator would: variables
# read when the file is rendered.
LIVE=$WORK/live
WEBHOOK_PORT=${P}70
mkdir -p "$LIVE"
env -u POSTGRES_PASSWORD -u TXW_TAG -u TXW_CORS_ORIGINS -u TXW_WEBHOOK_HEADER \
    TXW_WEBHOOK_URL="http://127.0.0.1:$WEBHOOK_PORT/hook" PRODUCER_RATE=200 \
    docker-compose -f "$COMPOSE" --profile notifier config >"$WORK/compose-live.yml" 2>"$WORK/compose-live.err"
check "docker-compose config renders it with a webhook URL and the notifier profile" test -s "$WORK/compose-live.yml"

pg_start 25361
check "the render's database owner exists in the private PostgreSQL" \
    sql "CREATE ROLE txwatch LOGIN SUPERUSER"

# live_plan RENDER DIR PGPORT BASE: for each service of RENDER but postgres,
# DIR/NAME.env and DIR/NAME.argv (NUL-separated) run it on this host;
# DIR/plan lists "NAME oneshot|service ADMIN_PORT" in start order (depends_on
# first), DIR/ports "NAME CONTAINER_PORT HOST_PORT" (host ports from BASE).
live_plan() {
    python3 - "$ROOT" "$BIN" "$@" <<'PY'
import os, re, subprocess, sys
import yaml
root, binp, render, out, pgport, base = sys.argv[1:7]
cfg = yaml.safe_load(open(render))
svcs = {n: d for n, d in cfg['services'].items()
        if (d.get('build') or {}).get('target') not in (None, 'postgres')}   # postgres: a private server
named = set(cfg.get('volumes') or {})
def binary(t):
    return 'txwctl' if t == 'tools' else 'txw-' + t
def one_shot(d):
    return str(d.get('restart', 'no')) == 'no'

# The ports each long-running service binds in its container (its binary's
# defaults), each given a port of this suite.
hostport, binds, nxt = {}, {}, int(base)
for n, d in svcs.items():
    if one_shot(d):
        continue
    r = subprocess.run([os.path.join(binp, binary(d['build']['target'])), '--help'],
                       capture_output=True, text=True)
    binds[n] = {}
    for flag, var in (('bind', 'TXW_BIND'), ('publish', 'TXW_PUBLISH'), ('listen', 'TXW_LISTEN'),
                      ('admin-port', 'TXW_ADMIN_PORT')):
        m = re.search(r'--' + flag + r' \S+\s+TXW_\w+\s+default: \S*?(\d+)\n', r.stdout + r.stderr)
        if not m or m.group(1) == '0':
            continue
        hostport[(n, m.group(1))] = p = str(nxt)
        nxt += 1
        binds[n][var] = {'admin-port': p, 'listen': '127.0.0.1:' + p}.get(flag, 'tcp://127.0.0.1:' + p)

def mounts(d):
    for v in d.get('volumes') or []:
        src, tgt = (v.get('source'), v.get('target')) if isinstance(v, dict) else str(v).split(':')[:2]
        if src in named:
            yield src, tgt

def rewrite(s, vols):
    s = re.sub(r'tcp://([A-Za-z0-9_.-]+):(\d+)',
               lambda m: 'tcp://127.0.0.1:' + hostport.get((m.group(1), m.group(2)), m.group(2)), s)
    s = s.replace('@postgres:5432/', '@127.0.0.1:%s/' % pgport)
    for tgt, host in vols:
        s = s.replace(tgt, host)
    return s

order, done = [], set()
while len(order) < len(svcs):
    ready = [n for n in svcs if n not in done
             and all(dep in done or dep not in svcs for dep in (svcs[n].get('depends_on') or {}))]
    if not ready:
        sys.exit('depends_on has a cycle')
    order += ready
    done |= set(ready)

with open(os.path.join(out, 'plan'), 'w') as plan, open(os.path.join(out, 'ports'), 'w') as ports:
    for (n, cport), hport in hostport.items():
        ports.write(f'{n} {cport} {hport}\n')
    for n in order:
        d = svcs[n]
        t = d['build']['target']
        vols = []
        for src, tgt in mounts(d):
            host = os.path.join(out, 'volumes', src)
            os.makedirs(host, mode=0o700, exist_ok=True)
            vols.append((tgt, host))
        env = {'PATH': binp + ':/usr/bin:/bin', 'HOME': out}
        for k, v in (d.get('environment') or {}).items():
            env[k] = rewrite('' if v is None else str(v), vols)
        env.update(binds.get(n, {}))
        if t == 'gateway':          # the image's ENV, at its COPY source
            env['TXW_DOCUMENT_ROOT'] = os.path.join(root, 'build/dashboard')
        entry = d.get('entrypoint') or [binary(t)]
        entry = [entry] if isinstance(entry, str) else entry
        command = d.get('command') or []
        command = [command] if isinstance(command, str) else command
        argv = [rewrite(str(a), vols) for a in list(entry) + list(command)]
        if '/' not in argv[0]:
            argv[0] = os.path.join(binp, argv[0])
        with open(os.path.join(out, n + '.env'), 'w') as f:
            f.write(''.join(f'{k}={v}\0' for k, v in env.items()))
        with open(os.path.join(out, n + '.argv'), 'w') as f:
            f.write(''.join(a + '\0' for a in argv))
        admin = binds.get(n, {}).get('TXW_ADMIN_PORT', '0')
        plan.write(f'{n} {"oneshot" if one_shot(d) else "service"} {admin}\n')
PY
}
check "the render gives every service a command and an environment to run here" \
    live_plan "$WORK/compose-live.yml" "$LIVE" 25361 "${P}00"
note "start order: $(awk '{ printf "%s ", $1 }' "$LIVE/plan" 2>/dev/null)"

# run_oneshot NAME: runs the one-shot as planned, appending to NAME.log
run_oneshot() {
    local -a envv argv
    mapfile -d '' -t envv <"$LIVE/$1.env"
    mapfile -d '' -t argv <"$LIVE/$1.argv"
    (cd "$LIVE" && env -i "${envv[@]}" "${argv[@]}") >>"$WORK/$1.log" 2>&1
}
KEYS=$LIVE/volumes/keys
ADMIN_KEY_FILE=$LIVE/volumes/admin-key/admin.key
mode_600() { [ "$(stat -c %a "$1" 2>/dev/null)" = 600 ]; }
check "keys makes the pseudonym key and the webhook signing secret" run_oneshot keys
check "the pseudonym key is a file of mode 0600 in its volume" mode_600 "$KEYS/pseudonym.key"
check "the webhook signing secret is a file of mode 0600 there too" mode_600 "$KEYS/webhook.secret"
FINGERPRINT=$(sed -n 's/^fingerprint \([0-9a-f]\{16\}\)$/\1/p' "$WORK/keys.log")
note "pseudonym key fingerprint (keys' log): ${FINGERPRINT:-none}"
cp "$KEYS/pseudonym.key" "$WORK/pseudonym.first" 2>/dev/null
cp "$KEYS/webhook.secret" "$WORK/webhook.first" 2>/dev/null
cp "$KEYS/curve/server/cluster.key_secret" "$WORK/cluster.first" 2>/dev/null
keys_again() {
    run_oneshot keys && cmp -s "$KEYS/pseudonym.key" "$WORK/pseudonym.first" \
        && cmp -s "$KEYS/webhook.secret" "$WORK/webhook.first" \
        && cmp -s "$KEYS/curve/server/cluster.key_secret" "$WORK/cluster.first"
}
check "keys run again (the next up) keeps them (and the CURVE server certificate) as they are" keys_again
check "migrate applies the schema and makes the services' logins" run_oneshot migrate
bootstrap_first() {
    run_oneshot bootstrap && grep -qE '^txw_[0-9a-f]{16}_' "$ADMIN_KEY_FILE" && mode_600 "$ADMIN_KEY_FILE"
}
check "bootstrap makes the first admin API key, a file of mode 0600 in its volume" bootstrap_first
ADMIN_KEY=$(cat "$ADMIN_KEY_FILE" 2>/dev/null)
cp "$ADMIN_KEY_FILE" "$WORK/admin.first" 2>/dev/null
bootstrap_again() {
    run_oneshot bootstrap && cmp -s "$ADMIN_KEY_FILE" "$WORK/admin.first" \
        && grep -q 'an active admin key exists' "$WORK/bootstrap.log"
}
check "bootstrap run again makes no key while that one is active, and keeps the file" bootstrap_again
check "bootstrap's log does not hold the key" bash -c "! grep -qF '$ADMIN_KEY' '$WORK/bootstrap.log'"

# The receiver checks each signature's time against its own clock, so it
# runs on the services' clock: they start with `env -i`, which drops a
# faked clock's preload (make test-clock), and so does it.
env -u LD_PRELOAD -u FAKETIME -u FAKETIME_SHARED python3 "$ROOT/tests/tools/webhook_receiver.py" \
    --port "$WEBHOOK_PORT" --out "$WORK/hooks.jsonl" \
    --secret-file "$KEYS/webhook.secret" >"$WORK/receiver.log" 2>&1 &
RECEIVER=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$WEBHOOK_PORT") 2>/dev/null && break; sleep 0.1; done

STARTED=()
while read -r name kind admin; do
    [ "$kind" = service ] || continue
    mapfile -d '' -t envv <"$LIVE/$name.env"
    mapfile -d '' -t argv <"$LIVE/$name.argv"
    start "$name" "$admin" env -i "${envv[@]}" "${argv[@]}"
    STARTED+=("$name")
    ok "$name starts as rendered and becomes ready"
done <"$LIVE/plan"

# Every service logs the fingerprint of the key it loaded: one, the one keys made.
fingerprints() {
    local name f bad=0
    for name in "${STARTED[@]}"; do
        [ "$name" = maint ] && continue     # txw-maint handles no ids
        f=$(grep -o 'pseudonym key [^ ]* loaded (fingerprint [0-9a-f]*)' "$WORK/$name.log" | grep -o '[0-9a-f]\{16\})' | tr -d ')')
        [ -n "$FINGERPRINT" ] && [ "$f" = "$FINGERPRINT" ] || { note "$name: fingerprint '${f}'"; bad=1; }
    done
    return $bad
}
check "every service but maint (${STARTED[*]}) logged 'pseudonym key ... loaded' with the fingerprint keys made" fingerprints

port_of() { awk -v n="$1" -v p="$2" '$1 == n && $2 == p { print $3 }' "$LIVE/ports"; }
API=http://127.0.0.1:$(port_of query 8080)
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "the API refuses a request without a key (401)" \
    test "$(status "$API/api/v1/stats/realtime")" = 401
check "the API accepts bootstrap's key (200)" \
    test "$(status -H "Authorization: Bearer $ADMIN_KEY" "$API/api/v1/stats/realtime")" = 200
check "bootstrap's key has the admin role" \
    bash -c "curl -sf -H 'Authorization: Bearer $ADMIN_KEY' '$API/api/v1/whoami' | grep -q '\"role\":\"admin\"'"
allow_origin() {   # ORIGIN [curl args]: prints the Access-Control-Allow-Origin answered
    local origin=$1; shift
    curl -s -o /dev/null -D - -H "Origin: $origin" "$@" | tr -d '\r' \
        | sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p'
}
for origin in http://localhost:8081 http://127.0.0.1:8081; do
    check "the dashboard's origin $origin gets CORS" \
        test "$(allow_origin "$origin" -H "Authorization: Bearer $ADMIN_KEY" "$API/api/v1/stats/realtime")" = "$origin"
done
check "a preflight from the dashboard's origin is answered without a key" \
    test "$(allow_origin http://localhost:8081 -X OPTIONS -H 'Access-Control-Request-Method: GET' \
            -H 'Access-Control-Request-Headers: authorization' "$API/api/v1/stats/realtime")" = http://localhost:8081
check "another origin gets no CORS" \
    test -z "$(allow_origin http://evil.example:8081 -H "Authorization: Bearer $ADMIN_KEY" "$API/api/v1/stats/realtime")"

signed_hook() {
    local deadline=$((SECONDS + 90))
    while [ $SECONDS -lt $deadline ]; do
        grep -q '"verified": *true' "$WORK/hooks.jsonl" 2>/dev/null && return 0
        sleep 1
    done
    return 1
}
check "the notifier's webhooks carry a signature the receiver verifies with keys' secret" signed_hook
check "no webhook failed the signature check" bash -c "! grep -q '\"verified\": *false' '$WORK/hooks.jsonl'"
note "webhooks received: $(wc -l <"$WORK/hooks.jsonl" 2>/dev/null || echo 0)"

# CURVE as rendered: every ZeroMQ service runs with the certificates keys
# made (keys/curve), and the data above crossed admitted handshakes. A
# client whose key is not in curve/allowed (a fresh producer certificate)
# is refused: the validator counts it, and none of its records get in.
check "keys made the CURVE certificates (txw-keygen --all) in keys/curve" \
    test -f "$KEYS/curve/server/cluster.key_secret" -a -f "$KEYS/curve/public/cluster.key" \
         -a -f "$KEYS/curve/allowed/producer.key" -a -f "$KEYS/curve/notifier/notifier.key_secret"
curve_on() {
    local name bad=0
    for name in "${STARTED[@]}"; do
        case $name in query | maint | rescore) continue ;; esac     # no ZeroMQ
        grep -q 'CURVE on' "$WORK/$name.log" || { note "$name: no 'CURVE on' in its log"; bad=1; }
    done
    return $bad
}
check "every ZeroMQ service logged 'CURVE on'" curve_on
admin_of() { awk -v n="$1" '$1 == n { print $3 }' "$LIVE/plan"; }
metric() {   # service name: the sum of a counter's series on its /metrics
    curl -sf "http://127.0.0.1:$(admin_of "$1")/metrics" \
        | awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}
admitted=$(metric aggregator txw_curve_handshakes_admitted_total)
note "aggregator: txw_curve_handshakes_admitted_total $admitted"
check "the aggregator admitted CURVE handshakes (txw_curve_handshakes_admitted_total > 0)" \
    awk -v n="$admitted" 'BEGIN { exit !(n > 0) }'
VALIDATOR_WORK=$(port_of validator 7001)
refused_before=$(metric validator txw_curve_handshakes_refused_total)
rogue_refused() {
    mkdir -p "$WORK/rogue" && "$BIN/txw-keygen" producer-rogue "$WORK/rogue" >/dev/null || return 1
    timeout -s TERM 8 "$BIN/txw-producer" --rate 10 --admin-port 0 \
        --validator-endpoints "tcp://127.0.0.1:$VALIDATOR_WORK" \
        --curve-client-key "$WORK/rogue/producer-rogue.key_secret" \
        --curve-server-key "$KEYS/curve/public/cluster.key" >"$WORK/rogue.log" 2>&1
    local after
    after=$(metric validator txw_curve_handshakes_refused_total)
    note "validator: txw_curve_handshakes_refused_total $refused_before -> $after"
    awk -v a="$after" -v b="$refused_before" 'BEGIN { exit !(a > b) }'
}
check "a producer with a key not in curve/allowed is refused (the validator's txw_curve_handshakes_refused_total grows)" \
    rogue_refused

# As `docker-compose stop` does: upstream first, each exits 0.
REVERSED=()
for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do REVERSED+=("${PIDS[i]}"); done
check "every service stops cleanly (SIGTERM, exit 0), upstream first" stop_clean "${REVERSED[@]}"
PIDS=()
kill "$RECEIVER" 2>/dev/null
wait "$RECEIVER" 2>/dev/null || :      # its status is SIGTERM's, not the suite's
