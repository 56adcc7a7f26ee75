"""Internal helpers shared by every evalkit module."""
