"""Side-by-side coefficient tables for papers (modelsummary's layout) from any mix of Results.

:func:`table` lines fits up -- one column per model and ``by`` group, estimates with their standard
errors (or intervals, p-values) below, significance stars, goodness-of-fit rows -- and returns an
immutable :class:`Table` that writes LaTeX (booktabs; numbers aligned on the decimal point by
siunitx; a table wider than the page split into blocks of column groups that fit), Markdown, HTML
(great-tables), Word (python-docx) and CSV. Random-effect parameters read ``SD (Intercept), site``. Stars follow modelsummary: ``+ p < 0.1, * p < 0.05, ** p < 0.01,
*** p < 0.001`` (:data:`STARS`), stated in a note under the table. Numbers are rounded here only.
"""

from .build import COMPONENT_LABELS, GOF_LABELS, HIDDEN_COMPONENTS, KNOWN_GOF, STARS, ran_par_label, table
from .latex import LATEX_PACKAGES
from .layout import Row, Table
from .saved import SavedFit, read_saved

__all__ = ["COMPONENT_LABELS", "GOF_LABELS", "HIDDEN_COMPONENTS", "KNOWN_GOF", "LATEX_PACKAGES", "Row", "STARS", "SavedFit",
           "Table", "ran_par_label", "read_saved", "table"]
