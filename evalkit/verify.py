"""Check that an evidence pack is exactly what its run produced (``evalkit verify``).

The code lives in :mod:`evalkit.pipeline.verify`; this module keeps ``evalkit.verify`` importable.

Examples
--------
>>> from evalkit.verify import verify_pack
>>> verify_pack.__module__
'evalkit.pipeline.verify'
"""

from __future__ import annotations

from .pipeline.verify import VerifyReport, digest_file, verify_pack

__all__ = ["VerifyReport", "digest_file", "verify_pack"]
