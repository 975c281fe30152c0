"""The monthly e-supervision report (电子监察月报, SC-11, SZ-19): figures per jurisdiction, a zh-CN page and
a PDF with charts, generated when a month closes and on demand."""
