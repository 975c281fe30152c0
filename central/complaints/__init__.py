"""Complaints (SZ-14, SZ-15): online complaints from citizens, decided within working days, handled,
answered in writing."""
