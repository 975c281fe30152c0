"""Video patrols (视频监察, SC-6(1)): the daily plan of every supervising body."""
