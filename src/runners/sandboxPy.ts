// Python (stdlib only) programs of a confined run, written into `<runDir>/sbx/` at submit time so the local and
// the Slurm runner use the same files (the compute node reads them from the shared run directory):
// - SUPERVISOR_PY runs INSIDE the sandbox as its first process: the TCP→Unix-socket forwarder to the run's API
//   proxy, resource limits (processes, memory high-water marks, disk of the outputs directory and /tmp), the
//   no-testing exec filter (seccomp with a user-notification listener it answers), the list of processes left
//   behind, and the stop request from the host. It writes what it saw to fd 3, and the audit hooks' records (which
//   reach it as datagrams on an abstract socket it bound before the run started) to fd 4: both are files the host
//   opened outside every mount, so the run can neither name nor replace them.
// - PROXY_PY runs on the HOST side (beside bwrap, outside the sandbox): it listens on the Unix socket bound into the
//   sandbox, forwards only the job token's routes to the hub adding `Authorization: Bearer <job token>`, and logs
//   every request and refusal to a file the sandbox cannot see.
// - SITECUSTOMIZE_PY is on the run's PYTHONPATH (read-only): a PEP 578 audit hook recording process starts,
//   dynamic code, ctypes, sockets and paths outside the sandbox's view as datagrams to the supervisor (the run can
//   send such datagrams too, so they are evidence, parsed defensively by runReport.ts). Its state is reachable
//   from Python: the enforcement of a no-testing run is the C hook of auditHook.ts, which is not.
// - DECOYWATCH_PY runs on the HOST side: inotify on the decoy label files bound into the sandbox (decoys.ts).
// Kept as plain strings (no `${` or backticks inside) so the bundle needs no asset files.

