import numpy as np
import pytest

from optimization.evaluate import assign_with_capacity, evaluate_network


def test_without_capacity_or_with_room_everyone_goes_to_the_nearest_open_site():
    rng = np.random.default_rng(0)
    D = rng.uniform(1, 100, size=(30, 6))
    w = rng.uniform(1, 10, size=30)
    open_mask = np.array([True, False, True, True, False, True])
    nearest = np.flatnonzero(open_mask)[D[:, open_mask].argmin(axis=1)]
    np.testing.assert_array_equal(assign_with_capacity(D, w, open_mask), nearest)
    roomy = np.full(6, w.sum())
    np.testing.assert_array_equal(assign_with_capacity(D, w, open_mask, roomy), nearest)


def test_full_site_sends_the_farthest_commune_to_its_next_site():
    D = np.array([[1.0, 9.0], [2.0, 5.0], [3.0, 4.0]])
    w = np.array([4.0, 4.0, 4.0])
    a = assign_with_capacity(D, w, np.array([True, True]), np.array([8.0, 100.0]))
    assert a.tolist() == [0, 0, 1]


def test_no_room_anywhere_overloads_the_nearest_and_reports_unmet_demand():
    D = np.array([[1.0, 2.0], [1.0, 3.0]])
    w = np.array([10.0, 10.0])
    a, kpis = evaluate_network(D, w, np.array([True, True]), np.array([5.0, 5.0]))
    assert a.tolist() == [0, 0]
    assert kpis["overloaded_centers"] == 1
    assert kpis["unmet_demand"] == pytest.approx(15.0)


def test_closing_every_site_leaves_everyone_unserved():
    a = assign_with_capacity(np.ones((3, 2)), np.ones(3), np.array([False, False]))
    assert a.tolist() == [-1, -1, -1]


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="shapes do not match"):
        assign_with_capacity(np.ones((3, 2)), np.ones(2), np.array([True, True]))
