"""Hostile samples against the Python verifiers: each contained, none a false PASS.

Three groups:

* verdict forgery (exit codes, ``SystemExit``, ``atexit``, printed markers, fake protocol
  frames, always-equal objects, frame/``gc``/memory introspection): run at *both* isolation
  levels, because the verdict must be unforgeable even without bubblewrap;
* isolation (fork bomb, network, writes outside scratch, secrets in the environment and in
  ``/root``, killing the parent, segfaults): the samples first undo the harness's in-process
  guards (re-importing ``ctypes``/``socket``), so what is tested is the sandbox itself. They need
  bubblewrap and are skipped, with the reason, without it;
* benign-but-unusual correct solutions that must still PASS, and a batch of correct samples
  after the hazards that must all PASS at normal speed.

Where a sample probes the sandbox, it *reports* what it managed to do and the problem's test
expects "nothing": so PASS means contained, and the host checks the side effects itself too.
"""

from __future__ import annotations

import glob
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from halo_forge.types import Problem, Status
from halo_forge.verify import isolation as iso
from halo_forge.verify.python import HumanEvalVerifier, PythonTestVerifier, decide
from halo_forge.verify.zygote import WorkerPool

ISO = iso.probe()
needs_bwrap = pytest.mark.skipif(
    not ISO.full, reason=f"needs bubblewrap isolation; here: {ISO.level} ({ISO.reason})"
)
LEVELS = ["best", pytest.param("rlimits-only", id="rlimits-only")]

ADD = Problem(
    id="adv-add",
    prompt="Write add(a, b).",
    tests=["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"],
    entry_point="add",
)
GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return 0\n"
PROBE = Problem(id="adv-probe", prompt="", tests=["assert probe() == []"], entry_point="probe")

# Undo the harness's in-process guards: from here on only the sandbox stands in the way.
BYPASS = (
    "import sys\n"
    "for _m in ('ctypes', '_ctypes', 'socket', '_socket'):\n"
    "    sys.modules.pop(_m, None)\n"
    "import ctypes, socket, _io\n"
    "libc = ctypes.CDLL(None)\n"
)


@pytest.fixture(params=LEVELS, scope="module")
def verifier(request: pytest.FixtureRequest) -> PythonTestVerifier:
    level = None if request.param == "best" else request.param
    return PythonTestVerifier(timeout=2.0, isolation=level)


FAST = PythonTestVerifier(timeout=2.0)


def check(code: str, problem: Problem = ADD, v: PythonTestVerifier = FAST):
    return v.verify(problem, code)


def processes_of(uids: list[int]) -> list[int]:
    """Host pids running as one of ``uids``."""
    pids = []
    for path in glob.glob("/proc/[0-9]*/status"):
        try:
            with open(path) as f:
                uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        except (OSError, StopIteration, ValueError):
            continue
        if uid in uids:
            pids.append(int(path.split("/")[2]))
    return pids


# --- verdict forgery, at both isolation levels ------------------------------------------------


def test_infinite_loop_times_out_promptly(verifier: PythonTestVerifier):
    v = PythonTestVerifier(timeout=1.0, isolation=verifier.isolation)
    start = time.monotonic()
    r = v.verify(ADD, "def add(a, b):\n    while True:\n        pass\n")
    assert (r.status, r.reward) == (Status.TIMEOUT, 0.0)
    assert time.monotonic() - start < 2.5


def test_an_answer_that_makes_the_judge_loop_is_a_timeout(verifier: PythonTestVerifier):
    # The test code runs in the judge; the candidate chooses the loop bound.
    v = PythonTestVerifier(timeout=0.5, isolation=verifier.isolation)
    problem = Problem(
        id="adv-loop", prompt="", tests=["assert sum(1 for _ in range(n())) == 3"], entry_point="n"
    )
    start = time.monotonic()
    r = v.verify(problem, "def n():\n    return 10**12\n")
    assert r.status is Status.TIMEOUT and time.monotonic() - start < 2.5
    assert v.verify(problem, "def n():\n    return 3\n").passed  # and the worker is fine


def test_sys_exit_at_top_level(verifier: PythonTestVerifier):
    r = check(GOOD + "import sys\nsys.exit(0)\n", v=verifier)
    assert (r.status, r.details) == (Status.RUNTIME_ERROR, "SystemExit: 0")


def test_system_exit_raised_from_the_function(verifier: PythonTestVerifier):
    r = check("def add(a, b):\n    raise SystemExit(0)\n", v=verifier)
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    assert r.details == "test 1: SystemExit: 0"