export const SUPERVISOR_PY = String.raw`
import ctypes, errno, json, os, platform, shlex, signal, socket, struct, sys, threading, time

POLICY = json.load(open(sys.argv[1]))
CMD = sys.argv[2]
STATUS_FD = 3
AUDIT_FD = 4
lock = threading.Lock()

def status(kind, **kw):
    kw['t'] = kind
    kw['ts'] = round(time.time(), 3)
    line = (json.dumps(kw, separators=(',', ':'))[:8000] + '\n').encode()
    with lock:
        try:
            os.write(STATUS_FD, line)
        except OSError:
            pass

try:
    libc = ctypes.CDLL('libc.so.6', use_errno=True)   # glibc; find_library would start ldconfig (slow)
except OSError:
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
libc.syscall.restype = ctypes.c_long
try:
    os.set_inheritable(STATUS_FD, False)
except OSError:
    STATUS_FD = os.open('/dev/null', os.O_WRONLY)
try:
    os.set_inheritable(AUDIT_FD, False)
except OSError:
    AUDIT_FD = os.open('/dev/null', os.O_WRONLY)
libc.prctl(4, 0, 0, 0, 0)      # PR_SET_DUMPABLE 0: the run cannot open /proc/<supervisor>/fd/* or mem
libc.prctl(36, 1, 0, 0, 0)     # PR_SET_CHILD_SUBREAPER: setsid/double-forked orphans stay our children

ME = os.getpid()
MY_SID = os.getsid(0)
main_pid = None
stopping = threading.Event()
limits = POLICY.get('limits') or {}

# ------------------------------------------------------------------ forwarder: 127.0.0.1:PORT -> proxy socket
lsock = None
if POLICY.get('proxySocket'):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(('127.0.0.1', int(POLICY['proxyPort'])))
    lsock.listen(64)

def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

def serve():
    while True:
        try:
            c, _ = lsock.accept()
        except OSError:
            return
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            u.connect(POLICY['proxySocket'])
        except OSError as e:
            status('proxy_unreachable', error=str(e))
            c.close()
            continue
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()

# ------------------------------------------------------------------ audit channel: datagrams -> fd 4
# Bound before the run starts, in the sandbox's own network namespace: the run cannot take the name, replace it by
# a file or make the host open anything. A datagram is one record; at most AUDIT_MAX_LINES / AUDIT_MAX_BYTES are kept.
AUDIT_MAX_LINES, AUDIT_MAX_BYTES = 5000, 2 * 1024 * 1024
audit_stats = {'lines': 0, 'bytes': 0, 'dropped': 0}
asock = None
if POLICY.get('auditSocket'):
    asock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    asock.bind('\0' + POLICY['auditSocket'])
    asock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

def audit_pump():
    while True:
        try:
            d = asock.recv(8192)
        except OSError:
            return
        line = d.replace(b'\n', b' ').strip()[:4000] + b'\n'
        if audit_stats['lines'] >= AUDIT_MAX_LINES or audit_stats['bytes'] + len(line) > AUDIT_MAX_BYTES:
            audit_stats['dropped'] += 1
            continue
        audit_stats['lines'] += 1
        audit_stats['bytes'] += len(line)
        try:
            os.write(AUDIT_FD, line)
        except OSError:
            pass

# ------------------------------------------------------------------ seccomp: no-testing runs start no programs
ARCH = {'x86_64': (0xC000003E, 59, 322), 'aarch64': (0xC00000B7, 221, 281)}

def seccomp_listener():
    # BPF: wrong arch -> kill; x32 -> EPERM; execve/execveat -> USER_NOTIF (the supervisor answers); else allow
    arch, nr_execve, nr_execveat = ARCH[platform.machine()]
    def ins(code, jt, jf, k):
        return struct.pack('HBBI', code, jt, jf, k)
    LD, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
    prog = b''.join([
        ins(LD, 0, 0, 4),
        ins(JEQ, 1, 0, arch),
        ins(RET, 0, 0, 0x80000000),          # SECCOMP_RET_KILL_PROCESS
        ins(LD, 0, 0, 0),
        ins(JGE, 3, 0, 0x40000000),          # x32 syscall numbers
        ins(JEQ, 3, 0, nr_execve),
        ins(JEQ, 2, 0, nr_execveat),
        ins(RET, 0, 0, 0x7FFF0000),          # SECCOMP_RET_ALLOW
        ins(RET, 0, 0, 0x00050000 | errno.EPERM),
        ins(RET, 0, 0, 0x7FC00000),          # SECCOMP_RET_USER_NOTIF
    ])
    n = len(prog) // 8
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack('HxxxxxxQ', n, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    if libc.prctl(38, 1, 0, 0, 0) != 0:       # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), 'no_new_privs')
    nr_seccomp = {'x86_64': 317, 'aarch64': 277}[platform.machine()]
    fd = libc.syscall(ctypes.c_long(nr_seccomp), ctypes.c_long(1), ctypes.c_long(8), ctypes.c_void_p(ctypes.addressof(fbuf)))   # SET_MODE_FILTER, FLAG_NEW_LISTENER
    if fd < 0:
        raise OSError(ctypes.get_errno(), 'seccomp')
    return fd

def read_str(pid, addr):
    try:
        with open('/proc/%d/mem' % pid, 'rb', buffering=0) as f:
            f.seek(addr)
            return f.read(4096).split(b'\0', 1)[0].decode('utf-8', 'replace')
    except OSError:
        return '?'

def notif_loop(fd):
    # struct seccomp_notif {u64 id; u32 pid; u32 flags; struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]}}
    RECV, SEND = 0xC0502100, 0xC0182101
    first = True
    libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
    while True:
        req = ctypes.create_string_buffer(80)
        if libc.ioctl(fd, RECV, req) != 0:
            if ctypes.get_errno() == errno.EINTR:
                continue
            return
        nid, pid, _flags, nr, _arch, _ip = struct.unpack_from('QIIiIQ', req.raw, 0)
        args = struct.unpack_from('6Q', req.raw, 32)
        path_addr = args[0] if nr == ARCH[platform.machine()][1] else args[1]
        prog = read_str(pid, path_addr)
        if first:
            first = False       # the approved command itself
            resp = struct.pack('QqiI', nid, 0, 0, 1)   # SECCOMP_USER_NOTIF_FLAG_CONTINUE
        else:
            status('exec_blocked', pid=pid, program=prog[:500])
            resp = struct.pack('QqiI', nid, 0, -errno.EPERM, 0)
        libc.ioctl(fd, SEND, ctypes.create_string_buffer(resp))

# ------------------------------------------------------------------ processes
def procs():
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        p = int(d)
        if p in (1, ME):
            continue
        try:
            with open('/proc/%d/stat' % p) as f:
                st = f.read()
            fields = st[st.rfind(')') + 2:].split()
            if fields[0] in ('Z', 'X'):
                continue
            with open('/proc/%d/cmdline' % p, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            ign = 0
            peak = 0
            with open('/proc/%d/status' % p) as f:
                for l in f:
                    if l.startswith('SigIgn:'):
                        ign = int(l.split()[1], 16)
                    elif l.startswith('VmPeak:'):
                        peak = int(l.split()[1]) // 1024

            how = []
            if int(fields[3]) != MY_SID:
                how.append('setsid')
            if int(fields[1]) == ME and p != main_pid:
                how.append('orphaned')
            if ign & 1:
                how.append('ignores SIGHUP')
            out.append({'pid': p, 'ppid': int(fields[1]), 'sid': int(fields[3]), 'cmd': cmd[:300], 'detached': how, 'peakMB': peak})
        except (OSError, IndexError, ValueError):
            continue
    return out

def disk_used():
    # the outputs directory (bound from the host: no size of its own) and the private /tmp (a sized tmpfs)
    total, n = 0, 0
    out = POLICY.get('outputsDir')
    for root, dirs, files in os.walk(out) if out else ():
        for name in files + dirs:
            n += 1
            if n > 20000:
                break
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    try:
        st = os.statvfs('/tmp')
        tmp_used = (st.f_blocks - st.f_bfree) * st.f_frsize
        if st.f_bavail == 0 or tmp_used >= float(limits.get('diskMB') or 0) * 1024 * 1024:
            return tmp_used, '/tmp'
    except OSError:
        pass
    return total, 'outputs'

def kill_all():
    try:
        os.kill(-1, signal.SIGKILL)   # every process of this pid namespace but us and init
    except OSError:
        pass

def words(cmd, env):
    ws = shlex.split(cmd)
    def expand(w):
        for k, v in env.items():
            w = w.replace('${' + k + '}', v)
        return w
    ws = [expand(w) for w in ws]
    if not ws:
        raise ValueError('empty command')
    prog = ws[0]
    if '/' not in prog:
        for d in env.get('PATH', '/usr/bin:/bin').split(':'):
            c = os.path.join(d, prog)
            if os.path.isfile(c) and os.access(c, os.X_OK):
                prog = c
                break
    return prog, ws

def child(notif_w):
    import resource
    env = dict(os.environ)
    os.setpgid(0, 0)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)   # the run starts with default dispositions, whatever we inherited
    libc.prctl(4, 1, 0, 0, 0)      # the run itself is dumpable again (the supervisor reads its exec arguments)
    for res, key, scale in ((resource.RLIMIT_AS, 'memoryMB', 1024 * 1024), (resource.RLIMIT_NPROC, 'processes', 1), (resource.RLIMIT_FSIZE, 'diskMB', 1024 * 1024)):
        if limits.get(key):
            v = int(float(limits[key]) * scale)
            try:
                resource.setrlimit(res, (v, v))
            except (ValueError, OSError):
                pass
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    if POLICY.get('taskMode') == 'no-testing':
        prog, argv = words(CMD, env)
        prog = through_audit_launcher(prog)
        fd = seccomp_listener()
        # the parent copies the listener out of us (pidfd_getfd); our first execve waits for its answer
        os.write(notif_w, struct.pack('i', fd))
        try:
            os.execve(prog, argv, env)
        except OSError as e:
            sys.stderr.write('overseer: cannot start %s: %s\n' % (prog, e))
            os._exit(127)
    os.execve('/bin/bash', ['bash', '-c', CMD], env)

def is_python(prog):
    import re
    try:
        return re.match(r'^python3(\.[0-9]+)?$', os.path.basename(os.path.realpath(prog))) is not None
    except OSError:
        return False

def through_audit_launcher(prog):
    # a Python program of a no-testing run starts through the embedding launcher that registers the C audit hook
    # before the interpreter starts (auditHook.ts); the launcher exists only for the interpreter it was built for
    if not is_python(prog):
        return prog
    launcher = POLICY.get('auditLauncher') or ''
    try:
        built_for = open(launcher + '.python').read().strip()
    except OSError:
        built_for = ''
    if built_for and os.path.realpath(prog) == built_for and os.access(launcher, os.X_OK):
        return launcher
    why = 'the C audit hook could not be built on this machine' if not built_for else 'the program is %s, the C audit hook was built for %s' % (os.path.realpath(prog), built_for)
    status('audit_hook_weak', error=why)
    return prog

def on_stop(*_):
    stopping.set()

def on_chld(*_):
    pass   # only wakes the main loop (signal.set_wakeup_fd)

def main():
    global main_pid
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, on_chld)
    notif_r, notif_w = os.pipe()
    status('start', pid=ME, taskMode=POLICY.get('taskMode'), limits=limits)
    # the host-side helpers (API proxy, decoy watcher) start beside bwrap: the run starts once they are ready
    deadline = time.time() + 20
    missing = [p for p in POLICY.get('waitFor') or [] if not os.path.exists(p)]
    while missing and time.time() < deadline:
        time.sleep(0.002)
        missing = [p for p in missing if not os.path.exists(p)]
    if missing:
        status('start_failed', missing=missing)
        sys.stderr.write('overseer: the run could not start: %s did not appear (a host-side helper of the sandbox did not start)\n' % ', '.join(missing))
        os._exit(95)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(notif_r)
            if lsock:
                lsock.close()
            if asock:
                asock.close()
            child(notif_w)
        except BaseException as e:
            sys.stderr.write('overseer: %s\n' % e)
        os._exit(126)
    main_pid = pid
    os.close(notif_w)
    if lsock:
        threading.Thread(target=serve, daemon=True).start()
    if asock:
        threading.Thread(target=audit_pump, daemon=True).start()
    if POLICY.get('taskMode') == 'no-testing':
        def take_fd():
            data = os.read(notif_r, 4)
            if len(data) == 4:
                cfd = struct.unpack('i', data)[0]
                # pidfd_getfd(pidfd_open(pid), fd): copy the listener out of the child before it execs
                try:
                    pfd = libc.syscall(ctypes.c_long(434), ctypes.c_long(pid), ctypes.c_long(0))
                    lfd = libc.syscall(ctypes.c_long(438), ctypes.c_long(pfd), ctypes.c_long(cfd), ctypes.c_long(0))
                    if lfd < 0:
                        raise OSError(ctypes.get_errno(), 'pidfd_getfd')
                    notif_loop(lfd)
                except OSError as e:
                    status('seccomp_error', error=str(e))
        threading.Thread(target=take_fd, daemon=True).start()
    rc = None
    stop_file = POLICY.get('stopFile')
    max_procs = int(limits.get('processes') or 0)
    max_mem = float(limits.get('memoryMB') or 0)
    max_disk = float(limits.get('diskMB') or 0) * 1024 * 1024
    last_check = last_scan = last_disk = 0.0
    limited = False
    mem_named = False
    detached_seen = {}   # pid -> process, from the last scan: a stop signal may reach them before we look again
    cmd_seen = {}        # pid -> its last non-empty command line: a dying process reads back an empty one
    def named(q):
        if q['cmd']:
            cmd_seen[q['pid']] = q['cmd']
        elif q['pid'] in cmd_seen:
            q = dict(q, cmd=cmd_seen[q['pid']])
        return q
    import select
    while True:
        try:
            p, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            p, st = 0, 0
        if p == main_pid:
            rc = os.waitstatus_to_exitcode(st)
            if rc < 0:
                rc = 128 - rc
            break
        if p:
            continue
        now = time.time()
        if now - last_check >= 0.2:
            last_check = now
            if stop_file and os.path.exists(stop_file):
                stopping.set()
            if max_procs or now - last_scan >= 0.25:
                last_scan = now
                cur = procs()
                detached_seen = dict((q['pid'], named(q)) for q in cur if q['detached'])
                if max_procs and len(cur) > max_procs:
                    status('limit', limit='processes', value=len(cur), max=max_procs)
                    kill_all()
                    limited = True
                    rc = 125
                    break
                # RLIMIT_AS refuses the allocation; a process whose high-water mark reached the limit hit it
                top = max([q['peakMB'] for q in cur] or [0])
                if max_mem and not mem_named and top >= 0.9 * max_mem:
                    mem_named = True
                    status('limit', limit='memory', value=top, max=int(max_mem))
            if max_disk and now - last_disk >= 0.5:
                last_disk = now
                used, where = disk_used()
                if used >= max_disk:
                    status('limit', limit='disk', value=int(used // (1024 * 1024)), max=int(max_disk // (1024 * 1024)), where=where)
                    kill_all()
                    limited = True
                    rc = 124
                    break
        if stopping.is_set():
            break
        # sleep until a child exits or a signal arrives (wakeup fd), at most 0.2 s: few wakeups on a busy node
        try:
            select.select([wake_r], [], [], 0.2)
            while os.read(wake_r, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass
    # A scheduler's cancel (scancel) signals every process of the job at once: the command may die of that
    # SIGTERM before the supervisor's own copy is handled. That is a stop too, and what was detached at the last
    # scan is named, not only what is still alive now.
    if rc == 143 and not stopping.is_set():
        stopping.wait(0.5)
        stopping.set()
    left = [] if limited else procs()
    if stopping.is_set():
        for q in left:
            if q['detached']:
                detached_seen[q['pid']] = named(q)
        status('stopped', processes=len(left), detached=list(detached_seen.values())[:50])
        rc = 143
    elif left:
        status('survivors', processes=left[:50], count=len(left))
    if audit_stats['dropped']:
        status('audit_overflow', dropped=audit_stats['dropped'], kept=audit_stats['lines'])
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    status('end', exitCode=rc, supervisorCpu=round(ru.ru_utime + ru.ru_stime, 4))
    kill_all()
    os._exit(rc if rc is not None else 1)

main()
`;

