"""Outputs: method sheet (测算说明), Excel workbook, CSV and JSON (allocation.md §6)."""
