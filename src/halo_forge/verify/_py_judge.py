"""The judge's side of a Python verification: decides pass/fail without running candidate code.

Standalone (standard library only): ``_zygote_worker`` runs it inside the sandbox. The judge
holds the tests and computes every expected value itself; the candidate lives in another
process (``_py_harness``) under another uid and is used as an *oracle*: when a test calls
``candidate(x)``, the judge sends ``x`` to that process and receives the return value as plain
data (or the name of the exception it raised), then the test code continues *here*, so
``assert candidate(x) == y``, ``abs(candidate(x) - y) < 1e-6``, loops, ``random`` inputs and
``check(candidate)`` all run unchanged, on values the candidate cannot turn into objects.

Why this cannot be forged: the candidate's process never sees the test code or any expected
value (it is forked from a zygote that never received a job), and nothing it sends is believed
except return values, which are exactly what it is asked for. ``SystemExit``, ``os._exit``,
``atexit`` handlers, printed "PASS" lines, fake protocol frames, patched builtins, frame or
``gc`` introspection: none of them can reach this process or the values it compares.

A test *fails* (never passes) when non-plain data would have to cross the boundary (an
argument that is a function, a result that is an object); when the candidate process dies,
times out or breaks the protocol, the remaining tests are not run.
"""

import builtins
import collections
import errno
import marshal
import os
import random
import select
import signal
import time

REPLY_CAP = 16 << 20  # bytes in one frame from the candidate
ARG_BUDGET = 10_000_000  # items walked when checking that arguments are plain data
MAX_HANDLES = 100_000  # objects a sample's classes may build and the judge refer to


class ChildGone(BaseException):
    """The candidate process can no longer answer: died, timed out, or broke the protocol."""


class NotJudgeable(BaseException):
    """Non-plain data would have to cross the boundary; the current test fails."""


class CandidateAborted(BaseException):
    """The candidate raised a ``BaseException`` that is not an ``Exception`` (``SystemExit``)."""


_BUILTIN_EXC = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}


def make_plain_check():
    """Exact built-in scalar/container types all the way down (see ``_py_harness``)."""
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


is_plain = make_plain_check()


def clean(text, limit=300):
    """Printable ASCII, one line, at most ``limit`` characters (text from the candidate)."""
    if type(text) is not str:
        return "?"
    text = text[:limit].encode("ascii", "replace").decode("ascii")
    return "".join(c if " " <= c <= "~" else " " for c in text)


def describe(exc):
    """``"Type: message"`` for an exception raised while judging one test."""
    desc = getattr(exc, "_hf_desc", None)
    if type(desc) is str:
        return desc
    if isinstance(exc, ChildGone):
        return f"the candidate process {exc.args[0] if exc.args else 'is gone'}"
    if isinstance(exc, NotJudgeable):
        return str(exc.args[0]) if exc.args else "not plain data"
    name = type(exc).__name__
    args = exc.args
    if len(args) == 1 and type(args[0]) in (str, int):
        try:
            return clean(f"{name}: {args[0]}")
        except ValueError:  # an int too large to print
            return name
    return name


def _rebuild(base, name, msg):
    """The exception to raise in the test code for one the candidate raised."""
    raw = msg[:300] if type(msg) is str else ""
    text = clean(raw)
    desc = clean(f"{name}: {text}" if text else name)
    cls = _BUILTIN_EXC.get(base) if type(base) is str else None
    exc = None
    if cls is not None and issubclass(cls, Exception):
        for klass in cls.__mro__:  # UnicodeDecodeError & co. need more arguments
            try:
                exc = klass(raw)  # the test may look at the message: keep it as it was
                break
            except TypeError:
                continue
    if exc is None:
        exc = CandidateAborted(desc)
    exc._hf_desc = desc
    return exc


class Capture:
    """Bytes read from one pipe: the first ``cap`` kept, the rest counted and dropped."""

    def __init__(self, cap):
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0

    def feed(self, chunk):
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self):
        out = self.data.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[halo-forge: {self.dropped} more bytes discarded]"
        return out


