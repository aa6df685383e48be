"""The timing helper every speed comparison uses: rotated rounds, medians and paired ratios."""

import pytest

from solarray.benchmarks.arms import format_spread, interleave, ratio, summary


def test_interleave_rotates_the_order_and_skips_warmup():
    calls = []
    ticks = iter(range(1000))
    times = interleave({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"),
                        "c": lambda: calls.append("c")}, repeats=3, warmup=1,
                       clock=lambda: float(next(ticks)))
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"]
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}
    assert all(t == 1.0 for v in times.values() for t in v)


def test_summary_and_ratio_by_hand():
    assert summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    r = ratio([2.0, 4.0, 6.0], [1.0, 1.0, 4.0])
    assert r["median"] == pytest.approx(4.0 / 1.0)
    assert (r["min"], r["max"]) == (1.5, 4.0)
    assert format_spread(summary([1.0, 2.0, 3.0]), digits=1) == "2.0 s [1.0–3.0, n=3]"


@pytest.mark.parametrize("call", [lambda: interleave({}, 3), lambda: interleave({"a": int}, 0),
                                  lambda: summary([]), lambda: ratio([1.0], [1.0, 2.0])])
def test_bad_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()
