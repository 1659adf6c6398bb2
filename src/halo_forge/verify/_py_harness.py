"""The candidate's side of a Python verification: runs in a child forked from the zygote.

Standalone (standard library only): ``_zygote_worker`` loads it inside the sandbox, where
halo_forge itself is not visible, and calls :func:`child_main` in each freshly forked child.

This process is *not trusted*: it runs the candidate's code, which can read and rewrite
anything in it (frames, ``gc``, ``ctypes``, ``/proc/self/mem``). So it never decides anything.
It only answers questions: the judge (``_py_judge``, another process holding the tests and the
expected values, which never runs candidate code) asks "what does ``f(*args)`` return?" and
compares the answer itself. Expected values never enter this process: the zygote it was forked
from has never seen a job, and the payload it receives holds the candidate's program and the
*names* the tests use, not the tests.

Protocol: frames of a 4-byte big-endian length + ``marshal`` data; requests arrive on fd 3,
replies leave on fd 4 (stdout/stderr are pipes the judge drains and caps)::

    child -> judge   ("up",)                                 privileges dropped, waiting
    judge -> child   {"code", "setup", "entry", "names", "limits"}
    child -> judge   ("compile_error", msg) | ("load_error", msg) | ("ready", {name: info})
    judge -> child   ("call", name, args, kwargs, watch, refs)
                     watch: indices of mutable args; refs: [(path, name)] for values that are
                     this namespace's own objects (built by the setup code, or handles below);
                     path: (index or keyword, then indices/keys into nested lists, tuples and
                     dicts), e.g. (0, 2) for the third item of the first argument
    child -> judge   ("ok", value, mutated) | ("iter", items, mutated) | ("range", (a, b, c), [])
                     | ("typed", [tag, items], mutated) (Counter, OrderedDict, defaultdict, deque)
                     | ("raise", builtin_base, type_name, message) | ("notplain", type_name)
                     | ("handle", key) — a *class* was called and returned a non-plain object
                     (MBPP 601's ``Pair(5, 24)``): it stays here under ``key`` and the judge
                     holds an opaque reference it can only pass back to candidate calls

Every value crossing to the judge is *plain data*: exact built-in ``None``/``bool``/``int``/
``float``/``complex``/``str``/``bytes`` and ``list``/``tuple``/``set``/``frozenset``/``dict`` of
them, so an object whose ``__eq__`` always returns ``True`` cannot even be expressed. (The
judge checks this again after decoding; checking here only produces a clearer message.)

The in-process guards (:func:`_install_guards`: no fork/exec, signals, sockets, ``ctypes``,
destructive file calls; installed once in the zygote) are hygiene and keep verdicts identical
across isolation levels; code that knows how can undo them (``del sys.modules['ctypes']``),
which is why the isolation and the out-of-process judge exist. The adversarial tests undo them
on purpose.
"""

import builtins
import io
import marshal
import os
import sys

_ITER_CAP = 100_000  # items materialized from an iterator result
_VALUE_CAP = 64 << 10  # bytes of a plain module-level value reported in "ready"
_setup = _serve = _exit = _write = None


def prepare(scratch):
    """Run once in the zygote, before any fork: build everything a child needs, then guard.

    The child then only makes syscalls and runs the protocol loop: every closure, captured
    original and loaded module is inherited, and the in-process guards are already installed
    (the zygote itself never runs candidate code; it keeps its own ``fork`` reference). This
    moves ~1 ms per sample of Python set-up (and the copy-on-write faults it causes) out of the
    per-sample path.
    """
    global _setup, _serve, _exit, _write
    import _posixsubprocess  # noqa: F401 - loaded here so the guards find it warm
    import posix  # noqa: F401

    _exit, _write = os._exit, os.write
    _setup = _make_setup()
    _serve = _make_server()
    _install_guards(scratch)


def child_main(fds, uid, scratch_fd):
    """Turn this freshly forked child into a sandboxed candidate runner; never returns.

    ``fds``: (request read end, reply write end, stdout write end, stderr write end).
    ``uid``: the non-root uid to switch to, or ``None`` (rlimits-only level: keep ours).
    ``scratch_fd``: the scratch directory, opened by the zygote.
    """
    try:
        _setup(fds, uid, scratch_fd)
        _serve()
    except BaseException as exc:  # noqa: BLE001 - the judge sees EOF; say why on stderr
        try:  # noqa: SIM105 - contextlib is Python code the candidate could have patched
            _write(2, f"halo-forge harness: {type(exc).__name__}: {exc}\n"[:500].encode())
        except BaseException:  # noqa: BLE001 - stderr may be gone too
            pass
    _exit(0)