class Child:
    """One candidate process seen from the judge: its pipes, pid, deadline and state."""

    def __init__(self, pid, req_w, rep_r, out_r, err_r):
        self.pid = pid
        self.req_w, self.rep_r, self.out_r, self.err_r = req_w, rep_r, out_r, err_r
        for fd in (req_w, rep_r, out_r, err_r):
            os.set_blocking(fd, False)
        self.poll = select.poll()
        for fd in (rep_r, out_r, err_r):
            self.poll.register(fd, select.POLLIN)
        self.open = {rep_r, out_r, err_r}
        self.buf = bytearray()
        self.out = self.err = None
        self.deadline = time.monotonic() + 30.0  # to start up; the job sets its own
        self.gone = ""  # why it can no longer answer ("" while it can)
        self.timed_out = False
        self.eof = False  # it closed its reply channel (usually: it died)
        self.killed = False
        self.taint = ""  # set when non-plain data had to cross during the current test
        self.calls = 0  # candidate calls made (the setup runner looks at it)
        self.handles = 0  # objects of the candidate's the judge holds a reference to
        self.in_setup = False  # running the trusted setup code (no handles: names instead)
        self.closed = False

    def set_output_caps(self, cap):
        self.out, self.err = Capture(cap), Capture(cap)

    def _typed(self, value):
        """A stdlib container rebuilt with the judge's own class from its plain items."""
        try:
            tag, items = value
            if tag == "deque":
                return collections.deque(items[0], items[1])
            return _TYPED[tag](items)
        except (TypeError, ValueError, KeyError):
            self.violation("malformed typed reply")

    def recv_up(self):
        """Wait for the child's "privileges dropped, ready for a payload" message."""
        if self.recv() != ("up",):
            self.violation("did not start")

    # -- transport ------------------------------------------------------------------------

    def send(self, obj):
        data = marshal.dumps(obj)
        data = memoryview(len(data).to_bytes(4, "big") + data)
        while data:
            if self.gone:
                raise ChildGone(self.gone)
            try:
                n = os.write(self.req_w, data)
                data = data[n:]
                continue
            except BlockingIOError:
                pass
            except OSError:  # it closed its request channel
                self._lose("closed its channel to the judge")
            self._wait(select.POLLOUT)

    def recv(self):
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                if n > REPLY_CAP:
                    self.violation(f"sent a {n}-byte frame (limit {REPLY_CAP})")
                if len(self.buf) >= 4 + n:
                    frame = bytes(self.buf[4 : 4 + n])
                    del self.buf[: 4 + n]
                    if self.buf:  # exactly one reply per request: more is the candidate's
                        self.violation("sent data it was not asked for")
                    try:
                        return marshal.loads(frame)
                    except (ValueError, EOFError, TypeError):
                        self.violation("sent a malformed frame")
            if self.gone:
                raise ChildGone(self.gone)
            self._wait(0)

    def _wait(self, write_event):
        """Block until something happens (or the deadline): read what is there."""
        if write_event:
            self.poll.register(self.req_w, select.POLLOUT)
        try:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                self._lose("timed out")
            events = self.poll.poll(max(1, int(left * 1000) + 1))
        finally:
            if write_event:
                self.poll.unregister(self.req_w)
        for fd, _ in events:
            if fd in self.open:
                self._read(fd)

    def _read(self, fd):
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.open.discard(fd)
            self.poll.unregister(fd)
            if fd == self.rep_r:
                self.eof = True
                self._lose("exited")
            return
        if fd == self.rep_r:
            self.buf += chunk
        elif fd == self.out_r:
            self.out.feed(chunk)
        else:
            self.err.feed(chunk)

    def _lose(self, why):
        if not self.gone:
            self.gone = why
            if why != "exited":
                self.kill()
        raise ChildGone(self.gone)

    def violation(self, why):
        self.gone = ""
        self._lose(f"broke the harness protocol: {why}")

    def kill(self):
        if not self.killed:
            self.killed = True
            for sig_to in (os.killpg, os.kill):
                try:
                    sig_to(self.pid, signal.SIGKILL)
                except OSError as exc:
                    if exc.errno not in (errno.ESRCH, errno.EPERM):
                        raise

    def drain(self):
        """Read what is left in stdout/stderr without waiting, then close every pipe (once)."""
        if self.closed:
            return
        self.closed = True
        for fd in (self.out_r, self.err_r):
            for _ in range(64):
                if fd not in self.open:
                    break
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                (self.out if fd == self.out_r else self.err).feed(chunk)
        for fd in (self.req_w, self.rep_r, self.out_r, self.err_r):
            try:  # noqa: SIM105 - no contextlib import for one call
                os.close(fd)
            except OSError:
                pass

    # -- the oracle -------------------------------------------------------------------------

    def call(self, name, args, kwargs):
        if self.gone:
            raise ChildGone(self.gone)
        self.calls += 1
        refs = []
        args = tuple(_strip_refs(a, (i,), refs) for i, a in enumerate(args))
        kwargs = {k: _strip_refs(a, (k,), refs) for k, a in kwargs.items()}
        if not is_plain(args, ARG_BUDGET) or (kwargs and not is_plain(kwargs, ARG_BUDGET)):
            self.taint = f"an argument to {name}() is not plain data"
            raise NotJudgeable(self.taint)
        holding = {path[0] for path, _ in refs}  # arguments with objects in them: not copied back
        watch = [i for i, a in enumerate(args) if type(a) in (list, dict, set) and i not in holding]
        self.send(("call", name, args, kwargs, watch, refs))
        reply = self.recv()
        if type(reply) is not tuple or not reply or type(reply[0]) is not str:
            self.violation("malformed reply")
        kind = reply[0]
        if kind in ("ok", "iter", "range", "typed") and len(reply) == 3:
            value, mutated = reply[1], reply[2]
            if type(mutated) is not list or (mutated and not is_plain(mutated)):
                self.violation("malformed reply")
            if not is_plain(value, 1 << 62):
                self.violation("non-plain data in a reply")
            if kind == "iter" and type(value) is not list:
                self.violation("malformed iterator reply")
            if kind == "range" and not (
                type(value) is tuple and len(value) == 3 and all(type(v) is int for v in value)
            ):
                self.violation("malformed range reply")
            _apply_mutations(args, watch, mutated)
            if kind == "typed":
                return self._typed(value)
            if kind == "iter":
                return iter(value)
            if kind == "range":
                return range(*value)
            return value
        if kind == "raise" and len(reply) == 4:
            raise _rebuild(*reply[1:])
        if kind == "handle" and len(reply) == 2 and type(reply[1]) is str:
            if self.in_setup:  # setup objects are referred to by their names (_run_setup)
                self.taint = f"result of {name}() is not plain data (an object)"
                raise NotJudgeable(self.taint)
            self.handles += 1
            if self.handles > MAX_HANDLES:
                self.taint = f"more than {MAX_HANDLES} objects built by {name}()"
                raise NotJudgeable(self.taint)
            return Ref(reply[1], f"{name}(...)")
        if kind == "notplain" and len(reply) == 2:
            self.taint = f"result of {name}() is not plain data ({clean(reply[1], 80)})"
            raise NotJudgeable(self.taint)
        self.violation(f"unexpected reply {clean(kind, 20)!r}")


