"""Columns as integer codes (pcstats.data.coded) and the validate-once long table (pcstats.long_table)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import pcstats as pc
from pcstats.data.coded import combine, dense, distinct, duplicated, factorize, table_hash


def test_factorize_one_value_and_many_and_missing():
    one = factorize(pd.Series(["b"] * 5))
    assert one.size == 1 and one.codes.tolist() == [0] * 5
    many = factorize(pd.Series(["b", "a", None, "b", "c"]), sort=True)
    assert list(many.uniques) == ["a", "b", "c"] and many.codes.tolist() == [1, 0, -1, 1, 2]
    assert factorize(pd.Series([None, None, "x"])).codes.tolist() == [-1, -1, 0]  # a missing first value is no constant
    cat = factorize(pd.Series(pd.Categorical(["y", "x", "y"], categories=["y", "x"])))
    assert cat.codes.tolist() == [0, 1, 0] and list(cat.uniques) == ["y", "x"]


def test_combined_keys_order_rows_as_sorting_by_the_columns():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 500), "b": rng.choice(["p", "q", None], 500),
                          "c": rng.integers(0, 4, 500)})
    parts = [factorize(frame[c], sort=True) for c in frame.columns]
    key, size = combine(parts, len(frame))
    expected = frame.sort_values(["a", "b", "c"], kind="stable", na_position="last").index.to_numpy()
    np.testing.assert_array_equal(np.argsort(key, kind="stable"), expected)
    codes, k = dense(key, size)
    assert k == len(frame.drop_duplicates()) and codes.max() == k - 1
    np.testing.assert_array_equal(np.argsort(codes, kind="stable"), expected)
    np.testing.assert_array_equal(distinct(key, size), np.unique(key))
    np.testing.assert_array_equal(duplicated(key, size), frame.duplicated(keep=False).to_numpy())


def test_keys_beyond_the_counting_range_use_a_hash_table():
    key = np.array([5, 2**40, 5, 7, 2**40 + 1], dtype=np.int64)
    size = 2**41
    assert duplicated(key, size).tolist() == [True, False, True, False, False]
    assert distinct(key, size).tolist() == [5, 7, 2**40, 2**40 + 1]
    assert dense(key, size)[0].tolist() == [0, 2, 0, 1, 3]


def test_table_hash_follows_contents_and_order():
    t = pd.DataFrame({"source": ["A", "B"], "value": [1.0, 2.0], "year": [2000, 2001]})
    assert table_hash(t) == table_hash(t.copy()) and len(table_hash(t)) == 64
    assert table_hash(t) != table_hash(t.assign(value=[1.0, 2.5]))
    assert table_hash(t) != table_hash(t.assign(source=["A", "C"]))
    assert table_hash(t) != table_hash(t.iloc[::-1].reset_index(drop=True))
    assert table_hash(t) != table_hash(t.rename(columns={"value": "v"}))


def test_long_table_fits_as_the_data_frame_and_ignores_later_changes():
    table = pc.read_table("tests/reference/trend_input.csv")
    long = pc.long_table(table)
    spec = pc.TrendSpec("NEE ~ year", by=("source", "region", "season"))
    direct, reused = pc.fit(spec, table), pc.fit(spec, long)
    pd.testing.assert_frame_equal(direct.tidy(), reused.tidy(), check_exact=False, rtol=1e-12)
    assert direct.provenance.data_hash == reused.provenance.data_hash
    table.loc[0, "value"] = 1e6  # the caller's frame changes; the validated copy does not
    pd.testing.assert_frame_equal(pc.fit(spec, long).tidy(), reused.tidy(), check_exact=False, rtol=1e-12)
    assert pc.fit(spec, table).provenance.data_hash != reused.provenance.data_hash
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mixed = pc.fit(pc.MixedSpec("NEE ~ year + (1 | source)", by=("season",), where="region == 'P'"), long)
    assert set(mixed.tidy()["season"]) == {"ANN", "EGS", "LGS", "WIN"}
    assert "1,640 rows" in repr(long) and len(long) == 1640


def test_long_table_refuses_what_fit_refuses():
    table = pc.read_table("tests/reference/trend_input.csv")
    with pytest.raises(pc.ContractError, match="Duplicate keys"):
        pc.long_table(pd.concat([table, table.iloc[:3]], ignore_index=True))
    with pytest.raises(pc.ContractError, match="looks like a typo"):
        pc.long_table(table.assign(season=table["season"].replace({"LGS": "LSG"}).where(table.index > 0, "LGS")))


def test_group_numbers_follow_sorted_keys_with_missing_last():
    rows = pd.DataFrame({"source": "S", "kind": "eddy_covariance", "region": "P",
                         "site": ["b", "b", None, None, "a", "a"] * 3,
                         "year": np.repeat([2000, 2001, 2002], 6) + np.tile([0, 10, 0, 10, 0, 10], 3),
                         "season": "ANN", "variable": "NEE", "value": np.arange(18.0) ** 1.5, "unit": "g"})
    prepared = pc.prepare(pc.TrendSpec("NEE ~ year", by=("site",)), rows)
    assert prepared.groups["site"].tolist()[:2] == ["a", "b"] and pd.isna(prepared.groups["site"].iloc[2])
    assert prepared.groups["nobs"].tolist() == [6, 6, 6]


def test_results_pickle_with_augment_kept():
    table = pc.read_table("tests/reference/trend_input.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in (pc.TrendSpec("NEE ~ year", by=("source", "region", "season")),
                     pc.TrendSpec("NEE ~ year", by=("region", "season"), engine="statsmodels"),
                     pc.MixedSpec("NEE ~ year + (1 | source)", by=("season",))):
            res = pc.fit(spec, table)
            back = pickle.loads(pickle.dumps(res))
            pd.testing.assert_frame_equal(back.tidy(), res.tidy())
            pd.testing.assert_frame_equal(back.augment(), res.augment())
            assert back.spec == res.spec and back.provenance.data_hash == res.provenance.data_hash
