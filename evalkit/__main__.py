"""``python -m evalkit`` runs the command line (same as the ``evalkit`` script)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