export const PROXY_PY = String.raw`
import http.client, http.server, json, os, re, socket, socketserver, sys, threading, time, urllib.parse

POLICY = json.load(open(sys.argv[1]))
SOCK = POLICY['proxySocketHost']
UP = urllib.parse.urlsplit(POLICY['upstream'])
TOKEN = open(POLICY['tokenFile']).read().strip() if POLICY.get('tokenFile') and os.path.exists(POLICY['tokenFile']) else ''
EXP = POLICY['experimentId']
LOG = POLICY['proxyLog']
MAX_BODY = 32 * 1024 * 1024
ROUTES = [('POST', re.compile(r'^/api/evaluate-predictions$')), ('GET', re.compile(r'^/api/experiments/' + re.escape(EXP) + r'$')), ('POST', re.compile(r'^/api/findings/share$')), ('GET', re.compile(r'^/api/config$'))]
lock = threading.Lock()
count = [0]

def log(kind, **kw):
    kw['t'] = kind
    kw['ts'] = round(time.time(), 3)
    with lock:
        count[0] += 1
        if count[0] > 5000:
            return
        with open(LOG, 'a') as f:
            f.write(json.dumps(kw, separators=(',', ':'))[:4000] + '\n')

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'
    def log_message(self, *a):
        pass
    def address_string(self):
        return 'sandbox'
    def reply(self, code, body, ctype='application/json'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def handle_any(self):
        target = self.path
        if '://' in target:
            target = urllib.parse.urlsplit(target)._replace(scheme='', netloc='').geturl()
        path = target.split('?', 1)[0]
        if not any(m == self.command and r.match(path) for m, r in ROUTES):
            log('proxy_denied', method=self.command, path=target[:500])
            msg = 'the run proxy only forwards POST /api/evaluate-predictions, GET /api/experiments/%s and POST /api/findings/share' % EXP
            return self.reply(403, json.dumps({'error': {'code': 'forbidden_by_run_proxy', 'message': msg}}).encode())
        n = int(self.headers.get('Content-Length') or 0)
        if n > MAX_BODY:
            log('proxy_denied', method=self.command, path=path, reason='body too large', bytes=n)
            return self.reply(413, b'{"error":{"code":"too_large","message":"request body too large"}}')
        body = self.rfile.read(n) if n else None
        conn_cls = http.client.HTTPSConnection if UP.scheme == 'https' else http.client.HTTPConnection
        try:
            c = conn_cls(UP.hostname, UP.port, timeout=300)
            headers = {'Content-Type': self.headers.get('Content-Type', 'application/json'), 'Accept': self.headers.get('Accept', '*/*')}
            if TOKEN:
                headers['Authorization'] = 'Bearer ' + TOKEN
            c.request(self.command, UP.path.rstrip('/') + target, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            log('proxy_request', method=self.command, path=path, status=r.status)
            self.reply(r.status, data, r.getheader('Content-Type', 'application/json'))
        except OSError as e:
            log('proxy_error', method=self.command, path=path, error=str(e)[:300])
            self.reply(502, json.dumps({'error': {'code': 'hub_unreachable', 'message': str(e)[:300]}}).encode())
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any
    def do_CONNECT(self):
        log('proxy_denied', method='CONNECT', path=self.path[:500])
        self.reply(403, b'{"error":{"code":"forbidden_by_run_proxy","message":"no tunnels"}}')

class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

try:
    os.unlink(SOCK)
except FileNotFoundError:
    pass
srv = Server(SOCK, Handler)
os.chmod(SOCK, 0o666)
srv.serve_forever()
`;