def test_system_exit_cannot_be_caught_by_the_test_code(verifier: PythonTestVerifier):
    # `except Exception` in a test must not turn the candidate's SystemExit into a pass.
    problem = Problem(
        id="adv-exc",
        prompt="",
        tests=["try:\n    assert f() == 1\nexcept Exception:\n    pass"],
        entry_point="f",
    )
    r = check("def f():\n    raise SystemExit(0)\n", problem, verifier)
    assert r.status is Status.FAIL


def test_os_exit_at_top_level(verifier: PythonTestVerifier):
    r = check(GOOD + "import os\nos._exit(0)\n", v=verifier)
    assert r.status is Status.RUNTIME_ERROR and "before the harness reported" in r.details


def test_os_exit_inside_the_function(verifier: PythonTestVerifier):
    r = check("def add(a, b):\n    import os\n    os._exit(0)\n", v=verifier)
    assert (r.status, r.tests_passed) == (Status.RUNTIME_ERROR, 0)
    assert "during the tests" in r.details


def test_atexit_exit_zero_cannot_change_the_outcome(verifier: PythonTestVerifier):
    for hook in ("lambda: os._exit(0)", "sys.exit, 0"):
        code = f"import atexit, os, sys\natexit.register({hook})\n" + WRONG
        assert check(code, v=verifier).status is Status.FAIL


def test_printed_success_markers_are_ignored(verifier: PythonTestVerifier):
    fake = "('ready', {'add': ('fn',)})"
    code = f"print('PASS')\nprint('3 passed')\nprint({fake!r})\n" + WRONG
    r = check(code, v=verifier)
    assert r.status is Status.FAIL and "PASS" in r.stdout


def test_fake_protocol_frames_on_every_fd(verifier: PythonTestVerifier):
    # Well-formed frames claiming success, written everywhere, then a clean exit.
    code = (
        "import marshal, os\n"
        "def frame(obj):\n"
        "    data = marshal.dumps(obj)\n"
        "    return len(data).to_bytes(4, 'big') + data\n"
        "junk = frame(('ready', {'add': ('fn',)})) + frame(('ok', 3, [])) * 3\n"
        "for fd in range(0, 64):\n"
        "    try:\n"
        "        os.write(fd, junk)\n"
        "    except OSError:\n"
        "        pass\n"
        "os._exit(0)\n"
    )
    r = check(code, v=verifier)
    assert r.status is Status.RUNTIME_ERROR


def test_fake_answers_written_from_inside_the_function(verifier: PythonTestVerifier):
    # The candidate answers the *current* call on the reply fd itself, with the right shape.
    code = (
        "import marshal, os\n"
        "def add(a, b):\n"
        "    data = marshal.dumps(('ok', 3, []))\n"
        "    os.write(4, len(data).to_bytes(4, 'big') + data)\n"
        "    return 0\n"
    )
    assert check(code, v=verifier).status is not Status.PASS


def test_closing_the_judge_channel_is_not_a_pass(verifier: PythonTestVerifier):
    r = check("import os\nos.closerange(3, 1024)\n" + GOOD, v=verifier)
    assert r.status is Status.RUNTIME_ERROR


def test_always_equal_object(verifier: PythonTestVerifier):
    code = (
        "class AlwaysEqual:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "def add(a, b):\n    return AlwaysEqual()\n"
    )
    r = check(code, v=verifier)
    assert (r.status, r.tests_passed) == (Status.FAIL, 0)
    assert "not plain data (AlwaysEqual)" in r.details


def test_always_equal_builtin_subclasses_and_containers(verifier: PythonTestVerifier):
    code = (
        "class E(int):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return E(0)\n"
    )
    assert check(code, v=verifier).status is Status.FAIL
    problem = Problem(id="adv-l", prompt="", tests=["assert pair() == [1, 2]"])
    code = "class E:\n    __eq__ = lambda s, o: True\ndef pair():\n    return [E(), E()]\n"
    assert check(code, problem, verifier).status is Status.FAIL


def test_shadowing_builtins_the_test_uses_does_not_help(verifier: PythonTestVerifier):
    # The test computes its expected value with sorted(); a sample defining sorted() must not
    # be able to make "expected" equal its own (wrong) answer.
    problem = Problem(
        id="adv-sorted", prompt="", tests=["assert mysort([3, 1, 2]) == sorted([3, 1, 2])"]
    )
    code = "def sorted(x):\n    return 'same'\ndef mysort(x):\n    return 'same'\n"
    assert check(code, problem, verifier).status is Status.FAIL


