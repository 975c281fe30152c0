"""Dual-track detection (双轨运行 / 体外循环): visitors the cameras counted against cases recorded."""
