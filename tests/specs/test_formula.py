from __future__ import annotations

import pandas as pd
import pytest

import pcstats as pc
from pcstats.specs.formula import evaluate_where, parse_formula


def test_parse_collects_names_and_intercept():
    p = parse_formula("NEE ~ year * C(region) + log(GPP)")
    assert p.response == "NEE" and p.names == ("NEE", "year", "region", "GPP") and p.has_intercept
    assert not parse_formula("NEE ~ year - 1").has_intercept


def test_where_interpreter():
    frame = pd.DataFrame({"season": ["ANN", "EGS", "ANN"], "year": [1990, 2000, 2010], "region": ["P", "P", "NoP"]})
    assert evaluate_where("season == 'ANN' and year >= 2000", frame).tolist() == [False, False, True]
    assert evaluate_where("region in ['NoP'] or not (year < 2000)", frame).tolist() == [False, True, True]
    assert evaluate_where("1995 <= year <= 2005", frame).tolist() == [False, True, False]
    assert evaluate_where("region not in ['P']", frame).tolist() == [False, False, True]
    with pytest.raises(pc.FormulaError, match="names 'seasn'.*Did you mean 'season'"):
        evaluate_where("seasn == 'ANN'", frame)


def test_where_errors_are_named():
    frame = pd.DataFrame({"season": ["ANN", "LGS"], "year": [1990, 2000]})
    with pytest.raises(pc.FormulaError, match=r"lists 'LSG', which column 'season' never holds\. Did you mean 'LGS'"):
        evaluate_where("season in ['ANN', 'LSG']", frame)
    with pytest.raises(pc.FormulaError, match="compares values of different types"):
        evaluate_where("year > 'a'", frame)
