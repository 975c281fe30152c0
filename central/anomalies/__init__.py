"""Data supervision (数据监察, SC-6(2)): anomaly rules over the case logs, their hits and decisions."""