def test_redefining_a_prompt_helper_does_not_help(verifier: PythonTestVerifier):
    # HumanEval/32-style: the test checks the answer with a helper from the prompt.
    prompt = (
        "def poly(xs, x):\n    return sum(c * x**i for i, c in enumerate(xs))\n\n\n"
        'def find_zero(xs):\n    """A zero of poly(xs, x)."""\n'
    )
    test = "def check(candidate):\n    assert abs(poly([-6, 1], candidate([-6, 1]))) < 1e-6\n"
    problem = Problem(id="adv-poly", prompt=prompt, tests=[test], entry_point="find_zero")
    he = HumanEvalVerifier(timeout=2.0, isolation=verifier.isolation)
    cheat = "def poly(xs, x):\n    return 0\n\n\ndef find_zero(xs):\n    return 123.0\n"
    assert he.verify(problem, cheat).status is Status.FAIL
    assert he.verify(problem, "    return 6.0\n").status is Status.PASS


def test_patched_builtins_do_not_reach_the_judge(verifier: PythonTestVerifier):
    code = (
        "import builtins\n"
        "builtins.type = lambda *a: int\n"
        "builtins.isinstance = lambda *a: True\n"
        "builtins.AssertionError = type('Nope', (Exception,), {})\n"
        "class E:\n    __eq__ = lambda s, o: True\n"
        "def add(a, b):\n    return E()\n"
    )
    assert check(code, v=verifier).status is Status.FAIL


def test_memory_bomb(verifier: PythonTestVerifier):
    r = check("x = ' ' * 10**10\n" + GOOD, v=verifier)
    assert r.status is Status.RUNTIME_ERROR and "MemoryError" in r.details


def test_huge_output_is_capped_and_not_a_pass(verifier: PythonTestVerifier):
    r = check("print('x' * 10**7)\n" + WRONG, v=verifier)
    assert r.status is Status.FAIL and len(r.stdout) < 2200


def test_c_stack_overflow_segfault(verifier: PythonTestVerifier):
    code = (
        "import sys\nsys.setrecursionlimit(10**7)\n"
        "class A:\n    def __repr__(self):\n        return repr(self)\n"
        "repr(A())\n" + GOOD
    )
    r = check(code, v=verifier)
    assert (r.status, r.details) == (Status.RUNTIME_ERROR, "killed by SIGSEGV")


def test_guards_block_naive_escapes(verifier: PythonTestVerifier):
    for hazard in (
        "import os\nos.fork()\n",
        "import subprocess\nsubprocess.run(['true'])\n",
        "import os\nos.kill(os.getppid(), 0)\n",
        "import socket\n",
        "import shutil\nshutil.rmtree('/definitely/not/here')\n",
    ):
        assert check(hazard + GOOD, v=verifier).status is Status.RUNTIME_ERROR, hazard


FORGER = BYPASS + (
    "import gc, os\n"
    "NEEDLE = b'zq-' + b'needle'[:0]\n"  # built at run time: the needle is not in our code
    "def scan_memory():\n"
    "    found = set()\n"
    "    with open('/proc/self/maps') as maps:\n"
    "        for line in maps:\n"
    "            fields = line.split()\n"
    "            addr, perms = fields[:2]\n"
    "            anonymous = len(fields) < 6 or fields[5] in ('[heap]', '[stack]')\n"
    "            if not perms.startswith('rw') or not anonymous:\n"  # where objects live
    "                continue\n"
    "            lo, hi = (int(x, 16) for x in addr.split('-'))\n"
    "            data = ctypes.string_at(lo, hi - lo)\n"
    "            at = data.find(NEEDLE)\n"
    "            while at >= 0:\n"
    "                token = data[at:at + 40].split(b\"'\")[0].split(b'\\x00')[0]\n"
    "                if len(token) > 12:\n"
    "                    found.add(token.decode('latin-1'))\n"
    "                at = data.find(NEEDLE, at + 1)\n"
    "    return found\n"
    "def scan_objects():\n"
    "    found = set()\n"
    "    for obj in gc.get_objects():\n"
    "        consts = getattr(getattr(obj, '__code__', None), 'co_consts', ())\n"
    "        for value in (*consts, *(obj.values() if isinstance(obj, dict) else ())):\n"
    "            if isinstance(value, str) and value.startswith('zq-') and len(value) > 12:\n"
    "                found.add(value)\n"
    "    frame = sys._getframe()\n"
    "    while frame is not None:\n"
    "        for value in (*frame.f_locals.values(), *frame.f_code.co_consts):\n"
    "            if isinstance(value, str) and value.startswith('zq-') and len(value) > 12:\n"
    "                found.add(value)\n"
    "        frame = frame.f_back\n"
    "    return found\n"
    "def answer():\n"
    "    found = scan_objects() | scan_memory()\n"
    "    print('FOUND', sorted(found))\n"
    "    return sorted(found)[0] if found else None\n"
)


