"""Run the evidence notebooks with papermill and assemble an evidence pack.

:func:`run_evidence` executes every ``notebooks/NN_*.ipynb`` with typed parameters, renders each
executed notebook to two offline HTML pages (code hidden / code shown), writes ``index.html`` and
``manifest.json``, and moves the finished pack into place only when every notebook succeeded::

    reports/2025/
        index.html                      one row per notebook: status, run time, headline figures
        manifest.json                   parameters, SHA-256 of inputs and outputs, versions, times
        00_data_audit.html              the report without code
        00_data_audit.code.html         the same with code
        notebooks/00_data_audit.ipynb   the executed notebook
        results/00_data_audit.json      headline numbers saved by the notebook (evalkit.report)
        extra/                          the user's own files, only with keep_extra (listed)
    reports/2025.manifest.sha256        SHA-256 of manifest.json (the digest the build prints)
    reports/2025.failed/<UTC time>/     partial notebooks of a failed run (the last five kept)

The package, one module per step:

- :mod:`~evalkit.pipeline.params`: which notebooks run and with which checked parameters;
- :mod:`~evalkit.pipeline.execute`: kernels, worker processes, one notebook's outcome,
  :func:`skip_notebook`;
- :mod:`~evalkit.pipeline.build`: :func:`run_evidence`, the run from arguments to placed pack;
- :mod:`~evalkit.pipeline.pack`: the folders around a build (recognising a pack, the lock,
  the swap, recovery after a dead build, failed runs, file modes);
- :mod:`~evalkit.pipeline.processes`: the build's process group and stop signals;
- :mod:`~evalkit.pipeline.html`, :mod:`~evalkit.pipeline.index`: the pages and the index;
- :mod:`~evalkit.pipeline.manifest`, :mod:`~evalkit.pipeline.verify`: hashes, provenance and
  ``evalkit verify``.

The papermill pitfalls this package guards against (see the project's PIPELINE notes): parameter
*names* are pasted into the notebook as code, so they are whitelisted against the notebook's
``parameters`` cell with :mod:`ast`; types are checked against the declared annotations; cell
timeouts and dead kernels are not wrapped by papermill and are caught here; kernels talk over
IPC (no TCP port races when two notebooks run at once) and always use the ``python3`` kernel of
the running interpreter.

A notebook that cannot run in this installation (for instance the method-validation notebook
without the ``validation`` extra) calls :func:`skip_notebook`; the index then lists it as
skipped with the reason, and the pack is still written.
"""

from __future__ import annotations

from .._shared.exceptions import PipelineError
from .build import EvidencePack, run_evidence
from .execute import (
    DEFAULT_TIMEOUT,
    IPCKernelManager,
    NotebookRun,
    NotebookSkipped,
    skip_notebook,
)
from .pack import PackFolderError
from .params import (
    STANDARD_PARAMETERS,
    check_parameters,
    check_reserved_parameter,
    coerce_parameter,
    default_notebooks_dir,
    discover_notebooks,
    notebook_parameters,
    parse_param_items,
)
from .processes import BuildStopped
from .verify import VerifyReport, verify_pack

__all__ = [
    "DEFAULT_TIMEOUT",
    "STANDARD_PARAMETERS",
    "BuildStopped",
    "EvidencePack",
    "IPCKernelManager",
    "NotebookRun",
    "NotebookSkipped",
    "PackFolderError",
    "PipelineError",
    "VerifyReport",
    "check_parameters",
    "check_reserved_parameter",
    "coerce_parameter",
    "default_notebooks_dir",
    "discover_notebooks",
    "notebook_parameters",
    "parse_param_items",
    "run_evidence",
    "skip_notebook",
    "verify_pack",
]
