"""zbsn-tui: the Textual operator console, a thin layer over zbsn.core."""