@pytest.fixture
def needle_problem() -> Problem:
    secret = "zq-" + secrets.token_hex(8)
    return Problem(id="adv-needle", prompt="", tests=[f"assert answer() == {secret!r}"])


def test_interpreter_introspection_cannot_forge_the_verdict(verifier, needle_problem):
    """The expected value is nowhere in the candidate's process: not in its objects or frames,
    not in its raw memory, not even after the same worker judged this problem before."""
    one = WorkerPool(1, isolation=verifier.pool().isolation)
    try:
        job = verifier.job(needle_problem, "def answer():\n    return 0\n")
        assert decide(one.run(job, 2.0))[0] is Status.FAIL  # the worker has seen the test now
        job = verifier.job(needle_problem, FORGER)
        verdict = one.run(job, 5.0)
    finally:
        one.close()
    status = decide(verdict)[0]
    assert "FOUND []" in verdict["stdout"], verdict
    assert status is Status.FAIL


def test_nothing_a_sample_leaves_behind_reaches_the_next(verifier: PythonTestVerifier):
    one = WorkerPool(1, isolation=verifier.pool().isolation)
    litter = (
        "import os\n"
        "open('leftover.txt', 'w').write('x')\n"
        "os.makedirs('deep/er', exist_ok=True)\n"
        "open('deep/er/f', 'w').write('x')\n"
        "def probe():\n"
        "    return []\n"
    )
    look = "import os\ndef probe():\n    return sorted(os.listdir('.'))\n"
    try:
        assert decide(one.run(FAST.job(PROBE, litter), 2.0))[0] is Status.PASS
        assert decide(one.run(FAST.job(PROBE, look), 2.0))[0] is Status.PASS
    finally:
        one.close()


def test_the_original_frame_forgery_attempt(verifier: PythonTestVerifier):
    # The attack that fooled the in-process harness (it read the nonce and verdict fd from the
    # caller's frame): there is no such frame any more, and no such channel.
    code = (
        "import os, sys\n"
        "f = sys._getframe(1)\n"
        "nonce, fd = f.f_locals['nonce'], f.f_locals['fd']\n"
        'os.write(fd, (\'{"stage": "final", "nonce": "%s", "compiled": true, \'\n'
        '              \'"ran": true, "passed": 3, "total": 3, "error": ""}\\n\'\n'
        "              % nonce).encode())\n"
        "os._exit(0)\n"
    )
    assert check(code, v=verifier).status is Status.RUNTIME_ERROR


# --- isolation (bubblewrap): the guards are undone first ------------------------------------


@needs_bwrap
def test_fork_bomb_dies_with_the_sample():
    bomb = BYPASS + "def add(a, b):\n    while True:\n        libc.fork()\n"
    v = PythonTestVerifier(timeout=1.0)
    assert v.verify(ADD, GOOD).passed
    pool = v.pool()
    spares = sum(w.alive() for w in pool._workers)  # each keeps one child waiting for a job
    start = time.monotonic()
    r = v.verify(ADD, bomb)
    assert r.status is Status.TIMEOUT and time.monotonic() - start < 3.0
    deadline = time.monotonic() + 2.0
    while len(processes_of(pool.uids())) > spares and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_of(pool.uids())) <= spares


@needs_bwrap
def test_process_limit_applies_to_samples():
    code = BYPASS + (
        "import os\n"
        "def probe():\n"
        "    kids = 0\n"
        "    while kids < 200:\n"
        "        pid = libc.fork()\n"
        "        if pid == 0:\n"
        "            libc.pause()\n"
        "        if pid < 0:\n"
        "            break\n"
        "        kids += 1\n"
        "    return [] if kids < 64 else [kids]\n"
    )
    r = check(code, PROBE)
    assert r.status is Status.PASS, r.details


