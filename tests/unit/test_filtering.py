from halo_forge.rlvr.filtering import Scored, keep_count, select_top
from halo_forge.types import Sample, Status, VerifyResult


def s(pid: str, idx: int, reward: float, text: str | None = None) -> Scored:
    status = Status.PASS if reward == 1.0 else Status.FAIL
    return Scored(
        Sample(pid, idx, text if text is not None else f"{pid}-{idx}", "code"),
        VerifyResult(status, reward),
    )


def test_keep_count_rounds_up_and_keeps_at_least_one():
    assert keep_count(0, 0.5) == 0
    assert keep_count(1, 0.5) == 1
    assert keep_count(3, 0.5) == 2
    assert keep_count(4, 0.5) == 2
    assert keep_count(10, 1.0) == 10
    assert keep_count(10, 0.01) == 1


def test_threshold_then_top_fraction_per_prompt():
    scored = [
        s("a", 0, 1.0),
        s("a", 1, 0.2),
        s("a", 2, 1.0),
        s("a", 3, 0.7),
        s("b", 0, 0.3),
        s("b", 1, 0.6),
    ]
    kept = select_top(scored, threshold=0.5, keep_fraction=0.5)
    # a: candidates 1.0(0), 1.0(2), 0.7(3) -> keep ceil(1.5)=2 -> idx 0, 2; b: 0.6 -> keep 1
    assert [(k.sample.problem_id, k.sample.index) for k in kept] == [("a", 0), ("a", 2), ("b", 1)]


def test_prompt_without_passing_sample_contributes_nothing():
    scored = [s("a", 0, 0.1), s("a", 1, 0.0), s("b", 0, 1.0)]
    kept = select_top(scored, threshold=0.5, keep_fraction=1.0)
    assert {k.sample.problem_id for k in kept} == {"b"}


def test_global_ranking_favours_early_prompts_on_ties():
    scored = [s("a", 0, 1.0), s("a", 1, 1.0), s("b", 0, 1.0), s("b", 1, 1.0)]
    glob = select_top(scored, 0.5, 0.5, per_prompt=False)
    per = select_top(scored, 0.5, 0.5, per_prompt=True)
    assert {k.sample.problem_id for k in glob} == {"a"}
    assert {k.sample.problem_id for k in per} == {"a", "b"}


def test_identical_completions_kept_once():
    scored = [s("a", 0, 1.0, "same"), s("a", 1, 1.0, "same "), s("a", 2, 1.0, "other")]
    kept = select_top(scored, 0.5, 1.0)
    assert [k.sample.index for k in kept] == [0, 2]
    kept_all = select_top(scored, 0.5, 1.0, dedupe=False)
    assert len(kept_all) == 3


def test_require_pass_drops_prompts_without_a_correct_sample_even_at_threshold_zero():
    scored = [s("a", 0, 0.7), s("a", 1, 0.3), s("b", 0, 1.0), s("b", 1, 0.7), s("b", 2, 0.0)]
    loose = select_top(scored, threshold=0.0, keep_fraction=1.0)
    assert {k.sample.problem_id for k in loose} == {"a", "b"}  # the seeds' behaviour
    strict = select_top(scored, threshold=0.0, keep_fraction=1.0, require_pass=True)
    # b keeps its failed-but-close attempts alongside the correct one; a (nothing correct) none
    assert [(k.sample.problem_id, k.sample.index) for k in strict] == [
        ("b", 0),
        ("b", 1),
        ("b", 2),
    ]


def test_max_per_prompt_caps_after_the_keep_fraction():
    scored = [s("a", i, 1.0) for i in range(6)] + [s("b", 0, 1.0)]
    kept = select_top(scored, threshold=0.5, keep_fraction=1.0, max_per_prompt=2)
    assert [(k.sample.problem_id, k.sample.index) for k in kept] == [("a", 0), ("a", 1), ("b", 0)]
    assert len(select_top(scored, 0.5, 0.5, max_per_prompt=10)) == 3 + 1