/** Host side: copies the run's output (a pipe) to the log, at most argv[1] bytes; beyond that it records the hit,
 * asks the supervisor to stop the run, and drains (so the run never blocks on a full pipe). */
export const LOGLIMIT_PY = String.raw`
import json, os, sys, time
mx, host_log, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = 0
hit = False
while True:
    try:
        b = os.read(0, 65536)
    except InterruptedError:
        continue
    if not b:
        break
    if n < mx:
        w = b[:mx - n]
        os.write(1, w)
        n += len(w)
        if len(w) == len(b):
            continue
    if not hit:
        hit = True
        os.write(1, ('\n[overseer: log limit of %d bytes reached; the run is stopped]\n' % mx).encode())
        with open(host_log, 'a') as f:
            f.write(json.dumps({'t': 'limit', 'limit': 'log', 'value': mx + 1, 'max': mx, 'ts': round(time.time(), 3)}) + '\n')
        open(stop, 'w').close()
`;

export const SITECUSTOMIZE_PY = String.raw`
# Overseer run audit hook (PEP 578). Evidence for the run report; the sandbox is what enforces.
def _overseer_install():
    import json, os, sys
    try:
        pol = json.load(open('/run/overseer/sbx/policy.json'))
    except Exception:
        return
    import socket
    try:
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sk.connect('\0' + pol['auditSocket'])
        sk.setblocking(False)
    except Exception:
        return
    no_testing = pol.get('taskMode') == 'no-testing'
    visible = [p.rstrip('/') for p in pol.get('visibleRoots', [])]
    hidden = [p.rstrip('/') for p in pol.get('hiddenRoots', [])]
    bound = [p.rstrip('/') for p in pol.get('boundRoots', [])]
    readonly = [p.rstrip('/') for p in pol.get('readOnlyRoots', [])]
    writable = [p.rstrip('/') for p in pol.get('writableRoots', [])]
    system = tuple(p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, '/usr'} if p)
    port = str(pol.get('proxyPort'))
    seen = set()
    state = {'busy': False, 'n': 0}
    getframe = sys._getframe
    realpath, isabs, join, getcwd, isfile = os.path.realpath, os.path.isabs, os.path.join, os.getcwd, os.path.isfile
    send, dumps, pid = sk.send, json.dumps, os.getpid

    def under(p, roots):
        return any(p == r or p.startswith(r + '/') for r in roots)

    def user_frame():
        # no Python caller: the interpreter compiling the approved command itself (python3 -c, stdin)
        try:
            f = getframe(2)
        except ValueError:
            return False
        while f is not None:
            fn = f.f_code.co_filename
            if fn.startswith('<frozen') or fn == __file__:
                f = f.f_back
                continue
            return not fn.startswith(system)
        return False

    def any_user_frame():
        try:
            f = getframe(2)
        except ValueError:
            return False
        while f is not None:
            fn = f.f_code.co_filename
            if not fn.startswith('<frozen') and fn != __file__ and not fn.startswith(system):
                return True
            f = f.f_back
        return False

    def rec(kind, detail, blocked=False):
        key = (kind, detail)
        if key in seen or state['n'] > 2000:
            return
        seen.add(key)
        state['n'] += 1
        try:
            send((dumps({'t': kind, 'detail': str(detail)[:500], 'blocked': blocked, 'pid': pid()}) + '\n').encode())
        except Exception:
            pass

    def abspath(p):
        try:
            if isinstance(p, int):
                return None
            p = os.fsdecode(p)
            return p if isabs(p) else join(getcwd(), p)
        except Exception:
            return None

    def check_path(p, write_mode, kind='open'):
        a = abspath(p)
        if a is None:
            return
        parts = a.split('/')
        if len(parts) > 3 and parts[1] == 'proc' and parts[2].isdigit() and int(parts[2]) != pid() and parts[3] in ('environ', 'cwd', 'root', 'fd', 'mem', 'maps', 'exe'):
            rec('proc_access', a)
            return
        n = os.path.normpath(a)
        try:
            r = realpath(n)
        except Exception:
            r = n
        if n.startswith('/proc/'):
            part = n.split('/')[2]
            if part.isdigit() and int(part) != pid() and n.split('/')[3:4] and n.split('/')[3] in ('environ', 'cwd', 'root', 'fd', 'mem', 'maps', 'exe'):
                rec('proc_access', n)
            return
        for q in (n, r):
            if (under(q, hidden) and not under(q, bound)) or not under(q, visible):
                rec('path_denied', n if q == n else '%s -> %s' % (n, r))
                return
        if write_mode and (under(r, readonly) or not under(r, writable)):
            rec('write_denied', n)

    def hook(event, args):
        if state['busy']:
            return
        state['busy'] = True
        try:
            inspect(event, args)
        except PermissionError:
            raise
        except Exception:
            pass   # the hook must never break the run it watches
        finally:
            state['busy'] = False

    def inspect(event, args):
        if True:
            if event == 'open':
                path, mode, flags = args
                w = (isinstance(mode, str) and any(c in mode for c in 'wax+')) or (isinstance(flags, int) and flags & 3 != 0) or (isinstance(flags, int) and flags & 0o100 != 0)
                check_path(path, w)
            elif event in ('os.listdir', 'os.scandir', 'os.chdir'):
                check_path(args[0] if args else '.', False)
            elif event in ('os.link', 'os.symlink', 'os.rename', 'os.remove', 'os.rmdir', 'os.mkdir'):
                for a in args[:2]:
                    if isinstance(a, (str, bytes)):
                        check_path(a, event != 'os.symlink' or a is args[1])
            elif event in ('subprocess.Popen', 'os.system', 'os.exec', 'os.posix_spawn', 'os.spawn'):
                if event == 'os.system':
                    detail = args[0]
                else:
                    argv = args[2] if event == 'os.spawn' else args[1]
                    detail = argv if isinstance(argv, (str, bytes)) else ' '.join(str(a) for a in list(argv or [])[:12]) or str(args[0])
                detail = os.fsdecode(detail) if isinstance(detail, (str, bytes)) else str(detail)
                rec('program_started', detail.strip()[:300], blocked=no_testing)
                if no_testing:
                    raise PermissionError('overseer: starting programs is forbidden in a no-testing run (%s)' % event)
            elif event in ('exec', 'compile'):
                if event == 'compile':
                    src, fn = args[0], args[1]
                    if not isinstance(src, (str, bytes)) or (isinstance(fn, (str, bytes)) and isfile(os.fsdecode(fn))):
                        return
                    text = src if isinstance(src, str) else src.decode('utf-8', 'replace')
                else:
                    code = args[0]
                    fn = getattr(code, 'co_filename', '')
                    if isfile(fn):
                        return
                    text = fn
                if not user_frame():
                    return
                rec('dynamic_code', '%s: %s' % (event, ' '.join(text.split())[:200]), blocked=no_testing)
                if no_testing:
                    raise PermissionError('overseer: running code that is not a file is forbidden in a no-testing run')
            elif event == 'ctypes.dlopen':
                if args[0] is not None and any_user_frame():
                    rec('ctypes', 'dlopen %s' % (args[0],))
            elif event == 'ctypes.dlsym':
                if any_user_frame():
                    rec('ctypes', 'dlsym %s' % (args[1],))
            elif event in ('socket.connect', 'socket.sendto', 'socket.bind'):
                addr = args[1]
                if isinstance(addr, tuple) and len(addr) >= 2 and addr[0] in ('127.0.0.1', 'localhost') and str(addr[1]) == port and event == 'socket.connect':
                    return
                rec('network', '%s %s' % (event.split('.')[1], addr if not isinstance(addr, tuple) else '%s:%s' % (addr[0], addr[1])))
            elif event in ('socket.getaddrinfo', 'socket.gethostbyname', 'socket.gethostbyname_ex', 'socket.gethostbyaddr'):
                host = args[0]
                if host in ('127.0.0.1', 'localhost', None, b'localhost'):
                    return
                rec('network', 'dns %s' % (host,))

    sys.addaudithook(hook)

_overseer_install()
del _overseer_install
`;