def _make_setup():
    import ctypes
    import fcntl
    import signal

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    dupfd, f_dupfd, sigkill = fcntl.fcntl, fcntl.F_DUPFD, int(signal.SIGKILL)
    _open, _dup2, _closerange, _setsid = os.open, os.dup2, os.closerange, os.setsid
    _setgroups, _setresgid, _setresuid, _fchdir = (
        os.setgroups,
        os.setresgid,
        os.setresuid,
        os.fchdir,
    )
    _scandir, _chmod, _rmdir, _unlink = os.scandir, os.chmod, os.rmdir, os.unlink
    _OSError, devnull, rdonly = OSError, os.devnull, os.O_RDONLY

    def wipe(path):
        """Empty ``path`` (what a previous sample of this slot left), as the sample's uid."""
        for entry in _scandir(path):
            full = entry.path
            try:
                if entry.is_dir(follow_symlinks=False):
                    _chmod(full, 0o700)
                    wipe(full)
                    _rmdir(full)
                else:
                    _unlink(full)
            except _OSError:
                pass

    def setup(fds, uid, scratch_fd):
        *high, scratch = [dupfd(fd, f_dupfd, 100) for fd in (*fds, scratch_fd)]  # above 0-4
        _dup2(_open(devnull, rdonly), 0)
        for target, fd in zip((3, 4, 1, 2), high, strict=True):
            _dup2(fd, target)
        _setsid()  # own session and process group: the judge kills the group
        if uid is not None:
            _setgroups([])
            _setresgid(uid, uid, uid)
            _setresuid(uid, uid, uid)  # all uids non-zero: the kernel clears every capability
        prctl(1, sigkill)  # PR_SET_PDEATHSIG: die with the zygote (after the uid switch)
        # By fd, not by path: whatever a previous sample did to the path (renamed the
        # directory, left a symlink in its place) cannot redirect us. As the sample's uid: the
        # directory is its own (0700), not root's to enter.
        _fchdir(scratch)
        _closerange(5, 1 << 16)
        wipe(".")

    return setup


def _make_channel():
    """``(send, recv)`` for the judge's frames on fds 4/3, built from captured originals.

    Everything these closures (and the others below) need after candidate code has run is
    captured when they are built, in the zygote, so patching builtins or modules
    (``builtins.len = ...``, ``os.write = ...``) does not reach them.
    """
    _type, _len, _int, _BaseException = type, len, int, BaseException
    _read, _write, _dumps, _loads = os.read, os.write, marshal.dumps, marshal.loads
    _flush, _stream_type = io.TextIOWrapper.flush, io.TextIOWrapper
    _streams = (sys.stdout, sys.stderr)

    def send(obj):
        for stream in _streams:  # the sample's prints reach the judge before its answer
            if _type(stream) is _stream_type:
                try:  # noqa: SIM105 - contextlib is Python code the candidate could patch
                    _flush(stream)
                except _BaseException:
                    pass
        data = _dumps(obj)
        data = _len(data).to_bytes(4, "big") + data
        while data:
            data = data[_write(4, data) :]

    def read_exact(n):
        chunks, got = [], 0
        while got < n:
            chunk = _read(3, n - got)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += _len(chunk)
        return b"".join(chunks)

    def recv():
        head = read_exact(4)
        return _loads(read_exact(_int.from_bytes(head, "big")))

    return send, recv


def _make_describe():
    """``describe(exc) -> (builtin base, type name, message)``, running no candidate method."""
    _type, _len, _str, _int, _tuple = type, len, str, int, tuple
    _BaseException = BaseException
    _exc_args = BaseException.__dict__["args"].__get__
    _builtin_names = frozenset(
        name
        for name, obj in vars(builtins).items()
        if _type(obj) is _type and issubclass(obj, _BaseException)
    )

    def describe(exc):
        try:
            t = _type(exc)
            name = t.__name__ if _type(t) is _type and _type(t.__name__) is _str else "?"
            base = "BaseException"
            for klass in t.__mro__:
                if klass.__module__ == "builtins" and klass.__name__ in _builtin_names:
                    base = klass.__name__
                    break
            args = _exc_args(exc)
            msg = ""
            if _type(args) is _tuple and _len(args) == 1:
                arg = args[0]
                if _type(arg) is _str:
                    msg = arg[:300]
                elif _type(arg) is _int and -(10**100) < arg < 10**100:
                    msg = _str(arg)
            return base, name, msg
        except _BaseException:
            return "BaseException", "?", ""

    return describe


