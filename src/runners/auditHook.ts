// The C audit hook of no-testing runs (PEP 578 PySys_AddAuditHook) and the embedding launcher that registers it
// before the interpreter starts, built on first use on the machine that runs the sandbox (see buildAuditLauncher).
// Kept as a string (no backticks or dollar-brace inside) so the bundle needs no asset files.
export const AUDIT_HOOK_C = String.raw`/*
 * Overseer run audit hook in C (PEP 578, PySys_AddAuditHook).
 *
 * Built (auditHook.ts) as an embedding launcher ("overseer-python") that registers the hook BEFORE the interpreter
 * starts and then runs Python exactly as /usr/bin/python3 would (same argv, same stdlib). A no-testing run's
 * python program is started through it by the sandbox supervisor, so no command-line flag (-I, -S, -E) and no
 * environment variable can leave the hook out.
 *
 * The hook holds no Python-visible state: its configuration is static C data, the hook list it is on is the
 * runtime's C list (not sys.* nor any Python object), so gc, frame walking and sys introspection find nothing.
 * ctypes (the way to reach C memory) and /proc/self/mem are refused from user code in no-testing runs.
 *
 * What it refuses in a no-testing run (each a datagram to the supervisor, named in the run report):
 *   dynamic_code   compile() of text that is not byte-for-byte a file of the worktree or of /usr (checked by
 *                  content: the filename argument only says which file to compare with), compile() of an AST,
 *                  code objects built by hand (code.__new__ / replace), marshal.loads (the interpreter runs
 *                  without bytecode caches in these runs, so nothing legitimate needs it). Exception: the
 *                  stdlib's own code generators (dataclasses, collections.namedtuple, typing, enum, functools)
 *                  when they are the direct caller, and the one frameless compile of 'python3 -c <approved text>'.
 *   test_framework import of unittest, doctest, pytest/_pytest, nose/nose2 (test runners on candidate code).
 *   ctypes         any ctypes audit event whose innermost caller outside the ctypes package is not under /usr.
 *   proc_access    opening /proc/<pid>/mem (self included): a way to write the interpreter's memory.
 *   program_started os.system / subprocess / exec / spawn (seccomp refuses the execve too).
 *   forbidden_module sub-interpreters and CPython's test C API (ways to run code outside this hook's checks).
 * In a normal run it records nothing (the Python hook of sitecustomize.py records evidence).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_ROOTS 16
static char trusted[MAX_ROOTS][512];
static int n_trusted = 0;
static char sock_name[100];
static int no_testing = 0;
static int sock_fd = -1;
static int main_started = 0;      /* set by the cpython.run_* event: start-up (site, .pth files) is over */
static char *run_command = NULL;  /* the text of python3 -c, from the cpython.run_command event */
static int records = 0;

static void load_config(const char *file) {
  FILE *f = fopen(file, "re");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (!strncmp(line, "mode ", 5)) no_testing = !strcmp(line + 5, "no-testing");
    else if (!strncmp(line, "sock ", 5)) snprintf(sock_name, sizeof sock_name, "%s", line + 5);
    else if (!strncmp(line, "trusted ", 8) && n_trusted < MAX_ROOTS) snprintf(trusted[n_trusted++], sizeof trusted[0], "%s", line + 8);
  }
  fclose(f);
}

static int test_framework_file(const char *fn);

/* ------------------------------------------------------------------ records (datagrams to the supervisor) */
static void json_str(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s && o + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    else out[o++] = (char)c;
  }
  out[o] = 0;
}

static void record(const char *kind, const char *detail) {
  if (!sock_name[0] || records > 2000) return;
  records++;
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  size_t ln = strlen(sock_name);
  memcpy(a.sun_path + 1, sock_name, ln); /* abstract: the run cannot replace it by a file */
  for (int attempt = 0; attempt < 2; attempt++) {
    if (sock_fd < 0) sock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock_fd < 0) return;
    char esc[1200], msg[1400];
    json_str(esc, sizeof esc, detail);
    int n = snprintf(msg, sizeof msg, "{\"t\":\"%s\",\"detail\":\"%s\",\"blocked\":true,\"pid\":%d,\"hook\":\"c\"}\n", kind, esc, (int)getpid());
    if (sendto(sock_fd, msg, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + ln)) >= 0) return;
    if (errno != EBADF && errno != ENOTSOCK) return; /* the run closed or replaced our descriptor: open again */
    sock_fd = -1;
  }
}

static int refuse(const char *kind, const char *detail) {
  record(kind, detail);
  PyErr_Format(PyExc_PermissionError, "overseer: %s is forbidden in a no-testing run (%s)", kind, detail);
  return -1;
}

/* ------------------------------------------------------------------ helpers */
static int under(const char *p, const char *root) {
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/') n--;
  return !strncmp(p, root, n) && (p[n] == 0 || p[n] == '/');
}

static int trusted_path(const char *real) {
  if (under(real, "/usr") || under(real, "/run/overseer/sbx")) return 1;
  for (int i = 0; i < n_trusted; i++)
    if (under(real, trusted[i])) return 1;
  return 0;
}

/* The filename of the innermost Python frame that is not in 'skip_dir' (NULL: the innermost), or "" if none. */
static void caller_file(char *out, size_t cap, const char *skip_dir) {
  out[0] = 0;
  PyFrameObject *f = PyEval_GetFrame();
  if (!f) return;
  Py_INCREF(f);
  while (f) {
    PyCodeObject *code = PyFrame_GetCode(f);
    const char *fn = code && code->co_filename ? PyUnicode_AsUTF8(code->co_filename) : NULL;
    if (!fn) PyErr_Clear();
    int skip = fn && skip_dir && under(fn, skip_dir);
    if (fn && !skip) snprintf(out, cap, "%s", fn);
    Py_XDECREF(code);
    if (fn && !skip) break;
    PyFrameObject *b = PyFrame_GetBack(f);
    Py_DECREF(f);
    f = b;
  }
  Py_XDECREF(f);
}

/* Start-up: the site module is on the stack and no frame is user code (the code of .pth lines). */
static int site_startup(void) {
  PyFrameObject *f = PyEval_GetFrame();
  int ok = 1, site = 0;
  if (!f) return 0;
  Py_INCREF(f);
  while (f && ok) {
    PyCodeObject *code = PyFrame_GetCode(f);
    const char *fn = code ? PyUnicode_AsUTF8(code->co_filename) : NULL;
    if (!fn) { PyErr_Clear(); ok = 0; }
    else if (strncmp(fn, "<frozen ", 8) && strcmp(fn, "<string>") && !under(fn, "/usr")) ok = 0;
    if (fn && !strcmp(fn, "<frozen site>")) site = 1;
    Py_XDECREF(code);
    PyFrameObject *b = PyFrame_GetBack(f);
    Py_DECREF(f);
    f = b;
  }
  Py_XDECREF(f);
  return ok && site;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

/* A frame of the stdlib's own code generators: they compile text they build from class definitions. */
static int generator_frame(const char *fn) {
  static const char *gens[] = {"/dataclasses.py", "/collections/__init__.py", "/typing.py", "/enum.py", "/functools.py", NULL};
  if (!under(fn, "/usr/lib")) return 0;
  for (int i = 0; gens[i]; i++)
    if (ends_with(fn, gens[i])) return 1;
  return 0;
}

/* Is 'src' (len bytes) byte-for-byte the content of the trusted regular file 'name'? */
static int same_as_file(const char *name, const char *src, Py_ssize_t len) {
  char real[PATH_MAX];
  if (!name || !realpath(name, real) || !trusted_path(real)) return 0;
  int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == (off_t)len;
  char buf[65536];
  Py_ssize_t off = 0;
  while (ok && off < len) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 || off + n > len || memcmp(buf, src + off, (size_t)n)) ok = 0;
    else off += n;
  }
  close(fd);
  return ok && off == len;
}

static void clip_text(char *out, size_t cap, const char *s, Py_ssize_t len) {
  size_t o = 0;
  int space = 0;
  for (Py_ssize_t i = 0; i < len && o + 1 < cap; i++) {
    char c = s[i];
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') { if (!space && o) out[o++] = ' '; space = 1; continue; }
    space = 0;
    out[o++] = c;
  }
  out[o] = 0;
}

/* ------------------------------------------------------------------ events */
static int on_compile(PyObject *args) {
  PyObject *src = PyTuple_Size(args) > 0 ? PyTuple_GetItem(args, 0) : NULL;
  PyObject *fn = PyTuple_Size(args) > 1 ? PyTuple_GetItem(args, 1) : NULL;
  const char *name = NULL;
  if (fn && PyUnicode_Check(fn)) name = PyUnicode_AsUTF8(fn);
  else if (fn && PyBytes_Check(fn)) name = PyBytes_AsString(fn);
  if (!name) PyErr_Clear();
  const char *text = NULL;
  Py_ssize_t len = 0;
  if (src && PyUnicode_Check(src)) text = PyUnicode_AsUTF8AndSize(src, &len);
  else if (src && PyBytes_Check(src)) { text = PyBytes_AsString(src); len = PyBytes_Size(src); }
  if (!text) PyErr_Clear();
  char caller[PATH_MAX];
  caller_file(caller, sizeof caller, NULL);
  if (src == NULL || src == Py_None) {
    /* the interpreter compiling a file it reads itself (python3 file.py): a trusted file only */
    char real[PATH_MAX];
    if (name && realpath(name, real) && trusted_path(real)) return 0;
    if (!caller[0] && name && name[0] == '<') return 0; /* interactive / stdin: no approved command can reach it */
    return refuse("dynamic_code", name ? name : "?");
  }
  if (name && test_framework_file(name)) return refuse("test_framework", name); /* however it was imported */
  if (text && same_as_file(name, text, len)) return 0;
  if (caller[0] && generator_frame(caller)) return 0;
  if (!main_started && site_startup()) return 0; /* .pth lines at start-up, before any user code */
  /* python3 -c <the approved command text>: frameless, and exactly that text (a thread started on exec() is
   * frameless too, but cannot choose what it compiles) */
  if (!caller[0] && text && run_command && (size_t)len == strlen(run_command) && !memcmp(text, run_command, (size_t)len)) return 0;
  char d[400], clipped[240];
  if (text) clip_text(clipped, sizeof clipped, text, len);
  else snprintf(clipped, sizeof clipped, "<%s>", Py_TYPE(src)->tp_name);
  snprintf(d, sizeof d, "compile %s (%s): %s", name ? name : "?", caller[0] ? caller : "no caller", clipped);
  return refuse("dynamic_code", d);
}

static int on_open(PyObject *args) {
  PyObject *p = PyTuple_Size(args) > 0 ? PyTuple_GetItem(args, 0) : NULL;
  if (!p || PyLong_Check(p) || p == Py_None) return 0;
  const char *s = NULL;
  if (PyUnicode_Check(p)) s = PyUnicode_AsUTF8(p);
  else if (PyBytes_Check(p)) s = PyBytes_AsString(p);
  else {
    /* a path-like object: its __fspath__ may answer differently when open() asks again; only the stdlib's own */
    const char *tn = Py_TYPE(p)->tp_name;
    if (!strcmp(tn, "PosixPath") || !strcmp(tn, "PurePosixPath") || !strcmp(tn, "posix.DirEntry")) return 0;
    return refuse("dynamic_code", "open() of a path-like object of a user class");
  }
  if (!s) { PyErr_Clear(); return 0; }
  const char *base = strrchr(s, '/');
  base = base ? base + 1 : s;
  if (strcmp(base, "mem")) return 0;
  /* .../mem: refused when it is (or may be, relative to a directory descriptor) a process's memory */
  char dir[PATH_MAX], real[PATH_MAX];
  snprintf(dir, sizeof dir, "%.*s", (int)(base - s), s);
  if (s[0] != '/' || !realpath(dir[0] ? dir : ".", real) || under(real, "/proc")) return refuse("proc_access", s);
  return 0;
}

/* "program_started": the program and its arguments, as the run asked for them (at most 12 words, 300 bytes). */
static int on_program(const char *event, PyObject *args) {
  int at = !strcmp(event, "os.system") ? 0 : !strcmp(event, "os.spawn") ? 2 : 1;
  PyObject *a = PyTuple_Size(args) > at ? PyTuple_GetItem(args, at) : NULL;
  char d[320];
  size_t o = 0;
  d[0] = 0;
  if (a && (PyUnicode_Check(a) || PyBytes_Check(a))) {
    PyObject *s = PyUnicode_Check(a) ? (Py_INCREF(a), a) : PyUnicode_DecodeFSDefault(PyBytes_AsString(a));
    const char *t = s ? PyUnicode_AsUTF8(s) : NULL;
    if (t) snprintf(d, sizeof d, "%s", t);
    Py_XDECREF(s);
  } else if (a && PySequence_Check(a)) {
    Py_ssize_t n = PySequence_Size(a);
    for (Py_ssize_t i = 0; i < n && i < 12 && o + 2 < sizeof d; i++) {
      PyObject *x = PySequence_GetItem(a, i);
      PyObject *s = x ? (PyBytes_Check(x) ? PyUnicode_DecodeFSDefault(PyBytes_AsString(x)) : PyObject_Str(x)) : NULL;
      const char *t = s ? PyUnicode_AsUTF8(s) : NULL;
      if (t) o += (size_t)snprintf(d + o, sizeof d - o, "%s%s", i ? " " : "", t);
      Py_XDECREF(s);
      Py_XDECREF(x);
      if (o >= sizeof d) o = sizeof d - 1;
    }
  }
  PyErr_Clear();
  if (!d[0]) snprintf(d, sizeof d, "%s", event);
  return refuse("program_started", d);
}

/* A module of a test framework, by its file: importlib.import_module and friends raise no "import" event, but
 * every module is compiled from its source in these runs. */
static int test_framework_file(const char *fn) {
  static const char *parts[] = {"/unittest/", "/_pytest/", "/pytest/", "/nose/", "/nose2/", NULL};
  static const char *files[] = {"/doctest.py", "/pytest.py", NULL};
  for (int i = 0; parts[i]; i++)
    if (strstr(fn, parts[i])) return 1;
  for (int i = 0; files[i]; i++)
    if (ends_with(fn, files[i])) return 1;
  return 0;
}

static int on_import(PyObject *args) {
  PyObject *m = PyTuple_Size(args) > 0 ? PyTuple_GetItem(args, 0) : NULL;
  const char *s = m && PyUnicode_Check(m) ? PyUnicode_AsUTF8(m) : NULL;
  if (!s) { PyErr_Clear(); return 0; }
  static const char *tests[] = {"unittest", "doctest", "pytest", "_pytest", "nose", "nose2", NULL};
  static const char *forbidden[] = {"_xxsubinterpreters", "_xxinterpchannels", "_testcapi", "_testinternalcapi", "_testmultiphase", NULL};
  for (int i = 0; tests[i]; i++) {
    size_t n = strlen(tests[i]);
    if (!strncmp(s, tests[i], n) && (s[n] == 0 || s[n] == '.')) return refuse("test_framework", s);
  }
  for (int i = 0; forbidden[i]; i++)
    if (!strcmp(s, forbidden[i])) return refuse("forbidden_module", s);
  return 0;
}

static int hook(const char *event, PyObject *args, void *data) {
  (void)data;
  if (!no_testing) return 0;
  switch (event[0]) {
    case 'c':
      if (!strcmp(event, "compile")) return on_compile(args);
      if (!strncmp(event, "cpython.run_", 12)) {
        main_started = 1;
        PyObject *c = PyTuple_Size(args) > 0 ? PyTuple_GetItem(args, 0) : NULL;
        const char *t = !strcmp(event, "cpython.run_command") && c && PyUnicode_Check(c) ? PyUnicode_AsUTF8(c) : NULL;
        if (!t) PyErr_Clear();
        if (t && !run_command) run_command = strdup(t);
        return 0;
      }
      if (!strcmp(event, "code.__new__")) return refuse("dynamic_code", "a code object built by hand (code.__new__ / replace)");
      if (!strncmp(event, "ctypes.", 7)) {
        char caller[PATH_MAX], d[PATH_MAX + 64];
        /* the innermost caller outside the ctypes package itself */
        PyFrameObject *f = PyEval_GetFrame();
        caller[0] = 0;
        if (f) {
          Py_INCREF(f);
          while (f) {
            PyCodeObject *code = PyFrame_GetCode(f);
            const char *fn = code ? PyUnicode_AsUTF8(code->co_filename) : NULL;
            if (!fn) PyErr_Clear();
            int in_ctypes = fn && strstr(fn, "/ctypes/") && under(fn, "/usr/lib");
            if (fn && !in_ctypes) snprintf(caller, sizeof caller, "%s", fn);
            Py_XDECREF(code);
            if (fn && !in_ctypes) break;
            PyFrameObject *b = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = b;
          }
          Py_XDECREF(f);
        }
        char real[PATH_MAX];
        if (caller[0] && realpath(caller, real) && under(real, "/usr")) return 0;
        if (caller[0] == '<' && !strncmp(caller, "<frozen ", 8)) return 0;
        snprintf(d, sizeof d, "%s from %s", event, caller[0] ? caller : "no caller");
        return refuse("ctypes", d);
      }
      return 0;
    case 'i':
      if (!strcmp(event, "import")) return on_import(args);
      return 0;
    case 'm':
      if (!strcmp(event, "marshal.loads") || !strcmp(event, "marshal.load")) {
        /* the interpreter's own frozen modules: during start-up (no frame) or by the frozen importer, by name */
        char caller[PATH_MAX];
        caller_file(caller, sizeof caller, NULL);
        if (!caller[0] || !strcmp(caller, "<frozen importlib._bootstrap>")) return 0;
        return refuse("dynamic_code", "code loaded with marshal");
      }
      return 0;
    case 'o':
      if (!strcmp(event, "open")) return on_open(args);
      if (!strcmp(event, "os.system") || !strcmp(event, "os.exec") || !strcmp(event, "os.posix_spawn") || !strcmp(event, "os.spawn")) return on_program(event, args);
      return 0;
    case 's':
      if (!strcmp(event, "subprocess.Popen")) return on_program(event, args);
      return 0;
    default:
      return 0;
  }
}

/* argv[0] is kept; the interpreter is configured as /usr/bin/python3 (its stdlib, its sys.executable). */
int main(int argc, char **argv) {
  const char *cfg = getenv("OVERSEER_AUDIT_CONF");
  load_config(cfg ? cfg : "/run/overseer/sbx/audit.conf");
  if (PySys_AddAuditHook(hook, NULL) != 0) {
    fprintf(stderr, "overseer: cannot register the audit hook\n");
    return 96;
  }
  PyStatus status;
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  status = PyConfig_SetBytesString(&config, &config.program_name, OVERSEER_PYTHON);
  if (PyStatus_Exception(status)) goto fail;
  status = PyConfig_SetBytesString(&config, &config.executable, OVERSEER_PYTHON);
  if (PyStatus_Exception(status)) goto fail;
  status = PyConfig_SetBytesArgv(&config, argc, argv);
  if (PyStatus_Exception(status)) goto fail;
  status = PyConfig_Read(&config);
  if (PyStatus_Exception(status)) goto fail;
  if (no_testing) {
    /* no bytecode caches: every module is compiled from its source file (checked by content), and marshal is refused */
    config.write_bytecode = 0;
    status = PyConfig_SetBytesString(&config, &config.pycache_prefix, "/run/overseer/no-bytecode-cache");
    if (PyStatus_Exception(status)) goto fail;
  }
  status = Py_InitializeFromConfig(&config);
  if (PyStatus_Exception(status)) goto fail;
  PyConfig_Clear(&config);
  return Py_RunMain();
fail:
  PyConfig_Clear(&config);
  if (PyStatus_IsExit(status)) return status.exitcode;
  Py_ExitStatusException(status);
}
`;
