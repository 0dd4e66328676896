"""The package version, in one place (modules import it from here, not from the package face)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
