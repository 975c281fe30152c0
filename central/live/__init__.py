"""Live view of a hall's cameras (issue 15 item 3): central authorises each view and relays the
browser's WebRTC offer and the edge agent's answer; the video itself goes edge → browser."""
