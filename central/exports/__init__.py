"""Tabular exports (CSV, Excel) shared by the domains that export rows: `central.exports.tables`."""
