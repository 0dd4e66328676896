"""Pure statistical maths: small functions on arrays, no tables, no engines."""

from .hac import default_lags, newey_west
from .ols import SimpleTrend, simple_trend, t_quantile, t_test
from .welch import welch_difference

__all__ = ["SimpleTrend", "default_lags", "newey_west", "simple_trend", "t_quantile", "t_test", "welch_difference"]
