"""Turning results into things people read: text, tables (plots and reports to come)."""
