"""Reading and writing long tables (CSV or Parquet), always through the contract."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from ..errors import ContractError
from .contract import validate

__all__ = ["read_table", "write_table"]

_SUFFIXES = (".csv", ".parquet", ".pq")
_TEXT_COLUMNS = ("source", "kind", "region", "variable", "unit", "site", "season", "positive")
_NUMBER_COLUMNS = ("year", "month", "value", "lat", "lon", "weight", "ensemble_sd", "ensemble_n")


def read_table(
    path: str | Path,
    *,
    seasons: Collection[str] | None = None,
    variables: Collection[str] | None = None,
    na_values: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read a long table from CSV or Parquet and validate it.

    Parameters
    ----------
    path
        ``.csv`` or ``.parquet`` file.
    seasons, variables
        Extra season and variable names to accept (see :func:`pcstats.validate`).
    na_values
        Extra strings that mean missing in the numeric columns of a CSV (besides empty cells,
        ``NA``, ``NaN``, ``NULL``). Text columns are read as text: ``NA`` there is a name.

    Examples
    --------
    >>> import pcstats as pc
    >>> t = pc.read_table("fixtures/inversions/inversions_monthly.parquet")
    >>> sorted(t["source"].unique())[:2]
    ['CAMS', 'CT2019B']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ContractError(f"read_table({str(path)!r}): unknown file type {suffix!r}; use one of {', '.join(_SUFFIXES)}.")
    if not path.exists():
        raise FileNotFoundError(f"read_table: no file at {str(path)!r} (working directory: {Path.cwd()}).")
    if not path.is_file():
        raise ContractError(f"read_table: {str(path)!r} is a folder, not a file; give the .csv or .parquet file.")
    if path.stat().st_size == 0:
        raise ContractError(f"read_table: {str(path)!r} is empty (0 bytes); write the table again, or check the path.")
    try:
        if suffix == ".csv":
            # text columns stay text ("NA" is North America, "001" a site id); missing codes apply to numbers
            missing = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "-nan", *(na_values or ())]
            table = pd.read_csv(path, dtype={c: str for c in _TEXT_COLUMNS}, keep_default_na=False,
                                na_values={c: missing for c in _NUMBER_COLUMNS})
        else:
            table = pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise ContractError(
            f"read_table: {str(path)!r} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at position "
            f"{exc.start}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8), or read it with "
            "pandas.read_csv(path, encoding='latin-1') and pass the frame to pcstats.validate().") from None
    except pd.errors.EmptyDataError:
        raise ContractError(f"read_table: {str(path)!r} has no columns (an empty CSV); write the table again.") from None
    except pd.errors.ParserError as exc:
        raise ContractError(f"read_table: {str(path)!r} is not a well-formed CSV: {str(exc).strip()}") from None
    except (OSError, ValueError) as exc:
        if suffix == ".csv":
            raise
        raise ContractError(
            f"read_table: {str(path)!r} cannot be read as Parquet ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
            "is it a CSV named .parquet? Rename it to .csv, or write it again with pcstats.write_table().") from None
    if table.empty:
        raise ContractError(f"read_table: {str(path)!r} has a header but no rows; there is nothing to read.")
    return validate(table, seasons=seasons, variables=variables, origin=str(path))


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Validate and write a long table as CSV or Parquet (by suffix); returns the path."""
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise ContractError(f"write_table({str(path)!r}): use a .csv or .parquet file name.")
    seasons = table["season"].unique().tolist() if "season" in table.columns else None
    valid = validate(table, seasons=seasons, variables=table["variable"].unique().tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        valid.to_csv(path, index=False)
    else:
        valid.to_parquet(path, index=False)
    return path