_TYPED = {
    "Counter": lambda items: collections.Counter(dict(items)),
    "OrderedDict": collections.OrderedDict,
    "defaultdict": lambda items: collections.defaultdict(None, items),
}


def _apply_mutations(args, watch, mutated):
    """Copy in-place changes the candidate made to list/dict/set arguments back to ours."""
    for item in mutated:
        if type(item) is not tuple or len(item) != 2 or item[0] not in watch:
            continue
        index, new = item
        arg = args[index]
        if type(arg) is not type(new):
            continue
        if type(arg) is list:
            arg[:] = new
        else:
            arg.clear()
            arg.update(new)


class Candidate:
    """Stands for a candidate function in the test code; calling it asks the child."""

    def __init__(self, child, name):
        self._child = child
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._child.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<candidate function {self.__name__}>"


_compiled = {}


def _compile_tests(job):
    """Code objects for the trusted side of a job, cached (many samples share a problem)."""
    key = (
        job["prelude"],
        tuple(src for src, _ in job["test_setup"]),
        tuple(tuple(s) for s in job["steps"]),
    )
    hit = _compiled.get(key)
    if hit is None:
        if len(_compiled) > 2048:
            _compiled.clear()
        steps = []
        for kind, first, second in job["steps"]:
            if kind == "eq":
                steps.append(
                    (kind, compile(first, "<test>", "eval"), compile(second, "<test>", "eval"))
                )
            else:
                steps.append((kind, compile(first, "<test>", "exec"), None))
        hit = (
            compile(job["prelude"], "<prompt>", "exec"),
            [(compile(src, "<test-setup>", "exec"), names) for src, names in job["test_setup"]],
            steps,
        )
        _compiled[key] = hit
    return hit