@needs_bwrap
def test_network_is_unreachable():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.3)
    port = listener.getsockname()[1]
    code = BYPASS + (
        "def probe():\n"
        "    got = []\n"
        f"    for host, port in (('127.0.0.1', {port}), ('1.1.1.1', 53), ('10.0.2.2', 22)):\n"
        "        s = socket.socket()\n"
        "        s.settimeout(0.5)\n"
        "        try:\n"
        "            s.connect((host, port))\n"
        "            got.append(host)\n"
        "        except OSError:\n"
        "            pass\n"
        "    names = socket.if_nameindex()\n"
        "    return got + [n for _, n in names if n != 'lo']\n"
    )
    try:
        r = check(code, PROBE)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert r.status is Status.PASS, r.details


@needs_bwrap
def test_writes_outside_scratch_fail(tmp_path: Path):
    targets = [str(tmp_path / "pwned"), "/usr/pwned", "/etc/pwned", "/tmp/pwned", "/pwned"]
    code = BYPASS + (
        "def probe():\n"
        "    done = []\n"
        f"    for path in {targets!r}:\n"
        "        try:\n"
        "            _io.FileIO(path, 'w').write(b'x')\n"
        "            done.append(path)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return done\n"
    )
    r = check(code, PROBE)
    assert r.status is Status.PASS, r.details
    assert not any(os.path.exists(t) for t in targets if not t.startswith("/tmp/pwned"))


@needs_bwrap
def test_environment_secrets_are_not_visible(monkeypatch: pytest.MonkeyPatch):
    secret = "hf-fake-secret-" + secrets.token_hex(8)
    monkeypatch.setenv("HF_FAKE_SECRET", secret)
    code = (
        "import os\n"
        "def probe():\n"
        f"    needle = {secret[:15]!r} + {secret[15:]!r}\n"
        "    hits = [k for k, v in os.environ.items() if needle in v]\n"
        "    for name in os.listdir('/proc'):\n"
        "        if name.isdigit() or name == 'self':\n"
        "            try:\n"
        "                with open(f'/proc/{name}/environ', 'rb') as f:\n"
        "                    if needle.encode() in f.read():\n"
        "                        hits.append(name)\n"
        "            except OSError:\n"
        "                pass\n"
        "    return hits\n"
    )
    pool = WorkerPool(1)  # started after the secret was set, like a trainer's pool would be
    try:
        verdict = pool.run(FAST.job(PROBE, code), 2.0)
    finally:
        pool.close()
    assert decide(verdict)[0] is Status.PASS, verdict
    assert secret not in verdict["stdout"]


@pytest.fixture
def home_secret() -> Iterator[tuple[str, str]]:
    secret = "hf-home-secret-" + secrets.token_hex(8)
    with tempfile.NamedTemporaryFile("w", dir=os.path.expanduser("~"), prefix=".hf-test-") as f:
        f.write(secret)
        f.flush()
        os.chmod(f.name, 0o644)  # readable by anyone who can reach it
        yield f.name, secret


@needs_bwrap
def test_home_directory_is_not_visible(home_secret: tuple[str, str]):
    path, secret = home_secret
    home = os.path.dirname(path)
    code = (
        "import os\n"
        "def probe():\n"
        "    got = []\n"
        "    try:\n"
        f"        got += [n for n in os.listdir({home!r}) if n.startswith('.hf-test-')]\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        f"        got.append(open({path!r}).read())\n"
        "    except OSError:\n"
        "        pass\n"
        "    return got\n"
    )
    r = check(code, PROBE)
    assert r.status is Status.PASS, r.details
    assert secret not in r.stdout + r.details


@needs_bwrap
def test_killing_the_parent_fails_and_the_worker_survives():
    code = BYPASS + (
        "import os\n"
        "hits = [p for p in range(-1, 4096) if p != os.getpid() and libc.kill(p, 9) == 0]\n"
        "print('killed', hits)\n" + WRONG
    )
    pool = FAST.pool()
    before = {w.proc.pid for w in pool._workers if w.alive()}
    assert check(code).status is Status.FAIL
    assert check(GOOD).status is Status.PASS
    assert before <= {w.proc.pid for w in pool._workers if w.alive()}  # none restarted


@needs_bwrap
def test_segfault_through_ctypes():
    r = check(BYPASS + "ctypes.string_at(0)\n" + GOOD)
    assert (r.status, r.details) == (Status.RUNTIME_ERROR, "killed by SIGSEGV")
    r = check(BYPASS + "def add(a, b):\n    return ctypes.string_at(0)\n")
    assert (r.status, r.details) == (Status.RUNTIME_ERROR, "killed by SIGSEGV")