def _make_encoder(is_plain):
    """``encode(value) -> (kind, data)``: how a return value travels (see the protocol)."""
    _type, _len, _str, _iter, _getattr, _range = type, len, str, iter, getattr, range
    _id, _list, _dict_items = id, list, dict.items
    _typed = _typed_containers()

    def encode(value):
        if is_plain(value):
            return "ok", value
        t = _type(value)
        if t is _range:
            return "range", (value.start, value.stop, value.step)
        tag = _typed.get(_id(t))  # exact stdlib containers, read through C-level accessors
        if tag is not None:
            deque = tag == "deque"
            items = [_list(value), value.maxlen] if deque else _list(_dict_items(value))
            return ("typed", [tag, items]) if is_plain(items) else ("notplain", tag)
        if _getattr(t, "__next__", None) is not None and _iter(value) is value:
            items = []
            for item in value:
                if _len(items) >= _ITER_CAP:
                    return "notplain", f"iterator longer than {_ITER_CAP} items"
                items.append(item)
            if is_plain(items):
                return "iter", items
            return "notplain", "iterator of non-plain values"
        name = t.__name__ if _type(t) is _type and _type(t.__name__) is _str else "?"
        return "notplain", name

    return encode


def _make_server():
    """The child's protocol: load the sample, then answer calls until the judge is done."""
    _type, _len, _int, _list, _callable = type, len, int, list, callable
    _tuple, _isinstance = tuple, isinstance
    _exec, _compile, _dumps = exec, compile, marshal.dumps
    _BaseException = BaseException
    _setrlimit, _getrlimit = _rlimit_funcs()
    _modules = sys.modules
    is_plain = _make_plain_check()
    send, recv = _make_channel()
    describe = _make_describe()
    encode = _make_encoder(is_plain)

    def load(payload):
        """The sample's namespace, or ``None`` after reporting why it did not load."""
        for res, soft, hard in payload["limits"]:
            _, cur_hard = _getrlimit(res)
            if cur_hard >= 0:  # RLIM_INFINITY is -1: anything is lower
                hard = min(hard, cur_hard)
            _setrlimit(res, (min(soft, hard), hard))
        try:
            code = _compile(payload["code"], "<candidate>", "exec")
        except SyntaxError as exc:  # raised by compile() itself, before any candidate code ran
            send(("compile_error", f"{_type(exc).__name__}: {exc.msg} (line {exc.lineno})"))
            return None
        except _BaseException as exc:  # null bytes, too deeply nested, out of memory
            _, name, msg = describe(exc)
            send(("compile_error", f"{name}: {msg}" if msg else name))
            return None
        module = _type(sys)("__candidate__")
        ns = module.__dict__
        ns["__builtins__"] = builtins
        _modules["__main__"] = module  # ``import __main__`` must not reach the zygote's script
        try:
            _exec(code, ns)
            if payload["setup"]:
                _exec(_compile(payload["setup"], "<test-setup>", "exec"), ns)
        except _BaseException as exc:
            _, name, msg = describe(exc)
            send(("load_error", f"{name}: {msg}" if msg else name))
            return None
        return ns

    def names_info(ns, names):
        info = {}
        for name in names:
            if name not in ns:
                continue
            value = ns[name]
            if _callable(value):
                info[name] = ("fn",)
            elif is_plain(value):
                try:
                    fits = _len(_dumps(value)) <= _VALUE_CAP
                except _BaseException:
                    fits = False
                info[name] = ("val", value) if fits else ("obj", "large value")
            else:
                info[name] = ("obj",)  # the judge may pass it back by name (a setup object)
        return info

    def put(container, path, value):
        """``container`` with the item at ``path`` replaced (tuples are rebuilt)."""
        if not path:
            return value
        key, rest = path[0], path[1:]
        if _type(container) is _tuple:
            items = _list(container)
            items[key] = put(items[key], rest, value)
            return _tuple(items)
        container[key] = put(container[key], rest, value)
        return container

    handles = [0]

    def answer(ns, request):
        _, name, args, kwargs, watch, refs = request
        if refs:  # objects of this namespace the judge refers to by name
            args = _list(args)
            for where, ref in refs:
                path = where if _type(where) is _tuple else (where,)
                if _type(path[0]) is _int:
                    args = put(args, path, ns[ref])
                else:
                    kwargs = put(kwargs, path, ns[ref])
        before = [_dumps(args[i]) for i in watch]
        try:
            fn = ns[name]
            value = fn(*args, **kwargs)
            kind, data = encode(value)  # may run the candidate's __next__
        except _BaseException as exc:
            send(("raise", *describe(exc)))
            return
        if kind == "notplain" and _isinstance(fn, _type):  # a constructor: keep the object
            handles[0] += 1
            key = f"\x00obj{handles[0]}"  # not an identifier: no clash with real names
            ns[key] = value
            send(("handle", key))
            return
        mutated = []
        for i, old in zip(watch, before, strict=True):
            arg = args[i]
            if is_plain(arg) and _dumps(arg) != old:
                mutated.append((i, arg))
        try:
            send((kind, data, mutated) if kind != "notplain" else (kind, data))
        except ValueError:  # marshal: too deeply nested
            send(("notplain", "nested too deeply"))

    def serve():
        send(("up",))
        payload = recv()
        ns = load(payload)
        if ns is None:
            return
        send(("ready", names_info(ns, payload["names"])))
        while True:
            try:
                request = recv()
            except EOFError:
                return
            answer(ns, request)

    return serve