class JudgeTimeout(BaseException):
    """The judge's own work ran past the job's deadline (:func:`install_alarm`)."""


_armed = [False]


def install_alarm():
    """In the judge process only: ``SIGALRM`` raises :class:`JudgeTimeout` while a job is armed.

    The child's deadline is enforced while waiting for its answers; this backs it up for the
    test code the judge runs itself, which a candidate's answer can make loop
    (``for _ in range(candidate(x))``): that must be the sample's ``TIMEOUT``, not a hung worker.
    """

    def on_alarm(signum, frame):
        if _armed[0]:
            raise JudgeTimeout("the tests ran past the deadline")

    signal.signal(signal.SIGALRM, on_alarm)


def judge(job, child):
    """Run one job's tests against ``child``; the verdict as a plain dict (see the worker).

    Raises nothing for what the candidate does: a dead, hung or misbehaving child shows in
    ``child.gone`` and in the verdict's ``stage`` (where it happened).
    """
    steps_total = sum(1 for kind, _, _ in job["steps"] if kind != "setup")
    v = {"stage": "setup", "compiled": False, "ran": False, "passed": 0, "total": steps_total}
    v["error"] = ""
    try:
        _judge(job, child, v)
    except JudgeTimeout:
        child.timed_out = True
        child.gone = child.gone or "timed out"
        child.kill()
    finally:
        _armed[0] = False  # first: an alarm arriving from here on is ignored
        signal.setitimer(signal.ITIMER_REAL, 0)
    return v


def _judge(job, child, v):
    prelude, test_setup, steps = _compile_tests(job)
    ns = {"__name__": "__judge__", "__builtins__": builtins}
    try:
        exec(prelude, ns)
    except BaseException as exc:  # noqa: BLE001 - reported as the dataset's fault
        v["judge_error"] = "problem prompt failed to run: " + describe(exc)
        return
    child.deadline = time.monotonic() + 30.0  # start-up, not the sample's time
    try:
        child.recv_up()
    except ChildGone:
        child.drain()
        why = child.err.text().strip().splitlines()[-1:] if child.err else []
        v["judge_error"] = f"the candidate process did not start ({child.gone}) {why}"
        return
    v["stage"] = "load"
    _armed[0] = True
    signal.setitimer(signal.ITIMER_REAL, job["timeout"] + 0.5)  # the child's deadline + 0.5 s
    try:
        info = _load(job, child, v)
    except ChildGone:
        return
    if info is None:
        return
    v["ran"] = True
    _bind(ns, info, job["entry"], set(job["names"]), child)
    failed = _run_setup(test_setup, ns, child)
    if failed:
        v["judge_error"] = "test setup failed: " + failed
        return
    if job["bind"]:
        ns[job["bind"]] = ns[job["entry"]]
    v["stage"] = "tests"
    _run_steps(steps, ns, child, v)


def _load(job, child, v):
    """Send the program; the candidate's names (``None`` if it did not compile or load)."""
    child.deadline = time.monotonic() + job["timeout"]
    child.send(
        {
            "code": job["code"],
            "setup": job["setup"],
            "entry": job["entry"],
            "names": job["names"],
            "limits": job["limits"],
        }
    )
    msg = child.recv()
    if type(msg) is not tuple or not msg:
        child.violation("malformed first reply")
    if msg[0] == "compile_error" and len(msg) == 2:
        v["error"] = clean(msg[1])
        return None
    v["compiled"] = True
    if msg[0] == "load_error" and len(msg) == 2:
        v["error"] = clean(msg[1])
        return None
    if msg[0] != "ready" or len(msg) != 2 or type(msg[1]) is not dict:
        child.violation("malformed ready message")
    entry = job["entry"]
    if entry and msg[1].get(entry) != ("fn",):
        v["error"] = f"NameError: entry point {clean(entry)!r} is not defined"
        return None
    return msg[1]


