"""GLM families as R's ``family`` objects: link, inverse link, variance and deviance residuals.

Names follow R (``binomial``, ``poisson``, ``Gamma``, ``inverse.gaussian``), written in Python's style
(``"gamma"``, ``"inverse_gaussian"``); :func:`canonical_family` accepts both. Each family lists its
links, the canonical one first. :func:`family` returns a :class:`Family` with the functions the
GLMM fit needs (R's ``linkfun``, ``linkinv``, ``mu.eta``, ``variance``, ``dev.resids``, ``aic``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import SpecError, did_you_mean

__all__ = ["FAMILIES", "Family", "canonical_family", "family"]

#: family -> its links, the canonical (default) link first
FAMILIES: dict[str, tuple[str, ...]] = {
    "gaussian": ("identity", "log", "inverse"),
    "binomial": ("logit", "probit", "cloglog", "cauchit", "log"),
    "poisson": ("log", "identity", "sqrt"),
    "gamma": ("inverse", "log", "identity"),
    "inverse_gaussian": ("1/mu^2", "inverse", "log", "identity"),
}
_R_NAMES = {"Gamma": "gamma", "inverse.gaussian": "inverse_gaussian", "inverse_gaussian": "inverse_gaussian",
            "normal": "gaussian"}


def canonical_family(name: str) -> str:
    """pcstats's name of a family, from its own or R's spelling.

    >>> canonical_family("Gamma"), canonical_family("inverse.gaussian")
    ('gamma', 'inverse_gaussian')
    """
    key = _R_NAMES.get(name, name)
    if key not in FAMILIES:
        raise SpecError(f"family={name!r} is not a family pcstats fits; use one of {', '.join(FAMILIES)} (R's Gamma "
                        "and inverse.gaussian are read too)." + did_you_mean(name, FAMILIES))
    return key


@dataclass(frozen=True)
class Family:
    """A family with a link, as R's ``family`` object (only what a GLMM fit uses)."""

    name: str
    link: str
    linkfun: Callable[[np.ndarray], np.ndarray]
    linkinv: Callable[[np.ndarray], np.ndarray]
    mu_eta: Callable[[np.ndarray], np.ndarray]  # d mu / d eta
    variance: Callable[[np.ndarray], np.ndarray]
    dev_resids: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (y, mu, weights)

    @property
    def has_scale(self) -> bool:
        """Gaussian, Gamma and inverse Gaussian have a dispersion parameter; binomial and Poisson do not."""
        return self.name in ("gaussian", "gamma", "inverse_gaussian")


_EPS = np.finfo(float).eps
_THRESH = 30.0
_MTHRESH = -30.0


def _links() -> dict[str, tuple[Callable, Callable, Callable]]:
    def logit_inv(eta):
        return special.expit(np.clip(eta, -700, 700)).clip(_EPS, 1 - _EPS)  # R's plogis with its bounds

    def logit_mu_eta(eta):
        e = np.exp(-np.abs(eta))
        return np.maximum(e / (1 + e) ** 2, _EPS)

    def probit_inv(eta):
        thresh = -special.ndtri(_EPS)
        return special.ndtr(np.clip(eta, -thresh, thresh))

    def cloglog_inv(eta):
        return np.clip(-np.expm1(-np.exp(eta)), _EPS, 1 - _EPS)

    def cloglog_mu_eta(eta):
        eta = np.minimum(eta, 700)
        return np.maximum(np.exp(eta) * np.exp(-np.exp(eta)), _EPS)

    return {
        "identity": (lambda mu: mu, lambda eta: eta, lambda eta: np.ones_like(eta)),
        "log": (np.log, lambda eta: np.maximum(np.exp(eta), _EPS), lambda eta: np.maximum(np.exp(eta), _EPS)),
        "inverse": (lambda mu: 1 / mu, lambda eta: 1 / eta, lambda eta: -1 / eta**2),
        "logit": (special.logit, logit_inv, logit_mu_eta),
        "probit": (special.ndtri, probit_inv, lambda eta: np.maximum(np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi), _EPS)),
        "cloglog": (lambda mu: np.log(-np.log1p(-mu)), cloglog_inv, cloglog_mu_eta),
        "cauchit": (lambda mu: np.tan(np.pi * (mu - 0.5)), lambda eta: 0.5 + np.arctan(eta) / np.pi,
                    lambda eta: np.maximum(1 / (np.pi * (1 + eta**2)), _EPS)),
        "sqrt": (np.sqrt, lambda eta: eta**2, lambda eta: 2 * eta),
        "1/mu^2": (lambda mu: 1 / mu**2, lambda eta: 1 / np.sqrt(eta), lambda eta: -1 / (2 * eta**1.5)),
    }


def _ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``y log(y / mu)`` with 0 where y = 0 (R's ``y_log_y``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(y / mu), 0.0)


_VARIANCE_DEVIANCE: dict[str, tuple[Callable, Callable]] = {
    "gaussian": (lambda mu: np.ones_like(mu), lambda y, mu, w: w * (y - mu) ** 2),
    "binomial": (lambda mu: mu * (1 - mu),
                 lambda y, mu, w: 2 * w * (_ylogy(y, mu) + _ylogy(1 - y, 1 - mu))),
    "poisson": (lambda mu: mu, lambda y, mu, w: 2 * w * (_ylogy(y, mu) - (y - mu))),
    "gamma": (lambda mu: mu**2, lambda y, mu, w: -2 * w * (np.log(np.where(y == 0, 1.0, y / mu)) - (y - mu) / mu)),
    "inverse_gaussian": (lambda mu: mu**3, lambda y, mu, w: w * (y - mu) ** 2 / (y * mu**2)),
}


def family(name: str, link: str | None = None) -> Family:
    """The :class:`Family` ``name`` with ``link`` (default: the canonical link).

    >>> f = family("binomial")
    >>> f.link, float(f.linkinv(np.array(0.0)))
    ('logit', 0.5)
    >>> float(family("poisson").dev_resids(np.array(0.0), np.array(2.0), np.array(1.0)))  # 2 mu when y = 0
    4.0
    """
    name = canonical_family(name)
    link = link or FAMILIES[name][0]
    if link not in FAMILIES[name]:
        raise SpecError(f"link={link!r} is not a link of the {name} family; use one of {', '.join(FAMILIES[name])}.")
    linkfun, linkinv, mu_eta = _links()[link]
    variance, dev_resids = _VARIANCE_DEVIANCE[name]
    return Family(name, link, linkfun, linkinv, mu_eta, variance, dev_resids)
