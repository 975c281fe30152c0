"""Keypad I/O at the edge: one reader thread per configured keypad (see reader.py)."""