def _run_setup(statements, ns, child):
    """Run the trusted setup statement by statement; ``""`` or why it failed (our fault).

    A statement that fails *because of the candidate* (it called the candidate and got a
    non-plain object back, used a :class:`Ref`, the child died) is not an error: the names it
    binds become references to the candidate process's own copies, which the same setup code
    built there.
    """
    for code, names in statements:
        calls, child.calls, child.taint = child.calls, 0, ""
        child.in_setup = True
        try:
            exec(code, ns)
        except JudgeTimeout:
            raise
        except BaseException as exc:  # noqa: BLE001 - sorted out just below
            if not (child.calls or child.taint or isinstance(exc, NotJudgeable | ChildGone)):
                return describe(exc)
            for name in names:
                ns[name] = Ref(name)
        finally:
            child.calls += calls
            child.taint = ""
            child.in_setup = False
    return ""


class Ref:
    """A name of the candidate process's namespace (an object its setup built, or one a call to
    one of its classes returned): it can only be passed to a candidate function — at any depth
    of a list, tuple or dict argument — which then receives its own object of that name."""

    __slots__ = ("name", "label")

    def __init__(self, name, label=None):
        self.name = name
        self.label = label or name

    def _refuse(self, *args, **kwargs):
        raise NotJudgeable(f"{self.label} is an object of the candidate's; only calls can use it")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __bool__ = __len__ = __iter__ = __getattr__ = __getitem__ = __call__ = _refuse
    __hash__ = object.__hash__

    def __repr__(self):
        return f"<candidate object {self.label}>"


def _strip_refs(value, path, found, depth=0):
    """``value`` with every :class:`Ref` inside lists, tuples and dict values replaced by
    ``None``; each one's ``(path, name)`` is appended to ``found``. Copies only what holds one."""
    t = type(value)
    if t is Ref:
        found.append((path, value.name))
        return None
    if depth > 20 or t not in (list, tuple, dict):
        return value
    before = len(found)
    if t is dict:
        new = {k: _strip_refs(v, (*path, k), found, depth + 1) for k, v in value.items()}
    else:
        new = [_strip_refs(v, (*path, i), found, depth + 1) for i, v in enumerate(value)]
        new = tuple(new) if t is tuple else new
    return new if len(found) > before else value


def _bind(ns, info, entry, allowed, child):
    """Bind the candidate's names the tests use: trusted definitions win, except the entry.

    Only names the host listed (what the tests read, built-ins excluded) are considered, so a
    candidate cannot slip in a ``sorted`` of its own by reporting it.
    """
    for name, desc in info.items():
        if type(name) is not str or type(desc) is not tuple or not desc:
            child.violation("malformed name info")
        if name != entry and (name in ns or name not in allowed):
            continue
        if desc == ("fn",):
            ns[name] = Candidate(child, name)
        elif desc[0] == "val" and len(desc) == 2 and is_plain(desc[1]):
            ns[name] = desc[1]
        elif desc[0] == "obj":
            ns[name] = Ref(name)


def _run_steps(steps, ns, child, v):
    """Fill ``v["passed"]``/``v["error"]``: a test passes only if it raised nothing and nothing
    tainted it. Kept up to date as tests pass, so a timeout keeps the partial count."""
    random.seed(0)  # tests that draw random inputs get the same ones for every sample
    passed, first_error, number = 0, "", 0
    for kind, first, second in steps:
        if kind != "setup":
            number += 1
        child.taint = ""
        try:
            if kind == "eq":
                left = eval(first, ns)
                right = eval(second, ns)
                if not left == right:
                    raise AssertionError("values differ")
            else:
                exec(first, ns)
            if child.taint:  # the test code swallowed the exception: still not judgeable
                raise NotJudgeable(child.taint)
            if child.gone:
                raise ChildGone(child.gone)
        except JudgeTimeout:
            raise
        except BaseException as exc:  # noqa: BLE001 - one failed test, whatever it raised
            if kind != "setup" and not first_error:
                first_error = v["error"] = f"test {number}: " + describe(exc)
            if child.gone:
                break
            continue
        if kind != "setup":
            passed += 1
            v["passed"] = passed