/** Host side: inotify watches on the run's decoy tree (decoys.ts). argv[1] = config {watch: [[hostDir, sandboxPath]],
 * log, ready}. Every open/list/read of a decoy is one line of the log; SIGTERM drains the queue and ends it. */
export const DECOYWATCH_PY = String.raw`
import ctypes, json, os, select, signal, struct, sys, time
cfg = json.load(open(sys.argv[1]))
libc = ctypes.CDLL('libc.so.6', use_errno=True)
IN_ACCESS, IN_OPEN, IN_ISDIR, IN_Q_OVERFLOW = 0x1, 0x20, 0x40000000, 0x4000
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
if fd < 0:
    sys.exit('inotify_init1: errno %d' % ctypes.get_errno())
wds = {}
for host, sbx in cfg['watch']:
    wd = libc.inotify_add_watch(fd, os.fsencode(host), IN_ACCESS | IN_OPEN)
    if wd >= 0:
        wds[wd] = sbx
log = open(cfg['log'], 'a')
seen = set()
stop = [False]
def on_term(*_):
    stop[0] = True
signal.signal(signal.SIGTERM, on_term)
open(cfg['ready'], 'w').close()

def drain():
    while True:
        try:
            buf = os.read(fd, 65536)
        except BlockingIOError:
            return
        except InterruptedError:
            continue
        off = 0
        while off + 16 <= len(buf):
            wd, mask, _cookie, ln = struct.unpack_from('iIII', buf, off)
            name = buf[off + 16:off + 16 + ln].split(b'\0', 1)[0].decode('utf-8', 'replace')
            off += 16 + ln
            if mask & IN_Q_OVERFLOW:
                key = ('overflow', '')
            elif wd not in wds or (mask & IN_ISDIR and not mask & IN_OPEN):
                continue
            else:
                p = wds[wd] + ('/' + name if name else '')
                how = ('list' if mask & IN_ISDIR else 'open') if mask & IN_OPEN else 'read'
                key = (how, p)
            if key in seen or len(seen) > 1000:
                continue
            seen.add(key)
            log.write(json.dumps({'t': 'decoy', 'how': key[0], 'path': key[1], 'ts': round(time.time(), 3)}) + '\n')
            log.flush()

while not stop[0]:
    try:
        select.select([fd], [], [], 0.5)
    except InterruptedError:
        pass
    drain()
drain()
`;