@needs_bwrap
def test_samples_run_unprivileged():
    code = (
        "import os\n"
        "def probe():\n"
        "    status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "    bad = [k for k in ('CapPrm', 'CapEff', 'CapAmb') if int(status[k], 16)]\n"
        "    if 0 in os.getresuid() or 0 in os.getresgid() or os.getgroups():\n"
        "        bad.append('root ids')\n"
        "    if status['NoNewPrivs'].strip() != '1':\n"
        "        bad.append('new privileges possible')\n"
        "    return bad\n"
    )
    r = check(code, PROBE)
    assert r.status is Status.PASS, r.details


# --- benign but unusual: must PASS ------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            "from concurrent.futures import ThreadPoolExecutor\n"
            "def add(a, b):\n"
            "    with ThreadPoolExecutor(4) as pool:\n"
            "        x, y = pool.map(lambda v: v, [a, b])\n"
            "    return x + y\n",
            id="threads",
        ),
        pytest.param(
            "import sys\nsys.setrecursionlimit(20000)\n"
            "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
            "def add(a, b):\n    return a + b + depth(5000) - 5000\n",
            id="deep-recursion",
        ),
        pytest.param(
            "def add(a, b):\n    big = bytearray(200 << 20)\n    return a + b + big[-1]\n",
            id="200MB",
        ),
        pytest.param(
            "import os\n"
            "def add(a, b):\n"
            "    with open('notes.txt', 'w') as f:\n        f.write(str(a + b))\n"
            "    os.makedirs('sub', exist_ok=True)\n"
            "    return int(open('notes.txt').read())\n",
            id="scratch-file",
        ),
        pytest.param("import time\ntime.sleep(1)\n" + GOOD, id="sleep-1s"),
        pytest.param(
            "import fractions, decimal, statistics, json, hashlib\n" + GOOD, id="stdlib-imports"
        ),
        pytest.param("print('x' * 10**7)\n" + GOOD, id="huge-output"),
    ],
)
def test_benign_unusual_solutions_pass(code: str, verifier: PythonTestVerifier):
    v = PythonTestVerifier(timeout=3.0, isolation=verifier.isolation)
    r = v.verify(ADD, code)
    assert r.status is Status.PASS, r.details


def test_a_lingering_thread_does_not_hold_the_verdict(verifier: PythonTestVerifier):
    start = time.monotonic()
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n"
    assert check(code + GOOD, v=verifier).status is Status.PASS
    assert time.monotonic() - start < 2.0


def test_payload_is_not_readable_from_stdin(verifier: PythonTestVerifier):
    code = "import sys\nassert sys.stdin.buffer.read() == b''\n" + GOOD
    assert check(code, v=verifier).status is Status.PASS


# --- after the hazards: normal service --------------------------------------------------------


def _correct_batch(tag: str, n: int = 60) -> list[tuple[Problem, str]]:
    return [(ADD, f"def add(a, b):\n    return a + b  # {tag} {i}\n") for i in range(n)]


def test_hazards_mixed_with_correct_samples_then_normal_speed():
    v = PythonTestVerifier(timeout=1.0)
    baseline_start = time.monotonic()
    assert all(r.passed for r in v.verify_batch(_correct_batch("before")))
    baseline = time.monotonic() - baseline_start
    hazards = [
        "def add(a, b):\n    while True:\n        pass\n",
        BYPASS + "def add(a, b):\n    while True:\n        libc.fork()\n" if ISO.full else WRONG,
        "x = ' ' * 10**10\n" + GOOD,
        "print('x' * 10**7)\n" + WRONG,
        GOOD + "import os\nos._exit(0)\n",
        "import os\nos.closerange(3, 1024)\n" + GOOD,
    ]
    if ISO.full:
        hazards.append(BYPASS + "import os\n[libc.kill(p, 9) for p in range(-1, 4096)]\n" + WRONG)
    mixed = [(ADD, h) for h in hazards] + _correct_batch("mixed", 20)
    results = v.verify_batch(mixed)
    assert not any(r.passed for r in results[: len(hazards)])
    assert all(r.passed for r in results[len(hazards) :])
    after_start = time.monotonic()
    results = v.verify_batch(_correct_batch("after"))
    after = time.monotonic() - after_start
    assert all(r.passed for r in results)
    assert after < 3 * baseline + 0.5, (baseline, after)