def _typed_containers():
    """``{id(type): tag}`` for stdlib containers the judge rebuilds with its own classes.

    ``Counter`` results compared with dict literals (MBPP 40, 88) are right answers; the judge
    gets the items (plain data, read with ``dict.items``/``list``, which candidate code cannot
    override on these exact types) and builds a real ``Counter`` on its side, so ``==`` keeps
    Python's semantics.
    """
    import collections

    names = {"Counter": "Counter", "OrderedDict": "OrderedDict", "defaultdict": "defaultdict"}
    typed = {id(getattr(collections, attr)): tag for attr, tag in names.items()}
    typed[id(collections.deque)] = "deque"
    return typed


def _rlimit_funcs():
    import resource

    return resource.setrlimit, resource.getrlimit


def _make_plain_check():
    """A closure telling whether a value is plain data: exact built-in types all the way down.

    Types are compared by identity (``id``), never with ``==``/hashing on the type, which a
    metaclass could override. Same function as the judge's (``_py_judge``), kept separate so each
    side is standalone.
    """
    _type, _id, _set = type, id, set
    scalars = {_id(t) for t in (int, float, complex, bool, str, bytes, type(None))}
    sequences = {_id(t) for t in (list, tuple, set, frozenset)}
    flat, _len = {_id(list), _id(tuple)}, len
    dict_id = _id(dict)
    keys, values = dict.keys, dict.values

    def is_plain(value, budget=1_000_000):
        tid = _id(_type(value))
        if tid in scalars:  # the common cases, without the walk
            return True
        if tid in flat and _len(value) < 64:
            for item in value:
                if _id(_type(item)) not in scalars:
                    break
            else:
                return True
        stack, seen = [value], _set()
        while stack:
            budget -= 1
            if budget < 0:
                return False
            item = stack.pop()
            tid = _id(_type(item))
            if tid in scalars:
                continue
            if tid in sequences or tid == dict_id:
                if _id(item) in seen:
                    continue
                seen.add(_id(item))
                if tid == dict_id:
                    stack.extend(keys(item))
                    stack.extend(values(item))
                else:
                    stack.extend(item)
                continue
            return False
        return True

    return is_plain


def _install_guards(scratch):
    """Block the calls a benign-but-careless or naive hostile sample could hurt the host with.

    Inside bubblewrap these are redundant with the isolation; at the rlimits-only level they
    are all that stops ``shutil.rmtree('/')`` from a sample running as our uid. In-process
    patches: code that knows how can undo them.
    """
    import posix

    cwd = os.path.realpath(scratch)
    real_open, real_os_open, realpath = io.open, os.open, os.path.realpath

    def deny(*args, **kwargs):
        raise PermissionError("blocked by the halo-forge sandbox harness")

    blocked = (  # noqa: SIM905 - a word list reads better than 42 quoted strings
        "fork forkpty system popen execv execve execl execle execlp execlpe execvp execvpe "
        "spawnv spawnve spawnl spawnle spawnlp spawnlpe spawnvp spawnvpe posix_spawn "
        "posix_spawnp kill killpg pidfd_open remove unlink rmdir removedirs rename renames "
        "replace truncate chmod lchmod fchmod chown lchown fchown chroot mknod mkfifo"
    ).split()
    for mod in (os, posix):
        for name in blocked:
            if hasattr(mod, name):
                setattr(mod, name, deny)
    try:
        import _posixsubprocess

        _posixsubprocess.fork_exec = deny  # subprocess / multiprocessing
    except ImportError:
        pass
    for name in ("_socket", "socket", "_ctypes", "ctypes"):
        sys.modules[name] = None  # ``import socket`` -> ImportError

    def inside(path):
        try:
            full = realpath(os.fspath(path))
        except (TypeError, ValueError):
            return False
        return full == cwd or full.startswith(cwd + os.sep)

    def guarded_open(file, mode="r", *args, **kwargs):
        if not isinstance(file, int) and any(c in mode for c in "wax+") and not inside(file):
            raise PermissionError("writing outside the sandbox directory is blocked")
        return real_open(file, mode, *args, **kwargs)

    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def guarded_os_open(path, flags, mode=0o777, *, dir_fd=None):
        if flags & write_flags and (dir_fd is not None or not inside(path)):
            raise PermissionError("writing outside the sandbox directory is blocked")
        return real_os_open(path, flags, mode)

    builtins.open = io.open = guarded_open
    os.open = posix.open = guarded_os_open
