"""What a person reads: terminal tables, rows as JSON/CSV/TSV, HTML pages, plots, review files."""
