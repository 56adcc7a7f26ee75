"""One home for evalkit's exceptions and warnings.

Every error raised because of user input derives from :class:`EvalkitError`, so a caller can catch
everything evalkit complains about with one ``except`` clause. Messages name the argument, the
column or the rows involved and say how to fix the problem.
"""

from __future__ import annotations


class EvalkitError(ValueError):
    """Base class of every evalkit input error (a :class:`ValueError`)."""


class PanelDataError(EvalkitError):
    """The panel data violate the schema (duplicates, missing values, codes, ranges...).

    Parameters
    ----------
    problems : list of str
        One line per problem; all problems are reported at once.
    header : str
        A one-line summary placed above the list.
    """

    def __init__(self, problems: list[str] | str, header: str = "The panel data have problems"):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        text = header + (":\n" + "\n".join(f"  - {p}" for p in self.problems) if problems else "")
        super().__init__(text)


class InputFileError(PanelDataError):
    """An input file cannot be read: missing, empty, header-only, undecodable or of an unknown type.

    Raised by :mod:`evalkit.data.reader` for every file evalkit reads (panel, factor tables,
    specs, ...); the message names the file and the fix in Chinese and English.
    """


class SpecError(EvalkitError):
    """A formula or allocation specification is malformed (names the field and the fix)."""

    def __init__(self, problems: list[str] | str, header: str = "The specification has problems"):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        text = header + (":\n" + "\n".join(f"  - {p}" for p in self.problems) if problems else "")
        super().__init__(text)


class DesignError(EvalkitError):
    """The estimation design cannot identify the requested quantity (e.g. no control units)."""


class NoControlUnitsError(DesignError):
    """No valid comparison units exist for the requested control group."""


class SingularDesignError(DesignError):
    """The design matrix is rank deficient; the message names the collinear terms or cells."""


class InferenceError(EvalkitError):
    """The requested inference cannot be carried out (too few clusters, bad options...)."""


class PipelineError(RuntimeError):
    """A notebook of the evidence pipeline failed; names the notebook and the cell."""


class EvalkitWarning(UserWarning):
    """Base class of evalkit warnings."""


class RenamedArgumentWarning(FutureWarning):
    """An argument was passed under a name retired in evalkit 0.2.0 (the message names the new one).

    Retired names keep working until evalkit 0.3.0 (see ``CHANGELOG.md``).
    """


class SyntheticDataWarning(EvalkitWarning):
    """The data in use are the synthetic demo panel, not real statistics."""


class ExcludedUnitsWarning(EvalkitWarning):
    """Units were excluded from an estimation (the message names them and why)."""


class FewClustersWarning(EvalkitWarning):
    """Inference rests on few clusters or few treated clusters."""
