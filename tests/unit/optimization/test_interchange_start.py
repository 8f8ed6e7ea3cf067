import numpy as np

from optimization.heuristics import greedy_interchange

D = np.array([[1.0, 5.0, 9.0], [2.0, 4.0, 8.0], [3.0, 3.0, 1.0]])
W = np.ones(3)


def test_interchange_starts_from_the_given_plan():
    # greedy alone picks site 0; with no time to swap, the given start stays
    start = np.array([False, False, True])
    assert greedy_interchange(D, W, 1).nonzero()[0].tolist() == [0]
    kept = greedy_interchange(D, W, 1, start=start, time_budget=0.0)
    assert kept.nonzero()[0].tolist() == [2]
    # with time, swaps improve it to the optimum from that start
    assert greedy_interchange(D, W, 1, start=start).nonzero()[0].tolist() == [0]
