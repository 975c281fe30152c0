"""Sampling supervision (抽样监察, SC-6(4)): reproducible draws of closed cases, assigned reviews."""
